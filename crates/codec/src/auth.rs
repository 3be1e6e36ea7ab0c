//! AUTH (section 3.15): enhanced authentication exchanges, MQTT 5.0 only.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// An AUTH packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Auth {
    /// Success, Continue authentication or Re-authenticate.
    pub reason_code: ReasonCode,
    /// AUTH properties: Authentication Method and Data, Reason String, User Properties.
    pub properties: Properties,
}

impl Auth {
    /// Decodes an AUTH body.
    pub fn decode(body: Bytes) -> Result<Self, DecodeError> {
        let packet = PacketType::Auth;
        let mut r = Reader::new(body);
        let mut this = Self::default();
        // Section 3.15.2.1: a Remaining Length of 0 means Success without properties.
        if !r.is_empty() {
            let code = r.u8()?;
            this.reason_code = ReasonCode::from_u8(code)
                .filter(|c| c.is_valid_for(packet))
                .ok_or(DecodeError::InvalidReasonCode { code, packet })?;
            if !r.is_empty() {
                this.properties = Properties::decode(&mut r, Scope::Packet(packet))?;
            }
        }
        r.finish()?;
        Ok(this)
    }

    fn body_len(&self) -> usize {
        if self.reason_code == ReasonCode::Success && self.properties.is_empty() {
            0
        } else {
            1 + self.properties.encoded_len()
        }
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, _version: ProtocolVersion) -> usize {
        total_len(self.body_len())
    }

    /// Appends the packet; on error `out` is unchanged. MQTT 3.1.1 has no AUTH.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::Auth;
        if version == ProtocolVersion::V311 {
            return Err(EncodeError::PacketNotInVersion(packet));
        }
        if !self.reason_code.is_valid_for(packet) {
            return Err(EncodeError::InvalidReasonCode {
                code: self.reason_code,
                packet,
            });
        }
        let len = self.body_len();
        encode_packet(out, (packet as u8) << 4, len, |out| {
            if len > 0 {
                out.push(self.reason_code as u8);
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            Ok(())
        })
    }
}
