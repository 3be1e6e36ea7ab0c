//! Connecting through the Rust API: protocol versions, refusals, server
//! DISCONNECT, malformed bytes, brokers that cannot be reached.

use wasm_bindgen_test::*;
use wasmqtt::codec::ReasonCode;
use wasmqtt::session::{ConnectionError, ProtocolError};
use wasmqtt::{
    Client, Error, Event, Options, ProtocolVersion, PublishOptions, QoS, SubscribeOptions,
};

use crate::rust_support::*;
use crate::support::{auth_broker, auth_user, broker, mosquitto, not_websocket, topic, unique};

#[wasm_bindgen_test]
async fn connects_to_mosquitto_with_mqtt_5_and_3_1_1() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let c = connect(&mosquitto(), Options::new().protocol_version(version)).await;
        let t = topic("v");
        let qos1 = SubscribeOptions::new().qos(QoS::AtLeastOnce);
        let mut sub = c.subscribe(&t, qos1).await.expect("subscribed");
        assert_eq!(sub.granted_qos(), ReasonCode::GrantedQoS1, "{version:?}");
        let code = c.publish(&t, "hi", PublishOptions::new().qos(QoS::AtLeastOnce));
        assert_eq!(deadline("publish", code).await, Ok(ReasonCode::Success));
        assert_eq!(message(&mut sub).await.text(), Some("hi"), "{version:?}");
        c.end().await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn refused_credentials_are_an_error_without_a_reconnect_loop() {
    let (user, _) = auth_user();
    let url = auth_broker();
    // No credentials: 0x87 Not authorized; a wrong password: 0x86.
    let cases = [
        (Options::new(), ReasonCode::NotAuthorized),
        (
            Options::new().credentials(user, "wrong"),
            ReasonCode::BadUserNameOrPassword,
        ),
    ];
    for (options, code) in cases {
        let c = Client::new(&url, options).unwrap();
        let mut events = c.events();
        let reason = disconnected(&mut events).await;
        assert!(
            matches!(reason, Error::Connection(ConnectionError::Refused { .. })),
            "{reason:?}"
        );
        assert_eq!(reason.reason_code(), Some(code));
        // A refusal like this repeats: no Reconnecting, and nothing waits.
        assert_eq!(quiet(&mut events, 100).await, None);
        assert_eq!(c.metrics().reconnects, 0);
        let publish = c.publish("a", "x", PublishOptions::new().qos(QoS::AtLeastOnce));
        assert_eq!(publish.await, Err(Error::Stopped));
    }
}

#[wasm_bindgen_test]
async fn server_disconnect_with_server_reference_is_a_disconnected_event() {
    let id = unique("moved");
    let c = connect(&broker(), Options::new().client_id(&id).no_reconnect()).await;
    let mut events = c.events();
    let admin = connect(&broker(), Options::new()).await;
    control_with(&admin, "disconnect", &id, b"0x9D,other.example:8883").await;
    let reason = disconnected(&mut events).await;
    match &reason {
        Error::Connection(e @ ConnectionError::ServerDisconnected { reason_code, .. }) => {
            assert_eq!(*reason_code, ReasonCode::ServerMoved);
            assert_eq!(e.redirect(), Some("other.example:8883"));
        }
        e => panic!("expected ServerDisconnected, got {e:?}"),
    }
    assert!(!c.is_connected());
    admin.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn malformed_bytes_from_the_broker_are_a_protocol_error_not_a_panic() {
    let admin = connect(&broker(), Options::new()).await;
    // A PUBLISH with QoS 3 [MQTT-3.3.1-4]; a packet type 0; a Remaining
    // Length of five bytes; a CONNACK after CONNACK.
    let cases: [&[u8]; 4] = [
        &[0x36, 0x03, 0x00, 0x01, b't'],
        &[0x00, 0x00],
        &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        &[0x20, 0x03, 0x00, 0x00, 0x00],
    ];
    for raw in cases {
        let id = unique("victim");
        let c = connect(&broker(), Options::new().client_id(&id).no_reconnect()).await;
        let mut events = c.events();
        control_with(&admin, "raw", &id, raw).await;
        let reason = disconnected(&mut events).await;
        assert!(
            matches!(reason, Error::Connection(ConnectionError::Protocol(_))),
            "{raw:02x?}: {reason:?}"
        );
        let code = reason.reason_code().expect("a reason code");
        assert!(code.is_error(), "{raw:02x?}: {code:?}");
        if raw == cases[0] {
            assert_eq!(code, ReasonCode::MalformedPacket);
        }
        if raw == cases[3] {
            assert!(
                matches!(
                    reason,
                    Error::Connection(ConnectionError::Protocol(ProtocolError::UnexpectedPacket(
                        _
                    )))
                ),
                "{reason:?}"
            );
        }
        assert!(!c.is_connected());
    }
    admin.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn malformed_bytes_then_reconnect_recovers() {
    let id = unique("victim");
    let c = connect(&broker(), Options::new().client_id(&id).reconnect(soon(10))).await;
    let mut events = c.events();
    let admin = connect(&broker(), Options::new()).await;
    control_with(&admin, "raw", &id, &[0xF0, 0x00]).await;
    disconnected(&mut events).await;
    assert!(matches!(
        event(&mut events).await,
        Event::Reconnecting { .. }
    ));
    assert!(matches!(event(&mut events).await, Event::Connected { .. }));
    let t = topic("after");
    let mut sub = c.subscribe(&t, SubscribeOptions::new()).await.unwrap();
    c.publish(&t, "ok", PublishOptions::new()).await.unwrap();
    assert_eq!(message(&mut sub).await.text(), Some("ok"));
    assert_eq!(c.metrics().reconnects, 1);
    c.end().await.unwrap();
    admin.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn an_unreachable_broker_is_connect_failed_then_retried() {
    // A server that does not speak WebSocket: the browser's WebSocket never
    // opens, which is not a lost connection; the error names the URL.
    let url = not_websocket();
    let retry = wasmqtt::Backoff {
        max_attempts: Some(2),
        ..soon(10)
    };
    let c = Client::new(&url, Options::new().reconnect(retry)).unwrap();
    let mut events = c.events();
    let failed = Error::ConnectFailed { url: url.clone() };
    // Two retries, then it gives up: three failures in all.
    for attempt in 1..=2 {
        assert_eq!(disconnected(&mut events).await, failed);
        match event(&mut events).await {
            Event::Reconnecting { attempt: a, .. } => assert_eq!(a, attempt),
            e => panic!("expected Reconnecting, got {e:?}"),
        }
    }
    assert_eq!(disconnected(&mut events).await, failed);
    assert_eq!(quiet(&mut events, 100).await, None, "no third retry");
    let publish = c.publish("t", "x", PublishOptions::new().qos(QoS::AtLeastOnce));
    assert_eq!(publish.await, Err(Error::Stopped));
}

#[wasm_bindgen_test]
async fn a_url_the_browser_refuses_is_a_socket_error() {
    // The browser decides what a WebSocket URL is (Chromium takes a
    // relative one, or http:, as the page's origin).
    for url in ["ftp://127.0.0.1/mqtt", "ws://"] {
        let refused = deadline("a refusal", Client::connect(url, Options::new())).await;
        match refused.err() {
            Some(Error::Socket(message)) => {
                assert!(message.contains("SyntaxError"), "{url}: {message}")
            }
            e => panic!("{url}: expected a socket error, got {e:?}"),
        }
    }
}
