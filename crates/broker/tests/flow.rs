//! QoS 0/1/2 in both directions, exactly-once, Receive Maximum both ways
//! and the client's Maximum Packet Size.
mod common;

use common::*;
use wasmqtt_codec::{Packet, PubAck, PubComp, PubRec, PubRel, QoS, ReasonCode};

#[tokio::test]
async fn delivery_qos_is_the_minimum_of_published_and_granted() {
    // [MQTT-3.8.4-8] [MQTT-3.3.4-1]
    let b = broker().await;
    let addr = b.tcp[0];
    let mut publ = Client::v5(addr, "pub").await;
    let mut subs = Vec::new();
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let mut s = Client::v5(addr, &format!("s{i}")).await;
        s.subscribe("m", qos).await;
        subs.push((s, qos));
    }
    for published in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        match published {
            QoS::AtMostOnce => {
                publ.publish("m", published, b"x").await;
            }
            QoS::AtLeastOnce => {
                publ.publish1("m", b"x").await;
            }
            _ => {
                publ.publish_exactly_once(publish("m", published, b"x"))
                    .await;
            }
        }
        for (s, granted) in &mut subs {
            let got = s.recv_acked().await;
            assert_eq!(got.qos, published.min(*granted));
            assert_eq!(got.packet_id.is_some(), got.qos != QoS::AtMostOnce);
            assert!(!got.dup);
        }
    }
    b.shutdown().await;
}

#[tokio::test]
async fn qos2_outbound_waits_for_pubrec_then_pubcomp() {
    // Section 4.3.3: PUBLISH, PUBREC, PUBREL, PUBCOMP from the broker's side;
    // a duplicate PUBREC is answered with PUBREL again.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut publ = Client::v5(addr, "pub").await;
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("q2", QoS::ExactlyOnce).await;
    publ.publish_exactly_once(publish("q2", QoS::ExactlyOnce, b"x"))
        .await;
    let got = s.recv_publish().await;
    let id = got.packet_id.unwrap();
    s.send(Packet::PubRec(PubRec::new(id))).await;
    assert!(
        matches!(s.recv().await, Some(Packet::PubRel(r)) if r.packet_id == id && r.reason_code == ReasonCode::Success)
    );
    s.send(Packet::PubRec(PubRec::new(id))).await;
    assert!(matches!(s.recv().await, Some(Packet::PubRel(r)) if r.packet_id == id));
    s.send(Packet::PubComp(PubComp::new(id))).await;
    // A PUBREC for nothing in flight: 0x92.
    s.send(Packet::PubRec(PubRec::new(pid(999)))).await;
    assert!(
        matches!(s.recv().await, Some(Packet::PubRel(r)) if r.reason_code == ReasonCode::PacketIdentifierNotFound)
    );
    s.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn inbound_qos2_is_routed_exactly_once() {
    // [MQTT-4.3.3-10]: a re-sent PUBLISH (DUP) before PUBREL gets PUBREC
    // and is not routed again; [MQTT-4.3.3-11] PUBREL gets PUBCOMP;
    // [MQTT-4.3.3-12] afterwards the same id is a new message.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("once", QoS::AtLeastOnce).await;
    let mut publ = Client::v5(addr, "pub").await;
    let mut p = publish("once", QoS::ExactlyOnce, b"first");
    p.packet_id = Some(pid(5));
    publ.send(Packet::Publish(p.clone())).await;
    assert!(matches!(publ.recv().await, Some(Packet::PubRec(r)) if r.packet_id == pid(5)));
    p.dup = true;
    publ.send(Packet::Publish(p.clone())).await;
    assert!(matches!(publ.recv().await, Some(Packet::PubRec(r)) if r.packet_id == pid(5)));
    publ.send(Packet::PubRel(PubRel::new(pid(5)))).await;
    assert!(
        matches!(publ.recv().await, Some(Packet::PubComp(c)) if c.packet_id == pid(5) && c.reason_code == ReasonCode::Success)
    );
    // The same id again is a new message.
    p.dup = false;
    p.payload = bytes::Bytes::from_static(b"second");
    publ.publish_exactly_once(p).await;
    assert_eq!(s.recv_acked().await.payload.as_ref(), b"first");
    assert_eq!(s.recv_acked().await.payload.as_ref(), b"second");
    s.assert_idle().await;
    // PUBREL for an unknown id: PUBCOMP 0x92.
    publ.send(Packet::PubRel(PubRel::new(pid(77)))).await;
    assert!(
        matches!(publ.recv().await, Some(Packet::PubComp(c)) if c.reason_code == ReasonCode::PacketIdentifierNotFound)
    );
    b.shutdown().await;
}

#[tokio::test]
async fn dup_is_not_forwarded() {
    // [MQTT-3.3.1-3]: DUP in an incoming PUBLISH is not propagated.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("d", QoS::AtLeastOnce).await;
    let mut publ = Client::v5(addr, "pub").await;
    let mut p = publish("d", QoS::AtLeastOnce, b"x");
    p.dup = true;
    publ.publish_acked(p).await;
    assert!(!s.recv_acked().await.dup);
    b.shutdown().await;
}

#[tokio::test]
async fn client_receive_maximum_limits_unacknowledged_deliveries() {
    // [MQTT-3.3.4-9]: never more than the client's Receive Maximum of QoS 1
    // and 2 deliveries unacknowledged; [MQTT-3.3.4-10] the rest follow as
    // acknowledgements arrive.
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut s, _) = connect_with(addr, "s", |c| c.properties.receive_maximum = Some(2)).await;
    s.subscribe("rm/#", QoS::ExactlyOnce).await;
    let mut publ = Client::v5(addr, "pub").await;
    for i in 0..3 {
        publ.publish1(&format!("rm/{i}"), b"1").await;
    }
    publ.publish_exactly_once(publish("rm/3", QoS::ExactlyOnce, b"2"))
        .await;
    publ.publish1("rm/4", b"1").await;

    let m0 = s.recv_publish().await;
    let m1 = s.recv_publish().await;
    s.assert_idle().await;
    s.ack(&m0).await;
    let m2 = s.recv_publish().await;
    s.assert_idle().await;
    s.ack(&m1).await;
    let m3 = s.recv_publish().await;
    assert_eq!(m3.qos, QoS::ExactlyOnce);
    s.assert_idle().await;
    // PUBREC alone does not free the slot: PUBCOMP does.
    let id3 = m3.packet_id.unwrap();
    s.send(Packet::PubRec(PubRec::new(id3))).await;
    assert!(matches!(s.recv().await, Some(Packet::PubRel(_))));
    s.assert_idle().await;
    s.send(Packet::PubComp(PubComp::new(id3))).await;
    let m4 = s.recv_publish().await;
    s.ack(&m2).await;
    s.ack(&m4).await;
    let topics: Vec<String> = [m0, m1, m2, m4]
        .iter()
        .map(|m| m.topic.to_string())
        .collect();
    assert_eq!(topics, ["rm/0", "rm/1", "rm/2", "rm/4"]);
    b.shutdown().await;
}

#[tokio::test]
async fn exceeding_our_receive_maximum_is_disconnect_0x93() {
    // [MQTT-3.3.4-7], section 3.2.2.3.3.
    let b = broker_with(|c| c.limits.receive_maximum = 2).await;
    let addr = b.tcp[0];
    let mut good = Client::v5(addr, "good").await;
    good.subscribe("rx", QoS::AtMostOnce).await;
    let (mut c, ack) = Client::connect(addr, connect("greedy")).await;
    assert_eq!(ack.properties.receive_maximum, Some(2));
    for id in 1..=2 {
        let mut p = publish("rx", QoS::ExactlyOnce, b"x");
        p.packet_id = Some(pid(id));
        c.send(Packet::Publish(p)).await;
        assert!(matches!(c.recv().await, Some(Packet::PubRec(_))));
    }
    let mut p = publish("rx", QoS::ExactlyOnce, b"x");
    p.packet_id = Some(pid(3));
    c.send(Packet::Publish(p)).await;
    c.expect_disconnect(ReasonCode::ReceiveMaximumExceeded)
        .await;
    // The two accepted ones were delivered once; others are unaffected.
    good.recv_publish().await;
    good.recv_publish().await;
    let mut other = Client::v5(addr, "other").await;
    other.publish1("rx", b"fine").await;
    assert_eq!(good.recv_publish().await.payload.as_ref(), b"fine");
    b.shutdown().await;
}

#[tokio::test]
async fn messages_over_the_client_maximum_packet_size_are_dropped() {
    // [MQTT-3.1.2-24] [MQTT-3.1.2-25]: never sent, and treated as delivered
    // (a dropped QoS 1 message does not hold a Receive Maximum slot).
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut s, _) = connect_with(addr, "s", |c| {
        c.properties.maximum_packet_size = Some(64);
        c.properties.receive_maximum = Some(1);
    })
    .await;
    s.subscribe("big", QoS::AtLeastOnce).await;
    let mut publ = Client::v5(addr, "pub").await;
    publ.publish1("big", &[b'x'; 100]).await;
    publ.publish1("big", &[b'x'; 100]).await;
    publ.publish1("big", b"small").await;
    let got = s.recv_publish().await;
    assert_eq!(got.payload.as_ref(), b"small");
    s.send(Packet::PubAck(PubAck::new(got.packet_id.unwrap())))
        .await;
    s.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn puback_reason_codes() {
    // Section 3.4.2.1: 0x10 No matching subscribers; 0x99 Payload format
    // invalid [MQTT-3.3.2-4]; 0x87 for topics starting with '$'.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut c = Client::v5(addr, "c").await;
    assert_eq!(
        c.publish1("nobody", b"x").await,
        ReasonCode::NoMatchingSubscribers
    );
    let mut p = publish("bad/utf8", QoS::AtLeastOnce, &[0xC3, 0x28]);
    p.properties.payload_format_indicator = Some(wasmqtt_codec::PayloadFormatIndicator::Utf8);
    assert_eq!(c.publish_acked(p).await, ReasonCode::PayloadFormatInvalid);
    assert_eq!(
        c.publish1("$SYS/fake", b"x").await,
        ReasonCode::NotAuthorized
    );
    b.shutdown().await;
}
