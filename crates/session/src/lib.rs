//! Sans-IO MQTT 5.0 client session engine built on [`wasmqtt_codec`].
//!
//! [`Session`] holds everything a client connection needs to behave well
//! (flow control, QoS 1/2 in both directions, keep-alive, session resume,
//! topic aliases, reconnect backoff) and does no I/O: bytes, time and
//! randomness come in as arguments, bytes and events go out through
//! `poll_*` methods. The browser layer and tests drive it the same way.
#![no_std]
#![forbid(unsafe_code)]
// Bytes from the peer must never panic the process: no unwrap, expect,
// panic or unchecked indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![warn(missing_docs)]

extern crate alloc;

mod alias;
mod backoff;
// Output that waits for the store to commit (`store` feature).
#[cfg(feature = "store")]
mod commit;
mod control;
mod error;
mod event;
mod id_map;
mod inbound;
mod metrics;
mod options;
mod outbound;
mod packet_ids;
mod request;
mod server;
mod session;
// The journal, snapshot and restore with the `store` feature; without it,
// the same hooks, empty, so the session carries none of that code.
#[cfg_attr(not(feature = "store"), path = "store_off.rs")]
mod store;
mod subscriptions;

pub use backoff::{Backoff, Rng};
pub use error::{ConnectionError, ProtocolError, UsageError};
pub use event::{Event, PublishError, Token};
pub use metrics::Metrics;
pub use options::Options;
pub use server::ServerLimits;
pub use session::Session;
#[cfg(feature = "store")]
pub use store::{RestoreError, Restored, FORMAT, INBOUND};
pub use subscriptions::SubscriptionEntry;
pub use wasmqtt_codec as codec;

/// Milliseconds since an origin the driver chooses; only differences matter.
pub type Millis = u64;
