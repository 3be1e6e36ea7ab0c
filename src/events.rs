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
    /// `MESSAGE` body, then u32 count and u32 indexes of the filters it matched.
    Message = 1,
    /// A filter string, the next index of the filter table.
    Filter = 2,
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
    /// u8 reason code, properties (Reason String, Server Reference): `disconnect`.
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

/// Flags of a `MESSAGE` body: QoS in the low two bits, then these.
pub(crate) const RETAIN: u8 = 4;
pub(crate) const DUP: u8 = 8;
/// A topic follows; otherwise it is the previous message's.
pub(crate) const TOPIC: u8 = 16;
/// Properties follow (Property Length first, as on the wire).
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
