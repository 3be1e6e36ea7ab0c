//! Snapshot and restore: what a page reload brings back, and how the
//! restored session resumes [MQTT-4.4.0-1].
mod common;

use common::*;
use wasmqtt_codec::{Packet, PubAck, PubRec, PubRel, QoS};
use wasmqtt_session::{Event, Options, RestoreError, Restored, FORMAT};

fn options() -> Options {
    Options {
        clean_start: false,
        client_id: "page".into(),
        ..Options::default()
    }
}

/// A page that published three messages (QoS 1, QoS 2 past PUBREC, QoS 2
/// unacknowledged), holds inbound QoS 2 id 9 and queued one more offline.
fn first_page() -> Peer {
    let mut peer = Peer::new(options());
    peer.session.keep_journal();
    peer.connect();
    for (qos, payload) in [
        (QoS::AtLeastOnce, "a"),
        (QoS::ExactlyOnce, "b"),
        (QoS::ExactlyOnce, "c"),
    ] {
        peer.session
            .publish(peer.now, publish("t", qos, payload.as_bytes()))
            .unwrap();
    }
    peer.sent();
    peer.send(Packet::PubRec(PubRec::new(pid(2))));
    let mut inbound = publish("in", QoS::ExactlyOnce, b"x");
    inbound.packet_id = Some(pid(9));
    peer.send(Packet::Publish(inbound));
    peer.sent();
    peer.session.handle_connection_lost(peer.now);
    peer.session
        .publish(peer.now, publish("t", QoS::AtLeastOnce, b"d"))
        .unwrap();
    peer.events();
    peer
}

fn second_page(snapshot: &[u8]) -> (Peer, Restored) {
    let mut peer = Peer::new(options());
    let restored = peer.session.restore(peer.now, snapshot).unwrap();
    (peer, restored)
}

#[test]
fn restore_counts_what_was_kept() {
    let (_, restored) = second_page(&first_page().session.snapshot());
    assert_eq!(
        (restored.in_flight, restored.queued, restored.inbound),
        (3, 1, 1)
    );
}

#[test]
fn resumed_session_resends_publish_with_dup_and_pubrel_in_order_mqtt_4_4_0_1() {
    let (mut peer, _) = second_page(&first_page().session.snapshot());
    peer.connect_with(session_present());
    let sent = peer.sent();
    let summary: Vec<String> = sent
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => format!(
                "PUBLISH {} id={:?} dup={}",
                String::from_utf8_lossy(&p.payload),
                p.packet_id.map(|i| i.get()),
                p.dup
            ),
            Packet::PubRel(r) => format!("PUBREL id={}", r.packet_id.get()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "PUBLISH a id=Some(1) dup=true",
            "PUBLISH c id=Some(3) dup=true",
            // Where it was first sent: after the PUBLISH of c.
            "PUBREL id=2",
            // The queued one goes out as new, with a fresh id.
            "PUBLISH d id=Some(4) dup=false",
        ]
    );
    // Their outcomes settle under the tokens they were stored with.
    peer.send(Packet::PubAck(PubAck::new(pid(1))));
    let settled: Vec<_> = peer
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Published { result: Ok(_), .. }))
        .collect();
    assert_eq!(settled.len(), 1);
}

#[test]
fn restored_inbound_qos2_id_is_not_delivered_again_mqtt_4_3_3_10() {
    let (mut peer, _) = second_page(&first_page().session.snapshot());
    peer.connect_with(session_present());
    let mut dup = publish("in", QoS::ExactlyOnce, b"x");
    dup.packet_id = Some(pid(9));
    dup.dup = true;
    peer.send(Packet::Publish(dup));
    assert!(!peer.events().iter().any(|e| matches!(e, Event::Message(_))));
    assert!(peer
        .sent()
        .iter()
        .any(|p| matches!(p, Packet::PubRec(r) if r.packet_id == pid(9))));
}

#[test]
fn without_the_session_restored_publishes_follow_requeue_unacked() {
    let (mut peer, _) = second_page(&first_page().session.snapshot());
    let events = peer.connect();
    // The QoS 2 one goes out as new once the store has its record.
    let _ = batch(&mut peer);
    peer.session.journal_committed(1);
    // Past PUBREC the server owned "b": it completes; the rest go out as new.
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Published { result: Ok(_), .. }))
            .count(),
        1
    );
    let payloads: Vec<_> = peer
        .sent()
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) if !p.dup => Some(p.payload.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(payloads, [b"a".to_vec(), b"c".to_vec(), b"d".to_vec()]);
}

#[test]
fn new_tokens_follow_restored_ones() {
    let first = first_page();
    let (mut peer, _) = second_page(&first.session.snapshot());
    let token = peer
        .session
        .publish(peer.now, publish("t", QoS::AtLeastOnce, b"e"))
        .unwrap();
    assert!(token.get() > 4);
}

#[test]
fn bad_records_are_refused_and_nothing_is_restored() {
    let snapshot = first_page().session.snapshot();
    // Truncated.
    let mut peer = Peer::new(options());
    assert_eq!(
        peer.session.restore(0, &snapshot[..snapshot.len() - 1]),
        Err(RestoreError::Corrupt)
    );
    assert_eq!(peer.session.metrics().in_flight, 0);
    // Another format version: byte 13 is the value's first.
    let mut newer = snapshot.clone();
    newer[13] = FORMAT + 1;
    assert_eq!(
        peer.session.restore(0, &newer),
        Err(RestoreError::Version(FORMAT + 1))
    );
    // Garbage.
    assert_eq!(
        peer.session.restore(0, &[1, 2, 3]),
        Err(RestoreError::Corrupt)
    );
    // The same record twice: one Packet Identifier for two messages.
    let mut twice = snapshot.clone();
    twice.extend_from_slice(&snapshot);
    assert_eq!(peer.session.restore(0, &twice), Err(RestoreError::Corrupt));
}

#[test]
fn restore_comes_before_the_first_connect() {
    let mut peer = Peer::new(options());
    peer.connect();
    assert_eq!(
        peer.session.restore(peer.now, &[]),
        Err(RestoreError::Started)
    );
}

proptest::proptest! {
    /// Whatever a store hands back (another program's data, a torn
    /// write), restore answers with a typed error or a session, never a
    /// panic; and a refused restore leaves nothing behind.
    #[test]
    fn any_bytes_restore_or_are_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let mut peer = Peer::new(options());
        if peer.session.restore(0, &bytes).is_err() {
            proptest::prop_assert_eq!(peer.session.metrics().in_flight, 0);
            proptest::prop_assert_eq!(peer.session.metrics().queued, 0);
        }
    }

    /// Any valid snapshot with one byte changed.
    #[test]
    fn a_damaged_snapshot_never_panics(at in 0usize..400, byte in proptest::prelude::any::<u8>()) {
        let mut snapshot = first_page().session.snapshot();
        let len = snapshot.len();
        snapshot[at % len] = byte;
        let mut peer = Peer::new(options());
        let _ = peer.session.restore(0, &snapshot);
        peer.connect_with(session_present());
        let _ = peer.sent();
    }
}

// ----- output that waits for the store to commit (`commit.rs`) -----

/// A connected page with a store on (nothing restored).
fn stored_page() -> Peer {
    let mut peer = Peer::new(options());
    peer.session.restore(peer.now, &[]).unwrap();
    peer.connect();
    peer
}

/// Polls the journal: one batch, as a driver hands it to the store.
fn batch(peer: &mut Peer) -> Vec<u8> {
    let mut out = Vec::new();
    assert!(peer.session.poll_journal(&mut out), "no journal");
    out
}

fn inbound_qos2(id: u16, payload: &str) -> Packet {
    let mut p = publish("in", QoS::ExactlyOnce, payload.as_bytes());
    p.packet_id = Some(pid(id));
    Packet::Publish(p)
}

fn messages(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count()
}

#[test]
fn inbound_qos2_is_delivered_and_pubrec_sent_once_its_id_is_stored_mqtt_4_3_3_10() {
    let mut peer = stored_page();
    peer.send(inbound_qos2(7, "x"));
    let _ = batch(&mut peer);
    assert!(peer.sent().is_empty(), "PUBREC before the id was stored");
    assert_eq!(
        messages(&peer.events()),
        0,
        "delivered before the id was stored"
    );
    assert!(peer.session.awaits_journal());
    peer.session.journal_committed(1);
    assert!(matches!(peer.sent().as_slice(), [Packet::PubRec(r)] if r.packet_id == pid(7)));
    assert_eq!(messages(&peer.events()), 1);
    assert!(!peer.session.awaits_journal());
}

#[test]
fn pubcomp_waits_until_the_ids_removal_is_stored_mqtt_4_3_3_12() {
    let mut peer = stored_page();
    peer.send(inbound_qos2(7, "x"));
    let _ = batch(&mut peer);
    peer.session.journal_committed(1);
    let _ = (peer.sent(), peer.events());
    peer.send(Packet::PubRel(PubRel::new(pid(7))));
    let _ = batch(&mut peer);
    assert!(
        peer.sent().is_empty(),
        "PUBCOMP before the removal was stored"
    );
    peer.session.journal_committed(1);
    assert!(matches!(peer.sent().as_slice(), [Packet::PubComp(c)] if c.packet_id == pid(7)));
}

#[test]
fn pubrel_waits_until_it_replaces_the_stored_publish_mqtt_4_3_3_6() {
    let mut peer = stored_page();
    peer.session
        .publish(peer.now, publish("t", QoS::ExactlyOnce, b"a"))
        .unwrap();
    let _ = batch(&mut peer);
    peer.session.journal_committed(1);
    assert!(matches!(peer.sent().as_slice(), [Packet::Publish(_)]));
    peer.send(Packet::PubRec(PubRec::new(pid(1))));
    let _ = batch(&mut peer);
    assert!(
        peer.sent().is_empty(),
        "PUBREL before its record was stored"
    );
    peer.session.journal_committed(1);
    assert!(matches!(peer.sent().as_slice(), [Packet::PubRel(r)] if r.packet_id == pid(1)));
}

#[test]
fn a_qos2_publish_waits_for_its_record_and_what_follows_keeps_its_order_mqtt_4_3_3_1() {
    let mut peer = stored_page();
    // QoS 1 goes at once: a crash before its record can only lose it,
    // and the broker frees its id with PUBACK.
    peer.session
        .publish(peer.now, publish("t", QoS::AtLeastOnce, b"1"))
        .unwrap();
    assert_eq!(peer.sent().len(), 1);
    let _ = batch(&mut peer);
    peer.session
        .publish(peer.now, publish("t", QoS::ExactlyOnce, b"2"))
        .unwrap();
    peer.session
        .publish(peer.now, publish("t", QoS::AtLeastOnce, b"3"))
        .unwrap();
    let _ = batch(&mut peer);
    assert!(peer.sent().is_empty());
    // The store commits the first batch (the record of "1") only: "2" waits.
    peer.session.journal_committed(1);
    assert!(peer.sent().is_empty());
    peer.session.journal_committed(1);
    let payloads: Vec<_> = peer
        .sent()
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p.payload.to_vec(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(payloads, [b"2".to_vec(), b"3".to_vec()]);
}

#[test]
fn a_new_connection_sends_connect_at_once_and_not_what_waited_for_the_old_one() {
    let mut peer = stored_page();
    peer.send(inbound_qos2(7, "x"));
    let _ = batch(&mut peer);
    peer.session.handle_connection_lost(peer.now);
    peer.session.connect(peer.now).unwrap();
    // CONNECT needs no record; the PUBREC was for the lost connection.
    assert!(matches!(peer.sent().as_slice(), [Packet::Connect(_)]));
    peer.send(Packet::ConnAck(session_present()));
    peer.session.journal_committed(1);
    assert!(peer.sent().is_empty());
    // Delivered once the id is stored; the broker's re-send gets PUBREC only.
    assert_eq!(messages(&peer.events()), 1);
    let mut dup = publish("in", QoS::ExactlyOnce, b"x");
    dup.packet_id = Some(pid(7));
    dup.dup = true;
    peer.send(Packet::Publish(dup));
    assert!(matches!(peer.sent().as_slice(), [Packet::PubRec(_)]));
    assert_eq!(messages(&peer.events()), 0);
}

#[test]
fn a_store_that_fails_lets_everything_go_and_keeps_no_journal() {
    let mut peer = stored_page();
    peer.send(inbound_qos2(7, "x"));
    peer.session.stop_journal();
    assert!(matches!(peer.sent().as_slice(), [Packet::PubRec(_)]));
    assert_eq!(messages(&peer.events()), 1);
    peer.send(Packet::PubRel(PubRel::new(pid(7))));
    assert!(matches!(peer.sent().as_slice(), [Packet::PubComp(_)]));
    assert!(!peer.session.poll_journal(&mut Vec::new()));
}

#[test]
fn disconnect_goes_at_once_and_events_still_wait() {
    let mut peer = stored_page();
    peer.send(inbound_qos2(7, "x"));
    let _ = batch(&mut peer);
    peer.session
        .disconnect(
            peer.now,
            wasmqtt_codec::ReasonCode::Success,
            None,
            Default::default(),
        )
        .unwrap();
    assert!(matches!(peer.sent().as_slice(), [Packet::Disconnect(_)]));
    assert!(peer.events().is_empty());
    peer.session.journal_committed(1);
    let events = peer.events();
    assert_eq!(messages(&events), 1);
    assert!(matches!(events.last(), Some(Event::Disconnected(_))));
}

/// What a page re-sends on resuming, as short strings.
fn resent(peer: &mut Peer) -> Vec<String> {
    peer.sent()
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => format!("PUBLISH {}", p.packet_id.unwrap().get()),
            Packet::PubRel(r) => format!("PUBREL {}", r.packet_id.get()),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn pubrels_keep_pubrec_order_across_reloads_mqtt_4_6_0_4() {
    let mut peer = Peer::new(options());
    peer.session.keep_journal();
    peer.connect();
    for i in 0..4u8 {
        peer.session
            .publish(peer.now, publish("t", QoS::ExactlyOnce, &[i]))
            .unwrap();
    }
    peer.sent();
    for id in [3, 1] {
        peer.send(Packet::PubRec(PubRec::new(pid(id))));
    }
    // The next page: PUBLISHes in publish order, PUBRELs in PUBREC order.
    let (mut second, _) = second_page(&peer.session.snapshot());
    second.connect_with(session_present());
    assert_eq!(
        resent(&mut second),
        ["PUBLISH 2", "PUBLISH 4", "PUBREL 3", "PUBREL 1"]
    );
    // It gets PUBREC for 4, then 2; a third page keeps all four in order.
    for id in [4, 2] {
        second.send(Packet::PubRec(PubRec::new(pid(id))));
    }
    let _ = batch(&mut second);
    second.session.journal_committed(1);
    second.sent();
    let (mut third, _) = second_page(&second.session.snapshot());
    third.connect_with(session_present());
    assert_eq!(
        resent(&mut third),
        ["PUBREL 3", "PUBREL 1", "PUBREL 4", "PUBREL 2"]
    );
}
