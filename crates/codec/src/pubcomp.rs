//! PUBCOMP (section 3.7): the last step of QoS 2.

crate::ack::ack_packet! {
    /// A PUBCOMP packet.
    PubComp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_only_flags, assert_vector, pid};
    use crate::ack::tests::{reason_and_user, V311, V5};
    use crate::{DecodeError, Packet, PacketType, ReasonCode};

    #[test]
    fn spec_vectors() {
        let cases: [(PubComp, _, &[u8]); 4] = [
            // Remaining Length 2: Reason Code 0x00 implied (section 3.7.2.1).
            (PubComp::new(pid(4)), V5, &[0x70, 0x02, 0x00, 0x04]),
            // Remaining Length 3: no Property Length (section 3.7.2.2.1).
            (
                PubComp {
                    reason_code: ReasonCode::PacketIdentifierNotFound,
                    ..PubComp::new(pid(0x1000))
                },
                V5,
                &[0x70, 0x03, 0x10, 0x00, 0x92],
            ),
            (
                PubComp {
                    packet_id: pid(0x0A0B),
                    reason_code: ReasonCode::PacketIdentifierNotFound,
                    properties: reason_and_user(),
                },
                V5,
                &[
                    0x70, 0x0F, // PUBCOMP, Remaining Length 15
                    0x0A, 0x0B, // Packet Identifier
                    0x92, // Packet Identifier not found
                    0x0B, // Property Length 11
                    0x1F, 0x00, 0x01, b'r', // Reason String "r"
                    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
                ],
            ),
            // MQTT 3.1.1: the Packet Identifier only.
            (PubComp::new(pid(0x00AA)), V311, &[0x70, 0x02, 0x00, 0xAA]),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&Packet::PubComp(p), version, bytes);
        }
        assert_only_flags(&[0x70, 0x02, 0x00, 0x01], V5);
    }

    #[test]
    fn codes_outside_section_3_7_2_1_are_malformed() {
        // 0x10 is for PUBACK/PUBREC, 0x80 and 0x91 for the others, 0x04 for
        // DISCONNECT; 0xA3 is undefined.
        for code in [0x04, 0x10, 0x80, 0x91, 0xA3] {
            let err = DecodeError::InvalidReasonCode {
                code,
                packet: PacketType::PubComp,
            };
            assert_decode_err(&[0x70, 0x03, 0x00, 0x01, code], V5, err, 0x81);
        }
    }
}
