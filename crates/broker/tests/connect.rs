//! CONNECT and CONNACK: what must come first, timeouts, keep alive, the
//! limits announced in CONNACK.
mod common;

use std::time::Duration;

use tokio::time::Instant;

use common::*;
use wasmqtt_codec::{Packet, ProtocolVersion, QoS, ReasonCode};

#[tokio::test]
async fn connack_announces_the_limits() {
    // Section 3.2.2.3: Receive Maximum, Maximum Packet Size, Topic Alias
    // Maximum; a Session Expiry Interval above ours is answered with ours.
    let b = broker_with(|c| {
        c.limits.receive_maximum = 10;
        c.limits.max_packet_size = 4096;
        c.limits.topic_alias_maximum = 3;
        c.limits.max_session_expiry = 100;
    })
    .await;
    let (_c, ack) = connect_with(b.tcp[0], "c", |c| {
        c.properties.session_expiry_interval = Some(u32::MAX);
    })
    .await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    assert_eq!(ack.properties.receive_maximum, Some(10));
    assert_eq!(ack.properties.maximum_packet_size, Some(4096));
    assert_eq!(ack.properties.topic_alias_maximum, Some(3));
    assert_eq!(ack.properties.session_expiry_interval, Some(100));
    assert_eq!(ack.properties.server_keep_alive, None);
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn keep_alive_is_enforced_at_one_and_a_half_times() {
    // [MQTT-3.1.2-22]: nothing for 1.5 x Keep Alive: DISCONNECT 0x8D, and
    // the will is published [MQTT-3.1.2-8].
    let b = local(broker().await);
    let addr = b;
    let mut w = Client::v5(addr, "w").await;
    w.subscribe("w/#", QoS::AtMostOnce).await;
    let (mut idle, _) = connect_with(addr, "idle", |c| {
        c.keep_alive = 1;
        c.will = Some(will("w/idle", b"timed out"));
    })
    .await;
    let started = Instant::now();
    idle.expect_disconnect(ReasonCode::KeepAliveTimeout).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    assert_eq!(w.recv_publish().await.payload.as_ref(), b"timed out");
}

#[tokio::test(start_paused = true)]
async fn pings_keep_the_connection_alive() {
    // [MQTT-3.1.2-22] [MQTT-3.12.4-1]: packets within the Keep Alive keep it
    // open; PINGREQ is answered with PINGRESP.
    let b = local(broker().await);
    let (mut c, _) = connect_with(b, "c", |c| c.keep_alive = 1).await;
    // Waiting is the point: the pings must span more than 1.5 s.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        c.ping().await;
    }
}

#[tokio::test(start_paused = true)]
async fn server_keep_alive_replaces_the_clients() {
    // [MQTT-3.1.2-21]: the Server Keep Alive in CONNACK is the one enforced.
    let b = local(broker_with(|c| c.limits.server_keep_alive = Some(1)).await);
    let (mut c, ack) = connect_with(b, "c", |c| c.keep_alive = 600).await;
    assert_eq!(ack.properties.server_keep_alive, Some(1));
    c.expect_disconnect(ReasonCode::KeepAliveTimeout).await;
}

#[tokio::test(start_paused = true)]
async fn connect_must_arrive_within_the_connect_timeout() {
    // Section 3.1.4: a connection that sends no CONNECT in reasonable time
    // is closed.
    let b = local(broker_with(|c| c.limits.connect_timeout = 1).await);
    let mut silent = Client::open(b, ProtocolVersion::V5).await;
    let started = Instant::now();
    silent.expect_closed().await;
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn first_packet_must_be_connect() {
    // [MQTT-3.1.0-1]: anything else closes the connection, unanswered.
    let b = broker().await;
    let mut c = Client::open(b.tcp[0], ProtocolVersion::V5).await;
    c.send(Packet::PingReq).await;
    c.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_second_connect_is_a_protocol_error() {
    // [MQTT-3.1.0-2]
    let b = broker().await;
    let mut c = Client::v5(b.tcp[0], "c").await;
    c.send(Packet::Connect(connect("c"))).await;
    c.expect_disconnect(ReasonCode::ProtocolError).await;
    b.shutdown().await;
}

#[tokio::test]
async fn packets_sent_with_connect_in_one_write_are_handled() {
    // Section 3.1.4: a client may send further packets right after CONNECT,
    // without waiting for CONNACK.
    let b = broker().await;
    let mut c = Client::open(b.tcp[0], ProtocolVersion::V5).await;
    let mut bytes = Vec::new();
    for p in [
        Packet::Connect(connect("eager")),
        Packet::Subscribe(wasmqtt_codec::Subscribe {
            packet_id: pid(1),
            properties: Default::default(),
            subscriptions: vec![wasmqtt_codec::Subscription {
                filter: "e".into(),
                options: Default::default(),
            }],
        }),
        Packet::PingReq,
    ] {
        p.encode(ProtocolVersion::V5, &mut bytes).unwrap();
    }
    c.send_raw(&bytes).await;
    assert!(matches!(c.recv().await, Some(Packet::ConnAck(_))));
    assert!(matches!(c.recv().await, Some(Packet::SubAck(_))));
    assert!(matches!(c.recv().await, Some(Packet::PingResp)));
    b.shutdown().await;
}

#[tokio::test]
async fn unsupported_protocol_level_is_refused() {
    // [MQTT-3.1.2-2]: CONNACK 0x84 (in the 3.1.1 form an old client reads:
    // return code 1), then the connection closes.
    let b = broker().await;
    let mut c = Client::open(b.tcp[0], ProtocolVersion::V311).await;
    let mut body = raw_str(b"MQTT");
    body.extend([6, 0x02, 0, 60]);
    body.extend(raw_str(b"c"));
    c.send_raw(&raw_packet(0x10, &body)).await;
    match c.recv().await {
        Some(Packet::ConnAck(a)) => {
            assert_eq!(a.reason_code, ReasonCode::UnsupportedProtocolVersion)
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    c.expect_closed().await;
    b.shutdown().await;
}
