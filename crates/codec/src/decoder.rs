//! Streaming decode: packets out of a byte stream cut at arbitrary places.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::packet::Packet;
use crate::types::ProtocolVersion;
use crate::wire::decode_varint;

/// Takes the first whole packet off the front of `buf`.
///
/// `Ok(None)` means `buf` holds only part of a packet; nothing is consumed.
/// A packet whose size (fixed header included) exceeds `max_packet_size`
/// is refused as soon as its Remaining Length is known, before its body
/// arrives. On error the stream is unusable and the connection should be
/// closed with [`DecodeError::reason_code`].
pub fn decode_packet(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    decode_with(buf, version, max_packet_size, Packet::decode)
}

/// How one packet is read from its first byte and body.
type DecodeFn = fn(u8, Bytes, ProtocolVersion) -> Result<Packet, DecodeError>;

fn decode_with(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
    decode: DecodeFn,
) -> Result<Option<Packet>, DecodeError> {
    let Some(&first_byte) = buf.first() else {
        return Ok(None);
    };
    let Some((remaining, len_bytes)) = decode_varint(buf.get(1..).unwrap_or_default())? else {
        return Ok(None);
    };
    let body_len = remaining as usize;
    let size = 1 + len_bytes + body_len;
    if size > max_packet_size as usize {
        return Err(DecodeError::PacketTooLarge {
            size,
            max: max_packet_size,
        });
    }
    if buf.len() < size {
        return Ok(None);
    }
    buf.advance(1 + len_bytes);
    let body = buf.split_to(body_len).freeze();
    decode(first_byte, body, version).map(Some)
}

/// Buffers a byte stream and yields the packets in it.
///
/// Feed every chunk as it arrives with [`Decoder::feed`], then call
/// [`Decoder::next_packet`] until it returns `Ok(None)`. Between calls the
/// buffer holds at most one partial packet, which can never exceed the
/// maximum packet size, so memory stays bounded whatever the peer sends.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
    failed: Option<DecodeError>,
}

impl Decoder {
    /// A decoder for `version` that refuses packets larger than `max_packet_size` bytes.
    #[must_use]
    pub fn new(version: ProtocolVersion, max_packet_size: u32) -> Self {
        Self {
            buf: BytesMut::new(),
            version,
            max_packet_size,
            failed: None,
        }
    }

    /// The protocol version packets are read as.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Reads later packets as `version` (a server learns it from CONNECT).
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// Changes the largest packet accepted from now on.
    pub fn set_max_packet_size(&mut self, max_packet_size: u32) {
        self.max_packet_size = max_packet_size;
    }

    /// Bytes received but not yet decoded.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next whole packet, `Ok(None)` if more bytes are needed.
    ///
    /// After an error every later call returns the same error: the stream
    /// cannot be resynchronised.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        self.next_with(Packet::decode)
    }

    /// The next whole packet from a server, for a client: like
    /// [`Decoder::next_packet`] with [`Packet::decode_from_server`].
    pub fn next_packet_from_server(&mut self) -> Result<Option<Packet>, DecodeError> {
        self.next_with(Packet::decode_from_server)
    }

    fn next_with(&mut self, decode: DecodeFn) -> Result<Option<Packet>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(*e);
        }
        let result = decode_with(&mut self.buf, self.version, self.max_packet_size, decode);
        if let Err(e) = &result {
            self.failed = Some(*e);
            self.buf = BytesMut::new();
        }
        result
    }

    /// Clears buffered bytes and any error, for a new connection.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.failed = None;
    }
}
