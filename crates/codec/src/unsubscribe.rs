//! UNSUBSCRIBE (section 3.10): topic filters to remove.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::topic::TopicFilter;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::{self, Reader};

/// An UNSUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// UNSUBSCRIBE properties (MQTT 5.0 only).
    pub properties: Properties,
    /// Topic Filters, at least one [MQTT-3.10.3-2]; kept as received so a
    /// server can answer an invalid one with 0x8F in UNSUBACK.
    pub filters: Vec<String>,
}

impl Unsubscribe {
    /// Decodes an UNSUBSCRIBE body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::Unsubscribe;
        let mut r = Reader::new(body);
        let packet_id = PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(&mut r, Scope::Packet(packet))?
        } else {
            Properties::default()
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(r.string()?);
        }
        if filters.is_empty() {
            return Err(DecodeError::NoTopicFilters(packet));
        }
        Ok(Self {
            packet_id,
            properties,
            filters,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let props = match version {
            ProtocolVersion::V5 => self.properties.encoded_len(),
            _ => 0,
        };
        let filters: usize = self
            .filters
            .iter()
            .map(|f| wire::prefixed_len(f.len()))
            .sum();
        2 + props + filters
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::Unsubscribe;
        if self.filters.is_empty() {
            return Err(EncodeError::NoTopicFilters(packet));
        }
        for f in &self.filters {
            TopicFilter::validate(f).map_err(EncodeError::Topic)?;
        }
        let first = (packet as u8) << 4 | packet.required_flags();
        encode_packet(out, first, self.body_len(version), |out| {
            wire::put_u16(out, self.packet_id.get());
            if version == ProtocolVersion::V5 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            for f in &self.filters {
                wire::put_str(out, f)?;
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

    fn packet(properties: Properties, filters: &[&str]) -> Packet {
        Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(3),
            properties,
            filters: filters.iter().map(|&f| f.into()).collect(),
        })
    }

    #[test]
    fn spec_vectors() {
        let user = Properties {
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        #[rustfmt::skip]
        let v5: &[u8] = &[
            0xA2, 0x20, // UNSUBSCRIBE [MQTT-3.10.1-1], Remaining Length 32
            0x00, 0x03, // Packet Identifier 3
            0x07, // Property Length 7
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x00, 0x03, b'a', b'/', b'b',
            0x00, 0x03, b'c', b'/', b'#',
            0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'e',
        ];
        #[rustfmt::skip]
        let v311: &[u8] = &[
            0xA2, 0x0A, // UNSUBSCRIBE, Remaining Length 10
            0x00, 0x03, // Packet Identifier 3
            0x00, 0x03, b'a', b'/', b'b',
            0x00, 0x01, b'#',
        ];
        let cases = [
            (packet(user, &["a/b", "c/#", "$share/g/e"]), V5, v5),
            (packet(Properties::default(), &["a/b", "#"]), V311, v311),
        ];
        for (p, version, bytes) in cases {
            assert_vector(&p, version, bytes);
            assert_only_flags(bytes, version);
        }
    }

    #[test]
    fn malformed_and_protocol_errors() {
        use DecodeError as E;
        let not_allowed = |property| E::PropertyNotAllowed {
            property,
            packet: PacketType::Unsubscribe,
        };
        let no_filter = E::NoTopicFilters(PacketType::Unsubscribe);
        #[rustfmt::skip]
        let cases: [(&[u8], _, _, u8); 9] = [
            // [MQTT-2.2.1-3]
            (&[0xA2, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, b'a'], V5, E::ZeroPacketId, 0x82),
            (&[0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, b'a'], V311, E::ZeroPacketId, 0x82),
            // [MQTT-3.10.3-2]: at least one Topic Filter.
            (&[0xA2, 0x03, 0x00, 0x03, 0x00], V5, no_filter, 0x82),
            (&[0xA2, 0x02, 0x00, 0x03], V311, no_filter, 0x82),
            // Section 2.2.2.2: only User Property is an UNSUBSCRIBE property.
            (
                &[0xA2, 0x08, 0x00, 0x03, 0x02, 0x0B, 0x01, 0x00, 0x01, b'a'],
                V5,
                not_allowed(PropertyId::SubscriptionIdentifier),
                0x81,
            ),
            (
                &[0xA2, 0x0A, 0x00, 0x03, 0x04, 0x1F, 0x00, 0x01, b'r', 0x00, 0x01, b'a'],
                V5,
                not_allowed(PropertyId::ReasonString),
                0x81,
            ),
            // A filter running past the end; a filter that is not UTF-8 [MQTT-3.10.3-1].
            (&[0xA2, 0x05, 0x00, 0x03, 0x00, 0x00, 0x05], V5, E::UnexpectedEnd, 0x81),
            (&[0xA2, 0x05, 0x00, 0x03, 0x00, 0x01, 0xFF], V311, E::InvalidUtf8, 0x81),
            (&[0xA2, 0x06, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00], V5, E::NullCharacter, 0x81),
        ];
        for (bytes, version, err, code) in cases {
            assert_decode_err(bytes, version, err, code);
        }
    }

    #[test]
    fn invalid_filters_decode_but_do_not_encode() {
        // Kept as received so that a server can answer 0x8F per filter.
        let bytes = [0x00, 0x03, 0x00, 0x00, 0x05, b'a', b'/', b'#', b'/', b'b'];
        let decoded = Unsubscribe::decode(Bytes::copy_from_slice(&bytes), V5).unwrap();
        assert_eq!(decoded.filters, ["a/#/b"]);
        let err = EncodeError::Topic(TopicError::MisplacedMultiLevelWildcard);
        assert_encode_err(&Packet::Unsubscribe(decoded), V5, err);
    }

    #[test]
    fn encode_errors_leave_the_output_unchanged() {
        use EncodeError as E;
        let none = Properties::default;
        let reason = Properties {
            reason_string: Some("r".into()),
            ..Properties::default()
        };
        let not_allowed = E::PropertyNotAllowed {
            property: PropertyId::ReasonString,
            packet: PacketType::Unsubscribe,
        };
        let no_filter = E::NoTopicFilters(PacketType::Unsubscribe);
        let cases: [(_, &[&str], _, _); 5] = [
            (none(), &[], V5, no_filter.clone()),
            (none(), &[], V311, no_filter),
            (none(), &["a", ""], V311, E::Topic(TopicError::Empty)),
            (
                none(),
                &["$share/g"],
                V5,
                E::Topic(TopicError::EmptySharedFilter),
            ),
            (reason, &["a"], V5, not_allowed),
        ];
        for (properties, filters, version, err) in cases {
            assert_encode_err(&packet(properties, filters), version, err);
        }
    }
}
