//! One measured run: N publishers -> 1 subscriber on one topic, publishing
//! for a fixed time; the run ends when the subscriber has every message.
//!
//! Flow control is end to end: each publisher keeps at most `window`
//! messages that the subscriber has not received yet (and, at QoS 1, no more
//! unacknowledged PUBLISHes than the broker's Receive Maximum). So neither
//! broker has to drop or queue without bound, and the result is the rate the
//! broker sustains, not how fast it can discard.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use wasmqtt_codec::{Packet, PacketId, ProtocolVersion, Publish, QoS, TopicName};

use crate::client::{next_packet, Client, Reader, Transport, Writer};

/// What to measure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    /// Short name, e.g. `qos1 10->1 ws`.
    pub name: String,
    /// QoS of publishes and of the subscription.
    #[serde(serialize_with = "ser_qos")]
    pub qos: QoS,
    /// Publishers (all to the same topic).
    pub publishers: usize,
    /// TCP or WebSocket.
    pub transport: Transport,
    /// How long the publishers publish.
    pub seconds: f64,
    /// Payload bytes per message.
    pub payload: usize,
    /// Messages in flight end to end, in total over all publishers.
    pub window: u64,
    /// Most PUBLISHes a publisher writes at once (one write, or one
    /// WebSocket frame); 1 is what most clients do.
    pub batch: u64,
}

fn ser_qos<S: serde::Serializer>(qos: &QoS, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(*qos as u8)
}

/// What one run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// Messages the subscriber received (all that were published, unless
    /// the run failed).
    pub received: u64,
    /// Messages the publishers sent.
    pub sent: u64,
    /// From the first publish to the last message received.
    pub seconds: f64,
    /// received / seconds.
    pub rate: f64,
    /// Messages that arrived out of order for their publisher.
    pub out_of_order: u64,
    /// Why the run did not complete, if it did not.
    pub error: Option<String>,
}

/// A run fails if the subscriber receives nothing for this long.
const STALL: Duration = Duration::from_secs(5);

struct Progress {
    /// Per publisher: messages the subscriber received.
    delivered: Vec<AtomicU64>,
    /// Per publisher: PUBACKs received (QoS 1).
    acked: Vec<AtomicU64>,
    /// Per publisher: woken when either counter moves, or to stop.
    wake: Vec<Notify>,
    /// Set when the publishing time is over.
    stop: AtomicBool,
    /// Messages sent, added by each publisher when it stops.
    sent: AtomicU64,
    /// Publishers that stopped.
    finished: AtomicUsize,
    /// Wakes the subscriber when a publisher stopped.
    finished_wake: Notify,
}

/// Runs `s` against the broker at `addr`; `tag` makes topics and client ids unique.
pub async fn run(addr: SocketAddr, s: &Scenario, tag: &str) -> Outcome {
    match run_inner(addr, s, tag).await {
        Ok(o) => o,
        Err(e) => Outcome {
            received: 0,
            sent: 0,
            seconds: 0.0,
            rate: 0.0,
            out_of_order: 0,
            error: Some(e.to_string()),
        },
    }
}

async fn run_inner(addr: SocketAddr, s: &Scenario, tag: &str) -> io::Result<Outcome> {
    let topic = format!("bench/{tag}");
    let window = (s.window / s.publishers as u64).max(1);

    let mut sub = Client::connect(addr, s.transport, &format!("{tag}-sub"), u16::MAX).await?;
    sub.subscribe(&topic, s.qos).await?;
    let mut pubs = Vec::with_capacity(s.publishers);
    for i in 0..s.publishers {
        pubs.push(Client::connect(addr, s.transport, &format!("{tag}-p{i}"), u16::MAX).await?);
    }
    let progress = Arc::new(Progress {
        delivered: (0..s.publishers).map(|_| AtomicU64::new(0)).collect(),
        acked: (0..s.publishers).map(|_| AtomicU64::new(0)).collect(),
        wake: (0..s.publishers).map(|_| Notify::new()).collect(),
        stop: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        finished_wake: Notify::new(),
    });

    let start = Instant::now();
    let subscriber = tokio::spawn(subscribe_loop(sub, s.publishers, Arc::clone(&progress)));
    let mut tasks = Vec::new();
    for (i, client) in pubs.into_iter().enumerate() {
        let inflight = if s.qos == QoS::AtMostOnce {
            u64::MAX
        } else {
            window.min(u64::from(client.server_receive_maximum))
        };
        let Client {
            reader,
            writer,
            buf,
            ..
        } = client;
        let template = template(&topic, s.qos, s.payload, i)?;
        let acks = tokio::spawn(ack_loop(reader, buf, i, Arc::clone(&progress)));
        let publisher = tokio::spawn(publish_loop(
            writer,
            template,
            window,
            inflight,
            s.batch,
            i,
            Arc::clone(&progress),
        ));
        tasks.push((publisher, acks));
    }
    // The measured time itself, not a wait for something to happen.
    tokio::time::sleep(Duration::from_secs_f64(s.seconds)).await;
    progress.stop.store(true, Ordering::Release);
    for w in &progress.wake {
        w.notify_one();
    }
    let (received, out_of_order, end, error) = subscriber.await.map_err(io::Error::other)?;
    let seconds = end.duration_since(start).as_secs_f64();
    for (publisher, acks) in tasks {
        acks.abort();
        if error.is_none() {
            if let Ok(writer) = publisher.await.map_err(io::Error::other)? {
                writer.close().await;
            }
        } else {
            publisher.abort();
        }
    }
    Ok(Outcome {
        received,
        sent: progress.sent.load(Ordering::Acquire),
        seconds,
        rate: if seconds > 0.0 {
            received as f64 / seconds
        } else {
            0.0
        },
        out_of_order,
        error,
    })
}

/// An encoded PUBLISH for publisher `index`, whose Packet Identifier and
/// sequence number are patched in place for each message.
struct Template {
    bytes: Vec<u8>,
    /// Offset of the Packet Identifier (QoS 1/2).
    packet_id_at: Option<usize>,
    /// Offset of the payload.
    payload_at: usize,
}

fn template(topic: &str, qos: QoS, payload: usize, index: usize) -> io::Result<Template> {
    let mut body = vec![0u8; payload.max(6)];
    body[..2].copy_from_slice(&(index as u16).to_be_bytes());
    let publish = Publish {
        qos,
        topic: TopicName::new(topic).map_err(io::Error::other)?,
        packet_id: (qos != QoS::AtMostOnce).then(|| PacketId::new(1).expect("non-zero")),
        payload: body.into(),
        ..Publish::default()
    };
    let mut bytes = Vec::new();
    Packet::Publish(publish)
        .encode(ProtocolVersion::V5, &mut bytes)
        .map_err(io::Error::other)?;
    let payload_at = bytes.len() - payload.max(6);
    // Fixed header, Remaining Length, topic; then the Packet Identifier.
    let header = bytes.len() - remaining_len(&bytes);
    let packet_id_at = (qos != QoS::AtMostOnce).then_some(header + 2 + topic.len());
    Ok(Template {
        bytes,
        packet_id_at,
        payload_at,
    })
}

/// The Remaining Length of the packet at the start of `bytes`.
fn remaining_len(bytes: &[u8]) -> usize {
    let mut value = 0usize;
    for (i, b) in bytes[1..5].iter().enumerate() {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    value
}

#[allow(clippy::too_many_arguments)]
async fn publish_loop(
    mut writer: Writer,
    t: Template,
    window: u64,
    inflight: u64,
    batch: u64,
    index: usize,
    progress: Arc<Progress>,
) -> io::Result<Writer> {
    let mut sent = 0u64;
    let mut packet_id: u16 = 0;
    let result = loop {
        let room = loop {
            if progress.stop.load(Ordering::Acquire) {
                break 0;
            }
            let delivered = progress.delivered[index].load(Ordering::Acquire);
            let acked = progress.acked[index].load(Ordering::Acquire);
            let e2e = window.saturating_sub(sent - delivered.min(sent));
            let unacked = if inflight == u64::MAX {
                u64::MAX
            } else {
                inflight.saturating_sub(sent - acked.min(sent))
            };
            let room = e2e.min(unacked).min(batch);
            if room > 0 {
                break room;
            }
            progress.wake[index].notified().await;
        };
        if room == 0 {
            break Ok(());
        }
        let mut out = Vec::with_capacity(t.bytes.len() * room as usize);
        for _ in 0..room {
            let at = out.len();
            out.extend_from_slice(&t.bytes);
            if let Some(p) = t.packet_id_at {
                // Acknowledgements come back in order and at most `inflight`
                // (< 65,535) are outstanding, so cycling ids never collides.
                packet_id = packet_id.checked_add(1).unwrap_or(1);
                out[at + p..at + p + 2].copy_from_slice(&packet_id.to_be_bytes());
            }
            let seq = (sent as u32).to_be_bytes();
            out[at + t.payload_at + 2..at + t.payload_at + 6].copy_from_slice(&seq);
            sent += 1;
        }
        if let Err(e) = writer.send(out).await {
            break Err(e);
        }
    };
    progress.sent.fetch_add(sent, Ordering::AcqRel);
    progress.finished.fetch_add(1, Ordering::AcqRel);
    progress.finished_wake.notify_one();
    result.map(|()| writer)
}

async fn ack_loop(
    mut reader: Reader,
    mut buf: bytes::BytesMut,
    index: usize,
    progress: Arc<Progress>,
) -> io::Result<()> {
    loop {
        let mut acked = 0;
        while let Some(packet) = next_packet(&mut buf)? {
            if let Packet::PubAck(_) = packet {
                acked += 1;
            }
        }
        if acked > 0 {
            progress.acked[index].fetch_add(acked, Ordering::Release);
            progress.wake[index].notify_one();
        }
        if !reader.read_into(&mut buf).await? {
            return Ok(());
        }
    }
}

/// Receives until the publishers stopped and every message they sent
/// arrived; returns (received, out of order, when the last arrived, error).
async fn subscribe_loop(
    mut sub: Client,
    publishers: usize,
    progress: Arc<Progress>,
) -> (u64, u64, Instant, Option<String>) {
    let mut received = 0u64;
    let mut out_of_order = 0u64;
    let mut next_seq = vec![0u32; publishers];
    let mut counts = vec![0u64; publishers];
    let mut acks = Vec::new();
    let mut last = Instant::now();
    loop {
        let mut changed = false;
        loop {
            let packet = match next_packet(&mut sub.buf) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => return (received, out_of_order, last, Some(e.to_string())),
            };
            let Packet::Publish(p) = packet else {
                continue;
            };
            if let Some(id) = p.packet_id {
                let id = id.get().to_be_bytes();
                acks.extend_from_slice(&[0x40, 0x02, id[0], id[1]]);
            }
            let index = usize::from(u16::from_be_bytes([p.payload[0], p.payload[1]]));
            let seq = u32::from_be_bytes([p.payload[2], p.payload[3], p.payload[4], p.payload[5]]);
            if index >= publishers {
                continue;
            }
            if seq != next_seq[index] {
                out_of_order += 1;
            }
            next_seq[index] = seq.wrapping_add(1);
            counts[index] += 1;
            received += 1;
            changed = true;
        }
        if changed {
            last = Instant::now();
            for (i, &c) in counts.iter().enumerate() {
                if progress.delivered[i].swap(c, Ordering::AcqRel) != c {
                    progress.wake[i].notify_one();
                }
            }
        }
        if !acks.is_empty() {
            if let Err(e) = sub.writer.send(std::mem::take(&mut acks)).await {
                return (received, out_of_order, last, Some(e.to_string()));
            }
        }
        if progress.finished.load(Ordering::Acquire) == publishers
            && received >= progress.sent.load(Ordering::Acquire)
        {
            sub.writer.close().await;
            return (received, out_of_order, last, None);
        }
        let read = async {
            tokio::select! {
                r = sub.reader.read_into(&mut sub.buf) => r,
                () = progress.finished_wake.notified() => Ok(true),
            }
        };
        match tokio::time::timeout(STALL, read).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                return (
                    received,
                    out_of_order,
                    last,
                    Some("subscriber connection closed".into()),
                )
            }
            Ok(Err(e)) => return (received, out_of_order, last, Some(e.to_string())),
            Err(_) => {
                return (
                    received,
                    out_of_order,
                    last,
                    Some(format!(
                        "stalled: {received} of {} received ({} acknowledged to the publishers)",
                        progress.sent.load(Ordering::Acquire),
                        progress
                            .acked
                            .iter()
                            .map(|a| a.load(Ordering::Acquire))
                            .sum::<u64>()
                    )),
                )
            }
        }
    }
}
