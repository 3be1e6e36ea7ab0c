//! AUTH (section 3.15): enhanced authentication exchanges, MQTT 5.0 only.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{total_len, PacketType};
use crate::property::Properties;
use crate::reason_code::ReasonCode;
use crate::types::ProtocolVersion;

/// An AUTH packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Auth {
    /// Success, Continue authentication or Re-authenticate.
    pub reason_code: ReasonCode,
    /// AUTH properties: Authentication Method and Data, Reason String, User Properties.
    pub properties: Properties,
}

impl Auth {
    /// Decodes an AUTH body.
    pub fn decode(body: Bytes) -> Result<Self, DecodeError> {
        let (_, reason_code, properties) =
            crate::ack::decode_tail(PacketType::Auth, body, ProtocolVersion::V5)?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, _version: ProtocolVersion) -> usize {
        // AUTH exists only in MQTT 5.0: its size whatever `version` says.
        let packet = PacketType::Auth;
        let (code, properties) = (self.reason_code, &self.properties);
        total_len(crate::ack::body_len(
            packet,
            false,
            code,
            properties,
            ProtocolVersion::V5,
        ))
    }

    /// Appends the packet; on error `out` is unchanged. MQTT 3.1.1 has no AUTH.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (code, properties) = (self.reason_code, &self.properties);
        crate::ack::encode(PacketType::Auth, None, code, properties, version, out)
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

    fn decode(bytes: &[u8], version: ProtocolVersion) -> Result<Auth, DecodeError> {
        let mut buf = BytesMut::from(bytes);
        let packet = decode_packet(&mut buf, version, MAX_PACKET_SIZE)?;
        assert!(buf.is_empty());
        match packet {
            Some(Packet::Auth(a)) => Ok(a),
            other => panic!("not an AUTH: {other:?}"),
        }
    }

    fn encode(a: &Auth) -> Vec<u8> {
        let mut out = Vec::new();
        a.encode(V5, &mut out).unwrap();
        assert_eq!(a.encoded_len(V5), out.len());
        out
    }

    /// Both directions through the full path, fixed header included.
    fn check(bytes: &[u8], a: &Auth) {
        assert_eq!(decode(bytes, V5).as_ref(), Ok(a));
        assert_eq!(encode(a), bytes);
    }

    fn rejects(bytes: &[u8], version: ProtocolVersion, err: DecodeError, code: ReasonCode) {
        let e = decode(bytes, version).unwrap_err();
        assert_eq!((&e, e.reason_code()), (&err, code));
    }

    /// Encoding fails and leaves the output as it was.
    fn encode_err(a: &Auth, version: ProtocolVersion) -> EncodeError {
        let mut out = vec![0xAA, 0x55];
        let e = a.encode(version, &mut out).unwrap_err();
        assert_eq!(out, [0xAA, 0x55]);
        e
    }

    fn with_method(reason_code: ReasonCode, method: &str) -> Auth {
        Auth {
            reason_code,
            properties: Properties {
                authentication_method: Some(method.into()),
                ..Properties::default()
            },
        }
    }

    #[test]
    fn remaining_length_0_is_success() {
        check(&[0xF0, 0x00], &Auth::default());
        // Spelt out, it still decodes; it encodes shorter.
        assert_eq!(decode(&[0xF0, 0x02, 0x00, 0x00], V5), Ok(Auth::default()));
    }

    #[test]
    fn continue_authentication_with_method_and_data() {
        #[rustfmt::skip]
        let bytes = [
            0xF0, 0x16, // AUTH, Remaining Length 22
            0x18, // Continue authentication
            0x14, // Property Length 20
            0x15, 0x00, 0x0B, // Authentication Method, 11 bytes
            b'S', b'C', b'R', b'A', b'M', b'-', b'S', b'H', b'A', b'-', b'1',
            0x16, 0x00, 0x03, b'n', b',', b',', // Authentication Data "n,,"
        ];
        let mut a = with_method(ReasonCode::ContinueAuthentication, "SCRAM-SHA-1");
        a.properties.authentication_data = Some(Bytes::from_static(b"n,,"));
        check(&bytes, &a);
    }

    #[test]
    fn re_authenticate_and_success_with_properties() {
        #[rustfmt::skip]
        let bytes = [
            0xF0, 0x11, // AUTH, Remaining Length 17
            0x19, // Re-authenticate
            0x0F, // Property Length 15
            0x15, 0x00, 0x01, b'm', // Authentication Method "m"
            0x1F, 0x00, 0x01, b'r', // Reason String "r"
            0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // User Property a=b
        ];
        let mut a = with_method(ReasonCode::ReAuthenticate, "m");
        a.properties.reason_string = Some("r".into());
        a.properties.user_properties = vec![("a".into(), "b".into())];
        check(&bytes, &a);
        // Success is written when properties follow.
        check(
            &[0xF0, 0x06, 0x00, 0x04, 0x15, 0x00, 0x01, b'm'],
            &with_method(ReasonCode::Success, "m"),
        );
        // Continue authentication without properties keeps its Property Length.
        check(
            &[0xF0, 0x02, 0x18, 0x00],
            &Auth {
                reason_code: ReasonCode::ContinueAuthentication,
                properties: Properties::default(),
            },
        );
    }

    #[test]
    fn reason_codes_follow_table_3_15_2_1() {
        for b in 0..=255u8 {
            let bytes = [0xF0, 0x02, b, 0x00];
            if [0x00, 0x18, 0x19].contains(&b) {
                assert_eq!(u8::from(decode(&bytes, V5).unwrap().reason_code), b);
            } else {
                // [MQTT-3.15.2-1], e.g. 0x01 or 0x87.
                let err = DecodeError::InvalidReasonCode {
                    code: b,
                    packet: PacketType::Auth,
                };
                rejects(&bytes, V5, err, ReasonCode::MalformedPacket);
            }
        }
    }

    #[test]
    fn reason_code_without_property_length_is_malformed() {
        // Section 3.15.2.1 only lets both be left out together.
        rejects(
            &[0xF0, 0x01, 0x18],
            V5,
            DecodeError::UnexpectedEnd,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn not_a_packet_in_v311() {
        let e = Packet::decode(0xF0, Bytes::new(), V311).unwrap_err();
        assert_eq!(
            (&e, e.reason_code()),
            (
                &DecodeError::InvalidPacketType(15),
                ReasonCode::MalformedPacket
            )
        );
        rejects(
            &[0xF0, 0x00],
            V311,
            DecodeError::InvalidPacketType(15),
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn fixed_header_flags_mqtt_3_15_1_1() {
        let err = DecodeError::InvalidFlags {
            packet: PacketType::Auth,
            flags: 1,
        };
        rejects(&[0xF1, 0x00], V5, err, ReasonCode::MalformedPacket);
    }

    #[test]
    fn property_errors() {
        rejects(
            &[0xF0, 0x07, 0x18, 0x05, 0x11, 0, 0, 0, 1],
            V5,
            DecodeError::PropertyNotAllowed {
                property: PropertyId::SessionExpiryInterval,
                packet: PacketType::Auth,
            },
            ReasonCode::MalformedPacket,
        );
        rejects(
            &[0xF0, 0x0A, 0x18, 0x08, 0x15, 0, 1, b'a', 0x15, 0, 1, b'b'],
            V5,
            DecodeError::DuplicateProperty(PropertyId::AuthenticationMethod),
            ReasonCode::ProtocolError,
        );
        rejects(
            &[0xF0, 0x03, 0x18, 0x04, 0x15],
            V5,
            DecodeError::UnexpectedEnd,
            ReasonCode::MalformedPacket,
        );
        rejects(
            &[0xF0, 0x03, 0x18, 0x00, 0x00],
            V5,
            DecodeError::TrailingBytes,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn authentication_data_needs_a_method_3_15_2_2_2() {
        rejects(
            &[0xF0, 0x06, 0x18, 0x04, 0x16, 0, 1, 0xAB],
            V5,
            DecodeError::InvalidPropertyValue(PropertyId::AuthenticationData),
            ReasonCode::ProtocolError,
        );
        let mut a = Auth {
            reason_code: ReasonCode::ContinueAuthentication,
            ..Auth::default()
        };
        a.properties.authentication_data = Some(Bytes::from_static(b"d"));
        assert_eq!(
            encode_err(&a, V5),
            EncodeError::InvalidPropertyValue(PropertyId::AuthenticationData)
        );
    }

    #[test]
    fn encode_errors_leave_output_unchanged() {
        let a = with_method(ReasonCode::ContinueAuthentication, "m");
        assert_eq!(
            encode_err(&a, V311),
            EncodeError::PacketNotInVersion(PacketType::Auth)
        );
        let mut out = vec![0xAA];
        assert_eq!(
            Packet::Auth(a).encode(V311, &mut out),
            Err(EncodeError::PacketNotInVersion(PacketType::Auth))
        );
        assert_eq!(out, [0xAA]);
        for code in [ReasonCode::NotAuthorized, ReasonCode::GrantedQoS1] {
            assert_eq!(
                encode_err(&with_method(code, "m"), V5),
                EncodeError::InvalidReasonCode {
                    code,
                    packet: PacketType::Auth,
                }
            );
        }
        let mut a = with_method(ReasonCode::ContinueAuthentication, "m");
        a.properties.server_reference = Some("s".into());
        assert_eq!(
            encode_err(&a, V5),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::ServerReference,
                packet: PacketType::Auth,
            }
        );
        let mut a = with_method(ReasonCode::ContinueAuthentication, "m");
        a.properties.authentication_data = Some(Bytes::from(vec![0; 70_000]));
        assert_eq!(encode_err(&a, V5), EncodeError::FieldTooLong);
    }
}
