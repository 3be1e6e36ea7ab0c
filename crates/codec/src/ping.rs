//! PINGREQ and PINGRESP (sections 3.12 and 3.13): keep-alive probes with no body.

use alloc::vec::Vec;

use crate::error::EncodeError;
use crate::packet::PacketType;

/// Appends a two-byte PINGREQ or PINGRESP.
pub(crate) fn encode(packet: PacketType, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.extend_from_slice(&[(packet as u8) << 4, 0]);
    Ok(())
}
