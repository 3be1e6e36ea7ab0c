//! PUBCOMP (section 3.7): the last step of QoS 2.

crate::ack::ack_packet! {
    /// A PUBCOMP packet.
    PubComp
}
