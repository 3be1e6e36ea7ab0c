//! PUBREC (section 3.5): the first answer to a QoS 2 PUBLISH.

crate::ack::ack_packet! {
    /// A PUBREC packet.
    PubRec
}
