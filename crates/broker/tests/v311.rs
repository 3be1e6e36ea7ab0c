//! MQTT 3.1.1 clients: sessions, QoS, wills, errors (which close the
//! connection: 3.1.1 has no server DISCONNECT), and talking to 5.0 clients.
mod common;

use common::*;
use wasmqtt_codec::{Connect, Packet, ProtocolVersion, QoS, ReasonCode};

fn v311(id: &str) -> Connect {
    Connect {
        protocol_version: ProtocolVersion::V311,
        ..connect(id)
    }
}

async fn client(addr: std::net::SocketAddr, id: &str, clean: bool) -> (Client, bool) {
    let (c, ack) = Client::connect(
        addr,
        Connect {
            clean_start: clean,
            ..v311(id)
        },
    )
    .await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    assert!(ack.properties.is_empty());
    (c, ack.session_present)
}

#[tokio::test]
async fn clean_session_and_session_present() {
    // 3.1.1 [MQTT-3.1.2-6] / 5.0 [MQTT-3.2.2-2] [MQTT-3.2.2-3]: Clean
    // Session 0 keeps the session, and its queued QoS 1 messages.
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut s, present) = client(addr, "old", false).await;
    assert!(!present);
    s.subscribe("t", QoS::AtLeastOnce).await;
    s.disconnect().await;
    let mut p = Client::v5(addr, "p").await;
    p.publish1("t", b"queued").await;
    let (mut s, present) = client(addr, "old", false).await;
    assert!(present);
    let got = s.recv_acked().await;
    assert_eq!(got.payload.as_ref(), b"queued");
    s.disconnect().await;
    let (_s, present) = client(addr, "old", true).await;
    assert!(!present);
    assert_eq!(
        p.publish1("t", b"x").await,
        ReasonCode::NoMatchingSubscribers
    );
    b.shutdown().await;
}

#[tokio::test]
async fn empty_client_id_needs_clean_session() {
    // 3.1.1 [MQTT-3.1.3-7] [MQTT-3.1.3-8]: refused with return code 0x02.
    let b = broker().await;
    let addr = b.tcp[0];
    let (_ok, _) = client(addr, "", true).await;
    let (mut c, ack) = Client::connect(
        addr,
        Connect {
            clean_start: false,
            ..v311("")
        },
    )
    .await;
    assert_eq!(ack.reason_code, ReasonCode::ClientIdentifierNotValid);
    c.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn qos_levels_and_properties_between_versions() {
    // [MQTT-4.3.3-8] [MQTT-4.3.3-11] [MQTT-3.8.4-8] across versions.
    // A 5.0 publisher's properties are not sent to a 3.1.1 subscriber;
    // a 3.1.1 publisher reaches a 5.0 subscriber. QoS 2 both ways.
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut old, _) = client(addr, "old", true).await;
    assert_eq!(
        suback_codes(old.subscribe("x/from-new", QoS::ExactlyOnce).await),
        [ReasonCode::GrantedQoS2]
    );
    let mut new = Client::v5(addr, "new").await;
    new.subscribe("x/from-old", QoS::ExactlyOnce).await;

    let mut m = publish("x/from-new", QoS::ExactlyOnce, b"hello");
    m.properties.user_properties = vec![("k".into(), "v".into())];
    new.publish_exactly_once(m).await;
    let got = old.recv_acked().await;
    assert_eq!(
        (got.qos, got.payload.as_ref()),
        (QoS::ExactlyOnce, &b"hello"[..])
    );

    old.publish_exactly_once(publish("x/from-old", QoS::ExactlyOnce, b"hi"))
        .await;
    assert_eq!(new.recv_acked().await.topic.as_str(), "x/from-old");
    // PUBACK in 3.1.1 has no reason code, even with no subscribers.
    old.publish1("nobody", b"x").await;
    b.shutdown().await;
}

#[tokio::test]
async fn invalid_filter_gets_failure_0x80() {
    // 3.1.1 section 3.9.3: return code 0x80 for a refused subscription.
    let b = broker().await;
    let (mut c, _) = client(b.tcp[0], "c", true).await;
    let mut body = vec![0, 1];
    body.extend(raw_str(b"a/#/b"));
    body.push(1);
    body.extend(raw_str(b"ok"));
    body.push(1);
    c.send_raw(&raw_packet(0x82, &body)).await;
    match c.recv().await {
        Some(Packet::SubAck(s)) => {
            assert!(s.reason_codes[0].is_error());
            assert_eq!(s.reason_codes[1], ReasonCode::GrantedQoS1);
        }
        other => panic!("expected SUBACK, got {other:?}"),
    }
    b.shutdown().await;
}

#[tokio::test]
async fn errors_close_the_connection_without_disconnect() {
    // 3.1.1 [MQTT-4.8.0-1]: a protocol violation closes the connection;
    // a second CONNECT too [MQTT-3.1.0-2]; the will is published.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut w = Client::v5(addr, "w").await;
    w.subscribe("w/#", QoS::AtMostOnce).await;
    for (i, bytes) in [
        vec![0x36, 0x03, 0x00, 0x01, b't'],    // QoS 3
        vec![0x80, 0x06, 0, 1, 0, 1, b'a', 0], // SUBSCRIBE flags 0
        vec![0xF0, 0x00],                      // AUTH does not exist in 3.1.1
        {
            let mut out = Vec::new();
            Packet::Connect(v311("again"))
                .encode(ProtocolVersion::V311, &mut out)
                .unwrap();
            out
        },
    ]
    .into_iter()
    .enumerate()
    {
        let topic = format!("w/{i}");
        let (mut c, _) = Client::connect(
            addr,
            Connect {
                will: Some(will(&topic, b"x")),
                ..v311(&format!("bad{i}"))
            },
        )
        .await;
        c.send_raw(&bytes).await;
        c.expect_closed().await;
        assert_eq!(w.recv_publish().await.topic.as_str(), topic);
    }
    b.shutdown().await;
}

#[tokio::test]
async fn takeover_closes_the_old_connection() {
    // 3.1.1 [MQTT-3.1.4-2]: the existing connection is closed.
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut first, _) = client(addr, "same", false).await;
    let (mut second, present) = client(addr, "same", false).await;
    assert!(present);
    first.expect_closed().await;
    second.ping().await;
    b.shutdown().await;
}

#[tokio::test]
async fn unacknowledged_messages_are_resent_with_dup() {
    // 3.1.1 [MQTT-4.4.0-1]
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut s, _) = client(addr, "s", false).await;
    s.subscribe("r", QoS::AtLeastOnce).await;
    let mut p = Client::v5(addr, "p").await;
    p.publish1("r", b"again").await;
    let first = s.recv_publish().await;
    assert!(!first.dup);
    drop(s);
    let (mut s, present) = client(addr, "s", false).await;
    assert!(present);
    let again = s.recv_publish().await;
    assert!(again.dup);
    assert_eq!(again.packet_id, first.packet_id);
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn server_keep_alive_does_not_apply_to_3_1_1() {
    // 3.1.1 cannot be told a Server Keep Alive, so the client's own is used
    // [MQTT-3.1.2-24 in 3.1.1]. Waiting is the point: past 1.5 x the
    // server's value the connection must still be open.
    let b = local(broker_with(|c| c.limits.server_keep_alive = Some(1)).await);
    let (mut c, _) = Client::connect(
        b,
        Connect {
            keep_alive: 60,
            ..v311("c")
        },
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    c.ping().await;
}
