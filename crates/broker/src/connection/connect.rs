//! CONNECT: the first packet, within the connect timeout (section 3.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tracing::debug;
use wasmqtt_codec::{
    ConnAck, Connect, DecodeError, Decoder, Packet, Properties, ProtocolVersion, ReasonCode,
    MAX_PACKET_SIZE,
};

use super::Connection;
use crate::broker::Shared;
use crate::session::{Control, Link, Session};
use crate::state::Stats;
use crate::transport::Transport;

/// Waits for CONNECT, answers CONNACK and attaches the session.
pub(super) async fn accept(
    shared: Arc<Shared>,
    mut transport: Transport,
    peer: SocketAddr,
) -> Option<Connection> {
    let max = shared.config.limits.max_packet_size;
    let mut decoder = Decoder::new(ProtocolVersion::V5, max);
    let timeout = Duration::from_secs(shared.config.limits.connect_timeout);
    // Authentication exchanges must end within the same timeout.
    let deadline = tokio::time::Instant::now() + timeout;
    // The first bytes, to tell an MQTT 5.0 CONNECT that fails to decode.
    let mut head = Vec::new();
    let mut stop = shared.shutdown.clone();
    let receive = tokio::time::timeout(timeout, async {
        loop {
            match decoder.next_packet() {
                Ok(Some(p)) => return Ok(p),
                Ok(None) => {}
                Err(e) => return Err(Some(e)),
            }
            match transport.recv().await {
                Ok(Some(bytes)) => {
                    Stats::add(&shared.stats.bytes_received, bytes.len() as u64);
                    let room = 16usize.saturating_sub(head.len());
                    head.extend(bytes.iter().take(room));
                    decoder.feed(&bytes);
                }
                _ => return Err(None),
            }
        }
    });
    let first = tokio::select! {
        first = receive => first,
        _ = stop.changed() => return None,
    };
    let mut connect = match first {
        Ok(Ok(Packet::Connect(c))) => c,
        Ok(Err(Some(DecodeError::UnsupportedProtocolVersion(level)))) => {
            // [MQTT-3.1.2-2]: answer in a form an older client understands.
            debug!(%peer, level, "unsupported protocol version");
            transport.send(&[0x20, 0x02, 0x00, 0x01]).await.ok();
            return None;
        }
        // [MQTT-4.13.1-1]: a bad MQTT 5.0 CONNECT is answered with CONNACK
        // carrying the reason code, then the connection is closed.
        Ok(Err(Some(e))) if connect_level(&head) == Some(ProtocolVersion::V5.level()) => {
            debug!(%peer, error = %e, "malformed CONNECT");
            let connack = ConnAck {
                reason_code: e.reason_code(),
                ..ConnAck::default()
            };
            let mut out = Vec::new();
            if connack.encode(ProtocolVersion::V5, &mut out).is_ok() {
                transport.send(&out).await.ok();
            }
            transport.close(&shared.shutdown).await;
            return None;
        }
        // [MQTT-3.1.0-1]: the first packet must be CONNECT; anything else,
        // a malformed CONNECT or silence until the timeout closes the socket.
        other => {
            debug!(%peer, ?other, "no valid CONNECT");
            return None;
        }
    };
    let version = connect.protocol_version;
    decoder.set_version(version);
    let mut conn = Connection {
        id: shared.next_id(),
        shared,
        transport,
        peer,
        version,
        decoder,
        tx: Vec::new(),
        client_id: Arc::from(""),
        username: None,
        idle_limit: None,
        last_received: Instant::now(),
        notify: Arc::new(Notify::new()),
        control: mpsc::unbounded_channel().1,
        client_receive_maximum: u16::MAX,
        client_maximum_packet_size: MAX_PACKET_SIZE,
        aliases: Vec::new(),
        aliases_out: Default::default(),
        connect_session_expiry: 0,
        withhold_acks: false,
        auth: Default::default(),
    };
    let accepted = match conn.authenticate(&mut connect, deadline).await {
        Ok(()) => conn.on_connect(connect),
        Err(Some(code)) => Err(code),
        Err(None) => {
            conn.transport.close(&conn.shared.shutdown).await;
            return None;
        }
    };
    match accepted {
        Ok(()) => {
            if conn.flush().await.is_err() {
                conn.detach(super::End::Abnormal);
                return None;
            }
            Some(conn)
        }
        Err(code) => {
            conn.refuse(code);
            conn.flush().await.ok();
            conn.transport.close(&conn.shared.shutdown).await;
            None
        }
    }
}

impl Connection {
    fn refuse(&mut self, reason_code: ReasonCode) {
        let mut connack = ConnAck {
            reason_code,
            ..ConnAck::default()
        };
        if connack.encode(self.version, &mut self.tx).is_err() {
            // MQTT 3.1.1 has fewer return codes; use the closest one.
            connack.reason_code = ReasonCode::ServerUnavailable;
            self.encode(&Packet::ConnAck(connack));
        }
    }

    fn on_connect(&mut self, connect: Connect) -> Result<(), ReasonCode> {
        let shared = Arc::clone(&self.shared);
        let limits = &shared.config.limits;
        let v5 = self.version == ProtocolVersion::V5;
        let props = &connect.properties;
        let assigned = connect.client_id.is_empty();
        if assigned && !v5 && !connect.clean_start {
            // [MQTT-3.1.3-8] (3.1.1): an empty id needs Clean Session 1.
            return Err(ReasonCode::ClientIdentifierNotValid);
        }
        let client_id: Arc<str> = if assigned {
            Arc::from(format!(
                "wasmqtt-{:x}-{:x}",
                shared.started.elapsed().as_nanos(),
                self.id
            ))
        } else {
            Arc::from(connect.client_id.as_str())
        };
        // A will is a publish: the ACL must allow its topic.
        if connect.will.as_ref().is_some_and(|w| {
            !shared
                .access
                .can_publish(connect.username.as_deref(), &client_id, w.topic.as_str())
        }) {
            return Err(ReasonCode::NotAuthorized);
        }
        let requested_expiry = if v5 {
            props.session_expiry_interval.unwrap_or(0)
        } else if connect.clean_start {
            0
        } else {
            // 3.1.1 persistent sessions do not expire on their own.
            u32::MAX
        };
        let expiry = if v5 {
            requested_expiry.min(limits.max_session_expiry)
        } else {
            requested_expiry
        };
        // MQTT 3.1.1 cannot announce a Server Keep Alive: the client's applies.
        let keep_alive = match limits.server_keep_alive {
            Some(k) if v5 => k,
            _ => connect.keep_alive,
        };
        self.client_id = Arc::clone(&client_id);
        self.username = connect.username.clone();
        self.connect_session_expiry = requested_expiry;
        self.client_receive_maximum = props.receive_maximum.unwrap_or(u16::MAX);
        self.client_maximum_packet_size = props.maximum_packet_size.unwrap_or(MAX_PACKET_SIZE);
        self.aliases_out =
            super::alias::OutgoingAliases::new(props.topic_alias_maximum.unwrap_or(0));
        self.idle_limit =
            (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive) * 1500));
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        self.control = control_rx;

        let mut state = shared.state();
        // A session belongs to the user who made it. Another user may not
        // take over its connection (which would let anyone knock a client
        // off by guessing its id) nor resume it (which would hand over its
        // subscriptions and messages): a connected session refuses the
        // newcomer, a stored one is discarded and a new one begins.
        let foreign = state
            .sessions
            .get(&client_id)
            .filter(|old| old.username != connect.username);
        if foreign.is_some_and(|old| old.link.is_some()) {
            debug!(client = %client_id, peer = %self.peer, "client id in use by another user");
            return Err(ReasonCode::ClientIdentifierNotValid);
        }
        let fresh = connect.clean_start || foreign.is_some();
        let mut old_will = None;
        if let Some(old) = state.sessions.get_mut(&client_id) {
            if let Some(link) = old.link.take() {
                // [MQTT-3.1.4-3]: the existing connection is taken over.
                link.control.send(Control::TakenOver).ok();
                Stats::add_signed(&shared.stats.clients_connected, -1);
            }
            // The taken-over connection's will, or one waiting for its delay.
            old_will = old.will.take().or(old.delayed_will.take());
        }
        // [MQTT-3.1.2-4]: Clean Start discards any existing session.
        if fresh {
            state.remove_session(&client_id);
        }
        let session_present = state.sessions.contains_key(&client_id);
        let session = state
            .sessions
            .entry(Arc::clone(&client_id))
            .or_insert_with(|| Session::new(Arc::clone(&client_id)));
        // A will held back by its delay is cancelled by the reconnect.
        session.generation = shared.next_id();
        session.username = connect.username.clone();
        session.expiry_interval = expiry;
        session.will = connect.will;
        session.link = Some(Link {
            connection: self.id,
            notify: Arc::clone(&self.notify),
            control: control_tx,
            receive_maximum: self.client_receive_maximum,
            maximum_packet_size: self.client_maximum_packet_size,
            version: self.version,
        });
        drop(state);
        Stats::add(&shared.stats.clients_connected, 1);
        if let Some(will) = old_will {
            // The old connection ended without DISCONNECT. If its session
            // ended too (Clean Start) or it has no delay, the will is due
            // now; otherwise this connection cancels it [MQTT-3.1.3-9].
            if fresh || crate::lifecycle::will_delay(&will) == 0 {
                crate::lifecycle::route_will(&shared, Arc::clone(&client_id), will);
            }
        }

        let mut properties = Properties::default();
        if v5 {
            if assigned {
                properties.assigned_client_identifier = Some(client_id.to_string());
            }
            if expiry != requested_expiry {
                properties.session_expiry_interval = Some(expiry);
            }
            if limits.server_keep_alive.is_some() {
                properties.server_keep_alive = Some(keep_alive);
            }
            properties.receive_maximum = Some(limits.receive_maximum);
            properties.maximum_packet_size = Some(limits.max_packet_size);
            properties.topic_alias_maximum = Some(limits.topic_alias_maximum);
            if props.request_response_information == Some(true) {
                properties.response_information = Some(format!("responses/{client_id}"));
            }
            self.auth.connack_properties(&mut properties);
        }
        debug!(client = %client_id, peer = %self.peer, session_present, "connected");
        self.encode(&Packet::ConnAck(ConnAck {
            session_present,
            reason_code: ReasonCode::Success,
            properties,
        }));
        if session_present {
            self.resend_in_flight();
        }
        Ok(())
    }
}

/// The Protocol Level of a CONNECT starting with `head`, if `head` shows it.
fn connect_level(head: &[u8]) -> Option<u8> {
    if head.first()? >> 4 != 1 {
        return None;
    }
    // Fixed header: one byte, then a Remaining Length of one to four bytes.
    let len_bytes = head.get(1..)?.iter().take(4).position(|b| b & 0x80 == 0)? + 1;
    let rest = head.get(1 + len_bytes..)?;
    (rest.get(..6)? == b"\x00\x04MQTT")
        .then(|| rest.get(6).copied())
        .flatten()
}
