//! Enhanced authentication: the exchange before CONNACK (section 4.12) and
//! re-authentication with AUTH afterwards (section 4.12.1). The only method
//! offered is SCRAM-SHA-256, against the password file.
//!
//! Before CONNACK (all within the connect timeout):
//!
//! ```text
//! CONNECT  method SCRAM-SHA-256, data client-first
//!                                    AUTH 0x18  data server-first
//! AUTH 0x18  data client-final
//!                                    CONNACK 0x00  data server-final
//! ```
//!
//! Failures: an unknown method, or SCRAM without a password file → CONNACK
//! 0x8C; a wrong password or unknown user → 0x86; a malformed SCRAM message
//! or missing data → 0x87; a packet other than AUTH (or DISCONNECT, which
//! just closes) → 0x82. The SCRAM user name becomes the connection's user
//! name; a CONNECT User Name, if any, must be the same.
//!
//! Re-authentication: AUTH 0x19 with the same method and a new
//! client-first (for the same user) → AUTH 0x18 with server-first; AUTH
//! 0x18 with client-final → AUTH 0x00 with server-final. Failure →
//! DISCONNECT 0x87; another method → DISCONNECT 0x8C; AUTH on a connection
//! that did not use enhanced authentication, or out of turn → 0x82.

use tokio::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use bytes::Bytes;
use tracing::debug;
use wasmqtt_codec::{Auth, Connect, Packet, Properties, ReasonCode};

use super::{Connection, End};
use crate::scram::{self, ScramError, ServerExchange};
use crate::state::Stats;

/// Enhanced authentication state of a connection.
#[derive(Debug, Default)]
pub(super) struct AuthState {
    /// The Authentication Method from CONNECT, if one was used.
    method: Option<String>,
    /// Authentication Data for CONNACK (server-final).
    connack_data: Option<Bytes>,
    /// A re-authentication waiting for client-final.
    pending: Option<ServerExchange>,
}

impl AuthState {
    /// What CONNACK must carry: the method CONNECT named (section
    /// 3.2.2.3.17) and the last message of the exchange.
    pub(super) fn connack_properties(&mut self, properties: &mut Properties) {
        properties.authentication_method.clone_from(&self.method);
        properties.authentication_data = self.connack_data.take();
    }
}

/// Why a connection is refused before CONNACK: a CONNACK reason code, or
/// `None` to close without one.
pub(super) type Refusal = Option<ReasonCode>;

/// A fresh server nonce: 18 random bytes in URL-safe base64 (no `,`).
fn server_nonce() -> Option<String> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).ok()?;
    Some(B64.encode(bytes))
}

fn auth_packet(reason_code: ReasonCode, method: &str, data: String) -> Packet {
    Packet::Auth(Auth {
        reason_code,
        properties: Properties {
            authentication_method: Some(method.to_owned()),
            authentication_data: Some(Bytes::from(data)),
            ..Properties::default()
        },
    })
}

impl Connection {
    /// Runs the enhanced authentication exchange CONNECT asked for with
    /// `method`, by `deadline`. On success `connect.username` is the
    /// authenticated user.
    pub(super) async fn enhanced_authentication(
        &mut self,
        method: String,
        connect: &mut Connect,
        deadline: tokio::time::Instant,
    ) -> Result<(), Refusal> {
        if method != scram::METHOD || !self.shared.access.scram_enabled() {
            debug!(peer = %self.peer, %method, "unsupported authentication method");
            return Err(Some(ReasonCode::BadAuthenticationMethod));
        }
        // A password guesser backing off may not start another exchange.
        self.shared
            .access
            .logins()
            .check(self.peer.ip())
            .map_err(Some)?;
        let first = connect
            .properties
            .authentication_data
            .take()
            .ok_or(ReasonCode::NotAuthorized)?;
        let (exchange, server_first) = self.start_scram(&first, connect.username.as_deref())?;
        self.encode(&auth_packet(
            ReasonCode::ContinueAuthentication,
            &method,
            server_first,
        ));
        self.flush().await.map_err(|_| None::<ReasonCode>)?;
        let packet = tokio::time::timeout_at(deadline, self.next_packet())
            .await
            .map_err(|_| None::<ReasonCode>)??;
        let auth = match packet {
            Packet::Auth(auth) if auth.reason_code == ReasonCode::ContinueAuthentication => auth,
            Packet::Disconnect(_) => return Err(None),
            other => {
                debug!(peer = %self.peer, packet = ?other.packet_type(), "unexpected packet during authentication");
                return Err(Some(ReasonCode::ProtocolError));
            }
        };
        check_method(&auth, &method)?;
        let client_final = auth
            .properties
            .authentication_data
            .ok_or(ReasonCode::NotAuthorized)?;
        let logins = self.shared.access.logins();
        let server_final = exchange.finish(&client_final).map_err(|e| {
            debug!(peer = %self.peer, user = exchange.username(), error = %e, "SCRAM failed");
            if matches!(e, ScramError::InvalidProof) {
                logins.record(self.peer.ip(), false);
            }
            refusal_for(&e)
        })?;
        logins.record(self.peer.ip(), true);
        connect.username = Some(exchange.username().to_owned());
        self.auth.method = Some(method);
        self.auth.connack_data = Some(Bytes::from(server_final));
        Ok(())
    }

    /// Parses client-first and answers it. `expected_user`, if any, is the
    /// only user name the client may claim.
    fn start_scram(
        &self,
        client_first: &[u8],
        expected_user: Option<&str>,
    ) -> Result<(ServerExchange, String), ReasonCode> {
        let first = scram::parse_client_first(client_first).map_err(|e| {
            debug!(peer = %self.peer, error = %e, "bad SCRAM client-first");
            ReasonCode::NotAuthorized
        })?;
        if expected_user.is_some_and(|u| u != first.username) {
            return Err(ReasonCode::BadUserNameOrPassword);
        }
        let credential = self.shared.access.scram_credential(&first.username);
        let nonce = server_nonce().ok_or(ReasonCode::ServerUnavailable)?;
        ServerExchange::start(first, credential, &nonce).map_err(|_| ReasonCode::ServerUnavailable)
    }

    /// The next packet before CONNACK; errors close the connection.
    async fn next_packet(&mut self) -> Result<Packet, Refusal> {
        loop {
            match self.decoder.next_packet() {
                Ok(Some(packet)) => return Ok(packet),
                Ok(None) => {}
                Err(e) => return Err(Some(e.reason_code())),
            }
            match self.transport.recv().await {
                Ok(Some(bytes)) => {
                    Stats::add(&self.shared.stats.bytes_received, bytes.len() as u64);
                    self.last_received = Instant::now();
                    self.decoder.feed(&bytes);
                }
                _ => return Err(None),
            }
        }
    }

    /// AUTH after CONNACK: re-authentication [MQTT-4.12.1].
    pub(super) fn on_auth(&mut self, auth: Auth) -> Option<End> {
        let Some(method) = self.auth.method.clone() else {
            // No enhanced authentication is in use: AUTH is a Protocol Error.
            return self.auth_failed(ReasonCode::ProtocolError);
        };
        if let Err(code) = check_method(&auth, &method) {
            return self.auth_failed(code);
        }
        let data = auth.properties.authentication_data;
        match (auth.reason_code, self.auth.pending.take()) {
            (ReasonCode::ReAuthenticate, None) => {
                let Some(first) = data else {
                    return self.auth_failed(ReasonCode::NotAuthorized);
                };
                match self.start_scram(&first, self.username.as_deref()) {
                    Ok((exchange, server_first)) => {
                        self.auth.pending = Some(exchange);
                        self.encode(&auth_packet(
                            ReasonCode::ContinueAuthentication,
                            &method,
                            server_first,
                        ));
                        None
                    }
                    Err(_) => self.auth_failed(ReasonCode::NotAuthorized),
                }
            }
            (ReasonCode::ContinueAuthentication, Some(exchange)) => {
                let result = data
                    .ok_or(ScramError::Malformed("no data"))
                    .and_then(|d| exchange.finish(&d));
                match result {
                    Ok(server_final) => {
                        debug!(client = %self.client_id, "re-authenticated");
                        self.encode(&auth_packet(ReasonCode::Success, &method, server_final));
                        None
                    }
                    Err(e) => {
                        debug!(client = %self.client_id, error = %e, "re-authentication failed");
                        self.auth_failed(ReasonCode::NotAuthorized)
                    }
                }
            }
            // Success from a client, or a step out of turn.
            _ => self.auth_failed(ReasonCode::ProtocolError),
        }
    }

    fn auth_failed(&mut self, code: ReasonCode) -> Option<End> {
        self.send_disconnect(code);
        Some(End::Abnormal)
    }
}

/// AUTH must name the method in use [MQTT-4.12.1-1]; omitting it is a
/// Protocol Error (section 3.15.2.2.2).
fn check_method(auth: &Auth, method: &str) -> Result<(), ReasonCode> {
    match auth.properties.authentication_method.as_deref() {
        Some(m) if m == method => Ok(()),
        Some(_) => Err(ReasonCode::BadAuthenticationMethod),
        None => Err(ReasonCode::ProtocolError),
    }
}

fn refusal_for(e: &ScramError) -> Refusal {
    Some(match e {
        ScramError::InvalidProof => ReasonCode::BadUserNameOrPassword,
        _ => ReasonCode::NotAuthorized,
    })
}
