//! Decode arbitrary bytes as an MQTT stream, then re-encode every packet.
//!
//! Input layout: the first byte picks the protocol version (even: 5.0,
//! odd: 3.1.1) and the chunk size the rest is fed in (bits 1..=7, plus one:
//! 1 to 128 bytes; 128 means all at once). Checked for every input:
//! - decoding never panics, whatever the bytes and however they are cut;
//! - chunked and all-at-once decoding yield the same packets and error;
//! - every decoded packet re-encodes, in exactly `encoded_len` bytes, and
//!   decodes back to an equal packet (CONNECT in its own version);
//! - the one documented exception: SUBSCRIBE and UNSUBSCRIBE keep topic
//!   filters as received (a server answers an invalid one with 0x8F), and
//!   encoding refuses them. Such a packet must fail to encode with the
//!   first invalid filter's `TopicError`, leaving the output untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmqtt_codec::{
    DecodeError, Decoder, EncodeError, Packet, ProtocolVersion, TopicError, TopicFilter,
};

const MAX_PACKET_SIZE: u32 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let version = if control & 1 == 0 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let chunk = match usize::from(control >> 1) + 1 {
        128 => stream.len().max(1),
        n => n,
    };

    let chunked = decode_stream(version, stream, chunk);
    let whole = decode_stream(version, stream, stream.len().max(1));
    assert_eq!(
        chunked, whole,
        "chunked decoding (chunk = {chunk}) differs from decoding all at once"
    );

    for packet in chunked.iter().filter_map(|r| r.as_ref().ok()) {
        round_trip(packet, version);
    }
});

/// Feeds `stream` in `chunk`-byte pieces, collecting packets up to the first error.
fn decode_stream(
    version: ProtocolVersion,
    stream: &[u8],
    chunk: usize,
) -> Vec<Result<Packet, DecodeError>> {
    let mut decoder = Decoder::new(version, MAX_PACKET_SIZE);
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        decoder.feed(piece);
        loop {
            match decoder.next_packet() {
                Ok(Some(packet)) => out.push(Ok(packet)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }
    out
}

fn round_trip(packet: &Packet, version: ProtocolVersion) {
    let mut out = Vec::new();
    match (
        packet.encode(version, &mut out),
        first_invalid_filter(packet),
    ) {
        (Ok(()), None) => {}
        (Err(EncodeError::Topic(e)), Some(invalid)) => {
            assert_eq!(e, invalid, "wrong topic error for {packet:?}");
            assert!(out.is_empty(), "failed encode wrote {out:02x?}");
            return;
        }
        (result, invalid) => panic!(
            "decoded packet does not re-encode as {version:?}: {result:?} \
             (invalid filter: {invalid:?})\npacket: {packet:?}"
        ),
    }
    assert_eq!(
        out.len(),
        packet.encoded_len(version),
        "encoded_len disagrees with encode for {packet:?}\nbytes: {out:02x?}"
    );

    let mut decoder = Decoder::new(version, u32::MAX);
    decoder.feed(&out);
    match decoder.next_packet() {
        Ok(Some(again)) => assert_eq!(
            &again, packet,
            "round trip changed the packet\nre-encoded bytes: {out:02x?}"
        ),
        other => panic!(
            "re-encoded packet does not decode: {other:?}\npacket: {packet:?}\nbytes: {out:02x?}"
        ),
    }
    assert_eq!(
        decoder.next_packet(),
        Ok(None),
        "re-encoding of {packet:?} left trailing bytes: {out:02x?}"
    );
}

/// The error for the first topic filter of a SUBSCRIBE or UNSUBSCRIBE that
/// encoding must refuse; `None` for every other packet.
fn first_invalid_filter(packet: &Packet) -> Option<TopicError> {
    match packet {
        Packet::Subscribe(p) => p
            .subscriptions
            .iter()
            .find_map(|s| TopicFilter::validate(&s.filter).err()),
        Packet::Unsubscribe(p) => p
            .filters
            .iter()
            .find_map(|f| TopicFilter::validate(f).err()),
        _ => None,
    }
}
