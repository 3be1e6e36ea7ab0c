//! Messages through the Rust API: properties, retained messages,
//! subscription options, dispatch to subscriptions, request/response,
//! rejected publishes, bursts, shared subscriptions.

use futures_util::future::{join_all, select, Either};
use futures_util::{FutureExt, StreamExt};
use wasm_bindgen_test::*;
use wasmqtt::codec::{PayloadFormatIndicator, ReasonCode, TopicName};
use wasmqtt::session::PublishError;
use wasmqtt::{
    Client, Error, Message, Options, PublishOptions, QoS, RetainHandling, SubscribeOptions,
    Subscription,
};

use crate::rust_support::*;
use crate::support::{broker, mosquitto, topic};

fn qos1() -> PublishOptions {
    PublishOptions::new().qos(QoS::AtLeastOnce)
}

fn sub1() -> SubscribeOptions {
    SubscribeOptions::new().qos(QoS::AtLeastOnce)
}

/// Every message already waiting in a stream, without waiting.
fn drain(s: &mut Subscription) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(Some(m)) = s.next().now_or_never() {
        out.push(m);
    }
    out
}

#[wasm_bindgen_test]
async fn qos_is_the_lower_of_published_and_granted() {
    let c = connect(&broker(), Options::new()).await;
    let t = topic("down");
    let mut sub = c.subscribe(&t, sub1()).await.unwrap();
    let qos2 = PublishOptions::new().qos(QoS::ExactlyOnce);
    c.publish(&t, "2", qos2).await.unwrap();
    assert_eq!(message(&mut sub).await.qos, QoS::AtLeastOnce);
    c.publish(&t, "0", PublishOptions::new()).await.unwrap();
    assert_eq!(message(&mut sub).await.qos, QoS::AtMostOnce);
    c.end().await.unwrap();
}

async fn properties_round_trip(url: String) {
    let c = connect(&url, Options::new()).await;
    let publisher = connect(&url, Options::new()).await;
    let t = topic("props");
    let mut sub = c.subscribe(&t, sub1()).await.unwrap();
    let users = [
        ("b", "2"),
        ("a", "1"),
        ("a", "0"),
        ("ключ", "値 ✓"),
        ("", ""),
    ];
    let correlation = [0u8, 1, 2, 0xFE, 0xFF];
    let mut options = qos1()
        .utf8()
        .message_expiry(3600)
        .content_type("application/json; charset=utf-8");
    for (k, v) in users {
        options = options.user_property(k, v);
    }
    let p = options.properties_mut();
    p.response_topic = Some(TopicName::new("reply/to/me").unwrap());
    p.correlation_data = Some(correlation.to_vec().into());
    publisher.publish(&t, r#"{"x":1}"#, options).await.unwrap();
    let m = message(&mut sub).await;
    let p = &m.properties;
    assert_eq!(
        p.payload_format_indicator,
        Some(PayloadFormatIndicator::Utf8)
    );
    // What is left of the interval: at most what was sent, and not much less.
    let expiry = p.message_expiry_interval.expect("an expiry");
    assert!((3590..=3600).contains(&expiry), "{expiry}");
    assert_eq!(
        p.content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        p.response_topic.as_ref().map(|t| t.as_str()),
        Some("reply/to/me")
    );
    assert_eq!(p.correlation_data.as_deref(), Some(&correlation[..]));
    let want: Vec<(String, String)> = users
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(p.user_properties, want, "in order, repeats kept");
    assert_eq!(m.text(), Some(r#"{"x":1}"#));

    // No properties at all: none come back.
    publisher
        .publish(&t, "plain", PublishOptions::new())
        .await
        .unwrap();
    let m = message(&mut sub).await;
    assert!(m.properties.is_empty(), "{:?}", m.properties);
    c.end().await.unwrap();
    publisher.end().await.unwrap();
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
    let c = connect(&broker(), Options::new()).await;
    let refused = c
        .publish(&topic("utf8"), vec![0xFF, 0xFE], qos1().utf8())
        .await;
    match refused {
        Err(Error::Publish(PublishError::Rejected { reason_code, .. })) => {
            assert_eq!(reason_code, ReasonCode::PayloadFormatInvalid);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    c.end().await.unwrap();
}

async fn retained(url: String) {
    let publisher = connect(&url, Options::new()).await;
    let t = topic("retained");
    publisher
        .publish(&t, "last", qos1().retain(true))
        .await
        .unwrap();

    // A new subscription gets the retained message, flagged as retained.
    let c = connect(&url, Options::new()).await;
    let mut sub = c.subscribe(&t, sub1()).await.unwrap();
    let m = message(&mut sub).await;
    assert_eq!(m.text(), Some("last"));
    assert!(m.retain);

    // Retain Handling 1: not again for a subscription that already exists.
    let again = sub1().retain_handling(RetainHandling::SendAtSubscribeIfNew);
    let mut same = c.subscribe(&t, again).await.unwrap();
    publisher.publish(&t, "live", qos1()).await.unwrap();
    let m = message(&mut same).await;
    assert_eq!(m.text(), Some("live"), "a live message comes first");
    assert!(!m.retain, "a live message is not flagged retained");

    // Retain Handling 2: never at subscribe time.
    let other = connect(&url, Options::new()).await;
    let never = sub1().retain_handling(RetainHandling::DoNotSend);
    let mut other_sub = other.subscribe(&t, never).await.unwrap();
    publisher.publish(&t, "live2", qos1()).await.unwrap();
    assert_eq!(message(&mut other_sub).await.text(), Some("live2"));

    // An empty retained message clears it.
    publisher
        .publish(&t, "", qos1().retain(true))
        .await
        .unwrap();
    let late = connect(&url, Options::new()).await;
    let mut late_sub = late.subscribe(&t, sub1()).await.unwrap();
    publisher.publish(&t, "marker", qos1()).await.unwrap();
    assert_eq!(message(&mut late_sub).await.text(), Some("marker"));
    for x in [publisher, c, other, late] {
        x.end().await.unwrap();
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
    let c = connect(&url, Options::new()).await;
    let other = connect(&url, Options::new()).await;
    let local = topic("nl");
    let mut sub = c.subscribe(&local, sub1().no_local(true)).await.unwrap();
    c.publish(&local, "mine", qos1()).await.unwrap();
    other.publish(&local, "theirs", qos1()).await.unwrap();
    // Our own message would have come before theirs.
    assert_eq!(message(&mut sub).await.text(), Some("theirs"));

    // Retain As Published: the RETAIN flag of live messages is kept only with it.
    let (t_rap, t_plain) = (topic("rap"), topic("norap"));
    let mut rap = c
        .subscribe(&t_rap, sub1().retain_as_published(true))
        .await
        .unwrap();
    let mut plain = c.subscribe(&t_plain, sub1()).await.unwrap();
    other
        .publish(&t_rap, "r", qos1().retain(true))
        .await
        .unwrap();
    assert!(
        message(&mut rap).await.retain,
        "kept with Retain As Published"
    );
    other
        .publish(&t_plain, "p", qos1().retain(true))
        .await
        .unwrap();
    assert!(!message(&mut plain).await.retain, "cleared without it");
    for t in [&t_rap, &t_plain] {
        other.publish(t, "", qos1().retain(true)).await.unwrap();
    }
    c.end().await.unwrap();
    other.end().await.unwrap();
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
/// and waits for the marker on `all`: every copy of the message the
/// broker sent has been routed to its subscriptions by then.
async fn publish_and_mark(c: &Client, all: &mut wasmqtt::Messages, base: &str, topic: &str) {
    let marker = format!("{base}/marker/x");
    c.publish(topic, "m", qos1()).await.unwrap();
    c.publish(&marker, "", qos1()).await.unwrap();
    while message(all).await.topic != marker {}
}

async fn dispatch(url: String, one_copy: bool) {
    let c = connect(&url, Options::new()).await;
    let mut all = c.messages();
    let base = topic("disp");
    const MAX_ID: u32 = 268_435_455;
    let by_id = |id| sub1().subscription_identifier(id);
    let mut plus = c.subscribe(&format!("{base}/+"), by_id(1)).await.unwrap();
    let mut exact = c
        .subscribe(&format!("{base}/b"), by_id(MAX_ID))
        .await
        .unwrap();
    let mut hash = c.subscribe(&format!("{base}/#"), sub1()).await.unwrap();

    // Each subscription with an identifier gets the message exactly once;
    // the one without gets every copy that may be for it.
    publish_and_mark(&c, &mut all, &base, &format!("{base}/b")).await;
    let (p, e, h) = (drain(&mut plus), drain(&mut exact), drain(&mut hash));
    assert_eq!((p.len(), e.len()), (1, 1));
    let hash_copies = h.iter().filter(|m| !m.topic.ends_with("/marker/x")).count();
    if one_copy {
        // wasmqtt-broker: one copy with both identifiers.
        let mut ids = p[0].properties.subscription_identifiers.clone();
        ids.sort_unstable();
        assert_eq!(ids, vec![1, MAX_ID]);
        assert_eq!(hash_copies, 1);
    } else {
        assert!(hash_copies >= 1);
    }

    publish_and_mark(&c, &mut all, &base, &format!("{base}/c")).await;
    assert_eq!((drain(&mut plus).len(), drain(&mut exact).len()), (1, 0));
    drain(&mut hash);

    // Matching only the subscription without an identifier: none on it.
    publish_and_mark(&c, &mut all, &base, &format!("{base}/c/d")).await;
    assert_eq!((drain(&mut plus).len(), drain(&mut exact).len()), (0, 0));
    let h = drain(&mut hash);
    assert_eq!(h.len(), 2, "the message and the marker");
    assert!(h[0].properties.subscription_identifiers.is_empty());

    // After unsubscribing, a message goes to the subscriptions left only.
    assert_eq!(plus.unsubscribe().await, Ok(ReasonCode::Success));
    publish_and_mark(&c, &mut all, &base, &format!("{base}/c")).await;
    assert_eq!(drain(&mut exact).len(), 0);
    assert_eq!(drain(&mut hash).len(), 2);
    // Unsubscribing from what is not subscribed: 0x11 No subscription existed.
    let again = c.unsubscribe(&format!("{base}/+")).await;
    assert_eq!(again, Ok(ReasonCode::NoSubscriptionExisted));
    c.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn messages_are_dispatched_to_their_subscriptions_with_wasmqtt_broker() {
    dispatch(broker(), true).await;
}

#[wasm_bindgen_test]
async fn messages_are_dispatched_to_their_subscriptions_with_mosquitto() {
    dispatch(mosquitto(), false).await;
}

/// Answers the next request on `incoming` with `tag`, to its Response
/// Topic with its Correlation Data; gives the request.
async fn answer(responder: &Client, incoming: &mut Subscription, tag: &'static [u8]) -> Message {
    let m = message(incoming).await;
    let to = m
        .properties
        .response_topic
        .clone()
        .expect("a Response Topic");
    let mut reply = qos1();
    reply.properties_mut().correlation_data = m.properties.correlation_data.clone();
    responder.publish(to.as_str(), tag, reply).await.unwrap();
    m
}

#[wasm_bindgen_test]
async fn requests_carry_user_properties_and_follow_response_information() {
    let responder = connect(&broker(), Options::new()).await;
    let service = topic("svc");
    let mut incoming = responder.subscribe(&service, sub1()).await.unwrap();
    let requester = connect(&broker(), Options::new()).await;
    let mut stray = requester.messages();
    for round in 0..3u8 {
        let request = requester.request(
            &service,
            vec![b'q', round],
            qos1().user_property("op", "echo"),
            5_000,
        );
        let (response, asked) = deadline(
            "a response",
            futures_util::future::join(request, answer(&responder, &mut incoming, b"a")),
        )
        .await;
        assert_eq!(&asked.payload[..], [b'q', round]);
        assert_eq!(
            asked.properties.user_properties,
            vec![("op".into(), "echo".into())]
        );
        assert!(asked
            .properties
            .correlation_data
            .as_ref()
            .is_some_and(|c| !c.is_empty()));
        assert_eq!(response.expect("a response").text(), Some("a"));
    }
    // Responses are not also delivered as messages.
    assert_eq!(quiet(&mut stray, 50).await, None);

    // With Response Information from the server, responses go under it.
    let informed = connect(&broker(), Options::new().request_response_information(true)).await;
    let base = informed
        .server()
        .response_information
        .expect("Response Information");
    let request = informed.request(&service, "i", PublishOptions::new(), 5_000);
    let (response, asked) = deadline(
        "a response",
        futures_util::future::join(request, answer(&responder, &mut incoming, b"informed")),
    )
    .await;
    let to = asked.properties.response_topic.expect("a Response Topic");
    assert!(
        to.as_str().starts_with(&format!("{base}/")),
        "{}",
        to.as_str()
    );
    assert_eq!(response.unwrap().text(), Some("informed"));
    for c in [informed, requester, responder] {
        c.end().await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn publishes_the_broker_refuses_fail_with_its_reason_code() {
    let c = connect(&broker(), Options::new()).await;
    let mut events = c.events();
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let refused = c
            .publish("$SYS/broker/forged", "x", PublishOptions::new().qos(qos))
            .await;
        let e = refused.expect_err("refused");
        assert!(
            matches!(e, Error::Publish(PublishError::Rejected { .. })),
            "{qos:?}: {e:?}"
        );
        assert_eq!(e.reason_code(), Some(ReasonCode::NotAuthorized), "{qos:?}");
    }
    // 0x10 No matching subscribers is a success, not a rejection.
    let code = c.publish(&topic("nobody"), "x", qos1()).await;
    assert_eq!(code, Ok(ReasonCode::NoMatchingSubscribers));
    // The connection is fine afterwards.
    assert!(c.is_connected());
    assert_eq!(quiet(&mut events, 50).await, None);
    c.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn many_publishes_in_a_burst_all_arrive_in_order() {
    let c = connect(&broker(), Options::new()).await;
    let publisher = connect(&broker(), Options::new()).await;
    let t = topic("burst");
    let mut sub = c.subscribe(&t, sub1()).await.unwrap();
    let publishes = (0..300u32).map(|i| publisher.publish(&t, i.to_be_bytes().to_vec(), qos1()));
    for result in deadline("300 publishes", join_all(publishes)).await {
        assert_eq!(result, Ok(ReasonCode::Success));
    }
    for i in 0..300u32 {
        assert_eq!(&message(&mut sub).await.payload[..], i.to_be_bytes());
    }
    c.end().await.unwrap();
    publisher.end().await.unwrap();
}

async fn shared_subscription(url: String) {
    let t = topic("shared");
    let filter = format!("$share/workers/{t}");
    let a = connect(&url, Options::new()).await;
    let b = connect(&url, Options::new()).await;
    let mut sa = a.subscribe(&filter, sub1()).await.unwrap();
    let mut sb = b.subscribe(&filter, sub1()).await.unwrap();
    for i in 0..10u8 {
        a.publish(&t, vec![i], qos1()).await.unwrap();
    }
    // Each message goes to one member of the group.
    let mut got = Vec::new();
    while got.len() < 10 {
        let m = match deadline("a shared message", select(sa.next(), sb.next())).await {
            Either::Left((m, _)) | Either::Right((m, _)) => m.expect("a message"),
        };
        assert_eq!(m.topic, t);
        got.push(m.payload[0]);
    }
    got.sort_unstable();
    assert_eq!(got, (0..10).collect::<Vec<u8>>());
    a.end().await.unwrap();
    b.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn shared_subscriptions_with_wasmqtt_broker() {
    shared_subscription(broker()).await;
}

#[wasm_bindgen_test]
async fn shared_subscriptions_with_mosquitto() {
    shared_subscription(mosquitto()).await;
}
