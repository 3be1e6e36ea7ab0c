//! Opening MQTT connections that then sit idle: TCP or WebSocket, CONNECT
//! with Keep Alive 0, wait for CONNACK.

use std::io;
use std::net::{IpAddr, SocketAddr};

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wasmqtt_codec::{decode_packet, Connect, Packet, ProtocolVersion, ReasonCode};

/// An open connection, kept only to hold it open.
pub enum Idle {
    Tcp(#[allow(dead_code)] TcpStream),
    Ws(#[allow(dead_code)] Box<WebSocketStream<TcpStream>>),
}

/// CONNECT bytes for `client_id`, optionally with credentials.
pub fn connect_bytes(client_id: &str, credentials: Option<(&str, &str)>) -> Vec<u8> {
    let connect = Connect {
        protocol_version: ProtocolVersion::V5,
        client_id: client_id.into(),
        keep_alive: 0,
        username: credentials.map(|(u, _)| u.into()),
        password: credentials.map(|(_, p)| bytes::Bytes::copy_from_slice(p.as_bytes())),
        ..Connect::default()
    };
    let mut out = Vec::new();
    Packet::Connect(connect)
        .encode(ProtocolVersion::V5, &mut out)
        .expect("CONNECT encodes");
    out
}

/// CONNECT over TCP (from loopback address `from`, if given) and the
/// CONNACK reason code.
pub async fn tcp(
    addr: SocketAddr,
    from: Option<IpAddr>,
    connect: &[u8],
) -> io::Result<(TcpStream, ReasonCode)> {
    let mut stream = match from {
        Some(ip) => {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.connect(addr).await?
        }
        None => TcpStream::connect(addr).await?,
    };
    stream.write_all(connect).await?;
    let mut buf = BytesMut::with_capacity(64);
    loop {
        if let Some(code) = connack(&mut buf)? {
            return Ok((stream, code));
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before CONNACK",
            ));
        }
    }
}

/// CONNECT over WebSocket (`/mqtt`, subprotocol `mqtt`), waiting for CONNACK.
pub async fn ws(addr: SocketAddr, connect: &[u8]) -> io::Result<Idle> {
    let stream = TcpStream::connect(addr).await?;
    let mut request = format!("ws://{addr}/mqtt")
        .into_client_request()
        .map_err(io::Error::other)?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    // Small buffers on our side: this process holds as many as the broker.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(io::Error::other)?;
    ws.send(Message::binary(connect.to_vec()))
        .await
        .map_err(io::Error::other)?;
    let mut buf = BytesMut::new();
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(data))) => {
                buf.extend_from_slice(&data);
                if connack(&mut buf)?.is_some() {
                    return Ok(Idle::Ws(Box::new(ws)));
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(io::Error::other(e)),
            None => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
        }
    }
}

fn connack(buf: &mut BytesMut) -> io::Result<Option<ReasonCode>> {
    match decode_packet(buf, ProtocolVersion::V5, u32::MAX) {
        Ok(Some(Packet::ConnAck(ack))) => Ok(Some(ack.reason_code)),
        Ok(Some(other)) => Err(io::Error::other(format!("expected CONNACK, got {other:?}"))),
        Ok(None) => Ok(None),
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}
