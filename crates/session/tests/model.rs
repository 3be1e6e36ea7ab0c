//! Model-based test: random publishes, acknowledgements, connection drops
//! and reconnects (with and without Session Present) never lose a QoS 1/2
//! message and never deliver a QoS 2 message twice to the application
//! [MQTT-4.3.3-10] [MQTT-4.4.0-1]. The same holds across page reloads
//! with the session kept in a store (journal, snapshot and restore), and
//! across crashes at any point between a packet leaving and the store
//! committing the journal it rests on [MQTT-4.3.3-6] [MQTT-4.3.3-12].
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use common::*;
use proptest::prelude::*;
use wasmqtt_codec::{ConnAck, Packet, PubAck, PubComp, PubRec, PubRel, QoS};
use wasmqtt_session::{Event, Options};

#[derive(Debug, Clone)]
enum Op {
    /// The application publishes at QoS 1 or 2.
    Publish(bool),
    /// The server answers everything it owes.
    Flush,
    /// The server publishes a new QoS 2 message to the client.
    ServerPublish,
    /// The server re-sends its unacknowledged QoS 2 PUBLISH with DUP.
    ServerDup,
    /// The transport drops.
    Drop,
    /// Reconnect; the server kept the session or not.
    Reconnect(bool),
    /// The page reloads: a new session restored from the store.
    #[cfg(feature = "store")]
    Reload,
    /// The page publishes and dies in the same task: that task's store
    /// writes and packets never leave.
    #[cfg(feature = "store")]
    CrashAfterPublish(bool),
    /// The store commits the oldest journal batch (`false`) or all of them.
    #[cfg(feature = "store")]
    Commit(bool),
    /// The page dies with journal batches uncommitted; what it sent
    /// reached the broker first (`true`) or was lost with the connection.
    #[cfg(feature = "store")]
    Crash(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Publish),
        4 => Just(Op::Flush),
        2 => Just(Op::ServerPublish),
        1 => Just(Op::ServerDup),
        1 => Just(Op::Drop),
        1 => any::<bool>().prop_map(Op::Reconnect),
    ]
}

#[derive(Default)]
struct Broker {
    /// Payloads accepted from the client (at least once each).
    received: Vec<Vec<u8>>,
    /// QoS 2 ids from the client waiting for PUBREL.
    awaiting_pubrel: BTreeSet<u16>,
    /// Packets owed to the client on this connection.
    owed: Vec<Packet>,
    /// Our QoS 2 messages to the client: id -> (payload, PUBREL sent).
    outgoing: BTreeMap<u16, (Vec<u8>, bool)>,
    /// Our messages the client completed with PUBCOMP.
    completed: BTreeSet<Vec<u8>>,
    next_id: u16,
    /// Packet Identifiers for our messages cycle through 1..=ids: few, so
    /// that an id comes back while the client may still hold it.
    ids: u16,
    next_payload: u32,
}

impl Broker {
    fn take(&mut self, packets: Vec<Packet>) {
        for p in packets {
            match p {
                Packet::Publish(p) => {
                    let id = p.packet_id.expect("QoS > 0");
                    match p.qos {
                        QoS::AtLeastOnce => {
                            self.received.push(p.payload.to_vec());
                            self.owed.push(Packet::PubAck(PubAck::new(id)));
                        }
                        _ => {
                            if self.awaiting_pubrel.insert(id.get()) {
                                self.received.push(p.payload.to_vec());
                            }
                            self.owed.push(Packet::PubRec(PubRec::new(id)));
                        }
                    }
                }
                Packet::PubRel(r) => {
                    self.awaiting_pubrel.remove(&r.packet_id.get());
                    self.owed.push(Packet::PubComp(PubComp::new(r.packet_id)));
                }
                Packet::PubRec(r) => {
                    // One PUBREL per connection: a second PUBREC (for a DUP
                    // the broker sent meanwhile) needs none, and a second
                    // PUBCOMP could complete the next message under the id.
                    match self.outgoing.get_mut(&r.packet_id.get()) {
                        Some(entry) if !entry.1 => {
                            entry.1 = true;
                            self.owed.push(Packet::PubRel(PubRel::new(r.packet_id)));
                        }
                        _ => {}
                    }
                }
                Packet::PubComp(c) => {
                    if let Some((payload, _)) = self.outgoing.remove(&c.packet_id.get()) {
                        self.completed.insert(payload);
                    }
                }
                Packet::PingReq | Packet::Connect(_) | Packet::Disconnect(_) => {}
                other => panic!("unexpected from client: {other:?}"),
            }
        }
    }

    fn publish(&self, id: u16, payload: &[u8], dup: bool) -> Packet {
        let mut p = publish("to/client", QoS::ExactlyOnce, payload);
        p.packet_id = Some(pid(id));
        p.dup = dup;
        Packet::Publish(p)
    }

    /// What a server re-sends after resuming a session [MQTT-4.4.0-1].
    fn resend(&mut self) {
        let resend: Vec<Packet> = self
            .outgoing
            .iter()
            .map(|(&id, (payload, rel))| {
                if *rel {
                    Packet::PubRel(PubRel::new(pid(id)))
                } else {
                    self.publish(id, payload, true)
                }
            })
            .collect();
        self.owed.extend(resend);
    }
}

// The store's fields are only read by the store's test.
#[cfg_attr(not(feature = "store"), allow(dead_code))]
struct World {
    options: Options,
    peer: Peer,
    /// The store, as the committed journal left it.
    store: BTreeMap<[u8; 8], Vec<u8>>,
    /// Journal batches polled and not committed yet, oldest first.
    batches: VecDeque<Vec<u8>>,
    /// Batches this page polled and committed.
    polled: u64,
    committed: u64,
    /// Payloads this page published, with the batch holding their first
    /// record, until that batch commits: a crash before may lose them.
    uncommitted: Vec<(Vec<u8>, u64)>,
    published: usize,
    qos2: HashSet<Vec<u8>>,
    /// Payloads published in a task that crashed: they may be lost.
    maybe_lost: HashSet<Vec<u8>>,
    broker: Broker,
    connected: bool,
    /// Packets the client sent that the broker has not read yet; lost on a drop.
    in_transit: Vec<Packet>,
    /// QoS 1/2 tokens the application got back, and their outcomes.
    tokens: HashMap<u64, Vec<bool>>,
    /// Application deliveries per payload.
    delivered: HashMap<Vec<u8>, usize>,
    /// The session asked to reconnect (or has not connected yet).
    reconnect_due: bool,
}

impl World {
    fn pump(&mut self) {
        #[cfg(feature = "store")]
        {
            let mut batch = Vec::new();
            if self.peer.session.poll_journal(&mut batch) {
                self.batches.push_back(batch);
                self.polled += 1;
            }
        }
        let sent = self.peer.sent();
        self.in_transit.extend(sent);
        for e in self.peer.events() {
            match e {
                Event::Published { token, result } => {
                    self.tokens
                        .entry(token.get())
                        .or_default()
                        .push(result.is_ok());
                }
                Event::Message(m) => *self.delivered.entry(m.payload.to_vec()).or_default() += 1,
                Event::Reconnect { .. } => self.reconnect_due = true,
                _ => {}
            }
        }
    }

    fn flush(&mut self) {
        if !self.connected {
            return;
        }
        self.pump();
        let arrived = std::mem::take(&mut self.in_transit);
        self.broker.take(arrived);
        for p in std::mem::take(&mut self.broker.owed) {
            self.peer.send(p);
        }
        self.pump();
    }

    /// Lets the session run to quiet with a connection: reconnect with the
    /// session kept, answer, and commit the store, until nothing moves.
    fn settle(&mut self) {
        for _ in 0..20 {
            #[cfg(feature = "store")]
            self.persist();
            if !self.connected && self.reconnect_due {
                self.reconnect(true);
            }
            self.flush();
        }
        #[cfg(feature = "store")]
        self.persist();
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Publish(qos2) => {
                self.publish(*qos2);
            }
            #[cfg(feature = "store")]
            Op::Reload => {
                self.persist();
                self.reload();
            }
            #[cfg(feature = "store")]
            Op::CrashAfterPublish(qos2) => {
                let payload = self.publish(*qos2);
                self.pump();
                self.batches.clear();
                self.maybe_lost.insert(payload);
                self.reload();
            }
            #[cfg(feature = "store")]
            Op::Commit(all) => {
                let n = if *all { self.batches.len() } else { 1 };
                self.commit(n);
            }
            #[cfg(feature = "store")]
            Op::Crash(arrived) => {
                self.pump();
                if *arrived && self.connected {
                    let sent = std::mem::take(&mut self.in_transit);
                    self.broker.take(sent);
                }
                let unsaved = std::mem::take(&mut self.uncommitted);
                self.maybe_lost.extend(unsaved.into_iter().map(|(p, _)| p));
                self.batches.clear();
                self.reload();
            }
            Op::Flush => self.flush(),
            Op::ServerPublish if self.connected => {
                self.broker.next_id = self.broker.next_id % self.broker.ids + 1;
                let id = self.broker.next_id;
                if self.broker.outgoing.contains_key(&id) {
                    return;
                }
                self.broker.next_payload += 1;
                let payload = self.broker.next_payload.to_be_bytes().to_vec();
                let packet = self.broker.publish(id, &payload, false);
                self.broker.outgoing.insert(id, (payload, false));
                self.broker.owed.push(packet);
                self.flush();
            }
            Op::ServerDup if self.connected => {
                let dups: Vec<Packet> = self
                    .broker
                    .outgoing
                    .iter()
                    .filter(|(_, (_, rel))| !rel)
                    .map(|(&id, (payload, _))| self.broker.publish(id, payload, true))
                    .collect();
                self.broker.owed.extend(dups);
                self.flush();
            }
            Op::Drop if self.connected => {
                self.connected = false;
                self.broker.owed.clear();
                self.pump();
                self.in_transit.clear();
                // The backoff timer runs out; the session asks to reconnect
                // (an event that may wait for the store, like any other).
                self.peer.session.handle_connection_lost(self.peer.now);
                for _ in 0..1000 {
                    let Some(at) = self.peer.session.poll_timeout() else {
                        break;
                    };
                    self.peer.now = self.peer.now.max(at);
                    self.peer.session.handle_timeout(self.peer.now);
                }
            }
            Op::Reconnect(present) if !self.connected && self.reconnect_due => {
                self.reconnect(*present)
            }
            _ => {}
        }
        self.pump();
    }

    fn publish(&mut self, qos2: bool) -> Vec<u8> {
        let qos = if qos2 {
            QoS::ExactlyOnce
        } else {
            QoS::AtLeastOnce
        };
        let payload = self.published.to_be_bytes().to_vec();
        self.published += 1;
        if qos2 {
            self.qos2.insert(payload.clone());
        }
        // Its record goes into the batch polled next.
        self.uncommitted.push((payload.clone(), self.polled + 1));
        let token = self
            .peer
            .session
            .publish(self.peer.now, publish("t", qos, &payload));
        // Tokens are per page: the first page's are checked.
        self.tokens.entry(token.unwrap().get()).or_default();
        payload
    }

    fn reconnect(&mut self, present: bool) {
        if !present {
            // A server without our session forgets both directions.
            self.broker.awaiting_pubrel.clear();
            self.broker.outgoing.clear();
        }
        self.reconnect_due = false;
        self.peer.session.connect(self.peer.now).unwrap();
        self.pump();
        self.in_transit.clear();
        self.peer.send(Packet::ConnAck(ConnAck {
            session_present: present,
            ..ConnAck::default()
        }));
        self.connected = true;
        if present {
            self.broker.resend();
        }
        self.pump();
        self.flush();
    }
}

/// The session store (`store` feature): the journal written, and a new page.
#[cfg(feature = "store")]
impl World {
    /// Every message the page published reached the broker (unless the
    /// page died before it was stored), and no QoS 2 one twice.
    fn check_published(&self) -> Result<(), TestCaseError> {
        for i in 0..self.published {
            let payload = i.to_be_bytes().to_vec();
            let n = self
                .broker
                .received
                .iter()
                .filter(|p| **p == payload)
                .count();
            prop_assert!(
                n > 0 || self.maybe_lost.contains(&payload),
                "message {} lost",
                i
            );
            if self.qos2.contains(&payload) {
                prop_assert!(n <= 1, "QoS 2 message {} accepted {} times", i, n);
            }
        }
        Ok(())
    }

    /// Every batch polled so far commits (the task ends and its write
    /// completes).
    fn persist(&mut self) {
        self.pump();
        self.commit(self.batches.len());
    }

    /// The store commits the `n` oldest batches, in order, and tells the
    /// session; what waited for them goes.
    fn commit(&mut self, n: usize) {
        let n = n.min(self.batches.len());
        for _ in 0..n {
            let batch = self.batches.pop_front().unwrap();
            self.apply_batch(batch);
        }
        self.committed += n as u64;
        let committed = self.committed;
        self.uncommitted.retain(|(_, batch)| *batch > committed);
        self.peer.session.journal_committed(n as u64);
        self.pump();
    }

    /// Applies one journal batch to the store, as the store does.
    fn apply_batch(&mut self, batch: Vec<u8>) {
        let mut j = batch.into_iter();
        while let Some(op) = j.next() {
            let key: [u8; 8] = std::array::from_fn(|_| j.next().unwrap());
            match op {
                1 => {
                    let len = u32::from_le_bytes(std::array::from_fn(|_| j.next().unwrap()));
                    let value = j.by_ref().take(len as usize).collect();
                    self.store.insert(key, value);
                }
                2 => {
                    self.store.remove(&key);
                }
                3 => self.store.retain(|k, _| *k < key),
                other => panic!("unknown journal op {other}"),
            }
        }
    }

    /// The store's records as `restore` takes them: `PUT`s in key order.
    fn records(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (key, value) in &self.store {
            out.push(1);
            out.extend_from_slice(key);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value);
        }
        out
    }

    /// A new page: the connection is gone, the session comes from the store.
    fn reload(&mut self) {
        self.connected = false;
        self.broker.owed.clear();
        self.in_transit.clear();
        let mut peer = Peer::new(self.options.clone());
        peer.now = self.peer.now;
        peer.session.restore(peer.now, &self.records()).unwrap();
        self.peer = peer;
        self.batches.clear();
        self.polled = 0;
        self.committed = 0;
        self.uncommitted.clear();
        self.reconnect_due = true;
        self.tokens.retain(|_, outcomes| !outcomes.is_empty());
    }
}

fn world(options: Options) -> World {
    World {
        peer: Peer::new(options.clone()),
        options,
        store: BTreeMap::new(),
        batches: VecDeque::new(),
        polled: 0,
        committed: 0,
        uncommitted: Vec::new(),
        published: 0,
        qos2: HashSet::new(),
        maybe_lost: HashSet::new(),
        broker: Broker {
            ids: 100,
            ..Broker::default()
        },
        connected: false,
        in_transit: Vec::new(),
        tokens: HashMap::new(),
        delivered: HashMap::new(),
        reconnect_due: true,
    }
}

#[cfg(feature = "store")]
/// Operations of a page whose server keeps the session: reloads and
/// crashes at any point, never a lost session (which may re-send a QoS 2
/// message as new, by the `requeue_unacked` rule).
fn page_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Publish),
        4 => Just(Op::Flush),
        2 => Just(Op::ServerPublish),
        1 => Just(Op::ServerDup),
        1 => Just(Op::Drop),
        1 => Just(Op::Reconnect(true)),
        1 => Just(Op::Reload),
        1 => any::<bool>().prop_map(Op::CrashAfterPublish),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_qos1_or_qos2_message_is_lost_and_qos2_is_delivered_once(ops in prop::collection::vec(op(), 1..80)) {
        let mut world = world(Options { queue_limit: 10_000, ..Options::default() });
        world.reconnect(false);
        for op in &ops {
            world.apply(op);
        }
        // Settle: reconnect with the session kept and answer until quiet.
        world.settle();
        for (token, outcomes) in &world.tokens {
            prop_assert_eq!(outcomes.as_slice(), &[true], "token {} outcomes", token);
        }
        for i in 0..world.published {
            let payload = i.to_be_bytes().to_vec();
            prop_assert!(world.broker.received.contains(&payload), "message {} lost", i);
        }
        for (payload, n) in &world.delivered {
            prop_assert_eq!(*n, 1, "QoS 2 message {:?} delivered {} times", payload, n);
        }
        for payload in &world.broker.completed {
            prop_assert!(world.delivered.contains_key(payload), "completed but never delivered");
        }
        prop_assert_eq!(world.peer.session.metrics().in_flight, 0);
        prop_assert_eq!(world.peer.session.metrics().queued, 0);
    }
}

#[cfg(feature = "store")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random operations, drops, reloads and crashes, with the store
    /// written after each task: nothing stored is lost, no QoS 2 message is
    /// accepted by the server or delivered to the application twice, the
    /// server first sees messages in publish order, and the journal always
    /// leaves the store equal to the session's snapshot.
    #[test]
    fn a_stored_session_survives_reloads(ops in prop::collection::vec(page_op(), 1..80)) {
        // A store needs a session to resume: Clean Start 0 on every page.
        let options = Options { queue_limit: 10_000, clean_start: false, ..Options::default() };
        let mut world = world(options);
        world.peer.session.keep_journal();
        world.reconnect(false);
        for op in &ops {
            world.apply(op);
            world.persist();
            let mut snapshot = world.records();
            let mut expected = world.peer.session.snapshot();
            snapshot.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(snapshot, expected, "store and snapshot differ after {:?}", op);
        }
        world.settle();
        let mut first_seen = Vec::new();
        for p in &world.broker.received {
            if !first_seen.contains(p) {
                first_seen.push(p.clone());
            }
        }
        world.check_published()?;
        let mut sorted = first_seen.clone();
        sorted.sort();
        prop_assert_eq!(first_seen, sorted, "publish order not kept");
        for (payload, n) in &world.delivered {
            prop_assert_eq!(*n, 1, "QoS 2 message {:?} delivered {} times", payload, n);
        }
        for (token, outcomes) in &world.tokens {
            prop_assert!(outcomes.iter().all(|ok| *ok), "token {} failed: {:?}", token, outcomes);
        }
        prop_assert!(world.store.is_empty(), "store keeps {} settled records", world.store.len());
        prop_assert_eq!(world.peer.session.metrics().in_flight, 0);
        prop_assert_eq!(world.peer.session.metrics().queued, 0);
    }
}

#[cfg(feature = "store")]
/// Operations of a page whose store commits when it will: packets and
/// deliveries that need a record wait for its commit, and the page
/// crashes at any point in between.
fn crash_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Publish),
        4 => Just(Op::Flush),
        3 => any::<bool>().prop_map(Op::Commit),
        3 => Just(Op::ServerPublish),
        1 => Just(Op::ServerDup),
        1 => Just(Op::Drop),
        1 => Just(Op::Reconnect(true)),
        1 => any::<bool>().prop_map(Op::Crash),
    ]
}

#[cfg(feature = "store")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The page crashes with journal batches uncommitted, after sending
    /// what it released (which reached the broker or not), while the
    /// broker reuses a few Packet Identifiers for its QoS 2 messages:
    /// nothing whose record was committed is lost, no QoS 2 message is
    /// accepted by the broker or delivered to the application twice, and
    /// every QoS 2 message the broker sent is delivered exactly once.
    #[test]
    fn a_crash_before_the_store_commits_loses_nothing_and_duplicates_nothing(
        ops in prop::collection::vec(crash_op(), 1..100),
    ) {
        let options = Options { queue_limit: 10_000, clean_start: false, ..Options::default() };
        let mut world = world(options);
        world.broker.ids = 3;
        world.peer.session.keep_journal();
        world.reconnect(false);
        for op in &ops {
            world.apply(op);
            if matches!(op, Op::Commit(true)) {
                let mut snapshot = world.records();
                let mut expected = world.peer.session.snapshot();
                snapshot.sort_unstable();
                expected.sort_unstable();
                prop_assert_eq!(snapshot, expected, "store and snapshot differ after a full commit");
            }
        }
        world.settle();
        world.check_published()?;
        for (payload, n) in &world.delivered {
            prop_assert_eq!(*n, 1, "QoS 2 message {:?} delivered {} times", payload, n);
        }
        prop_assert!(world.broker.outgoing.is_empty(), "broker still sending {:?}", world.broker.outgoing);
        for n in 1..=world.broker.next_payload {
            let payload = n.to_be_bytes().to_vec();
            prop_assert!(world.delivered.contains_key(&payload), "QoS 2 message {} to the page lost", n);
        }
        prop_assert!(world.store.is_empty(), "store keeps settled records: {:?}", world.store);
        prop_assert!(!world.peer.session.awaits_journal());
        prop_assert_eq!(world.peer.session.metrics().in_flight, 0);
        prop_assert_eq!(world.peer.session.metrics().queued, 0);
    }
}
