//! A scripted broker for driving a `Session` in virtual time.
#![allow(dead_code)]

use bytes::BytesMut;
use wasmqtt_codec::{
    decode_packet, ConnAck, Packet, PacketId, Properties, ProtocolVersion, Publish, QoS, ReasonCode,
};
use wasmqtt_session::{Event, Millis, Options, Session};
pub use wasmqtt_testkit::{pid, publish};

pub struct Peer {
    pub session: Session,
    pub now: Millis,
    pub version: ProtocolVersion,
    /// Bytes the session sent that the peer has not decoded yet.
    rx: BytesMut,
}

impl Peer {
    pub fn new(options: Options) -> Self {
        let version = options.protocol_version;
        Self {
            session: Session::new(options),
            now: 1_000,
            version,
            rx: BytesMut::new(),
        }
    }

    /// Packets the session sent since the last call.
    pub fn sent(&mut self) -> Vec<Packet> {
        let mut out = Vec::new();
        if self.session.poll_transmit(&mut out) {
            self.rx.extend_from_slice(&out);
        }
        let mut packets = Vec::new();
        while let Some(p) = decode_packet(&mut self.rx, self.version, u32::MAX)
            .expect("session sent a malformed packet")
        {
            packets.push(p);
        }
        packets
    }

    /// Events since the last call.
    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    /// The peer sends `packet`.
    pub fn send(&mut self, packet: Packet) {
        let mut buf = Vec::new();
        packet.encode(self.version, &mut buf).unwrap();
        self.session.handle_bytes(self.now, &buf);
    }

    /// The peer sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.session.handle_bytes(self.now, bytes);
    }

    /// Moves virtual time forward by `ms`, firing every timeout due on the way.
    pub fn advance(&mut self, ms: Millis) {
        let end = self.now + ms;
        while let Some(at) = self.session.poll_timeout() {
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.session.handle_timeout(self.now);
        }
        self.now = end;
    }

    /// Opens the transport, expects CONNECT, answers CONNACK, drains everything.
    pub fn connect_with(&mut self, connack: ConnAck) -> Vec<Event> {
        self.session.connect(self.now).unwrap();
        let sent = self.sent();
        assert!(matches!(sent.as_slice(), [Packet::Connect(_)]), "{sent:?}");
        self.send(Packet::ConnAck(connack));
        self.events()
    }

    pub fn connect(&mut self) -> Vec<Event> {
        self.connect_with(ConnAck::default())
    }

    /// The transport drops and the reconnect timer runs until the session asks to reconnect.
    pub fn drop_and_wait_for_reconnect(&mut self) -> Vec<Event> {
        self.session.handle_connection_lost(self.now);
        let mut events = self.events();
        for _ in 0..1000 {
            if events.iter().any(|e| matches!(e, Event::Reconnect { .. })) {
                return events;
            }
            self.advance(1_000);
            events.extend(self.events());
        }
        panic!("no reconnect: {events:?}");
    }
}

pub fn connack_with(f: impl FnOnce(&mut Properties)) -> ConnAck {
    let mut c = ConnAck::default();
    f(&mut c.properties);
    c
}

pub fn session_present() -> ConnAck {
    ConnAck {
        session_present: true,
        ..ConnAck::default()
    }
}

pub fn reason(code: ReasonCode) -> ConnAck {
    ConnAck {
        reason_code: code,
        ..ConnAck::default()
    }
}

/// The `ReconnectScheduled` events among `events`, as (attempt, delay).
pub fn reconnects_scheduled(events: &[Event]) -> Vec<(u32, Millis)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ReconnectScheduled { attempt, delay } => Some((*attempt, *delay)),
            _ => None,
        })
        .collect()
}

/// The session closed the connection for `error`: it sent DISCONNECT with
/// `code` (MQTT 5.0 only; 3.1.1 has no reason codes to send), reported
/// `Disconnected(Protocol(error))` first and is no longer connected.
/// Returns all the events.
pub fn assert_closed_for_protocol_error(
    peer: &mut Peer,
    code: ReasonCode,
    error: wasmqtt_session::ProtocolError,
) -> Vec<Event> {
    let expected_sent = match peer.version {
        ProtocolVersion::V5 => vec![Packet::Disconnect(wasmqtt_codec::Disconnect::new(code))],
        _ => vec![],
    };
    assert_eq!(peer.sent(), expected_sent);
    let events = peer.events();
    assert_eq!(
        events.first(),
        Some(&Event::Disconnected(
            wasmqtt_session::ConnectionError::Protocol(error)
        )),
        "{events:?}"
    );
    assert!(!peer.session.is_connected());
    events
}

// ----- shared by inbound, resume, topic_alias, subscriptions, request -----

/// A session connected with `options` and an empty CONNACK, outputs drained.
pub fn connected(options: Options) -> Peer {
    let mut peer = Peer::new(options);
    peer.connect();
    peer.sent();
    peer
}

/// A PUBLISH as a server sends it: `id` is used unless `qos` is 0.
pub fn incoming(topic: &str, qos: QoS, id: u16, payload: &[u8]) -> Publish {
    let mut p = publish(topic, qos, payload);
    if qos != QoS::AtMostOnce {
        p.packet_id = Some(pid(id));
    }
    p
}

/// The PUBLISH packets among `packets`, in order.
pub fn publishes(packets: &[Packet]) -> Vec<Publish> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// The `Event::Published` outcomes among `events`, in order.
pub fn outcomes(
    events: &[Event],
) -> Vec<(
    wasmqtt_session::Token,
    Result<ReasonCode, wasmqtt_session::PublishError>,
)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Published { token, result } => Some((*token, result.clone())),
            _ => None,
        })
        .collect()
}

/// The `Event::Message` payloads among `events`, in order.
pub fn messages(events: &[Event]) -> Vec<Publish> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// A subscription to `filter` at `qos` with default options.
pub fn subscription(filter: &str, qos: QoS) -> wasmqtt_codec::Subscription {
    wasmqtt_codec::Subscription {
        filter: filter.into(),
        options: wasmqtt_codec::SubscriptionOptions {
            qos,
            ..Default::default()
        },
    }
}

/// SUBACK for `id` with `codes`.
pub fn suback(id: PacketId, codes: &[ReasonCode]) -> Packet {
    Packet::SubAck(wasmqtt_codec::SubAck {
        packet_id: id,
        properties: Properties::default(),
        reason_codes: codes.to_vec(),
    })
}

/// UNSUBACK for `id` with `codes` (none for MQTT 3.1.1).
pub fn unsuback(id: PacketId, codes: &[ReasonCode]) -> Packet {
    Packet::UnsubAck(wasmqtt_codec::UnsubAck {
        packet_id: id,
        properties: Properties::default(),
        reason_codes: codes.to_vec(),
    })
}

/// Subscribes to `filter` at `qos` with no properties.
pub fn subscribe_to(peer: &mut Peer, filter: &str, qos: QoS) -> wasmqtt_session::Token {
    peer.session
        .subscribe(
            peer.now,
            vec![subscription(filter, qos)],
            Properties::default(),
        )
        .unwrap()
}

/// Unsubscribes from `filter` with no properties.
pub fn unsubscribe_from(peer: &mut Peer, filter: &str) -> wasmqtt_session::Token {
    peer.session
        .unsubscribe(peer.now, vec![filter.into()], Properties::default())
        .unwrap()
}

/// Publishes `message` now; panics on a usage error.
pub fn publish_now(peer: &mut Peer, message: Publish) -> wasmqtt_session::Token {
    peer.session.publish(peer.now, message).unwrap()
}

/// The session's subscriptions as (filter, granted QoS), in its order.
pub fn registry(peer: &Peer) -> Vec<(String, Option<QoS>)> {
    peer.session
        .subscriptions()
        .map(|e| (e.filter.as_str().to_owned(), e.granted))
        .collect()
}

/// Sends CONNECT (drained) and, when `connack`, answers an empty CONNACK
/// (events drained); otherwise the session is left waiting for CONNACK.
pub fn open_connection(peer: &mut Peer, connack: bool) {
    if connack {
        peer.connect();
    } else {
        peer.session.connect(peer.now).unwrap();
        peer.sent();
    }
}
