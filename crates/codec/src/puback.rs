//! PUBACK (section 3.4): the answer to a QoS 1 PUBLISH.

crate::ack::ack_packet! {
    /// A PUBACK packet.
    PubAck
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_only_flags, assert_vector, pid};
    use crate::ack::tests::{reason_and_user, V311, V5};
    use crate::{DecodeError, Packet, PacketType, ReasonCode};

    #[test]
    fn spec_vectors() {
        let cases: [(PubAck, _, &[u8]); 4] = [
            // Remaining Length 2: Reason Code 0x00 implied (section 3.4.2.1).
            (PubAck::new(pid(1)), V5, &[0x40, 0x02, 0x00, 0x01]),
            // Remaining Length 3: no Property Length (section 3.4.2.2.1).
            (
                PubAck {
                    reason_code: ReasonCode::QuotaExceeded,
                    ..PubAck::new(pid(0xABCD))
                },
                V5,
                &[0x40, 0x03, 0xAB, 0xCD, 0x97],
            ),
            (
                PubAck {
                    packet_id: pid(0x1234),
                    reason_code: ReasonCode::NoMatchingSubscribers,
                    properties: reason_and_user(),
                },
                V5,
                &[
                    0x40, 0x0F, // PUBACK, Remaining Length 15
                    0x12, 0x34, // Packet Identifier
                    0x10, // No matching subscribers
                    0x0B, // Property Length 11
                    0x1F, 0x00, 0x01, b'r', // Reason String "r"
                    0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
                ],
            ),
            // MQTT 3.1.1: the Packet Identifier only.
            (PubAck::new(pid(0xFFFF)), V311, &[0x40, 0x02, 0xFF, 0xFF]),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&Packet::PubAck(p), version, bytes);
        }
        assert_only_flags(&[0x40, 0x02, 0x00, 0x01], V5);
    }

    #[test]
    fn codes_outside_section_3_4_2_1_are_malformed() {
        // 0x92 is for PUBREL/PUBCOMP, 0x01 for SUBACK, 0x11 for UNSUBACK,
        // 0x81/0x82 for CONNACK/DISCONNECT; 0x03 and 0xFF are undefined.
        for code in [0x01, 0x03, 0x11, 0x81, 0x82, 0x92, 0xFF] {
            let err = DecodeError::InvalidReasonCode {
                code,
                packet: PacketType::PubAck,
            };
            assert_decode_err(&[0x40, 0x03, 0x00, 0x01, code], V5, err, 0x81);
        }
    }
}
