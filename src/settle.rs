//! Command settlement: which JS call waits for which session token, for
//! the socket to take the bytes, or for the end.

use alloc::vec::Vec;
use wasmqtt_session::{Event, Token};

use crate::error::{Error, Failure};
use crate::output::{Outcome, Output};

#[derive(Default)]
pub(crate) struct Commands {
    /// Caller ids by session token; tokens only grow, so this stays sorted.
    pending: Vec<(u64, u32)>,
    /// QoS 0 publishes settled once their bytes reach the socket.
    flushed: Vec<u32>,
    /// `end()` calls, settled once the client has ended.
    end_waiters: Vec<u32>,
}

impl Commands {
    /// Command `id` settles with the session event carrying `token`.
    pub(crate) fn await_token(&mut self, id: u32, token: Token) {
        self.pending.push((token.get(), id));
    }

    /// Command `id` settles when the next transmit reaches the socket.
    pub(crate) fn await_flush(&mut self, id: u32) {
        self.flushed.push(id);
    }

    /// Command `id` settles once the client has ended.
    pub(crate) fn await_end(&mut self, id: u32) {
        self.end_waiters.push(id);
    }

    /// Whether QoS 0 publishes wait for the socket.
    pub(crate) fn awaits_flush(&self) -> bool {
        !self.flushed.is_empty()
    }

    /// The bytes reached the socket.
    pub(crate) fn flushed(&mut self, out: &mut impl Output) {
        for id in core::mem::take(&mut self.flushed) {
            out.settle(id, Outcome::Done);
        }
    }

    /// The client ended: what waited for that or for the socket is done,
    /// what waited for the server never will be.
    pub(crate) fn end(&mut self, out: &mut impl Output) {
        self.flushed(out);
        for id in core::mem::take(&mut self.end_waiters) {
            out.settle(id, Outcome::Done);
        }
        self.fail_all(&Error::new(Failure::ClientEnded), out);
    }

    /// Fails every command waiting for the server.
    pub(crate) fn fail_all(&mut self, e: &Error, out: &mut impl Output) {
        for (_, id) in core::mem::take(&mut self.pending) {
            out.settle(id, Outcome::Failed(e));
        }
    }

    /// Settles the command an outcome event is for; any other event is
    /// handed back.
    pub(crate) fn settle(&mut self, event: Event, out: &mut impl Output) -> Option<Event> {
        let (token, failure) = match event {
            Event::Published { token, result } => match result {
                Ok(code) => return self.settle_with(token, Outcome::Code(code), out),
                Err(e) => (token, Error::from(e)),
            },
            Event::Subscribed {
                token,
                reason_codes,
                ..
            }
            | Event::Unsubscribed {
                token,
                reason_codes,
                ..
            } => return self.settle_with(token, Outcome::Codes(&reason_codes), out),
            Event::Response { token, message } => {
                return self.settle_with(token, Outcome::Response(&message), out)
            }
            Event::RequestTimeout { token } => (token, Error::new(Failure::RequestTimeout)),
            Event::RequestFailed { token, error } => (token, Error::from(error)),
            other => return Some(other),
        };
        self.settle_with(token, Outcome::Failed(&failure), out)
    }

    fn settle_with(
        &mut self,
        token: Token,
        outcome: Outcome,
        out: &mut impl Output,
    ) -> Option<Event> {
        let found = self.pending.binary_search_by_key(&token.get(), |(t, _)| *t);
        if let Ok(i) = found {
            out.settle(self.pending.remove(i).1, outcome);
        }
        None
    }
}
