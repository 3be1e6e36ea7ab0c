//! What the client tells JS, as records in one byte buffer per turn,
//! read by `js/bridge.js` in place (it copies only what it keeps). Building JS objects from wasm costs an import
//! call per property set and per string; one buffer handed over once is
//! faster and far less code. Numbers are little-endian; strings and byte
//! strings are a u32 length and the bytes. `src/records.rs` writes them;
//! `src/boundary.rs` checks that `js/bridge.js` names the same kinds and
//! flags with the same numbers.

use alloc::vec::Vec;

/// Record kinds: `K_MESSAGE` … in `js/bridge.js`; `Close` and after are
/// `EVENTS` there, from `K_CLOSE` on.
#[derive(Clone, Copy)]
#[repr(u8)]
pub(crate) enum Kind {
    /// `MESSAGE` body, then the filters it matched: u32 count, then each
    /// filter's u32 index in the filter table, and the filter string if the
    /// index is new (the table's length). (2 was a record of its own per
    /// new filter.)
    Message = 1,
    /// id: resolve with `undefined`.
    Done = 3,
    /// id, u8: resolve with a reason code.
    Code = 4,
    /// id, u32 count, u8 each: resolve with reason codes.
    Codes = 5,
    /// id, `MESSAGE` body: resolve with the response message.
    Response = 6,
    /// id, error: reject.
    Reject = 7,
    /// error: an `error` event.
    Error = 8,
    /// u8 reason code, u8 session present, properties: `connect`.
    Connect = 9,
    /// u8 reason code, properties: `auth`.
    Auth = 10,
    /// u8 reason code, then Reason String and Server Reference, each a u8
    /// (1: sent) and the string if sent: `disconnect`. (Not a property
    /// list: these two are all the session keeps of the packet's.)
    Disconnect = 11,
    /// u32 attempt, u32 delay in ms: `reconnecting`.
    Reconnecting = 12,
    /// u32 attempt: `reconnect`.
    Reconnect = 13,
    /// Bytes of the session's journal: the store entry point writes them
    /// (`js/store/`); only sent once a store restored the session.
    #[cfg(feature = "store")]
    Store = 14,
    Close = 15,
    Offline = 16,
    End = 17,
}

/// A `MESSAGE` body: u8 flags (below), u8 topic slot (`topics.rs`), the
/// topic if `TOPIC`, the payload (or only its length, if `IN_FRAME`), the
/// properties if `PROPERTIES`.
///
/// Flags of a `MESSAGE` body: QoS in the low two bits, then these.
pub(crate) const RETAIN: u8 = 4;
pub(crate) const DUP: u8 = 8;
/// A topic follows, now the slot's; otherwise the slot's topic is the message's.
pub(crate) const TOPIC: u8 = 16;
/// Properties follow, as on the wire (Property Length first): as the
/// server sent them, Topic Alias included (JS skips it).
pub(crate) const PROPERTIES: u8 = 32;
/// Only the payload's length follows: the payload is the last bytes of
/// the frame just received, which JS still holds and views.
pub(crate) const IN_FRAME: u8 = 64;

/// The buffer records are written to.
#[derive(Default)]
pub(crate) struct Out(pub(crate) Vec<u8>);

impl Out {
    pub(crate) fn kind(&mut self, k: Kind) -> &mut Self {
        self.u8(k as u8)
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A length-prefixed byte string (lengths fit: packets are < 256 MiB).
    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
        self
    }

    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
}
