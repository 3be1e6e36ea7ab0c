//! PUBLISH properties: Topic Aliases from clients, Message Expiry, the
//! application properties forwarded unchanged, Response Information.
mod common;

use common::*;
use wasmqtt_codec::{Packet, PayloadFormatIndicator, Properties, QoS, ReasonCode, TopicName};

fn aliased(topic: &str, alias: u16, payload: &[u8]) -> wasmqtt_codec::Publish {
    let mut p = publish("x", QoS::AtMostOnce, payload);
    p.topic = if topic.is_empty() {
        TopicName::default()
    } else {
        TopicName::new(topic).unwrap()
    };
    p.properties.topic_alias = Some(alias);
    p
}

#[tokio::test]
async fn topic_aliases_map_and_remap() {
    // Section 3.3.2.3.4: a topic with an alias sets the mapping, an empty
    // topic uses it, a new topic replaces it; subscribers see the topic,
    // not the alias.
    let b = broker_with(|c| c.limits.topic_alias_maximum = 2).await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("al/#", QoS::AtLeastOnce).await;
    let (mut p, ack) = Client::connect(addr, connect("p")).await;
    assert_eq!(ack.properties.topic_alias_maximum, Some(2));
    for (topic, alias, expect) in [
        ("al/one", 1, "al/one"),
        ("", 1, "al/one"),
        ("al/two", 2, "al/two"),
        ("", 2, "al/two"),
        ("al/three", 1, "al/three"),
        ("", 1, "al/three"),
    ] {
        assert_eq!(
            p.publish_acked(aliased(topic, alias, b"x")).await,
            ReasonCode::Success
        );
        let got = s.recv_acked().await;
        assert_eq!(got.topic.as_str(), expect);
        assert_eq!(got.properties.topic_alias, None);
    }
    b.shutdown().await;
}

#[tokio::test]
async fn topic_alias_errors() {
    // [MQTT-3.3.2-8]: alias 0 and [MQTT-3.3.2-9] one above our maximum are
    // 0x94; an alias never mapped is a Protocol Error; [MQTT-3.3.2-7]
    // mappings do not survive the connection.
    let b = broker_with(|c| c.limits.topic_alias_maximum = 2).await;
    let addr = b.tcp[0];
    let mut good = Client::v5(addr, "good").await;
    good.subscribe("al", QoS::AtMostOnce).await;

    let mut c = Client::v5(addr, "c").await;
    c.send(Packet::Publish(aliased("al", 3, b"x"))).await;
    c.expect_disconnect(ReasonCode::TopicAliasInvalid).await;

    // Alias 0 cannot be encoded by the codec: raw bytes.
    let mut c = Client::v5(addr, "c").await;
    let mut body = raw_str(b"al");
    body.extend([3, 0x23, 0x00, 0x00]); // Property Length 3, Topic Alias 0
    c.send_raw(&raw_packet(0x30, &body)).await;
    c.expect_disconnect(ReasonCode::TopicAliasInvalid).await;

    let mut c = Client::v5(addr, "c").await;
    c.send(Packet::Publish(aliased("", 2, b"x"))).await;
    c.expect_disconnect(ReasonCode::ProtocolError).await;

    let mut c = Client::v5(addr, "c").await;
    c.publish_acked(aliased("al", 1, b"set")).await;
    assert_eq!(good.recv_publish().await.payload.as_ref(), b"set");
    c.disconnect().await;
    let mut c = Client::v5(addr, "c").await;
    c.send(Packet::Publish(aliased("", 1, b"x"))).await;
    c.expect_disconnect(ReasonCode::ProtocolError).await;
    good.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn message_expiry_counts_down_while_queued_and_expired_ones_are_dropped() {
    // [MQTT-3.3.2-5] [MQTT-3.3.2-6]
    let b = local(broker().await);
    let addr = b;
    let persistent = |c: &mut wasmqtt_codec::Connect| {
        c.clean_start = false;
        c.properties.session_expiry_interval = Some(60);
    };
    let (mut s, _) = connect_with(addr, "s", persistent).await;
    s.subscribe("e/#", QoS::AtLeastOnce).await;
    s.disconnect().await;
    let mut p = Client::v5(addr, "p").await;
    for (topic, expiry) in [("e/short", Some(1)), ("e/long", Some(10)), ("e/none", None)] {
        let mut m = publish(topic, QoS::AtLeastOnce, b"x");
        m.properties.message_expiry_interval = expiry;
        p.publish_acked(m).await;
    }
    // Waiting is the point: queued messages must lose a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (mut s, _) = connect_with(addr, "s", persistent).await;
    let long = s.recv_acked().await;
    assert_eq!(long.topic.as_str(), "e/long");
    let left = long.properties.message_expiry_interval.unwrap();
    assert!((1..=9).contains(&left), "{left}");
    let none = s.recv_acked().await;
    assert_eq!(none.topic.as_str(), "e/none");
    assert_eq!(none.properties.message_expiry_interval, None);
    s.assert_idle().await;
}

#[tokio::test]
async fn application_properties_are_forwarded_unchanged() {
    // [MQTT-3.3.2-4] Payload Format Indicator, [MQTT-3.3.2-15] Response
    // Topic, [MQTT-3.3.2-16] Correlation Data, [MQTT-3.3.2-17]
    // [MQTT-3.3.2-18] User Properties in order, [MQTT-3.3.2-20] Content Type.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("props", QoS::AtLeastOnce).await;
    let mut p = Client::v5(addr, "p").await;
    let properties = Properties {
        payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
        content_type: Some("application/json".into()),
        response_topic: Some(TopicName::new("reply/here").unwrap()),
        correlation_data: Some(bytes::Bytes::from_static(&[0, 1, 0xFF])),
        user_properties: vec![
            ("b".into(), "2".into()),
            ("a".into(), "1".into()),
            ("b".into(), "1".into()),
            ("".into(), "".into()),
        ],
        ..Properties::default()
    };
    let mut m = publish("props", QoS::AtLeastOnce, b"{}");
    m.properties = properties.clone();
    p.publish_acked(m).await;
    let got = s.recv_acked().await;
    assert_eq!(got.properties, properties);
    assert_eq!(got.payload.as_ref(), b"{}");
    b.shutdown().await;
}

#[tokio::test]
async fn response_information_only_on_request() {
    // [MQTT-3.1.2-28]: none unless Request Response Information is 1.
    let b = broker().await;
    let addr = b.tcp[0];
    let (_a, ack) = connect_with(addr, "a", |c| {
        c.properties.request_response_information = Some(true);
    })
    .await;
    let info = ack
        .properties
        .response_information
        .expect("response information");
    assert!(TopicName::new(info).is_ok(), "usable as a topic");
    let (_b, ack) = connect_with(addr, "b", |c| {
        c.properties.request_response_information = Some(false);
    })
    .await;
    assert_eq!(ack.properties.response_information, None);
    let (_c, ack) = connect_with(addr, "c", |_| {}).await;
    assert_eq!(ack.properties.response_information, None);
    b.shutdown().await;
}

#[tokio::test]
async fn topic_aliases_are_set_for_clients_that_allow_them() {
    // [MQTT-3.1.2-26] [MQTT-3.1.2-27]: never above the client's Topic Alias
    // Maximum, none without one. Section 3.3.2.3.4: the first PUBLISH on a
    // topic sets the alias, later ones send only the alias.
    let b = broker().await;
    let addr = b.tcp[0];
    let persistent = |c: &mut wasmqtt_codec::Connect| {
        c.clean_start = false;
        c.properties.session_expiry_interval = Some(60);
        c.properties.topic_alias_maximum = Some(1);
    };
    let (mut s, _) = connect_with(addr, "s", persistent).await;
    s.subscribe("a/#", QoS::AtLeastOnce).await;
    let mut plain = Client::v5(addr, "plain").await;
    plain.subscribe("a/#", QoS::AtMostOnce).await;
    let mut p = Client::v5(addr, "p").await;
    for topic in ["a/x", "a/x", "a/y"] {
        p.publish1(topic, b"m").await;
    }
    let got: Vec<_> = [
        s.recv_acked().await,
        s.recv_acked().await,
        s.recv_publish().await, // left unacknowledged
    ]
    .into_iter()
    .map(|m| (m.topic.as_str().to_owned(), m.properties.topic_alias))
    .collect();
    assert_eq!(
        got,
        [
            ("a/x".to_owned(), Some(1)),
            (String::new(), Some(1)),
            // The one alias is taken: other topics go in full.
            ("a/y".to_owned(), None),
        ]
    );
    for _ in 0..3 {
        assert_eq!(plain.recv_publish().await.properties.topic_alias, None);
    }
    // Re-sent on a new connection, where the old aliases mean nothing: in full.
    drop(s);
    let (mut s, _) = connect_with(addr, "s", persistent).await;
    let again = s.recv_publish().await;
    assert!(again.dup);
    assert_eq!(
        (again.topic.as_str(), again.properties.topic_alias),
        ("a/y", None)
    );
    b.shutdown().await;
}
