//! Without the `store` feature: the journal hooks of `store.rs`, empty.
//! They compile to nothing, so a session without a store carries no
//! journal code and writes no journal.

use wasmqtt_codec::{PacketId, Publish};

use crate::event::Token;
use crate::outbound::Queued;
use crate::session::Session;

/// No journal: nothing to keep.
pub(crate) type Journal = ();

impl Session {
    pub(crate) fn journal_candidate(&self, _: &Queued) -> Option<Token> {
        None
    }

    pub(crate) fn journal_if_queued(&mut self, _: Option<Token>) {}

    pub(crate) fn journal_queued(&mut self, _: Token, _: &Publish) {}

    pub(crate) fn journal_in_flight(&mut self, _: u16) {}

    pub(crate) fn journal_done(&mut self, _: Token) {}

    pub(crate) fn journal_inbound(&mut self, _: PacketId, _: bool) {}

    pub(crate) fn journal_inbound_cleared(&mut self) {}

    pub(crate) fn hold_for_journal(&mut self) {}

    pub(crate) fn send_now_from(&mut self, _: usize) {}
}

pub(crate) fn forget(_: &mut Journal, _: Token) {}
