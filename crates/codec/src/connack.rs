//! CONNACK (section 3.2): the server's answer to CONNECT.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::connect::check_auth_data;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// MQTT 3.1.1 Connect Return Codes (section 3.2.2.3 of 3.1.1), in order.
const V311_RETURN_CODES: [ReasonCode; 6] = [
    ReasonCode::Success,
    ReasonCode::UnsupportedProtocolVersion,
    ReasonCode::ClientIdentifierNotValid,
    ReasonCode::ServerUnavailable,
    ReasonCode::BadUserNameOrPassword,
    ReasonCode::NotAuthorized,
];

/// A CONNACK packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnAck {
    /// Session Present: the server resumed a stored session.
    pub session_present: bool,
    /// Connect Reason Code; MQTT 3.1.1 return codes map to their 5.0 equivalents.
    pub reason_code: ReasonCode,
    /// CONNACK properties (MQTT 5.0 only).
    pub properties: Properties,
}

impl ConnAck {
    /// Decodes a CONNACK body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::ConnAck;
        let mut r = Reader::new(body);
        let flags = r.u8()?;
        // [MQTT-3.2.2-1]: bits 7-1 of the acknowledge flags are reserved.
        if flags & 0xFE != 0 {
            return Err(DecodeError::ReservedBitSet(packet));
        }
        let code = r.u8()?;
        let reason_code = match version {
            ProtocolVersion::V311 => V311_RETURN_CODES.get(usize::from(code)).copied(),
            _ => ReasonCode::from_u8(code).filter(|c| c.is_valid_for(packet)),
        }
        .ok_or(DecodeError::InvalidReasonCode { code, packet })?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(&mut r, Scope::Packet(packet))?
        } else {
            Properties::default()
        };
        check_auth_data(&properties).map_err(DecodeError::InvalidPropertyValue)?;
        r.finish()?;
        Ok(Self {
            session_present: flags & 1 != 0,
            reason_code,
            properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        match version {
            ProtocolVersion::V311 => 2,
            _ => 2 + self.properties.encoded_len(),
        }
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    ///
    /// In MQTT 3.1.1 only the reason codes that have a Connect Return Code
    /// can be sent; others are [`EncodeError::NotInVersion`].
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::ConnAck;
        if !self.reason_code.is_valid_for(packet) {
            return Err(EncodeError::InvalidReasonCode {
                code: self.reason_code,
                packet,
            });
        }
        let code = match version {
            ProtocolVersion::V311 => V311_RETURN_CODES
                .iter()
                .position(|&c| c == self.reason_code)
                .and_then(|i| u8::try_from(i).ok())
                .ok_or(EncodeError::NotInVersion(self.reason_code))?,
            _ => self.reason_code as u8,
        };
        if version == ProtocolVersion::V5 {
            check_auth_data(&self.properties).map_err(EncodeError::InvalidPropertyValue)?;
        }
        encode_packet(out, (packet as u8) << 4, self.body_len(version), |out| {
            out.push(u8::from(self.session_present));
            out.push(code);
            if version == ProtocolVersion::V5 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::PropertyId;
    use crate::{decode_packet, Packet, MAX_PACKET_SIZE};
    use alloc::vec;
    use bytes::BytesMut;
    use ProtocolVersion::{V311, V5};

    /// Both directions through the full path, fixed header included.
    fn check(bytes: &[u8], version: ProtocolVersion, c: &ConnAck) {
        let mut buf = BytesMut::from(bytes);
        let packet = decode_packet(&mut buf, version, MAX_PACKET_SIZE);
        assert_eq!(packet, Ok(Some(Packet::ConnAck(c.clone()))));
        assert!(buf.is_empty());
        let mut out = Vec::new();
        c.encode(version, &mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(c.encoded_len(version), bytes.len());
    }

    fn rejects(body: &[u8], version: ProtocolVersion, err: DecodeError, code: ReasonCode) {
        let e = ConnAck::decode(Bytes::copy_from_slice(body), version).unwrap_err();
        assert_eq!((&e, e.reason_code()), (&err, code));
    }

    /// Encoding fails and leaves the output as it was.
    fn encode_err(c: &ConnAck, version: ProtocolVersion) -> EncodeError {
        let mut out = vec![0xAA, 0x55];
        let e = c.encode(version, &mut out).unwrap_err();
        assert_eq!(out, [0xAA, 0x55]);
        e
    }

    fn invalid_code(code: u8) -> DecodeError {
        DecodeError::InvalidReasonCode {
            code,
            packet: PacketType::ConnAck,
        }
    }

    #[test]
    fn minimal_both_versions() {
        check(&[0x20, 0x03, 0x00, 0x00, 0x00], V5, &ConnAck::default());
        let c = ConnAck {
            session_present: true,
            ..ConnAck::default()
        };
        // Session Present, Connection Accepted.
        check(&[0x20, 0x02, 0x01, 0x00], V311, &c);
    }

    #[test]
    fn many_properties_v5() {
        #[rustfmt::skip]
        let bytes = [
            0x20, 0x28, // CONNACK, Remaining Length 40
            0x01, // Session Present
            0x00, // Success
            0x25, // Property Length 37
            0x12, 0x00, 0x03, b'i', b'd', b'1', // Assigned Client Identifier "id1"
            0x13, 0x00, 0x1E, // Server Keep Alive 30
            0x21, 0x00, 0x0A, // Receive Maximum 10
            0x22, 0x00, 0x05, // Topic Alias Maximum 5
            0x24, 0x01, // Maximum QoS 1
            0x25, 0x00, // Retain Available 0
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x27, 0x00, 0x01, 0x00, 0x00, // Maximum Packet Size 65536
            0x28, 0x01, // Wildcard Subscription Available 1
            0x29, 0x00, // Subscription Identifier Available 0
            0x2A, 0x01, // Shared Subscription Available 1
        ];
        let c = ConnAck {
            session_present: true,
            reason_code: ReasonCode::Success,
            properties: Properties {
                assigned_client_identifier: Some("id1".into()),
                server_keep_alive: Some(30),
                receive_maximum: Some(10),
                topic_alias_maximum: Some(5),
                maximum_qos: Some(crate::QoS::AtLeastOnce),
                retain_available: Some(false),
                user_properties: vec![("k".into(), "v".into())],
                maximum_packet_size: Some(65_536),
                wildcard_subscription_available: Some(true),
                subscription_identifier_available: Some(false),
                shared_subscription_available: Some(true),
                ..Properties::default()
            },
        };
        check(&bytes, V5, &c);
    }

    #[test]
    fn refusal_with_server_reference_v5() {
        #[rustfmt::skip]
        let bytes = [
            0x20, 0x14, // CONNACK, Remaining Length 20
            0x00, // no session
            0x9C, // Use another server
            0x11, // Property Length 17
            0x1C, 0x00, 0x06, b'b', b':', b'1', b'8', b'8', b'3', // Server Reference
            0x1F, 0x00, 0x05, b'm', b'o', b'v', b'e', b'd', // Reason String
        ];
        let c = ConnAck {
            session_present: false,
            reason_code: ReasonCode::UseAnotherServer,
            properties: Properties {
                server_reference: Some("b:1883".into()),
                reason_string: Some("moved".into()),
                ..Properties::default()
            },
        };
        check(&bytes, V5, &c);
    }

    #[test]
    fn v5_reason_codes_follow_table_3_2_2_2() {
        const VALID: [u8; 22] = [
            0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
            0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
        ];
        for b in 0..=255u8 {
            let bytes = [0x20, 0x03, 0x00, b, 0x00];
            if VALID.contains(&b) {
                let c = ConnAck {
                    reason_code: ReasonCode::from_u8(b).unwrap(),
                    ..ConnAck::default()
                };
                assert_eq!(u8::from(c.reason_code), b);
                check(&bytes, V5, &c);
            } else {
                rejects(
                    &bytes[2..],
                    V5,
                    invalid_code(b),
                    ReasonCode::MalformedPacket,
                );
            }
        }
        // 0x04 is a DISCONNECT code, 0x01 a 3.1.1 return code / SUBACK code.
        rejects(
            &[0, 0x04, 0],
            V5,
            invalid_code(4),
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn v311_return_codes_map_to_reason_codes() {
        // MQTT 3.1.1 Table 3.1 - Connect Return code values.
        let expected = [
            ReasonCode::Success,
            ReasonCode::UnsupportedProtocolVersion,
            ReasonCode::ClientIdentifierNotValid,
            ReasonCode::ServerUnavailable,
            ReasonCode::BadUserNameOrPassword,
            ReasonCode::NotAuthorized,
        ];
        for (n, reason_code) in (0u8..).zip(expected) {
            let c = ConnAck {
                reason_code,
                ..ConnAck::default()
            };
            check(&[0x20, 0x02, 0x00, n], V311, &c);
        }
        for n in [6, 0x80, 0x84, 0x87, 0xFF] {
            rejects(&[0, n], V311, invalid_code(n), ReasonCode::MalformedPacket);
        }
    }

    #[test]
    fn reserved_acknowledge_flags_mqtt_3_2_2_1() {
        for flags in [0x02, 0x80, 0xFE, 0xFF] {
            rejects(
                &[flags, 0, 0],
                V5,
                DecodeError::ReservedBitSet(PacketType::ConnAck),
                ReasonCode::MalformedPacket,
            );
            rejects(
                &[flags, 0],
                V311,
                DecodeError::ReservedBitSet(PacketType::ConnAck),
                ReasonCode::MalformedPacket,
            );
        }
    }

    #[test]
    fn fixed_header_flags_mqtt_2_1_3_1() {
        let e = Packet::decode(0x21, Bytes::from_static(&[0, 0, 0]), V5).unwrap_err();
        assert_eq!(
            (&e, e.reason_code()),
            (
                &DecodeError::InvalidFlags {
                    packet: PacketType::ConnAck,
                    flags: 1
                },
                ReasonCode::MalformedPacket
            )
        );
    }

    #[test]
    fn invalid_property_values() {
        // Maximum QoS 2 is not sent: its absence means QoS 2 (section 3.2.2.3.4).
        rejects(
            &[0, 0, 2, 0x24, 2],
            V5,
            DecodeError::InvalidPropertyValue(PropertyId::MaximumQoS),
            ReasonCode::ProtocolError,
        );
        rejects(
            &[0, 0, 2, 0x25, 2],
            V5,
            DecodeError::InvalidPropertyValue(PropertyId::RetainAvailable),
            ReasonCode::ProtocolError,
        );
        rejects(
            &[0, 0, 3, 0x21, 0, 0],
            V5,
            DecodeError::InvalidPropertyValue(PropertyId::ReceiveMaximum),
            ReasonCode::ProtocolError,
        );
        rejects(
            &[0, 0, 4, 0x24, 0, 0x24, 1],
            V5,
            DecodeError::DuplicateProperty(PropertyId::MaximumQoS),
            ReasonCode::ProtocolError,
        );
        // Request Problem Information is a CONNECT property.
        rejects(
            &[0, 0, 2, 0x17, 1],
            V5,
            DecodeError::PropertyNotAllowed {
                property: PropertyId::RequestProblemInformation,
                packet: PacketType::ConnAck,
            },
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn authentication_data_needs_a_method() {
        rejects(
            &[0, 0, 4, 0x16, 0, 1, 0xAB],
            V5,
            DecodeError::InvalidPropertyValue(PropertyId::AuthenticationData),
            ReasonCode::ProtocolError,
        );
        let mut c = ConnAck::default();
        c.properties.authentication_data = Some(Bytes::from_static(b"d"));
        assert_eq!(
            encode_err(&c, V5),
            EncodeError::InvalidPropertyValue(PropertyId::AuthenticationData)
        );
        // MQTT 3.1.1 drops the properties, so there is nothing to refuse.
        let mut out = Vec::new();
        c.encode(V311, &mut out).unwrap();
        assert_eq!(out, [0x20, 0x02, 0x00, 0x00]);
        c.properties.authentication_method = Some("m".into());
        let mut out = Vec::new();
        c.encode(V5, &mut out).unwrap();
        #[rustfmt::skip]
        let expected = [
            0x20, 0x0B, 0x00, 0x00, // CONNACK, Remaining Length 11, no session, Success
            0x08, // Property Length 8
            0x15, 0x00, 0x01, b'm', // Authentication Method "m"
            0x16, 0x00, 0x01, b'd', // Authentication Data "d"
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn truncated_and_trailing() {
        for body in [&[][..], &[0], &[0, 0]] {
            rejects(
                body,
                V5,
                DecodeError::UnexpectedEnd,
                ReasonCode::MalformedPacket,
            );
        }
        for body in [&[][..], &[0]] {
            rejects(
                body,
                V311,
                DecodeError::UnexpectedEnd,
                ReasonCode::MalformedPacket,
            );
        }
        rejects(
            &[0, 0, 5, 0x11],
            V5,
            DecodeError::UnexpectedEnd,
            ReasonCode::MalformedPacket,
        );
        rejects(
            &[0, 0, 0, 0],
            V5,
            DecodeError::TrailingBytes,
            ReasonCode::MalformedPacket,
        );
        rejects(
            &[0, 0, 0],
            V311,
            DecodeError::TrailingBytes,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn encode_errors_leave_output_unchanged() {
        let c = ConnAck {
            reason_code: ReasonCode::UseAnotherServer,
            ..ConnAck::default()
        };
        assert_eq!(
            encode_err(&c, V311),
            EncodeError::NotInVersion(ReasonCode::UseAnotherServer)
        );
        for code in [
            ReasonCode::ContinueAuthentication,
            ReasonCode::ServerShuttingDown,
        ] {
            let c = ConnAck {
                reason_code: code,
                ..ConnAck::default()
            };
            let err = EncodeError::InvalidReasonCode {
                code,
                packet: PacketType::ConnAck,
            };
            assert_eq!(encode_err(&c, V5), err);
            assert_eq!(encode_err(&c, V311), err);
        }
        let mut c = ConnAck::default();
        c.properties.topic_alias = Some(1);
        assert_eq!(
            encode_err(&c, V5),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::TopicAlias,
                packet: PacketType::ConnAck,
            }
        );
        let mut c = ConnAck::default();
        c.properties.maximum_qos = Some(crate::QoS::ExactlyOnce);
        assert_eq!(
            encode_err(&c, V5),
            EncodeError::InvalidPropertyValue(PropertyId::MaximumQoS)
        );
        let mut c = ConnAck::default();
        c.properties.reason_string = Some("a".repeat(70_000));
        assert_eq!(encode_err(&c, V5), EncodeError::FieldTooLong);
    }

    #[test]
    fn v311_ignores_properties_when_encoding() {
        let mut c = ConnAck::default();
        c.properties.server_keep_alive = Some(5);
        let mut out = Vec::new();
        c.encode(V311, &mut out).unwrap();
        assert_eq!(out, [0x20, 0x02, 0x00, 0x00]);
        assert_eq!(c.encoded_len(V311), 4);
    }
}
