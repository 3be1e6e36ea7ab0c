//! Subscriptions: wildcards, `$` topics, shared subscriptions, No Local,
//! Subscription Identifiers, SUBACK and UNSUBACK reason codes.
mod common;

use std::collections::BTreeSet;

use common::*;
use wasmqtt_codec::{
    Packet, Properties, QoS, ReasonCode, Subscribe, Subscription, SubscriptionOptions, Unsubscribe,
};

fn opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..Default::default()
    }
}

/// Subscribes with a Subscription Identifier.
async fn subscribe_with_id(c: &mut Client, filter: &str, id: Option<u32>) {
    c.send(Packet::Subscribe(Subscribe {
        packet_id: pid(3),
        properties: Properties {
            subscription_identifiers: id.into_iter().collect(),
            ..Properties::default()
        },
        subscriptions: vec![Subscription {
            filter: filter.into(),
            options: opts(QoS::AtLeastOnce),
        }],
    }))
    .await;
    assert!(matches!(c.recv().await, Some(Packet::SubAck(_))));
}

#[tokio::test]
async fn wildcards_match_levels() {
    // Section 4.7.1: '+' one level, '#' the parent and any children.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("sport/+/player", QoS::AtMostOnce).await;
    s.subscribe("news/#", QoS::AtMostOnce).await;
    let mut p = Client::v5(addr, "p").await;
    for (topic, matches) in [
        ("sport/tennis/player", true),
        ("sport/tennis/player/x", false),
        ("sport//player", true),
        ("news", true),
        ("news/a/b/c", true),
        ("newsx", false),
    ] {
        let code = p.publish1(topic, b"x").await;
        assert_eq!(code == ReasonCode::Success, matches, "{topic}");
        if matches {
            assert_eq!(s.recv_publish().await.topic.as_str(), topic);
        }
    }
    s.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dollar_topics_are_not_matched_by_leading_wildcards() {
    // [MQTT-4.7.2-1]: '#' and '+/...' do not match topics starting with
    // '$'; "$SYS/#" does. Clients may not publish to '$' topics, so the
    // broker's own $SYS topics are used, for retained and live messages.
    // In-process connections on the paused clock: the $SYS interval passes
    // in virtual time.
    let addr = local(broker_with(|c| c.sys_interval = 1).await);
    let mut wild = Client::v5(addr, "wild").await;
    wild.subscribe("#", QoS::AtMostOnce).await;
    wild.subscribe("+/broker/uptime", QoS::AtMostOnce).await;
    let mut sys = Client::v5(addr, "sys").await;
    sys.subscribe_with(
        "$SYS/broker/uptime",
        SubscriptionOptions {
            retain_handling: wasmqtt_codec::RetainHandling::DoNotSend,
            ..Default::default()
        },
    )
    .await;
    // The next update reaches "sys"; it was routed to "wild" at the same time.
    let live = sys.recv_publish().await;
    assert_eq!(live.topic.as_str(), "$SYS/broker/uptime");
    wild.assert_idle().await;
    // The retained $SYS messages are not sent for a new '#' either.
    let mut late = Client::v5(addr, "late").await;
    late.subscribe("#", QoS::AtMostOnce).await;
    late.assert_idle().await;
}

#[tokio::test]
async fn shared_subscription_takes_turns_and_gets_no_retained_messages() {
    // Section 4.8.2: each message goes to one member of the group, in
    // turn; plain subscriptions to the same filter still get every one;
    // retained messages are not sent for a shared subscription.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut p = Client::v5(addr, "p").await;
    let mut r = publish("job/0", QoS::AtLeastOnce, b"retained");
    r.retain = true;
    p.publish_acked(r).await;

    let mut a = Client::v5(addr, "a").await;
    let mut bb = Client::v5(addr, "b").await;
    for m in [&mut a, &mut bb] {
        let codes = suback_codes(m.subscribe("$share/g/job/+", QoS::AtLeastOnce).await);
        assert_eq!(codes, [ReasonCode::GrantedQoS1]);
        m.assert_idle().await;
    }
    let mut plain = Client::v5(addr, "plain").await;
    plain.subscribe("job/+", QoS::AtMostOnce).await;
    plain.recv_publish().await; // the retained one

    for i in 1..=4 {
        p.publish1(&format!("job/{i}"), b"work").await;
    }
    let mut got_a = BTreeSet::new();
    let mut got_b = BTreeSet::new();
    for _ in 0..2 {
        got_a.insert(a.recv_acked().await.topic.to_string());
        got_b.insert(bb.recv_acked().await.topic.to_string());
    }
    a.assert_idle().await;
    bb.assert_idle().await;
    assert!(got_a.is_disjoint(&got_b), "{got_a:?} {got_b:?}");
    // Turns alternate: one member gets the odd messages, the other the even.
    let odd: BTreeSet<String> = ["job/1".into(), "job/3".into()].into();
    assert!(got_a == odd || got_b == odd, "{got_a:?} {got_b:?}");
    for _ in 0..4 {
        plain.recv_publish().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn shared_subscription_prefers_connected_members() {
    // Section 4.8.2: a member whose session is offline is skipped while
    // another is connected.
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut gone, _) = connect_with(addr, "gone", |c| {
        c.clean_start = false;
        c.properties.session_expiry_interval = Some(60);
    })
    .await;
    gone.subscribe("$share/g/s", QoS::AtLeastOnce).await;
    gone.disconnect().await;
    let mut here = Client::v5(addr, "here").await;
    here.subscribe("$share/g/s", QoS::AtLeastOnce).await;
    let mut p = Client::v5(addr, "p").await;
    for _ in 0..3 {
        p.publish1("s", b"x").await;
        here.recv_acked().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn no_local_and_retain_as_published() {
    // [MQTT-3.8.3-3]: No Local keeps a client's own messages from it;
    // [MQTT-3.3.1-12] [MQTT-3.3.1-13]: RETAIN is forwarded only with
    // Retain As Published; [MQTT-3.8.3-4] No Local on a shared
    // subscription is a Protocol Error.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut me = Client::v5(addr, "me").await;
    me.subscribe_with(
        "nl",
        SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            no_local: true,
            ..Default::default()
        },
    )
    .await;
    let mut rap = Client::v5(addr, "rap").await;
    rap.subscribe_with(
        "nl",
        SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            retain_as_published: true,
            ..Default::default()
        },
    )
    .await;
    let mut plain = Client::v5(addr, "plain").await;
    plain.subscribe("nl", QoS::AtLeastOnce).await;
    let mut p = publish("nl", QoS::AtLeastOnce, b"mine");
    p.retain = true;
    assert_eq!(me.publish_acked(p).await, ReasonCode::Success);
    assert!(rap.recv_acked().await.retain);
    assert!(!plain.recv_acked().await.retain);
    me.assert_idle().await;
    // Someone else's message does reach "me".
    plain.publish1("nl", b"theirs").await;
    assert_eq!(me.recv_acked().await.payload.as_ref(), b"theirs");

    let mut bad = Client::v5(addr, "bad").await;
    bad.send_raw(&raw_subscribe(1, &[("$share/g/nl", 0b0000_0101)]))
        .await;
    bad.expect_disconnect(ReasonCode::ProtocolError).await;
    b.shutdown().await;
}

#[tokio::test]
async fn subscription_identifiers_are_attached_to_forwarded_messages() {
    // [MQTT-3.3.4-3] [MQTT-3.3.4-4]: one copy carrying the identifiers of
    // every matching subscription; a subscription without one adds none.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    subscribe_with_id(&mut s, "a/+", Some(1)).await;
    subscribe_with_id(&mut s, "a/#", Some(268_435_455)).await;
    subscribe_with_id(&mut s, "+/b", None).await;
    let mut p = Client::v5(addr, "p").await;
    p.publish1("a/b", b"x").await;
    let got = s.recv_acked().await;
    let mut ids = got.properties.subscription_identifiers.clone();
    ids.sort_unstable();
    assert_eq!(ids, [1, 268_435_455]);
    s.assert_idle().await;
    // Re-subscribing without an identifier removes it [MQTT-3.8.4-3].
    subscribe_with_id(&mut s, "a/#", None).await;
    p.publish1("a/c", b"x").await;
    assert_eq!(
        s.recv_acked().await.properties.subscription_identifiers,
        [1]
    );
    // The publisher's own PUBLISH may not carry one [MQTT-3.3.4-6]: the
    // codec refuses it as a Malformed Packet.
    b.shutdown().await;
}

#[tokio::test]
async fn suback_has_a_reason_code_per_filter() {
    // [MQTT-3.8.4-5] [MQTT-3.8.4-6] [MQTT-3.8.4-7]: invalid filters get
    // 0x8F, valid ones in the same SUBSCRIBE are granted [MQTT-4.7.1-1]
    // [MQTT-4.7.1-2] [MQTT-4.8.2-1] [MQTT-4.8.2-2].
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.send_raw(&raw_subscribe(
        4,
        &[
            ("ok/+", 1),
            ("a/#/b", 1),
            ("x+", 1),
            ("$share/g", 1),
            ("$share//t", 1),
            ("$share/g+/t", 1),
            ("fine/#", 2),
            ("zero", 0),
        ],
    ))
    .await;
    let Some(Packet::SubAck(ack)) = s.recv().await else {
        panic!("expected SUBACK");
    };
    assert_eq!(ack.packet_id, pid(4));
    use ReasonCode as R;
    assert_eq!(
        ack.reason_codes,
        [
            R::GrantedQoS1,
            R::TopicFilterInvalid,
            R::TopicFilterInvalid,
            R::TopicFilterInvalid,
            R::TopicFilterInvalid,
            R::TopicFilterInvalid,
            R::GrantedQoS2,
            R::GRANTED_QOS_0,
        ]
    );
    let mut p = Client::v5(addr, "p").await;
    p.publish1("fine/x", b"x").await;
    assert_eq!(s.recv_acked().await.qos, QoS::AtLeastOnce);
    b.shutdown().await;
}

#[tokio::test]
async fn overlapping_subscriptions_deliver_one_copy_at_the_highest_qos() {
    // [MQTT-3.3.4-2]
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("o/+", QoS::AtMostOnce).await;
    s.subscribe("o/#", QoS::ExactlyOnce).await;
    let mut p = Client::v5(addr, "p").await;
    p.publish_exactly_once(publish("o/x", QoS::ExactlyOnce, b"x"))
        .await;
    assert_eq!(s.recv_acked().await.qos, QoS::ExactlyOnce);
    s.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn resubscribing_replaces_and_unsubscribe_removes() {
    // [MQTT-3.8.4-3]: same filter replaces the subscription (new QoS);
    // [MQTT-3.10.4-1] [MQTT-3.10.4-5]: UNSUBSCRIBE removes it and UNSUBACK
    // has a reason code per filter, 0x11 for none.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("u", QoS::ExactlyOnce).await;
    s.subscribe("u", QoS::AtMostOnce).await;
    let mut p = Client::v5(addr, "p").await;
    p.publish1("u", b"x").await;
    assert_eq!(s.recv_publish().await.qos, QoS::AtMostOnce);
    s.assert_idle().await;

    s.send(Packet::Unsubscribe(Unsubscribe {
        packet_id: pid(8),
        properties: Properties::default(),
        filters: vec!["u".into(), "never".into()],
    }))
    .await;
    match s.recv().await {
        Some(Packet::UnsubAck(u)) => {
            assert_eq!(u.packet_id, pid(8));
            assert_eq!(
                u.reason_codes,
                [ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
            );
        }
        other => panic!("expected UNSUBACK, got {other:?}"),
    }
    assert_eq!(
        p.publish1("u", b"x").await,
        ReasonCode::NoMatchingSubscribers
    );
    b.shutdown().await;
}
