//! DISCONNECT (section 3.14): the last packet on a connection, either way.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{total_len, PacketType};
use crate::property::Properties;
use crate::reason_code::ReasonCode;
use crate::types::ProtocolVersion;

/// A DISCONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Disconnect Reason Code; only Normal disconnection exists in MQTT 3.1.1.
    pub reason_code: ReasonCode,
    /// DISCONNECT properties (MQTT 5.0 only).
    pub properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with `reason_code` and no properties.
    #[must_use]
    pub fn new(reason_code: ReasonCode) -> Self {
        Self {
            reason_code,
            properties: Properties::default(),
        }
    }

    /// Decodes a DISCONNECT body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, reason_code, properties) =
            crate::ack::decode_tail(PacketType::Disconnect, body, version)?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let packet = PacketType::Disconnect;
        total_len(crate::ack::body_len(
            packet,
            false,
            self.reason_code,
            &self.properties,
            version,
        ))
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (code, properties) = (self.reason_code, &self.properties);
        crate::ack::encode(PacketType::Disconnect, None, code, properties, version, out)
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

    /// The 30 codes of MQTT 5.0 table 3.14.2.1.
    const VALID: [u8; 30] = [
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
        0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
    ];

    fn decode(bytes: &[u8], version: ProtocolVersion) -> Result<Disconnect, DecodeError> {
        let mut buf = BytesMut::from(bytes);
        let packet = decode_packet(&mut buf, version, MAX_PACKET_SIZE)?;
        assert!(buf.is_empty());
        match packet {
            Some(Packet::Disconnect(d)) => Ok(d),
            other => panic!("not a DISCONNECT: {other:?}"),
        }
    }

    fn encode(d: &Disconnect, version: ProtocolVersion) -> Vec<u8> {
        let mut out = Vec::new();
        d.encode(version, &mut out).unwrap();
        assert_eq!(d.encoded_len(version), out.len());
        out
    }

    /// Both directions through the full path, fixed header included.
    fn check(bytes: &[u8], version: ProtocolVersion, d: &Disconnect) {
        assert_eq!(decode(bytes, version).as_ref(), Ok(d));
        assert_eq!(encode(d, version), bytes);
    }

    fn rejects(bytes: &[u8], version: ProtocolVersion, err: DecodeError, code: ReasonCode) {
        let e = decode(bytes, version).unwrap_err();
        assert_eq!((&e, e.reason_code()), (&err, code));
    }

    /// Encoding fails and leaves the output as it was.
    fn encode_err(d: &Disconnect, version: ProtocolVersion) -> EncodeError {
        let mut out = vec![0xAA, 0x55];
        let e = d.encode(version, &mut out).unwrap_err();
        assert_eq!(out, [0xAA, 0x55]);
        e
    }

    #[test]
    fn remaining_length_0_both_versions() {
        // Section 3.14.2.1: Remaining Length 0 is Normal disconnection.
        check(&[0xE0, 0x00], V5, &Disconnect::default());
        check(&[0xE0, 0x00], V311, &Disconnect::default());
        assert_eq!(ReasonCode::NORMAL_DISCONNECTION, ReasonCode::Success);
    }

    #[test]
    fn remaining_length_1_and_2() {
        // Reason Code only, no Property Length (3.14.2.2.1).
        let d = Disconnect::new(ReasonCode::DisconnectWithWillMessage);
        check(&[0xE0, 0x01, 0x04], V5, &d);
        // Normal disconnection spelt out still decodes; it encodes shorter.
        assert_eq!(decode(&[0xE0, 0x01, 0x00], V5), Ok(Disconnect::default()));
        // A Property Length of 0 is accepted; it is left out when encoding.
        let d = Disconnect::new(ReasonCode::SessionTakenOver);
        assert_eq!(decode(&[0xE0, 0x02, 0x8E, 0x00], V5).as_ref(), Ok(&d));
        assert_eq!(encode(&d, V5), [0xE0, 0x01, 0x8E]);
    }

    #[test]
    fn with_properties() {
        #[rustfmt::skip]
        let bytes = [
            0xE0, 0x14, // DISCONNECT, Remaining Length 20
            0x9C, // Use another server
            0x12, // Property Length 18
            0x1C, 0x00, 0x02, b's', b'2', // Server Reference "s2"
            0x1F, 0x00, 0x03, b'b', b'y', b'e', // Reason String "bye"
            0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // User Property a=b
        ];
        let d = Disconnect {
            reason_code: ReasonCode::UseAnotherServer,
            properties: Properties {
                server_reference: Some("s2".into()),
                reason_string: Some("bye".into()),
                user_properties: vec![("a".into(), "b".into())],
                ..Properties::default()
            },
        };
        check(&bytes, V5, &d);
        #[rustfmt::skip]
        let bytes = [
            0xE0, 0x07, // DISCONNECT, Remaining Length 7
            0x00, // Normal disconnection: written because properties follow
            0x05, // Property Length 5
            0x11, 0x00, 0x00, 0x00, 0x00, // Session Expiry Interval 0
        ];
        let d = Disconnect {
            reason_code: ReasonCode::Success,
            properties: Properties {
                session_expiry_interval: Some(0),
                ..Properties::default()
            },
        };
        check(&bytes, V5, &d);
        // MQTT 3.1.1 has neither reason code nor properties.
        assert_eq!(encode(&d, V311), [0xE0, 0x00]);
    }

    #[test]
    fn reason_codes_follow_table_3_14_2_1() {
        for b in 0..=255u8 {
            let bytes = [0xE0, 0x01, b];
            if VALID.contains(&b) {
                let d = decode(&bytes, V5).unwrap();
                assert_eq!(u8::from(d.reason_code), b);
                let expected: &[u8] = if b == 0 { &[0xE0, 0x00] } else { &bytes };
                assert_eq!(encode(&d, V5), expected);
            } else {
                // e.g. 0x01 (a SUBACK code), 0x84 (CONNACK only), 0x18 (AUTH only).
                let err = DecodeError::InvalidReasonCode {
                    code: b,
                    packet: PacketType::Disconnect,
                };
                rejects(&bytes, V5, err, ReasonCode::MalformedPacket);
            }
        }
    }

    #[test]
    fn v311_has_no_variable_header() {
        rejects(
            &[0xE0, 0x01, 0x00],
            V311,
            DecodeError::TrailingBytes,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn fixed_header_flags_mqtt_2_1_3_1() {
        for version in [V5, V311] {
            let err = DecodeError::InvalidFlags {
                packet: PacketType::Disconnect,
                flags: 2,
            };
            rejects(&[0xE2, 0x00], version, err, ReasonCode::MalformedPacket);
        }
    }

    #[test]
    fn property_errors() {
        rejects(
            &[0xE0, 0x05, 0x00, 0x03, 0x23, 0x00, 0x01],
            V5,
            DecodeError::PropertyNotAllowed {
                property: PropertyId::TopicAlias,
                packet: PacketType::Disconnect,
            },
            ReasonCode::MalformedPacket,
        );
        rejects(
            &[0xE0, 0x0A, 0x00, 0x08, 0x1F, 0, 1, b'a', 0x1F, 0, 1, b'b'],
            V5,
            DecodeError::DuplicateProperty(PropertyId::ReasonString),
            ReasonCode::ProtocolError,
        );
        rejects(
            &[0xE0, 0x03, 0x00, 0x05, 0x11],
            V5,
            DecodeError::UnexpectedEnd,
            ReasonCode::MalformedPacket,
        );
        rejects(
            &[0xE0, 0x03, 0x00, 0x00, 0x00],
            V5,
            DecodeError::TrailingBytes,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn encode_errors_leave_output_unchanged() {
        for code in [
            ReasonCode::ContinueAuthentication,
            ReasonCode::UnsupportedProtocolVersion,
        ] {
            let err = EncodeError::InvalidReasonCode {
                code,
                packet: PacketType::Disconnect,
            };
            assert_eq!(encode_err(&Disconnect::new(code), V5), err);
            assert_eq!(encode_err(&Disconnect::new(code), V311), err);
        }
        for code in [
            ReasonCode::ServerShuttingDown,
            ReasonCode::DisconnectWithWillMessage,
        ] {
            assert_eq!(
                encode_err(&Disconnect::new(code), V311),
                EncodeError::NotInVersion(code)
            );
        }
        let mut d = Disconnect::default();
        d.properties.assigned_client_identifier = Some("id".into());
        assert_eq!(
            encode_err(&d, V5),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::AssignedClientIdentifier,
                packet: PacketType::Disconnect,
            }
        );
        let mut d = Disconnect::default();
        d.properties.reason_string = Some("a".repeat(70_000));
        assert_eq!(encode_err(&d, V5), EncodeError::FieldTooLong);
    }
}
