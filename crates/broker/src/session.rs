//! Per-client session state that outlives a connection (section 4.1).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};
use wasmqtt_codec::{ProtocolVersion, Publish, SubscriptionOptions, Will};

use crate::message::Delivery;

/// What a connection task can be told to do from outside.
#[derive(Debug, Clone)]
pub enum Control {
    /// Another connection took over the session: DISCONNECT 0x8E and close.
    TakenOver,
    /// The broker is shutting down: DISCONNECT 0x8B and close.
    Shutdown,
    /// Test control: close the socket without a word.
    Drop,
    /// Test control: send DISCONNECT with this reason and Server Reference, then close.
    Disconnect {
        /// Reason code byte.
        reason_code: wasmqtt_codec::ReasonCode,
        /// Server Reference to include.
        server_reference: Option<String>,
    },
    /// Test control: write these bytes as they are.
    Raw(bytes::Bytes),
    /// Test control: stop (or resume) acknowledging this client's publishes.
    WithholdAcks(bool),
}

/// How the broker reaches the connection currently attached to a session.
#[derive(Debug, Clone)]
pub struct Link {
    /// Identifies the connection, so a stale one cannot detach a newer one.
    pub connection: u64,
    /// Wakes the connection task when deliveries are queued.
    pub notify: Arc<Notify>,
    /// Commands for the connection task.
    pub control: mpsc::UnboundedSender<Control>,
    /// The client's Receive Maximum.
    pub receive_maximum: u16,
    /// The client's Maximum Packet Size.
    pub maximum_packet_size: u32,
    /// Protocol version of the connection.
    pub version: ProtocolVersion,
}

/// Where one of our QoS 1/2 deliveries stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named after the packet awaited
pub enum Stage {
    /// QoS 1, waiting for PUBACK.
    PubAck,
    /// QoS 2, waiting for PUBREC.
    PubRec,
    /// QoS 2, PUBREL sent, waiting for PUBCOMP.
    PubComp,
}

/// A delivery sent and not yet acknowledged.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Send order, for re-sending in order [MQTT-4.4.0-1].
    pub seq: u64,
    /// The PUBLISH as sent (with its Packet Identifier).
    pub publish: Publish,
    /// What we wait for.
    pub stage: Stage,
}

/// One subscription of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// Share name for `$share/{name}/...` subscriptions.
    pub share: Option<String>,
    /// The filter matched (without the `$share/{name}/` prefix).
    pub filter: String,
    /// Subscription Options.
    pub options: SubscriptionOptions,
    /// Subscription Identifier.
    pub subscription_id: Option<u32>,
}

/// A session.
#[derive(Debug)]
pub struct Session {
    /// Client Identifier.
    pub client_id: Arc<str>,
    /// User name it authenticated as, for the ACL.
    pub username: Option<String>,
    /// Subscriptions by full filter text.
    pub subscriptions: HashMap<String, SubscriptionRecord>,
    /// Deliveries waiting for the connection or for its Receive Maximum.
    pub pending: VecDeque<Delivery>,
    /// Our deliveries in flight, by Packet Identifier.
    pub inflight: BTreeMap<u16, Outgoing>,
    /// QoS 2 Packet Identifiers from the client waiting for PUBREL.
    pub inbound_qos2: HashSet<u16>,
    /// Session Expiry Interval in seconds (0: ends with the connection).
    pub expiry_interval: u32,
    /// The Will Message of the current connection.
    pub will: Option<Will>,
    /// The will of a closed connection, waiting for its Will Delay Interval
    /// or the end of the session, whichever comes first [MQTT-3.1.3-9].
    pub delayed_will: Option<Will>,
    /// The attached connection, if any.
    pub link: Option<Link>,
    /// Set from the broker-wide counter on every attach and detach, so a
    /// timer for an earlier state, or for a session this one replaced (same
    /// client id), does nothing [MQTT-3.1.2-23].
    pub generation: u64,
    /// Next Packet Identifier to try.
    pub next_packet_id: u16,
    /// Next send-order number.
    pub next_seq: u64,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
}

impl Session {
    /// A new, empty session.
    pub fn new(client_id: Arc<str>) -> Self {
        Self {
            client_id,
            username: None,
            subscriptions: HashMap::new(),
            pending: VecDeque::new(),
            inflight: BTreeMap::new(),
            inbound_qos2: HashSet::new(),
            expiry_interval: 0,
            will: None,
            delayed_will: None,
            link: None,
            generation: 0,
            next_packet_id: 1,
            next_seq: 0,
            dropped: 0,
        }
    }

    /// A free Packet Identifier for a delivery, if any.
    pub fn allocate_packet_id(&mut self) -> Option<wasmqtt_codec::PacketId> {
        for _ in 0..u16::MAX {
            let id = self.next_packet_id;
            self.next_packet_id = id.checked_add(1).unwrap_or(1);
            if !self.inflight.contains_key(&id) {
                return wasmqtt_codec::PacketId::new(id);
            }
        }
        None
    }
}
