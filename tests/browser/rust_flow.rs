//! Flow control, queueing and limits through the Rust API: receive
//! maximum, offline queue, message expiry, packet size, topic aliases,
//! keep-alive, MQTT 3.1.1, framing, protocol violations by the server.

use futures_util::future::join_all;
use futures_util::FutureExt;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;
use wasmqtt::codec::ReasonCode;
use wasmqtt::session::{PublishError, UsageError};
use wasmqtt::{
    Client, Error, Event, Options, ProtocolVersion, PublishOptions, QoS, SubscribeOptions,
};

use crate::rust_support::*;
use crate::support::{broker, not_websocket, topic, unique};

fn qos(q: QoS) -> PublishOptions {
    PublishOptions::new().qos(q)
}

#[wasm_bindgen_test]
async fn the_broker_respects_our_receive_maximum() {
    let t = topic("recvmax");
    let c = connect(&broker(), Options::new().receive_maximum(2)).await;
    let mut events = c.events();
    let mut got = c
        .subscribe(&t, SubscribeOptions::new().qos(QoS::ExactlyOnce))
        .await
        .unwrap();
    let publisher = connect(&broker(), Options::new()).await;
    let sent = (0..60u8).map(|i| {
        let q = QoS::from_u8(1 + i % 2).unwrap();
        publisher.publish(&t, vec![i], qos(q))
    });
    for code in deadline("60 publishes", join_all(sent)).await {
        assert_eq!(code, Ok(ReasonCode::Success));
    }
    for i in 0..60u8 {
        assert_eq!(&message(&mut got).await.payload[..], [i]);
    }
    assert_eq!(quiet(&mut events, 10).await, None, "no protocol error");
    c.end().await.unwrap();
    publisher.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn topic_aliases_both_ways() {
    let t = topic("alias");
    let other = format!("{t}/2");
    // We accept aliases from the broker, and use them for what we send.
    let mut options = Options::new().auto_topic_alias(true);
    options.session_mut().properties.topic_alias_maximum = Some(4);
    let c = connect(&broker(), options).await;
    let mut all = c.messages();
    let sub = SubscribeOptions::new().qos(QoS::AtLeastOnce);
    let _a = c.subscribe(&t, sub.clone()).await.unwrap();
    let _b = c.subscribe(&other, sub).await.unwrap();
    for i in 0..5u8 {
        let to = if i % 2 == 0 { &t } else { &other };
        c.publish(to, vec![i], qos(QoS::AtLeastOnce)).await.unwrap();
        let m = message(&mut all).await;
        assert_eq!((&m.topic, &m.payload[..]), (to, &[i][..]));
        // The alias is resolved, not shown.
        assert_eq!(m.properties.topic_alias, None);
    }
    c.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn keep_alive_pings_and_measures_the_round_trip() {
    let c = connect(&broker(), Options::new().keep_alive(1)).await;
    let rtt = deadline("a PINGRESP", async {
        loop {
            if let Some(rtt) = c.metrics().round_trip_time {
                return rtt;
            }
            TimeoutFuture::new(5).await;
        }
    })
    .await;
    assert!(rtt < 1000, "{rtt}");
    assert!(c.is_connected());
    c.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_publish_larger_than_the_server_maximum_is_refused_locally() {
    let c = connect(&broker(), Options::new()).await;
    // wasmqtt-broker announces 1 MiB.
    let big = vec![0u8; (1 << 20) + 1];
    let refused = c.publish(&topic("big"), big, qos(QoS::AtLeastOnce)).await;
    assert!(
        matches!(refused, Err(Error::Usage(UsageError::PacketTooLarge { max, .. })) if max == 1 << 20),
        "{refused:?}"
    );
    assert!(c.is_connected());
    c.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn queued_messages_expire_and_the_queue_is_bounded() {
    // A server that does not speak WebSocket, and a reconnect long after:
    // the client stays offline while this runs.
    let options = Options::new()
        .queue_limit(2)
        .queue_qos0(false)
        .reconnect(soon(60_000));
    let c = Client::new(&not_websocket(), options).unwrap();
    let mut expiring = Box::pin(c.publish("t", "x", qos(QoS::AtLeastOnce).message_expiry(1)));
    let mut waiting = Box::pin(c.publish("t", "y", qos(QoS::AtLeastOnce)));
    assert!((&mut expiring).now_or_never().is_none());
    assert!((&mut waiting).now_or_never().is_none());
    let full = c.publish("t", "z", qos(QoS::ExactlyOnce)).await;
    assert_eq!(full, Err(Error::Usage(UsageError::QueueFull { limit: 2 })));
    let qos0 = c.publish("t", "0", PublishOptions::new()).await;
    assert_eq!(qos0, Err(Error::Usage(UsageError::NotConnected)));
    assert_eq!(c.metrics().queued, 2);
    // The Message Expiry Interval runs out while it waits.
    let expired = deadline("expiry", expiring).await;
    assert_eq!(expired, Err(Error::Publish(PublishError::Expired)));
    assert_eq!(c.metrics().queued, 1);
    // Ending fails what still waits.
    c.end().await.unwrap();
    assert_eq!(deadline("waiting", waiting).await, Err(Error::Ended));
}

#[wasm_bindgen_test]
async fn ending_before_the_connack_is_clean() {
    let c = Client::new(&broker(), Options::new()).unwrap();
    let mut events = c.events();
    deadline("end", c.end()).await.unwrap();
    assert_eq!(event(&mut events).await, Event::Ended, "never connected");
    assert!(!c.is_connected());

    let c = Client::new(&not_websocket(), Options::new().no_reconnect()).unwrap();
    let mut events = c.events();
    disconnected(&mut events).await;
    deadline("end", c.end()).await.unwrap();
    assert_eq!(event(&mut events).await, Event::Ended);
}

#[wasm_bindgen_test]
async fn mqtt_3_1_1_refuses_what_it_cannot_carry() {
    let c = connect(
        &broker(),
        Options::new().protocol_version(ProtocolVersion::V311),
    )
    .await;
    let t = topic("v311");
    let sub = SubscribeOptions::new().qos(QoS::ExactlyOnce);
    let mut got = c.subscribe(&t, sub).await.unwrap();
    for q in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        c.publish(&t, "v4", qos(q)).await.unwrap();
        let m = message(&mut got).await;
        assert_eq!((m.text(), m.qos), (Some("v4"), q));
    }
    let not_in_v311 = Err(Error::Usage(UsageError::NotInV311));
    let typed = c.publish(&t, "x", PublishOptions::new().content_type("text/plain"));
    assert_eq!(typed.await, not_in_v311);
    let request = c.request(&t, "x", PublishOptions::new(), 1_000).await;
    assert_eq!(request.err(), not_in_v311.clone().err());
    let with_id = SubscribeOptions::new().subscription_identifier(1);
    assert_eq!(c.subscribe(&t, with_id).await.err(), not_in_v311.err());
    c.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn packets_split_across_frames_and_packed_into_one() {
    let id = unique("frames");
    let c = connect(&broker(), Options::new().client_id(&id)).await;
    let mut all = c.messages();
    let admin = connect(&broker(), Options::new()).await;
    // PUBLISH QoS 0, topic "a/b", no properties.
    let publish = |payload: &[u8]| {
        let mut p = vec![0x30, (2 + 3 + 1 + payload.len()) as u8, 0x00, 0x03];
        p.extend_from_slice(b"a/b");
        p.push(0x00);
        p.extend_from_slice(payload);
        p
    };
    let one = publish(b"hello");
    // Split in the middle of the topic.
    control_with(&admin, "raw", &id, &one[..5]).await;
    control_with(&admin, "raw", &id, &one[5..]).await;
    let m = message(&mut all).await;
    assert_eq!((m.topic.as_str(), m.text()), ("a/b", Some("hello")));
    // Two packets in one frame.
    let mut two = publish(b"1");
    two.extend(publish(b"2"));
    control_with(&admin, "raw", &id, &two).await;
    assert_eq!(message(&mut all).await.text(), Some("1"));
    assert_eq!(message(&mut all).await.text(), Some("2"));
    assert!(c.is_connected());
    c.end().await.unwrap();
    admin.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn protocol_violations_by_the_server_get_their_reason_code() {
    let admin = connect(&broker(), Options::new()).await;
    let cases: [(&[u8], ReasonCode); 3] = [
        // PUBLISH with Topic Alias 1 when we allow none [MQTT-3.3.2-9]: 0x94.
        (
            &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'x'],
            ReasonCode::TopicAliasInvalid,
        ),
        // SUBACK for a packet identifier never used: 0x82.
        (
            &[0x90, 0x04, 0x12, 0x34, 0x00, 0x00],
            ReasonCode::ProtocolError,
        ),
        // CONNACK once connected: 0x82.
        (&[0x20, 0x03, 0x00, 0x00, 0x00], ReasonCode::ProtocolError),
    ];
    for (raw, code) in cases {
        let id = unique("violated");
        let c = connect(&broker(), Options::new().client_id(&id).no_reconnect()).await;
        let mut events = c.events();
        control_with(&admin, "raw", &id, raw).await;
        let reason = disconnected(&mut events).await;
        assert_eq!(reason.reason_code(), Some(code), "{raw:02x?}: {reason:?}");
    }
    admin.end().await.unwrap();
}
