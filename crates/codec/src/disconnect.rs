//! DISCONNECT (section 3.14): the last packet on a connection, either way.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, total_len, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// A DISCONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Disconnect Reason Code; only Normal disconnection exists in MQTT 3.1.1.
    pub reason_code: ReasonCode,
    /// DISCONNECT properties (MQTT 5.0 only).
    pub properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with `reason_code` and no properties.
    #[must_use]
    pub fn new(reason_code: ReasonCode) -> Self {
        Self {
            reason_code,
            properties: Properties::default(),
        }
    }

    /// Decodes a DISCONNECT body.
    pub fn decode(body: Bytes, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet = PacketType::Disconnect;
        let mut r = Reader::new(body);
        let mut this = Self::default();
        // Section 3.14.2.1: a Remaining Length of 0 means Normal disconnection,
        // and one of 1 means no Property Length.
        if version == ProtocolVersion::V5 && !r.is_empty() {
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

    fn body_len(&self, version: ProtocolVersion) -> usize {
        if version == ProtocolVersion::V311 {
            0
        } else if !self.properties.is_empty() {
            1 + self.properties.encoded_len()
        } else if self.reason_code != ReasonCode::Success {
            1
        } else {
            0
        }
    }

    /// Total encoded size, fixed header included.
    #[must_use]
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        total_len(self.body_len(version))
    }

    /// Appends the packet; on error `out` is unchanged.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let packet = PacketType::Disconnect;
        if !self.reason_code.is_valid_for(packet) {
            return Err(EncodeError::InvalidReasonCode {
                code: self.reason_code,
                packet,
            });
        }
        if version == ProtocolVersion::V311 && self.reason_code != ReasonCode::Success {
            return Err(EncodeError::NotInVersion(self.reason_code));
        }
        let len = self.body_len(version);
        encode_packet(out, (packet as u8) << 4, len, |out| {
            if len > 0 {
                out.push(self.reason_code as u8);
            }
            if len > 1 {
                self.properties.encode(Scope::Packet(packet), out)?;
            }
            Ok(())
        })
    }
}
