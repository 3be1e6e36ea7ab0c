//! What the driver reports, typed, for a façade to present: the JS
//! records of `records.rs` today. Another façade (a Rust API) implements
//! [`Output`] the same way; the driver is generic over it, so the one the
//! npm build uses costs nothing for being swappable.

use wasmqtt_codec::{Publish, ReasonCode};
use wasmqtt_session::{Event, Session};

use crate::error::Error;

/// How a command (by the id its caller gave) finished.
pub(crate) enum Outcome<'a> {
    /// Done, nothing to report (`end()`, a QoS 0 publish sent, `auth()`).
    Done,
    /// A publish acknowledged with this success code.
    Code(ReasonCode),
    /// SUBACK or UNSUBACK: one code per filter.
    Codes(&'a [ReasonCode]),
    /// The response to a request.
    Response(&'a Publish),
    /// Failed.
    Failed(&'a Error),
}

/// Where the driver's typed outputs go.
pub(crate) trait Output {
    /// What was written since the last `take`, to hand over once the driver
    /// is no longer borrowed: the application may call back in at once.
    /// `give_back` returns it afterwards, so its memory is reused.
    type Batch;
    fn take(&mut self) -> Option<Self::Batch>;
    fn hand_over(batch: &Self::Batch);
    fn give_back(&mut self, batch: Self::Batch);

    /// A session event for the application: connect, message, auth,
    /// disconnect, reconnecting, reconnect, subscription lost. Command
    /// outcomes come as [`Output::settle`] instead, never here.
    fn event(&mut self, session: &Session, event: &Event);
    /// Command `id` finished.
    fn settle(&mut self, id: u32, outcome: Outcome);
    /// Something went wrong that no command waits for.
    fn error(&mut self, e: &Error);
    /// The connection closed; `offline` when it had been up and was lost.
    fn closed(&mut self, offline: bool);
    /// The client ended for good.
    fn ended(&mut self);
    /// The session's journal since the last turn, for a store (only once
    /// one restored the session).
    #[cfg(feature = "store")]
    fn journal(&mut self, journal: &[u8]);
}
