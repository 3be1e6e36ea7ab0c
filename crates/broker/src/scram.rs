//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as pure logic: message parsing and
//! building, key derivation, proof checking. No I/O and no randomness: the
//! caller supplies the nonces, so the RFC's test vector can be replayed.
//!
//! The exchange, as MQTT 5.0 enhanced authentication carries it
//! (Authentication Method `SCRAM-SHA-256`, each message in Authentication
//! Data):
//!
//! ```text
//! client-first  n,,n=user,r=CNONCE
//! server-first  r=CNONCE SNONCE,s=SALT_B64,i=ITERATIONS
//! client-final  c=biws,r=CNONCE SNONCE,p=PROOF_B64
//! server-final  v=SERVER_SIGNATURE_B64
//! ```
//!
//! Channel binding is not supported (`p=` in the GS2 header is refused;
//! `y` is accepted, as this server offers none). User names are compared
//! as sent, after undoing the `=2C`/`=3D` escapes: there is no SASLprep.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The Authentication Method name in MQTT.
pub const METHOD: &str = "SCRAM-SHA-256";
/// The prefix of the SCRAM form in the password file.
pub const FILE_PREFIX: &str = "scram-sha-256";
/// Iterations used when none are given (the minimum RFC 7677 asks for).
pub const DEFAULT_ITERATIONS: u32 = 4096;

type HmacSha256 = Hmac<Sha256>;

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// A message does not follow the RFC 5802 grammar.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The client asked for something this server does not do.
    #[error("unsupported SCRAM feature: {0}")]
    Unsupported(&'static str),
    /// The nonce in client-final is not the one in server-first.
    #[error("SCRAM nonce mismatch")]
    NonceMismatch,
    /// The channel binding echoed in client-final is not the GS2 header.
    #[error("SCRAM channel binding mismatch")]
    ChannelBindingMismatch,
    /// Wrong password (or unknown user).
    #[error("SCRAM proof is invalid")]
    InvalidProof,
    /// The server's signature is not what the password gives (client side).
    #[error("SCRAM server signature is invalid")]
    InvalidServerSignature,
    /// The server answered `e=...` (client side).
    #[error("SCRAM server error: {0}")]
    ServerError(String),
}

/// What the server stores for one user (RFC 5802 section 3): enough to
/// check a proof, not enough to make one.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: [u8; 32],
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: [u8; 32],
}

impl fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramCredential")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
    out
}

/// Compares in time that depends only on the length.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = *a;
    for (o, y) in out.iter_mut().zip(b) {
        *o ^= y;
    }
    out
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    B64.decode(text).ok()?.try_into().ok()
}

impl ScramCredential {
    /// Derives the stored form from a password (PBKDF2-HMAC-SHA-256).
    #[must_use]
    pub fn derive(password: &[u8], salt: &[u8], iterations: u32) -> Self {
        let salted = salted_password(password, salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        Self {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// Whether `password` is the one this was derived from: recomputes the
    /// SaltedPassword, so it costs `iterations` HMACs.
    #[must_use]
    pub fn verify_password(&self, password: &[u8]) -> bool {
        let other = Self::derive(password, &self.salt, self.iterations);
        ct_eq(&other.stored_key, &self.stored_key) & ct_eq(&other.server_key, &self.server_key)
    }

    /// Parses the password-file form without the user name:
    /// `scram-sha-256:ITERATIONS:SALT_B64:STORED_KEY_B64:SERVER_KEY_B64`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split(':');
        if parts.next() != Some(FILE_PREFIX) {
            return Err(format!("expected '{FILE_PREFIX}:'"));
        }
        let (Some(iterations), Some(salt), Some(stored), Some(server), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(format!(
                "expected {FILE_PREFIX}:ITERATIONS:SALT:STORED_KEY:SERVER_KEY"
            ));
        };
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|&i| i > 0)
            .ok_or("iterations must be a positive integer")?;
        let salt = B64
            .decode(salt)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or("salt is not non-empty base64")?;
        let stored_key = decode_key(stored).ok_or("stored key is not 32 bytes of base64")?;
        let server_key = decode_key(server).ok_or("server key is not 32 bytes of base64")?;
        Ok(Self {
            iterations,
            salt,
            stored_key,
            server_key,
        })
    }
}

/// The password-file form, as [`ScramCredential::parse`] reads it.
impl fmt::Display for ScramCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{FILE_PREFIX}:{}:{}:{}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}

/// Undoes the saslname escapes `=2C` and `=3D` (RFC 5802 section 5.1).
fn decode_saslname(s: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if after.starts_with("2C") {
            out.push(',');
        } else if after.starts_with("3D") {
            out.push('=');
        } else {
            return Err(ScramError::Malformed("bad '=' escape in user name"));
        }
        rest = &after[2..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(ScramError::Malformed("empty user name"));
    }
    Ok(out)
}

fn encode_saslname(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

/// Whether `nonce` is a valid `printable` (RFC 5802 section 7): ASCII
/// 0x21..=0x7E except `,`.
fn printable(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7E).contains(&b) && b != b',')
}

/// A parsed client-first-message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// The user name, unescaped.
    pub username: String,
    gs2_header: String,
    bare: String,
    nonce: String,
}

/// Parses a client-first-message.
pub fn parse_client_first(message: &[u8]) -> Result<ClientFirst, ScramError> {
    let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed("not UTF-8"))?;
    let (cbind, rest) = text
        .split_once(',')
        .ok_or(ScramError::Malformed("no GS2 header"))?;
    match cbind {
        "n" | "y" => {}
        c if c.starts_with("p=") => return Err(ScramError::Unsupported("channel binding")),
        _ => return Err(ScramError::Malformed("bad GS2 channel binding flag")),
    }
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or(ScramError::Malformed("no GS2 header"))?;
    let gs2_header = &text[..cbind.len() + authzid.len() + 2];
    let mut fields = bare.split(',');
    let username = match fields.next() {
        Some(f) if f.starts_with("m=") => return Err(ScramError::Unsupported("extension m=")),
        Some(f) => f
            .strip_prefix("n=")
            .ok_or(ScramError::Malformed("no user name"))?,
        None => return Err(ScramError::Malformed("no user name")),
    };
    let username = decode_saslname(username)?;
    let nonce = fields
        .next()
        .and_then(|f| f.strip_prefix("r="))
        .filter(|n| printable(n))
        .ok_or(ScramError::Malformed("no valid nonce"))?;
    if !authzid.is_empty() {
        // Acting for another identity is not offered; naming oneself is harmless.
        let who = authzid
            .strip_prefix("a=")
            .ok_or(ScramError::Malformed("bad authzid"))?;
        if decode_saslname(who)? != username {
            return Err(ScramError::Unsupported("authorization identity"));
        }
    }
    Ok(ClientFirst {
        username,
        gs2_header: gs2_header.to_owned(),
        bare: bare.to_owned(),
        nonce: nonce.to_owned(),
    })
}

/// The server's side of one exchange, between server-first and client-final.
#[derive(Debug, Clone)]
pub struct ServerExchange {
    username: String,
    credential: ScramCredential,
    /// client-first-message-bare "," server-first-message
    auth_prefix: String,
    /// Client nonce followed by server nonce.
    nonce: String,
    /// What client-final must echo in `c=`.
    channel_binding: String,
}

impl ServerExchange {
    /// Starts an exchange for `first` with the user's `credential` and a
    /// fresh `server_nonce` (printable, no `,`); returns the
    /// server-first-message to send.
    pub fn start(
        first: ClientFirst,
        credential: ScramCredential,
        server_nonce: &str,
    ) -> Result<(Self, String), ScramError> {
        if !printable(server_nonce) {
            return Err(ScramError::Malformed("bad server nonce"));
        }
        let nonce = format!("{}{server_nonce}", first.nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credential.salt),
            credential.iterations
        );
        let exchange = Self {
            username: first.username,
            credential,
            auth_prefix: format!("{},{server_first}", first.bare),
            nonce,
            channel_binding: B64.encode(first.gs2_header),
        };
        Ok((exchange, server_first))
    }

    /// The user name the client claimed.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Checks client-final; on success returns the server-final-message.
    pub fn finish(&self, client_final: &[u8]) -> Result<String, ScramError> {
        let text =
            std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(ScramError::Malformed("no proof"))?;
        let mut fields = without_proof.split(',');
        let cbind = fields
            .next()
            .and_then(|f| f.strip_prefix("c="))
            .ok_or(ScramError::Malformed("no channel binding"))?;
        let nonce = fields
            .next()
            .and_then(|f| f.strip_prefix("r="))
            .ok_or(ScramError::Malformed("no nonce"))?;
        // Further fields would be extensions; none are defined.
        if fields.any(|f| !f.contains('=')) {
            return Err(ScramError::Malformed("bad extension"));
        }
        if !ct_eq(cbind.as_bytes(), self.channel_binding.as_bytes()) {
            return Err(ScramError::ChannelBindingMismatch);
        }
        if !ct_eq(nonce.as_bytes(), self.nonce.as_bytes()) {
            return Err(ScramError::NonceMismatch);
        }
        let proof = decode_key(proof).ok_or(ScramError::Malformed("bad proof"))?;
        let auth_message = format!("{},{without_proof}", self.auth_prefix);
        let client_signature = hmac(&self.credential.stored_key, auth_message.as_bytes());
        let client_key = xor(&proof, &client_signature);
        if !ct_eq(&sha256(&client_key), &self.credential.stored_key) {
            return Err(ScramError::InvalidProof);
        }
        let server_signature = hmac(&self.credential.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

/// The client's side, for tests and tools.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ScramClient {
    password: Vec<u8>,
    client_first_bare: String,
    nonce: String,
    expected_server_signature: Option<[u8; 32]>,
}

impl ScramClient {
    /// A client for `username`/`password` with client nonce `nonce`.
    #[must_use]
    pub fn new(username: &str, password: &str, nonce: &str) -> Self {
        Self {
            password: password.as_bytes().to_vec(),
            client_first_bare: format!("n={},r={nonce}", encode_saslname(username)),
            nonce: nonce.to_owned(),
            expected_server_signature: None,
        }
    }

    /// The client-first-message (no channel binding, no authzid).
    #[must_use]
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// Answers server-first with client-final.
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<String, ScramError> {
        let text =
            std::str::from_utf8(server_first).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        if let Some(e) = text.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.to_owned()));
        }
        let mut fields = text.split(',');
        let nonce = fields
            .next()
            .and_then(|f| f.strip_prefix("r="))
            .filter(|n| n.starts_with(&self.nonce) && n.len() > self.nonce.len())
            .ok_or(ScramError::NonceMismatch)?;
        let salt = fields
            .next()
            .and_then(|f| f.strip_prefix("s="))
            .and_then(|s| B64.decode(s).ok())
            .ok_or(ScramError::Malformed("no salt"))?;
        let iterations: u32 = fields
            .next()
            .and_then(|f| f.strip_prefix("i="))
            .and_then(|i| i.parse().ok())
            .filter(|&i| i > 0)
            .ok_or(ScramError::Malformed("no iteration count"))?;
        let salted = salted_password(&self.password, &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = sha256(&client_key);
        let without_proof = format!("c={},r={nonce}", B64.encode("n,,"));
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare);
        let proof = xor(&client_key, &hmac(&stored_key, auth_message.as_bytes()));
        let server_key = hmac(&salted, b"Server Key");
        self.expected_server_signature = Some(hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    /// Checks server-final.
    pub fn verify_server_final(&self, server_final: &[u8]) -> Result<(), ScramError> {
        let text =
            std::str::from_utf8(server_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        if let Some(e) = text.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.to_owned()));
        }
        let got = text
            .strip_prefix("v=")
            .and_then(decode_key)
            .ok_or(ScramError::Malformed("no verifier"))?;
        match self.expected_server_signature {
            Some(want) if ct_eq(&want, &got) => Ok(()),
            _ => Err(ScramError::InvalidServerSignature),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7677 section 3.
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn rfc_credential() -> ScramCredential {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        ScramCredential::derive(b"pencil", &salt, 4096)
    }

    fn rfc_server() -> ServerExchange {
        let first = parse_client_first(CLIENT_FIRST.as_bytes()).unwrap();
        assert_eq!(first.username, "user");
        let (exchange, server_first) =
            ServerExchange::start(first, rfc_credential(), SERVER_NONCE).unwrap();
        assert_eq!(server_first, SERVER_FIRST);
        exchange
    }

    #[test]
    fn server_replays_rfc7677_vector() {
        let exchange = rfc_server();
        assert_eq!(exchange.username(), "user");
        assert_eq!(
            exchange.finish(CLIENT_FINAL.as_bytes()).unwrap(),
            SERVER_FINAL
        );
    }

    #[test]
    fn client_replays_rfc7677_vector() {
        let mut client = ScramClient::new("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(client.client_first(), CLIENT_FIRST);
        assert_eq!(
            client.client_final(SERVER_FIRST.as_bytes()).unwrap(),
            CLIENT_FINAL
        );
        client.verify_server_final(SERVER_FINAL.as_bytes()).unwrap();
        assert_eq!(
            client.verify_server_final(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            Err(ScramError::InvalidServerSignature)
        );
    }

    #[test]
    fn wrong_password_gives_invalid_proof() {
        let exchange = rfc_server();
        let mut client = ScramClient::new("user", "pencil!", "rOprNGfwEbeRWgbNEkqO");
        let fin = client.client_final(SERVER_FIRST.as_bytes()).unwrap();
        assert_eq!(
            exchange.finish(fin.as_bytes()),
            Err(ScramError::InvalidProof)
        );
    }

    #[test]
    fn tampered_client_final_is_refused() {
        let exchange = rfc_server();
        let other_nonce = CLIENT_FINAL.replace("k0,", "k1,");
        assert_eq!(
            exchange.finish(other_nonce.as_bytes()),
            Err(ScramError::NonceMismatch)
        );
        let other_binding = CLIENT_FINAL.replace("c=biws", "c=eSws");
        assert_eq!(
            exchange.finish(other_binding.as_bytes()),
            Err(ScramError::ChannelBindingMismatch)
        );
        let flipped = CLIENT_FINAL.replace("p=dH", "p=dI");
        assert_eq!(
            exchange.finish(flipped.as_bytes()),
            Err(ScramError::InvalidProof)
        );
        for bad in ["", "c=biws", "c=biws,r=x,p=short", "garbage,p=AAAA"] {
            assert!(exchange.finish(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_first_grammar() {
        let f = parse_client_first(b"y,,n=a=2Cb=3Dc,r=xyz").unwrap();
        assert_eq!(f.username, "a,b=c");
        let f = parse_client_first(b"n,a=me,n=me,r=xyz").unwrap();
        assert_eq!(f.username, "me");
        assert_eq!(
            parse_client_first(b"n,a=other,n=me,r=xyz"),
            Err(ScramError::Unsupported("authorization identity"))
        );
        assert_eq!(
            parse_client_first(b"p=tls-unique,,n=me,r=xyz"),
            Err(ScramError::Unsupported("channel binding"))
        );
        assert_eq!(
            parse_client_first(b"n,,m=ext,n=me,r=xyz"),
            Err(ScramError::Unsupported("extension m="))
        );
        for bad in [
            &b""[..],
            b"n",
            b"n,,",
            b"x,,n=me,r=abc",
            b"n,,n=,r=abc",
            b"n,,n=a=2,r=abc",
            b"n,,n=me",
            b"n,,n=me,r=",
            b"n,,r=abc,n=me",
            b"n,,n=me,r=a\x7fb",
            b"n,,n=\xff,r=abc",
        ] {
            assert!(parse_client_first(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_names_with_commas_round_trip() {
        let client = ScramClient::new("a,b=c", "pw", "n0nce");
        let f = parse_client_first(client.client_first().as_bytes()).unwrap();
        assert_eq!(f.username, "a,b=c");
    }

    #[test]
    fn credential_file_form_round_trips_and_checks_passwords() {
        let c = rfc_credential();
        let text = c.to_string();
        assert!(text.starts_with("scram-sha-256:4096:W22ZaJ0SNY7soEsUEjb6gQ==:"));
        assert_eq!(ScramCredential::parse(&text).unwrap(), c);
        assert!(c.verify_password(b"pencil"));
        assert!(!c.verify_password(b"pencil "));
        for bad in [
            "scram-sha-256",
            "scram-sha-1:4096:AAAA:AAAA:AAAA",
            "scram-sha-256:0:W22ZaJ0SNY7soEsUEjb6gQ==:x:y",
            "scram-sha-256:4096::x:y",
            "scram-sha-256:4096:W22Z:AAAA:AAAA",
            &format!("{text}:extra"),
        ] {
            assert!(ScramCredential::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{c:?}").contains(&B64.encode(c.stored_key)));
    }
}
