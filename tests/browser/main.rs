//! End-to-end tests in headless Chromium against wasmqtt-broker (with its
//! `$control` fault-injection topics) and mosquitto over WebSocket, run by
//! `wasm-pack test` (`scripts/browser-test.sh` starts the brokers and
//! bakes their URLs in).
//!
//! Through the Rust API (`wasmqtt::Client`):
//! - `rust_api`: round trips, server limits, subscriptions as streams,
//!   request/response, events, credentials, typed errors, wills
//! - `rust_connection`: MQTT 3.1.1, refusals, server DISCONNECT, malformed
//!   bytes, unreachable brokers
//! - `rust_messages`: properties, retained, subscription options, dispatch,
//!   request/response, rejected publishes, bursts, shared subscriptions
//! - `rust_resume`: wills, reconnect with session resume, session loss, takeover
//! - `rust_flow`: receive maximum, offline queue, expiry, limits, topic
//!   aliases, keep-alive, MQTT 3.1.1, framing, protocol violations
//!
//! Through the wasm client as `js/index.js` drives it (`WasmClient` behind
//! `js/bridge.js` and `js/options.js`; `support.rs`):
//! - `js_options`: option objects and URLs checked by the JS façade
#![cfg(target_arch = "wasm32")]

mod js_options;
mod rust_api;
mod rust_connection;
mod rust_flow;
mod rust_messages;
mod rust_resume;
mod rust_support;
mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
