//! A broker on OS-assigned loopback ports and a raw MQTT client for black-box tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wasmqtt_broker::{Broker, Config};
use wasmqtt_codec::{
    decode_packet, ConnAck, Connect, Packet, ProtocolVersion, Publish, QoS, Subscribe,
    Subscription, SubscriptionOptions, TopicName,
};
pub use wasmqtt_testkit::{pid, publish};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a test waits to be sure something does not happen: virtual
/// time, on the paused clock (see [`Client::try_recv`]).
pub const QUIET: Duration = Duration::from_millis(300);

/// Where a test client connects: a TCP address, or a broker's in-process
/// pipe (see [`local`]).
pub trait Dial: Copy {
    fn dial(self) -> impl std::future::Future<Output = Box<dyn Io>>;
}

/// A client's byte stream.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

impl Dial for SocketAddr {
    async fn dial(self) -> Box<dyn Io> {
        Box::new(TcpStream::connect(self).await.expect("connects"))
    }
}

/// In-process connections to one broker.
pub struct Local(&'static Broker);

impl Clone for Local {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for Local {}

/// In-process connections to a broker the test still owns (to shut it down).
impl Dial for &Broker {
    async fn dial(self) -> Box<dyn Io> {
        Box::new(self.connect_local().expect("under the connection limit"))
    }
}

impl Dial for Local {
    async fn dial(self) -> Box<dyn Io> {
        Box::new(self.0.connect_local().expect("under the connection limit"))
    }
}

/// Clients of `b` over in-process pipes: no sockets, so tests of timers can
/// run on tokio's paused clock (`#[tokio::test(start_paused = true)]`),
/// which jumps to the next timer whenever every task waits. The broker is
/// kept for the rest of the test process.
pub fn local(b: Broker) -> Local {
    Local(Box::leak(Box::new(b)))
}

pub async fn broker_with(f: impl FnOnce(&mut Config)) -> Broker {
    let mut config = Config {
        tcp: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
        ws: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
        sys_interval: 0,
        ..Config::default()
    };
    f(&mut config);
    Broker::start(config).await.expect("broker starts")
}

pub async fn broker() -> Broker {
    broker_with(|_| {}).await
}

/// A client speaking raw MQTT over TCP.
pub struct Client {
    pub stream: Box<dyn Io>,
    pub version: ProtocolVersion,
    buf: BytesMut,
}

impl Client {
    pub async fn open(addr: impl Dial, version: ProtocolVersion) -> Self {
        Self {
            stream: addr.dial().await,
            version,
            buf: BytesMut::new(),
        }
    }

    /// A client on an already connected stream.
    pub fn on(stream: TcpStream, version: ProtocolVersion) -> Self {
        Self {
            stream: Box::new(stream),
            version,
            buf: BytesMut::new(),
        }
    }

    /// Opens a connection and completes CONNECT/CONNACK.
    pub async fn connect(addr: impl Dial, connect: Connect) -> (Self, ConnAck) {
        let mut c = Self::open(addr, connect.protocol_version).await;
        c.send(Packet::Connect(connect)).await;
        match c.recv().await {
            Some(Packet::ConnAck(ack)) => (c, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// A v5 client with `id`, clean start.
    pub async fn v5(addr: impl Dial, id: &str) -> Self {
        Self::connect(addr, connect(id)).await.0
    }

    pub async fn send(&mut self, packet: Packet) {
        let mut out = Vec::new();
        packet.encode(self.version, &mut out).expect("encodes");
        self.send_raw(&out).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("writes");
    }

    /// The next packet, or `None` if the broker closed the connection.
    pub async fn recv(&mut self) -> Option<Packet> {
        tokio::time::timeout(WAIT, self.read_packet())
            .await
            .expect("a packet or close in time")
    }

    /// The next packet if one comes within `QUIET`. For tests on the paused
    /// clock over in-process connections: virtual time jumps to the deadline
    /// only once every task waits, so `None` means the broker had nothing
    /// more to send, without waiting in real time.
    pub async fn try_recv(&mut self) -> Option<Packet> {
        tokio::time::timeout(QUIET, self.read_packet())
            .await
            .ok()
            .flatten()
    }

    async fn read_packet(&mut self) -> Option<Packet> {
        loop {
            if let Some(p) = decode_packet(&mut self.buf, self.version, u32::MAX)
                .expect("broker sent valid bytes")
            {
                return Some(p);
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next PUBLISH, skipping nothing else.
    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Some(Packet::Publish(p)) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }

    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Packet {
        self.subscribe_with(
            filter,
            SubscriptionOptions {
                qos,
                ..Default::default()
            },
        )
        .await
    }

    pub async fn subscribe_with(&mut self, filter: &str, options: SubscriptionOptions) -> Packet {
        self.send(Packet::Subscribe(Subscribe {
            packet_id: pid(1),
            properties: Default::default(),
            subscriptions: vec![Subscription {
                filter: filter.into(),
                options,
            }],
        }))
        .await;
        self.recv().await.expect("SUBACK")
    }

    pub async fn publish(&mut self, topic: &str, qos: QoS, payload: &[u8]) {
        let mut p = publish(topic, qos, payload);
        if qos != QoS::AtMostOnce {
            p.packet_id = Some(pid(7));
        }
        self.send(Packet::Publish(p)).await;
    }
}

pub fn connect(id: &str) -> Connect {
    Connect {
        client_id: id.into(),
        ..Connect::default()
    }
}

// ---------------------------------------------------------------------------
// Helpers for the feature-area test files.

/// Completes CONNECT/CONNACK with `connect(id)` changed by `f`.
pub async fn connect_with(
    addr: impl Dial,
    id: &str,
    f: impl FnOnce(&mut Connect),
) -> (Client, ConnAck) {
    let mut c = connect(id);
    f(&mut c);
    Client::connect(addr, c).await
}

/// A will on `topic` with `payload` at QoS 0, not retained.
pub fn will(topic: &str, payload: &[u8]) -> wasmqtt_codec::Will {
    wasmqtt_codec::Will {
        topic: TopicName::new(topic).unwrap(),
        payload: bytes::Bytes::copy_from_slice(payload),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Default::default(),
    }
}

/// The reason codes of a SUBACK.
pub fn suback_codes(packet: Packet) -> Vec<wasmqtt_codec::ReasonCode> {
    match packet {
        Packet::SubAck(s) => s.reason_codes,
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

impl Client {
    /// Sends `p` (QoS 1, Packet Identifier 7 unless set) and waits for its
    /// PUBACK: once it arrives the broker has routed the message.
    pub async fn publish_acked(&mut self, mut p: Publish) -> wasmqtt_codec::ReasonCode {
        p.qos = QoS::AtLeastOnce;
        let id = *p.packet_id.get_or_insert(pid(7));
        self.send(Packet::Publish(p)).await;
        match self.recv().await {
            Some(Packet::PubAck(a)) if a.packet_id == id => a.reason_code,
            other => panic!("expected PUBACK {id:?}, got {other:?}"),
        }
    }

    /// Publishes `payload` to `topic` at QoS 1 and waits for the PUBACK.
    pub async fn publish1(&mut self, topic: &str, payload: &[u8]) -> wasmqtt_codec::ReasonCode {
        self.publish_acked(publish(topic, QoS::AtLeastOnce, payload))
            .await
    }

    /// Sends `p` at QoS 2 and completes PUBREC/PUBREL/PUBCOMP.
    pub async fn publish_exactly_once(&mut self, mut p: Publish) {
        p.qos = QoS::ExactlyOnce;
        let id = *p.packet_id.get_or_insert(pid(9));
        self.send(Packet::Publish(p)).await;
        match self.recv().await {
            Some(Packet::PubRec(r)) if r.packet_id == id => {}
            other => panic!("expected PUBREC {id:?}, got {other:?}"),
        }
        self.send(Packet::PubRel(wasmqtt_codec::PubRel::new(id)))
            .await;
        match self.recv().await {
            Some(Packet::PubComp(c)) if c.packet_id == id => {}
            other => panic!("expected PUBCOMP {id:?}, got {other:?}"),
        }
    }

    /// Acknowledges a received PUBLISH: PUBACK for QoS 1, PUBREC, PUBREL
    /// and PUBCOMP for QoS 2.
    pub async fn ack(&mut self, p: &Publish) {
        let Some(id) = p.packet_id else {
            return;
        };
        if p.qos == QoS::AtLeastOnce {
            self.send(Packet::PubAck(wasmqtt_codec::PubAck::new(id)))
                .await;
        } else {
            self.send(Packet::PubRec(wasmqtt_codec::PubRec::new(id)))
                .await;
            match self.recv().await {
                Some(Packet::PubRel(r)) if r.packet_id == id => {}
                other => panic!("expected PUBREL {id:?}, got {other:?}"),
            }
            self.send(Packet::PubComp(wasmqtt_codec::PubComp::new(id)))
                .await;
        }
    }

    /// The next PUBLISH, acknowledged.
    pub async fn recv_acked(&mut self) -> Publish {
        let p = self.recv_publish().await;
        self.ack(&p).await;
        p
    }

    /// Expects DISCONNECT with `code`, then the connection closing.
    pub async fn expect_disconnect(&mut self, code: wasmqtt_codec::ReasonCode) {
        match self.recv().await {
            Some(Packet::Disconnect(d)) => assert_eq!(d.reason_code, code, "{d:?}"),
            other => panic!("expected DISCONNECT {code:?}, got {other:?}"),
        }
        self.expect_closed().await;
    }

    /// Expects the connection to close with nothing more sent.
    pub async fn expect_closed(&mut self) {
        assert_eq!(self.recv().await, None, "expected the connection to close");
    }

    /// DISCONNECT 0x00 and wait for the broker to close the connection.
    pub async fn disconnect(mut self) {
        self.send(Packet::Disconnect(Default::default())).await;
        self.expect_closed().await;
    }

    /// A round trip (PINGREQ/PINGRESP): everything this client sent before
    /// has been handled; the next packet must be the PINGRESP.
    pub async fn ping(&mut self) {
        self.send(Packet::PingReq).await;
        match self.recv().await {
            Some(Packet::PingResp) => {}
            other => panic!("expected PINGRESP, got {other:?}"),
        }
    }

    /// Proves nothing already routed to this client is still on its way:
    /// the broker sends pending deliveries before it reads the next packet,
    /// so after two ping round trips with nothing in between there are none.
    pub async fn assert_idle(&mut self) {
        self.ping().await;
        self.ping().await;
    }
}

/// A packet's bytes from its first byte and body (Remaining Length added).
pub fn raw_packet(first_byte: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A length-prefixed string or binary field.
pub fn raw_str(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// An MQTT 5.0 SUBSCRIBE with no properties; filters are not checked, so
/// invalid ones can be sent.
pub fn raw_subscribe(packet_id: u16, filters: &[(&str, u8)]) -> Vec<u8> {
    let mut body = packet_id.to_be_bytes().to_vec();
    body.push(0); // Property Length
    for (filter, options) in filters {
        body.extend(raw_str(filter.as_bytes()));
        body.push(*options);
    }
    raw_packet(0x82, &body)
}

/// A temporary file holding `text` (password files, ACLs), deleted when
/// dropped.
pub fn file(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write as _;
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(text.as_bytes()).expect("write temp file");
    f
}

/// A password file line for `user`, hashed with Argon2id at `memory_kib`
/// (the parameters travel in the PHC string, so tests pick their cost:
/// small keeps debug builds quick).
pub fn argon2_line_with(user: &str, password: &str, memory_kib: u32) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(memory_kib, 1, 1, None).expect("argon2 params");
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
    let hash = a.hash_password(password.as_bytes(), &salt).expect("hash");
    format!("{user}:{hash}")
}

/// [`argon2_line_with`] at 64 KiB.
pub fn argon2_line(user: &str, password: &str) -> String {
    argon2_line_with(user, password, 64)
}
