//! CONNACK (section 3.2): the server's answer to CONNECT.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// MQTT 3.1.1 Connect Return Codes (section 3.2.2.3 of 3.1.1), in order.
const V311_RETURN_CODES: [ReasonCode; 6] = [
    ReasonCode::Success,
    ReasonCode::UnsupportedProtocolVersion,
    ReasonCode::ClientIdentifierNotValid,
    ReasonCode::ServerUnavailable,
    ReasonCode::BadUserNameOrPassword,
    ReasonCode::NotAuthorized,
];

/// A CONNACK packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnAck {
    /// Session Present: the server resumed a stored session.
    pub session_present: bool,
    /// Connect Reason Code; MQTT 3.1.1 return codes map to their 5.0 equivalents.
    pub reason_code: ReasonCode,
    /// CONNACK properties (MQTT 5.0 only).
    pub properties: Properties,
}

impl ConnAck {
    /// Decodes a CONNACK body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::ConnAck;
        let mut r = Reader::new(body);
        let flags = r.u8()?;
        // [MQTT-3.2.2-1]: bits 7-1 of the acknowledge flags are reserved.
        if flags & 0xFE != 0 {
            return Err(DecodeError::ReservedBitSet(packet));
        }
        let code = r.u8()?;
        let reason_code = match version {
            ProtocolVersion::V311 => V311_RETURN_CODES.get(usize::from(code)).copied(),
            _ => ReasonCode::from_u8(code).filter(|c| c.is_valid_for(packet)),
        }
        .ok_or(DecodeError::InvalidReasonCode { code, packet })?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(&mut r, Scope::Packet(packet))?
        } else {
            Properties::default()
        };
        r.finish()?;
        Ok(Self {
            session_present: flags & 1 != 0,
            reason_code,
            properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        match version {
            ProtocolVersion::V311 => 2,
            _ => 2 + self.properties.encoded_len(),
        }
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    ///
    /// In MQTT 3.1.1 only the reason codes that have a Connect Return Code
    /// can be sent; others are [`EncodeError::NotInVersion`].
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::ConnAck;
        if !self.reason_code.is_valid_for(packet) {
            return Err(EncodeError::InvalidReasonCode {
                code: self.reason_code,
                packet,
            });
        }
        let code = match version {
            ProtocolVersion::V311 => V311_RETURN_CODES
                .iter()
                .position(|&c| c == self.reason_code)
                .and_then(|i| u8::try_from(i).ok())
                .ok_or(EncodeError::NotInVersion(self.reason_code))?,
            _ => self.reason_code as u8,
        };
        encode_packet(out, (packet as u8) << 4, self.body_len(version), |out| {
            out.push(u8::from(self.session_present));
            out.push(code);
            if version == ProtocolVersion::V5 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            Ok(())
        })
    }
}
