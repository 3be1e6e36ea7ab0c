//! wasmqtt: an MQTT 5.0 client for the browser.
//!
//! This crate is the browser layer only: a WebSocket, a timer and JS
//! conversions around the sans-IO [`wasmqtt_session::Session`]. Two
//! façades share its one driver:
//!
//! - the npm package's typed JS API in `js/index.js`, which wraps
//!   [`WasmClient`] (the default build);
//! - with the cargo feature **`rust-api`**, an async Rust API for Rust web
//!   apps: `Client`, `Subscription` streams, typed errors (the [`api`]
//!   module, its items also at the crate root).
//!
//! ```toml
//! [dependencies]
//! wasmqtt = { version = "0.1", features = ["rust-api"] }
//! ```
//!
//! | feature | what it adds |
//! |---|---|
//! | `std` | links std (on wasm32 the crate is otherwise `no_std`, with its own allocator and panic handler, as the npm build wants) |
//! | `rust-api` | the async Rust API; implies `std` |
//!
//! The npm build (wasm32 without the `std` feature) is `no_std`, with a
//! panic handler that just traps and a small allocator: std's panic
//! machinery alone would pull string formatting into the wasm. Tests on
//! wasm32 link std through wasm-bindgen-test and turn `std` on.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

#[cfg(feature = "rust-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "rust-api")))]
#[warn(missing_docs)]
pub mod api;
#[cfg(test)]
mod boundary;
mod client;
mod commands;
mod driver;
mod error;
mod events;
mod js;
mod options;
mod output;
mod records;
mod settle;
mod socket;
#[cfg(feature = "store")]
mod store;
mod timer;
mod topics;
mod transport;

#[cfg(feature = "rust-api")]
pub use api::{
    Client, Credentials, Error, Event, Events, Message, Messages, Options, PublishOptions,
    SubscribeOptions, Subscription, Will,
};
pub use client::WasmClient;
pub use wasmqtt_codec as codec;
#[cfg(feature = "rust-api")]
pub use wasmqtt_codec::{ProtocolVersion, QoS, ReasonCode, RetainHandling};
pub use wasmqtt_session as session;
#[cfg(feature = "rust-api")]
pub use wasmqtt_session::{Backoff, Metrics, ServerLimits};

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
// SAFETY: the browser runs this module on one thread.
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };
