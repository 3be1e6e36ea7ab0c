//! SUBSCRIBE (section 3.8): topic filters and their options.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::topic::TopicFilter;
use crate::types::{PacketId, ProtocolVersion, QoS};
use crate::wire::{self, Reader};

const SHARE_PREFIX: &str = "$share/";

/// Retain Handling: when retained messages are sent for a new subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum RetainHandling {
    /// Send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// Send them only if the subscription did not already exist.
    SendAtSubscribeIfNew = 1,
    /// Do not send retained messages.
    DoNotSend = 2,
}

/// Subscription Options (section 3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the server may deliver with.
    pub qos: QoS,
    /// No Local: do not send this client's own publications back (MQTT 5.0).
    pub no_local: bool,
    /// Retain As Published: keep the RETAIN flag when forwarding (MQTT 5.0).
    pub retain_as_published: bool,
    /// Retain Handling (MQTT 5.0).
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    fn decode(byte: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        // [MQTT-3.8.3-5]: bits 6 and 7 are reserved; 3.1.1 reserves bits 2-7.
        let reserved = match version {
            ProtocolVersion::V311 => 0b1111_1100,
            _ => 0b1100_0000,
        };
        if byte & reserved != 0 {
            return Err(DecodeError::InvalidSubscriptionOptions(byte));
        }
        // Section 3.8.3.1: QoS 3 and Retain Handling 3 are Protocol Errors.
        let invalid = DecodeError::InvalidSubscriptionValue(byte);
        let retain_handling = match (byte >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(invalid),
        };
        Ok(Self {
            qos: QoS::from_u8(byte & 0b11).ok_or(invalid)?,
            no_local: byte & 0b0100 != 0,
            retain_as_published: byte & 0b1000 != 0,
            retain_handling,
        })
    }

    fn to_byte(self, version: ProtocolVersion) -> u8 {
        let mut b = self.qos as u8;
        if version == ProtocolVersion::V5 {
            b |= u8::from(self.no_local) << 2
                | u8::from(self.retain_as_published) << 3
                | (self.retain_handling as u8) << 4;
        }
        b
    }
}

/// One Topic Filter and its options.
///
/// The filter is kept as received so that a server can answer an invalid
/// one with 0x8F in SUBACK instead of dropping the connection; check it
/// with [`TopicFilter::new`]. Encoding refuses invalid filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscription {
    /// Topic Filter.
    pub filter: String,
    /// Subscription Options.
    pub options: SubscriptionOptions,
}

/// A SUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// SUBSCRIBE properties (MQTT 5.0 only).
    pub properties: Properties,
    /// The subscriptions, at least one [MQTT-3.8.3-2].
    pub subscriptions: Vec<Subscription>,
}

impl Subscribe {
    /// Decodes a SUBSCRIBE body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::Subscribe;
        let mut r = Reader::new(body);
        let packet_id = PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(&mut r, Scope::Packet(packet))?
        } else {
            Properties::default()
        };
        let mut subscriptions = Vec::new();
        while !r.is_empty() {
            let filter = r.string()?;
            let options = SubscriptionOptions::decode(r.u8()?, version)?;
            // [MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol Error.
            if options.no_local && filter.starts_with(SHARE_PREFIX) {
                return Err(DecodeError::NoLocalOnSharedSubscription);
            }
            subscriptions.push(Subscription { filter, options });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::NoTopicFilters(packet));
        }
        Ok(Self {
            packet_id,
            properties,
            subscriptions,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let mut len = 2;
        if version == ProtocolVersion::V5 {
            len += self.properties.encoded_len();
        }
        for s in &self.subscriptions {
            len += wire::prefixed_len(s.filter.len()) + 1;
        }
        len
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::Subscribe;
        if self.subscriptions.is_empty() {
            return Err(EncodeError::NoTopicFilters(packet));
        }
        for s in &self.subscriptions {
            TopicFilter::validate(&s.filter).map_err(EncodeError::Topic)?;
            if s.options.no_local
                && s.filter.starts_with(SHARE_PREFIX)
                && version == ProtocolVersion::V5
            {
                return Err(EncodeError::NoLocalOnSharedSubscription);
            }
        }
        let first = (packet as u8) << 4 | packet.required_flags();
        encode_packet(out, first, self.body_len(version), |out| {
            wire::put_u16(out, self.packet_id.get());
            if version == ProtocolVersion::V5 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            for s in &self.subscriptions {
                wire::put_str(out, &s.filter)?;
                out.push(s.options.to_byte(version));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_encode_err, assert_only_flags};
    use crate::ack::tests::{assert_vector, pid, V311, V5};
    use crate::property::PropertyId;
    use crate::topic::TopicError;
    use crate::Packet;
    use alloc::vec;

    fn sub(filter: &str, qos: QoS, no_local: bool, rap: bool, rh: RetainHandling) -> Subscription {
        Subscription {
            filter: filter.into(),
            options: SubscriptionOptions {
                qos,
                no_local,
                retain_as_published: rap,
                retain_handling: rh,
            },
        }
    }

    fn packet(properties: Properties, subscriptions: Vec<Subscription>) -> Packet {
        Packet::Subscribe(Subscribe {
            packet_id: pid(10),
            properties,
            subscriptions,
        })
    }

    #[test]
    fn spec_vectors() {
        use RetainHandling as R;
        let properties = Properties {
            subscription_identifiers: vec![268_435_455],
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        let v5 = packet(
            properties,
            vec![
                sub("a/b", QoS::AtMostOnce, false, false, R::SendAtSubscribe),
                sub(
                    "c/+",
                    QoS::AtLeastOnce,
                    true,
                    false,
                    R::SendAtSubscribeIfNew,
                ),
                sub("d/#", QoS::ExactlyOnce, true, true, R::DoNotSend),
                sub(
                    "$share/g/e",
                    QoS::AtLeastOnce,
                    false,
                    true,
                    R::SendAtSubscribe,
                ),
            ],
        );
        #[rustfmt::skip]
        let v5_bytes = [
            0x82, 0x2E, // SUBSCRIBE [MQTT-3.8.1-1], Remaining Length 46
            0x00, 0x0A, // Packet Identifier 10
            0x0C, // Property Length 12
            0x0B, 0xFF, 0xFF, 0xFF, 0x7F, // Subscription Identifier 268,435,455
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x00, 0x03, b'a', b'/', b'b', 0x00, // QoS 0, Retain Handling 0
            0x00, 0x03, b'c', b'/', b'+', 0x15, // QoS 1, No Local, Retain Handling 1
            0x00, 0x03, b'd', b'/', b'#', 0x2E, // QoS 2, No Local, Retain As Published, RH 2
            0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'e',
            0x09, // QoS 1, Retain As Published
        ];
        assert_vector(&v5, V5, &v5_bytes);
        assert_only_flags(&v5_bytes, V5);

        let v311 = packet(
            Properties::default(),
            vec![
                sub("a/b", QoS::AtMostOnce, false, false, R::SendAtSubscribe),
                sub("c/+", QoS::AtLeastOnce, false, false, R::SendAtSubscribe),
                sub("#", QoS::ExactlyOnce, false, false, R::SendAtSubscribe),
            ],
        );
        #[rustfmt::skip]
        let v311_bytes = [
            0x82, 0x12, // SUBSCRIBE [MQTT-3.8.1-1 of 3.1.1], Remaining Length 18
            0x00, 0x0A, // Packet Identifier 10
            0x00, 0x03, b'a', b'/', b'b', 0x00, // Requested QoS 0
            0x00, 0x03, b'c', b'/', b'+', 0x01, // Requested QoS 1
            0x00, 0x01, b'#', 0x02, // Requested QoS 2
        ];
        assert_vector(&v311, V311, &v311_bytes);
        assert_only_flags(&v311_bytes, V311);
    }

    #[test]
    fn every_options_byte() {
        let mut valid = [0, 0];
        for byte in 0..=255u8 {
            let v5 = [0x82, 0x07, 0x00, 0x0A, 0x00, 0x00, 0x01, b'a', byte];
            let v311 = [0x82, 0x06, 0x00, 0x0A, 0x00, 0x01, b'a', byte];
            let (qos, rh) = (byte & 0b11, byte >> 4 & 0b11);
            for (i, version, bytes, reserved) in
                [(0, V5, &v5[..], 0xC0), (1, V311, &v311[..], 0xFC)]
            {
                // [MQTT-3.8.3-5] bits 6 and 7 are reserved (Malformed); MQTT
                // 3.1.1 reserves bits 2 to 7 [MQTT-3-8.3-4 of 3.1.1]. QoS 3 and
                // Retain Handling 3 are Protocol Errors (section 3.8.3.1).
                if byte & reserved != 0 {
                    let err = DecodeError::InvalidSubscriptionOptions(byte);
                    assert_decode_err(bytes, version, err, 0x81);
                    continue;
                }
                if qos == 3 || rh == 3 {
                    let err = DecodeError::InvalidSubscriptionValue(byte);
                    assert_decode_err(bytes, version, err, 0x82);
                    continue;
                }
                valid[i] += 1;
                let retain_handling = [
                    RetainHandling::SendAtSubscribe,
                    RetainHandling::SendAtSubscribeIfNew,
                    RetainHandling::DoNotSend,
                ][usize::from(rh)];
                let s = sub(
                    "a",
                    QoS::from_u8(qos).unwrap(),
                    byte & 0b0100 != 0,
                    byte & 0b1000 != 0,
                    retain_handling,
                );
                assert_vector(&packet(Properties::default(), vec![s]), version, bytes);
            }
        }
        // 3 QoS x No Local x Retain As Published x 3 Retain Handling; 3 QoS.
        assert_eq!(valid, [36, 3]);
    }

    #[test]
    fn protocol_errors() {
        use DecodeError as E;
        let sub_id = PropertyId::SubscriptionIdentifier;
        #[rustfmt::skip]
        let cases: [(&[u8], _, _); 7] = [
            // [MQTT-2.2.1-3] Packet Identifier 0.
            (&[0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, b'a', 0x00], V5, E::ZeroPacketId),
            (&[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00], V311, E::ZeroPacketId),
            // [MQTT-3.8.3-2] no Topic Filter.
            (&[0x82, 0x03, 0x00, 0x01, 0x00], V5, E::NoTopicFilters(PacketType::Subscribe)),
            (&[0x82, 0x02, 0x00, 0x01], V311, E::NoTopicFilters(PacketType::Subscribe)),
            // [MQTT-3.8.3-4] No Local on a shared subscription.
            (
                &[0x82, 0x10, 0x00, 0x01, 0x00,
                  0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'a', 0x04],
                V5,
                E::NoLocalOnSharedSubscription,
            ),
            // Section 3.8.2.1.2: Subscription Identifier twice, or 0.
            (
                &[0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, b'a', 0x00],
                V5,
                E::DuplicateProperty(sub_id),
            ),
            (
                &[0x82, 0x09, 0x00, 0x01, 0x02, 0x0B, 0x00, 0x00, 0x01, b'a', 0x00],
                V5,
                E::InvalidPropertyValue(sub_id),
            ),
        ];
        for (bytes, version, err) in cases {
            assert_decode_err(bytes, version, err, 0x82);
        }
    }

    #[test]
    fn malformed_packets() {
        use DecodeError as E;
        let not_allowed = E::PropertyNotAllowed {
            property: PropertyId::ReasonString,
            packet: PacketType::Subscribe,
        };
        #[rustfmt::skip]
        let cases: [(&[u8], _, _); 5] = [
            // Section 2.2.2.2: Reason String is not a SUBSCRIBE property.
            (
                &[0x82, 0x0B, 0x00, 0x01, 0x04, 0x1F, 0x00, 0x01, b'r', 0x00, 0x01, b'a', 0x00],
                V5,
                not_allowed,
            ),
            // The options byte is missing; the filter runs past the end.
            (&[0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, b'a'], V5, E::UnexpectedEnd),
            (&[0x82, 0x05, 0x00, 0x01, 0x00, 0x05, b'a'], V311, E::UnexpectedEnd),
            // [MQTT-3.8.3-1] the filter is a UTF-8 Encoded String.
            (&[0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0xC0, 0x00], V5, E::InvalidUtf8),
            (&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00], V311, E::NullCharacter),
        ];
        for (bytes, version, err) in cases {
            assert_decode_err(bytes, version, err, 0x81);
        }
    }

    #[test]
    fn invalid_filters_decode_but_do_not_encode() {
        // Kept as received so that a server can answer 0x8F per filter.
        let bytes = [
            0x82, 0x0B, 0x00, 0x0A, 0x00, 0x00, 0x05, b'a', b'/', b'#', b'/', b'b', 0x01,
        ];
        let decoded = Subscribe::decode(Bytes::copy_from_slice(&bytes[2..]), V5).unwrap();
        assert_eq!(decoded.subscriptions[0].filter, "a/#/b");
        assert!(TopicFilter::new("a/#/b").is_err());
        let err = EncodeError::Topic(TopicError::MisplacedMultiLevelWildcard);
        assert_encode_err(&Packet::Subscribe(decoded), V5, err);
    }

    #[test]
    fn encode_errors_leave_the_output_unchanged() {
        use EncodeError as E;
        type Set = fn(&mut Properties);
        let none: Set = |_| {};
        let nul: Set = |p| p.user_properties = vec![("\0".into(), "v".into())];
        let sub_id = E::InvalidPropertyValue(PropertyId::SubscriptionIdentifier);
        let reason = E::PropertyNotAllowed {
            property: PropertyId::ReasonString,
            packet: PacketType::Subscribe,
        };
        let no_filter = E::NoTopicFilters(PacketType::Subscribe);
        #[rustfmt::skip]
        let cases: [(Set, &[&str], bool, _, _); 9] = [
            (none, &[], false, V5, no_filter.clone()),
            (none, &[], false, V311, no_filter),
            (none, &["a", ""], false, V311, E::Topic(TopicError::Empty)),
            (none, &["a+"], false, V5, E::Topic(TopicError::MisplacedSingleLevelWildcard)),
            // [MQTT-3.8.3-4]
            (none, &["$share/g/a"], true, V5, E::NoLocalOnSharedSubscription),
            (|p| p.subscription_identifiers = vec![1, 2], &["a"], false, V5, sub_id.clone()),
            (|p| p.subscription_identifiers = vec![0], &["a"], false, V5, sub_id),
            (|p| p.reason_string = Some("r".into()), &["a"], false, V5, reason),
            (nul, &["a"], false, V5, E::NullCharacter),
        ];
        for (set, filters, no_local, version, err) in cases {
            let mut properties = Properties::default();
            set(&mut properties);
            let rh = RetainHandling::SendAtSubscribe;
            let subs = filters
                .iter()
                .map(|f| sub(f, QoS::AtLeastOnce, no_local, false, rh));
            assert_encode_err(&packet(properties, subs.collect()), version, err);
        }
    }

    #[test]
    fn v311_drops_what_it_cannot_carry() {
        // No Local, Retain As Published, Retain Handling and properties are
        // MQTT 5.0 only; No Local on a shared filter is no error here.
        let p = packet(
            Properties {
                subscription_identifiers: vec![1, 2],
                ..Properties::default()
            },
            vec![sub(
                "$share/g/a",
                QoS::AtLeastOnce,
                true,
                true,
                RetainHandling::DoNotSend,
            )],
        );
        let mut out = Vec::new();
        p.encode(V311, &mut out).unwrap();
        #[rustfmt::skip]
        let expected = [
            0x82, 0x0F, 0x00, 0x0A,
            0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'a', 0x01,
        ];
        assert_eq!(out, expected);
        assert_eq!(p.encoded_len(V311), expected.len());
    }
}
