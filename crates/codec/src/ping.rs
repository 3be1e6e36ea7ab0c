//! PINGREQ and PINGRESP (sections 3.12 and 3.13): keep-alive probes with no body.

use alloc::vec::Vec;

use crate::error::EncodeError;
use crate::packet::PacketType;

/// Appends a two-byte PINGREQ or PINGRESP.
pub(crate) fn encode(packet: PacketType, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.extend_from_slice(&[(packet as u8) << 4, 0]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::tests::{assert_decode_err, assert_only_flags, assert_vector, V311, V5};
    use crate::{DecodeError, Packet};
    use alloc::vec;

    #[test]
    fn spec_vectors() {
        for version in [V5, V311] {
            // Sections 3.12 and 3.13: first byte 0xC0 or 0xD0, Remaining Length 0.
            assert_vector(&Packet::PingReq, version, &[0xC0, 0x00]);
            assert_vector(&Packet::PingResp, version, &[0xD0, 0x00]);
            assert_only_flags(&[0xC0, 0x00], version);
            assert_only_flags(&[0xD0, 0x00], version);
            // No variable header or payload: a Remaining Length of 1 is malformed.
            assert_decode_err(
                &[0xC0, 0x01, 0x00],
                version,
                DecodeError::TrailingBytes,
                0x81,
            );
            assert_decode_err(
                &[0xD0, 0x01, 0x00],
                version,
                DecodeError::TrailingBytes,
                0x81,
            );
        }
    }

    #[test]
    fn encode_appends() {
        let mut out = vec![0xAA];
        encode(PacketType::PingReq, &mut out).unwrap();
        encode(PacketType::PingResp, &mut out).unwrap();
        assert_eq!(out, [0xAA, 0xC0, 0x00, 0xD0, 0x00]);
    }
}
