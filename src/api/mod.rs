//! The async Rust API (feature `rust-api`), for Rust web apps: Leptos,
//! Yew, Dioxus or plain wasm-bindgen, on a page or in a Web Worker.
//!
//! It runs the same driver and session as the npm package; only the
//! façade differs: futures and streams instead of JS promises and events,
//! payloads as [`Bytes`](bytes::Bytes), errors as [`Error`] (the session's
//! typed errors), never `JsValue`.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use wasmqtt::{Client, Event, Options, PublishOptions, QoS, SubscribeOptions};
//!
//! # async fn run() -> Result<(), wasmqtt::Error> {
//! let client = Client::connect(
//!     "ws://localhost:8080/mqtt",
//!     Options::new().client_id("dashboard-1").session_expiry(300),
//! )
//! .await?;
//!
//! // Connection events, in their own task.
//! let mut events = client.events();
//! wasm_bindgen_futures::spawn_local(async move {
//!     while let Some(event) = events.next().await {
//!         if let Event::Reconnecting { attempt, delay_ms } = event {
//!             println!("retry #{attempt} in {delay_ms} ms");
//!         }
//!     }
//! });
//!
//! let mut temps = client
//!     .subscribe("sensors/+/temp", SubscribeOptions::new().qos(QoS::AtLeastOnce))
//!     .await?;
//! client
//!     .publish("sensors/1/temp", "21.5", PublishOptions::new().qos(QoS::AtLeastOnce))
//!     .await?;
//! while let Some(message) = temps.next().await {
//!     println!("{}: {:?}", message.topic, message.text());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Everything runs on the thread that made the client (wasm in the
//! browser has one per page or worker), so [`Client`] is not `Send`; spawn
//! its futures with `wasm_bindgen_futures::spawn_local`.
//!
//! Timers: the client's own, through `js/timers.js` (a page's `setTimeout`;
//! the npm package alone also moves them into a worker while the page is
//! hidden). A client in a Web Worker is not throttled.

mod client;
mod error;
mod listener;
mod message;
mod options;
mod socket;
mod streams;

pub use client::Client;
pub use error::Error;
pub use message::{Event, Message};
pub use options::{Credentials, Options, PublishOptions, SubscribeOptions, Will};
pub use streams::{Events, Messages, Subscription};
