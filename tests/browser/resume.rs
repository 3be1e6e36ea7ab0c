//! Connections that end: wills, reconnecting with session resume, and
//! messages that must not be lost on the way.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use crate::support::*;

fn will(topic: &str, payload: &[u8]) -> JsValue {
    obj(&[
        ("topic", s(topic)),
        ("payload", bytes(payload)),
        ("qos", n(1.0)),
        (
            "properties",
            obj(&[
                ("contentType", s("text/plain")),
                ("userProperties", pairs(&[("why", "gone")])),
            ]),
        ),
    ])
}

#[wasm_bindgen_test]
async fn will_is_published_after_an_abrupt_close_and_not_after_end() {
    let wills = topic("will");
    let watcher = TestClient::connect(&broker(), obj(&[])).await;
    watcher
        .subscribe_ok(&format!("{wills}/#"), obj(&[("qos", n(1.0))]), 1)
        .await;

    // Ends normally first: its will is discarded.
    let polite = TestClient::connect(
        &broker(),
        obj(&[("will", will(&format!("{wills}/polite"), b"polite gone"))]),
    )
    .await;
    polite.end().await;

    // Dropped without DISCONNECT: its will is published.
    let id = unique("rude");
    let rude = TestClient::connect(
        &broker(),
        obj(&[
            ("clientId", s(&id)),
            ("reconnect", b(false)),
            ("will", will(&format!("{wills}/rude"), b"rude gone")),
        ]),
    )
    .await;
    watcher.control("drop", &id, b"").await;
    let error = rude.event("error").await;
    assert_eq!(string(&error, "code").as_deref(), Some("CONNECTION_LOST"));
    rude.event("close").await;
    rude.event("offline").await;

    // The polite client ended long before: its will would have come first.
    let m = watcher.message().await;
    assert_eq!(m.topic, format!("{wills}/rude"));
    assert_eq!(m.payload, b"rude gone");
    assert_eq!(
        string(&m.properties(), "contentType").as_deref(),
        Some("text/plain")
    );
    assert_eq!(
        from_pairs(&get(&m.properties(), "userProperties")),
        vec![("why".into(), "gone".into())]
    );
    assert!(watcher.pending_messages().is_empty());
    watcher.end().await;
}

#[wasm_bindgen_test]
async fn end_with_reason_code_4_publishes_the_will() {
    let wills = topic("will4");
    let watcher = TestClient::connect(&broker(), obj(&[])).await;
    watcher
        .subscribe_ok(&wills, obj(&[("qos", n(1.0))]), 1)
        .await;
    let c = TestClient::connect(&broker(), obj(&[("will", will(&wills, b"bye"))])).await;
    settle("end", c.client.end(false, obj(&[("reasonCode", n(4.0))])))
        .await
        .unwrap();
    assert_eq!(watcher.message().await.payload, b"bye");
    watcher.end().await;
}

fn resumable(id: &str) -> JsValue {
    obj(&[
        ("clientId", s(id)),
        ("clean", b(false)),
        ("properties", obj(&[("sessionExpiryInterval", n(60.0))])),
        ("reconnect", later()),
        ("randomSeed", n(SEED)),
    ])
}

/// A reconnect policy whose first delay (with `SEED`: 59 s) is long enough
/// that the test decides when to come back, with `wake`.
fn later() -> JsValue {
    obj(&[("initialDelay", n(60_000.0)), ("maxDelay", n(60_000.0))])
}
const SEED: f64 = 0.46;

/// After a drop: waits for the scheduled reconnect, makes it due now
/// (`wake`) and waits for the new CONNACK.
async fn reconnect(c: &TestClient) -> JsValue {
    c.event("reconnecting").await;
    c.client.wake();
    c.event("reconnect").await;
    c.event("connect").await
}

#[wasm_bindgen_test]
async fn in_flight_publishes_complete_after_reconnect_and_session_resume() {
    let t = topic("inflight");
    let sub = TestClient::connect(&broker(), obj(&[])).await;
    sub.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;

    let id = unique("pub");
    let p = TestClient::new(&broker(), resumable(&id));
    let connack = p.event("connect").await;
    assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(false));
    // The broker stops acknowledging this connection's publishes (the
    // command is handled before the next packet from us is read).
    p.control("withhold-acks", &id, b"1").await;

    let qos = [1.0, 2.0, 1.0, 2.0, 2.0, 1.0];
    let pending: Vec<Promise> = qos
        .iter()
        .enumerate()
        .map(|(i, &q)| {
            p.client
                .publish(&t, vec![b'm', i as u8], obj(&[("qos", n(q))]))
        })
        .collect();
    // The broker routed them all but acknowledged none.
    for i in 0..qos.len() {
        let m = sub.message().await;
        assert_eq!(m.payload, [b'm', i as u8]);
        assert!(!m.dup());
    }
    assert_eq!(num(&p.metrics(), "inFlight"), qos.len() as f64);

    // The connection drops with all of them in flight.
    p.publish(&format!("$control/drop/{id}"), b"", obj(&[]))
        .await
        .unwrap();
    let error = p.event("error").await;
    assert_eq!(string(&error, "code").as_deref(), Some("CONNECTION_LOST"));
    p.event("offline").await;
    // Published while offline: queued, sent after the reconnect.
    assert!(!p.client.connected());
    let queued = p
        .client
        .publish(&t, b"offline".to_vec(), obj(&[("qos", n(2.0))]));
    assert_eq!(num(&p.metrics(), "queued"), 1.0);

    let connack = reconnect(&p).await;
    assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(true));
    for (i, promise) in pending.into_iter().enumerate() {
        let code = settle("in-flight publish", promise)
            .await
            .unwrap_or_else(|e| panic!("publish {i} failed: {e:?}"));
        assert_eq!(code.as_f64(), Some(0.0), "publish {i}");
    }
    settle("queued publish", queued).await.unwrap();
    assert_eq!(num(&p.metrics(), "inFlight"), 0.0);
    assert_eq!(num(&p.metrics(), "reconnects"), 1.0);

    // QoS 1 messages are sent again (with DUP); QoS 2 ones are not
    // delivered twice. A marker sent last closes the count.
    p.publish(&t, b"end", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let m = sub.message().await;
        if m.payload == b"end" {
            break;
        }
        seen.push((m.payload.clone(), m.dup(), m.qos()));
    }
    let offline = seen.iter().filter(|(p, _, _)| p == b"offline").count();
    assert_eq!(offline, 1, "{seen:?}");
    for (i, &q) in qos.iter().enumerate() {
        let copies = seen
            .iter()
            .filter(|(p, _, _)| *p == [b'm', i as u8])
            .count();
        if q == 2.0 {
            assert_eq!(copies, 0, "QoS 2 message {i} delivered twice: {seen:?}");
        } else {
            assert!(copies <= 1, "{seen:?}");
        }
    }
    p.end().await;
    sub.end().await;
}

#[wasm_bindgen_test]
async fn a_resumed_subscriber_gets_what_was_published_while_it_was_away() {
    let t = topic("away");
    let id = unique("sub");
    let sub = TestClient::new(&broker(), resumable(&id));
    sub.event("connect").await;
    sub.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;
    let publisher = TestClient::connect(&broker(), obj(&[])).await;

    publisher.control("drop", &id, b"").await;
    // The broker closed the socket after detaching the session.
    sub.event("close").await;
    for (i, q) in [1.0, 2.0, 0.0, 1.0].into_iter().enumerate() {
        publisher
            .publish(&t, &[b'w', i as u8], obj(&[("qos", n(q))]))
            .await
            .unwrap();
    }
    let connack = reconnect(&sub).await;
    assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(true));
    // QoS 0 is not kept for an offline session; QoS 1 and 2 are, in order.
    assert_eq!(sub.message().await.payload, [b'w', 0]);
    assert_eq!(sub.message().await.payload, [b'w', 1]);
    assert_eq!(sub.message().await.payload, [b'w', 3]);
    // The subscription is still there without subscribing again.
    publisher
        .publish(&t, b"live", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    assert_eq!(sub.message().await.payload, b"live");
    sub.end().await;
    publisher.end().await;
}

#[wasm_bindgen_test]
async fn without_a_session_subscriptions_are_restored() {
    let t = topic("restore");
    let id = unique("clean");
    // Session Expiry 0: the broker forgets the session when the connection drops.
    let c = TestClient::new(
        &broker(),
        obj(&[
            ("clientId", s(&id)),
            ("reconnect", later()),
            ("randomSeed", n(SEED)),
        ]),
    );
    c.event("connect").await;
    c.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    let control = TestClient::connect(&broker(), obj(&[])).await;
    control.control("drop", &id, b"").await;
    let connack = reconnect(&c).await;
    assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(false));
    // The resubscription is queued ahead of this publish.
    c.publish(&t, b"again", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    assert_eq!(c.message().await.payload, b"again");
    c.end().await;
    control.end().await;
}

#[wasm_bindgen_test]
async fn operations_before_the_first_connack_are_queued() {
    let t = topic("early");
    let c = TestClient::new(&broker(), obj(&[]));
    assert!(!c.client.connected());
    let subscribed = c.client.subscribe(vec![t.clone()], obj(&[("qos", n(1.0))]));
    let published = c
        .client
        .publish(&t, b"early".to_vec(), obj(&[("qos", n(1.0))]));
    settle("subscribe", subscribed).await.unwrap();
    settle("publish", published).await.unwrap();
    assert_eq!(c.message().await.payload, b"early");
    c.end().await;
}

#[wasm_bindgen_test]
async fn end_waits_for_in_flight_messages() {
    let t = topic("drain");
    let sub = TestClient::connect(&broker(), obj(&[])).await;
    sub.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;
    let c = TestClient::connect(&broker(), obj(&[])).await;
    let published: Vec<Promise> = (0..20u8)
        .map(|i| c.client.publish(&t, vec![i], obj(&[("qos", n(2.0))])))
        .collect();
    let ended = c.client.end(false, JsValue::UNDEFINED);
    settle("end", ended).await.unwrap();
    for p in published {
        assert_eq!(settle("publish", p).await.unwrap().as_f64(), Some(0.0));
    }
    for i in 0..20u8 {
        assert_eq!(sub.message().await.payload, [i]);
    }
    sub.end().await;
}

/// A publisher whose QoS 1/2 publishes are in flight (the broker holds
/// back the acknowledgements) when its connection drops; the broker keeps
/// no session (Session Expiry 0).
async fn in_flight_then_session_lost(requeue: bool) -> (TestClient, Vec<Promise>, TestClient) {
    let t = topic("lost");
    let sub = TestClient::connect(&broker(), obj(&[])).await;
    sub.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;
    let id = unique("lost");
    let p = TestClient::new(
        &broker(),
        obj(&[
            ("clientId", s(&id)),
            ("requeueUnacked", b(requeue)),
            ("reconnect", later()),
            ("randomSeed", n(SEED)),
        ]),
    );
    p.event("connect").await;
    p.control("withhold-acks", &id, b"1").await;
    let pending: Vec<Promise> = [1.0, 2.0]
        .iter()
        .map(|&q| p.client.publish(&t, b"x".to_vec(), obj(&[("qos", n(q))])))
        .collect();
    sub.message().await;
    sub.message().await;
    p.publish(&format!("$control/drop/{id}"), b"", obj(&[]))
        .await
        .unwrap();
    let connack = reconnect(&p).await;
    assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(false));
    (p, pending, sub)
}

#[wasm_bindgen_test]
async fn without_a_session_unacknowledged_publishes_are_sent_again() {
    let (p, pending, sub) = in_flight_then_session_lost(true).await;
    for promise in pending {
        let code = settle("requeued publish", promise).await.unwrap();
        assert_eq!(code.as_f64(), Some(0.0));
    }
    // Sent again as new messages: the subscriber gets them again.
    assert_eq!(sub.message().await.payload, b"x");
    assert_eq!(sub.message().await.payload, b"x");
    p.end().await;
    sub.end().await;
}

#[wasm_bindgen_test]
async fn without_a_session_and_requeue_off_publishes_fail_as_lost() {
    let (p, pending, sub) = in_flight_then_session_lost(false).await;
    for promise in pending {
        let e = settle("lost publish", promise).await.unwrap_err();
        assert_eq!(string(&e, "code").as_deref(), Some("SESSION_LOST"));
    }
    assert_eq!(num(&p.metrics(), "inFlight"), 0.0);
    p.end().await;
    sub.end().await;
}

#[wasm_bindgen_test]
async fn a_session_taken_over_does_not_fight_back() {
    let id = unique("twin");
    let first = TestClient::connect(
        &broker(),
        obj(&[
            ("clientId", s(&id)),
            ("reconnect", obj(&[("initialDelay", n(1.0))])),
        ]),
    )
    .await;
    let second = TestClient::connect(&broker(), obj(&[("clientId", s(&id))])).await;
    let packet = first.event("disconnect").await;
    assert_eq!(num(&packet, "reasonCode"), f64::from(0x8Eu8));
    first.event("close").await;
    // No reconnect: it would only take the session back.
    let history = first.history();
    assert!(!history.iter().any(|e| e == "reconnecting"), "{history:?}");
    assert!(second.client.connected());
    let t = topic("twin");
    second.subscribe_ok(&t, obj(&[]), 0).await;
    second.publish(&t, b"mine", obj(&[])).await.unwrap();
    assert_eq!(second.message().await.payload, b"mine");
    assert_eq!(second.count("close"), 0);
    second.end().await;
}
