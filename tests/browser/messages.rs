//! Messages: QoS round trips, properties, retained messages, subscription
//! options, dispatch to subscriptions, request/response, rejections.

use wasm_bindgen_test::*;

use crate::support::*;

async fn round_trips(url: String) {
    let c = TestClient::connect(&url, obj(&[])).await;
    let t = topic("rt");
    c.subscribe_ok(&t, obj(&[("qos", n(2.0))]), 2).await;
    for qos in [0.0, 1.0, 2.0] {
        let payload = [qos as u8, 0xFF, 0x00, 0x80];
        let ack = c
            .publish(&t, &payload, obj(&[("qos", n(qos))]))
            .await
            .unwrap();
        if qos > 0.0 {
            // The PUBACK / PUBCOMP reason code: Success.
            assert_eq!(ack.as_f64(), Some(0.0));
        }
        let m = c.message().await;
        assert_eq!(m.topic, t);
        assert_eq!(m.payload, payload);
        assert_eq!(m.qos(), qos);
        assert!(!m.retain() && !m.dup());
        assert_eq!(m.filters, vec![t.clone()]);
    }
    // An empty payload and a large one.
    c.publish(&t, b"", obj(&[("qos", n(1.0))])).await.unwrap();
    assert!(c.message().await.payload.is_empty());
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    c.publish(&t, &big, obj(&[("qos", n(2.0))])).await.unwrap();
    assert_eq!(c.message().await.payload, big);
    let m = c.metrics();
    assert_eq!(num(&m, "messagesIn"), 5.0);
    assert_eq!(num(&m, "messagesOut"), 5.0);
    assert_eq!(num(&m, "inFlight"), 0.0);
    c.end().await;
}

#[wasm_bindgen_test]
async fn qos_0_1_2_round_trip_with_wasmqtt_broker() {
    round_trips(broker()).await;
}

#[wasm_bindgen_test]
async fn qos_0_1_2_round_trip_with_mosquitto() {
    round_trips(mosquitto()).await;
}

#[wasm_bindgen_test]
async fn qos_is_the_lower_of_published_and_granted() {
    let c = TestClient::connect(&broker(), obj(&[])).await;
    let t = topic("down");
    c.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    c.publish(&t, b"2", obj(&[("qos", n(2.0))])).await.unwrap();
    assert_eq!(c.message().await.qos(), 1.0);
    c.publish(&t, b"0", obj(&[("qos", n(0.0))])).await.unwrap();
    assert_eq!(c.message().await.qos(), 0.0);
    c.end().await;
}

async fn properties_round_trip(url: String) {
    let sub = TestClient::connect(&url, obj(&[])).await;
    let publisher = TestClient::connect(&url, obj(&[])).await;
    let t = topic("props");
    sub.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    let users = [
        ("b", "2"),
        ("a", "1"),
        ("a", "0"),
        ("ключ", "値 ✓"),
        ("", ""),
    ];
    let correlation = [0u8, 1, 2, 0xFE, 0xFF];
    let properties = obj(&[
        ("payloadFormatIndicator", b(true)),
        ("messageExpiryInterval", n(3600.0)),
        ("contentType", s("application/json; charset=utf-8")),
        ("responseTopic", s("reply/to/me")),
        ("correlationData", bytes(&correlation)),
        ("userProperties", pairs(&users)),
    ]);
    publisher
        .publish(
            &t,
            br#"{"x":1}"#,
            obj(&[("qos", n(1.0)), ("properties", properties)]),
        )
        .await
        .unwrap();
    let m = sub.message().await;
    let p = m.properties();
    assert_eq!(get(&p, "payloadFormatIndicator").as_bool(), Some(true));
    // What is left of the interval: at most what was sent, and not much less.
    let expiry = num(&p, "messageExpiryInterval");
    assert!((3590.0..=3600.0).contains(&expiry), "{expiry}");
    assert_eq!(
        string(&p, "contentType").as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(string(&p, "responseTopic").as_deref(), Some("reply/to/me"));
    assert_eq!(to_bytes(&get(&p, "correlationData")), correlation);
    let got = from_pairs(&get(&p, "userProperties"));
    let want: Vec<(String, String)> = users
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        got, want,
        "user properties by key in first-seen order, repeats kept"
    );
    assert_eq!(m.payload, br#"{"x":1}"#);

    // payloadFormatIndicator false is "unspecified", sent as 0.
    publisher
        .publish(
            &t,
            &[0xFF],
            obj(&[("properties", obj(&[("payloadFormatIndicator", b(false))]))]),
        )
        .await
        .unwrap();
    let m = sub.message().await;
    assert_eq!(
        get(&m.properties(), "payloadFormatIndicator").as_bool(),
        Some(false)
    );
    // No properties at all: none come back.
    publisher.publish(&t, b"plain", obj(&[])).await.unwrap();
    let m = sub.message().await;
    let p = m.properties();
    assert!(p.is_undefined(), "{p:?}");
    sub.end().await;
    publisher.end().await;
}

#[wasm_bindgen_test]
async fn every_publish_property_round_trips_with_wasmqtt_broker() {
    properties_round_trip(broker()).await;
}

#[wasm_bindgen_test]
async fn every_publish_property_round_trips_with_mosquitto() {
    properties_round_trip(mosquitto()).await;
}

#[wasm_bindgen_test]
async fn invalid_utf8_with_the_utf8_indicator_is_refused() {
    let c = TestClient::connect(&broker(), obj(&[])).await;
    let e = c
        .publish(
            &topic("utf8"),
            &[0xFF, 0xFE],
            obj(&[
                ("qos", n(1.0)),
                ("properties", obj(&[("payloadFormatIndicator", b(true))])),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("REJECTED"));
    assert_eq!(num(&e, "reasonCode"), f64::from(0x99u8));
    c.end().await;
}

async fn retained(url: String) {
    let publisher = TestClient::connect(&url, obj(&[])).await;
    let t = topic("retained");
    publisher
        .publish(&t, b"last", obj(&[("qos", n(1.0)), ("retain", b(true))]))
        .await
        .unwrap();

    // A new subscription gets the retained message, flagged as retained.
    let c = TestClient::connect(&url, obj(&[])).await;
    c.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    let m = c.message().await;
    assert_eq!(m.payload, b"last");
    assert!(m.retain());

    // rh 1: not again for a subscription that already exists. A live
    // message published after the SUBACK comes first if none was sent.
    c.subscribe_ok(&t, obj(&[("qos", n(1.0)), ("rh", n(1.0))]), 1)
        .await;
    publisher
        .publish(&t, b"live", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    let m = c.message().await;
    assert_eq!(m.payload, b"live");
    assert!(!m.retain(), "a live message is not flagged retained");

    // rh 2: never at subscribe time.
    let other = TestClient::connect(&url, obj(&[])).await;
    other
        .subscribe_ok(&t, obj(&[("qos", n(1.0)), ("rh", n(2.0))]), 1)
        .await;
    publisher
        .publish(&t, b"live2", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    assert_eq!(other.message().await.payload, b"live2");
    assert_eq!(c.message().await.payload, b"live2");

    // An empty retained message clears it.
    publisher
        .publish(&t, b"", obj(&[("qos", n(1.0)), ("retain", b(true))]))
        .await
        .unwrap();
    assert!(c.message().await.payload.is_empty());
    let late = TestClient::connect(&url, obj(&[])).await;
    late.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    publisher
        .publish(&t, b"marker", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    assert_eq!(late.message().await.payload, b"marker");
    for x in [publisher, c, other, late] {
        x.end().await;
    }
}

#[wasm_bindgen_test]
async fn retained_messages_and_retain_handling_with_wasmqtt_broker() {
    retained(broker()).await;
}

#[wasm_bindgen_test]
async fn retained_messages_and_retain_handling_with_mosquitto() {
    retained(mosquitto()).await;
}

async fn no_local_and_retain_as_published(url: String) {
    let c = TestClient::connect(&url, obj(&[])).await;
    let other = TestClient::connect(&url, obj(&[])).await;
    let local = topic("nl");
    c.subscribe_ok(&local, obj(&[("qos", n(1.0)), ("nl", b(true))]), 1)
        .await;
    c.publish(&local, b"mine", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    other
        .publish(&local, b"theirs", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    // Our own message would have come before theirs.
    assert_eq!(c.message().await.payload, b"theirs");

    // Retain As Published: the RETAIN flag of live messages is kept only with rap.
    let t_rap = topic("rap");
    let t_plain = topic("norap");
    c.subscribe_ok(&t_rap, obj(&[("qos", n(1.0)), ("rap", b(true))]), 1)
        .await;
    c.subscribe_ok(&t_plain, obj(&[("qos", n(1.0))]), 1).await;
    other
        .publish(&t_rap, b"r", obj(&[("qos", n(1.0)), ("retain", b(true))]))
        .await
        .unwrap();
    let m = c.message().await;
    assert_eq!(m.topic, t_rap);
    assert!(m.retain(), "rap keeps RETAIN");
    other
        .publish(&t_plain, b"p", obj(&[("qos", n(1.0)), ("retain", b(true))]))
        .await
        .unwrap();
    let m = c.message().await;
    assert_eq!(m.topic, t_plain);
    assert!(!m.retain(), "without rap RETAIN is cleared");
    // Clean up the retained messages.
    for t in [&t_rap, &t_plain] {
        other
            .publish(t, b"", obj(&[("qos", n(1.0)), ("retain", b(true))]))
            .await
            .unwrap();
    }
    c.end().await;
    other.end().await;
}

#[wasm_bindgen_test]
async fn no_local_and_retain_as_published_with_wasmqtt_broker() {
    no_local_and_retain_as_published(broker()).await;
}

#[wasm_bindgen_test]
async fn no_local_and_retain_as_published_with_mosquitto() {
    no_local_and_retain_as_published(mosquitto()).await;
}

/// Publishes `payload` to `topic`, then a marker only `{base}/#` matches,
/// and returns the copies of the message that came before the marker
/// (wasmqtt-broker sends one copy for overlapping subscriptions, mosquitto
/// one per subscription).
async fn copies(c: &TestClient, base: &str, topic: &str, payload: &[u8]) -> Vec<Received> {
    let marker = format!("{base}/marker/x");
    c.publish(topic, payload, obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    c.publish(&marker, b"", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    let mut out = Vec::new();
    loop {
        let m = c.message().await;
        if m.topic == marker {
            return out;
        }
        assert_eq!(m.payload, payload);
        out.push(m);
    }
}

/// How many copies each subscription got.
fn per_filter(copies: &[Received], filters: &[&String]) -> Vec<usize> {
    filters
        .iter()
        .map(|f| copies.iter().filter(|m| m.filters.contains(f)).count())
        .collect()
}

fn ids(m: &Received) -> Vec<f64> {
    let list = get(&m.properties(), "subscriptionIdentifiers");
    if list.is_undefined() {
        return Vec::new();
    }
    let mut ids: Vec<f64> = js_sys::Array::from(&list)
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    ids.sort_by(f64::total_cmp);
    ids
}

async fn dispatch(url: String, one_copy: bool) {
    let c = TestClient::connect(&url, obj(&[])).await;
    let base = topic("disp");
    let plus = format!("{base}/+");
    let exact = format!("{base}/b");
    let hash = format!("{base}/#");
    const MAX_ID: f64 = 268_435_455.0;
    c.subscribe_ok(
        &plus,
        obj(&[("qos", n(1.0)), ("subscriptionIdentifier", n(1.0))]),
        1,
    )
    .await;
    c.subscribe_ok(
        &exact,
        obj(&[("qos", n(1.0)), ("subscriptionIdentifier", n(MAX_ID))]),
        1,
    )
    .await;
    c.subscribe_ok(&hash, obj(&[("qos", n(1.0))]), 1).await;
    let all = [&hash, &plus, &exact];

    // Each subscription with an identifier gets the message exactly once;
    // the one without gets every copy that may be for it.
    let got = copies(&c, &base, &exact, b"1").await;
    let counts = per_filter(&got, &all);
    assert_eq!(&counts[1..], [1, 1], "{counts:?}");
    if one_copy {
        assert_eq!(got.len(), 1);
        assert_eq!(ids(&got[0]), vec![1.0, MAX_ID]);
        assert_eq!(counts[0], 1);
    } else {
        let mut all_ids: Vec<f64> = got.iter().flat_map(ids).collect();
        all_ids.sort_by(f64::total_cmp);
        assert_eq!(all_ids, vec![1.0, MAX_ID]);
        assert!(counts[0] >= 1);
    }

    let got = copies(&c, &base, &format!("{base}/c"), b"2").await;
    let counts = per_filter(&got, &all);
    assert_eq!(&counts[1..], [1, 0], "{counts:?}");
    assert!(counts[0] >= 1);

    // Matching only the subscription without an identifier: none on it.
    let got = copies(&c, &base, &format!("{base}/c/d"), b"3").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].filters, vec![hash.clone()]);
    assert!(get(&got[0].properties(), "subscriptionIdentifiers").is_undefined());

    // With identifiers on every subscription, each gets exactly one copy
    // from either kind of server. Subscribing again replaces the options.
    c.subscribe_ok(
        &hash,
        obj(&[("qos", n(1.0)), ("subscriptionIdentifier", n(7.0))]),
        1,
    )
    .await;
    let marker = format!("{base}/x/y");
    c.publish(&exact, b"4", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    c.publish(&marker, b"", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    let mut got = Vec::new();
    loop {
        let m = c.message().await;
        if m.topic == marker {
            assert_eq!(m.filters, vec![hash.clone()]);
            break;
        }
        got.push(m);
    }
    assert_eq!(per_filter(&got, &all), [1, 1, 1]);

    // After unsubscribing, a message goes to the subscriptions left only.
    assert_eq!(c.unsubscribe(&plus).await.unwrap(), vec![0]);
    let other = format!("{base}/c");
    c.publish(&other, b"5", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    let m = c.message().await;
    assert_eq!(m.payload, b"5");
    assert_eq!(m.filters, vec![hash.clone()]);
    // Unsubscribing from what is not subscribed: 0x11 No subscription existed.
    assert_eq!(c.unsubscribe(&plus).await.unwrap(), vec![0x11]);
    c.end().await;
}

#[wasm_bindgen_test]
async fn messages_are_dispatched_to_their_subscriptions_with_wasmqtt_broker() {
    dispatch(broker(), true).await;
}

#[wasm_bindgen_test]
async fn messages_are_dispatched_to_their_subscriptions_with_mosquitto() {
    dispatch(mosquitto(), false).await;
}

#[wasm_bindgen_test]
async fn request_gets_the_response_a_second_client_sends() {
    let requester = TestClient::connect(&broker(), obj(&[])).await;
    let responder = TestClient::connect(&broker(), obj(&[])).await;
    let service = topic("svc");
    responder
        .subscribe_ok(&service, obj(&[("qos", n(1.0))]), 1)
        .await;

    for round in 0..3u8 {
        let request = requester.client.request(
            &service,
            vec![b'q', round],
            obj(&[
                ("qos", n(1.0)),
                (
                    "properties",
                    obj(&[("userProperties", pairs(&[("op", "echo")]))]),
                ),
            ]),
        );
        // The responder answers to the Response Topic with the Correlation Data.
        let m = responder.message().await;
        assert_eq!(m.payload, [b'q', round]);
        let p = m.properties();
        let response_topic = string(&p, "responseTopic").expect("a response topic");
        let correlation = to_bytes(&get(&p, "correlationData"));
        assert!(!correlation.is_empty());
        assert_eq!(
            from_pairs(&get(&p, "userProperties")),
            vec![("op".into(), "echo".into())]
        );
        responder
            .publish(
                &response_topic,
                &[b'a', round],
                obj(&[
                    ("qos", n(1.0)),
                    (
                        "properties",
                        obj(&[("correlationData", bytes(&correlation))]),
                    ),
                ]),
            )
            .await
            .unwrap();
        let response = settle("request", request).await.expect("a response");
        assert_eq!(to_bytes(&get(&response, "payload")), [b'a', round]);
        assert_eq!(string(&response, "topic"), Some(response_topic));
        assert_eq!(
            to_bytes(&get(&get(&response, "properties"), "correlationData")),
            correlation
        );
    }
    // Responses are not also delivered as messages.
    assert!(requester.pending_messages().is_empty());

    // With Response Information from the server, responses go under it.
    let informed = TestClient::connect(
        &broker(),
        obj(&[(
            "properties",
            obj(&[("requestResponseInformation", b(true))]),
        )]),
    )
    .await;
    let base = string(&informed.client.server(), "responseInformation").expect("info");
    let request = informed.client.request(&service, b"i".to_vec(), obj(&[]));
    let m = responder.message().await;
    let p = m.properties();
    let response_topic = string(&p, "responseTopic").unwrap();
    assert!(
        response_topic.starts_with(&format!("{base}/")),
        "{response_topic}"
    );
    responder
        .publish(
            &response_topic,
            b"informed",
            obj(&[(
                "properties",
                obj(&[("correlationData", get(&p, "correlationData"))]),
            )]),
        )
        .await
        .unwrap();
    let response = settle("request", request).await.unwrap();
    assert_eq!(to_bytes(&get(&response, "payload")), b"informed");
    informed.end().await;

    // No answer: the promise rejects when the timeout runs out.
    let request = requester.client.request(
        &topic("nobody"),
        b"?".to_vec(),
        obj(&[("timeout", n(50.0))]),
    );
    let e = settle("request", request).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("REQUEST_TIMEOUT"));
    requester.end().await;
    responder.end().await;
}

#[wasm_bindgen_test]
async fn publishes_the_broker_refuses_reject_with_its_reason_code() {
    let c = TestClient::connect(&broker(), obj(&[])).await;
    for qos in [1.0, 2.0] {
        let e = c
            .publish("$SYS/broker/forged", b"x", obj(&[("qos", n(qos))]))
            .await
            .unwrap_err();
        assert_eq!(string(&e, "code").as_deref(), Some("REJECTED"), "QoS {qos}");
        assert_eq!(num(&e, "reasonCode"), f64::from(0x87u8), "QoS {qos}");
    }
    // 0x10 No matching subscribers is a success, not a rejection.
    let code = c
        .publish(&topic("nobody"), b"x", obj(&[("qos", n(1.0))]))
        .await
        .unwrap();
    assert_eq!(code.as_f64(), Some(f64::from(0x10u8)));
    // The connection is fine afterwards.
    assert!(c.client.connected());
    assert_eq!(c.count("error"), 0);
    c.end().await;
}

#[wasm_bindgen_test]
async fn many_publishes_in_a_burst_all_arrive_in_order() {
    let sub = TestClient::connect(&broker(), obj(&[])).await;
    let publisher = TestClient::connect(&broker(), obj(&[])).await;
    let t = topic("burst");
    sub.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
    let promises: Vec<_> = (0..300u32)
        .map(|i| {
            publisher
                .client
                .publish(&t, i.to_be_bytes().to_vec(), obj(&[("qos", n(1.0))]))
        })
        .collect();
    for p in promises {
        settle("publish", p).await.unwrap();
    }
    for i in 0..300u32 {
        assert_eq!(sub.message().await.payload, i.to_be_bytes());
    }
    sub.end().await;
    publisher.end().await;
}

async fn shared_subscription(url: String) {
    let t = topic("shared");
    let filter = format!("$share/workers/{t}");
    let a = TestClient::connect(&url, obj(&[])).await;
    let b = TestClient::connect(&url, obj(&[])).await;
    a.subscribe_ok(&filter, obj(&[("qos", n(1.0))]), 1).await;
    b.subscribe_ok(&filter, obj(&[("qos", n(1.0))]), 1).await;
    for i in 0..10u8 {
        a.publish(&t, &[i], obj(&[("qos", n(1.0))])).await.unwrap();
    }
    // Each message goes to one member of the group, dispatched to the
    // shared subscription's filter.
    let mut got = Vec::new();
    while got.len() < 10 {
        let (ma, mb) = (a.pending_messages().len(), b.pending_messages().len());
        let from = if ma > 0 {
            &a
        } else if mb > 0 {
            &b
        } else {
            // Wait for whichever comes next.
            wait_for(
                "a shared message",
                || (a.pending_messages().len() + b.pending_messages().len() > 0).then_some(()),
                String::new,
            )
            .await;
            continue;
        };
        let m = from.message().await;
        assert_eq!(m.topic, t);
        assert_eq!(m.filters, vec![filter.clone()]);
        got.push(m.payload[0]);
    }
    got.sort_unstable();
    assert_eq!(got, (0..10).collect::<Vec<u8>>());
    a.end().await;
    b.end().await;
}

#[wasm_bindgen_test]
async fn shared_subscriptions_with_wasmqtt_broker() {
    shared_subscription(broker()).await;
}

#[wasm_bindgen_test]
async fn shared_subscriptions_with_mosquitto() {
    shared_subscription(mosquitto()).await;
}
