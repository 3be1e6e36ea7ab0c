//! A broker on OS-assigned loopback ports and a raw MQTT client for black-box tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wasmqtt_broker::{Broker, Config};
use wasmqtt_codec::{
    decode_packet, ConnAck, Connect, Packet, PacketId, ProtocolVersion, Publish, QoS, Subscribe,
    Subscription, SubscriptionOptions, TopicName,
};

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a test waits to be sure something does not happen.
pub const QUIET: Duration = Duration::from_millis(300);

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
    pub stream: TcpStream,
    pub version: ProtocolVersion,
    buf: BytesMut,
}

impl Client {
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.expect("connects"),
            version,
            buf: BytesMut::new(),
        }
    }

    /// Opens a connection and completes CONNECT/CONNACK.
    pub async fn connect(addr: SocketAddr, connect: Connect) -> (Self, ConnAck) {
        let mut c = Self::open(addr, connect.protocol_version).await;
        c.send(Packet::Connect(connect)).await;
        match c.recv().await {
            Some(Packet::ConnAck(ack)) => (c, ack),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// A v5 client with `id`, clean start.
    pub async fn v5(addr: SocketAddr, id: &str) -> Self {
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

    /// The next packet if one comes within `QUIET`.
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
