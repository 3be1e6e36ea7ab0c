//! The session store's side of the wasm (`store` feature, the wasm of the
//! `wasmqtt/store` entry): restore before the socket opens, and the
//! session's journal handed to JS as `Kind::Store` records after each turn.

use alloc::vec::Vec;
use wasm_bindgen::prelude::*;
use wasmqtt_session::RestoreError;

use crate::client::WasmClient;
use crate::driver::{with_driver, Driver};
use crate::js::now;
use crate::output::Output;

#[wasm_bindgen]
impl WasmClient {
    /// Brings back what a store kept, before the socket opens (see
    /// `wasmqtt_session::Session::restore`): `[0, in flight, queued,
    /// inbound]`, or `[1, version]` for another format version, `[2]` for
    /// records that are not a session's, `[3]` when too late. Only then
    /// is the journal written, as `Kind::Store` records.
    pub fn restore(&self, records: &[u8]) -> Vec<u32> {
        with_driver(&self.driver, |d| match d.session.restore(now(), records) {
            Ok(r) => [0, r.in_flight as u32, r.queued as u32, r.inbound as u32].into(),
            Err(RestoreError::Version(v)) => [1, v.into()].into(),
            Err(RestoreError::Corrupt) => [2].into(),
            Err(_) => [3].into(),
        })
    }

    /// The store committed the next `batches` journal batches (in the
    /// order their records came): what waited for them goes now.
    pub fn committed(&self, batches: u32) {
        with_driver(&self.driver, |d| {
            d.session.journal_committed(batches.into());
        });
    }

    /// The store cannot write: the session goes on in memory, and what
    /// waited for the store goes now.
    #[wasm_bindgen(js_name = storeFailed)]
    pub fn store_failed(&self) {
        with_driver(&self.driver, |d| d.session.stop_journal());
    }
}

impl<O: Output + 'static> Driver<O> {
    /// Whether output waits for the store to commit: `end()` waits too,
    /// or a message stored as delivered would come after `end`.
    pub(crate) fn awaits_store(&self) -> bool {
        self.session.awaits_journal()
    }

    /// The journal the session wrote this turn, to the store.
    pub(crate) fn write_journal(&mut self) {
        let mut journal = Vec::new();
        if self.session.poll_journal(&mut journal) {
            self.output.journal(&journal);
        }
    }
}
