//! PUBREL (section 3.6): the second step of QoS 2, releasing the Packet Identifier.

crate::ack::ack_packet! {
    /// A PUBREL packet.
    PubRel
}
