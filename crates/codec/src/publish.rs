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
