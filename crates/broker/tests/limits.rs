//! Limits: Maximum Packet Size (refused before the body arrives) and the
//! connection limit.
mod common;

use common::*;
use wasmqtt_codec::{Packet, ProtocolVersion, QoS, ReasonCode};

#[tokio::test]
async fn oversize_packet_is_refused_with_0x95_before_its_body_arrives() {
    // [MQTT-3.2.2-15], section 3.2.2.3.6: only the fixed header of a
    // 1 MB PUBLISH is sent; the broker answers without waiting for the rest.
    let b = broker_with(|c| c.limits.max_packet_size = 1024).await;
    let addr = b.tcp[0];
    let mut good = Client::v5(addr, "good").await;
    good.subscribe("t", QoS::AtMostOnce).await;
    let (mut big, ack) = Client::connect(addr, connect("big")).await;
    assert_eq!(ack.properties.maximum_packet_size, Some(1024));
    big.send_raw(&[0x30, 0x80, 0x80, 0x40]).await; // Remaining Length 1,048,576
    big.expect_disconnect(ReasonCode::PacketTooLarge).await;

    // Exactly at the limit is fine; one byte more is not.
    let mut edge = Client::v5(addr, "edge").await;
    let at_limit = publish("t", QoS::AtMostOnce, &[b'x'; 1017]);
    assert_eq!(at_limit.encoded_len(ProtocolVersion::V5), 1024);
    edge.send(Packet::Publish(at_limit)).await;
    edge.publish("t", QoS::AtMostOnce, &[b'x'; 1018]).await;
    edge.expect_disconnect(ReasonCode::PacketTooLarge).await;
    assert_eq!(good.recv_publish().await.payload.len(), 1017);
    good.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn oversize_connect_gets_connack_0x95() {
    // [MQTT-4.13.1-1]: a CONNECT over the limit is refused with CONNACK.
    let b = broker_with(|c| c.limits.max_packet_size = 1024).await;
    let mut c = Client::open(b.tcp[0], ProtocolVersion::V5).await;
    let mut head = vec![0x10, 0x80, 0x10]; // Remaining Length 2048
    head.extend(raw_str(b"MQTT"));
    head.push(5);
    c.send_raw(&head).await;
    match c.recv().await {
        Some(Packet::ConnAck(a)) => assert_eq!(a.reason_code, ReasonCode::PacketTooLarge),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    c.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_closed() {
    // Broker limit (no normative statement): over max_connections the
    // socket is closed at once; open connections are unaffected.
    let b = broker_with(|c| c.limits.max_connections = 2).await;
    let addr = b.tcp[0];
    let mut one = Client::v5(addr, "one").await;
    let mut two = Client::v5(addr, "two").await;
    // The third is closed as soon as it is accepted.
    let mut three = Client::open(addr, ProtocolVersion::V5).await;
    three.expect_closed().await;
    one.ping().await;
    two.ping().await;
    b.shutdown().await;
}
