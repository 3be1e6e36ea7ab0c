//! MQTT data representations (section 1.5): integers, Variable Byte
//! Integers, UTF-8 strings, binary data and string pairs.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};

/// Largest value a Variable Byte Integer can carry.
pub(crate) const VARINT_MAX: u32 = 268_435_455;

/// Reads fields from one packet body; slices of it share the body's memory.
pub(crate) struct Reader {
    buf: Bytes,
    pos: usize,
}

impl Reader {
    pub(crate) fn new(buf: Bytes) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::UnexpectedEnd)?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError::UnexpectedEnd)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = self
            .buf
            .get(self.pos)
            .copied()
            .ok_or(DecodeError::UnexpectedEnd)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `N` bytes as an array.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?
            .try_into()
            .map_err(|_| DecodeError::UnexpectedEnd)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match decode_varint(rest)? {
            Some((value, len)) => {
                self.pos += len;
                Ok(value)
            }
            None => Err(DecodeError::UnexpectedEnd),
        }
    }

    /// A Two Byte Integer length followed by that many bytes.
    fn prefixed(&mut self) -> Result<&[u8], DecodeError> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    /// A UTF-8 Encoded String [MQTT-1.5.4-1] [MQTT-1.5.4-2]; a BOM is kept [MQTT-1.5.4-3].
    /// Invalid UTF-8 is reported before U+0000.
    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        decode_utf8(self.prefixed()?)
    }

    /// Binary Data: shares memory with the packet body.
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.u16()?);
        self.bytes(len)
    }

    /// `n` raw bytes, sharing memory with the packet body.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::UnexpectedEnd)?;
        if end > self.buf.len() {
            return Err(DecodeError::UnexpectedEnd);
        }
        let out = self.buf.slice(self.pos..end);
        self.pos = end;
        Ok(out)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> Bytes {
        let out = self.buf.slice(self.pos.min(self.buf.len())..);
        self.pos = self.buf.len();
        out
    }

    /// A reader over a Variable Byte Integer length and the bytes it
    /// covers, which this reader skips, positioned after the length: its
    /// [`Self::into_bytes`] are the whole field, length first.
    pub(crate) fn varint_prefixed(&mut self) -> Result<Reader, DecodeError> {
        let start = self.pos;
        let n = self.varint()? as usize;
        let header = self.pos - start;
        self.pos = start;
        Ok(Reader {
            buf: self.bytes(header + n)?,
            pos: header,
        })
    }

    /// All the bytes this reader reads, sharing memory with the packet body.
    pub(crate) fn into_bytes(self) -> Bytes {
        self.buf
    }
}

/// Checks UTF-8 with `core::str::from_utf8`, then refuses U+0000.
#[cfg(not(target_arch = "wasm32"))]
fn decode_utf8(raw: &[u8]) -> Result<String, DecodeError> {
    let s = core::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8)?;
    if s.contains('\0') {
        return Err(DecodeError::NullCharacter);
    }
    Ok(String::from(s))
}

/// The same checks as `core::str::from_utf8` by a small loop, on wasm32
/// only, where `from_utf8` is several times the code (docs/size.md): no
/// stray or truncated continuation bytes, no overlong forms, no surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF. Tested against `from_utf8`.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn decode_utf8_small(raw: &[u8]) -> Result<String, DecodeError> {
    let mut s = String::with_capacity(raw.len());
    let mut nul = false;
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        // Continuation bytes after the lead, and the least code point
        // that needs that many (anything less is overlong).
        let (extra, min) = match b {
            0x00..=0x7F => (0, 0),
            0xC0..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF7 => (3, 0x1_0000),
            _ => return Err(DecodeError::InvalidUtf8),
        };
        // The bit below the lead's payload is 0, so this mask suffices.
        let mut cp = u32::from(b & (0x7F >> extra));
        for _ in 0..extra {
            match raw.get(i) {
                Some(&c) if c & 0xC0 == 0x80 => cp = cp << 6 | u32::from(c & 0x3F),
                _ => return Err(DecodeError::InvalidUtf8),
            }
            i += 1;
        }
        let c = char::from_u32(cp)
            .filter(|_| cp >= min)
            .ok_or(DecodeError::InvalidUtf8)?;
        nul |= c == '\0';
        s.push(c);
    }
    if nul {
        return Err(DecodeError::NullCharacter);
    }
    Ok(s)
}

#[cfg(target_arch = "wasm32")]
use decode_utf8_small as decode_utf8;

/// The checks of a UTF-8 Encoded String [MQTT-1.5.4-1] [MQTT-1.5.4-2] on
/// bytes that come from elsewhere than a packet (options handed over as bytes).
pub fn decode_string(raw: &[u8]) -> Result<String, DecodeError> {
    decode_utf8(raw)
}

/// Decodes a Variable Byte Integer from the start of `buf`.
///
/// `Ok(None)` means more bytes are needed; the value and its length otherwise.
pub(crate) fn decode_varint(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value: u32 = 0;
    for (i, &byte) in buf.iter().enumerate().take(4) {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A zero final byte after the first means a shorter form existed.
            if i > 0 && byte == 0 {
                return Err(DecodeError::VarIntNotMinimal);
            }
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 4 {
        Err(DecodeError::VarIntTooLong)
    } else {
        Ok(None)
    }
}

/// Bytes a Variable Byte Integer takes for `value`.
pub(crate) const fn varint_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, value: usize) -> Result<(), EncodeError> {
    if value > VARINT_MAX as usize {
        return Err(EncodeError::PacketTooLarge);
    }
    let mut v = value;
    loop {
        // Truncation is intended: the low seven bits.
        let mut byte = (v & 0x7F) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if v == 0 {
            return Ok(());
        }
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Length prefix and bytes of a Binary Data field.
pub(crate) fn put_binary(out: &mut Vec<u8>, data: &[u8]) -> Result<(), EncodeError> {
    let len = u16::try_from(data.len()).map_err(|_| EncodeError::FieldTooLong)?;
    put_u16(out, len);
    out.extend_from_slice(data);
    Ok(())
}

/// A UTF-8 Encoded String; refuses U+0000 [MQTT-1.5.4-2].
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), EncodeError> {
    // A byte search: the `char` pattern costs more code.
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::NullCharacter);
    }
    put_binary(out, s.as_bytes())
}

/// Encoded size of a string or binary field with its length prefix.
pub(crate) const fn prefixed_len(len: usize) -> usize {
    2 + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn reader(bytes: &[u8]) -> Reader {
        Reader::new(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn varint_boundaries_round_trip() {
        // Table 1-1 of section 1.5.5.
        for (value, len) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (2_097_151, 3),
            (2_097_152, 4),
            (268_435_455, 4),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value).unwrap();
            assert_eq!(out.len(), len);
            assert_eq!(varint_len(value), len);
            assert_eq!(decode_varint(&out), Ok(Some((value as u32, len))));
        }
        assert_eq!(
            put_varint(&mut Vec::new(), 268_435_456),
            Err(EncodeError::PacketTooLarge)
        );
    }

    #[test]
    fn varint_rejects_fifth_byte_and_non_minimal_forms() {
        // [MQTT-1.5.5-1]: at most four bytes, minimum number of bytes.
        assert_eq!(
            decode_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            decode_varint(&[0x80, 0x80, 0x80, 0x80]),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            decode_varint(&[0x80, 0x00]),
            Err(DecodeError::VarIntNotMinimal)
        );
        assert_eq!(
            decode_varint(&[0xFF, 0x80, 0x00]),
            Err(DecodeError::VarIntNotMinimal)
        );
        assert_eq!(decode_varint(&[0x80, 0x80]), Ok(None));
        assert_eq!(decode_varint(&[]), Ok(None));
    }

    #[test]
    fn strings_follow_mqtt_1_5_4() {
        // [MQTT-1.5.4-1]: ill-formed UTF-8 and encoded surrogates are refused.
        assert_eq!(
            reader(&[0, 2, 0xC3, 0x28]).string(),
            Err(DecodeError::InvalidUtf8)
        );
        assert_eq!(
            reader(&[0, 3, 0xED, 0xA0, 0x80]).string(),
            Err(DecodeError::InvalidUtf8)
        );
        // [MQTT-1.5.4-2]: no U+0000.
        assert_eq!(
            reader(&[0, 3, b'a', 0, b'b']).string(),
            Err(DecodeError::NullCharacter)
        );
        // [MQTT-1.5.4-3]: a leading BOM is kept, not stripped.
        assert_eq!(
            reader(&[0, 4, 0xEF, 0xBB, 0xBF, b'a']).string().unwrap(),
            "\u{FEFF}a"
        );
        // Section 1.5.4 example: "A𪛔" is 41 F0 AA 9B 94.
        assert_eq!(
            reader(&[0, 5, 0x41, 0xF0, 0xAA, 0x9B, 0x94])
                .string()
                .unwrap(),
            "A\u{2A6D4}"
        );
        assert_eq!(
            reader(&[0, 3, b'a']).string(),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(
            put_str(&mut Vec::new(), "a\0"),
            Err(EncodeError::NullCharacter)
        );
        let long = vec![b'a'; 65_536];
        assert_eq!(
            put_binary(&mut Vec::new(), &long),
            Err(EncodeError::FieldTooLong)
        );
        let mut out = Vec::new();
        put_binary(&mut out, &long[..65_535]).unwrap();
        assert_eq!(&out[..2], &[0xFF, 0xFF]);
    }

    #[test]
    fn strings_decode_exactly_as_core_str_from_utf8() {
        // Both decoders: the one this target uses (through the reader),
        // and the small loop wasm32 uses.
        let check = |bytes: &[u8]| {
            let mut framed = vec![0, bytes.len() as u8];
            framed.extend_from_slice(bytes);
            let expected = match core::str::from_utf8(bytes) {
                Err(_) => Err(DecodeError::InvalidUtf8),
                Ok(s) if s.contains('\0') => Err(DecodeError::NullCharacter),
                Ok(s) => Ok(String::from(s)),
            };
            assert_eq!(reader(&framed).string(), expected, "{bytes:02X?}");
            assert_eq!(decode_utf8_small(bytes), expected, "{bytes:02X?}");
        };
        let edges = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF,
        ];
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                check(&[a, b]);
                for c in edges {
                    check(&[a, b, c]);
                    check(&[a, b, c, 0x80]);
                    check(&[a, b, c, 0xBF, 0x41]);
                }
            }
        }
    }

    #[test]
    fn reader_never_reads_past_the_end() {
        let mut r = reader(&[1, 2, 3]);
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.u16(), Err(DecodeError::UnexpectedEnd));
        assert_eq!(r.u32(), Err(DecodeError::UnexpectedEnd));
        assert_eq!(r.bytes(2), Err(DecodeError::UnexpectedEnd));
        assert_eq!(r.u8(), Ok(3));
        assert_eq!(r.finish(), Ok(()));
        assert_eq!(r.varint(), Err(DecodeError::UnexpectedEnd));
    }
}
