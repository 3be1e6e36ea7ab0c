//! MQTT 5.0 PUBLISH throughput: encode, decode one packet, and decode a
//! stream of 1,000 packets arriving in 4 KiB chunks.
//!
//!     cargo bench -p wasmqtt-codec --bench publish -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use wasmqtt_codec::{
    decode_packet, Decoder, Packet, PacketId, Properties, ProtocolVersion, Publish, QoS, TopicName,
};

const VERSION: ProtocolVersion = ProtocolVersion::V5;
const MAX_PACKET_SIZE: u32 = 1 << 20;
const STREAM_PACKETS: usize = 1_000;
const CHUNK: usize = 4 * 1024;

/// The four cases: QoS 0 and 1, without and with a couple of properties.
fn cases() -> Vec<(&'static str, Packet)> {
    let base = Publish {
        topic: TopicName::new("devices/dev-42/telemetry").unwrap(),
        payload: Bytes::from(vec![0x5A; 64]),
        ..Publish::default()
    };
    let properties = Properties {
        message_expiry_interval: Some(300),
        user_properties: vec![("unit".into(), "celsius".into())],
        ..Properties::default()
    };
    let qos1 = Publish {
        qos: QoS::AtLeastOnce,
        packet_id: PacketId::new(42),
        ..base.clone()
    };
    vec![
        ("qos0", base.clone()),
        ("qos1", qos1.clone()),
        (
            "qos0+props",
            Publish {
                properties: properties.clone(),
                ..base
            },
        ),
        ("qos1+props", Publish { properties, ..qos1 }),
    ]
    .into_iter()
    .map(|(name, p)| (name, Packet::Publish(p)))
    .collect()
}

fn encoded(packet: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    packet.encode(VERSION, &mut out).unwrap();
    out
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    for (name, packet) in cases() {
        let mut out = Vec::with_capacity(packet.encoded_len(VERSION));
        group.bench_with_input(BenchmarkId::from_parameter(name), &packet, |b, p| {
            b.iter(|| {
                out.clear();
                p.encode(VERSION, &mut out).unwrap();
                black_box(out.len())
            });
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for (name, packet) in cases() {
        let bytes = encoded(&packet);
        group.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, bytes| {
            b.iter_batched_ref(
                || BytesMut::from(&bytes[..]),
                |buf| {
                    decode_packet(buf, VERSION, MAX_PACKET_SIZE)
                        .unwrap()
                        .unwrap()
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn stream(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_4k_chunks");
    group.throughput(Throughput::Elements(STREAM_PACKETS as u64));
    for (name, packet) in cases() {
        let stream = encoded(&packet).repeat(STREAM_PACKETS);
        group.bench_with_input(BenchmarkId::from_parameter(name), &stream, |b, stream| {
            b.iter(|| {
                let mut decoder = Decoder::new(VERSION, MAX_PACKET_SIZE);
                let mut count = 0;
                for chunk in stream.chunks(CHUNK) {
                    decoder.feed(chunk);
                    while let Some(p) = decoder.next_packet().unwrap() {
                        black_box(p);
                        count += 1;
                    }
                }
                assert_eq!(count, STREAM_PACKETS);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, encode, decode, stream);
criterion_main!(benches);
