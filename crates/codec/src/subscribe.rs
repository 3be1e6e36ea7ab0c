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
        let invalid = DecodeError::InvalidSubscriptionOptions(byte);
        if byte & reserved != 0 {
            return Err(invalid);
        }
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
