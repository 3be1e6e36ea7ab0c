//! wasmqtt-broker: an MQTT 5.0 and 3.1.1 broker with TCP and WebSocket
//! listeners, built on the same codec as the wasmqtt client.
//!
//! The router (topic tree, retained messages, shared subscriptions) is
//! plain data behind one lock; each connection is a task that moves bytes
//! through the codec; transports only move bytes. Every clock reading and
//! timer goes through tokio's clock, so tests can pause and advance it.

// Peer data must never panic the broker: no unwrap, expect, panic or
// unchecked indexing outside tests (a proven bound gets a local allow).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod auth;
mod broker;
pub mod config;
mod connection;
mod lifecycle;
mod message;
mod reclaim;
pub mod router;
#[doc(hidden)]
pub mod scram;
mod session;
mod state;
mod sys;
mod transport;

pub use auth::{password_line, HashKind};
pub use broker::{Broker, Shared};
pub use config::{Config, Limits};
