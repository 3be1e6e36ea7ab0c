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
