//! Model-based test: random publishes, acknowledgements, connection drops
//! and reconnects (with and without Session Present) never lose a QoS 1/2
//! message and never deliver a QoS 2 message twice to the application
//! [MQTT-4.3.3-10] [MQTT-4.4.0-1]. The same holds across page reloads
//! with the session kept in a store (journal, snapshot and restore).
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
                    if let Some(entry) = self.outgoing.get_mut(&r.packet_id.get()) {
                        entry.1 = true;
                        self.owed.push(Packet::PubRel(PubRel::new(r.packet_id)));
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
    /// The store, as the journal left it, and the journal not written yet.
    store: BTreeMap<[u8; 8], Vec<u8>>,
    unsaved: Vec<u8>,
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
}

impl World {
    fn pump(&mut self) {
        #[cfg(feature = "store")]
        let _ = self.peer.session.poll_journal(&mut self.unsaved);
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
                self.unsaved.clear();
                self.maybe_lost.insert(payload);
                self.reload();
            }
            Op::Flush => self.flush(),
            Op::ServerPublish if self.connected => {
                self.broker.next_id = self.broker.next_id % 100 + 1;
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
                self.peer.drop_and_wait_for_reconnect();
            }
            Op::Reconnect(present) if !self.connected => self.reconnect(*present),
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
    /// The task ends: its journal is written, in order, as the store does.
    fn persist(&mut self) {
        let mut j = std::mem::take(&mut self.unsaved).into_iter();
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
        self.tokens.retain(|_, outcomes| !outcomes.is_empty());
    }
}

fn world(options: Options) -> World {
    World {
        peer: Peer::new(options.clone()),
        options,
        store: BTreeMap::new(),
        unsaved: Vec::new(),
        published: 0,
        qos2: HashSet::new(),
        maybe_lost: HashSet::new(),
        broker: Broker::default(),
        connected: false,
        in_transit: Vec::new(),
        tokens: HashMap::new(),
        delivered: HashMap::new(),
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
        if !world.connected {
            world.reconnect(true);
        }
        for _ in 0..10 {
            world.flush();
        }
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
            world.pump();
            world.persist();
            let mut snapshot = world.records();
            let mut expected = world.peer.session.snapshot();
            snapshot.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(snapshot, expected, "store and snapshot differ after {:?}", op);
        }
        if !world.connected {
            world.reconnect(true);
        }
        for _ in 0..10 {
            world.flush();
        }
        world.persist();
        let mut first_seen = Vec::new();
        for p in &world.broker.received {
            if !first_seen.contains(p) {
                first_seen.push(p.clone());
            }
        }
        for i in 0..world.published {
            let payload = i.to_be_bytes().to_vec();
            let n = world.broker.received.iter().filter(|p| **p == payload).count();
            prop_assert!(n > 0 || world.maybe_lost.contains(&payload), "message {} lost", i);
            if world.qos2.contains(&payload) {
                prop_assert!(n <= 1, "QoS 2 message {} accepted {} times", i, n);
            }
        }
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
