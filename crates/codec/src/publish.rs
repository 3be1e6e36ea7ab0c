//! PUBLISH (section 3.3): an application message, in either direction.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::topic::{TopicError, TopicName};
use crate::types::{PacketId, ProtocolVersion, QoS};
use crate::wire::{self, Reader};

const DUP: u8 = 0b1000;
const RETAIN: u8 = 0b0001;

/// A PUBLISH packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Publish {
    /// DUP: this may be a re-delivery; never set at QoS 0 [MQTT-3.3.1-2].
    pub dup: bool,
    /// QoS of this delivery.
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name; empty only with a Topic Alias [MQTT-3.3.2-1].
    pub topic: TopicName,
    /// Packet Identifier: present exactly when QoS > 0 [MQTT-2.2.1-2].
    pub packet_id: Option<PacketId>,
    /// PUBLISH properties (MQTT 5.0 only).
    pub properties: Properties,
    /// Application payload; shares memory with the received frame.
    pub payload: Bytes,
}

impl Publish {
    /// Decodes a PUBLISH from its fixed header flags and body.
    pub fn decode(flags: u8, body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::InvalidQoS)?;
        let dup = flags & DUP != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupWithQoS0);
        }
        let mut r = Reader::new(body);
        let topic = r.string()?;
        let packet_id = if qos == QoS::AtMostOnce {
            None
        } else {
            Some(PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?)
        };
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(&mut r, Scope::Packet(PacketType::Publish))?
        } else {
            Properties::default()
        };
        let topic = match TopicName::new(topic) {
            Ok(topic) => topic,
            Err(TopicError::Empty) if properties.topic_alias.is_some() => TopicName::default(),
            Err(TopicError::Empty) => return Err(DecodeError::EmptyTopicWithoutAlias),
            Err(e) => return Err(DecodeError::TopicNameInvalid(e)),
        };
        let payload = r.rest();
        Ok(Self {
            dup,
            qos,
            retain: flags & RETAIN != 0,
            topic,
            packet_id,
            properties,
            payload,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let mut len = wire::prefixed_len(self.topic.as_str().len()) + self.payload.len();
        if self.packet_id.is_some() {
            len += 2;
        }
        if version == ProtocolVersion::V5 {
            len += self.properties.encoded_len();
        }
        len
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// The fixed header's first byte.
    fn first_byte(&self) -> u8 {
        let mut b = (PacketType::Publish as u8) << 4 | (self.qos as u8) << 1;
        if self.dup {
            b |= DUP;
        }
        if self.retain {
            b |= RETAIN;
        }
        b
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if (self.qos == QoS::AtMostOnce) != self.packet_id.is_none() {
            return Err(EncodeError::PacketIdMismatch);
        }
        if self.dup && self.qos == QoS::AtMostOnce {
            return Err(EncodeError::DupWithQoS0);
        }
        let v5 = version == ProtocolVersion::V5;
        if self.topic.is_empty() && !(v5 && self.properties.topic_alias.is_some()) {
            return Err(EncodeError::EmptyTopicWithoutAlias);
        }
        encode_packet(out, self.first_byte(), self.body_len(version), |out| {
            wire::put_str(out, self.topic.as_str())?;
            if let Some(id) = self.packet_id {
                wire::put_u16(out, id.get());
            }
            if v5 {
                self.properties
                    .encode(Scope::Packet(PacketType::Publish), out)?;
            }
            out.extend_from_slice(&self.payload);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::{PayloadFormatIndicator, PropertyId};
    use crate::reason_code::ReasonCode;
    use crate::{decode_packet, Packet, MAX_PACKET_SIZE};
    use alloc::{string::String, vec};
    use bytes::BytesMut;
    use ProtocolVersion::{V311, V5};

    /// Both directions through the full path, fixed header included.
    fn check(bytes: &[u8], version: ProtocolVersion, p: &Publish) {
        let mut buf = BytesMut::from(bytes);
        let packet = decode_packet(&mut buf, version, MAX_PACKET_SIZE);
        assert_eq!(packet, Ok(Some(Packet::Publish(p.clone()))));
        assert!(buf.is_empty());
        let mut out = Vec::new();
        p.encode(version, &mut out).unwrap();
        assert_eq!(out, bytes);
        assert_eq!(p.encoded_len(version), bytes.len());
    }

    fn decode(
        first_byte: u8,
        body: &[u8],
        version: ProtocolVersion,
    ) -> Result<Publish, DecodeError> {
        match Packet::decode(first_byte, Bytes::copy_from_slice(body), version)? {
            Packet::Publish(p) => Ok(p),
            other => panic!("not a PUBLISH: {other:?}"),
        }
    }

    fn rejects(
        first: u8,
        body: &[u8],
        version: ProtocolVersion,
        err: DecodeError,
        code: ReasonCode,
    ) {
        let e = decode(first, body, version).unwrap_err();
        assert_eq!((&e, e.reason_code()), (&err, code));
    }

    /// Encoding fails and leaves the output as it was.
    fn encode_err(p: &Publish, version: ProtocolVersion) -> EncodeError {
        let mut out = vec![0xAA, 0x55];
        let e = p.encode(version, &mut out).unwrap_err();
        assert_eq!(out, [0xAA, 0x55]);
        e
    }

    fn topic(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    fn id(v: u16) -> Option<PacketId> {
        PacketId::new(v)
    }

    fn qos0() -> Publish {
        Publish {
            topic: topic("a/b"),
            payload: Bytes::from_static(b"x"),
            ..Publish::default()
        }
    }

    fn qos1_with_properties() -> Publish {
        Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: true,
            topic: topic("a/b"),
            packet_id: id(10),
            properties: Properties {
                payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
                message_expiry_interval: Some(3600),
                content_type: Some("t".into()),
                response_topic: Some(topic("r")),
                correlation_data: Some(Bytes::from_static(&[0xC0])),
                topic_alias: Some(3),
                user_properties: vec![("k".into(), "1".into()), ("k".into(), "0".into())],
                ..Properties::default()
            },
            payload: Bytes::from_static(b"hi"),
        }
    }

    fn qos2_dup() -> Publish {
        Publish {
            dup: true,
            qos: QoS::ExactlyOnce,
            topic: topic("t"),
            packet_id: id(0x1234),
            properties: Properties {
                subscription_identifiers: vec![1, 268_435_455],
                ..Properties::default()
            },
            ..Publish::default()
        }
    }

    #[test]
    fn qos0_both_versions() {
        #[rustfmt::skip]
        let v5 = [
            0x30, 0x07, // PUBLISH QoS 0, Remaining Length 7
            0x00, 0x03, b'a', b'/', b'b', // Topic Name
            0x00, // Property Length 0
            b'x', // Payload
        ];
        check(&v5, V5, &qos0());
        check(
            &[0x30, 0x06, 0x00, 0x03, b'a', b'/', b'b', b'x'],
            V311,
            &qos0(),
        );
    }

    #[test]
    fn qos1_retain_with_properties() {
        #[rustfmt::skip]
        let v5 = [
            0x33, // PUBLISH, QoS 1, RETAIN
            0x2E, // Remaining Length 46
            0x00, 0x03, b'a', b'/', b'b', // Topic Name
            0x00, 0x0A, // Packet Identifier 10
            0x24, // Property Length 36
            0x01, 0x01, // Payload Format Indicator: UTF-8
            0x02, 0x00, 0x00, 0x0E, 0x10, // Message Expiry Interval 3600
            0x03, 0x00, 0x01, b't', // Content Type "t"
            0x08, 0x00, 0x01, b'r', // Response Topic "r"
            0x09, 0x00, 0x01, 0xC0, // Correlation Data
            0x23, 0x00, 0x03, // Topic Alias 3
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'1', // User Property k=1
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'0', // User Property k=0
            b'h', b'i', // Payload
        ];
        check(&v5, V5, &qos1_with_properties());
        // The properties as received, Topic Alias included: the bytes from
        // the Property Length to the payload.
        let decoded = decode(v5[0], &v5[2..], V5).unwrap();
        let received = decoded.properties.received.bytes().unwrap();
        assert_eq!(received[..], v5[9..46]);
        #[rustfmt::skip]
        let v311 = [
            0x33, 0x09, // PUBLISH QoS 1 RETAIN, Remaining Length 9
            0x00, 0x03, b'a', b'/', b'b', // Topic Name
            0x00, 0x0A, // Packet Identifier 10
            b'h', b'i', // Payload
        ];
        let mut p = qos1_with_properties();
        // MQTT 3.1.1 has no properties: encoding drops them.
        let mut out = Vec::new();
        p.encode(V311, &mut out).unwrap();
        assert_eq!(out, v311);
        assert_eq!(p.encoded_len(V311), v311.len());
        p.properties = Properties::default();
        check(&v311, V311, &p);
    }

    #[test]
    fn qos2_dup_with_two_subscription_identifiers() {
        #[rustfmt::skip]
        let v5 = [
            0x3C, // PUBLISH, DUP, QoS 2
            0x0D, // Remaining Length 13
            0x00, 0x01, b't', // Topic Name
            0x12, 0x34, // Packet Identifier 0x1234
            0x07, // Property Length 7
            0x0B, 0x01, // Subscription Identifier 1
            0x0B, 0xFF, 0xFF, 0xFF, 0x7F, // Subscription Identifier 268,435,455
            // empty Payload
        ];
        check(&v5, V5, &qos2_dup());
        let mut p = qos2_dup();
        p.properties = Properties::default();
        check(&[0x3C, 0x05, 0x00, 0x01, b't', 0x12, 0x34], V311, &p);
    }

    #[test]
    fn empty_topic_with_alias_is_accepted() {
        #[rustfmt::skip]
        let v5 = [
            0x30, 0x07, // PUBLISH QoS 0, Remaining Length 7
            0x00, 0x00, // empty Topic Name
            0x03, // Property Length 3
            0x23, 0x00, 0x05, // Topic Alias 5
            b'x', // Payload
        ];
        let p = Publish {
            topic: TopicName::default(),
            properties: Properties {
                topic_alias: Some(5),
                ..Properties::default()
            },
            payload: Bytes::from_static(b"x"),
            ..Publish::default()
        };
        check(&v5, V5, &p);
    }

    #[test]
    fn properties_in_any_order_user_properties_in_order_mqtt_3_3_2_18() {
        #[rustfmt::skip]
        let body = [
            0x00, 0x01, b't', // Topic Name
            0x17, // Property Length 23
            0x26, 0x00, 0x01, b'z', 0x00, 0x00, // User Property z=""
            0x23, 0x00, 0x05, // Topic Alias 5
            0x26, 0x00, 0x01, b'a', 0x00, 0x00, // User Property a=""
            0x01, 0x01, // Payload Format Indicator
            0x26, 0x00, 0x01, b'm', 0x00, 0x00, // User Property m=""
        ];
        let p = decode(0x30, &body, V5).unwrap();
        assert_eq!(p.properties.topic_alias, Some(5));
        assert_eq!(
            p.properties.payload_format_indicator,
            Some(PayloadFormatIndicator::Utf8)
        );
        let keys: Vec<&str> = p
            .properties
            .user_properties
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert!(p.payload.is_empty());
        // Re-encoded in identifier order, user properties still in order.
        #[rustfmt::skip]
        let expected = [
            0x30, 0x1B, 0x00, 0x01, b't', 0x17,
            0x01, 0x01,
            0x23, 0x00, 0x05,
            0x26, 0x00, 0x01, b'z', 0x00, 0x00,
            0x26, 0x00, 0x01, b'a', 0x00, 0x00,
            0x26, 0x00, 0x01, b'm', 0x00, 0x00,
        ];
        let mut out = Vec::new();
        p.encode(V5, &mut out).unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn payload_shares_the_input_buffer() {
        let mut bytes = vec![0x30, 0x0A, 0x00, 0x01, b't', 0x00];
        bytes.extend_from_slice(b"zerocp");
        let mut buf = BytesMut::from(&bytes[..]);
        let start = buf.as_ptr() as usize;
        let end = start + buf.len();
        let Ok(Some(Packet::Publish(p))) = decode_packet(&mut buf, V5, MAX_PACKET_SIZE) else {
            panic!("not a PUBLISH");
        };
        assert_eq!(p.payload, &b"zerocp"[..]);
        let at = p.payload.as_ptr() as usize;
        assert!(start <= at && at + p.payload.len() <= end);
        assert_eq!(at, start + 6);
    }

    #[test]
    fn qos_3_mqtt_3_3_1_4() {
        for first in [0x36, 0x37, 0x3E] {
            for version in [V5, V311] {
                rejects(
                    first,
                    &[0, 1, b't', 0, 1, 0],
                    version,
                    DecodeError::InvalidQoS,
                    ReasonCode::MalformedPacket,
                );
            }
        }
    }

    #[test]
    fn dup_with_qos0_mqtt_3_3_1_2() {
        for first in [0x38, 0x39] {
            rejects(
                first,
                &[0, 1, b't', 0],
                V5,
                DecodeError::DupWithQoS0,
                ReasonCode::MalformedPacket,
            );
            rejects(
                first,
                &[0, 1, b't'],
                V311,
                DecodeError::DupWithQoS0,
                ReasonCode::MalformedPacket,
            );
        }
    }

    #[test]
    fn wildcard_in_topic_name_mqtt_3_3_2_2() {
        for name in [&b"a/+"[..], b"#", b"+", b"a/#"] {
            let mut body = vec![0, name.len() as u8];
            body.extend_from_slice(name);
            rejects(
                0x30,
                &body,
                V311,
                DecodeError::TopicNameInvalid(crate::TopicError::WildcardInName),
                ReasonCode::TopicNameInvalid,
            );
            body.push(0); // Property Length
            rejects(
                0x30,
                &body,
                V5,
                DecodeError::TopicNameInvalid(crate::TopicError::WildcardInName),
                ReasonCode::TopicNameInvalid,
            );
        }
    }

    #[test]
    fn empty_topic_without_alias_section_3_3_2_1() {
        rejects(
            0x30,
            &[0, 0, 0],
            V5,
            DecodeError::EmptyTopicWithoutAlias,
            ReasonCode::ProtocolError,
        );
        // [MQTT-4.7.3-1]: MQTT 3.1.1 has no aliases at all.
        rejects(
            0x30,
            &[0, 0],
            V311,
            DecodeError::EmptyTopicWithoutAlias,
            ReasonCode::ProtocolError,
        );
    }

    #[test]
    fn topic_alias_zero_mqtt_3_3_2_8() {
        rejects(
            0x30,
            &[0, 1, b't', 3, 0x23, 0, 0],
            V5,
            DecodeError::TopicAliasZero,
            ReasonCode::TopicAliasInvalid,
        );
        rejects(
            0x30,
            &[0, 0, 3, 0x23, 0, 0],
            V5,
            DecodeError::TopicAliasZero,
            ReasonCode::TopicAliasInvalid,
        );
    }

    #[test]
    fn packet_id_zero_mqtt_2_2_1_3() {
        for first in [0x32, 0x34] {
            rejects(
                first,
                &[0, 1, b't', 0, 0, 0],
                V5,
                DecodeError::ZeroPacketId,
                ReasonCode::ProtocolError,
            );
            rejects(
                first,
                &[0, 1, b't', 0, 0],
                V311,
                DecodeError::ZeroPacketId,
                ReasonCode::ProtocolError,
            );
        }
    }

    #[test]
    fn property_errors() {
        let cases: [(&[u8], DecodeError, ReasonCode); 6] = [
            // Subscription Identifier 0 (section 3.3.2.3.8).
            (
                &[2, 0x0B, 0],
                DecodeError::InvalidPropertyValue(PropertyId::SubscriptionIdentifier),
                ReasonCode::ProtocolError,
            ),
            // [MQTT-3.3.2-14]: Response Topic "#" is not a topic name.
            (
                &[4, 0x08, 0, 1, b'#'],
                DecodeError::InvalidPropertyValue(PropertyId::ResponseTopic),
                ReasonCode::ProtocolError,
            ),
            (
                &[2, 0x01, 2],
                DecodeError::InvalidPropertyValue(PropertyId::PayloadFormatIndicator),
                ReasonCode::ProtocolError,
            ),
            (
                &[6, 0x23, 0, 1, 0x23, 0, 2],
                DecodeError::DuplicateProperty(PropertyId::TopicAlias),
                ReasonCode::ProtocolError,
            ),
            (
                &[5, 0x11, 0, 0, 0, 1],
                DecodeError::PropertyNotAllowed {
                    property: PropertyId::SessionExpiryInterval,
                    packet: PacketType::Publish,
                },
                ReasonCode::MalformedPacket,
            ),
            (
                &[2, 0x7F, 0],
                DecodeError::UnknownProperty(0x7F),
                ReasonCode::MalformedPacket,
            ),
        ];
        for (props, err, code) in cases {
            let mut body = vec![0, 1, b't'];
            body.extend_from_slice(props);
            rejects(0x30, &body, V5, err, code);
        }
    }

    #[test]
    fn truncated_fields_and_bad_strings() {
        let end = DecodeError::UnexpectedEnd;
        let malformed = ReasonCode::MalformedPacket;
        // Topic length 5 with one byte; QoS 1 without a whole packet id.
        rejects(0x30, &[0, 5, b't'], V311, end, malformed);
        rejects(0x32, &[0, 1, b't', 0], V311, end, malformed);
        // MQTT 5.0 needs a Property Length, and the properties it announces.
        rejects(0x30, &[0, 1, b't'], V5, end, malformed);
        rejects(0x32, &[0, 1, b't', 0, 1], V5, end, malformed);
        rejects(0x30, &[0, 1, b't', 5, 0x02, 0], V5, end, malformed);
        rejects(
            0x30,
            &[0, 2, 0xC3, 0x28],
            V311,
            DecodeError::InvalidUtf8,
            malformed,
        );
        rejects(
            0x30,
            &[0, 2, b'a', 0],
            V311,
            DecodeError::NullCharacter,
            malformed,
        );
    }

    #[test]
    fn encode_errors_leave_output_unchanged() {
        let mut p = qos0();
        p.packet_id = id(1);
        assert_eq!(encode_err(&p, V5), EncodeError::PacketIdMismatch);
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let p = Publish { qos, ..qos0() };
            assert_eq!(encode_err(&p, V311), EncodeError::PacketIdMismatch);
        }
        let p = Publish {
            dup: true,
            ..qos0()
        };
        assert_eq!(encode_err(&p, V5), EncodeError::DupWithQoS0);

        let p = Publish {
            topic: TopicName::default(),
            ..qos0()
        };
        assert_eq!(encode_err(&p, V5), EncodeError::EmptyTopicWithoutAlias);
        // An alias is no help in MQTT 3.1.1.
        let mut p = p;
        p.properties.topic_alias = Some(1);
        assert_eq!(encode_err(&p, V311), EncodeError::EmptyTopicWithoutAlias);

        let mut p = qos0();
        p.properties.server_keep_alive = Some(10);
        assert_eq!(
            encode_err(&p, V5),
            EncodeError::PropertyNotAllowed {
                property: PropertyId::ServerKeepAlive,
                packet: PacketType::Publish,
            }
        );
        let mut p = qos0();
        p.properties.topic_alias = Some(0);
        assert_eq!(
            encode_err(&p, V5),
            EncodeError::InvalidPropertyValue(PropertyId::TopicAlias)
        );
        for sub_id in [0, 268_435_456] {
            let mut p = qos0();
            p.properties.subscription_identifiers = vec![1, sub_id];
            assert_eq!(
                encode_err(&p, V5),
                EncodeError::InvalidPropertyValue(PropertyId::SubscriptionIdentifier)
            );
        }
        let mut p = qos0();
        p.properties.correlation_data = Some(Bytes::from(vec![0; 70_000]));
        assert_eq!(encode_err(&p, V5), EncodeError::FieldTooLong);
        let mut p = qos0();
        p.properties.user_properties = vec![("k".into(), String::from("\0"))];
        assert_eq!(encode_err(&p, V5), EncodeError::NullCharacter);
    }

    #[test]
    fn payload_past_the_largest_remaining_length() {
        // Zeroed pages are mapped lazily: this touches almost no memory.
        let p = Publish {
            topic: topic("t"),
            payload: Bytes::from(vec![0; crate::MAX_REMAINING_LENGTH - 2]),
            ..Publish::default()
        };
        assert_eq!(p.encoded_len(V311), 1 + 5 + crate::MAX_REMAINING_LENGTH);
        assert_eq!(encode_err(&p, V311), EncodeError::PacketTooLarge);
    }

    #[test]
    fn encoded_len_across_remaining_length_sizes() {
        // (payload length, MQTT 3.1.1 Remaining Length bytes) for topic "t",
        // QoS 0: the body is the payload plus 3 bytes.
        let cases: [(usize, &[u8]); 7] = [
            (124, &[0x7F]),                         // 127
            (125, &[0x80, 0x01]),                   // 128
            (200, &[0xCB, 0x01]),                   // 203
            (16_380, &[0xFF, 0x7F]),                // 16,383
            (16_381, &[0x80, 0x80, 0x01]),          // 16,384
            (20_000, &[0xA3, 0x9C, 0x01]),          // 20,003
            (2_097_149, &[0x80, 0x80, 0x80, 0x01]), // 2,097,152
        ];
        for (len, remaining_length) in cases {
            let p = Publish {
                topic: topic("t"),
                payload: Bytes::from(vec![0x5A; len]),
                ..Publish::default()
            };
            let mut expected = vec![0x30];
            expected.extend_from_slice(remaining_length);
            expected.extend_from_slice(&[0x00, 0x01, b't']);
            expected.extend_from_slice(&p.payload);
            check(&expected, V311, &p);
            // MQTT 5.0 adds one byte of Property Length, and one more byte
            // of Remaining Length where that crosses 127 or 16,383.
            let mut out = Vec::new();
            p.encode(V5, &mut out).unwrap();
            assert_eq!(out.len(), p.encoded_len(V5));
            let grows = usize::from(matches!(len, 124 | 16_380));
            assert_eq!(p.encoded_len(V5), expected.len() + 1 + grows);
            assert_eq!(out[1 + remaining_length.len() + grows + 3], 0);
        }
    }
}
