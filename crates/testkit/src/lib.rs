//! Packet builders shared by the tests of the broker and the session.
//! They panic on invalid input: they are for tests only.

use wasmqtt_codec::{PacketId, Publish, QoS, TopicName};

/// A PUBLISH of `payload` to `topic` at `qos`, everything else default
/// (no Packet Identifier: set one for QoS 1 and 2).
///
/// # Panics
/// If `topic` is not a valid topic name.
pub fn publish(topic: &str, qos: QoS, payload: &[u8]) -> Publish {
    Publish {
        qos,
        topic: TopicName::new(topic).expect("a valid topic name"),
        payload: bytes::Bytes::copy_from_slice(payload),
        ..Publish::default()
    }
}

/// The Packet Identifier `id`.
///
/// # Panics
/// If `id` is zero.
pub fn pid(id: u16) -> PacketId {
    PacketId::new(id).expect("a non-zero Packet Identifier")
}
