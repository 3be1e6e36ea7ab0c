//! End-to-end tests in headless Chromium: the wasm client against
//! wasmqtt-broker (with test control) and mosquitto over WebSocket.
//! `scripts/browser-test.sh` starts the brokers and passes their URLs.
#![cfg(target_arch = "wasm32")]

mod support;

use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn connects_and_exposes_connack_properties() {
    let c = TestClient::connect(broker(), obj(&[("clientId", s("props"))])).await;
    let connack = c.event("connect").await;
    assert_eq!(get(&connack, "reasonCode").as_f64(), Some(0.0));
    assert!(c.client.connected());
    assert_eq!(c.client.client_id(), "props");
    let server = c.client.server();
    // wasmqtt-broker announces its Receive Maximum and Topic Alias Maximum.
    assert!(get(&server, "receiveMaximum").as_f64().unwrap() > 0.0);
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

async fn round_trips(url: String) {
    let c = TestClient::connect(url, obj(&[])).await;
    c.event("connect").await;
    let topic = unique("rt");
    let codes = c.subscribe(&topic, obj(&[("qos", n(2.0))])).await.unwrap();
    assert_eq!(codes, vec![2]);
    for qos in [0.0, 1.0, 2.0] {
        let payload = [qos as u8, 0xFF, 0x00, 0x80];
        c.publish(&topic, &payload, obj(&[("qos", n(qos))]))
            .await
            .unwrap();
        let (t, p, packet) = c.message().await;
        assert_eq!(t, topic);
        assert_eq!(p, payload);
        assert_eq!(get(&packet, "qos").as_f64(), Some(qos));
    }
    c.end().await;
}

#[wasm_bindgen_test]
async fn malformed_bytes_from_the_broker_are_an_error_event_not_a_panic() {
    let c = TestClient::connect(
        broker(),
        obj(&[("clientId", s("victim")), ("reconnect", b(false))]),
    )
    .await;
    c.event("connect").await;
    let control = TestClient::connect(broker(), obj(&[])).await;
    control.event("connect").await;
    // A PUBLISH with QoS 3 [MQTT-3.3.1-4].
    control
        .publish(
            "$control/raw/victim",
            &[0x36, 0x03, 0x00, 0x01, b't'],
            obj(&[("qos", n(1.0))]),
        )
        .await
        .unwrap();
    let error = c.event("error").await;
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("PROTOCOL_ERROR")
    );
    assert_eq!(get(&error, "reasonCode").as_f64(), Some(f64::from(0x81u8)));
    c.event("close").await;
    assert!(!c.client.connected());
    control.end().await;
}
