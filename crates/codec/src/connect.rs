//! CONNECT (section 3.1): the first packet a client sends.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, PropertyId, Scope};
use crate::topic::TopicName;
use crate::types::{ProtocolVersion, QoS};
use crate::wire::{self, Reader};

const PROTOCOL_NAME: &str = "MQTT";

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_FLAG: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

/// Authentication Data without an Authentication Method is a Protocol Error
/// (section 3.1.2.11.10; AUTH omitting the method is one too, 3.15.2.2.2).
/// CONNECT, CONNACK and AUTH share this check.
pub(crate) fn check_auth_data(p: &Properties) -> Result<(), PropertyId> {
    if p.authentication_data.is_some() && p.authentication_method.is_none() {
        Err(PropertyId::AuthenticationData)
    } else {
        Ok(())
    }
}

/// A CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Protocol Level: which MQTT revision the client speaks.
    pub protocol_version: ProtocolVersion,
    /// Clean Start (Clean Session in MQTT 3.1.1).
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns it off.
    pub keep_alive: u16,
    /// CONNECT properties (MQTT 5.0 only).
    pub properties: Properties,
    /// Client Identifier; may be empty, then the server assigns one.
    pub client_id: String,
    /// The Will Message, if any.
    pub will: Option<Will>,
    /// User Name.
    pub username: Option<String>,
    /// Password (binary data).
    pub password: Option<Bytes>,
}

/// The Will Message a server publishes when the connection ends abnormally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// Will Topic.
    pub topic: TopicName,
    /// Will Payload.
    pub payload: Bytes,
    /// Will QoS.
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will Properties (MQTT 5.0 only).
    pub properties: Properties,
}

impl Default for Connect {
    fn default() -> Self {
        Self {
            protocol_version: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 60,
            properties: Properties::default(),
            client_id: String::new(),
            will: None,
            username: None,
            password: None,
        }
    }
}

impl Connect {
    /// Decodes a CONNECT body; the version comes from its Protocol Level.
    pub fn decode(body: Bytes) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let name = r.string()?;
        let level = r.u8()?;
        // MQTT 3.1 ("MQIsdp", level 3) clients get a clean "unsupported version".
        if name == "MQIsdp" && level == 3 {
            return Err(DecodeError::UnsupportedProtocolVersion(level));
        }
        if name != PROTOCOL_NAME {
            return Err(DecodeError::InvalidProtocolName);
        }
        let version = ProtocolVersion::from_level(level)
            .ok_or(DecodeError::UnsupportedProtocolVersion(level))?;
        let flags = r.u8()?;
        // [MQTT-3.1.2-3]: the reserved flag must be zero.
        if flags & RESERVED != 0 {
            return Err(DecodeError::ReservedBitSet(PacketType::Connect));
        }
        let will_qos =
            QoS::from_u8((flags >> WILL_QOS_SHIFT) & 0b11).ok_or(DecodeError::InvalidQoS)?;
        let has_will = flags & WILL_FLAG != 0;
        // [MQTT-3.1.2-11] [MQTT-3.1.2-13]: no will QoS or retain without a will.
        if !has_will && (will_qos != QoS::AtMostOnce || flags & WILL_RETAIN != 0) {
            return Err(DecodeError::WillFlagsWithoutWill);
        }
        let keep_alive = r.u16()?;
        let v5 = version == ProtocolVersion::V5;
        let properties = if v5 {
            Properties::decode(&mut r, Scope::Packet(PacketType::Connect))?
        } else {
            Properties::default()
        };
        check_auth_data(&properties).map_err(DecodeError::InvalidPropertyValue)?;
        let client_id = r.string()?;
        let will = if has_will {
            let properties = if v5 {
                Properties::decode(&mut r, Scope::Will)?
            } else {
                Properties::default()
            };
            let topic = TopicName::new(r.string()?).map_err(DecodeError::TopicNameInvalid)?;
            let payload = r.binary()?;
            Some(Will {
                topic,
                payload,
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
                properties,
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(r.string()?)
        } else {
            None
        };
        // [MQTT-3.1.2-22]: MQTT 3.1.1 has no password without a user name.
        if !v5 && flags & PASSWORD != 0 && username.is_none() {
            return Err(DecodeError::PasswordWithoutUserName);
        }
        let password = if flags & PASSWORD != 0 {
            Some(r.binary()?)
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            protocol_version: version,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            properties,
            client_id,
            will,
            username,
            password,
        })
    }

    fn body_len(&self) -> usize {
        let v5 = self.protocol_version == ProtocolVersion::V5;
        let mut len = wire::prefixed_len(PROTOCOL_NAME.len()) + 1 + 1 + 2;
        if v5 {
            len += self.properties.encoded_len();
        }
        len += wire::prefixed_len(self.client_id.len());
        if let Some(will) = &self.will {
            if v5 {
                len += will.properties.encoded_len();
            }
            len += wire::prefixed_len(will.topic.as_str().len());
            len += wire::prefixed_len(will.payload.len());
        }
        len += self
            .username
            .as_ref()
            .map_or(0, |u| wire::prefixed_len(u.len()));
        len += self
            .password
            .as_ref()
            .map_or(0, |p| wire::prefixed_len(p.len()));
        len
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        total_len(self.body_len())
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        if let Some(will) = &self.will {
            flags |= WILL_FLAG | (will.qos as u8) << WILL_QOS_SHIFT;
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.clean_start {
            flags |= CLEAN_START;
        }
        flags
    }

    /// Appends the packet in its own `protocol_version`; on error `out` is unchanged.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let v5 = self.protocol_version == ProtocolVersion::V5;
        if !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::PasswordWithoutUserName);
        }
        if v5 {
            check_auth_data(&self.properties).map_err(EncodeError::InvalidPropertyValue)?;
        }
        if let Some(will) = &self.will {
            if will.topic.is_empty() {
                return Err(EncodeError::EmptyTopicWithoutAlias);
            }
        }
        encode_packet(
            out,
            (PacketType::Connect as u8) << 4,
            self.body_len(),
            |out| {
                wire::put_str(out, PROTOCOL_NAME)?;
                out.push(self.protocol_version.level());
                out.push(self.flags());
                wire::put_u16(out, self.keep_alive);
                if v5 {
                    self.properties
                        .encode(Scope::Packet(PacketType::Connect), out)?;
                }
                wire::put_str(out, &self.client_id)?;
                if let Some(will) = &self.will {
                    if v5 {
                        will.properties.encode(Scope::Will, out)?;
                    }
                    wire::put_str(out, will.topic.as_str())?;
                    wire::put_binary(out, &will.payload)?;
                }
                if let Some(username) = &self.username {
                    wire::put_str(out, username)?;
                }
                if let Some(password) = &self.password {
                    wire::put_binary(out, password)?;
                }
                Ok(())
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::{PayloadFormatIndicator, PropertyId};
    use crate::reason_code::ReasonCode;
    use crate::{decode_packet, Packet, MAX_PACKET_SIZE};
    use alloc::vec;
    use bytes::BytesMut;
    use ProtocolVersion::{V311, V5};

    /// Both directions: the full decode path (fixed header included) gives
    /// `c`, and encoding `c` gives `bytes` back.
    fn check(bytes: &[u8], c: &Connect) {
        // CONNECT carries its own level: the version passed in is ignored.
        for version in [V311, V5] {
            let mut buf = BytesMut::from(bytes);
            let packet = decode_packet(&mut buf, version, MAX_PACKET_SIZE);
            assert_eq!(packet, Ok(Some(Packet::Connect(c.clone()))));
            assert!(buf.is_empty());
        }
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(c.encoded_len(), bytes.len());
        let mut out = Vec::new();
        Packet::Connect(c.clone()).encode(V311, &mut out).unwrap();
        assert_eq!(out, bytes);
    }

    /// A CONNECT body: protocol name, `level`, `flags`, Keep Alive 60, then `rest`.
    fn body(level: u8, flags: u8, rest: &[u8]) -> Vec<u8> {
        let mut b = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', level, flags, 0x00, 0x3C];
        b.extend_from_slice(rest);
        b
    }

    fn rejects(body: &[u8], err: DecodeError, code: ReasonCode) {
        let e = Connect::decode(Bytes::copy_from_slice(body)).unwrap_err();
        assert_eq!((&e, e.reason_code()), (&err, code));
    }

    /// Encoding fails and leaves the output as it was.
    fn encode_err(c: &Connect) -> EncodeError {
        let mut out = vec![0xAA, 0x55];
        let e = c.encode(&mut out).unwrap_err();
        assert_eq!(out, [0xAA, 0x55]);
        e
    }

    /// The variable header of MQTT 5.0 section 3.1.2.11 / 3.1.1 section
    /// 3.1.2.10 (flags 0xCE, Keep Alive 10, Session Expiry Interval 10)
    /// with a payload of our own.
    fn spec_example(version: ProtocolVersion) -> Connect {
        let v5 = version == V5;
        Connect {
            protocol_version: version,
            clean_start: true,
            keep_alive: 10,
            properties: Properties {
                session_expiry_interval: v5.then_some(10),
                ..Properties::default()
            },
            client_id: "wasm".into(),
            will: Some(Will {
                topic: TopicName::new("w/t").unwrap(),
                payload: Bytes::from_static(b"by"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Properties {
                    payload_format_indicator: v5.then_some(PayloadFormatIndicator::Utf8),
                    will_delay_interval: v5.then_some(5),
                    ..Properties::default()
                },
            }),
            username: Some("u".into()),
            password: Some(Bytes::from_static(b"pw")),
        }
    }

    #[rustfmt::skip]
    const SPEC_V5: [u8; 48] = [
        0x10, 0x2E, // CONNECT, Remaining Length 46
        0x00, 0x04, b'M', b'Q', b'T', b'T', // Protocol Name
        0x05, // Protocol Version 5
        0xCE, // User Name, Password, Will QoS 1, Will Flag, Clean Start
        0x00, 0x0A, // Keep Alive 10
        0x05, // Property Length 5
        0x11, 0x00, 0x00, 0x00, 0x0A, // Session Expiry Interval 10
        0x00, 0x04, b'w', b'a', b's', b'm', // Client Identifier
        0x07, // Will Property Length 7
        0x01, 0x01, // Payload Format Indicator: UTF-8
        0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval 5
        0x00, 0x03, b'w', b'/', b't', // Will Topic
        0x00, 0x02, b'b', b'y', // Will Payload
        0x00, 0x01, b'u', // User Name
        0x00, 0x02, b'p', b'w', // Password
    ];

    #[rustfmt::skip]
    const SPEC_V311: [u8; 34] = [
        0x10, 0x20, // CONNECT, Remaining Length 32
        0x00, 0x04, b'M', b'Q', b'T', b'T', // Protocol Name
        0x04, // Protocol Level 4
        0xCE, // User Name, Password, Will QoS 1, Will Flag, Clean Session
        0x00, 0x0A, // Keep Alive 10
        0x00, 0x04, b'w', b'a', b's', b'm', // Client Identifier
        0x00, 0x03, b'w', b'/', b't', // Will Topic
        0x00, 0x02, b'b', b'y', // Will Message
        0x00, 0x01, b'u', // User Name
        0x00, 0x02, b'p', b'w', // Password
    ];

    #[test]
    fn spec_example_v5() {
        check(&SPEC_V5, &spec_example(V5));
    }

    #[test]
    fn spec_example_v311() {
        check(&SPEC_V311, &spec_example(V311));
    }

    #[test]
    fn minimal_connect_both_versions() {
        #[rustfmt::skip]
        let v5 = [
            0x10, 0x0D, // CONNECT, Remaining Length 13
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // "MQTT", level 5
            0x02, // Clean Start
            0x00, 0x3C, // Keep Alive 60
            0x00, // Property Length 0
            0x00, 0x00, // empty Client Identifier
        ];
        check(&v5, &Connect::default());
        #[rustfmt::skip]
        let v311 = [
            0x10, 0x0C, // CONNECT, Remaining Length 12
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // "MQTT", level 4
            0x02, // Clean Session
            0x00, 0x3C, // Keep Alive 60
            0x00, 0x00, // empty Client Identifier
        ];
        let c = Connect {
            protocol_version: V311,
            ..Connect::default()
        };
        check(&v311, &c);
    }

    #[test]
    fn every_connect_property_v5() {
        #[rustfmt::skip]
        let bytes = [
            0x10, 0x31, // CONNECT, Remaining Length 49
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05,
            0x02, // Clean Start
            0x00, 0x00, // Keep Alive 0
            0x24, // Property Length 36
            0x11, 0x00, 0x00, 0x00, 0x78, // Session Expiry Interval 120
            0x15, 0x00, 0x01, b'x', // Authentication Method "x"
            0x16, 0x00, 0x02, 0x01, 0x02, // Authentication Data
            0x17, 0x00, // Request Problem Information 0
            0x19, 0x01, // Request Response Information 1
            0x21, 0x00, 0x14, // Receive Maximum 20
            0x22, 0x00, 0x0A, // Topic Alias Maximum 10
            0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // User Property a=b
            0x27, 0x00, 0x00, 0x04, 0x00, // Maximum Packet Size 1024
            0x00, 0x00, // empty Client Identifier
        ];
        let c = Connect {
            keep_alive: 0,
            properties: Properties {
                session_expiry_interval: Some(120),
                authentication_method: Some("x".into()),
                authentication_data: Some(Bytes::from_static(&[1, 2])),
                request_problem_information: Some(false),
                request_response_information: Some(true),
                receive_maximum: Some(20),
                topic_alias_maximum: Some(10),
                user_properties: vec![("a".into(), "b".into())],
                maximum_packet_size: Some(1024),
                ..Properties::default()
            },
            ..Connect::default()
        };
        check(&bytes, &c);
    }

    #[test]
    fn v5_password_without_user_name_is_allowed() {
        // MQTT 5.0 dropped [MQTT-3.1.2-22]: a password may come alone.
        #[rustfmt::skip]
        let bytes = [
            0x10, 0x11, // CONNECT, Remaining Length 17
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05,
            0x40, // Password only, Clean Start 0
            0x00, 0x00, // Keep Alive 0
            0x00, // Property Length 0
            0x00, 0x01, b'c', // Client Identifier
            0x00, 0x01, b'p', // Password
        ];
        let c = Connect {
            clean_start: false,
            keep_alive: 0,
            client_id: "c".into(),
            password: Some(Bytes::from_static(b"p")),
            ..Connect::default()
        };
        check(&bytes, &c);
    }

    #[test]
    fn v311_will_qos2_retain() {
        #[rustfmt::skip]
        let bytes = [
            0x10, 0x12, // CONNECT, Remaining Length 18
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04,
            0x34, // Will Retain, Will QoS 2, Will Flag, Clean Session 0
            0x00, 0x00, // Keep Alive 0
            0x00, 0x01, b'c', // Client Identifier
            0x00, 0x01, b't', // Will Topic
            0x00, 0x00, // empty Will Message
        ];
        let c = Connect {
            protocol_version: V311,
            clean_start: false,
            keep_alive: 0,
            client_id: "c".into(),
            will: Some(Will {
                topic: TopicName::new("t").unwrap(),
                payload: Bytes::new(),
                qos: QoS::ExactlyOnce,
                retain: true,
                properties: Properties::default(),
            }),
            ..Connect::default()
        };
        check(&bytes, &c);
    }

    #[test]
    fn v311_ignores_properties_when_encoding() {
        let mut c = spec_example(V311);
        c.properties.session_expiry_interval = Some(10);
        c.will.as_mut().unwrap().properties.will_delay_interval = Some(5);
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        assert_eq!(out, SPEC_V311);
        assert_eq!(c.encoded_len(), SPEC_V311.len());
    }

    #[test]
    fn truncated_fields_are_malformed() {
        for bytes in [&SPEC_V5[2..], &SPEC_V311[2..]] {
            for n in 0..bytes.len() {
                rejects(
                    &bytes[..n],
                    DecodeError::UnexpectedEnd,
                    ReasonCode::MalformedPacket,
                );
            }
        }
        // Property Length 9 with only 5 bytes after it.
        rejects(
            &body(5, 0x02, &[9, 0x11, 0, 0, 0, 1]),
            DecodeError::UnexpectedEnd,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        for b in [body(5, 0x02, &[0, 0, 0, 0xFF]), body(4, 0x02, &[0, 0, 0])] {
            rejects(&b, DecodeError::TrailingBytes, ReasonCode::MalformedPacket);
        }
    }

    #[test]
    fn reserved_flag_mqtt_3_1_2_3() {
        rejects(
            &body(5, 0x03, &[0, 0, 0]),
            DecodeError::ReservedBitSet(PacketType::Connect),
            ReasonCode::MalformedPacket,
        );
        rejects(
            &body(4, 0x01, &[0, 0]),
            DecodeError::ReservedBitSet(PacketType::Connect),
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn fixed_header_flags_mqtt_2_1_3_1() {
        let e = Packet::decode(0x12, Bytes::from(body(5, 0x02, &[0, 0, 0])), V5).unwrap_err();
        assert_eq!(
            (&e, e.reason_code()),
            (
                &DecodeError::InvalidFlags {
                    packet: PacketType::Connect,
                    flags: 2
                },
                ReasonCode::MalformedPacket
            )
        );
    }

    #[test]
    fn protocol_name_mqtt_3_1_2_1() {
        for name in [&b"MQTX"[..], b"mqtt", b"MQTT\0", b"MQIsdp"] {
            let mut b = vec![0x00, name.len() as u8];
            b.extend_from_slice(name);
            b.extend_from_slice(&[0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x00]);
            let err = if name.contains(&0) {
                DecodeError::NullCharacter
            } else {
                DecodeError::InvalidProtocolName
            };
            rejects(&b, err, ReasonCode::MalformedPacket);
        }
    }

    #[test]
    fn unsupported_protocol_level_mqtt_3_1_2_2() {
        for level in [0, 3, 6, 0xFF] {
            rejects(
                &body(level, 0x02, &[0, 0, 0]),
                DecodeError::UnsupportedProtocolVersion(level),
                ReasonCode::UnsupportedProtocolVersion,
            );
        }
        // An MQTT 3.1 client ("MQIsdp", level 3) gets the same answer.
        let mut b = vec![0x00, 0x06];
        b.extend_from_slice(b"MQIsdp");
        b.extend_from_slice(&[0x03, 0x02, 0x00, 0x3C, 0x00, 0x00]);
        rejects(
            &b,
            DecodeError::UnsupportedProtocolVersion(3),
            ReasonCode::UnsupportedProtocolVersion,
        );
    }

    #[test]
    fn will_qos_3_mqtt_3_1_2_12() {
        // Will Flag, Will QoS 3, Clean Start.
        rejects(
            &body(5, 0x1E, &[0, 0, 0, 0, 0, 1, b't', 0, 0]),
            DecodeError::InvalidQoS,
            ReasonCode::MalformedPacket,
        );
        rejects(
            &body(4, 0x1E, &[0, 0, 0, 1, b't', 0, 0]),
            DecodeError::InvalidQoS,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn will_qos_or_retain_without_will_mqtt_3_1_2_11_and_13() {
        // Will QoS 1, Will QoS 2, Will Retain; each without the Will Flag.
        for flags in [0x0A, 0x12, 0x22] {
            rejects(
                &body(5, flags, &[0, 0, 0]),
                DecodeError::WillFlagsWithoutWill,
                ReasonCode::MalformedPacket,
            );
            rejects(
                &body(4, flags, &[0, 0]),
                DecodeError::WillFlagsWithoutWill,
                ReasonCode::MalformedPacket,
            );
        }
    }

    #[test]
    fn v311_password_without_user_name_mqtt_3_1_2_22() {
        rejects(
            &body(4, 0x42, &[0, 0, 0, 1, b'p']),
            DecodeError::PasswordWithoutUserName,
            ReasonCode::ProtocolError,
        );
    }

    #[test]
    fn will_topic_must_be_a_topic_name_mqtt_3_1_3_11() {
        for topic in [&b"a/+"[..], b"#"] {
            // Will Topic, then an empty Will Payload.
            let mut will = vec![0, topic.len() as u8];
            will.extend_from_slice(topic);
            will.extend_from_slice(&[0, 0]);
            // MQTT 5.0: Property Length, Client Identifier, Will Property Length.
            let mut v5 = vec![0, 0, 0, 0];
            v5.extend_from_slice(&will);
            // MQTT 3.1.1: Client Identifier only.
            let mut v311 = vec![0, 0];
            v311.extend_from_slice(&will);
            for b in [body(5, 0x06, &v5), body(4, 0x06, &v311)] {
                rejects(
                    &b,
                    DecodeError::TopicNameInvalid(crate::TopicError::WildcardInName),
                    ReasonCode::TopicNameInvalid,
                );
            }
        }
        rejects(
            &body(5, 0x06, &[0, 0, 0, 0, 0, 0, 0, 0]),
            DecodeError::TopicNameInvalid(crate::TopicError::Empty),
            ReasonCode::TopicNameInvalid,
        );
    }

    #[test]
    fn duplicate_property_is_a_protocol_error() {
        // Two Session Expiry Intervals.
        rejects(
            &body(5, 0x02, &[10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2, 0, 0]),
            DecodeError::DuplicateProperty(PropertyId::SessionExpiryInterval),
            ReasonCode::ProtocolError,
        );
        // Two Will Delay Intervals in the Will Properties.
        rejects(
            &body(
                5,
                0x06,
                &[
                    0, 0, 0, 10, 0x18, 0, 0, 0, 1, 0x18, 0, 0, 0, 2, 0, 1, b't', 0, 0,
                ],
            ),
            DecodeError::DuplicateProperty(PropertyId::WillDelayInterval),
            ReasonCode::ProtocolError,
        );
    }

    #[test]
    fn user_properties_may_repeat_in_order() {
        let c = Connect::decode(Bytes::from(body(
            5,
            0x02,
            &[
                14, 0x26, 0, 1, b'k', 0, 1, b'2', 0x26, 0, 1, b'k', 0, 1, b'1', 0, 0,
            ],
        )))
        .unwrap();
        assert_eq!(
            c.properties.user_properties,
            [("k".into(), "2".into()), ("k".into(), "1".into())]
        );
    }

    #[test]
    fn property_not_allowed_in_connect() {
        // Will Delay Interval belongs in the Will Properties only.
        rejects(
            &body(5, 0x02, &[5, 0x18, 0, 0, 0, 1, 0, 0]),
            DecodeError::PropertyNotAllowed {
                property: PropertyId::WillDelayInterval,
                packet: PacketType::Connect,
            },
            ReasonCode::MalformedPacket,
        );
        // Topic Alias belongs in PUBLISH.
        rejects(
            &body(5, 0x02, &[3, 0x23, 0, 1, 0, 0]),
            DecodeError::PropertyNotAllowed {
                property: PropertyId::TopicAlias,
                packet: PacketType::Connect,
            },
            ReasonCode::MalformedPacket,
        );
        // Session Expiry Interval is not a Will Property.
        rejects(
            &body(5, 0x06, &[0, 0, 0, 5, 0x11, 0, 0, 0, 1, 0, 1, b't', 0, 0]),
            DecodeError::PropertyNotAllowed {
                property: PropertyId::SessionExpiryInterval,
                packet: PacketType::Connect,
            },
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn invalid_property_values_are_protocol_errors() {
        for (props, id) in [
            (&[3, 0x21, 0, 0][..], PropertyId::ReceiveMaximum),
            (&[5, 0x27, 0, 0, 0, 0], PropertyId::MaximumPacketSize),
            (&[2, 0x17, 2], PropertyId::RequestProblemInformation),
            (&[2, 0x19, 2], PropertyId::RequestResponseInformation),
        ] {
            let mut rest = props.to_vec();
            rest.extend_from_slice(&[0, 0]);
            rejects(
                &body(5, 0x02, &rest),
                DecodeError::InvalidPropertyValue(id),
                ReasonCode::ProtocolError,
            );
        }
    }

    #[test]
    fn authentication_data_needs_a_method_3_1_2_11_10() {
        rejects(
            &body(5, 0x02, &[4, 0x16, 0, 1, 0xAB, 0, 0]),
            DecodeError::InvalidPropertyValue(PropertyId::AuthenticationData),
            ReasonCode::ProtocolError,
        );
        let mut c = Connect::default();
        c.properties.authentication_data = Some(Bytes::from_static(b"d"));
        assert_eq!(
            encode_err(&c),
            EncodeError::InvalidPropertyValue(PropertyId::AuthenticationData)
        );
        // A method alone is fine (covered by every_connect_property_v5 with both).
        c.properties.authentication_data = None;
        c.properties.authentication_method = Some("m".into());
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        assert_eq!(Connect::decode(Bytes::copy_from_slice(&out[2..])), Ok(c));
    }

    #[test]
    fn unknown_property_is_malformed() {
        rejects(
            &body(5, 0x02, &[2, 0x7F, 0, 0, 0]),
            DecodeError::UnknownProperty(0x7F),
            ReasonCode::MalformedPacket,
        );
        // Identifier 128 as a two-byte Variable Byte Integer.
        rejects(
            &body(5, 0x02, &[3, 0x80, 0x01, 0, 0, 0]),
            DecodeError::UnknownProperty(128),
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn strings_must_be_well_formed_mqtt_1_5_4() {
        rejects(
            &body(5, 0x02, &[0, 0, 2, 0xC3, 0x28]),
            DecodeError::InvalidUtf8,
            ReasonCode::MalformedPacket,
        );
        // User Name "a\0".
        rejects(
            &body(5, 0x82, &[0, 0, 0, 0, 2, b'a', 0]),
            DecodeError::NullCharacter,
            ReasonCode::MalformedPacket,
        );
    }

    #[test]
    fn encode_errors_leave_output_unchanged() {
        let mut c = spec_example(V311);
        c.username = None;
        assert_eq!(encode_err(&c), EncodeError::PasswordWithoutUserName);

        let mut c = spec_example(V5);
        c.will.as_mut().unwrap().topic = TopicName::default();
        assert_eq!(encode_err(&c), EncodeError::EmptyTopicWithoutAlias);

        let long = "a".repeat(70_000);
        let c = Connect {
            client_id: long.clone(),
            ..Connect::default()
        };
        assert_eq!(encode_err(&c), EncodeError::FieldTooLong);
        let c = Connect {
            username: Some(long.clone()),
            ..Connect::default()
        };
        assert_eq!(encode_err(&c), EncodeError::FieldTooLong);
        let c = Connect {
            password: Some(Bytes::from(long.clone().into_bytes())),
            ..Connect::default()
        };
        assert_eq!(encode_err(&c), EncodeError::FieldTooLong);
        let mut c = spec_example(V311);
        c.will.as_mut().unwrap().payload = Bytes::from(long.into_bytes());
        assert_eq!(encode_err(&c), EncodeError::FieldTooLong);

        let c = Connect {
            client_id: "a\0".into(),
            ..Connect::default()
        };
        assert_eq!(encode_err(&c), EncodeError::NullCharacter);
    }

    #[test]
    fn encode_checks_properties() {
        let mut c = Connect::default();
        c.properties.will_delay_interval = Some(1);
        assert_eq!(
            encode_err(&c),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::WillDelayInterval,
                packet: PacketType::Connect,
            }
        );
        let mut c = Connect::default();
        c.properties.server_keep_alive = Some(1);
        assert_eq!(
            encode_err(&c),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::ServerKeepAlive,
                packet: PacketType::Connect,
            }
        );
        let mut c = spec_example(V5);
        c.will.as_mut().unwrap().properties.session_expiry_interval = Some(1);
        assert_eq!(
            encode_err(&c),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::SessionExpiryInterval,
                packet: PacketType::Connect,
            }
        );
        let mut c = Connect::default();
        c.properties.receive_maximum = Some(0);
        assert_eq!(
            encode_err(&c),
            EncodeError::InvalidPropertyValue(PropertyId::ReceiveMaximum)
        );
        let mut c = Connect::default();
        c.properties.maximum_packet_size = Some(0);
        assert_eq!(
            encode_err(&c),
            EncodeError::InvalidPropertyValue(PropertyId::MaximumPacketSize)
        );
    }
}
