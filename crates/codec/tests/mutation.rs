//! Damaged input: random edits of valid packets and random bytes never make
//! the decoder panic, and whatever it accepts re-encodes stably. Targeted
//! edits must give the error the spec names.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use wasmqtt_codec::{
    decode_packet, DecodeError, Packet, PacketId, PacketType, ProtocolVersion, QoS, ReasonCode,
    TopicError, TopicName,
};

/// One byte-level edit.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Overwrite(Index, u8),
    Truncate(Index),
}

impl Edit {
    fn apply(&self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        match *self {
            Self::Insert(ref at, b) => bytes.insert(at.index(len + 1), b),
            _ if len == 0 => {}
            Self::Flip(ref at, bit) => bytes[at.index(len)] ^= 1 << bit,
            Self::Delete(ref at) => {
                bytes.remove(at.index(len));
            }
            Self::Overwrite(ref at, b) => bytes[at.index(len)] = b,
            Self::Truncate(ref at) => bytes.truncate(at.index(len)),
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<Index>;
    prop_oneof![
        4 => (at(), 0..8u8).prop_map(|(i, b)| Edit::Flip(i, b)),
        2 => (at(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => at().prop_map(Edit::Delete),
        3 => (at(), any::<u8>()).prop_map(|(i, b)| Edit::Overwrite(i, b)),
        1 => at().prop_map(Edit::Truncate),
    ]
}

/// A new Remaining Length: close to the real one, or anything small.
fn remaining_length_change() -> impl Strategy<Value = Result<i32, usize>> {
    prop_oneof![(-3..=3i32).prop_map(Ok), (0..300usize).prop_map(Err)]
}

/// Rewrites the fixed header of a valid encoding with another Remaining Length.
fn set_remaining_length(bytes: &mut Vec<u8>, change: Result<i32, usize>) {
    let (remaining, header) = fixed_header(bytes);
    let new = change.unwrap_or_else(|n| n as i32 - remaining as i32) + remaining as i32;
    let new = varint(usize::try_from(new).unwrap_or(0));
    bytes.splice(1..header, new);
}

/// Makes the Remaining Length match the bytes after the fixed header
/// again, so that edits inside the body reach the packet decoders.
fn resync_remaining_length(bytes: &mut Vec<u8>) {
    if let Some((_, header)) = try_fixed_header(bytes) {
        let len = varint(bytes.len() - header);
        bytes.splice(1..header, len);
    }
}

/// Decodes `bytes` every way there is and checks they agree; every packet
/// decoded must re-encode stably.
fn check_any_input(bytes: &[u8], chunk: usize) {
    for version in VERSIONS {
        for max in [u32::MAX, 64] {
            let whole = decode_stream(version, max, bytes, &[bytes.len()]);
            let chunked = decode_stream(version, max, bytes, &[chunk]);
            assert_eq!(chunked, whole, "chunk size {chunk}");

            // decode_packet directly agrees with the Decoder.
            let mut buf = BytesMut::from(bytes);
            let mut packets = Vec::new();
            let error = loop {
                match decode_packet(&mut buf, version, max) {
                    Ok(Some(p)) => packets.push(p),
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            assert_eq!((&packets, &error), (&whole.packets, &whole.error));
            if let Some(e) = error {
                // Every error names a reason code the peer can be sent.
                let code = e.reason_code();
                assert!(
                    code.is_valid_for(PacketType::Disconnect)
                        || code.is_valid_for(PacketType::ConnAck),
                    "{e:?}"
                );
            }
            for p in &whole.packets {
                check_reencode(p, version);
            }
        }
    }
}

proptest! {
    #[test]
    fn edited_packets_never_panic_and_reencode_stably(
        (v, p) in versioned_packet(),
        length in proptest::option::of(remaining_length_change()),
        edits in vec(edit(), 1..4),
        resync in any::<bool>(),
        chunk in 1..16usize,
    ) {
        let mut bytes = encode(&p, v);
        if let Some(change) = length {
            set_remaining_length(&mut bytes, change);
        }
        for e in &edits {
            e.apply(&mut bytes);
        }
        if resync {
            resync_remaining_length(&mut bytes);
        }
        check_any_input(&bytes, chunk);
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512), chunk in 1..64usize) {
        check_any_input(&bytes, chunk);
    }

    /// Random bytes behind a plausible fixed header reach the packet decoders.
    #[test]
    fn random_bodies_never_panic(
        nibble in 1..16u8,
        flags in 0..16u8,
        body in vec(any::<u8>(), 0..128),
    ) {
        let mut bytes = vec![nibble << 4 | flags];
        bytes.extend(varint(body.len()));
        bytes.extend(body);
        check_any_input(&bytes, 1);
    }
}

/// A valid packet's encoding with the fixed header's size.
fn encoded(packet: &Packet, version: ProtocolVersion) -> (Vec<u8>, usize) {
    let bytes = encode(packet, version);
    let (_, header) = fixed_header(&bytes);
    (bytes, header)
}

fn decode_err(bytes: &[u8], version: ProtocolVersion) -> DecodeError {
    let mut buf = BytesMut::from(bytes);
    decode_packet(&mut buf, version, u32::MAX).expect_err("accepted damaged packet")
}

/// Packets with a Packet Identifier (PUBLISH only at QoS > 0).
fn has_packet_id(t: PacketType) -> bool {
    use PacketType as T;
    matches!(
        t,
        T::Publish
            | T::PubAck
            | T::PubRec
            | T::PubRel
            | T::PubComp
            | T::Subscribe
            | T::SubAck
            | T::Unsubscribe
            | T::UnsubAck
    )
}

/// Offset in the body of the Packet Identifier: after PUBLISH's topic,
/// first in the others (see [`has_packet_id`]).
fn packet_id_offset(packet: &Packet) -> usize {
    match packet {
        Packet::Publish(p) => 2 + p.topic.as_str().len(),
        _ => 0,
    }
}

proptest! {
    /// [MQTT-2.1.3-1]: reserved fixed header flags must hold their value.
    #[test]
    fn wrong_fixed_header_flags_are_malformed(
        (v, p) in packets_where(|t| t != PacketType::Publish),
        change in 1..16u8,
    ) {
        let (mut bytes, _) = encoded(&p, v);
        bytes[0] ^= change;
        let flags = bytes[0] & 0x0F;
        let err = decode_err(&bytes, v);
        prop_assert_eq!(&err, &DecodeError::InvalidFlags { packet: p.packet_type(), flags });
        prop_assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    }

    /// [MQTT-3.3.1-4]: QoS 3 is malformed. [MQTT-3.3.1-2]: no DUP at QoS 0.
    #[test]
    fn bad_publish_flags_are_malformed(
        (v, p) in packets_where(|t| t == PacketType::Publish),
    ) {
        let (mut bytes, _) = encoded(&p, v);
        let first = bytes[0];
        bytes[0] = first | 0b0110;
        prop_assert_eq!(decode_err(&bytes, v), DecodeError::InvalidQoS);
        if first & 0b0110 == 0 {
            bytes[0] = first | 0b1000;
            prop_assert_eq!(decode_err(&bytes, v), DecodeError::DupWithQoS0);
        }
    }

    /// [MQTT-2.2.1-3]: a Packet Identifier of zero is a Protocol Error.
    #[test]
    fn zero_packet_id_is_a_protocol_error((v, mut p) in packets_where(has_packet_id)) {
        if let Packet::Publish(publish) = &mut p {
            publish.qos = QoS::ExactlyOnce;
            publish.packet_id = PacketId::new(1);
        }
        let offset = packet_id_offset(&p);
        let (mut bytes, header) = encoded(&p, v);
        let at = header + offset;
        bytes[at..at + 2].fill(0);
        let err = decode_err(&bytes, v);
        prop_assert_eq!(&err, &DecodeError::ZeroPacketId);
        prop_assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    }

    /// [MQTT-3.1.2-1]: the protocol name is "MQTT"; [MQTT-3.1.2-3]: the
    /// reserved connect flag is 0.
    #[test]
    fn connect_header_is_checked(
        (v, p) in packets_where(|t| t == PacketType::Connect),
        letter in 0..4usize,
        other in b'A'..=b'Z',
    ) {
        let (bytes, header) = encoded(&p, v);
        let name = header + 2 + letter;
        let mut renamed = bytes.clone();
        renamed[name] = if other == bytes[name] { b'a' } else { other };
        prop_assert_eq!(decode_err(&renamed, v), DecodeError::InvalidProtocolName);
        let mut reserved = bytes;
        reserved[header + 7] |= 1;
        prop_assert_eq!(
            decode_err(&reserved, v),
            DecodeError::ReservedBitSet(PacketType::Connect)
        );
    }

    /// [MQTT-3.8.3-5]: reserved Subscription Options bits (6-7; 2-7 in
    /// 3.1.1) are malformed (0x81); QoS 3 or Retain Handling 3 is a
    /// Protocol Error (0x82, section 3.8.3.1).
    #[test]
    fn invalid_subscription_options_are_refused(
        (v, p) in packets_where(|t| t == PacketType::Subscribe),
        bit in 0..8u8,
        qos_3 in any::<bool>(),
    ) {
        let (mut bytes, _) = encoded(&p, v);
        let last = bytes.len() - 1;
        let reserved = if v == V5 { 0b1100_0000 } else { 0b1111_1100 };
        let (new, err, code) = if reserved & (1 << bit) != 0 {
            let new = bytes[last] | 1 << bit;
            let err = DecodeError::InvalidSubscriptionOptions(new);
            (new, err, ReasonCode::MalformedPacket)
        } else {
            let field = if qos_3 || v == V311 { 0b0000_0011 } else { 0b0011_0000 };
            let new = bytes[last] | field;
            let err = DecodeError::InvalidSubscriptionValue(new);
            (new, err, ReasonCode::ProtocolError)
        };
        bytes[last] = new;
        let got = decode_err(&bytes, v);
        prop_assert_eq!(&got, &err);
        prop_assert_eq!(got.reason_code(), code);
    }

    /// [MQTT-1.5.4-2]: U+0000 in the Topic Name is malformed; replacing the
    /// lead byte of a multi-byte character breaks UTF-8 [MQTT-1.5.4-1].
    /// [MQTT-3.3.2-2]: a wildcard in the Topic Name is Topic Name invalid (0x90).
    #[test]
    fn bad_topic_name_characters_are_refused(
        (v, mut p) in packets_where(|t| t == PacketType::Publish),
        pick in any::<Index>(),
        wildcard in prop_oneof![Just(b'+'), Just(b'#')],
    ) {
        let Packet::Publish(publish) = &mut p else { unreachable!() };
        if publish.topic.is_empty() {
            publish.topic = TopicName::new("alias/and/name").unwrap();
        }
        let topic = publish.topic.as_str();
        let (at, ch) = topic.char_indices().nth(pick.index(topic.chars().count())).unwrap();
        let (bytes, header) = encoded(&p, v);
        let at = header + 2 + at;

        let mut nul = bytes.clone();
        nul[at] = 0;
        let want = if ch.is_ascii() { DecodeError::NullCharacter } else { DecodeError::InvalidUtf8 };
        prop_assert_eq!(decode_err(&nul, v), want);

        if ch.is_ascii() {
            let mut wild = bytes;
            wild[at] = wildcard;
            let err = decode_err(&wild, v);
            prop_assert_eq!(&err, &DecodeError::TopicNameInvalid(TopicError::WildcardInName));
            prop_assert_eq!(err.reason_code(), ReasonCode::TopicNameInvalid);
        }
    }
}

/// A version and a valid packet of a type that exists in it and `keep` selects.
fn packets_where(keep: fn(PacketType) -> bool) -> BoxedStrategy<(ProtocolVersion, Packet)> {
    select(VERSIONS.to_vec())
        .prop_flat_map(move |v| {
            let types: Vec<_> = packet_types(v).into_iter().filter(|&t| keep(t)).collect();
            (
                Just(v),
                select(types).prop_flat_map(move |t| packet_of(t, v)),
            )
        })
        .boxed()
}

#[test]
fn publish_flags_accept_exactly_the_valid_combinations() {
    // The PUBLISH flags are DUP, QoS and RETAIN (section 3.3.1); every
    // combination but QoS 3 and DUP at QoS 0 is valid.
    let mut valid = 0;
    for flags in 0..16u8 {
        // Topic "t", Packet Identifier 1 only at QoS > 0, no properties.
        let body: &[u8] = if flags & 0b0110 == 0 {
            &[0x00, 0x01, b't', 0x00]
        } else {
            &[0x00, 0x01, b't', 0x00, 0x01, 0x00]
        };
        let mut bytes = vec![0x30 | flags, body.len() as u8];
        bytes.extend(body);
        let mut buf = BytesMut::from(&bytes[..]);
        if let Ok(Some(Packet::Publish(p))) = decode_packet(&mut buf, V5, u32::MAX) {
            valid += 1;
            assert_eq!(p.qos as u8, (flags >> 1) & 3);
            assert_eq!(p.dup, flags & 8 != 0);
            assert_eq!(p.retain, flags & 1 != 0);
            assert!(p.qos != QoS::AtMostOnce || !p.dup);
        }
    }
    assert_eq!(valid, 10);
}
