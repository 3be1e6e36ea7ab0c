//! wasmqtt: an MQTT 5.0 client for the browser.
//!
//! This crate is the browser layer only: a WebSocket, a timer and JS
//! conversions around the sans-IO [`wasmqtt_session::Session`]. The typed
//! JS API lives in `js/index.js`, which wraps [`WasmClient`].

mod client;
mod convert;
mod driver;
mod error;
mod options;
mod socket;

pub use client::WasmClient;
pub use wasmqtt_codec as codec;
pub use wasmqtt_session as session;
