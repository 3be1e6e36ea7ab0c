//! UNSUBACK (section 3.11): one reason code per filter (MQTT 5.0); only
//! the Packet Identifier in MQTT 3.1.1.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::{PacketId, ProtocolVersion};

/// An UNSUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet Identifier of the UNSUBSCRIBE acknowledged.
    pub packet_id: PacketId,
    /// UNSUBACK properties (MQTT 5.0 only).
    pub properties: Properties,
    /// One reason code per Topic Filter, in order [MQTT-3.11.3-1]; empty
    /// in MQTT 3.1.1, which has none.
    pub reason_codes: Vec<ReasonCode>,
}

impl UnsubAck {
    /// Decodes an UNSUBACK body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (packet_id, properties, reason_codes) =
            crate::suback::decode_acks(PacketType::UnsubAck, body, version)?;
        Ok(Self {
            packet_id,
            properties,
            reason_codes,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        match version {
            ProtocolVersion::V311 => 2,
            _ => 2 + self.properties.encoded_len() + self.reason_codes.len(),
        }
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::UnsubAck;
        let v5 = version == ProtocolVersion::V5;
        if v5 && self.reason_codes.is_empty() {
            return Err(EncodeError::NoReasonCodes(packet));
        }
        if let Some(&code) = self.reason_codes.iter().find(|c| !c.is_valid_for(packet)) {
            return Err(EncodeError::InvalidReasonCode { code, packet });
        }
        encode_packet(out, (packet as u8) << 4, self.body_len(version), |out| {
            out.extend_from_slice(&self.packet_id.get().to_be_bytes());
            if v5 {
                self.properties.encode(Scope::Packet(packet), out)?;
                out.extend(self.reason_codes.iter().map(|&c| c as u8));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_encode_err, assert_only_flags};
    use crate::ack::tests::{assert_vector, pid, reason_and_user, V311, V5};
    use crate::property::PropertyId;
    use crate::Packet;
    use alloc::vec;

    fn packet(properties: Properties, reason_codes: Vec<ReasonCode>) -> Packet {
        Packet::UnsubAck(UnsubAck {
            packet_id: pid(4),
            properties,
            reason_codes,
        })
    }

    #[test]
    fn spec_vectors() {
        use ReasonCode as R;
        let all = vec![
            R::Success,
            R::NoSubscriptionExisted,
            R::UnspecifiedError,
            R::ImplementationSpecificError,
            R::NotAuthorized,
            R::TopicFilterInvalid,
            R::PacketIdentifierInUse,
        ];
        #[rustfmt::skip]
        let full: &[u8] = &[
            0xB0, 0x15, // UNSUBACK, Remaining Length 21
            0x00, 0x04, // Packet Identifier 4
            0x0B, // Property Length 11
            0x1F, 0x00, 0x01, b'r', // Reason String "r"
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91, // every code of section 3.11.3
        ];
        let cases: [(_, _, &[u8]); 3] = [
            (packet(reason_and_user(), all), V5, full),
            (
                packet(Properties::default(), vec![R::NoSubscriptionExisted]),
                V5,
                &[0xB0, 0x04, 0x00, 0x04, 0x00, 0x11],
            ),
            // MQTT 3.1.1: the Packet Identifier only (section 3.11 of 3.1.1).
            (
                packet(Properties::default(), vec![]),
                V311,
                &[0xB0, 0x02, 0x00, 0x04],
            ),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&p, version, bytes);
            assert_only_flags(bytes, version);
        }
    }

    #[test]
    fn decode_accepts_exactly_the_codes_of_section_3_11_3() {
        // The table itself is checked in reason_code.rs.
        let ty = PacketType::UnsubAck;
        for code in 0..=255 {
            let bytes = [0xB0, 0x04, 0x00, 0x04, 0x00, code];
            match ReasonCode::from_u8(code).filter(|c| c.is_valid_for(ty)) {
                Some(c) => assert_vector(&packet(Properties::default(), vec![c]), V5, &bytes),
                None => {
                    let err = DecodeError::InvalidReasonCode { code, packet: ty };
                    assert_decode_err(&bytes, V5, err, 0x81);
                }
            }
        }
    }

    #[test]
    fn malformed_and_protocol_errors() {
        use DecodeError as E;
        let not_allowed = E::PropertyNotAllowed {
            property: PropertyId::ServerReference,
            packet: PacketType::UnsubAck,
        };
        let cases: [(&[u8], _, _, u8); 7] = [
            // [MQTT-2.2.1-3]
            (
                &[0xB0, 0x04, 0x00, 0x00, 0x00, 0x00],
                V5,
                E::ZeroPacketId,
                0x82,
            ),
            (&[0xB0, 0x02, 0x00, 0x00], V311, E::ZeroPacketId, 0x82),
            // [MQTT-3.11.3-1]: one Reason Code per Topic Filter, so at least one.
            (
                &[0xB0, 0x03, 0x00, 0x04, 0x00],
                V5,
                E::NoReasonCodes(PacketType::UnsubAck),
                0x82,
            ),
            // The Property Length is not optional in UNSUBACK.
            (&[0xB0, 0x02, 0x00, 0x04], V5, E::UnexpectedEnd, 0x81),
            // MQTT 3.1.1 UNSUBACK has Remaining Length 2.
            (
                &[0xB0, 0x03, 0x00, 0x04, 0x00],
                V311,
                E::TrailingBytes,
                0x81,
            ),
            // Section 2.2.2.2: Server Reference is not an UNSUBACK property.
            (
                &[0xB0, 0x08, 0x00, 0x04, 0x04, 0x1C, 0x00, 0x01, b's', 0x00],
                V5,
                not_allowed,
                0x81,
            ),
            (
                &[0xB0, 0x04, 0x00, 0x04, 0x05, 0x00],
                V5,
                E::UnexpectedEnd,
                0x81,
            ),
        ];
        for (bytes, version, err, code) in cases {
            assert_decode_err(bytes, version, err, code);
        }
    }

    #[test]
    fn encode_errors_leave_the_output_unchanged() {
        use EncodeError as E;
        let none = Properties::default;
        let invalid = E::InvalidReasonCode {
            code: ReasonCode::GrantedQoS1,
            packet: PacketType::UnsubAck,
        };
        let sub_id = Properties {
            subscription_identifiers: vec![1],
            ..Properties::default()
        };
        let not_allowed = E::PropertyNotAllowed {
            property: PropertyId::SubscriptionIdentifier,
            packet: PacketType::UnsubAck,
        };
        let cases = [
            (none(), vec![], V5, E::NoReasonCodes(PacketType::UnsubAck)),
            (none(), vec![ReasonCode::GrantedQoS1], V5, invalid.clone()),
            (none(), vec![ReasonCode::GrantedQoS1], V311, invalid),
            (sub_id, vec![ReasonCode::Success], V5, not_allowed),
        ];
        for (properties, codes, version, err) in cases {
            assert_encode_err(&packet(properties, codes), version, err);
        }
    }

    #[test]
    fn v311_sends_only_the_packet_id() {
        let p = packet(reason_and_user(), vec![ReasonCode::NotAuthorized]);
        let mut out = Vec::new();
        p.encode(V311, &mut out).unwrap();
        assert_eq!(out, [0xB0, 0x02, 0x00, 0x04]);
        assert_eq!(p.encoded_len(V311), 4);
    }
}
