//! Connections that end, through the Rust API: wills, reconnecting with
//! session resume, and messages that must not be lost on the way.

use futures_util::future::join_all;
use futures_util::FutureExt;
use wasm_bindgen_test::*;
use wasmqtt::codec::ReasonCode;
use wasmqtt::session::{ConnectionError, PublishError};
use wasmqtt::{
    Backoff, Client, Error, Event, Options, PublishOptions, QoS, SubscribeOptions, Will,
};

use crate::rust_support::*;
use crate::support::{broker, topic, unique};

fn qos(q: QoS) -> PublishOptions {
    PublishOptions::new().qos(q)
}

fn sub(q: QoS) -> SubscribeOptions {
    SubscribeOptions::new().qos(q)
}

/// A reconnect policy slow enough that the test decides when to come
/// back, with `reconnect_now`.
fn later() -> Backoff {
    soon(60_000)
}

/// A session the broker keeps for a minute, reconnected by the test.
fn resumable(id: &str) -> Options {
    Options::new()
        .client_id(id)
        .clean_start(false)
        .session_expiry(60)
        .reconnect(later())
}

/// After a drop: waits for the scheduled reconnect, makes it happen now
/// and gives `session_present` of the new CONNACK.
async fn reconnect(c: &Client, events: &mut wasmqtt::Events) -> bool {
    loop {
        match event(events).await {
            Event::Reconnecting { .. } => break,
            Event::Disconnected { .. } => {}
            e => panic!("expected Reconnecting, got {e:?}"),
        }
    }
    c.reconnect_now();
    match event(events).await {
        Event::Connected {
            session_present, ..
        } => session_present,
        e => panic!("expected Connected, got {e:?}"),
    }
}

#[wasm_bindgen_test]
async fn will_is_published_after_an_abrupt_close_and_not_after_end() {
    let wills = topic("will");
    let watcher = connect(&broker(), Options::new()).await;
    let mut got = watcher
        .subscribe(&format!("{wills}/#"), sub(QoS::AtLeastOnce))
        .await
        .unwrap();
    let will = |name: &str| {
        Will::new(&format!("{wills}/{name}"), format!("{name} gone"))
            .unwrap()
            .qos(QoS::AtLeastOnce)
    };
    // Ends normally first: its will is discarded.
    let polite = connect(&broker(), Options::new().will(will("polite"))).await;
    polite.end().await.unwrap();
    // Dropped without DISCONNECT: its will is published.
    let id = unique("rude");
    let options = Options::new()
        .client_id(&id)
        .no_reconnect()
        .will(will("rude"));
    let rude = connect(&broker(), options).await;
    let mut events = rude.events();
    control(&watcher, "drop", &id).await;
    assert_eq!(
        disconnected(&mut events).await,
        Error::Connection(ConnectionError::ConnectionLost)
    );
    // The polite client ended long before: its will would have come first.
    let m = message(&mut got).await;
    assert_eq!(m.topic, format!("{wills}/rude"));
    assert_eq!(m.text(), Some("rude gone"));
    assert_eq!(quiet(&mut got, 50).await, None);
    watcher.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn end_with_reason_code_4_publishes_the_will() {
    let wills = topic("will4");
    let watcher = connect(&broker(), Options::new()).await;
    let mut got = watcher
        .subscribe(&wills, sub(QoS::AtLeastOnce))
        .await
        .unwrap();
    let will = Will::new(&wills, "bye").unwrap().qos(QoS::AtLeastOnce);
    let c = connect(&broker(), Options::new().will(will)).await;
    let ended = c.end_with(ReasonCode::DisconnectWithWillMessage, false);
    deadline("end", ended).await.unwrap();
    assert_eq!(message(&mut got).await.text(), Some("bye"));
    watcher.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn in_flight_publishes_complete_after_reconnect_and_session_resume() {
    let t = topic("inflight");
    let watcher = connect(&broker(), Options::new()).await;
    let mut seen = watcher.subscribe(&t, sub(QoS::ExactlyOnce)).await.unwrap();

    let id = unique("pub");
    let p = connect(&broker(), resumable(&id)).await;
    let mut events = p.events();
    // The broker stops acknowledging this connection's publishes (the
    // command is handled before the next packet from us is read).
    control_with(&p, "withhold-acks", &id, b"1").await;

    let levels = [1, 2, 1, 2, 2, 1].map(|q| QoS::from_u8(q).unwrap());
    let pending = join_all(
        levels
            .iter()
            .enumerate()
            .map(|(i, &q)| p.publish(&t, vec![b'm', i as u8], qos(q))),
    );
    let mut pending = Box::pin(pending);
    // Sent (the first poll runs the commands), routed, not acknowledged.
    assert!((&mut pending).now_or_never().is_none());
    for i in 0..levels.len() {
        let m = message(&mut seen).await;
        assert_eq!(&m.payload[..], [b'm', i as u8]);
        assert!(!m.dup);
    }
    assert_eq!(p.metrics().in_flight, levels.len());

    // The connection drops with all of them in flight.
    p.publish(&format!("$control/drop/{id}"), "", PublishOptions::new())
        .await
        .unwrap();
    assert_eq!(
        disconnected(&mut events).await,
        Error::Connection(ConnectionError::ConnectionLost)
    );
    // Published while offline: queued, sent after the reconnect.
    assert!(!p.is_connected());
    let mut queued = Box::pin(p.publish(&t, "offline", qos(QoS::ExactlyOnce)));
    assert!((&mut queued).now_or_never().is_none());
    assert_eq!(p.metrics().queued, 1);

    assert!(reconnect(&p, &mut events).await, "the session was resumed");
    for (i, code) in deadline("in-flight publishes", pending)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(code, Ok(ReasonCode::Success), "publish {i}");
    }
    assert_eq!(
        deadline("the queued publish", queued).await,
        Ok(ReasonCode::Success)
    );
    assert_eq!((p.metrics().in_flight, p.metrics().reconnects), (0, 1));

    // QoS 1 messages may be sent again (with DUP); QoS 2 ones are not
    // delivered twice. A marker sent last closes the count.
    p.publish(&t, "end", qos(QoS::AtLeastOnce)).await.unwrap();
    let mut again = Vec::new();
    loop {
        let m = message(&mut seen).await;
        if m.text() == Some("end") {
            break;
        }
        again.push(m);
    }
    assert_eq!(
        again.iter().filter(|m| m.text() == Some("offline")).count(),
        1
    );
    for (i, &q) in levels.iter().enumerate() {
        let copies = again
            .iter()
            .filter(|m| m.payload[..] == [b'm', i as u8])
            .count();
        let most = if q == QoS::ExactlyOnce { 0 } else { 1 };
        assert!(copies <= most, "message {i} at {q:?}: {copies} copies");
    }
    p.end().await.unwrap();
    watcher.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_resumed_subscriber_gets_what_was_published_while_it_was_away() {
    let t = topic("away");
    let id = unique("sub");
    let c = connect(&broker(), resumable(&id)).await;
    let mut events = c.events();
    let mut got = c.subscribe(&t, sub(QoS::ExactlyOnce)).await.unwrap();
    let publisher = connect(&broker(), Options::new()).await;
    control(&publisher, "drop", &id).await;
    // The broker closed the socket after detaching the session.
    disconnected(&mut events).await;
    for (i, q) in [1, 2, 0, 1].into_iter().enumerate() {
        let q = QoS::from_u8(q).unwrap();
        publisher
            .publish(&t, vec![b'w', i as u8], qos(q))
            .await
            .unwrap();
    }
    assert!(reconnect(&c, &mut events).await, "the session was resumed");
    // QoS 0 is not kept for an offline session; QoS 1 and 2 are, in order,
    // and the subscription's stream goes on.
    for i in [0u8, 1, 3] {
        assert_eq!(&message(&mut got).await.payload[..], [b'w', i]);
    }
    publisher
        .publish(&t, "live", qos(QoS::AtLeastOnce))
        .await
        .unwrap();
    assert_eq!(message(&mut got).await.text(), Some("live"));
    c.end().await.unwrap();
    publisher.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn without_a_session_subscriptions_are_restored() {
    let t = topic("restore");
    let id = unique("clean");
    // Session Expiry 0: the broker forgets the session when the connection drops.
    let c = connect(&broker(), Options::new().client_id(&id).reconnect(later())).await;
    let mut events = c.events();
    let mut got = c.subscribe(&t, sub(QoS::AtLeastOnce)).await.unwrap();
    let admin = connect(&broker(), Options::new()).await;
    control(&admin, "drop", &id).await;
    assert!(!reconnect(&c, &mut events).await, "no session to resume");
    // The resubscription is queued ahead of this publish.
    c.publish(&t, "again", qos(QoS::AtLeastOnce)).await.unwrap();
    assert_eq!(message(&mut got).await.text(), Some("again"));
    c.end().await.unwrap();
    admin.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn end_waits_for_in_flight_messages() {
    let t = topic("drain");
    let watcher = connect(&broker(), Options::new()).await;
    let mut got = watcher.subscribe(&t, sub(QoS::ExactlyOnce)).await.unwrap();
    let c = connect(&broker(), Options::new()).await;
    let publishes = join_all((0..20u8).map(|i| c.publish(&t, vec![i], qos(QoS::ExactlyOnce))));
    let mut publishes = Box::pin(publishes);
    assert!((&mut publishes).now_or_never().is_none());
    deadline("end", c.end()).await.unwrap();
    for code in deadline("publishes", publishes).await {
        assert_eq!(code, Ok(ReasonCode::Success));
    }
    for i in 0..20u8 {
        assert_eq!(&message(&mut got).await.payload[..], [i]);
    }
    watcher.end().await.unwrap();
}

/// A publisher whose QoS 1/2 publishes are in flight (the broker holds
/// back the acknowledgements) when its connection drops; the broker keeps
/// no session (Session Expiry 0). Gives the outcomes of the publishes.
async fn in_flight_then_session_lost(requeue: bool) -> Vec<Result<ReasonCode, Error>> {
    let t = topic("lost");
    let watcher = connect(&broker(), Options::new()).await;
    let mut got = watcher.subscribe(&t, sub(QoS::ExactlyOnce)).await.unwrap();
    let id = unique("lost");
    let mut options = Options::new().client_id(&id).reconnect(later());
    options.session_mut().requeue_unacked = requeue;
    let p = connect(&broker(), options).await;
    let mut events = p.events();
    control_with(&p, "withhold-acks", &id, b"1").await;
    let publishes =
        join_all([QoS::AtLeastOnce, QoS::ExactlyOnce].map(|q| p.publish(&t, "x", qos(q))));
    let mut publishes = Box::pin(publishes);
    assert!((&mut publishes).now_or_never().is_none());
    message(&mut got).await;
    message(&mut got).await;
    control(&watcher, "drop", &id).await;
    assert!(!reconnect(&p, &mut events).await, "no session to resume");
    let outcomes = deadline("the publishes", publishes).await;
    if requeue {
        // Sent again as new messages: the subscriber gets them again.
        message(&mut got).await;
        message(&mut got).await;
    }
    assert_eq!(p.metrics().in_flight, 0);
    p.end().await.unwrap();
    watcher.end().await.unwrap();
    outcomes
}

#[wasm_bindgen_test]
async fn without_a_session_unacknowledged_publishes_are_sent_again() {
    let outcomes = in_flight_then_session_lost(true).await;
    assert_eq!(outcomes, [Ok(ReasonCode::Success), Ok(ReasonCode::Success)]);
}

#[wasm_bindgen_test]
async fn without_a_session_and_requeue_off_publishes_fail_as_lost() {
    let outcomes = in_flight_then_session_lost(false).await;
    let lost = Err(Error::Publish(PublishError::SessionLost));
    assert_eq!(outcomes, [lost.clone(), lost]);
}

#[wasm_bindgen_test]
async fn a_session_taken_over_does_not_fight_back() {
    let id = unique("twin");
    let first = connect(&broker(), Options::new().client_id(&id).reconnect(soon(1))).await;
    let mut events = first.events();
    let second = connect(&broker(), Options::new().client_id(&id)).await;
    let reason = disconnected(&mut events).await;
    assert_eq!(reason.reason_code(), Some(ReasonCode::SessionTakenOver));
    // No reconnect: it would only take the session back.
    assert_eq!(quiet(&mut events, 100).await, None);
    assert!(second.is_connected());
    let t = topic("twin");
    let mut got = second.subscribe(&t, SubscribeOptions::new()).await.unwrap();
    second
        .publish(&t, "mine", PublishOptions::new())
        .await
        .unwrap();
    assert_eq!(message(&mut got).await.text(), Some("mine"));
    second.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn operations_before_the_first_connack_are_queued() {
    let t = topic("early");
    let c = Client::new(&broker(), Options::new()).unwrap();
    assert!(!c.is_connected());
    let subscribed = c.subscribe(&t, sub(QoS::AtLeastOnce));
    let published = c.publish(&t, "early", qos(QoS::AtLeastOnce));
    let (got, code) = deadline("both", futures_util::future::join(subscribed, published)).await;
    assert_eq!(code, Ok(ReasonCode::Success));
    assert_eq!(
        message(&mut got.expect("subscribed")).await.text(),
        Some("early")
    );
    c.end().await.unwrap();
}
