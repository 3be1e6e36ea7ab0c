//! wasmqtt: an MQTT 5.0 client for the browser.
//!
//! The browser layer is not implemented yet; this crate re-exports the codec.
pub use wasmqtt_codec as codec;
