//! What only the JS façade has, through `js/options.js` and
//! `js/bridge.js` as `js/index.js` uses them: option objects checked and
//! named field by field, URLs checked before a WebSocket is made. The
//! Rust API types these (its tests: `rust_*.rs`).

use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use crate::support::*;

/// `(options, the field the error must name)`.
fn bad_connect_options() -> Vec<(JsValue, &'static str)> {
    vec![
        (obj(&[("keepalive", s("60"))]), "keepalive"),
        (obj(&[("keepalive", n(70_000.0))]), "keepalive"),
        (obj(&[("clientId", n(5.0))]), "clientId"),
        // No U+0000 in a UTF-8 Encoded String [MQTT-1.5.4-2].
        (obj(&[("clientId", s("a\0b"))]), "clientId"),
        (obj(&[("username", s("\0"))]), "username"),
        (obj(&[("randomSeed", n(2.0))]), "randomSeed"),
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

    // A Session Expiry Interval when connected with 0 (section 3.14.2.2.2).
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
