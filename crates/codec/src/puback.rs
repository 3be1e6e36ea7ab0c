//! PUBACK (section 3.4): the answer to a QoS 1 PUBLISH.

crate::ack::ack_packet! {
    /// A PUBACK packet.
    PubAck
}
