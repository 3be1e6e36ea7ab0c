//! Will Messages: when they are published, delayed, cancelled and retained.
mod common;

use common::*;
use wasmqtt_codec::{Disconnect, Packet, QoS, ReasonCode, Will};

/// A will on `topic` with a Will Delay Interval of `delay` seconds.
fn delayed(topic: &str, delay: u32) -> Will {
    let mut w = will(topic, topic.as_bytes());
    w.properties.will_delay_interval = Some(delay);
    w
}

async fn watcher(addr: impl Dial) -> Client {
    let mut w = Client::v5(addr, "watcher").await;
    w.subscribe("w/#", QoS::AtLeastOnce).await;
    w
}

#[tokio::test]
async fn will_on_abnormal_close_none_on_normal_disconnect() {
    // [MQTT-3.1.2-8] [MQTT-3.1.2-10] [MQTT-3.14.4-3]
    let b = broker().await;
    let addr = b.tcp[0];
    let mut w = watcher(addr).await;
    let (polite, _) = connect_with(addr, "polite", |c| c.will = Some(will("w/polite", b"p"))).await;
    polite.disconnect().await;
    let (rude, _) = connect_with(addr, "rude", |c| c.will = Some(will("w/rude", b"r"))).await;
    drop(rude);
    // The polite client's will would have come first.
    assert_eq!(w.recv_publish().await.topic.as_str(), "w/rude");
    b.shutdown().await;
}

#[tokio::test]
async fn disconnect_other_than_0x00_publishes_the_will() {
    // [MQTT-3.14.4-3]: only 0x00 discards the will; 0x04 asks for it and
    // an error code is not a normal disconnection either [MQTT-3.1.2-8].
    let b = broker().await;
    let addr = b.tcp[0];
    let mut w = watcher(addr).await;
    for (id, code) in [
        ("with-will", ReasonCode::DisconnectWithWillMessage),
        ("error", ReasonCode::UnspecifiedError),
    ] {
        let topic = format!("w/{id}");
        let (mut c, _) = connect_with(addr, id, |c| c.will = Some(will(&topic, b"x"))).await;
        c.send(Packet::Disconnect(Disconnect::new(code))).await;
        c.expect_closed().await;
        assert_eq!(w.recv_publish().await.topic.as_str(), topic);
    }
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn will_delay_is_cancelled_by_a_reconnect_and_otherwise_elapses() {
    // [MQTT-3.1.3-9]: "cancel" and "keep" both have a 1 s Will Delay;
    // "cancel" reconnects before it passes. Its timer (if it had one)
    // started first, so had it not been cancelled its will would arrive
    // before the one of "keep".
    let b = local(broker().await);
    let addr = b;
    let mut w = watcher(addr).await;
    let session = |id: &'static str| {
        move |c: &mut wasmqtt_codec::Connect| {
            c.clean_start = false;
            c.properties.session_expiry_interval = Some(60);
            c.will = Some(delayed(&format!("w/{id}"), 1));
        }
    };
    let (cancel, _) = connect_with(addr, "cancel", session("cancel")).await;
    let (keep, _) = connect_with(addr, "keep", session("keep")).await;
    drop(cancel);
    let (_back, ack) = connect_with(addr, "cancel", |c| {
        c.clean_start = false;
        c.properties.session_expiry_interval = Some(60);
    })
    .await;
    assert!(ack.session_present);
    drop(keep);
    let started = tokio::time::Instant::now();
    assert_eq!(w.recv_publish().await.topic.as_str(), "w/keep");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    w.assert_idle().await;
}

#[tokio::test]
async fn session_ending_before_the_will_delay_publishes_the_will() {
    // [MQTT-3.1.3-9]: the will is sent when the delay passes or the
    // session ends, whichever is first: here a Clean Start ends it at once.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut w = watcher(addr).await;
    let (c, _) = connect_with(addr, "c", |c| {
        c.properties.session_expiry_interval = Some(3600);
        c.will = Some(delayed("w/c", 3600));
    })
    .await;
    drop(c);
    let (_c, ack) = connect_with(addr, "c", |_| {}).await;
    assert!(!ack.session_present);
    assert_eq!(w.recv_publish().await.topic.as_str(), "w/c");
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn session_expiry_shorter_than_the_will_delay_publishes_at_session_end() {
    // [MQTT-3.1.3-9] [MQTT-3.1.2-23]
    let b = local(broker().await);
    let addr = b;
    let mut w = watcher(addr).await;
    let (c, _) = connect_with(addr, "c", |c| {
        c.properties.session_expiry_interval = Some(1);
        c.will = Some(delayed("w/c", 3600));
    })
    .await;
    drop(c);
    let started = tokio::time::Instant::now();
    assert_eq!(w.recv_publish().await.topic.as_str(), "w/c");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "{waited:?}"
    );
}

#[tokio::test]
async fn retained_will_with_qos_and_properties() {
    // [MQTT-3.1.2-15]: Will Retain 1 publishes it as a retained message;
    // Will QoS and the will's properties are kept (section 3.1.3.2).
    let b = broker().await;
    let addr = b.tcp[0];
    let mut live = Client::v5(addr, "live").await;
    live.subscribe("w/#", QoS::ExactlyOnce).await;
    let (c, _) = connect_with(addr, "c", |c| {
        let mut w = will("w/status", b"offline");
        w.qos = QoS::AtLeastOnce;
        w.retain = true;
        w.properties.content_type = Some("text/plain".into());
        w.properties.user_properties = vec![("k".into(), "v".into())];
        c.will = Some(w);
    })
    .await;
    drop(c);
    let got = live.recv_acked().await;
    assert_eq!(got.qos, QoS::AtLeastOnce);
    assert!(!got.retain, "live subscribers see RETAIN 0 [MQTT-3.3.1-12]");
    assert_eq!(got.properties.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        got.properties.user_properties,
        [("k".to_string(), "v".to_string())]
    );
    assert_eq!(got.properties.will_delay_interval, None);
    let mut late = Client::v5(addr, "late").await;
    late.subscribe("w/status", QoS::AtLeastOnce).await;
    let kept = late.recv_acked().await;
    assert!(kept.retain);
    assert_eq!(kept.payload.as_ref(), b"offline");
    b.shutdown().await;
}
