//! The layout PUBACK, PUBREC, PUBREL and PUBCOMP share (sections 3.4 to 3.7):
//! a Packet Identifier, then in MQTT 5.0 an optional Reason Code and properties.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::{self, Reader};

pub(crate) fn decode(
    packet: PacketType,
    body: Bytes,
    version: ProtocolVersion,
) -> Result<(PacketId, ReasonCode, Properties), DecodeError> {
    let mut r = Reader::new(body);
    let packet_id = PacketId::new(r.u16()?).ok_or(DecodeError::ZeroPacketId)?;
    let mut reason_code = ReasonCode::Success;
    let mut properties = Properties::default();
    // A Remaining Length of 2 means Success with no properties (e.g. 3.4.2.1).
    if version == ProtocolVersion::V5 && !r.is_empty() {
        let code = r.u8()?;
        reason_code = ReasonCode::from_u8(code)
            .filter(|c| c.is_valid_for(packet))
            .ok_or(DecodeError::InvalidReasonCode { code, packet })?;
        // A Remaining Length of 3 means no Property Length either (e.g. 3.4.2.2.1).
        if !r.is_empty() {
            properties = Properties::decode(&mut r, Scope::Packet(packet))?;
        }
    }
    r.finish()?;
    Ok((packet_id, reason_code, properties))
}

pub(crate) fn body_len(
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
) -> usize {
    if version == ProtocolVersion::V311 {
        2
    } else if !properties.is_empty() {
        3 + properties.encoded_len()
    } else if reason_code != ReasonCode::Success {
        3
    } else {
        2
    }
}

pub(crate) fn encode(
    packet: PacketType,
    packet_id: PacketId,
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    if !reason_code.is_valid_for(packet) {
        return Err(EncodeError::InvalidReasonCode {
            code: reason_code,
            packet,
        });
    }
    // MQTT 3.1.1 acknowledgements cannot report a failure.
    if version == ProtocolVersion::V311 && reason_code.is_error() {
        return Err(EncodeError::NotInVersion(reason_code));
    }
    let len = body_len(reason_code, properties, version);
    let first = (packet as u8) << 4 | packet.required_flags();
    encode_packet(out, first, len, |out| {
        wire::put_u16(out, packet_id.get());
        if len > 2 {
            out.push(reason_code as u8);
        }
        if len > 3 {
            properties.encode(Scope::Packet(packet), out)?;
        }
        Ok(())
    })
}

/// Defines one of the four acknowledgement packets over the shared layout.
macro_rules! ack_packet {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// Packet Identifier of the PUBLISH (or PUBREC) acknowledged.
            pub packet_id: $crate::types::PacketId,
            /// Reason Code; always Success in MQTT 3.1.1.
            pub reason_code: $crate::reason_code::ReasonCode,
            /// Properties (MQTT 5.0 only).
            pub properties: $crate::property::Properties,
        }

        impl $name {
            /// A successful acknowledgement without properties.
            #[must_use]
            pub fn new(packet_id: $crate::types::PacketId) -> Self {
                Self {
                    packet_id,
                    reason_code: $crate::reason_code::ReasonCode::Success,
                    properties: $crate::property::Properties::default(),
                }
            }

            /// Decodes the packet body.
            pub fn decode(
                body: bytes::Bytes,
                version: $crate::types::ProtocolVersion,
            ) -> Result<Self, $crate::error::DecodeError> {
                let (packet_id, reason_code, properties) =
                    $crate::ack::decode($crate::packet::PacketType::$name, body, version)?;
                Ok(Self { packet_id, reason_code, properties })
            }

            /// Total encoded size, fixed header included.
            #[must_use]
            pub fn encoded_len(&self, version: $crate::types::ProtocolVersion) -> usize {
                $crate::packet::total_len($crate::ack::body_len(
                    self.reason_code,
                    &self.properties,
                    version,
                ))
            }

            /// Appends the packet; on error `out` is unchanged.
            pub fn encode(
                &self,
                version: $crate::types::ProtocolVersion,
                out: &mut alloc::vec::Vec<u8>,
            ) -> Result<(), $crate::error::EncodeError> {
                $crate::ack::encode(
                    $crate::packet::PacketType::$name,
                    self.packet_id,
                    self.reason_code,
                    &self.properties,
                    version,
                    out,
                )
            }
        }
    };
}
pub(crate) use ack_packet;
