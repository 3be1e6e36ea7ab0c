//! Drive a client session with any server bytes and any commands.
//!
//! The input is a program: each step's first byte picks an action, the
//! bytes after it are its arguments. Actions: raw server bytes, a
//! well-formed server packet (so runs get past CONNACK), each command
//! (connect, publish, subscribe, unsubscribe, request, disconnect),
//! virtual time passing and the transport dropping. The first byte of the
//! input picks the protocol version. Checked after every step:
//! - nothing panics, whatever the server sends;
//! - everything the session sends decodes as valid packets of its version;
//! - while connected, no PUBLISH exceeds the server's Maximum QoS, sets
//!   RETAIN where it is not available [MQTT-3.2.2-9] [MQTT-3.2.2-14], and
//!   no packet exceeds its Maximum Packet Size [MQTT-3.2.2-15];
//! - no new QoS 1/2 PUBLISH sent while as many as the server's Receive
//!   Maximum are unacknowledged [MQTT-4.9.0-2] (as the session's metrics
//!   count them);
//! - every operation's outcome is reported at most once, and only for a
//!   token the session handed out;
//! - the queue holds nothing but operations without an outcome yet and
//!   restored subscriptions.
#![no_main]

use std::collections::HashSet;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wasmqtt_session::codec::{
    ConnAck, Decoder, Disconnect, Packet, PacketId, Properties, ProtocolVersion, PubAck, PubComp,
    PubRec, PubRel, Publish, QoS, ReasonCode, SubAck, Subscription, SubscriptionOptions, TopicName,
    UnsubAck,
};
use wasmqtt_session::{Event, Options, ServerLimits, Session};

const ONE: PacketId = match PacketId::new(1) {
    Some(id) => id,
    None => panic!(),
};
const TOPICS: [&str; 4] = ["a", "a/b", "dev/1/t", "x/y/z"];
const FILTERS: [&str; 4] = ["a", "a/#", "+/1/t", "$share/g/x/#"];

/// Reads the program's bytes; past the end every read is 0.
struct Program<'a> {
    bytes: &'a [u8],
}

impl Program<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.bytes.split_first() else {
            return 0;
        };
        self.bytes = rest;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.bytes.split_at(n.min(self.bytes.len()));
        self.bytes = rest;
        head
    }

    fn qos(&mut self) -> QoS {
        QoS::from_u8(self.u8() % 3).unwrap_or(QoS::AtMostOnce)
    }

    fn reason(&mut self) -> ReasonCode {
        ReasonCode::from_u8(self.u8()).unwrap_or(ReasonCode::Success)
    }

    fn packet_id(&mut self) -> PacketId {
        // Small ids, so they often match the session's.
        PacketId::new(u16::from(self.u8() % 8) + 1).unwrap_or(ONE)
    }

    fn topic(&mut self) -> TopicName {
        let t = TOPICS[usize::from(self.u8()) % TOPICS.len()];
        TopicName::new(t).unwrap_or_default()
    }
}

/// A packet a server may send, built from the program's bytes.
fn server_packet(p: &mut Program) -> Packet {
    match p.u8() % 10 {
        0 => {
            let mut connack = ConnAck {
                session_present: p.u8() & 1 == 1,
                reason_code: if p.u8() < 224 {
                    ReasonCode::Success
                } else {
                    p.reason()
                },
                ..ConnAck::default()
            };
            let flags = p.u8();
            let props = &mut connack.properties;
            if flags & 1 != 0 {
                props.receive_maximum = Some(u16::from(p.u8() % 4) + 1);
            }
            if flags & 2 != 0 {
                props.maximum_qos = Some(if p.u8() & 1 == 0 {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                });
            }
            if flags & 4 != 0 {
                props.retain_available = Some(false);
            }
            if flags & 8 != 0 {
                // From 16 B up: below that even a PUBREL with a reason
                // code would not fit, and no server asks for that.
                props.maximum_packet_size = Some(u32::from(p.u16()) + 16);
            }
            if flags & 16 != 0 {
                props.topic_alias_maximum = Some(u16::from(p.u8() % 4));
            }
            if flags & 32 != 0 {
                props.server_keep_alive = Some(u16::from(p.u8()));
            }
            if flags & 64 != 0 {
                props.wildcard_subscription_available = Some(false);
                props.shared_subscription_available = Some(false);
            }
            Packet::ConnAck(connack)
        }
        1 => {
            let qos = p.qos();
            let mut publish = Publish {
                dup: qos != QoS::AtMostOnce && p.u8() & 1 == 1,
                qos,
                retain: p.u8() & 1 == 1,
                topic: p.topic(),
                packet_id: (qos != QoS::AtMostOnce).then(|| p.packet_id()),
                properties: Properties::default(),
                payload: Bytes::copy_from_slice(p.take(4)),
            };
            let extra = p.u8();
            if extra & 1 != 0 {
                publish.properties.topic_alias = Some(u16::from(p.u8() % 4) + 1);
            }
            if extra & 2 != 0 {
                publish.properties.subscription_identifiers = vec![u32::from(p.u8()) + 1];
            }
            Packet::Publish(publish)
        }
        2 => Packet::PubAck(with_reason(PubAck::new(p.packet_id()), p)),
        3 => Packet::PubRec(with_reason(PubRec::new(p.packet_id()), p)),
        4 => Packet::PubRel(PubRel::new(p.packet_id())),
        5 => Packet::PubComp(PubComp::new(p.packet_id())),
        6 => {
            let packet_id = p.packet_id();
            let n = usize::from(p.u8() % 3) + 1;
            let reason_codes = (0..n).map(|_| suback_code(p)).collect();
            Packet::SubAck(SubAck {
                packet_id,
                properties: Properties::default(),
                reason_codes,
            })
        }
        7 => {
            let packet_id = p.packet_id();
            let n = usize::from(p.u8() % 3) + 1;
            let reason_codes = (0..n).map(|_| suback_code(p)).collect();
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties: Properties::default(),
                reason_codes,
            })
        }
        8 => Packet::PingResp,
        _ => Packet::Disconnect(Disconnect::new(p.reason())),
    }
}

/// An acknowledgement's reason code: mostly success, sometimes anything.
fn with_reason<A: HasReason>(mut ack: A, p: &mut Program) -> A {
    if p.u8() >= 192 {
        ack.set_reason(p.reason());
    }
    ack
}

trait HasReason {
    fn set_reason(&mut self, code: ReasonCode);
}

impl HasReason for PubAck {
    fn set_reason(&mut self, code: ReasonCode) {
        self.reason_code = code;
    }
}

impl HasReason for PubRec {
    fn set_reason(&mut self, code: ReasonCode) {
        self.reason_code = code;
    }
}

fn suback_code(p: &mut Program) -> ReasonCode {
    match p.u8() % 4 {
        0 => ReasonCode::GrantedQoS1,
        1 => ReasonCode::GrantedQoS2,
        2 => ReasonCode::NotAuthorized,
        _ => ReasonCode::Success,
    }
}

struct Harness {
    session: Session,
    version: ProtocolVersion,
    now: u64,
    /// What the server side reads from the session.
    server_view: Decoder,
    tokens: HashSet<u64>,
    /// FUZZ_TRACE set: print each step and what the session sends.
    trace: bool,
    /// Outcomes reported, by kind and token.
    settled: HashSet<(&'static str, u64)>,
}

impl Harness {
    fn step(&mut self, p: &mut Program) {
        let now = self.now;
        let action = p.u8() % 12;
        if self.trace {
            eprintln!("step {action} at {now}: {:?}", p.bytes.get(..8));
        }
        match action {
            0 => {
                let n = usize::from(p.u8());
                let bytes = p.take(n).to_vec();
                self.session.handle_bytes(now, &bytes);
            }
            1..=3 => {
                let packet = server_packet(p);
                let mut bytes = Vec::new();
                // A packet the codec will not encode (version mismatch) is skipped.
                if packet.encode(self.version, &mut bytes).is_ok() {
                    // Split in two, to exercise partial input.
                    let cut = usize::from(p.u8()).min(bytes.len());
                    let (a, b) = bytes.split_at(cut);
                    self.session.handle_bytes(now, a);
                    self.session.handle_bytes(now, b);
                }
            }
            4 => {
                let _ = self.session.connect(now);
            }
            5 | 6 => {
                let len = usize::from(p.u8() % 64);
                let publish = Publish {
                    qos: p.qos(),
                    retain: p.u8() & 1 == 1,
                    topic: p.topic(),
                    payload: Bytes::copy_from_slice(p.take(len)),
                    ..Publish::default()
                };
                if let Ok(token) = self.session.publish(now, publish) {
                    self.issue(token.get());
                }
            }
            7 => {
                let filter = FILTERS[usize::from(p.u8()) % FILTERS.len()].into();
                let options = SubscriptionOptions {
                    qos: p.qos(),
                    ..SubscriptionOptions::default()
                };
                let subs = vec![Subscription { filter, options }];
                if let Ok(token) = self.session.subscribe(now, subs, Properties::default()) {
                    self.issue(token.get());
                }
            }
            8 => {
                let filter = FILTERS[usize::from(p.u8()) % FILTERS.len()].into();
                if let Ok(token) =
                    self.session
                        .unsubscribe(now, vec![filter], Properties::default())
                {
                    self.issue(token.get());
                }
            }
            9 => {
                let publish = Publish {
                    qos: p.qos(),
                    topic: p.topic(),
                    ..Publish::default()
                };
                let timeout = u64::from(p.u16());
                if let Ok(token) = self.session.request(now, publish, timeout) {
                    self.issue(token.get());
                }
            }
            10 => {
                // Time passes; the timer fires when it is due.
                self.now += u64::from(p.u16()) * 16;
                if self.session.poll_timeout().is_some_and(|at| at <= self.now) {
                    self.session.handle_timeout(self.now);
                }
            }
            _ => match p.u8() % 3 {
                0 => {
                    self.session.handle_connection_lost(now);
                    // The transport is new: the server side starts afresh.
                    self.server_view = Decoder::new(self.version, u32::MAX);
                }
                1 => {
                    let _ = self.session.disconnect(
                        now,
                        ReasonCode::Success,
                        None,
                        Properties::default(),
                    );
                }
                _ => self.session.reconnect_now(now),
            },
        }
        self.check();
    }

    /// How many of our tokens have their final outcome.
    fn settled_tokens(&self) -> usize {
        self.tokens
            .iter()
            .filter(|&&t| {
                ["Published", "Subscribed", "Unsubscribed"]
                    .iter()
                    .any(|&what| self.settled.contains(&(what, t)))
            })
            .count()
    }

    fn issue(&mut self, token: u64) {
        assert!(self.tokens.insert(token), "token {token} handed out twice");
    }

    /// `what` happened to `token`: at most once, and (`ours`) only to a
    /// token we were given. (The subscription a first `request` makes has
    /// a token of its own that nobody is handed.)
    fn settle(&mut self, what: &'static str, token: u64, ours: bool) {
        assert!(
            !ours || self.tokens.contains(&token),
            "{what} for token {token}, never handed out"
        );
        assert!(
            self.settled.insert((what, token)),
            "{what} reported twice for token {token}"
        );
    }

    fn check(&mut self) {
        let connected = self.session.is_connected();
        let limits = self.session.server().clone();
        let mut out = Vec::new();
        // Whether a QoS 1/2 PUBLISH went out for the first time.
        let mut new_in_flight = false;
        if self.session.poll_transmit(&mut out) {
            self.server_view.feed(&out);
            loop {
                match self.server_view.next_packet() {
                    Ok(Some(packet)) => {
                        if self.trace {
                            eprintln!("  sent {packet:?}");
                        }
                        if connected {
                            check_limits(&packet, &limits, self.version);
                        }
                        if let Packet::Publish(p) = &packet {
                            new_in_flight |= p.qos != QoS::AtMostOnce && !p.dup;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => panic!("the session sent bytes that do not decode: {e:?}"),
                }
            }
        }
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Published { token, .. } => self.settle("Published", token.get(), true),
                Event::Subscribed { token, .. } => self.settle("Subscribed", token.get(), false),
                Event::Unsubscribed { token, .. } => {
                    self.settle("Unsubscribed", token.get(), true);
                }
                Event::Response { token, .. }
                | Event::RequestTimeout { token, .. }
                | Event::RequestFailed { token, .. } => {
                    self.settle("request outcome", token.get(), true);
                }
                _ => {}
            }
        }
        let metrics = self.session.metrics();
        // Commands are refused past the queue limit, but what was in flight
        // when the server lost our session goes back in even past it (none
        // of it is dropped); restored subscriptions wait there too, one per
        // filter. Nothing else may be in the queue.
        let outstanding = self.tokens.len() - self.settled_tokens();
        assert!(
            metrics.queued <= outstanding + FILTERS.len() + 1,
            "{} queued, {outstanding} operations without an outcome",
            metrics.queued
        );
        // Only sending something new counts: a resumed session re-sends
        // everything in flight [MQTT-4.4.0-1], even past a Receive Maximum
        // the server lowered since.
        if connected && new_in_flight {
            assert!(
                metrics.in_flight <= usize::from(limits.receive_maximum),
                "{} in flight over Receive Maximum {}",
                metrics.in_flight,
                limits.receive_maximum
            );
        }
    }
}

/// What the server's CONNACK allows of a packet the session sends.
/// A re-sent PUBLISH (DUP) keeps its first QoS, RETAIN and size: the
/// server resumed the exchange it started [MQTT-4.4.0-1], even if its
/// limits changed since.
fn check_limits(packet: &Packet, limits: &ServerLimits, version: ProtocolVersion) {
    let first_send = match packet {
        Packet::Publish(p) => !p.dup,
        _ => true,
    };
    let size = packet.encoded_len(version);
    if let (true, Some(max)) = (first_send, limits.maximum_packet_size) {
        assert!(size <= max as usize, "{size} B over {max} B: {packet:?}");
    }
    if let (Packet::Publish(p), true) = (packet, first_send) {
        assert!(p.qos <= limits.maximum_qos, "{p:?} over {limits:?}");
        assert!(!p.retain || limits.retain_available, "{p:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut p = Program { bytes: data };
    let version = if p.u8() & 1 == 0 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let options = Options {
        protocol_version: version,
        client_id: "fuzz".into(),
        keep_alive: 30,
        queue_limit: 16,
        auto_topic_alias: true,
        ..Options::default()
    };
    let mut h = Harness {
        session: Session::new(options),
        version,
        now: 0,
        server_view: Decoder::new(version, u32::MAX),
        tokens: HashSet::new(),
        settled: HashSet::new(),
        trace: std::env::var_os("FUZZ_TRACE").is_some(),
    };
    while !p.bytes.is_empty() {
        h.step(&mut p);
    }
});
