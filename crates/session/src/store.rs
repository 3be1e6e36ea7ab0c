//! What a session keeps to resume after its page (or process) is gone:
//! a journal of changes for a key-value store, and a restore from it.
//!
//! The state that must survive is the resumable part of the session
//! (section 4.1): our QoS 1/2 publishes not yet completed, in order, with
//! their Packet Identifiers; the PUBRELs awaiting PUBCOMP; the QoS 2 ids
//! the server sent us awaiting PUBREL; and QoS 1/2 publishes still queued.
//! Each is one record, keyed so that keys sort in publish order, whose
//! value is the MQTT packet that stands for it, so restoring reuses the
//! decoder the session already has:
//!
//! | value                      | means                                      |
//! |----------------------------|--------------------------------------------|
//! | `1 QUEUED  PUBLISH`        | waiting to be sent (Packet Identifier 1 is a placeholder) |
//! | `1 SENT    PUBLISH`        | sent, awaiting PUBACK or PUBREC            |
//! | `1 RELEASED order PUBREL`  | PUBREL sent, awaiting PUBCOMP; `order` (8 bytes, LE) says when, to re-send PUBRELs in PUBREC order |
//! | `1 RECEIVED PUBREC`        | a QoS 2 message delivered to us, awaiting PUBREL |
//!
//! The leading byte is the format version ([`FORMAT`]). Outbound records
//! are keyed by the publish's [`Token`] (they are assigned in publish
//! order), inbound ones by [`INBOUND`] + Packet Identifier.
//!
//! The journal (see [`Session::poll_journal`]) is a list of operations,
//! keys as 8 bytes big-endian (so byte order is key order):
//! `PUT key u32-LE-length value`, `DELETE key`, and `DELETE_FROM key`
//! (every key from `key` on). The store applies them in order, in one
//! transaction per batch; it never needs to understand a value.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use wasmqtt_codec::{
    Decoder, Packet, PacketId, ProtocolVersion, PubRec, PubRel, Publish, QoS, MAX_PACKET_SIZE,
};

use crate::event::Token;
use crate::id_map::IdMap;
use crate::outbound::{InFlight, Queued, Stage};
use crate::packet_ids::{IdSet, PacketIds};
use crate::session::{Session, State};
use crate::Millis;

/// Version of the record format; a record with another is refused.
pub const FORMAT: u8 = 1;
/// Keys from here on are inbound QoS 2 ids: above any token.
pub const INBOUND: u64 = 1 << 63;
/// A PUBREL's stored order beyond this is not one a session wrote.
const MAX_ORDER: u64 = 1 << 62;

/// The journal written since the last [`Session::poll_journal`]; `None`
/// until a store turns it on.
pub(crate) type Journal = Option<Vec<u8>>;

/// Journal operations.
const PUT: u8 = 1;
const DELETE: u8 = 2;
const DELETE_FROM: u8 = 3;

/// Record kinds.
const QUEUED: u8 = 0;
const SENT: u8 = 1;
const RELEASED: u8 = 2;
const RECEIVED: u8 = 3;

/// What [`Session::restore`] brought back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Restored {
    /// Our publishes that were sent and not yet completed: re-sent with
    /// DUP (PUBREL for those past PUBREC) if the server kept the session.
    pub in_flight: usize,
    /// Our publishes that had not been sent yet.
    pub queued: usize,
    /// QoS 2 messages already delivered to us and awaiting PUBREL: a
    /// re-delivery of one is answered, not delivered again.
    pub inbound: usize,
}

/// Why stored records could not be restored. Nothing is restored then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The records were written by a newer (or unknown) format version.
    #[error("stored session has format version {0}")]
    Version(u8),
    /// The records are not what a session writes (truncated, wrong packet,
    /// a Packet Identifier twice).
    #[error("stored session is corrupt")]
    Corrupt,
    /// Restore comes before the first connect.
    #[error("the session has already connected")]
    Started,
}

impl Session {
    /// Turns the journal on: from now on every change to the resumable
    /// state is written for [`Session::poll_journal`].
    pub fn keep_journal(&mut self) {
        self.journal.get_or_insert_with(Vec::new);
    }

    /// Moves the journal written since the last call (one batch) into
    /// `out`; `false` if there was none. Write batches to the store in
    /// order, each in one transaction (or several in one), and report each
    /// commit with [`Session::journal_committed`]: some output waits for
    /// it (see `commit.rs`).
    #[must_use]
    pub fn poll_journal(&mut self, out: &mut Vec<u8>) -> bool {
        match &mut self.journal {
            Some(j) if !j.is_empty() => {
                out.append(j);
                self.gate.polled();
                true
            }
            _ => false,
        }
    }

    /// Every record of the resumable state as one journal of `PUT`s, in
    /// key order: what a store holds (and reads back) after applying the
    /// journal from the start.
    #[must_use]
    pub fn snapshot(&self) -> Vec<u8> {
        let version = self.options.protocol_version;
        let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
        for q in &self.queue {
            if let Queued::Publish { token, publish, .. } = q {
                if publish.qos != QoS::AtMostOnce {
                    let mut r = Vec::new();
                    put_publish(&mut r, version, token.get(), QUEUED, publish);
                    records.push((token.get(), r));
                }
            }
        }
        self.inflight.for_each(|_, f| {
            let mut r = Vec::new();
            put_in_flight(&mut r, version, f);
            records.push((f.token.get(), r));
        });
        records.sort_unstable_by_key(|(key, _)| *key);
        let mut out: Vec<u8> = records.into_iter().flat_map(|(_, r)| r).collect();
        self.inbound_qos2.for_each(|id| {
            if let Some(id) = PacketId::new(id) {
                put_received(&mut out, version, id);
            }
        });
        out
    }

    /// Brings back what a journal of `PUT`s (keys ascending, as a store
    /// reads them) describes, before the first connect; turns the journal
    /// on. On Session Present 1 the in-flight publishes are re-sent with
    /// DUP and PUBRELs in their original order [MQTT-4.4.0-1]; on Session
    /// Present 0 they follow `requeue_unacked`. Their outcomes arrive as
    /// [`crate::Event::Published`] for the tokens they were stored under.
    pub fn restore(&mut self, now: Millis, records: &[u8]) -> Result<Restored, RestoreError> {
        if self.connected_once || self.state != State::Opening {
            return Err(RestoreError::Started);
        }
        let version = self.options.protocol_version;
        let mut restored = Kept {
            queue: VecDeque::new(),
            inflight: IdMap::default(),
            ids: PacketIds::new(),
            inbound_qos2: IdSet::default(),
        };
        let mut counts = Restored::default();
        let mut next_token = self.next_token_value();
        let mut decoder = Decoder::new(version, MAX_PACKET_SIZE);
        let mut rest = records;
        // PUBLISHes are re-sent in key order, PUBRELs in the order stored
        // with them (when they were first sent: PUBREC order [MQTT-4.6.0-4]);
        // later ones come after both.
        let mut next_seq = 0;
        while !rest.is_empty() {
            let (key, kind, order, packet) = read_record(&mut rest, &mut decoder)?;
            let token = Token(key);
            match (kind, packet) {
                (QUEUED, Packet::Publish(mut publish)) if key < INBOUND => {
                    publish.packet_id = None;
                    publish.dup = false;
                    restored.queue.push_back(Queued::Publish {
                        token,
                        publish,
                        queued_at: now,
                    });
                    counts.queued += 1;
                }
                (SENT, Packet::Publish(publish)) if key < INBOUND => {
                    let stage = if publish.qos == QoS::AtLeastOnce {
                        Stage::PubAck
                    } else {
                        Stage::PubRec
                    };
                    let id = publish.packet_id.ok_or(RestoreError::Corrupt)?;
                    let seq = restored.inflight.len() as u64;
                    restored.in_flight(token, id, publish, stage, seq, now)?;
                    next_seq = next_seq.max(seq + 1);
                    counts.in_flight += 1;
                }
                (RELEASED, Packet::PubRel(rel)) if key < INBOUND && order < MAX_ORDER => {
                    // Past PUBREC only the id matters: the server owns the message.
                    let publish = Publish {
                        qos: QoS::ExactlyOnce,
                        packet_id: Some(rel.packet_id),
                        ..Publish::default()
                    };
                    let id = rel.packet_id;
                    restored.in_flight(token, id, publish, Stage::PubComp, order, now)?;
                    next_seq = next_seq.max(order + 1);
                    counts.in_flight += 1;
                }
                (RECEIVED, Packet::PubRec(rec))
                    if key == INBOUND + u64::from(rec.packet_id.get()) =>
                {
                    if !restored.inbound_qos2.insert(rec.packet_id.get()) {
                        return Err(RestoreError::Corrupt);
                    }
                    counts.inbound += 1;
                }
                _ => return Err(RestoreError::Corrupt),
            }
            if key < INBOUND {
                next_token = next_token.max(key + 1);
            }
        }
        // All checked: take it over.
        self.queue = restored.queue;
        self.inflight = restored.inflight;
        self.ids = restored.ids;
        self.inbound_qos2 = restored.inbound_qos2;
        self.next_seq = next_seq;
        self.set_next_token(next_token);
        // What was restored belongs to a session the server may still hold:
        // the first CONNACK decides between resuming and re-queueing.
        self.connected_once = counts.in_flight + counts.inbound > 0;
        self.keep_journal();
        Ok(counts)
    }

    // ----- journal writers, called where the state changes -----
    // (`store_off.rs` has the same, empty, for a session without a store.)

    /// The token of a QoS 1/2 publish about to be queued, if journaled.
    pub(crate) fn journal_candidate(&self, item: &Queued) -> Option<Token> {
        match item {
            Queued::Publish { token, publish, .. }
                if publish.qos != QoS::AtMostOnce && self.journal.is_some() =>
            {
                Some(*token)
            }
            _ => None,
        }
    }

    /// The publish `token` queued last is still waiting after the pump:
    /// the store keeps it.
    pub(crate) fn journal_if_queued(&mut self, token: Option<Token>) {
        if let (
            Some(token),
            Some(Queued::Publish {
                token: t, publish, ..
            }),
        ) = (token, self.queue.back())
        {
            if *t == token {
                let publish = publish.clone();
                self.journal_queued(token, &publish);
            }
        }
    }

    /// A QoS 1/2 publish was queued (or re-queued).
    pub(crate) fn journal_queued(&mut self, token: Token, publish: &Publish) {
        let version = self.options.protocol_version;
        if let Some(j) = &mut self.journal {
            put_publish(j, version, token.get(), QUEUED, publish);
        }
    }

    /// A publish was sent, or moved on to PUBREL.
    pub(crate) fn journal_in_flight(&mut self, id: u16) {
        let version = self.options.protocol_version;
        if let (Some(j), Some(f)) = (&mut self.journal, self.inflight.get(id)) {
            put_in_flight(j, version, f);
        }
    }

    /// A publish completed or failed.
    pub(crate) fn journal_done(&mut self, token: Token) {
        forget(&mut self.journal, token);
    }

    /// A QoS 2 message from the server was delivered (`true`) or released.
    pub(crate) fn journal_inbound(&mut self, id: PacketId, held: bool) {
        let version = self.options.protocol_version;
        if let Some(j) = &mut self.journal {
            if held {
                put_received(j, version, id);
            } else {
                op(j, DELETE, INBOUND + u64::from(id.get()));
            }
        }
    }

    /// The server forgot the QoS 2 ids it was sending us.
    pub(crate) fn journal_inbound_cleared(&mut self) {
        if let Some(j) = &mut self.journal {
            op(j, DELETE_FROM, INBOUND);
        }
    }
}

/// What a restore builds before it takes it over, all checked.
struct Kept {
    queue: VecDeque<Queued>,
    inflight: IdMap<InFlight>,
    ids: PacketIds,
    inbound_qos2: IdSet,
}

impl Kept {
    fn in_flight(
        &mut self,
        token: Token,
        id: PacketId,
        publish: Publish,
        stage: Stage,
        seq: u64,
        now: Millis,
    ) -> Result<(), RestoreError> {
        if !self.ids.mark(id) {
            return Err(RestoreError::Corrupt);
        }
        self.inflight.insert(
            id.get(),
            InFlight {
                token,
                seq,
                publish,
                stage,
                sent_at: now,
            },
        );
        Ok(())
    }
}

/// The store forgets our publish `token` (completed, failed or expired).
pub(crate) fn forget(journal: &mut Journal, token: Token) {
    if let Some(j) = journal {
        op(j, DELETE, token.get());
    }
}

fn op(out: &mut Vec<u8>, op: u8, key: u64) {
    out.push(op);
    out.extend_from_slice(&key.to_be_bytes());
}

/// `PUT key`, then the value `encode` writes after its two header bytes.
fn put(out: &mut Vec<u8>, key: u64, kind: u8, encode: impl FnOnce(&mut Vec<u8>) -> bool) {
    let start = out.len();
    op(out, PUT, key);
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, FORMAT, kind]);
    if !encode(out) {
        // Only a packet the session already sent is written: it encodes.
        out.truncate(start);
        return;
    }
    let len = (out.len() - at - 4) as u32;
    if let Some(slot) = out.get_mut(at..at + 4) {
        slot.copy_from_slice(&len.to_le_bytes());
    }
}

fn put_publish(out: &mut Vec<u8>, version: ProtocolVersion, key: u64, kind: u8, p: &Publish) {
    put(out, key, kind, |out| {
        // What is kept is the first send (a re-send sets DUP again); a
        // queued one has no Packet Identifier yet: 1 is a placeholder.
        let kept = Publish {
            dup: false,
            packet_id: if kind == QUEUED {
                PacketId::new(1)
            } else {
                p.packet_id
            },
            ..p.clone()
        };
        kept.encode(version, out).is_ok()
    });
}

fn put_in_flight(out: &mut Vec<u8>, version: ProtocolVersion, f: &InFlight) {
    let key = f.token.get();
    match (f.stage, f.publish.packet_id) {
        (Stage::PubComp, Some(id)) => put(out, key, RELEASED, |out| {
            out.extend_from_slice(&f.seq.to_le_bytes());
            PubRel::new(id).encode(version, out).is_ok()
        }),
        _ => put_publish(out, version, key, SENT, &f.publish),
    }
}

fn put_received(out: &mut Vec<u8>, version: ProtocolVersion, id: PacketId) {
    put(out, INBOUND + u64::from(id.get()), RECEIVED, |out| {
        PubRec::new(id).encode(version, out).is_ok()
    });
}

/// Reads one `PUT key length value` record and decodes its packet: key,
/// kind, a PUBREL's order (else 0) and the packet.
fn read_record(
    rest: &mut &[u8],
    decoder: &mut Decoder,
) -> Result<(u64, u8, u64, Packet), RestoreError> {
    let (head, tail) = rest
        .split_first_chunk::<13>()
        .ok_or(RestoreError::Corrupt)?;
    let [PUT, k0, k1, k2, k3, k4, k5, k6, k7, l0, l1, l2, l3] = *head else {
        return Err(RestoreError::Corrupt);
    };
    let key = u64::from_be_bytes([k0, k1, k2, k3, k4, k5, k6, k7]);
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    if len > tail.len() {
        return Err(RestoreError::Corrupt);
    }
    let (value, after) = tail.split_at(len);
    *rest = after;
    let [format, kind, packet @ ..] = value else {
        return Err(RestoreError::Corrupt);
    };
    if *format != FORMAT {
        return Err(RestoreError::Version(*format));
    }
    let (order, packet) = match (*kind, packet.split_first_chunk::<8>()) {
        (RELEASED, Some((order, packet))) => (u64::from_le_bytes(*order), packet),
        (RELEASED, None) => return Err(RestoreError::Corrupt),
        _ => (0, packet),
    };
    decoder.reset();
    decoder.feed(packet);
    match decoder.next_packet_from_server() {
        Ok(Some(p)) if decoder.buffered() == 0 => Ok((key, *kind, order, p)),
        _ => Err(RestoreError::Corrupt),
    }
}
