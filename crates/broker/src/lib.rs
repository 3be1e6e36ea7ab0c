//! The wasmqtt companion MQTT broker.
//!
//! Not implemented yet: this crate only reserves its place in the workspace.
