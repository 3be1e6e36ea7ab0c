//! wasmqtt: an MQTT 5.0 client for the browser.
//!
//! This crate is the browser layer only: a WebSocket, a timer and JS
//! conversions around the sans-IO [`wasmqtt_session::Session`]. The typed
//! JS API lives in `js/index.js`, which wraps [`WasmClient`].
//!
//! The npm build (wasm32 without the `std` feature) is `no_std`, with a
//! panic handler that just traps and a small allocator: std's panic
//! machinery alone would pull string formatting into the wasm. Tests on
//! wasm32 link std through wasm-bindgen-test and turn `std` on.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

#[cfg(test)]
mod boundary;
mod client;
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
mod transport;

pub use client::WasmClient;
pub use wasmqtt_codec as codec;
pub use wasmqtt_session as session;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
// SAFETY: the browser runs this module on one thread.
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };
