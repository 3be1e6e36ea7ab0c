//! Output that waits for the store (`store` feature).
//!
//! Some packets and deliveries are only safe once the store holds the
//! journal record they rest on, because the page may die at any moment and
//! the next one resumes from the store alone:
//!
//! | waits for                     | so that a crash cannot                                  |
//! |-------------------------------|---------------------------------------------------------|
//! | an inbound QoS 2 id stored     | deliver the message and PUBREC it, then forget the id: the broker's DUP re-send would be delivered again [MQTT-4.3.3-10] |
//! | that id's removal stored       | PUBCOMP, then resume with the id: the broker's next message under it is new [MQTT-4.3.3-12], but would be taken for a re-send and dropped |
//! | our PUBREL record stored       | send PUBREL, then resume with the PUBLISH: re-sending it [MQTT-4.3.3-6] after the broker released the id makes a second message |
//! | our QoS 2 PUBLISH record stored | send a PUBLISH the next page does not know: it would reuse the id the broker still holds [MQTT-4.3.3-1], and the broker drops that next message as a re-send [MQTT-4.3.3-10] |
//!
//! Each such point is a mark in the session's output: the bytes to send
//! and the events queued after it wait until the store reports the
//! journal batch it needs committed ([`Session::journal_committed`]).
//! Whatever follows a mark waits with it, so nothing is reordered.
//! Batches are numbered as [`Session::poll_journal`] hands them out; a
//! mark needs the batch being written, the one the next poll returns.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::session::Session;

/// The marks, and how far the store has got.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Journal batches handed out by `poll_journal`.
    polled: u64,
    /// Journal batches the store has committed.
    committed: u64,
    /// Oldest first; offsets are from the front of `tx` and `events`.
    marks: VecDeque<Mark>,
}

#[derive(Debug)]
struct Mark {
    /// The journal batch that must commit first.
    batch: u64,
    /// Bytes of `tx` before the mark: these may go.
    tx: usize,
    /// Events before the mark.
    events: usize,
}

impl Gate {
    /// `poll_journal` handed out a batch.
    pub(crate) fn polled(&mut self) {
        self.polled += 1;
    }
}

impl Session {
    /// The store committed the next `batches` journal batches (in the
    /// order [`Session::poll_journal`] gave them): what waited for them
    /// may go. Drain the outputs afterwards.
    pub fn journal_committed(&mut self, batches: u64) {
        let gate = &mut self.gate;
        gate.committed = gate.committed.saturating_add(batches);
        while gate
            .marks
            .front()
            .is_some_and(|m| m.batch <= gate.committed)
        {
            gate.marks.pop_front();
        }
    }

    /// The store cannot write: the journal stops, and what waited for it
    /// goes now; the session carries on in memory.
    pub fn stop_journal(&mut self) {
        self.journal = None;
        self.gate.marks.clear();
    }

    /// Whether output waits for the store to commit a journal batch.
    #[must_use]
    pub fn awaits_journal(&self) -> bool {
        !self.gate.marks.is_empty()
    }

    /// What is written from now on waits until the journal written so far
    /// is committed. Call it before writing the packet or event that
    /// needs the record (in the same turn as the record).
    pub(crate) fn hold_for_journal(&mut self) {
        if self.journal.is_none() {
            return;
        }
        let batch = self.gate.polled + 1;
        if self.gate.marks.back().is_some_and(|m| m.batch >= batch) {
            return;
        }
        self.gate.marks.push_back(Mark {
            batch,
            tx: self.tx.len(),
            events: self.events.len(),
        });
    }

    /// `poll_transmit` while something waits: only the bytes before the
    /// first mark.
    pub(crate) fn poll_transmit_held(&mut self, out: &mut Vec<u8>) -> bool {
        let free = self
            .gate
            .marks
            .front()
            .map_or(0, |m| m.tx.min(self.tx.len()));
        if free == 0 {
            return false;
        }
        self.metrics.bytes_out += free as u64;
        out.extend(self.tx.drain(..free));
        for m in &mut self.gate.marks {
            m.tx = m.tx.saturating_sub(free);
        }
        true
    }

    /// Whether the next event may go (`poll_event`); counts it out if so.
    pub(crate) fn event_may_go(&mut self) -> bool {
        match self.gate.marks.front() {
            None => true,
            Some(m) if m.events == 0 => false,
            Some(_) => {
                for m in &mut self.gate.marks {
                    m.events = m.events.saturating_sub(1);
                }
                true
            }
        }
    }

    /// The bytes of `tx` from `start` on are a CONNECT or a DISCONNECT:
    /// they go now, and what waited before them, for a connection that is
    /// over, never goes (a resumed session sends it again).
    pub(crate) fn send_now_from(&mut self, start: usize) {
        let Some(front) = self.gate.marks.front() else {
            return;
        };
        let from = front.tx.min(start);
        self.tx.drain(from..start);
        let end = self.tx.len();
        for m in &mut self.gate.marks {
            m.tx = end;
        }
    }
}
