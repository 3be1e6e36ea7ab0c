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
}

impl<O: Output + 'static> Driver<O> {
    /// The journal the session wrote this turn, to the store.
    pub(crate) fn write_journal(&mut self) {
        let mut journal = Vec::new();
        if self.session.poll_journal(&mut journal) {
            self.output.journal(&journal);
        }
    }
}
