//! Outbound QoS 1/2 and the server's limits.
mod common;

use common::*;
use wasmqtt_codec::{Packet, PubAck, PubComp, PubRec, QoS, ReasonCode};
use wasmqtt_session::{Event, Options, PublishError, UsageError};

fn published(events: &[Event]) -> Vec<(u64, Result<ReasonCode, PublishError>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Published { token, result } => Some((token.get(), result.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn never_more_in_flight_than_server_receive_maximum() {
    // [MQTT-4.9.0-2]: at most Receive Maximum unacknowledged QoS 1/2 PUBLISH.
    let mut peer = Peer::new(Options::default());
    peer.connect_with(connack_with(|p| p.receive_maximum = Some(2)));
    for i in 0..5u8 {
        peer.session
            .publish(peer.now, publish("t", QoS::AtLeastOnce, &[i]))
            .unwrap();
    }
    let first = peer.sent();
    let ids: Vec<u16> = first
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.packet_id.unwrap().get(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(peer.session.metrics().queued, 3);
    // Each acknowledgement lets exactly one more go, in order.
    peer.send(Packet::PubAck(PubAck::new(pid(ids[0]))));
    let next = peer.sent();
    assert_eq!(next.len(), 1);
    match &next[0] {
        Packet::Publish(p) => assert_eq!(p.payload.as_ref(), &[2]),
        other => panic!("{other:?}"),
    }
    assert_eq!(published(&peer.events()).len(), 1);
}

#[test]
fn qos2_exchange_completes_on_pubcomp() {
    let mut peer = Peer::new(Options::default());
    peer.connect();
    let token = peer
        .session
        .publish(peer.now, publish("a/b", QoS::ExactlyOnce, b"x"))
        .unwrap();
    let Packet::Publish(p) = &peer.sent()[0] else {
        panic!()
    };
    let id = p.packet_id.unwrap();
    peer.send(Packet::PubRec(PubRec::new(id)));
    assert_eq!(
        peer.sent(),
        vec![Packet::PubRel(wasmqtt_codec::PubRel::new(id))]
    );
    assert!(published(&peer.events()).is_empty());
    peer.send(Packet::PubComp(PubComp::new(id)));
    assert_eq!(
        published(&peer.events()),
        vec![(token.get(), Ok(ReasonCode::Success))]
    );
    assert_eq!(peer.session.metrics().in_flight, 0);
}

#[test]
fn failed_acks_are_reported_per_message() {
    let mut peer = Peer::new(Options::default());
    peer.connect();
    let t1 = peer
        .session
        .publish(peer.now, publish("a", QoS::AtLeastOnce, b""))
        .unwrap();
    let t2 = peer
        .session
        .publish(peer.now, publish("b", QoS::ExactlyOnce, b""))
        .unwrap();
    let sent = peer.sent();
    let ids: Vec<_> = sent
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.packet_id.unwrap(),
            _ => panic!(),
        })
        .collect();
    let mut ack = PubAck::new(ids[0]);
    ack.reason_code = ReasonCode::NotAuthorized;
    ack.properties.reason_string = Some("acl".into());
    peer.send(Packet::PubAck(ack));
    let mut rec = PubRec::new(ids[1]);
    rec.reason_code = ReasonCode::QuotaExceeded;
    peer.send(Packet::PubRec(rec));
    // A failed PUBREC ends the QoS 2 exchange: no PUBREL [MQTT-4.3.3-4].
    assert!(peer.sent().is_empty());
    assert_eq!(
        published(&peer.events()),
        vec![
            (
                t1.get(),
                Err(PublishError::Rejected {
                    reason_code: ReasonCode::NotAuthorized,
                    reason_string: Some("acl".into())
                })
            ),
            (
                t2.get(),
                Err(PublishError::Rejected {
                    reason_code: ReasonCode::QuotaExceeded,
                    reason_string: None
                })
            ),
        ]
    );
}

#[test]
fn server_limits_are_usage_errors() {
    let mut peer = Peer::new(Options::default());
    peer.connect_with(connack_with(|p| {
        p.maximum_qos = Some(QoS::AtLeastOnce);
        p.retain_available = Some(false);
        p.maximum_packet_size = Some(64);
    }));
    let now = peer.now;
    assert_eq!(
        peer.session
            .publish(now, publish("t", QoS::ExactlyOnce, b"")),
        Err(UsageError::QoSNotSupported {
            max: QoS::AtLeastOnce
        })
    );
    let mut retained = publish("t", QoS::AtMostOnce, b"");
    retained.retain = true;
    assert_eq!(
        peer.session.publish(now, retained),
        Err(UsageError::RetainNotSupported)
    );
    assert!(matches!(
        peer.session
            .publish(now, publish("t", QoS::AtMostOnce, &[0; 100])),
        Err(UsageError::PacketTooLarge { max: 64, .. })
    ));
    // Nothing was sent and the connection is still up.
    assert!(peer.sent().is_empty());
    assert!(peer.session.is_connected());
    peer.session
        .publish(now, publish("t", QoS::AtLeastOnce, &[0; 10]))
        .unwrap();
    assert_eq!(peer.sent().len(), 1);
}

#[test]
fn packet_ids_are_not_reused_while_in_flight() {
    // [MQTT-2.2.1-3]
    let mut peer = Peer::new(Options::default());
    peer.connect();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..300 {
        peer.session
            .publish(peer.now, publish("t", QoS::AtLeastOnce, b""))
            .unwrap();
    }
    for p in peer.sent() {
        let Packet::Publish(p) = p else { panic!() };
        assert!(seen.insert(p.packet_id.unwrap().get()));
    }
    assert_eq!(seen.len(), 300);
}

#[test]
fn maximum_packet_size_counts_the_topic_alias_assigned_with_the_topic() {
    // [MQTT-3.2.2-15]: with topic aliases on, the first PUBLISH to a topic
    // carries the topic and its new alias, 3 bytes more than without.
    let mut peer = Peer::new(Options {
        auto_topic_alias: true,
        ..Options::default()
    });
    peer.connect_with(connack_with(|p| {
        p.topic_alias_maximum = Some(4);
        p.maximum_packet_size = Some(20);
    }));
    let now = peer.now;
    // Without the alias: 2 (fixed header) + 3 (topic) + 2 (id) + 1
    // (property length) + payload; the session allows 5 more for the alias
    // and the lengths it may lengthen.
    assert!(matches!(
        peer.session
            .publish(now, publish("t", QoS::AtLeastOnce, &[0; 8])),
        Err(UsageError::PacketTooLarge { size: 21, max: 20 })
    ));
    assert!(peer.sent().is_empty());
    peer.session
        .publish(now, publish("t", QoS::AtLeastOnce, &[0; 7]))
        .unwrap();
    let sent = peer.sent();
    let [Packet::Publish(p)] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(p.properties.topic_alias, Some(1));
    assert!(p.encoded_len(wasmqtt_codec::ProtocolVersion::V5) <= 20);
}
