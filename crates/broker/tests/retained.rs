//! Retained messages: store, replace, delete, Retain Handling, Retain As
//! Published and expiry.
mod common;

use common::*;
use wasmqtt_codec::{Publish, QoS, RetainHandling, SubscriptionOptions};

fn retained(topic: &str, payload: &[u8]) -> Publish {
    let mut p = publish(topic, QoS::AtLeastOnce, payload);
    p.retain = true;
    p
}

fn with_handling(qos: QoS, retain_handling: RetainHandling) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        retain_handling,
        ..Default::default()
    }
}

#[tokio::test]
async fn retained_message_is_stored_replaced_and_deleted() {
    // [MQTT-3.3.1-5] store and replace; [MQTT-3.3.1-6] [MQTT-3.3.1-7] an
    // empty payload deletes it and is not stored; [MQTT-3.3.1-8] RETAIN 0
    // neither stores nor replaces; [MQTT-3.3.1-9] new subscriptions get it
    // with RETAIN 1.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut p = Client::v5(addr, "p").await;
    p.publish_acked(retained("r/a", b"v1")).await;
    p.publish_acked(retained("r/a", b"v2")).await;
    p.publish_acked(retained("r/b", b"b")).await;
    p.publish1("r/a", b"not retained").await;

    let mut s = Client::v5(addr, "s").await;
    s.subscribe("r/+", QoS::AtLeastOnce).await;
    let mut got = [s.recv_acked().await, s.recv_acked().await];
    got.sort_by(|x, y| x.topic.cmp(&y.topic));
    assert!(got.iter().all(|m| m.retain));
    assert_eq!(got[0].payload.as_ref(), b"v2");
    assert_eq!(got[1].payload.as_ref(), b"b");
    s.assert_idle().await;

    // The empty retained message is forwarded normally, then forgotten.
    p.publish_acked(retained("r/a", b"")).await;
    let empty = s.recv_acked().await;
    assert!(empty.payload.is_empty());
    let mut late = Client::v5(addr, "late").await;
    late.subscribe("r/+", QoS::AtLeastOnce).await;
    assert_eq!(late.recv_acked().await.topic.as_str(), "r/b");
    late.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn retain_handling_0_1_2() {
    // [MQTT-3.3.1-9]: 0 sends on every SUBSCRIBE; [MQTT-3.3.1-10]: 1 only
    // when the subscription is new; [MQTT-3.3.1-11]: 2 never.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut p = Client::v5(addr, "p").await;
    p.publish_acked(retained("rh", b"kept")).await;
    let mut s = Client::v5(addr, "s").await;

    for _ in 0..2 {
        s.subscribe_with(
            "rh",
            with_handling(QoS::AtLeastOnce, RetainHandling::SendAtSubscribe),
        )
        .await;
        assert_eq!(s.recv_acked().await.payload.as_ref(), b"kept");
    }
    s.subscribe_with(
        "+",
        with_handling(QoS::AtLeastOnce, RetainHandling::SendAtSubscribeIfNew),
    )
    .await;
    assert_eq!(s.recv_acked().await.payload.as_ref(), b"kept");
    s.subscribe_with(
        "+",
        with_handling(QoS::AtLeastOnce, RetainHandling::SendAtSubscribeIfNew),
    )
    .await;
    s.assert_idle().await;
    s.subscribe_with(
        "#",
        with_handling(QoS::AtLeastOnce, RetainHandling::DoNotSend),
    )
    .await;
    s.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn retained_messages_go_at_the_lower_qos_and_keep_retain_without_rap() {
    // [MQTT-3.8.4-8] applies to retained messages too; [MQTT-3.3.1-9]
    // RETAIN is 1 for them whatever Retain As Published says.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut p = Client::v5(addr, "p").await;
    p.publish_exactly_once({
        let mut r = retained("q", b"two");
        r.qos = QoS::ExactlyOnce;
        r
    })
    .await;
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("q", QoS::AtLeastOnce).await;
    let got = s.recv_acked().await;
    assert_eq!(got.qos, QoS::AtLeastOnce);
    assert!(got.retain);
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn retained_message_expires() {
    // [MQTT-3.3.2-5]: an expired retained message is not sent;
    // [MQTT-3.3.2-6]: one still alive carries the time it has left.
    let b = local(broker().await);
    let addr = b;
    let mut p = Client::v5(addr, "p").await;
    let mut short = retained("exp/short", b"short");
    short.properties.message_expiry_interval = Some(1);
    p.publish_acked(short).await;
    let mut long = retained("exp/long", b"long");
    long.properties.message_expiry_interval = Some(100);
    p.publish_acked(long).await;
    // Waiting is the point: the message must outlive its interval.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("exp/#", QoS::AtLeastOnce).await;
    let got = s.recv_acked().await;
    assert_eq!(got.topic.as_str(), "exp/long");
    let left = got.properties.message_expiry_interval.unwrap();
    assert!(left <= 99, "{left}");
    s.assert_idle().await;
}
