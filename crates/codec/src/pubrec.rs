//! PUBREC (section 3.5): the first answer to a QoS 2 PUBLISH.

crate::ack::ack_packet! {
    /// A PUBREC packet.
    PubRec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_only_flags, assert_vector, pid};
    use crate::ack::tests::{reason_and_user, V311, V5};
    use crate::{DecodeError, Packet, PacketType, ReasonCode};

    #[test]
    fn spec_vectors() {
        let cases: [(PubRec, _, &[u8]); 4] = [
            // Remaining Length 2: Reason Code 0x00 implied (section 3.5.2.1).
            (PubRec::new(pid(2)), V5, &[0x50, 0x02, 0x00, 0x02]),
            // Remaining Length 3: no Property Length (section 3.5.2.2.1).
            (
                PubRec {
                    reason_code: ReasonCode::PacketIdentifierInUse,
                    ..PubRec::new(pid(0x0100))
                },
                V5,
                &[0x50, 0x03, 0x01, 0x00, 0x91],
            ),
            (
                PubRec {
                    packet_id: pid(0x00FF),
                    reason_code: ReasonCode::PayloadFormatInvalid,
                    properties: reason_and_user(),
                },
                V5,
                &[
                    0x50, 0x0F, // PUBREC, Remaining Length 15
                    0x00, 0xFF, // Packet Identifier
                    0x99, // Payload format invalid
                    0x0B, // Property Length 11
                    0x1F, 0x00, 0x01, b'r', // Reason String "r"
                    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
                ],
            ),
            // MQTT 3.1.1: the Packet Identifier only.
            (PubRec::new(pid(0x8001)), V311, &[0x50, 0x02, 0x80, 0x01]),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&Packet::PubRec(p), version, bytes);
        }
        assert_only_flags(&[0x50, 0x02, 0x00, 0x01], V311);
    }

    #[test]
    fn codes_outside_section_3_5_2_1_are_malformed() {
        // 0x92 is for PUBREL/PUBCOMP, 0x02 for SUBACK, 0x8F for SUBACK/UNSUBACK,
        // 0x9B for CONNACK/DISCONNECT; 0x05 is undefined.
        for code in [0x02, 0x05, 0x8F, 0x92, 0x9B] {
            let err = DecodeError::InvalidReasonCode {
                code,
                packet: PacketType::PubRec,
            };
            assert_decode_err(&[0x50, 0x03, 0x00, 0x01, code], V5, err, 0x81);
        }
    }
}
