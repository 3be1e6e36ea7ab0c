//! Sessions: Clean Start, Session Expiry, Session Present, queued messages,
//! takeover, assigned client identifiers and re-sending after resume.
mod common;

use common::*;
use wasmqtt_codec::{Disconnect, Packet, Properties, PubComp, PubRec, QoS, ReasonCode};

/// CONNECT changes for a session that outlives the connection.
fn persistent(expiry: u32) -> impl FnOnce(&mut wasmqtt_codec::Connect) {
    move |c| {
        c.clean_start = false;
        c.properties.session_expiry_interval = Some(expiry);
    }
}

#[tokio::test]
async fn clean_start_and_session_present() {
    // [MQTT-3.1.2-4] [MQTT-3.1.2-5] [MQTT-3.1.2-6] [MQTT-3.2.2-2] [MQTT-3.2.2-3]
    let b = broker().await;
    let addr = b.tcp[0];
    let mut publ = Client::v5(addr, "pub").await;

    let (mut s, ack) = connect_with(addr, "s", persistent(60)).await;
    assert!(!ack.session_present, "no session existed");
    s.subscribe("t", QoS::AtLeastOnce).await;
    s.disconnect().await;

    // Clean Start 0 resumes the session and its subscription.
    let (mut s, ack) = connect_with(addr, "s", persistent(60)).await;
    assert!(ack.session_present);
    assert_eq!(publ.publish1("t", b"kept").await, ReasonCode::Success);
    assert_eq!(s.recv_acked().await.payload.as_ref(), b"kept");
    s.disconnect().await;

    // Clean Start 1 discards it: no subscription is left.
    let (s, ack) = connect_with(addr, "s", |c| {
        c.properties.session_expiry_interval = Some(60);
    })
    .await;
    assert!(!ack.session_present);
    assert_eq!(
        publ.publish1("t", b"gone").await,
        ReasonCode::NoMatchingSubscribers
    );
    s.disconnect().await;
    b.shutdown().await;
}

#[tokio::test]
async fn session_expiry_zero_ends_the_session_with_the_connection() {
    // [MQTT-3.1.2-23]: with an interval of 0 nothing is kept.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut publ = Client::v5(addr, "pub").await;
    let (mut s, _) = connect_with(addr, "s", |c| c.clean_start = false).await;
    s.subscribe("t", QoS::AtLeastOnce).await;
    s.disconnect().await;
    let (_s, ack) = connect_with(addr, "s", |c| c.clean_start = false).await;
    assert!(!ack.session_present);
    assert_eq!(
        publ.publish1("t", b"x").await,
        ReasonCode::NoMatchingSubscribers
    );
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn session_expires_after_its_interval() {
    // [MQTT-3.1.2-23] [MQTT-3.1.3-9]: the session ends after 1 s; a will
    // whose delay is longer is published right then, which tells the test
    // when the session ended without guessing.
    let b = local(broker().await);
    let addr = b;
    let mut watcher = Client::v5(addr, "watcher").await;
    watcher.subscribe("ended/#", QoS::AtMostOnce).await;
    let (mut s, _) = connect_with(addr, "s", |c| {
        persistent(1)(c);
        let mut w = will("ended/s", b"bye");
        w.properties.will_delay_interval = Some(3600);
        c.will = Some(w);
    })
    .await;
    s.subscribe("t", QoS::AtLeastOnce).await;
    drop(s);
    let started = tokio::time::Instant::now();
    assert_eq!(watcher.recv_publish().await.topic.as_str(), "ended/s");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    let (_s, ack) = connect_with(addr, "s", persistent(1)).await;
    assert!(!ack.session_present, "the session expired");
}

#[tokio::test]
async fn session_expiry_can_be_shortened_at_disconnect_but_not_set_from_zero() {
    // Section 3.14.2.2.2: from 0 to non-zero is a Protocol Error.
    let b = broker().await;
    let addr = b.tcp[0];
    // 60 at CONNECT, 0 at DISCONNECT: the session ends with the connection.
    let (mut s, _) = connect_with(addr, "a", persistent(60)).await;
    s.subscribe("t", QoS::AtLeastOnce).await;
    s.send(Packet::Disconnect(Disconnect {
        reason_code: ReasonCode::Success,
        properties: Properties {
            session_expiry_interval: Some(0),
            ..Properties::default()
        },
    }))
    .await;
    s.expect_closed().await;
    let (_a, ack) = connect_with(addr, "a", persistent(60)).await;
    assert!(!ack.session_present);

    // 0 at CONNECT, non-zero at DISCONNECT: Protocol Error, will published.
    let mut watcher = Client::v5(addr, "w").await;
    watcher.subscribe("w/#", QoS::AtMostOnce).await;
    let (mut z, _) = connect_with(addr, "z", |c| c.will = Some(will("w/z", b"z"))).await;
    z.send(Packet::Disconnect(Disconnect {
        reason_code: ReasonCode::Success,
        properties: Properties {
            session_expiry_interval: Some(30),
            ..Properties::default()
        },
    }))
    .await;
    z.expect_disconnect(ReasonCode::ProtocolError).await;
    assert_eq!(watcher.recv_publish().await.topic.as_str(), "w/z");
    let (_z, ack) = connect_with(addr, "z", |c| c.clean_start = false).await;
    assert!(!ack.session_present);
    b.shutdown().await;
}

#[tokio::test]
async fn offline_session_queues_qos1_and_qos2_up_to_the_limit_but_not_qos0() {
    // Section 4.1: QoS 1 and 2 messages pending for the session are kept;
    // QoS 0 ones need not be, and this broker does not keep them.
    let b = broker_with(|c| c.limits.max_queued_messages = 2).await;
    let addr = b.tcp[0];
    let mut publ = Client::v5(addr, "pub").await;
    let (mut s, _) = connect_with(addr, "s", persistent(60)).await;
    s.subscribe("q/#", QoS::ExactlyOnce).await;
    s.disconnect().await;

    publ.publish("q/0", QoS::AtMostOnce, b"zero").await;
    publ.publish1("q/1", b"one").await;
    publ.publish_exactly_once(publish("q/2", QoS::ExactlyOnce, b"two"))
        .await;
    // The queue is full: this one is dropped.
    publ.publish1("q/3", b"three").await;

    let (mut s, ack) = connect_with(addr, "s", persistent(60)).await;
    assert!(ack.session_present);
    let first = s.recv_acked().await;
    assert_eq!(
        (first.payload.as_ref(), first.qos),
        (&b"one"[..], QoS::AtLeastOnce)
    );
    let second = s.recv_acked().await;
    assert_eq!(
        (second.payload.as_ref(), second.qos),
        (&b"two"[..], QoS::ExactlyOnce)
    );
    // A message published now comes next: nothing else was queued.
    publ.publish1("q/4", b"now").await;
    assert_eq!(s.recv_acked().await.payload.as_ref(), b"now");
    b.shutdown().await;
}

#[tokio::test]
async fn a_second_connection_takes_the_session_over() {
    // [MQTT-3.1.4-3]: the old connection gets DISCONNECT 0x8E and is
    // closed, its will is published, and the new one continues the session.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut watcher = Client::v5(addr, "w").await;
    watcher.subscribe("w/#", QoS::AtMostOnce).await;
    let mut publ = Client::v5(addr, "pub").await;
    let (mut old, _) = connect_with(addr, "dup", |c| {
        persistent(60)(c);
        c.will = Some(will("w/dup", b"old"));
    })
    .await;
    old.subscribe("t", QoS::AtLeastOnce).await;

    let (mut new, ack) = connect_with(addr, "dup", persistent(60)).await;
    assert!(ack.session_present);
    old.expect_disconnect(ReasonCode::SessionTakenOver).await;
    assert_eq!(watcher.recv_publish().await.payload.as_ref(), b"old");

    assert_eq!(publ.publish1("t", b"to new").await, ReasonCode::Success);
    assert_eq!(new.recv_acked().await.payload.as_ref(), b"to new");
    // The old connection's close did not detach the new one.
    new.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn empty_client_id_gets_an_assigned_one_that_can_resume() {
    // [MQTT-3.1.3-6] [MQTT-3.1.3-7]
    let b = broker().await;
    let addr = b.tcp[0];
    let (first, ack1) = connect_with(addr, "", persistent(60)).await;
    let (_second, ack2) = connect_with(addr, "", |_| {}).await;
    let id1 = ack1
        .properties
        .assigned_client_identifier
        .expect("assigned id");
    let id2 = ack2
        .properties
        .assigned_client_identifier
        .expect("assigned id");
    assert!(!id1.is_empty());
    assert_ne!(id1, id2, "assigned ids are unique");
    first.disconnect().await;
    let (_again, ack) = connect_with(addr, &id1, persistent(60)).await;
    assert!(ack.session_present, "the assigned id names the session");
    assert_eq!(ack.properties.assigned_client_identifier, None);
    b.shutdown().await;
}

#[tokio::test]
async fn unacknowledged_deliveries_are_resent_with_dup_in_order_after_resume() {
    // [MQTT-4.4.0-1] [MQTT-3.3.1-1]: PUBLISH not acknowledged is re-sent
    // with DUP and the same Packet Identifier, PUBREL not completed is
    // re-sent, in the original order.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut publ = Client::v5(addr, "pub").await;
    let (mut s, _) = connect_with(addr, "s", persistent(60)).await;
    s.subscribe("r/#", QoS::ExactlyOnce).await;

    publ.publish1("r/1", b"one").await;
    publ.publish_exactly_once(publish("r/2", QoS::ExactlyOnce, b"two"))
        .await;
    publ.publish_exactly_once(publish("r/3", QoS::ExactlyOnce, b"three"))
        .await;
    let one = s.recv_publish().await;
    let two = s.recv_publish().await;
    let three = s.recv_publish().await;
    // Only the second gets as far as PUBREL.
    let two_id = two.packet_id.unwrap();
    s.send(Packet::PubRec(PubRec::new(two_id))).await;
    assert!(matches!(s.recv().await, Some(Packet::PubRel(r)) if r.packet_id == two_id));
    drop(s);

    let (mut s, ack) = connect_with(addr, "s", persistent(60)).await;
    assert!(ack.session_present);
    let again = s.recv_publish().await;
    assert!(again.dup);
    assert_eq!(
        (again.packet_id, &again.payload),
        (one.packet_id, &one.payload)
    );
    assert!(matches!(s.recv().await, Some(Packet::PubRel(r)) if r.packet_id == two_id));
    let again3 = s.recv_publish().await;
    assert!(again3.dup);
    assert_eq!(
        (again3.packet_id, &again3.payload),
        (three.packet_id, &three.payload)
    );
    s.ack(&again).await;
    s.send(Packet::PubComp(PubComp::new(two_id))).await;
    s.ack(&again3).await;
    // Everything is settled: a resume now re-sends nothing.
    s.ping().await;
    drop(s);
    let (mut s, ack) = connect_with(addr, "s", persistent(60)).await;
    assert!(ack.session_present);
    s.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_replaced_sessions_expiry_does_not_end_the_new_session() {
    // [MQTT-3.1.2-23]: the session lasts its own Session Expiry Interval.
    // A session with 1 s is replaced (Clean Start) by one with 60 s; when
    // the first one's timer fires, the second must be left alone.
    let b = local(broker().await);
    let addr = b;
    let mut watcher = Client::v5(addr, "watcher").await;
    watcher.subscribe("ended/#", QoS::AtMostOnce).await;
    let (s, _) = connect_with(addr, "s", persistent(1)).await;
    s.disconnect().await;
    // A marker session that ends 2 s from now, after the first timer: its
    // delayed will tells the test when that is, without guessing.
    let (marker, _) = connect_with(addr, "marker", |c| {
        persistent(2)(c);
        let mut w = will("ended/marker", b"bye");
        w.properties.will_delay_interval = Some(3600);
        c.will = Some(w);
    })
    .await;
    drop(marker);
    let (mut s, ack) = connect_with(addr, "s", |c| {
        c.properties.session_expiry_interval = Some(60);
    })
    .await;
    assert!(!ack.session_present);
    s.subscribe("t", QoS::AtLeastOnce).await;
    s.disconnect().await;
    assert_eq!(watcher.recv_publish().await.topic.as_str(), "ended/marker");

    let (mut s, ack) = connect_with(addr, "s", persistent(60)).await;
    assert!(
        ack.session_present,
        "the new session outlived the old timer"
    );
    let mut publ = Client::v5(addr, "pub").await;
    assert_eq!(publ.publish1("t", b"kept").await, ReasonCode::Success);
    assert_eq!(s.recv_acked().await.payload.as_ref(), b"kept");
}
