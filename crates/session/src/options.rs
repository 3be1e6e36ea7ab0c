//! What a session is configured with.

use alloc::string::String;
use bytes::Bytes;
use wasmqtt_codec::{Connect, EncodeError, Properties, ProtocolVersion, Will};

use crate::backoff::Backoff;
use crate::Millis;

/// Session configuration: the CONNECT contents and the client's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// MQTT 5.0 by default; 3.1.1 for brokers that refuse 5.
    pub protocol_version: ProtocolVersion,
    /// Client Identifier; empty lets the server assign one.
    pub client_id: String,
    /// User Name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
    /// Keep Alive in seconds (0 turns keep-alive off); the server may override it.
    pub keep_alive: u16,
    /// Clean Start on the first connection. Reconnects in MQTT 5.0 always
    /// ask to resume (Clean Start 0); Session Expiry decides whether there is
    /// anything to resume.
    pub clean_start: bool,
    /// CONNECT properties: Session Expiry Interval, Receive Maximum, Maximum
    /// Packet Size, Topic Alias Maximum, Request Response/Problem
    /// Information, User Properties, Authentication Method and Data.
    pub properties: Properties,
    /// The Will Message.
    pub will: Option<Will>,
    /// How long to wait for CONNACK after sending CONNECT.
    pub connect_timeout: Millis,
    /// How long to wait for any packet after a PINGREQ; `None` means half
    /// the keep-alive interval.
    pub ping_timeout: Option<Millis>,
    /// Reconnect after a lost connection, or `None` to stay down.
    pub reconnect: Option<Backoff>,
    /// When the server has no session for us, subscribe again to what was subscribed.
    pub resubscribe: bool,
    /// When the server has no session for us, send unacknowledged QoS 1/2
    /// messages again (as new messages) instead of reporting them lost.
    pub requeue_unacked: bool,
    /// Most messages waiting for a connection or for send quota.
    pub queue_limit: usize,
    /// Whether QoS 0 messages wait for a connection (else they fail at once).
    pub queue_qos0: bool,
    /// Assign outgoing Topic Aliases automatically, within the server's maximum.
    pub auto_topic_alias: bool,
    /// Seed for the jitter of reconnect delays and for correlation data.
    pub random_seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            protocol_version: ProtocolVersion::V5,
            client_id: String::new(),
            username: None,
            password: None,
            keep_alive: 60,
            clean_start: true,
            properties: Properties::default(),
            will: None,
            connect_timeout: 30_000,
            ping_timeout: None,
            reconnect: Some(Backoff::default()),
            resubscribe: true,
            requeue_unacked: true,
            queue_limit: 1_000,
            queue_qos0: true,
            auto_topic_alias: false,
            random_seed: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Options {
    /// The CONNECT these options make, with `clean_start`.
    pub(crate) fn connect_packet(&self, clean_start: bool) -> Connect {
        Connect {
            protocol_version: self.protocol_version,
            clean_start,
            keep_alive: self.keep_alive,
            properties: self.properties.clone(),
            client_id: self.client_id.clone(),
            will: self.will.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }

    /// Whether the CONNECT these options make encodes: what the codec
    /// would refuse at every connect (a string with U+0000, a field over
    /// 65,535 bytes, a password without a user name in MQTT 3.1.1 …), for
    /// a driver to refuse at once.
    pub fn check(&self) -> Result<(), EncodeError> {
        self.connect_packet(self.clean_start)
            .encode(&mut alloc::vec::Vec::new())
    }
}
