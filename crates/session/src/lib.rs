//! Sans-IO MQTT 5.0 client session engine built on [`wasmqtt_codec`].
//!
//! Not implemented yet: this crate only reserves its place in the workspace.
#![no_std]
