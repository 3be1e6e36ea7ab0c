//! Flow control, queueing and limits: receive maximum, offline queue,
//! message expiry, packet size, topic aliases, keep-alive, MQTT 3.1.1.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use crate::support::*;

#[wasm_bindgen_test]
async fn the_broker_respects_our_receive_maximum() {
    let t = topic("recvmax");
    let sub = TestClient::connect(
        &broker(),
        obj(&[("properties", obj(&[("receiveMaximum", n(2.0))]))]),
    )
    .await;
    sub.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;
    let publisher = TestClient::connect(&broker(), obj(&[])).await;
    let sent: Vec<Promise> = (0..60u8)
        .map(|i| {
            let qos = f64::from(1 + i % 2);
            publisher
                .client
                .publish(&t, vec![i], obj(&[("qos", n(qos))]))
        })
        .collect();
    for p in sent {
        settle("publish", p).await.unwrap();
    }
    for i in 0..60u8 {
        assert_eq!(sub.message().await.payload, [i]);
    }
    assert_eq!(sub.count("error"), 0, "{:?}", sub.history());
    sub.end().await;
    publisher.end().await;
}

#[wasm_bindgen_test]
async fn topic_aliases_both_ways() {
    let t = topic("alias");
    // We accept aliases from the broker, and use them for what we send.
    let c = TestClient::connect(
        &broker(),
        obj(&[
            ("autoTopicAlias", b(true)),
            ("properties", obj(&[("topicAliasMaximum", n(4.0))])),
        ]),
    )
    .await;
    c.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    let other = format!("{t}/2");
    c.subscribe_ok(&other, obj(&[("qos", n(1.0))]), 1).await;
    for i in 0..5u8 {
        let to = if i % 2 == 0 { &t } else { &other };
        c.publish(to, &[i], obj(&[("qos", n(1.0))])).await.unwrap();
        let m = c.message().await;
        assert_eq!(&m.topic, to);
        assert_eq!(m.payload, [i]);
        // The alias is resolved, not shown.
        assert!(get(&m.properties(), "topicAlias").is_undefined());
    }
    c.end().await;
}

#[wasm_bindgen_test]
async fn keep_alive_pings_and_measures_the_round_trip() {
    let c = TestClient::connect(&broker(), obj(&[("keepalive", n(1.0))])).await;
    let rtt = wait_for(
        "a PINGRESP",
        || {
            let m = c.metrics();
            let rtt = get(&m, "roundTripTime");
            rtt.as_f64()
        },
        String::new,
    )
    .await;
    assert!((0.0..1000.0).contains(&rtt), "{rtt}");
    assert!(c.client.connected());
    c.end().await;
}

#[wasm_bindgen_test]
async fn a_publish_larger_than_the_server_maximum_is_refused_locally() {
    let c = TestClient::connect(&broker(), obj(&[])).await;
    // wasmqtt-broker announces 1 MiB.
    let big = vec![0u8; (1 << 20) + 1];
    let e = c
        .publish(&topic("big"), &big, obj(&[("qos", n(1.0))]))
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("PACKET_TOO_LARGE"));
    assert!(c.client.connected());
    c.end().await;
}

/// A client that never connects: the URL is a server that does not speak
/// WebSocket, and it does not retry.
fn offline(extra: &[(&str, JsValue)]) -> TestClient {
    let mut options = vec![("reconnect", b(false))];
    options.extend(extra.iter().cloned());
    TestClient::new(&not_websocket(), obj(&options))
}

#[wasm_bindgen_test]
async fn queued_messages_expire_and_the_queue_is_bounded() {
    // A reconnect long after: the client stays offline while this runs.
    let c = TestClient::new(
        &not_websocket(),
        obj(&[
            ("queue", obj(&[("limit", n(2.0)), ("qos0", b(false))])),
            (
                "reconnect",
                obj(&[("initialDelay", n(60_000.0)), ("maxDelay", n(60_000.0))]),
            ),
            ("randomSeed", n(0.46)),
        ]),
    );
    let expiring = c.client.publish(
        "t",
        b"x".to_vec(),
        obj(&[
            ("qos", n(1.0)),
            ("properties", obj(&[("messageExpiryInterval", n(1.0))])),
        ]),
    );
    let waiting = c
        .client
        .publish("t", b"y".to_vec(), obj(&[("qos", n(1.0))]));
    let e = c
        .publish("t", b"z", obj(&[("qos", n(2.0))]))
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("QUEUE_FULL"));
    let e = c.publish("t", b"0", obj(&[])).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("NOT_CONNECTED"));
    assert_eq!(num(&c.metrics(), "queued"), 2.0);
    // The Message Expiry Interval runs out while it waits.
    let e = settle("expiry", expiring).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("EXPIRED"));
    assert_eq!(num(&c.metrics(), "queued"), 1.0);
    // Ending fails what still waits.
    c.end().await;
    let e = settle("waiting", waiting).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("CLIENT_ENDED"));
}

#[wasm_bindgen_test]
async fn ending_before_the_connack_is_clean() {
    let c = TestClient::new(&broker(), obj(&[]));
    settle("end", c.client.end(false, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(c.count("end"), 1);
    assert_eq!(c.count("connect"), 0);
    assert!(!c.client.connected());
    let c = offline(&[]);
    c.event("close").await;
    settle("end", c.client.end(false, JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(c.count("end"), 1);
}

#[wasm_bindgen_test]
async fn mqtt_3_1_1_refuses_what_it_cannot_carry() {
    let c = TestClient::connect(&broker(), obj(&[("protocolVersion", n(4.0))])).await;
    let t = topic("v311");
    c.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;
    for qos in [0.0, 1.0, 2.0] {
        c.publish(&t, b"v4", obj(&[("qos", n(qos))])).await.unwrap();
        let m = c.message().await;
        assert_eq!(m.payload, b"v4");
        assert_eq!(m.qos(), qos);
    }
    let e = c
        .publish(
            &t,
            b"x",
            obj(&[("properties", obj(&[("contentType", s("text/plain"))]))]),
        )
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("NOT_IN_MQTT_3_1_1"));
    let e = settle("request", c.client.request(&t, b"x".to_vec(), obj(&[])))
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("NOT_IN_MQTT_3_1_1"));
    let e = c
        .subscribe(&t, obj(&[("subscriptionIdentifier", n(1.0))]))
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("NOT_IN_MQTT_3_1_1"));
    c.end().await;
}

#[wasm_bindgen_test]
async fn packets_split_across_frames_and_packed_into_one() {
    let id = unique("frames");
    let c = TestClient::connect(&broker(), obj(&[("clientId", s(&id))])).await;
    let control = TestClient::connect(&broker(), obj(&[])).await;
    // PUBLISH QoS 0, topic "a/b", no properties, payload "hello".
    let publish = |payload: &[u8]| {
        let mut p = vec![0x30, (2 + 3 + 1 + payload.len()) as u8, 0x00, 0x03];
        p.extend_from_slice(b"a/b");
        p.push(0x00);
        p.extend_from_slice(payload);
        p
    };
    let one = publish(b"hello");
    // Split in the middle of the topic.
    control.control("raw", &id, &one[..5]).await;
    control.control("raw", &id, &one[5..]).await;
    let m = c.message().await;
    assert_eq!(
        (m.topic.as_str(), m.payload.as_slice()),
        ("a/b", &b"hello"[..])
    );
    assert!(m.filters.is_empty());
    // Two packets in one frame.
    let mut two = publish(b"1");
    two.extend(publish(b"2"));
    control.control("raw", &id, &two).await;
    assert_eq!(c.message().await.payload, b"1");
    assert_eq!(c.message().await.payload, b"2");
    assert!(c.client.connected());
    c.end().await;
    control.end().await;
}

#[wasm_bindgen_test]
async fn protocol_violations_by_the_server_get_their_reason_code() {
    let control = TestClient::connect(&broker(), obj(&[])).await;
    let cases: [(&[u8], u8); 3] = [
        // PUBLISH with Topic Alias 1 when we allow none: 0x94.
        (
            &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'x'],
            0x94,
        ),
        // SUBACK for a packet identifier never used: 0x82.
        (&[0x90, 0x04, 0x12, 0x34, 0x00, 0x00], 0x82),
        // CONNACK once connected: 0x82.
        (&[0x20, 0x03, 0x00, 0x00, 0x00], 0x82),
    ];
    for (raw, code) in cases {
        let id = unique("violated");
        let c = TestClient::connect(
            &broker(),
            obj(&[("clientId", s(&id)), ("reconnect", b(false))]),
        )
        .await;
        control.control("raw", &id, raw).await;
        let error = c.event("error").await;
        assert_eq!(string(&error, "code").as_deref(), Some("PROTOCOL_ERROR"));
        assert_eq!(num(&error, "reasonCode"), f64::from(code), "{raw:02x?}");
        c.event("close").await;
    }
    control.end().await;
}
