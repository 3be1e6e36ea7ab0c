//! Connecting: CONNACK, credentials, server DISCONNECT, malformed bytes,
//! bad options.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use crate::support::*;

#[wasm_bindgen_test]
async fn connack_properties_and_server_limits() {
    let id = unique("props");
    let c = TestClient::new(
        &broker(),
        obj(&[
            ("clientId", s(&id)),
            (
                "properties",
                obj(&[
                    ("sessionExpiryInterval", n(30.0)),
                    ("requestResponseInformation", b(true)),
                ]),
            ),
        ]),
    );
    assert!(!c.client.connected());
    let connack = c.event("connect").await;
    assert_eq!(num(&connack, "reasonCode"), 0.0);
    assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(false));
    let p = get(&connack, "properties");
    // wasmqtt-broker's defaults (crates/broker/src/config.rs).
    assert_eq!(num(&p, "receiveMaximum"), 1024.0);
    assert_eq!(num(&p, "topicAliasMaximum"), 64.0);
    assert_eq!(num(&p, "maximumPacketSize"), f64::from(1u32 << 20));
    let info = format!("responses/{id}");
    assert_eq!(string(&p, "responseInformation").as_deref(), Some(&*info));

    assert!(c.client.connected());
    assert_eq!(c.client.client_id(), id);
    let server = c.client.server();
    assert_eq!(num(&server, "receiveMaximum"), 1024.0);
    assert_eq!(num(&server, "topicAliasMaximum"), 64.0);
    assert_eq!(num(&server, "maximumQoS"), 2.0);
    assert_eq!(get(&server, "retainAvailable").as_bool(), Some(true));
    assert_eq!(
        get(&server, "subscriptionIdentifierAvailable").as_bool(),
        Some(true)
    );
    assert_eq!(
        string(&server, "responseInformation").as_deref(),
        Some(&*info)
    );

    let m = c.metrics();
    assert!(num(&m, "bytesIn") > 0.0 && num(&m, "bytesOut") > 0.0);
    assert_eq!(num(&m, "packetsIn"), 1.0);
    assert_eq!(num(&m, "packetsOut"), 1.0);
    assert_eq!(num(&m, "inFlight"), 0.0);
    assert_eq!(num(&m, "reconnects"), 0.0);
    c.end().await;
    assert_eq!(c.count("end"), 1);
    assert!(!c.client.connected());
}

#[wasm_bindgen_test]
async fn server_assigns_a_client_identifier() {
    let c = TestClient::new(&broker(), obj(&[]));
    let connack = c.event("connect").await;
    let assigned = string(&get(&connack, "properties"), "assignedClientIdentifier")
        .expect("an assigned client identifier");
    assert!(!assigned.is_empty());
    assert_eq!(c.client.client_id(), assigned);
    assert_eq!(
        string(&c.client.server(), "assignedClientIdentifier"),
        Some(assigned)
    );
    c.end().await;
}

#[wasm_bindgen_test]
async fn connects_to_mosquitto_with_mqtt_5_and_3_1_1() {
    for version in [5.0, 4.0] {
        let c = TestClient::new(
            &mosquitto(),
            obj(&[
                ("clientId", s(&unique("v"))),
                ("protocolVersion", n(version)),
            ]),
        );
        let connack = c.event("connect").await;
        assert_eq!(num(&connack, "reasonCode"), 0.0, "MQTT version {version}");
        assert_eq!(get(&connack, "sessionPresent").as_bool(), Some(false));
        let t = topic("v");
        c.subscribe_ok(&t, obj(&[("qos", n(1.0))]), 1).await;
        c.publish(&t, b"hi", obj(&[("qos", n(1.0))])).await.unwrap();
        assert_eq!(c.message().await.payload, b"hi");
        c.end().await;
    }
}

/// The refusal comes back as CONNECTION_REFUSED with the CONNACK reason
/// code, and the client does not try again (a refusal like this repeats).
async fn expect_refusal(c: &TestClient, reason_code: u8) {
    let error = c.event("error").await;
    assert_eq!(
        string(&error, "code").as_deref(),
        Some("CONNECTION_REFUSED")
    );
    assert_eq!(num(&error, "reasonCode"), f64::from(reason_code));
    c.event("close").await;
    assert!(!c.client.connected());
    // ReconnectScheduled would have come with the same session output as
    // the refusal, so it would be in the log by now.
    let history = c.history();
    assert!(
        !history
            .iter()
            .any(|e| e == "reconnecting" || e == "offline"),
        "{history:?}"
    );
    assert_eq!(num(&c.metrics(), "reconnects"), 0.0);
    // Nothing will ever be sent: operations fail at once instead of waiting.
    let e = c
        .publish("a", b"x", obj(&[("qos", n(1.0))]))
        .await
        .expect_err("publish after a refusal");
    assert_eq!(string(&e, "code").as_deref(), Some("NOT_CONNECTED"));
}

#[wasm_bindgen_test]
async fn refused_credentials_are_an_error_without_a_reconnect_loop() {
    // No credentials: 0x87 Not authorized.
    let c = TestClient::new(&auth_broker(), obj(&[("clientId", s(&unique("anon")))]));
    expect_refusal(&c, 0x87).await;

    // A wrong password: 0x86 Bad User Name or Password.
    let (user, _) = auth_user();
    let c = TestClient::new(
        &auth_broker(),
        obj(&[("username", s(&user)), ("password", bytes(b"wrong"))]),
    );
    expect_refusal(&c, 0x86).await;
}

#[wasm_bindgen_test]
async fn accepted_credentials_from_options_and_from_a_provider() {
    let (user, password) = auth_user();
    let c = TestClient::new(
        &auth_broker(),
        obj(&[
            ("username", s(&user)),
            ("password", bytes(password.as_bytes())),
        ]),
    );
    assert_eq!(num(&c.event("connect").await, "reasonCode"), 0.0);
    c.end().await;

    // The provider is asked before every connect (here: one).
    let calls = js_sys::Object::new();
    js_sys::Reflect::set(&calls, &s("n"), &n(0.0)).unwrap();
    let provider = Function::new_with_args(
        "calls, user, password",
        "return () => { calls.n += 1; return Promise.resolve({ username: user, password }); }",
    )
    .call3(&JsValue::NULL, &calls, &s(&user), &s(&password))
    .unwrap();
    let c = TestClient::with_hooks(&auth_broker(), obj(&[]), &[("credentials", provider)])
        .expect("valid options");
    assert_eq!(num(&c.event("connect").await, "reasonCode"), 0.0);
    assert_eq!(num(&calls.into(), "n"), 1.0);
    c.end().await;
}

#[wasm_bindgen_test]
async fn a_failing_credentials_provider_is_an_error_event() {
    let provider = Function::new_no_args("return Promise.reject(new Error('no token'))");
    let c = TestClient::with_hooks(
        &auth_broker(),
        obj(&[("reconnect", b(false))]),
        &[("credentials", provider.into())],
    )
    .expect("valid options");
    let error = c.event("error").await;
    assert!(string(&error, "message")
        .unwrap_or_default()
        .contains("no token"));
    c.event("close").await;
    assert!(!c.client.connected());
}

#[wasm_bindgen_test]
async fn server_disconnect_with_server_reference_is_a_disconnect_event() {
    let id = unique("moved");
    let c = TestClient::connect(
        &broker(),
        obj(&[("clientId", s(&id)), ("reconnect", b(false))]),
    )
    .await;
    let control = TestClient::connect(&broker(), obj(&[])).await;
    control
        .control("disconnect", &id, b"0x9D,other.example:8883")
        .await;
    let packet = c.event("disconnect").await;
    assert_eq!(num(&packet, "reasonCode"), f64::from(0x9Du8));
    assert_eq!(
        string(&packet, "serverReference").as_deref(),
        Some("other.example:8883")
    );
    let error = c.event("error").await;
    assert_eq!(
        string(&error, "code").as_deref(),
        Some("SERVER_DISCONNECTED")
    );
    assert_eq!(num(&error, "reasonCode"), f64::from(0x9Du8));
    c.event("close").await;
    c.event("offline").await;
    assert!(!c.client.connected());
    control.end().await;
}

#[wasm_bindgen_test]
async fn malformed_bytes_from_the_broker_are_an_error_event_not_a_panic() {
    let control = TestClient::connect(&broker(), obj(&[])).await;
    // A PUBLISH with QoS 3 [MQTT-3.3.1-4]; a packet type 0; a Remaining
    // Length of five bytes; a CONNACK after CONNACK.
    let cases: [(&[u8], &str); 4] = [
        (&[0x36, 0x03, 0x00, 0x01, b't'], "PROTOCOL_ERROR"),
        (&[0x00, 0x00], "PROTOCOL_ERROR"),
        (&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], "PROTOCOL_ERROR"),
        (&[0x20, 0x03, 0x00, 0x00, 0x00], "PROTOCOL_ERROR"),
    ];
    for (raw, code) in cases {
        let id = unique("victim");
        let c = TestClient::connect(
            &broker(),
            obj(&[("clientId", s(&id)), ("reconnect", b(false))]),
        )
        .await;
        control.control("raw", &id, raw).await;
        let error = c.event("error").await;
        assert_eq!(string(&error, "code").as_deref(), Some(code), "{raw:02x?}");
        assert!(num(&error, "reasonCode") >= 128.0, "{raw:02x?}");
        c.event("close").await;
        assert!(!c.client.connected());
    }
    // The first case once more, with the reason code checked.
    let id = unique("victim");
    let c = TestClient::connect(
        &broker(),
        obj(&[("clientId", s(&id)), ("reconnect", b(false))]),
    )
    .await;
    control
        .control("raw", &id, &[0x36, 0x03, 0x00, 0x01, b't'])
        .await;
    let error = c.event("error").await;
    assert_eq!(num(&error, "reasonCode"), f64::from(0x81u8));
    control.end().await;
}

#[wasm_bindgen_test]
async fn malformed_bytes_then_reconnect_recovers() {
    let id = unique("victim");
    let c = TestClient::connect(
        &broker(),
        obj(&[
            ("clientId", s(&id)),
            ("reconnect", obj(&[("initialDelay", n(10.0))])),
        ]),
    )
    .await;
    let control = TestClient::connect(&broker(), obj(&[])).await;
    control.control("raw", &id, &[0xF0, 0x00]).await;
    c.event("error").await;
    c.event("reconnecting").await;
    c.event("reconnect").await;
    c.event("connect").await;
    let t = topic("after");
    c.subscribe_ok(&t, obj(&[]), 0).await;
    c.publish(&t, b"ok", obj(&[])).await.unwrap();
    assert_eq!(c.message().await.payload, b"ok");
    assert_eq!(num(&c.metrics(), "reconnects"), 1.0);
    c.end().await;
    control.end().await;
}

/// `(options, the field the error must name)`.
fn bad_connect_options() -> Vec<(JsValue, &'static str)> {
    vec![
        (obj(&[("keepalive", s("60"))]), "keepalive"),
        (obj(&[("keepalive", n(70_000.0))]), "keepalive"),
        (obj(&[("clientId", n(5.0))]), "clientId"),
        (obj(&[("protocolVersion", n(3.0))]), "protocolVersion"),
        (obj(&[("clientID", s("typo"))]), "clientID"),
        (
            obj(&[("properties", obj(&[("sessionExpiryInterval", n(-1.0))]))]),
            "properties.sessionExpiryInterval",
        ),
        (
            obj(&[("properties", obj(&[("receiveMaximum", n(0.0))]))]),
            "properties.receiveMaximum",
        ),
        (
            obj(&[(
                "will",
                obj(&[("topic", s("a/#")), ("payload", bytes(b"x"))]),
            )]),
            "will.topic",
        ),
        (
            obj(&[(
                "will",
                obj(&[("topic", s("a")), ("payload", bytes(b"x")), ("qos", n(3.0))]),
            )]),
            "will.qos",
        ),
        (obj(&[("reconnect", s("yes"))]), "reconnect"),
        (
            obj(&[("reconnect", obj(&[("initialDelay", s("x"))]))]),
            "reconnect",
        ),
        (obj(&[("queue", obj(&[("limit", n(-5.0))]))]), "queue.limit"),
        (obj(&[("connectTimeout", n(1.5))]), "connectTimeout"),
    ]
}

fn assert_invalid_options(e: &JsValue, field: &str, what: &str) {
    assert_eq!(
        string(e, "code").as_deref(),
        Some("INVALID_OPTIONS"),
        "{what}: {e:?}"
    );
    let message = string(e, "message").unwrap_or_default();
    assert!(
        message.contains(field),
        "{what}: {message:?} should name {field}"
    );
}

#[wasm_bindgen_test]
async fn bad_connect_options_are_invalid_options_naming_the_field() {
    for (options, field) in bad_connect_options() {
        let e = TestClient::try_new(&broker(), options)
            .err()
            .unwrap_or_else(|| panic!("{field}: accepted"));
        assert_invalid_options(&e, field, field);
    }
    // Not an object at all.
    let e = TestClient::try_new(&broker(), n(5.0))
        .err()
        .expect("refused");
    assert_eq!(string(&e, "code").as_deref(), Some("INVALID_OPTIONS"));
}

#[wasm_bindgen_test]
async fn bad_operation_options_are_rejected_naming_the_field() {
    let c = TestClient::connect(&broker(), obj(&[])).await;
    let publishes = [
        (obj(&[("qos", n(3.0))]), "qos"),
        (obj(&[("retain", s("yes"))]), "retain"),
        (obj(&[("qso", n(1.0))]), "qso"),
        (
            obj(&[("properties", obj(&[("responseTopic", s("a/+"))]))]),
            "properties.responseTopic",
        ),
        (
            obj(&[("properties", obj(&[("contentType", n(5.0))]))]),
            "properties.contentType",
        ),
        (
            obj(&[("properties", obj(&[("messageExpiryInterval", n(-1.0))]))]),
            "properties.messageExpiryInterval",
        ),
        (
            obj(&[("properties", obj(&[("userProperties", s("k=v"))]))]),
            "properties.userProperties",
        ),
    ];
    for (options, field) in publishes {
        let e = c.publish("t", b"x", options).await.expect_err(field);
        assert_invalid_options(&e, field, &format!("publish {field}"));
    }
    let subscribes = [
        (obj(&[("rh", n(3.0))]), "rh"),
        (obj(&[("qos", n(7.0))]), "qos"),
        (obj(&[("nl", n(1.0))]), "nl"),
        (
            obj(&[("subscriptionIdentifier", n(0.0))]),
            "subscriptionIdentifier",
        ),
        (
            obj(&[("subscriptionIdentifier", n(268_435_456.0))]),
            "subscriptionIdentifier",
        ),
    ];
    for (options, field) in subscribes {
        let e = c.subscribe("t", options).await.expect_err(field);
        assert_invalid_options(&e, field, &format!("subscribe {field}"));
    }
    // Bad topics and filters have their own codes.
    let e = c.publish("a/+", b"x", obj(&[])).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("INVALID_TOPIC"));
    let e = c.publish("", b"x", obj(&[])).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("INVALID_TOPIC"));
    let e = c.subscribe("a/#/b", obj(&[])).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("INVALID_FILTER"));
    let e = c.unsubscribe("a/#/b").await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("INVALID_FILTER"));
    // Filters cross to the wasm as a list: U+0000 is a character of one
    // filter, refused [MQTT-1.5.4-2], never a separator between two.
    for e in [
        c.subscribe("a\0b", obj(&[])).await.unwrap_err(),
        c.unsubscribe("a\0b").await.unwrap_err(),
    ] {
        assert_eq!(
            string(&e, "message").as_deref(),
            Some("invalid topic filter: topic contains a null character")
        );
    }

    // A Session Expiry Interval when connected with 0 [MQTT-3.14.2-2].
    let e = settle(
        "end",
        c.client
            .end(true, obj(&[("sessionExpiryInterval", n(60.0))])),
    )
    .await
    .expect_err("session expiry refused");
    assert_invalid_options(&e, "sessionExpiryInterval", "end sessionExpiryInterval");
    // A reason code DISCONNECT cannot carry: refused, and the client goes on.
    let e = settle("end", c.client.end(true, obj(&[("reasonCode", n(1.0))])))
        .await
        .expect_err("reason code 1 refused");
    assert_invalid_options(&e, "reasonCode", "end reasonCode");
    // None of this disturbed the connection.
    assert!(c.client.connected());
    let t = topic("still");
    c.subscribe_ok(&t, obj(&[]), 0).await;
    c.publish(&t, b"fine", obj(&[])).await.unwrap();
    assert_eq!(c.message().await.payload, b"fine");
    c.end().await;
    assert_eq!(c.count("error"), 0, "{:?}", c.history());
}

#[wasm_bindgen_test]
async fn operations_after_end_are_rejected_and_end_is_idempotent() {
    let c = TestClient::connect(&broker(), obj(&[])).await;
    c.end().await;
    let e = c.publish("t", b"x", obj(&[])).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("CLIENT_ENDED"));
    let e = c.subscribe("t", obj(&[])).await.unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("CLIENT_ENDED"));
    // A second end is harmless.
    settle("second end", c.client.end(false, JsValue::UNDEFINED))
        .await
        .expect("a second end resolves");
    assert_eq!(c.count("end"), 1);
}

#[wasm_bindgen_test]
async fn an_unreachable_broker_is_connect_failed_then_retried() {
    // A server that does not speak WebSocket: the browser's WebSocket never
    // opens, which is not a lost connection; the error names the URL.
    let url = not_websocket();
    let c = TestClient::new(
        &url,
        obj(&[(
            "reconnect",
            obj(&[("initialDelay", n(10.0)), ("maxAttempts", n(2.0))]),
        )]),
    );
    let error = c.event("error").await;
    assert_eq!(string(&error, "code").as_deref(), Some("CONNECT_FAILED"));
    let message = string(&error, "message").unwrap_or_default();
    assert!(message.contains(&url), "{message}");
    c.event("reconnecting").await;
    c.event("reconnect").await;
    // Two retries, then it gives up: three failures in all.
    wait_for(
        "three connection failures",
        || (c.count("close") == 3).then_some(()),
        || format!("{:?}", c.history()),
    )
    .await;
    assert_eq!(c.count("reconnect"), 2, "{:?}", c.history());
    let e = c
        .publish("t", b"x", obj(&[("qos", n(1.0))]))
        .await
        .unwrap_err();
    assert_eq!(string(&e, "code").as_deref(), Some("NOT_CONNECTED"));
}

#[wasm_bindgen_test]
async fn a_bad_url_is_invalid_url() {
    for url in ["not a url", "ftp://127.0.0.1/mqtt", "", "ws://"] {
        let e = TestClient::try_new(url, obj(&[])).err().expect(url);
        assert_eq!(
            string(&e, "code").as_deref(),
            Some("INVALID_URL"),
            "{url}: {e:?}"
        );
        let message = string(&e, "message").unwrap_or_default();
        assert!(message.starts_with("invalid url"), "{url}: {message}");
    }
}
