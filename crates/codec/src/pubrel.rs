//! PUBREL (section 3.6): the second step of QoS 2, releasing the Packet Identifier.

crate::ack::ack_packet! {
    /// A PUBREL packet.
    PubRel
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_only_flags, assert_vector, pid};
    use crate::ack::tests::{reason_and_user, V311, V5};
    use crate::{DecodeError, Packet, PacketType, ReasonCode};

    #[test]
    fn spec_vectors() {
        let cases: [(PubRel, _, &[u8]); 4] = [
            // First byte 0x62 [MQTT-3.6.1-1]; Reason Code 0x00 implied (section 3.6.2.1).
            (PubRel::new(pid(3)), V5, &[0x62, 0x02, 0x00, 0x03]),
            // Remaining Length 3: no Property Length (section 3.6.2.2.1).
            (
                PubRel {
                    reason_code: ReasonCode::PacketIdentifierNotFound,
                    ..PubRel::new(pid(0x0203))
                },
                V5,
                &[0x62, 0x03, 0x02, 0x03, 0x92],
            ),
            (
                PubRel {
                    packet_id: pid(0x7FFF),
                    reason_code: ReasonCode::Success,
                    properties: reason_and_user(),
                },
                V5,
                &[
                    0x62, 0x0F, // PUBREL, Remaining Length 15
                    0x7F, 0xFF, // Packet Identifier
                    0x00, // Success: written because properties follow
                    0x0B, // Property Length 11
                    0x1F, 0x00, 0x01, b'r', // Reason String "r"
                    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
                ],
            ),
            // MQTT 3.1.1 also requires 0x62 [MQTT-3.6.1-1].
            (PubRel::new(pid(0x0001)), V311, &[0x62, 0x02, 0x00, 0x01]),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&Packet::PubRel(p), version, bytes);
        }
        // [MQTT-3.6.1-1]: any flags but 0b0010 are malformed, 0x60 included.
        assert_only_flags(&[0x62, 0x02, 0x00, 0x01], V5);
        assert_only_flags(&[0x62, 0x02, 0x00, 0x01], V311);
    }

    #[test]
    fn codes_outside_section_3_6_2_1_are_malformed() {
        // 0x10 is for PUBACK/PUBREC, 0x80 and 0x97 for the others, 0x18 for
        // AUTH; 0x03 is undefined.
        for code in [0x03, 0x10, 0x18, 0x80, 0x97] {
            let err = DecodeError::InvalidReasonCode {
                code,
                packet: PacketType::PubRel,
            };
            assert_decode_err(&[0x62, 0x03, 0x00, 0x01, code], V5, err, 0x81);
        }
    }
}
