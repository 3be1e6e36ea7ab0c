//! UNSUBACK (section 3.11): one reason code per filter (MQTT 5.0); only
//! the Packet Identifier in MQTT 3.1.1.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::Reader;

/// An UNSUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet Identifier of the UNSUBSCRIBE acknowledged.
    pub packet_id: PacketId,
    /// UNSUBACK properties (MQTT 5.0 only).
    pub properties: Properties,
    /// One reason code per Topic Filter, in order [MQTT-3.11.3-1]; empty
    /// in MQTT 3.1.1, which has none.
    pub reason_codes: Vec<ReasonCode>,
}

impl UnsubAck {
    /// Decodes an UNSUBACK body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::UnsubAck;
        let mut r = Reader::new(body);
        let packet_id = PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?;
        let mut properties = Properties::default();
        let mut reason_codes = Vec::new();
        if version == ProtocolVersion::V5 {
            properties = Properties::decode(&mut r, Scope::Packet(packet))?;
            reason_codes.reserve(r.remaining());
            while !r.is_empty() {
                let code = r.u8()?;
                let reason = ReasonCode::from_u8(code)
                    .filter(|c| c.is_valid_for(packet))
                    .ok_or(DecodeError::InvalidReasonCode { code, packet })?;
                reason_codes.push(reason);
            }
            if reason_codes.is_empty() {
                return Err(DecodeError::NoReasonCodes(packet));
            }
        }
        r.finish()?;
        Ok(Self {
            packet_id,
            properties,
            reason_codes,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        match version {
            ProtocolVersion::V311 => 2,
            _ => 2 + self.properties.encoded_len() + self.reason_codes.len(),
        }
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::UnsubAck;
        let v5 = version == ProtocolVersion::V5;
        if v5 && self.reason_codes.is_empty() {
            return Err(EncodeError::NoReasonCodes(packet));
        }
        if let Some(&code) = self.reason_codes.iter().find(|c| !c.is_valid_for(packet)) {
            return Err(EncodeError::InvalidReasonCode { code, packet });
        }
        encode_packet(out, (packet as u8) << 4, self.body_len(version), |out| {
            out.extend_from_slice(&self.packet_id.get().to_be_bytes());
            if v5 {
                self.properties.encode(Scope::Packet(packet), out)?;
                out.extend(self.reason_codes.iter().map(|&c| c as u8));
            }
            Ok(())
        })
    }
}
