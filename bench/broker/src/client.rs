//! A minimal MQTT 5.0 client over TCP or WebSocket: just enough to connect,
//! subscribe, publish in batches and read packets, with the same code (and
//! so the same cost) whichever broker is on the other end.

use std::io;
use std::net::SocketAddr;

use bytes::BytesMut;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wasmqtt_codec::{
    decode_packet, Connect, Packet, PacketId, ProtocolVersion, QoS, ReasonCode, Subscribe,
    Subscription, SubscriptionOptions,
};

/// How MQTT packets travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Plain TCP.
    Tcp,
    /// WebSocket binary frames, subprotocol `mqtt`, path `/mqtt`.
    Ws,
}

type Ws = WebSocketStream<TcpStream>;

/// The receiving half of a connection.
pub enum Reader {
    Tcp(OwnedReadHalf),
    Ws(SplitStream<Ws>),
}

/// The sending half of a connection.
pub enum Writer {
    Tcp(OwnedWriteHalf),
    Ws(SplitSink<Ws, Message>),
}

impl Reader {
    /// Appends the next chunk of bytes to `buf`; `false` once the peer closed.
    pub async fn read_into(&mut self, buf: &mut BytesMut) -> io::Result<bool> {
        match self {
            Self::Tcp(r) => {
                buf.reserve(64 * 1024);
                Ok(r.read_buf(buf).await? > 0)
            }
            Self::Ws(r) => loop {
                match r.next().await {
                    None | Some(Ok(Message::Close(_))) => return Ok(false),
                    Some(Ok(Message::Binary(data))) => {
                        buf.extend_from_slice(&data);
                        return Ok(true);
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(io::Error::other(e)),
                }
            },
        }
    }
}

impl Writer {
    /// Sends `bytes`: one write, or one WebSocket frame (a frame may hold
    /// several MQTT packets [MQTT-6.0.0-2]).
    pub async fn send(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        match self {
            Self::Tcp(w) => w.write_all(&bytes).await,
            Self::Ws(w) => w
                .send(Message::binary(bytes))
                .await
                .map_err(io::Error::other),
        }
    }

    /// Sends DISCONNECT and closes.
    pub async fn close(mut self) {
        let mut out = Vec::new();
        Packet::Disconnect(Default::default())
            .encode(ProtocolVersion::V5, &mut out)
            .ok();
        self.send(out).await.ok();
        match self {
            Self::Tcp(mut w) => {
                w.shutdown().await.ok();
            }
            Self::Ws(mut w) => {
                w.close().await.ok();
            }
        }
    }
}

/// A connected MQTT 5.0 client.
pub struct Client {
    pub reader: Reader,
    pub writer: Writer,
    pub buf: BytesMut,
    /// The server's Receive Maximum from CONNACK (65,535 if absent).
    pub server_receive_maximum: u16,
}

impl Client {
    /// Opens a connection and completes CONNECT/CONNACK with a clean session.
    pub async fn connect(
        addr: SocketAddr,
        transport: Transport,
        client_id: &str,
        receive_maximum: u16,
    ) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (reader, writer) = match transport {
            Transport::Tcp => {
                let (r, w) = stream.into_split();
                (Reader::Tcp(r), Writer::Tcp(w))
            }
            Transport::Ws => {
                let mut request = format!("ws://{addr}/mqtt")
                    .into_client_request()
                    .map_err(io::Error::other)?;
                request
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
                let (ws, _) = tokio_tungstenite::client_async(request, stream)
                    .await
                    .map_err(io::Error::other)?;
                let (w, r) = ws.split();
                (Reader::Ws(r), Writer::Ws(w))
            }
        };
        let mut client = Self {
            reader,
            writer,
            buf: BytesMut::new(),
            server_receive_maximum: u16::MAX,
        };
        let mut connect = Connect {
            client_id: client_id.to_owned(),
            keep_alive: 0,
            ..Connect::default()
        };
        connect.properties.receive_maximum = Some(receive_maximum);
        client.send_packet(&Packet::Connect(connect)).await?;
        match client.recv().await? {
            Packet::ConnAck(ack) if ack.reason_code == ReasonCode::Success => {
                client.server_receive_maximum = ack.properties.receive_maximum.unwrap_or(u16::MAX);
                Ok(client)
            }
            other => Err(io::Error::other(format!(
                "expected CONNACK 0, got {other:?}"
            ))),
        }
    }

    /// Encodes and sends one packet.
    pub async fn send_packet(&mut self, packet: &Packet) -> io::Result<()> {
        let mut out = Vec::new();
        packet
            .encode(ProtocolVersion::V5, &mut out)
            .map_err(io::Error::other)?;
        self.writer.send(out).await
    }

    /// The next packet.
    pub async fn recv(&mut self) -> io::Result<Packet> {
        loop {
            if let Some(p) = next_packet(&mut self.buf)? {
                return Ok(p);
            }
            if !self.reader.read_into(&mut self.buf).await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Subscribes to `filter` at `qos` and waits for a SUBACK granting it.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> io::Result<()> {
        let subscribe = Subscribe {
            packet_id: PacketId::new(1).expect("non-zero"),
            properties: Default::default(),
            subscriptions: vec![Subscription {
                filter: filter.to_owned(),
                options: SubscriptionOptions {
                    qos,
                    ..Default::default()
                },
            }],
        };
        self.send_packet(&Packet::Subscribe(subscribe)).await?;
        match self.recv().await? {
            Packet::SubAck(ack) if ack.reason_codes.iter().all(|c| !c.is_error()) => Ok(()),
            other => Err(io::Error::other(format!("expected SUBACK, got {other:?}"))),
        }
    }
}

/// Takes one packet off the front of `buf`.
pub fn next_packet(buf: &mut BytesMut) -> io::Result<Option<Packet>> {
    decode_packet(buf, ProtocolVersion::V5, u32::MAX).map_err(io::Error::other)
}
