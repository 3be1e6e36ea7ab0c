//! CONNECT (section 3.1): the first packet a client sends.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
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
