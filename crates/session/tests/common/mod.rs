//! A scripted broker for driving a `Session` in virtual time.
#![allow(dead_code)]

use bytes::BytesMut;
use wasmqtt_codec::{
    decode_packet, ConnAck, Packet, PacketId, Properties, ProtocolVersion, Publish, QoS,
    ReasonCode, TopicName,
};
use wasmqtt_session::{Event, Millis, Options, Session};

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

pub fn publish(topic: &str, qos: QoS, payload: &[u8]) -> Publish {
    Publish {
        qos,
        topic: TopicName::new(topic).unwrap(),
        payload: bytes::Bytes::copy_from_slice(payload),
        ..Publish::default()
    }
}

pub fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
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
