//! The WebSocket listener (section 6): subprotocol, paths, binary frames
//! only, packets and frames need not line up.
mod common;

use std::net::SocketAddr;

use bytes::BytesMut;
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use wasmqtt_codec::{decode_packet, Packet, ProtocolVersion, QoS, ReasonCode};

/// An MQTT client over WebSocket.
struct Ws {
    ws: WebSocketStream<TcpStream>,
    buf: BytesMut,
}

/// Opens `ws://addr{path}` offering `protocols`; the subprotocol chosen.
async fn open(
    addr: SocketAddr,
    path: &str,
    protocols: &str,
) -> Result<(Ws, Option<String>), WsError> {
    let mut request = format!("ws://{addr}{path}").into_client_request()?;
    if !protocols.is_empty() {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocols).unwrap(),
        );
    }
    let tcp = TcpStream::connect(addr).await.expect("connects");
    let (ws, response) = tokio_tungstenite::client_async(request, tcp).await?;
    let chosen = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((
        Ws {
            ws,
            buf: BytesMut::new(),
        },
        chosen,
    ))
}

fn bytes_of(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        p.encode(ProtocolVersion::V5, &mut out).unwrap();
    }
    out
}

impl Ws {
    async fn frame(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("sends");
    }

    async fn send(&mut self, p: Packet) {
        self.frame(&bytes_of(&[p])).await;
    }

    /// The next packet, `None` when the broker closes the connection.
    async fn recv(&mut self) -> Option<Packet> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(p) = decode_packet(&mut self.buf, ProtocolVersion::V5, u32::MAX)
                    .expect("broker sent valid bytes")
                {
                    return Some(p);
                }
                match self.ws.next().await {
                    Some(Ok(Message::Binary(b))) => self.buf.extend_from_slice(&b),
                    Some(Ok(Message::Text(_))) => panic!("the broker sent a text frame"),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .expect("a packet or close in time")
    }

    async fn connect(addr: SocketAddr, id: &str) -> Self {
        let (mut ws, chosen) = open(addr, "/mqtt", "mqtt").await.expect("handshake");
        assert_eq!(chosen.as_deref(), Some("mqtt"));
        ws.send(Packet::Connect(connect(id))).await;
        assert!(
            matches!(ws.recv().await, Some(Packet::ConnAck(a)) if a.reason_code == ReasonCode::Success)
        );
        ws
    }
}

#[tokio::test]
async fn subprotocol_mqtt_is_negotiated() {
    // [MQTT-6.0.0-3] [MQTT-6.0.0-4]: "mqtt" is chosen whenever offered;
    // "mqttv3.1" is accepted from clients that offer only that.
    let b = broker().await;
    let addr = b.ws[0];
    for (offered, chosen) in [
        ("mqtt", "mqtt"),
        ("mqttv3.1, mqtt", "mqtt"),
        ("chat, mqtt", "mqtt"),
        ("mqttv3.1", "mqttv3.1"),
    ] {
        let (_ws, got) = open(addr, "/mqtt", offered).await.expect(offered);
        assert_eq!(got.as_deref(), Some(chosen), "{offered}");
    }
    for offered in ["", "chat"] {
        match open(addr, "/mqtt", offered).await {
            Err(WsError::Http(r)) => assert_eq!(r.status(), StatusCode::BAD_REQUEST),
            Err(e) => panic!("{offered:?}: {e}"),
            Ok(_) => panic!("{offered:?}: accepted without subprotocol mqtt"),
        }
    }
    b.shutdown().await;
}

#[tokio::test]
async fn paths_mqtt_and_root_are_served_others_refused() {
    // Section 6.0 (the path is the server's choice): "/mqtt" and "/"
    // are served, anything else is 404.
    let b = broker().await;
    let addr = b.ws[0];
    for path in ["/mqtt", "/"] {
        let (mut ws, _) = open(addr, path, "mqtt").await.expect(path);
        ws.send(Packet::Connect(connect(&format!("p{}", path.len()))))
            .await;
        assert!(matches!(ws.recv().await, Some(Packet::ConnAck(_))));
    }
    for path in ["/other", "/mqtt/x"] {
        match open(addr, path, "mqtt").await {
            Err(WsError::Http(r)) => assert_eq!(r.status(), StatusCode::NOT_FOUND),
            Err(e) => panic!("{path}: {e}"),
            Ok(_) => panic!("{path}: accepted"),
        }
    }
    b.shutdown().await;
}

#[tokio::test]
async fn a_text_frame_closes_the_connection() {
    // [MQTT-6.0.0-1]
    let b = broker().await;
    let mut other = Client::v5(b.tcp[0], "other").await;
    let mut ws = Ws::connect(b.ws[0], "texter").await;
    ws.ws.send(Message::text("hello")).await.expect("sends");
    assert_eq!(ws.recv().await, None);
    other.ping().await;
    b.shutdown().await;
}

#[tokio::test]
async fn packets_split_across_frames_and_packed_into_one_frame() {
    // [MQTT-6.0.0-2]: frame boundaries mean nothing to MQTT.
    let b = broker().await;
    let addr = b.ws[0];
    let (mut ws, _) = open(addr, "/mqtt", "mqtt").await.expect("handshake");
    // CONNECT one byte per frame.
    for byte in bytes_of(&[Packet::Connect(connect("split"))]) {
        ws.frame(&[byte]).await;
    }
    assert!(matches!(ws.recv().await, Some(Packet::ConnAck(_))));
    // SUBSCRIBE, PUBLISH (QoS 1, to itself) and PINGREQ in one frame.
    let mut p = publish("ws/t", QoS::AtLeastOnce, b"packed");
    p.packet_id = Some(pid(2));
    ws.frame(&bytes_of(&[
        Packet::Subscribe(wasmqtt_codec::Subscribe {
            packet_id: pid(1),
            properties: Default::default(),
            subscriptions: vec![wasmqtt_codec::Subscription {
                filter: "ws/#".into(),
                options: Default::default(),
            }],
        }),
        Packet::Publish(p),
        Packet::PingReq,
    ]))
    .await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(ws.recv().await.expect("packet"));
    }
    assert!(matches!(got[0], Packet::SubAck(_)));
    assert!(got
        .iter()
        .any(|p| matches!(p, Packet::PubAck(a) if a.packet_id == pid(2))));
    assert!(got.iter().any(|p| matches!(p, Packet::PingResp)));
    assert!(got
        .iter()
        .any(|p| matches!(p, Packet::Publish(m) if m.payload.as_ref() == b"packed")));
    // Both at once: the end of one packet and the start of the next share
    // a frame.
    let two = bytes_of(&[Packet::PingReq, Packet::PingReq]);
    ws.frame(&two[..3]).await;
    ws.frame(&two[3..]).await;
    assert_eq!(ws.recv().await, Some(Packet::PingResp));
    assert_eq!(ws.recv().await, Some(Packet::PingResp));
    b.shutdown().await;
}

#[tokio::test]
async fn websocket_and_tcp_clients_talk_to_each_other() {
    // Section 6.0: the transport makes no difference to routing.
    let b = broker().await;
    let mut ws = Ws::connect(b.ws[0], "ws").await;
    ws.send(Packet::Subscribe(wasmqtt_codec::Subscribe {
        packet_id: pid(1),
        properties: Default::default(),
        subscriptions: vec![wasmqtt_codec::Subscription {
            filter: "mix".into(),
            options: Default::default(),
        }],
    }))
    .await;
    assert!(matches!(ws.recv().await, Some(Packet::SubAck(_))));
    let mut tcp = Client::v5(b.tcp[0], "tcp").await;
    tcp.subscribe("mix", QoS::AtMostOnce).await;
    tcp.publish1("mix", b"from tcp").await;
    assert!(
        matches!(ws.recv().await, Some(Packet::Publish(p)) if p.payload.as_ref() == b"from tcp")
    );
    ws.send(Packet::Publish(publish("mix", QoS::AtMostOnce, b"from ws")))
        .await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(tcp.recv_publish().await.payload);
    }
    assert!(seen.iter().any(|p| p.as_ref() == b"from ws"));
    b.shutdown().await;
}

#[tokio::test]
async fn oversize_packet_over_websocket_is_0x95() {
    // [MQTT-3.2.2-15]: the same limit as over TCP.
    let b = broker_with(|c| c.limits.max_packet_size = 1024).await;
    let mut ws = Ws::connect(b.ws[0], "big").await;
    ws.send(Packet::Publish(publish("t", QoS::AtMostOnce, &[0; 1500])))
        .await;
    assert!(
        matches!(ws.recv().await, Some(Packet::Disconnect(d)) if d.reason_code == ReasonCode::PacketTooLarge)
    );
    assert_eq!(ws.recv().await, None);
    b.shutdown().await;
}

#[tokio::test]
async fn a_stalled_handshake_is_closed_after_the_connect_timeout() {
    // Section 3.1.4: the connect timeout covers the WebSocket handshake.
    // Real time (about 1 s, the shortest connect timeout): the handshake
    // is only on the WebSocket listener, a real socket, and the paused
    // clock would jump ahead while the test waits on socket I/O.
    let b = broker_with(|c| c.limits.connect_timeout = 1).await;
    let mut silent = Client::open(b.ws[0], ProtocolVersion::V5).await;
    let started = std::time::Instant::now();
    silent.expect_closed().await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    b.shutdown().await;
}

#[tokio::test]
async fn a_long_burst_of_frames_is_handled_completely() {
    // More frames than the broker handles between two writes: every one of
    // them must still be read, in order [MQTT-4.6.0-2].
    let b = broker().await;
    let mut ws = Ws::connect(b.ws[0], "burst").await;
    let count = 300u16;
    let frames: Vec<Message> = (1..=count)
        .map(|i| {
            let mut p = publish("burst/t", QoS::AtLeastOnce, &i.to_be_bytes());
            p.packet_id = Some(pid(i));
            Message::binary(bytes_of(&[Packet::Publish(p)]))
        })
        .collect();
    // Queue them all, then flush once, so they arrive together.
    for f in frames {
        ws.ws.feed(f).await.expect("queues");
    }
    ws.ws.flush().await.expect("sends");
    for i in 1..=count {
        match ws.recv().await {
            Some(Packet::PubAck(a)) => assert_eq!(a.packet_id.get(), i),
            other => panic!("expected PUBACK {i}, got {other:?}"),
        }
    }
    b.shutdown().await;
}
