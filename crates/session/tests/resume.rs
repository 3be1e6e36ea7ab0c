//! Reconnecting: resuming a session the server kept [MQTT-4.4.0-1],
//! starting over when it did not, and the queue of operations made while
//! disconnected.
mod common;

use common::*;
use wasmqtt_codec::{
    ConnAck, EncodeError, Packet, PacketType, Properties, PropertyId, PubAck, PubComp, PubRec,
    PubRel, Publish, QoS, ReasonCode, Subscription, SubscriptionOptions,
};
use wasmqtt_session::{Event, Options, PublishError, Token, UsageError};

/// No keep-alive, so that long waits in virtual time send no PINGREQ.
fn quiet() -> Options {
    Options {
        keep_alive: 0,
        ..Options::default()
    }
}

fn with_expiry(mut p: Publish, seconds: u32) -> Publish {
    p.properties.message_expiry_interval = Some(seconds);
    p
}

/// One packet as a short label, for checking what went out in which order.
fn label(packet: &Packet) -> String {
    match packet {
        Packet::Publish(p) => format!("PUBLISH {}", p.topic.as_str()),
        Packet::Subscribe(s) => format!("SUBSCRIBE {}", s.subscriptions[0].filter),
        Packet::Unsubscribe(u) => format!("UNSUBSCRIBE {}", u.filters[0]),
        Packet::PubRel(r) => format!("PUBREL {}", r.packet_id.get()),
        other => format!("{:?}", other.packet_type()),
    }
}

fn labels(packets: &[Packet]) -> Vec<String> {
    packets.iter().map(label).collect()
}

/// Where one of our messages stands when the connection drops.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// Sent, nothing heard back.
    Unacked,
    /// QoS 2, PUBREC received and PUBREL sent.
    Released,
    /// PUBACK or PUBREC with a failure: settled.
    Rejected,
}

#[test]
fn resumed_session_resends_publish_with_dup_and_pubrel_in_original_order() {
    // [MQTT-4.4.0-1]: unacknowledged PUBLISH and PUBREL again, with their
    // original Packet Identifiers, PUBLISH with DUP [MQTT-3.3.1-1], in the
    // order they were first sent: PUBLISH in publish order [MQTT-4.6.0-1],
    // PUBREL (sent after them here) in PUBREC order [MQTT-4.6.0-4]; no PUBLISH once PUBREL was sent
    // [MQTT-4.3.3-6]; nothing settled by a failure code [MQTT-4.4.0-2]; and
    // no expiry once sent [MQTT-4.3.3-7].
    let plan = [
        (QoS::AtLeastOnce, Stage::Unacked),
        (QoS::ExactlyOnce, Stage::Released),
        (QoS::ExactlyOnce, Stage::Unacked),
        (QoS::AtLeastOnce, Stage::Rejected),
        (QoS::AtLeastOnce, Stage::Unacked),
        (QoS::ExactlyOnce, Stage::Rejected),
        (QoS::ExactlyOnce, Stage::Released),
    ];
    let mut peer = connected(quiet());
    let mut tokens = Vec::new();
    for (i, (qos, _)) in plan.iter().enumerate() {
        let message = with_expiry(publish(&format!("t/{i}"), *qos, &[i as u8]), 1);
        tokens.push(publish_now(&mut peer, message));
    }
    let sent = publishes(&peer.sent());
    assert_eq!(sent.len(), plan.len());
    let mut expected = Vec::new();
    let mut released = Vec::new();
    for ((qos, stage), original) in plan.iter().zip(&sent) {
        let id = original.packet_id.unwrap();
        match (stage, qos) {
            (Stage::Unacked, _) => expected.push(Packet::Publish(Publish {
                dup: true,
                ..original.clone()
            })),
            (Stage::Released, _) => {
                peer.send(Packet::PubRec(PubRec::new(id)));
                released.push(Packet::PubRel(PubRel::new(id)));
            }
            (Stage::Rejected, QoS::AtLeastOnce) => peer.send(Packet::PubAck(PubAck {
                reason_code: ReasonCode::QuotaExceeded,
                ..PubAck::new(id)
            })),
            (Stage::Rejected, _) => peer.send(Packet::PubRec(PubRec {
                reason_code: ReasonCode::UnspecifiedError,
                ..PubRec::new(id)
            })),
        }
    }
    expected.extend(released);
    peer.sent();
    let settled = |rejected: bool| -> Vec<Token> {
        plan.iter()
            .zip(&tokens)
            .filter(|((_, stage), _)| matches!(stage, Stage::Rejected) == rejected)
            .map(|(_, t)| *t)
            .collect()
    };
    let rejected: Vec<Token> = outcomes(&peer.events())
        .into_iter()
        .filter(|(_, r)| matches!(r, Err(PublishError::Rejected { .. })))
        .map(|(t, _)| t)
        .collect();
    assert_eq!(rejected, settled(true));

    peer.drop_and_wait_for_reconnect();
    // Long past the messages' expiry.
    peer.advance(60_000);
    let events = peer.connect_with(session_present());
    assert_eq!(peer.sent(), expected);
    assert!(outcomes(&events).is_empty(), "{events:?}");

    // They complete as usual afterwards.
    for packet in expected {
        match packet {
            Packet::Publish(p) if p.qos == QoS::AtLeastOnce => {
                peer.send(Packet::PubAck(PubAck::new(p.packet_id.unwrap())));
            }
            Packet::Publish(p) => {
                peer.send(Packet::PubRec(PubRec::new(p.packet_id.unwrap())));
                peer.send(Packet::PubComp(PubComp::new(p.packet_id.unwrap())));
            }
            Packet::PubRel(r) => peer.send(Packet::PubComp(PubComp::new(r.packet_id))),
            other => panic!("{other:?}"),
        }
    }
    let mut done = outcomes(&peer.events());
    done.sort_by_key(|(t, _)| *t);
    let succeeded: Vec<_> = settled(false)
        .into_iter()
        .map(|t| (t, Ok(ReasonCode::Success)))
        .collect();
    assert_eq!(done, succeeded);
    assert_eq!(peer.session.metrics().in_flight, 0);
}

#[test]
fn without_session_present_unacknowledged_messages_are_requeued_or_lost() {
    // [MQTT-3.2.2-5]: no session on the server, so ours is discarded.
    // The QoS 2 message the server already acknowledged with PUBREC is done.
    for requeue in [true, false] {
        let mut peer = connected(Options {
            requeue_unacked: requeue,
            ..quiet()
        });
        let qos1 = publish_now(&mut peer, publish("a", QoS::AtLeastOnce, b"a"));
        let qos2 = publish_now(&mut peer, publish("b", QoS::ExactlyOnce, b"b"));
        let received = publish_now(&mut peer, publish("c", QoS::ExactlyOnce, b"c"));
        let sent = publishes(&peer.sent());
        peer.send(Packet::PubRec(PubRec::new(sent[2].packet_id.unwrap())));
        peer.sent();
        peer.drop_and_wait_for_reconnect();
        let events = peer.connect_with(ConnAck::default());
        let resent = publishes(&peer.sent());
        let done = outcomes(&events);
        if requeue {
            assert_eq!(done, vec![(received, Ok(ReasonCode::Success))]);
            // Sent as new messages: DUP 0.
            let again: Vec<_> = resent.iter().map(|p| (p.topic.as_str(), p.dup)).collect();
            assert_eq!(again, [("a", false), ("b", false)]);
            assert_eq!(peer.session.metrics().in_flight, 2);
        } else {
            assert_eq!(
                done,
                vec![
                    (qos1, Err(PublishError::SessionLost)),
                    (qos2, Err(PublishError::SessionLost)),
                    (received, Ok(ReasonCode::Success)),
                ]
            );
            assert!(resent.is_empty(), "{resent:?}");
            assert_eq!(peer.session.metrics().in_flight, 0);
        }
    }
}

#[test]
fn inbound_qos2_state_lives_exactly_as_long_as_the_session() {
    // Resumed: the server's re-sent PUBLISH [MQTT-4.4.0-1] is not delivered
    // twice [MQTT-4.3.3-10]. Not resumed: the server forgot it too, so the
    // id starts a new message.
    for (present, delivered_again) in [(true, false), (false, true)] {
        let mut peer = connected(quiet());
        let message = incoming("t", QoS::ExactlyOnce, 5, b"x");
        peer.send(Packet::Publish(message.clone()));
        assert_eq!(messages(&peer.events()).len(), 1);
        peer.sent();
        peer.drop_and_wait_for_reconnect();
        peer.connect_with(ConnAck {
            session_present: present,
            ..ConnAck::default()
        });
        peer.events();
        peer.send(Packet::Publish(Publish {
            dup: present,
            ..message
        }));
        assert_eq!(
            !messages(&peer.events()).is_empty(),
            delivered_again,
            "present={present}"
        );
        assert_eq!(peer.sent(), vec![Packet::PubRec(PubRec::new(pid(5)))]);
    }
}

/// Subscribes to `a/+` (with a Subscription Identifier and a User Property)
/// and to `b` and `c` together, and acknowledges them all.
fn subscribe_three(peer: &mut Peer) -> Vec<(String, SubscriptionOptions, Properties)> {
    let props = Properties {
        subscription_identifiers: vec![3],
        user_properties: vec![("k".into(), "v".into())],
        ..Properties::default()
    };
    let first = Subscription {
        filter: "a/+".into(),
        options: SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: wasmqtt_codec::RetainHandling::DoNotSend,
        },
    };
    peer.session
        .subscribe(peer.now, vec![first.clone()], props.clone())
        .unwrap();
    let rest = vec![
        subscription("b", QoS::AtMostOnce),
        subscription("c", QoS::ExactlyOnce),
    ];
    peer.session
        .subscribe(peer.now, rest.clone(), Properties::default())
        .unwrap();
    for packet in peer.sent() {
        let Packet::Subscribe(s) = packet else {
            panic!("{packet:?}")
        };
        let codes: Vec<_> = s
            .subscriptions
            .iter()
            .map(|_| ReasonCode::Success)
            .collect();
        peer.send(suback(s.packet_id, &codes));
    }
    peer.events();
    let mut expected = vec![(first.filter, first.options, props)];
    for s in rest {
        expected.push((s.filter, s.options, Properties::default()));
    }
    expected
}

#[test]
fn subscriptions_are_restored_only_when_the_server_lost_them() {
    for (resubscribe, present, restored) in [
        (true, false, true),
        (false, false, false),
        (true, true, false),
    ] {
        let mut peer = connected(Options {
            resubscribe,
            ..quiet()
        });
        let expected = subscribe_three(&mut peer);
        publish_now(&mut peer, publish("p", QoS::AtLeastOnce, b""));
        peer.sent();
        peer.drop_and_wait_for_reconnect();
        peer.connect_with(ConnAck {
            session_present: present,
            ..ConnAck::default()
        });
        let sent = peer.sent();
        let mut subscribes = Vec::new();
        for packet in &sent {
            if let Packet::Subscribe(s) = packet {
                // One SUBSCRIBE per filter, with its own options and properties.
                assert_eq!(s.subscriptions.len(), 1);
                let one = s.subscriptions[0].clone();
                subscribes.push((one.filter, one.options, s.properties.clone()));
            }
        }
        let case = format!("resubscribe={resubscribe} present={present}");
        if restored {
            assert_eq!(subscribes, expected, "{case}");
            // Ahead of the message that was waiting.
            assert_eq!(label(sent.last().unwrap()), "PUBLISH p", "{case}");
        } else {
            assert!(subscribes.is_empty(), "{case}: {sent:?}");
        }
        assert_eq!(sent.len(), subscribes.len() + 1, "{case}");
    }
}

#[test]
fn a_restored_subscription_the_server_refuses_is_reported_lost() {
    let mut peer = connected(quiet());
    subscribe_three(&mut peer);
    peer.drop_and_wait_for_reconnect();
    peer.connect_with(ConnAck::default());
    let codes = [
        ("a/+", ReasonCode::NotAuthorized),
        ("b", ReasonCode::GrantedQoS1),
        ("c", ReasonCode::WildcardSubscriptionsNotSupported),
    ];
    for packet in peer.sent() {
        let Packet::Subscribe(s) = packet else {
            panic!("{packet:?}")
        };
        let (_, code) = codes
            .iter()
            .find(|(f, _)| *f == s.subscriptions[0].filter)
            .unwrap();
        peer.send(suback(s.packet_id, &[*code]));
    }
    assert_eq!(
        peer.events(),
        vec![
            Event::SubscriptionLost {
                filter: "a/+".into(),
                reason_code: ReasonCode::NotAuthorized
            },
            Event::SubscriptionLost {
                filter: "c".into(),
                reason_code: ReasonCode::WildcardSubscriptionsNotSupported
            },
        ]
    );
    assert_eq!(registry(&peer), [("b".to_owned(), Some(QoS::AtLeastOnce))]);
}

#[test]
fn unacknowledged_subscribe_and_unsubscribe_are_sent_again_after_any_reconnect() {
    // Nothing else would ever answer them: the server re-sends only PUBLISH
    // and PUBREL [MQTT-4.4.0-1].
    for present in [true, false] {
        let mut peer = connected(quiet());
        let sub = subscribe_to(&mut peer, "x", QoS::AtMostOnce);
        let unsub = unsubscribe_from(&mut peer, "y");
        assert_eq!(labels(&peer.sent()), ["SUBSCRIBE x", "UNSUBSCRIBE y"]);
        peer.drop_and_wait_for_reconnect();
        peer.connect_with(ConnAck {
            session_present: present,
            ..ConnAck::default()
        });
        peer.events();
        let sent = peer.sent();
        assert_eq!(
            labels(&sent),
            ["SUBSCRIBE x", "UNSUBSCRIBE y"],
            "present={present}"
        );
        for packet in sent {
            match packet {
                Packet::Subscribe(s) => peer.send(suback(s.packet_id, &[ReasonCode::Success])),
                Packet::Unsubscribe(u) => {
                    peer.send(unsuback(u.packet_id, &[ReasonCode::NoSubscriptionExisted]));
                }
                other => panic!("{other:?}"),
            }
        }
        let answered: Vec<Token> = peer
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Subscribed { token, .. } | Event::Unsubscribed { token, .. } => Some(token),
                _ => None,
            })
            .collect();
        assert_eq!(answered, [sub, unsub], "present={present}");
        assert!(peer.session.is_connected());
    }
}

// ----- the offline queue -----

/// Queues one of each operation; returns the labels they go out with.
fn queue_one_of_each(peer: &mut Peer) -> Vec<&'static str> {
    publish_now(peer, publish("q0", QoS::AtMostOnce, b""));
    subscribe_to(peer, "s", QoS::AtLeastOnce);
    publish_now(peer, publish("q1", QoS::AtLeastOnce, b""));
    unsubscribe_from(peer, "u");
    publish_now(peer, publish("q2", QoS::ExactlyOnce, b""));
    vec![
        "PUBLISH q0",
        "SUBSCRIBE s",
        "PUBLISH q1",
        "UNSUBSCRIBE u",
        "PUBLISH q2",
    ]
}

#[test]
fn operations_made_offline_wait_and_go_in_order_after_connack() {
    for after_a_drop in [false, true] {
        let mut peer = Peer::new(quiet());
        if after_a_drop {
            peer.connect();
            peer.sent();
            peer.drop_and_wait_for_reconnect();
        }
        let expected = queue_one_of_each(&mut peer);
        assert!(peer.sent().is_empty());
        assert_eq!(peer.session.metrics().queued, expected.len());
        assert!(outcomes(&peer.events()).is_empty());
        // Not before CONNACK either.
        peer.session.connect(peer.now).unwrap();
        assert_eq!(labels(&peer.sent()), ["Connect"]);
        peer.send(Packet::ConnAck(ConnAck::default()));
        assert_eq!(
            labels(&peer.sent()),
            expected,
            "after_a_drop={after_a_drop}"
        );
        assert_eq!(peer.session.metrics().queued, 0);
        // The QoS 0 message is done once handed to the transport.
        assert_eq!(outcomes(&peer.events()).len(), 1);
    }
}

#[test]
fn the_offline_queue_is_bounded_and_qos0_waits_only_when_allowed() {
    for queue_qos0 in [true, false] {
        let mut peer = Peer::new(Options {
            queue_limit: 2,
            queue_qos0,
            ..quiet()
        });
        let now = peer.now;
        let qos0 = peer
            .session
            .publish(now, publish("a", QoS::AtMostOnce, b""));
        if queue_qos0 {
            assert!(qos0.is_ok());
        } else {
            assert_eq!(qos0, Err(UsageError::NotConnected));
        }
        publish_now(&mut peer, publish("b", QoS::AtLeastOnce, b""));
        if !queue_qos0 {
            subscribe_to(&mut peer, "c", QoS::AtMostOnce);
        }
        let full = Err(UsageError::QueueFull { limit: 2 });
        assert_eq!(
            peer.session
                .publish(now, publish("d", QoS::AtLeastOnce, b"")),
            full
        );
        assert_eq!(
            peer.session
                .unsubscribe(now, vec!["e".into()], Properties::default()),
            full
        );
        assert_eq!(peer.session.metrics().queued, 2);
        peer.connect();
        assert_eq!(peer.sent().len(), 2, "queue_qos0={queue_qos0}");
    }
}

#[test]
fn a_waiting_message_expires_at_its_deadline_even_offline() {
    // The client's side of [MQTT-3.3.2-5] and [MQTT-3.3.2-6]: a message that
    // waited past its Message Expiry Interval is dropped, one that did not
    // goes out with what is left of it.
    let mut peer = Peer::new(quiet());
    let start = peer.now;
    let s = &mut peer.session;
    let a = s
        .publish(start, with_expiry(publish("a", QoS::AtLeastOnce, b""), 10))
        .unwrap();
    let b = s
        .publish(start, with_expiry(publish("b", QoS::AtMostOnce, b""), 20))
        .unwrap();
    s.publish(start, with_expiry(publish("c", QoS::ExactlyOnce, b""), 100))
        .unwrap();
    s.publish(start, publish("d", QoS::AtLeastOnce, b""))
        .unwrap();
    assert_eq!(peer.session.poll_timeout(), Some(start + 10_000));
    peer.advance(9_999);
    assert!(peer.events().is_empty());
    peer.advance(1);
    assert_eq!(
        outcomes(&peer.events()),
        vec![(a, Err(PublishError::Expired))]
    );
    assert_eq!(peer.session.poll_timeout(), Some(start + 20_000));
    peer.advance(10_000);
    assert_eq!(
        outcomes(&peer.events()),
        vec![(b, Err(PublishError::Expired))]
    );
    assert_eq!(peer.session.poll_timeout(), Some(start + 100_000));

    peer.advance(10_500);
    peer.connect();
    let sent: Vec<_> = publishes(&peer.sent())
        .into_iter()
        .map(|p| {
            (
                p.topic.as_str().to_owned(),
                p.properties.message_expiry_interval,
            )
        })
        .collect();
    assert_eq!(
        sent,
        [("c".to_owned(), Some(70)), ("d".to_owned(), None)],
        "30.5 s waited: 70 s of 100 left"
    );
}

#[test]
fn a_message_past_its_expiry_is_not_sent_when_the_timer_runs_late() {
    // Browsers throttle timers in background tabs: the CONNACK may be
    // handled before the expiry timer fired.
    let mut peer = Peer::new(quiet());
    let late = peer
        .session
        .publish(
            peer.now,
            with_expiry(publish("late", QoS::AtLeastOnce, b""), 5),
        )
        .unwrap();
    peer.session
        .publish(
            peer.now,
            with_expiry(publish("fresh", QoS::AtLeastOnce, b""), 10),
        )
        .unwrap();
    peer.now += 6_000;
    let events = peer.connect();
    let sent: Vec<_> = publishes(&peer.sent())
        .into_iter()
        .map(|p| {
            (
                p.topic.as_str().to_owned(),
                p.properties.message_expiry_interval,
            )
        })
        .collect();
    assert_eq!(sent, [("fresh".to_owned(), Some(4))]);
    assert_eq!(outcomes(&events), vec![(late, Err(PublishError::Expired))]);
}

#[test]
fn a_message_that_cannot_be_encoded_is_refused_before_it_is_queued() {
    let not_in_publish = EncodeError::PropertyNotAllowed {
        property: PropertyId::SessionExpiryInterval,
        packet: PacketType::Publish,
    };
    let mut bad_property = publish("t", QoS::AtLeastOnce, b"");
    bad_property.properties.session_expiry_interval = Some(1);
    let mut nul = publish("t", QoS::AtMostOnce, b"");
    nul.properties.user_properties = vec![("k".into(), "a\0b".into())];
    for online in [false, true] {
        let mut peer = Peer::new(quiet());
        if online {
            peer.connect();
        }
        let cases = [
            (bad_property.clone(), not_in_publish.clone()),
            (nul.clone(), EncodeError::NullCharacter),
        ];
        for (message, error) in cases {
            assert_eq!(
                peer.session.publish(peer.now, message),
                Err(UsageError::Encode(error)),
                "online={online}"
            );
        }
        assert_eq!(peer.session.metrics().queued, 0);
        let mut events = peer.events();
        if !online {
            events = peer.connect();
        }
        assert!(publishes(&peer.sent()).is_empty());
        assert!(outcomes(&events).is_empty());
    }
}

#[test]
fn a_requeued_message_keeps_counting_down_its_expiry() {
    // Sent again as a new message after the session was lost, it is not
    // fresh: the time since it was first sent counts [MQTT-3.3.2-6].
    let mut peer = connected(quiet());
    let start = peer.now;
    let short = publish_now(
        &mut peer,
        with_expiry(publish("short", QoS::AtLeastOnce, b""), 10),
    );
    publish_now(
        &mut peer,
        with_expiry(publish("long", QoS::ExactlyOnce, b""), 100),
    );
    peer.sent();
    peer.drop_and_wait_for_reconnect();
    peer.advance(30_000);
    let waited = u32::try_from((peer.now - start) / 1000).unwrap();
    let events = peer.connect_with(ConnAck::default());
    assert_eq!(outcomes(&events), vec![(short, Err(PublishError::Expired))]);
    let sent: Vec<_> = publishes(&peer.sent())
        .into_iter()
        .map(|p| {
            (
                p.topic.as_str().to_owned(),
                p.dup,
                p.properties.message_expiry_interval,
            )
        })
        .collect();
    assert_eq!(sent, [("long".to_owned(), false, Some(100 - waited))]);
}

#[test]
fn pubrels_are_resent_in_pubrec_order_mqtt_4_6_0_4() {
    let mut peer = connected(quiet());
    for i in 0..4u8 {
        publish_now(&mut peer, publish("t", QoS::ExactlyOnce, &[i]));
    }
    peer.sent();
    // PUBRECs out of publish order: PUBRELs go out in theirs.
    for id in [3, 1, 4] {
        peer.send(Packet::PubRec(PubRec::new(pid(id))));
    }
    let rels: Vec<_> = peer.sent();
    assert_eq!(
        rels,
        [3, 1, 4].map(|id| Packet::PubRel(PubRel::new(pid(id))))
    );
    peer.drop_and_wait_for_reconnect();
    peer.connect_with(session_present());
    let resent: Vec<String> = peer
        .sent()
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => format!("PUBLISH {}", p.packet_id.unwrap().get()),
            Packet::PubRel(r) => format!("PUBREL {}", r.packet_id.get()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(resent, ["PUBLISH 2", "PUBREL 3", "PUBREL 1", "PUBREL 4"]);
}
