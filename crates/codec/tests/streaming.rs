//! The streaming side: partial input, arbitrary chunking, the maximum
//! packet size, bounded memory, and recovery with `Decoder::reset`.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use wasmqtt_codec::{
    decode_packet, Auth, ConnAck, Connect, DecodeError, Decoder, Disconnect, Packet, PacketId,
    PacketType, Properties, ProtocolVersion, PubAck, PubRel, Publish, QoS, ReasonCode, SubAck,
    Subscribe, Subscription, SubscriptionOptions, TopicName, UnsubAck, MAX_REMAINING_LENGTH,
};

const MIB: u32 = 1 << 20;

fn id(v: u16) -> PacketId {
    PacketId::new(v).unwrap()
}

fn publish_bytes(first: u8, topic: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut body = u16::try_from(topic.len()).unwrap().to_be_bytes().to_vec();
    body.extend_from_slice(topic);
    body.extend_from_slice(rest);
    let mut out = vec![first];
    out.extend(varint(body.len()));
    out.extend(body);
    out
}

/// Packets written out by hand from the spec's layouts, with what they decode to.
fn hand_made() -> Vec<(ProtocolVersion, Vec<u8>, Packet)> {
    let mqtt = [0, 4, b'M', b'Q', b'T', b'T'];
    let connect = |level: u8, tail: &[u8]| {
        let mut b = vec![0x10, 0];
        b.extend(mqtt);
        b.extend([level, 0x02, 0x00, 0x3C]);
        b.extend(tail);
        b[1] = (b.len() - 2) as u8;
        b
    };
    let big = vec![0xAB; 200];
    let mut publish_qos1 = vec![0x00, 0x0A, 0x00];
    publish_qos1.extend(&big);
    let huge = vec![b'x'; 16_384];
    vec![
        (V5, vec![0xC0, 0x00], Packet::PingReq),
        (V311, vec![0xD0, 0x00], Packet::PingResp),
        // Section 3.14.2.1: Remaining Length 0 is Normal disconnection.
        (
            V5,
            vec![0xE0, 0x00],
            Packet::Disconnect(Disconnect::default()),
        ),
        (
            V311,
            vec![0x40, 0x02, 0x00, 0x01],
            Packet::PubAck(PubAck::new(id(1))),
        ),
        (
            V5,
            vec![0x40, 0x03, 0x00, 0x01, 0x10],
            Packet::PubAck(PubAck {
                reason_code: ReasonCode::NoMatchingSubscribers,
                ..PubAck::new(id(1))
            }),
        ),
        // PUBREL has fixed header flags 0b0010 [MQTT-3.6.1-1].
        (
            V5,
            vec![0x62, 0x02, 0x12, 0x34],
            Packet::PubRel(PubRel::new(id(0x1234))),
        ),
        (
            V311,
            connect(4, &[0, 0]),
            Packet::Connect(Connect {
                protocol_version: V311,
                ..Connect::default()
            }),
        ),
        (
            V5,
            connect(5, &[0, 0, 0]),
            Packet::Connect(Connect::default()),
        ),
        (
            V5,
            vec![0x20, 0x03, 0x01, 0x00, 0x00],
            Packet::ConnAck(ConnAck {
                session_present: true,
                ..ConnAck::default()
            }),
        ),
        // Two-byte Remaining Length (208 = 0xD0 0x01).
        (
            V5,
            publish_bytes(0x32, b"a/b", &publish_qos1),
            Packet::Publish(Publish {
                qos: QoS::AtLeastOnce,
                topic: TopicName::new("a/b").unwrap(),
                packet_id: Some(id(10)),
                payload: Bytes::from(big),
                ..Publish::default()
            }),
        ),
        // Three-byte Remaining Length, retained, 3.1.1.
        (
            V311,
            publish_bytes(0x31, b"t", &huge),
            Packet::Publish(Publish {
                retain: true,
                topic: TopicName::new("t").unwrap(),
                payload: Bytes::from(huge),
                ..Publish::default()
            }),
        ),
        // An empty Topic Name with Topic Alias 5 [MQTT-3.3.2-1].
        (
            V5,
            publish_bytes(0x30, b"", &[0x03, 0x23, 0x00, 0x05, b'h', b'i']),
            Packet::Publish(Publish {
                properties: Properties {
                    topic_alias: Some(5),
                    ..Properties::default()
                },
                payload: Bytes::from_static(b"hi"),
                ..Publish::default()
            }),
        ),
        (
            V5,
            vec![
                0x82, 0x09, 0x00, 0x0A, 0x00, 0x00, 0x03, b'a', b'/', b'#', 0x01,
            ],
            Packet::Subscribe(Subscribe {
                packet_id: id(10),
                properties: Properties::default(),
                subscriptions: vec![Subscription {
                    filter: "a/#".into(),
                    options: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        ..SubscriptionOptions::default()
                    },
                }],
            }),
        ),
        // 3.1.1 SUBACK failure 0x80.
        (
            V311,
            vec![0x90, 0x03, 0x00, 0x0A, 0x80],
            Packet::SubAck(SubAck {
                packet_id: id(10),
                properties: Properties::default(),
                reason_codes: vec![ReasonCode::UnspecifiedError],
            }),
        ),
        (
            V311,
            vec![0xB0, 0x02, 0x00, 0x05],
            Packet::UnsubAck(UnsubAck {
                packet_id: id(5),
                properties: Properties::default(),
                reason_codes: Vec::new(),
            }),
        ),
        // Section 3.15.2.1: Remaining Length 0 is Success without properties.
        (V5, vec![0xF0, 0x00], Packet::Auth(Auth::default())),
    ]
}

/// Every strict prefix is incomplete: `Ok(None)`, nothing consumed, and a
/// [`Decoder`] fed it buffers exactly those bytes.
fn assert_prefixes_incomplete(bytes: &[u8], version: ProtocolVersion) {
    for len in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..len]);
        assert_eq!(
            decode_packet(&mut buf, version, u32::MAX),
            Ok(None),
            "prefix of {len} bytes"
        );
        assert_eq!(buf.len(), len, "a prefix of {len} bytes was consumed");
    }
    let mut decoder = Decoder::new(version, u32::MAX);
    for (i, &b) in bytes[..bytes.len() - 1].iter().enumerate() {
        decoder.feed(&[b]);
        assert_eq!(decoder.next_packet(), Ok(None));
        assert_eq!(decoder.buffered(), i + 1);
    }
}

#[test]
fn hand_made_packets_decode_and_their_prefixes_are_incomplete() {
    for (version, bytes, packet) in hand_made() {
        assert_eq!(decode_one(&bytes, version), packet);
        // They are written in the shortest form, which is what encode produces.
        assert_eq!(encode(&packet, version), bytes, "{packet:?}");
        assert_prefixes_incomplete(&bytes, version);
    }
}

#[test]
fn hand_made_packets_stream_back_to_back() {
    for version in VERSIONS {
        let set: Vec<_> = hand_made()
            .into_iter()
            .filter(|(v, ..)| *v == version)
            .collect();
        let bytes: Vec<u8> = set.iter().flat_map(|(_, b, _)| b.clone()).collect();
        let want: Vec<Packet> = set.into_iter().map(|(.., p)| p).collect();
        for sizes in [&[1][..], &[4096], &[bytes.len()], &[3, 1, 7, 250]] {
            let got = decode_stream(version, MIB, &bytes, sizes);
            assert_eq!(got.error, None);
            assert_eq!(got.buffered, 0);
            assert_eq!(got.packets, want, "chunks {sizes:?}");
        }
    }
}

/// A first byte for every packet type (PUBLISH with assorted flags).
fn first_byte() -> impl Strategy<Value = u8> {
    select(vec![
        0x10, 0x20, 0x30, 0x32, 0x3B, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xA2, 0xB0, 0xC0, 0xD0,
        0xE0, 0xF0,
    ])
}

/// A Remaining Length whose Variable Byte Integer takes 1, 2, 3 or 4 bytes.
fn remaining_length() -> impl Strategy<Value = usize> {
    prop_oneof![
        0..=127usize,
        128..=16_383usize,
        16_384..=2_097_151usize,
        2_097_152..=MAX_REMAINING_LENGTH,
    ]
}

proptest! {
    #[test]
    fn strict_prefixes_of_valid_packets_are_incomplete((v, p) in versioned_packet()) {
        assert_prefixes_incomplete(&encode(&p, v), v);
    }

    /// Packets back to back, fed 1 byte at a time, all at once, in 4 KiB
    /// pieces and in random pieces, come out whole and in order.
    #[test]
    fn any_chunking_yields_the_same_packets(
        (v, packets) in select(VERSIONS.to_vec()).prop_flat_map(|v| (Just(v), vec(packet(v), 0..8))),
        sizes in vec(1..80usize, 1..8),
    ) {
        let bytes: Vec<u8> = packets.iter().flat_map(|p| encode(p, v)).collect();
        let all = bytes.len().max(1);
        for sizes in [&[1][..], &[all], &[4096], &sizes] {
            let got = decode_stream(v, u32::MAX, &bytes, sizes);
            prop_assert_eq!(&got.error, &None);
            prop_assert_eq!(got.buffered, 0);
            prop_assert_eq!(&got.packets, &packets, "chunks {:?}", sizes);
        }
    }

    /// Section 3.1.2.11.4 / 3.2.2.3.6: a packet over the Maximum Packet Size
    /// is refused with 0x95 as soon as its fixed header is complete.
    #[test]
    fn oversized_packets_fail_on_the_fixed_header(
        first in first_byte(),
        remaining in remaining_length(),
        max in any::<Index>(),
    ) {
        let mut header = vec![first];
        header.extend(varint(remaining));
        let size = header.len() + remaining;
        let max = u32::try_from(max.index(size)).unwrap();
        let err = DecodeError::PacketTooLarge { size, max };
        prop_assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
        prop_assert_eq!(u8::from(err.reason_code()), 0x95);

        let mut decoder = Decoder::new(V5, max);
        for (i, &b) in header.iter().enumerate() {
            decoder.feed(&[b]);
            let want = if i + 1 < header.len() { Ok(None) } else { Err(err) };
            prop_assert_eq!(decoder.next_packet(), want);
        }
        let mut buf = BytesMut::from(&header[..]);
        prop_assert_eq!(decode_packet(&mut buf, V5, max), Err(err));
    }

    /// A packet exactly the maximum size is accepted; one byte less refuses it.
    #[test]
    fn maximum_packet_size_is_inclusive((v, p) in versioned_packet()) {
        let bytes = encode(&p, v);
        let size = u32::try_from(bytes.len()).unwrap();
        let got = decode_stream(v, size, &bytes, &[1]);
        prop_assert_eq!(got.packets, vec![p]);
        let got = decode_stream(v, size - 1, &bytes, &[bytes.len()]);
        prop_assert_eq!(
            got.error,
            Some(DecodeError::PacketTooLarge { size: bytes.len(), max: size - 1 })
        );
    }

    /// [MQTT-1.5.5-1]: a Variable Byte Integer has at most four bytes; the
    /// fourth having the continuation bit is Malformed (0x81) whatever follows.
    #[test]
    fn remaining_length_with_a_fifth_byte_is_malformed(
        first in first_byte(),
        continued in vec(0x80..=0xFFu8, 4),
        fifth in any::<u8>(),
        one_at_a_time in any::<bool>(),
    ) {
        let mut bytes = vec![first];
        bytes.extend(&continued);
        bytes.push(fifth);
        let sizes = if one_at_a_time { vec![1] } else { vec![bytes.len()] };
        let got = decode_stream(V5, u32::MAX, &bytes, &sizes);
        prop_assert_eq!(got.error, Some(DecodeError::VarIntTooLong));
        prop_assert_eq!(got.error.unwrap().reason_code(), ReasonCode::MalformedPacket);
        prop_assert!(got.packets.is_empty());
        let mut buf = BytesMut::from(&bytes[..5]);
        prop_assert_eq!(decode_packet(&mut buf, V311, u32::MAX), Err(DecodeError::VarIntTooLong));
    }

    /// [MQTT-1.5.5-1]: the Remaining Length must use the fewest bytes.
    #[test]
    fn non_minimal_remaining_length_is_malformed((v, p) in versioned_packet(), pad in 1..4usize) {
        let bytes = encode(&p, v);
        let (remaining, header) = fixed_header(&bytes);
        let mut len = varint(remaining);
        let pad = pad.min(4 - len.len());
        prop_assert!(pad > 0, "test packets are small");
        *len.last_mut().unwrap() |= 0x80;
        len.extend(std::iter::repeat_n(0x80, pad - 1));
        len.push(0x00);
        let padded = [&bytes[..1], &len, &bytes[header..]].concat();
        let got = decode_stream(v, u32::MAX, &padded, &[padded.len()]);
        prop_assert_eq!(got.error, Some(DecodeError::VarIntNotMinimal));
    }
}

#[test]
fn oversized_claim_keeps_memory_bounded() {
    // A header claiming 200 MB against a 1 MiB limit.
    let mut header = vec![0x30];
    header.extend(varint(200_000_000));
    assert_eq!(header.len(), 5);
    let err = DecodeError::PacketTooLarge {
        size: 200_000_005,
        max: MIB,
    };

    let mut decoder = Decoder::new(V5, MIB);
    decoder.feed(&header[..4]);
    assert_eq!(decoder.next_packet(), Ok(None));
    assert_eq!(decoder.buffered(), 4, "buffers only what was fed");
    decoder.feed(&header[4..]);
    assert_eq!(decoder.buffered(), 5);
    assert_eq!(decoder.next_packet(), Err(err));
    assert_eq!(decoder.buffered(), 0, "the error drops the buffer");

    // The peer keeps sending the body: nothing is stored, the error sticks.
    let chunk = vec![0u8; 64 * 1024];
    for _ in 0..64 {
        decoder.feed(&chunk);
        assert_eq!(decoder.buffered(), 0);
        assert_eq!(decoder.next_packet(), Err(err));
    }

    // Same when header and body arrive in the same chunk.
    let mut decoder = Decoder::new(V5, MIB);
    let mut stream = header.clone();
    stream.extend(&chunk);
    decoder.feed(&stream);
    assert_eq!(decoder.buffered(), stream.len());
    assert_eq!(decoder.next_packet(), Err(err));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn errors_are_sticky_and_reset_recovers() {
    let ping = [0xC0, 0x00];
    let mut decoder = Decoder::new(V5, MIB);
    // PINGREQ with a flag set [MQTT-2.1.3-1], then a valid PINGREQ.
    decoder.feed(&[0xC1, 0x00]);
    decoder.feed(&ping);
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    for _ in 0..3 {
        decoder.feed(&ping);
        assert_eq!(decoder.buffered(), 0);
        assert_eq!(decoder.next_packet(), Err(err));
    }

    decoder.reset();
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.next_packet(), Ok(None));
    decoder.feed(&ping);
    assert_eq!(decoder.next_packet(), Ok(Some(Packet::PingReq)));

    // Reset also drops a partial packet.
    decoder.feed(&[0x30, 0x05, 0x00]);
    assert_eq!(decoder.next_packet(), Ok(None));
    decoder.reset();
    decoder.feed(&ping);
    assert_eq!(decoder.next_packet(), Ok(Some(Packet::PingReq)));
    assert_eq!(decoder.next_packet(), Ok(None));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn reset_recovers_from_a_too_large_packet() {
    let mut decoder = Decoder::new(V311, 16);
    decoder.feed(&[0x30, 0x7F]);
    assert!(matches!(
        decoder.next_packet(),
        Err(DecodeError::PacketTooLarge { size: 129, max: 16 })
    ));
    decoder.reset();
    decoder.set_max_packet_size(MIB);
    let mut bytes = vec![0x30, 0x7F, 0x00, 0x01, b't'];
    bytes.resize(129, 0xEE);
    decoder.feed(&bytes);
    let Ok(Some(Packet::Publish(p))) = decoder.next_packet() else {
        panic!("PUBLISH expected");
    };
    assert_eq!(p.topic, "t");
    assert_eq!(p.payload.len(), 124);
}

#[test]
fn set_version_switches_how_later_packets_are_read() {
    // A server reads CONNECT first, then the version it names.
    let connect = encode(
        &Packet::Connect(Connect {
            protocol_version: V311,
            ..Connect::default()
        }),
        V5,
    );
    let mut decoder = Decoder::new(V5, MIB);
    decoder.feed(&connect);
    // AUTH (type 15) is not a 3.1.1 packet.
    decoder.feed(&[0xF0, 0x00]);
    let Ok(Some(Packet::Connect(c))) = decoder.next_packet() else {
        panic!("CONNECT expected");
    };
    decoder.set_version(c.protocol_version);
    assert_eq!(decoder.version(), V311);
    assert_eq!(
        decoder.next_packet(),
        Err(DecodeError::InvalidPacketType(15))
    );
}

#[test]
fn from_server_refuses_client_packets_without_decoding_them() {
    for (version, bytes, packet) in hand_made() {
        let mut decoder = Decoder::new(version, u32::MAX);
        decoder.feed(&bytes);
        let got = decoder.next_packet_from_server();
        match packet.packet_type() {
            t @ (PacketType::Connect
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::PingReq) => {
                assert_eq!(got, Err(DecodeError::UnexpectedPacketType(t)));
                assert_eq!(
                    DecodeError::UnexpectedPacketType(t).reason_code(),
                    ReasonCode::ProtocolError
                );
            }
            _ => assert_eq!(got, Ok(Some(packet))),
        }
    }
    // The body is not read: a malformed CONNECT is refused the same way.
    let mut decoder = Decoder::new(V5, u32::MAX);
    decoder.feed(&[0x10, 0x02, 0xFF, 0xFF]);
    assert_eq!(
        decoder.next_packet_from_server(),
        Err(DecodeError::UnexpectedPacketType(PacketType::Connect))
    );
    // Fixed header flags are still checked first.
    let mut decoder = Decoder::new(V5, u32::MAX);
    decoder.feed(&[0x80, 0x00]);
    assert!(matches!(
        decoder.next_packet_from_server(),
        Err(DecodeError::InvalidFlags { .. })
    ));
}
