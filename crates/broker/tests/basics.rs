//! Connect, publish/subscribe at each QoS, retained messages, wills.
mod common;

use common::*;
use wasmqtt_codec::{Packet, PubAck, PubRec, PubRel, QoS, ReasonCode};

#[tokio::test]
async fn qos0_1_2_round_trip_between_two_clients() {
    // [MQTT-4.3.1-1] [MQTT-4.3.2-1] [MQTT-4.3.3-1] outbound, and the
    // broker's side of each flow.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut sub = Client::v5(addr, "sub").await;
    let mut publ = Client::v5(addr, "pub").await;
    assert!(
        matches!(sub.subscribe("a/+", QoS::ExactlyOnce).await, Packet::SubAck(s) if s.reason_codes == [ReasonCode::GrantedQoS2])
    );
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        publ.publish("a/b", qos, b"hi").await;
        match qos {
            QoS::AtLeastOnce => assert!(
                matches!(publ.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::Success)
            ),
            QoS::ExactlyOnce => {
                assert!(matches!(publ.recv().await, Some(Packet::PubRec(_))));
                publ.send(Packet::PubRel(PubRel::new(pid(7)))).await;
                assert!(matches!(publ.recv().await, Some(Packet::PubComp(_))));
            }
            _ => {}
        }
        let got = sub.recv_publish().await;
        assert_eq!(got.topic.as_str(), "a/b");
        assert_eq!(got.qos, qos);
        assert_eq!(got.payload.as_ref(), b"hi");
        match (qos, got.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => sub.send(Packet::PubAck(PubAck::new(id))).await,
            (QoS::ExactlyOnce, Some(id)) => {
                sub.send(Packet::PubRec(PubRec::new(id))).await;
                assert!(matches!(sub.recv().await, Some(Packet::PubRel(_))));
            }
            _ => {}
        }
    }
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn retained_message_is_sent_to_new_subscribers_and_deleted_by_empty_payload() {
    // [MQTT-3.3.1-5] [MQTT-3.3.1-6]
    let addr = local(broker().await);
    let mut publ = Client::v5(addr, "p").await;
    // QoS 1, so the PUBACK says the broker has stored it.
    let mut p = publish("status/x", QoS::AtLeastOnce, b"online");
    p.retain = true;
    p.packet_id = Some(pid(1));
    publ.send(Packet::Publish(p.clone())).await;
    assert!(matches!(publ.recv().await, Some(Packet::PubAck(_))));
    let mut sub = Client::v5(addr, "s").await;
    sub.subscribe("status/#", QoS::AtLeastOnce).await;
    let got = sub.recv_publish().await;
    // [MQTT-3.3.1-9]: retained messages for a new subscription carry RETAIN 1.
    assert!(got.retain);
    assert_eq!(got.payload.as_ref(), b"online");
    // [MQTT-3.3.1-10]: an empty retained payload deletes it.
    p.payload = bytes::Bytes::new();
    publ.send(Packet::Publish(p)).await;
    assert!(matches!(publ.recv().await, Some(Packet::PubAck(_))));
    let mut late = Client::v5(addr, "late").await;
    late.subscribe("status/#", QoS::AtLeastOnce).await;
    assert_eq!(late.try_recv().await, None);
}

#[tokio::test(start_paused = true)]
async fn will_is_published_on_abrupt_close_but_not_after_disconnect() {
    // [MQTT-3.1.2-8] [MQTT-3.1.2-10]
    let addr = local(broker().await);
    let mut watcher = Client::v5(addr, "w").await;
    watcher.subscribe("wills/#", QoS::AtMostOnce).await;
    for (id, polite) in [("dies", false), ("leaves", true)] {
        let mut c = connect(id);
        c.will = Some(wasmqtt_codec::Will {
            topic: wasmqtt_codec::TopicName::new(format!("wills/{id}")).unwrap(),
            payload: bytes::Bytes::from_static(b"gone"),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Default::default(),
        });
        let (mut client, _) = Client::connect(addr, c).await;
        if polite {
            client.send(Packet::Disconnect(Default::default())).await;
        }
        drop(client);
    }
    let will = watcher.recv_publish().await;
    assert_eq!(will.topic.as_str(), "wills/dies");
    assert_eq!(watcher.try_recv().await, None);
}

#[tokio::test]
async fn malformed_packet_gets_disconnect_0x81_and_others_are_unaffected() {
    // [MQTT-3.3.1-4] [MQTT-4.13.1-1]
    let b = broker().await;
    let addr = b.tcp[0];
    let mut good = Client::v5(addr, "good").await;
    good.subscribe("t", QoS::AtMostOnce).await;
    let mut bad = Client::v5(addr, "bad").await;
    // PUBLISH with QoS 3 [MQTT-3.3.1-4].
    bad.send_raw(&[0x36, 0x03, 0x00, 0x01, b't']).await;
    assert!(
        matches!(bad.recv().await, Some(Packet::Disconnect(d)) if d.reason_code == ReasonCode::MalformedPacket)
    );
    assert_eq!(bad.recv().await, None);
    let mut other = Client::v5(addr, "other").await;
    other.publish("t", QoS::AtMostOnce, b"still fine").await;
    assert_eq!(good.recv_publish().await.payload.as_ref(), b"still fine");
    b.shutdown().await;
}
