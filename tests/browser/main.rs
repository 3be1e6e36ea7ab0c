//! End-to-end tests in headless Chromium: the wasm client (`WasmClient`,
//! what `js/index.js` wraps) against wasmqtt-broker (with its `$control`
//! fault-injection topics) and mosquitto over WebSocket.
//! `scripts/browser-test.sh` starts the brokers and bakes their URLs in.
//!
//! - `connection`: CONNACK, credentials, server DISCONNECT, malformed bytes, bad options
//! - `messages`: QoS round trips, properties, retained, subscription options,
//!   dispatch to subscriptions, request/response, rejected publishes
//! - `resume`: wills, reconnect with session resume, session loss, takeover
//! - `flow`: receive maximum, offline queue, expiry, limits, topic aliases,
//!   keep-alive, MQTT 3.1.1, framing, protocol violations by the server
#![cfg(target_arch = "wasm32")]

mod connection;
mod flow;
mod messages;
mod resume;
mod rust_api;
mod rust_support;
mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
