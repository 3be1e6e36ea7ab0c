//! SUBACK (section 3.9): one reason code per requested subscription.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::{self, Reader};

/// The single failure return code of MQTT 3.1.1.
const V311_FAILURE: u8 = 0x80;

/// A SUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet Identifier of the SUBSCRIBE acknowledged.
    pub packet_id: PacketId,
    /// SUBACK properties (MQTT 5.0 only).
    pub properties: Properties,
    /// One reason code per Topic Filter, in order [MQTT-3.9.3-1]. In MQTT
    /// 3.1.1 every failure is 0x80 and decodes as [`ReasonCode::UnspecifiedError`].
    pub reason_codes: Vec<ReasonCode>,
}

impl SubAck {
    /// Decodes a SUBACK body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::SubAck;
        let mut r = Reader::new(body);
        let packet_id = PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(&mut r, Scope::Packet(packet))?
        } else {
            Properties::default()
        };
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let code = r.u8()?;
            let reason = match version {
                ProtocolVersion::V311 => match code {
                    0..=2 => ReasonCode::from_u8(code),
                    V311_FAILURE => Some(ReasonCode::UnspecifiedError),
                    _ => None,
                },
                _ => ReasonCode::from_u8(code).filter(|c| c.is_valid_for(packet)),
            };
            reason_codes.push(reason.ok_or(DecodeError::InvalidReasonCode { code, packet })?);
        }
        if reason_codes.is_empty() {
            return Err(DecodeError::NoReasonCodes(packet));
        }
        Ok(Self {
            packet_id,
            properties,
            reason_codes,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let props = match version {
            ProtocolVersion::V5 => self.properties.encoded_len(),
            _ => 0,
        };
        2 + props + self.reason_codes.len()
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged. In MQTT 3.1.1 every
    /// failure code is sent as 0x80.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::SubAck;
        if self.reason_codes.is_empty() {
            return Err(EncodeError::NoReasonCodes(packet));
        }
        if let Some(&code) = self.reason_codes.iter().find(|c| !c.is_valid_for(packet)) {
            return Err(EncodeError::InvalidReasonCode { code, packet });
        }
        encode_packet(out, (packet as u8) << 4, self.body_len(version), |out| {
            wire::put_u16(out, self.packet_id.get());
            let v5 = version == ProtocolVersion::V5;
            if v5 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            out.extend(self.reason_codes.iter().map(|&c| match c {
                c if !v5 && c.is_error() => V311_FAILURE,
                c => c as u8,
            }));
            Ok(())
        })
    }
}
