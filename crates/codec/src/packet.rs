//! The control packet enum, its fixed header and dispatch to each packet's codec.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::{self, Reader};
use crate::{
    Auth, ConnAck, Connect, Disconnect, PubAck, PubComp, PubRec, PubRel, Publish, SubAck,
    Subscribe, UnsubAck, Unsubscribe,
};

/// MQTT Control Packet type: the high nibble of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum PacketType {
    /// CONNECT, client to server.
    Connect = 1,
    /// CONNACK, server to client.
    ConnAck = 2,
    /// PUBLISH, both ways.
    Publish = 3,
    /// PUBACK, both ways.
    PubAck = 4,
    /// PUBREC, both ways.
    PubRec = 5,
    /// PUBREL, both ways.
    PubRel = 6,
    /// PUBCOMP, both ways.
    PubComp = 7,
    /// SUBSCRIBE, client to server.
    Subscribe = 8,
    /// SUBACK, server to client.
    SubAck = 9,
    /// UNSUBSCRIBE, client to server.
    Unsubscribe = 10,
    /// UNSUBACK, server to client.
    UnsubAck = 11,
    /// PINGREQ, client to server.
    PingReq = 12,
    /// PINGRESP, server to client.
    PingResp = 13,
    /// DISCONNECT, both ways (client to server only in MQTT 3.1.1).
    Disconnect = 14,
    /// AUTH, both ways, MQTT 5.0 only.
    Auth = 15,
}

impl PacketType {
    /// The packet type for a high nibble in `version`.
    #[must_use]
    pub const fn from_nibble(nibble: u8, version: ProtocolVersion) -> Option<Self> {
        Some(match nibble {
            1 => Self::Connect,
            2 => Self::ConnAck,
            3 => Self::Publish,
            4 => Self::PubAck,
            5 => Self::PubRec,
            6 => Self::PubRel,
            7 => Self::PubComp,
            8 => Self::Subscribe,
            9 => Self::SubAck,
            10 => Self::Unsubscribe,
            11 => Self::UnsubAck,
            12 => Self::PingReq,
            13 => Self::PingResp,
            14 => Self::Disconnect,
            15 if matches!(version, ProtocolVersion::V5) => Self::Auth,
            _ => return None,
        })
    }

    /// The fixed header flags every packet but PUBLISH must carry [MQTT-2.1.3-1].
    pub(crate) const fn required_flags(self) -> u8 {
        match self {
            Self::PubRel | Self::Subscribe | Self::Unsubscribe => 0b0010,
            _ => 0,
        }
    }
}

/// One MQTT control packet.
// Boxing the larger variants would cost an allocation per packet; packets
// are built once and moved rarely.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(PubAck),
    /// PUBREC.
    PubRec(PubRec),
    /// PUBREL.
    PubRel(PubRel),
    /// PUBCOMP.
    PubComp(PubComp),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    SubAck(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    UnsubAck(UnsubAck),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect(Disconnect),
    /// AUTH.
    Auth(Auth),
}

impl Packet {
    /// This packet's type.
    #[must_use]
    pub const fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(_) => PacketType::Publish,
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq => PacketType::PingReq,
            Self::PingResp => PacketType::PingResp,
            Self::Disconnect(_) => PacketType::Disconnect,
            Self::Auth(_) => PacketType::Auth,
        }
    }

    /// Decodes a packet from its first byte and its body (the Remaining Length bytes).
    ///
    /// CONNECT carries its own protocol level; every other packet is read as `version`.
    pub fn decode(
        first_byte: u8,
        body: Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        Self::decode_any::<true>(first_byte, body, version)
    }

    /// Decodes a packet a server sent, for a client: like [`Packet::decode`],
    /// but CONNECT, SUBSCRIBE, UNSUBSCRIBE and PINGREQ, which only clients
    /// send, are refused as [`DecodeError::UnexpectedPacketType`] without
    /// reading their body, so a client carries none of their decoders.
    pub fn decode_from_server(
        first_byte: u8,
        body: Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        Self::decode_any::<false>(first_byte, body, version)
    }

    fn decode_any<const FROM_CLIENTS: bool>(
        first_byte: u8,
        body: Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let nibble = first_byte >> 4;
        let flags = first_byte & 0x0F;
        let packet = PacketType::from_nibble(nibble, version)
            .ok_or(DecodeError::InvalidPacketType(nibble))?;
        if packet != PacketType::Publish && flags != packet.required_flags() {
            return Err(DecodeError::InvalidFlags { packet, flags });
        }
        Ok(match packet {
            PacketType::Connect
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::PingReq
                if !FROM_CLIENTS =>
            {
                return Err(DecodeError::UnexpectedPacketType(packet))
            }
            PacketType::Connect => Self::Connect(Connect::decode(body)?),
            // One decoder and one match for the six that share a layout.
            PacketType::PubAck
            | PacketType::PubRec
            | PacketType::PubRel
            | PacketType::PubComp
            | PacketType::Disconnect
            | PacketType::Auth => {
                let (id, reason_code, properties) = crate::ack::decode_tail(packet, body, version)?;
                match (packet, PacketId::new(id)) {
                    (PacketType::Disconnect, _) => Self::Disconnect(Disconnect {
                        reason_code,
                        properties,
                    }),
                    (PacketType::Auth, _) => Self::Auth(Auth {
                        reason_code,
                        properties,
                    }),
                    (PacketType::PubAck, Some(packet_id)) => Self::PubAck(PubAck {
                        packet_id,
                        reason_code,
                        properties,
                    }),
                    (PacketType::PubRec, Some(packet_id)) => Self::PubRec(PubRec {
                        packet_id,
                        reason_code,
                        properties,
                    }),
                    (PacketType::PubRel, Some(packet_id)) => Self::PubRel(PubRel {
                        packet_id,
                        reason_code,
                        properties,
                    }),
                    (_, Some(packet_id)) => Self::PubComp(PubComp {
                        packet_id,
                        reason_code,
                        properties,
                    }),
                    // `decode_tail` refused a zero Packet Identifier already.
                    (_, None) => return Err(DecodeError::ZeroPacketId),
                }
            }
            PacketType::ConnAck => Self::ConnAck(ConnAck::decode(body, version)?),
            PacketType::Publish => Self::Publish(Publish::decode(flags, body, version)?),
            PacketType::Subscribe => Self::Subscribe(Subscribe::decode(body, version)?),
            PacketType::Unsubscribe => Self::Unsubscribe(Unsubscribe::decode(body, version)?),
            PacketType::SubAck | PacketType::UnsubAck => {
                let (packet_id, properties, reason_codes) =
                    crate::suback::decode_acks(packet, body, version)?;
                if packet == PacketType::SubAck {
                    Self::SubAck(SubAck {
                        packet_id,
                        properties,
                        reason_codes,
                    })
                } else {
                    Self::UnsubAck(UnsubAck {
                        packet_id,
                        properties,
                        reason_codes,
                    })
                }
            }
            PacketType::PingReq => {
                Reader::new(body).finish()?;
                Self::PingReq
            }
            PacketType::PingResp => {
                Reader::new(body).finish()?;
                Self::PingResp
            }
        })
    }

    /// Appends a PINGREQ: what [`Packet::encode`] writes for
    /// [`Packet::PingReq`], without every other packet's encoder.
    pub fn encode_ping_request(out: &mut Vec<u8>) {
        // Two bytes cannot fail to encode.
        let _ = crate::ping::encode(PacketType::PingReq, out);
    }

    /// Appends the whole packet to `out`; on error `out` is unchanged.
    ///
    /// CONNECT is encoded in its own `protocol_version`.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Connect(p) => p.encode(out),
            Self::ConnAck(p) => p.encode(version, out),
            Self::Publish(p) => p.encode(version, out),
            Self::PubAck(p) => p.encode(version, out),
            Self::PubRec(p) => p.encode(version, out),
            Self::PubRel(p) => p.encode(version, out),
            Self::PubComp(p) => p.encode(version, out),
            Self::Subscribe(p) => p.encode(version, out),
            Self::SubAck(p) => p.encode(version, out),
            Self::Unsubscribe(p) => p.encode(version, out),
            Self::UnsubAck(p) => p.encode(version, out),
            Self::PingReq => crate::ping::encode(PacketType::PingReq, out),
            Self::PingResp => crate::ping::encode(PacketType::PingResp, out),
            Self::Disconnect(p) => p.encode(version, out),
            Self::Auth(p) => p.encode(version, out),
        }
    }

    /// Total bytes [`Packet::encode`] writes, fixed header included: compare
    /// with the peer's Maximum Packet Size before sending.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        match self {
            Self::Connect(p) => p.encoded_len(),
            Self::ConnAck(p) => p.encoded_len(version),
            Self::Publish(p) => p.encoded_len(version),
            Self::PubAck(p) => p.encoded_len(version),
            Self::PubRec(p) => p.encoded_len(version),
            Self::PubRel(p) => p.encoded_len(version),
            Self::PubComp(p) => p.encoded_len(version),
            Self::Subscribe(p) => p.encoded_len(version),
            Self::SubAck(p) => p.encoded_len(version),
            Self::Unsubscribe(p) => p.encoded_len(version),
            Self::UnsubAck(p) => p.encoded_len(version),
            Self::PingReq | Self::PingResp => 2,
            Self::Disconnect(p) => p.encoded_len(version),
            Self::Auth(p) => p.encoded_len(version),
        }
    }
}

/// Total packet size for a body of `body_len` bytes.
pub(crate) const fn total_len(body_len: usize) -> usize {
    1 + wire::varint_len(body_len) + body_len
}

/// Writes a fixed header and the body `write` produces, all or nothing.
pub(crate) fn encode_packet(
    out: &mut Vec<u8>,
    first_byte: u8,
    body_len: usize,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    let result = put_header(out, first_byte, body_len).and_then(|()| write(out));
    if result.is_err() {
        out.truncate(start);
    }
    debug_assert!(result.is_err() || out.len() - start == total_len(body_len));
    result
}

/// The fixed header: out of line, as the part of `encode_packet` that does
/// not depend on the packet.
#[inline(never)]
fn put_header(out: &mut Vec<u8>, first_byte: u8, body_len: usize) -> Result<(), EncodeError> {
    out.reserve(total_len(body_len));
    out.push(first_byte);
    wire::put_varint(out, body_len)
}
