//! SUBACK (section 3.9): one reason code per requested subscription.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::{self, Reader};

/// The single failure return code of MQTT 3.1.1.
const V311_FAILURE: u8 = 0x80;

/// A SUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet Identifier of the SUBSCRIBE acknowledged.
    pub packet_id: PacketId,
    /// SUBACK properties (MQTT 5.0 only).
    pub properties: Properties,
    /// One reason code per Topic Filter, in order [MQTT-3.9.3-1]. In MQTT
    /// 3.1.1 every failure is 0x80 and decodes as [`ReasonCode::UnspecifiedError`].
    pub reason_codes: Vec<ReasonCode>,
}

/// Decodes a SUBACK or UNSUBACK body: a Packet Identifier, properties
/// (MQTT 5.0) and a reason code per filter, which UNSUBACK has only in
/// MQTT 5.0. One decoder for both keeps the client small.
pub(crate) fn decode_acks(
    packet: PacketType,
    body: Bytes,
    version: ProtocolVersion,
) -> Result<(PacketId, Properties, Vec<ReasonCode>), DecodeError> {
    let mut r = Reader::new(body);
    let packet_id = PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?;
    let v5 = version == ProtocolVersion::V5;
    let properties = if v5 {
        Properties::decode(&mut r, Scope::Packet(packet))?
    } else {
        Properties::default()
    };
    let mut reason_codes = Vec::new();
    if v5 || packet == PacketType::SubAck {
        reason_codes.reserve(r.remaining());
        while !r.is_empty() {
            let code = r.u8()?;
            let reason = if v5 {
                crate::ack::reason_code(code, packet)?
            } else {
                match code {
                    0..=2 => ReasonCode::from_u8(code),
                    V311_FAILURE => Some(ReasonCode::UnspecifiedError),
                    _ => None,
                }
                .ok_or(DecodeError::InvalidReasonCode { code, packet })?
            };
            reason_codes.push(reason);
        }
        if reason_codes.is_empty() {
            return Err(DecodeError::NoReasonCodes(packet));
        }
    }
    // Only an MQTT 3.1.1 UNSUBACK can have bytes left here.
    r.finish()?;
    Ok((packet_id, properties, reason_codes))
}

impl SubAck {
    /// Decodes a SUBACK body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (packet_id, properties, reason_codes) = decode_acks(PacketType::SubAck, body, version)?;
        Ok(Self {
            packet_id,
            properties,
            reason_codes,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let props = match version {
            ProtocolVersion::V5 => self.properties.encoded_len(),
            _ => 0,
        };
        2 + props + self.reason_codes.len()
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged. In MQTT 3.1.1 every
    /// failure code is sent as 0x80.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::SubAck;
        if self.reason_codes.is_empty() {
            return Err(EncodeError::NoReasonCodes(packet));
        }
        if let Some(&code) = self.reason_codes.iter().find(|c| !c.is_valid_for(packet)) {
            return Err(EncodeError::InvalidReasonCode { code, packet });
        }
        encode_packet(out, (packet as u8) << 4, self.body_len(version), |out| {
            wire::put_u16(out, self.packet_id.get());
            let v5 = version == ProtocolVersion::V5;
            if v5 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            out.extend(self.reason_codes.iter().map(|&c| match c {
                c if !v5 && c.is_error() => V311_FAILURE,
                c => c as u8,
            }));
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
        Packet::SubAck(SubAck {
            packet_id: pid(7),
            properties,
            reason_codes,
        })
    }

    fn one(code: ReasonCode) -> Packet {
        packet(Properties::default(), vec![code])
    }

    #[test]
    fn spec_vectors() {
        use ReasonCode as R;
        let all = vec![
            R::GRANTED_QOS_0,
            R::GrantedQoS1,
            R::GrantedQoS2,
            R::UnspecifiedError,
            R::ImplementationSpecificError,
            R::NotAuthorized,
            R::TopicFilterInvalid,
            R::PacketIdentifierInUse,
            R::QuotaExceeded,
            R::SharedSubscriptionsNotSupported,
            R::SubscriptionIdentifiersNotSupported,
            R::WildcardSubscriptionsNotSupported,
        ];
        #[rustfmt::skip]
        let full: &[u8] = &[
            0x90, 0x1A, // SUBACK, Remaining Length 26
            0x00, 0x07, // Packet Identifier 7
            0x0B, // Property Length 11
            0x1F, 0x00, 0x01, b'r', // Reason String "r"
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            // Every code of section 3.9.3, in order.
            0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
        ];
        let cases: [(_, _, &[u8]); 3] = [
            (packet(reason_and_user(), all), V5, full),
            // Property Length 0, one Reason Code.
            (
                packet(Properties::default(), vec![R::GrantedQoS1]),
                V5,
                &[0x90, 0x04, 0x00, 0x07, 0x00, 0x01],
            ),
            // MQTT 3.1.1 return codes 0x00, 0x01, 0x02 and 0x80 (Failure).
            (
                packet(
                    Properties::default(),
                    vec![
                        R::Success,
                        R::GrantedQoS1,
                        R::GrantedQoS2,
                        R::UnspecifiedError,
                    ],
                ),
                V311,
                &[0x90, 0x06, 0x00, 0x07, 0x00, 0x01, 0x02, 0x80],
            ),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&p, version, bytes);
            assert_only_flags(bytes, version);
        }
    }

    #[test]
    fn v311_sends_every_failure_as_0x80() {
        let p = packet(
            reason_and_user(),
            vec![
                ReasonCode::GrantedQoS2,
                ReasonCode::NotAuthorized,
                ReasonCode::TopicFilterInvalid,
                ReasonCode::WildcardSubscriptionsNotSupported,
            ],
        );
        let mut out = Vec::new();
        p.encode(V311, &mut out).unwrap();
        // No properties in MQTT 3.1.1.
        assert_eq!(out, [0x90, 0x06, 0x00, 0x07, 0x02, 0x80, 0x80, 0x80]);
        assert_eq!(p.encoded_len(V311), out.len());
    }

    #[test]
    fn decode_accepts_exactly_the_codes_of_the_version() {
        for code in 0..=255 {
            let ty = PacketType::SubAck;
            let err = DecodeError::InvalidReasonCode { code, packet: ty };
            // MQTT 5.0: the table of section 3.9.3, checked in reason_code.rs.
            let v5 = [0x90, 0x04, 0x00, 0x07, 0x00, code];
            match ReasonCode::from_u8(code).filter(|c| c.is_valid_for(ty)) {
                Some(c) => assert_vector(&one(c), V5, &v5),
                None => assert_decode_err(&v5, V5, err, 0x81),
            }
            // MQTT 3.1.1: other return codes are reserved [MQTT-3.9.3-2 of 3.1.1].
            let v311 = [0x90, 0x03, 0x00, 0x07, code];
            let expected = match code {
                0x00 => ReasonCode::Success,
                0x01 => ReasonCode::GrantedQoS1,
                0x02 => ReasonCode::GrantedQoS2,
                0x80 => ReasonCode::UnspecifiedError,
                _ => {
                    assert_decode_err(&v311, V311, err, 0x81);
                    continue;
                }
            };
            assert_vector(&one(expected), V311, &v311);
        }
    }

    #[test]
    fn malformed_and_protocol_errors() {
        use DecodeError as E;
        let not_allowed = E::PropertyNotAllowed {
            property: PropertyId::SubscriptionIdentifier,
            packet: PacketType::SubAck,
        };
        let no_codes = E::NoReasonCodes(PacketType::SubAck);
        let cases: [(&[u8], _, _, u8); 7] = [
            // [MQTT-2.2.1-3]
            (
                &[0x90, 0x04, 0x00, 0x00, 0x00, 0x00],
                V5,
                E::ZeroPacketId,
                0x82,
            ),
            (&[0x90, 0x03, 0x00, 0x00, 0x00], V311, E::ZeroPacketId, 0x82),
            // [MQTT-3.9.3-1]: one Reason Code per Topic Filter, so at least one.
            (&[0x90, 0x03, 0x00, 0x07, 0x00], V5, no_codes, 0x82),
            (&[0x90, 0x02, 0x00, 0x07], V311, no_codes, 0x82),
            // The Property Length is not optional in SUBACK.
            (&[0x90, 0x02, 0x00, 0x07], V5, E::UnexpectedEnd, 0x81),
            (&[0x90, 0x03, 0x00, 0x07, 0x05], V5, E::UnexpectedEnd, 0x81),
            // Section 2.2.2.2: Subscription Identifier is not a SUBACK property.
            (
                &[0x90, 0x06, 0x00, 0x07, 0x02, 0x0B, 0x01, 0x00],
                V5,
                not_allowed,
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
            code: ReasonCode::NoMatchingSubscribers,
            packet: PacketType::SubAck,
        };
        let alias = Properties {
            topic_alias: Some(1),
            ..Properties::default()
        };
        let not_allowed = E::PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            packet: PacketType::SubAck,
        };
        let nul = Properties {
            reason_string: Some("\0".into()),
            ..Properties::default()
        };
        let ok = || vec![ReasonCode::Success];
        let cases = [
            (none(), vec![], V5, E::NoReasonCodes(PacketType::SubAck)),
            (none(), vec![], V311, E::NoReasonCodes(PacketType::SubAck)),
            (
                none(),
                vec![ReasonCode::NoMatchingSubscribers],
                V5,
                invalid.clone(),
            ),
            (
                none(),
                vec![ReasonCode::NoMatchingSubscribers],
                V311,
                invalid,
            ),
            (alias, ok(), V5, not_allowed),
            (nul, ok(), V5, E::NullCharacter),
        ];
        for (properties, codes, version, err) in cases {
            assert_encode_err(&packet(properties, codes), version, err);
        }
    }
}
