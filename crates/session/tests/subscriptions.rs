//! SUBSCRIBE / UNSUBSCRIBE, the registry of subscriptions, and dispatching
//! messages to the subscriptions they belong to.
mod common;

use common::*;
use wasmqtt_codec::{
    ConnAck, Packet, Properties, ProtocolVersion, PubAck, QoS, ReasonCode, RetainHandling,
    Subscribe, Subscription, SubscriptionOptions, TopicError, Unsubscribe,
};
use wasmqtt_session::{Event, Options, ProtocolError, UsageError};

fn options_v(version: ProtocolVersion) -> Options {
    Options {
        protocol_version: version,
        keep_alive: 0,
        ..Options::default()
    }
}

fn with_id(id: u32) -> Properties {
    Properties {
        subscription_identifiers: vec![id],
        ..Properties::default()
    }
}

/// Subscribes to each filter with its own SUBSCRIBE and `properties`, and
/// grants them all.
fn subscribed(peer: &mut Peer, subs: &[(&str, Properties)]) {
    for (filter, properties) in subs {
        peer.session
            .subscribe(
                peer.now,
                vec![subscription(filter, QoS::AtLeastOnce)],
                properties.clone(),
            )
            .unwrap();
    }
    for packet in peer.sent() {
        let Packet::Subscribe(s) = packet else {
            panic!("{packet:?}")
        };
        peer.send(suback(s.packet_id, &[ReasonCode::GrantedQoS1]));
    }
    peer.events();
}

#[test]
fn subscribe_carries_options_and_properties_and_suback_settles_each_filter() {
    let mut peer = connected(options_v(ProtocolVersion::V5));
    let properties = Properties {
        subscription_identifiers: vec![42],
        user_properties: vec![("app".into(), "dash".into())],
        ..Properties::default()
    };
    let subscriptions = vec![
        Subscription {
            filter: "a/+".into(),
            options: SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                no_local: true,
                retain_as_published: false,
                retain_handling: RetainHandling::SendAtSubscribeIfNew,
            },
        },
        Subscription {
            filter: "b/#".into(),
            options: SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                no_local: false,
                retain_as_published: true,
                retain_handling: RetainHandling::DoNotSend,
            },
        },
        subscription("$share/g/c", QoS::AtMostOnce),
    ];
    let token = peer
        .session
        .subscribe(peer.now, subscriptions.clone(), properties.clone())
        .unwrap();
    assert_eq!(
        peer.sent(),
        vec![Packet::Subscribe(Subscribe {
            packet_id: pid(1),
            properties: properties.clone(),
            subscriptions: subscriptions.clone(),
        })]
    );
    // Known before the acknowledgement, with what they were made with.
    let entries: Vec<_> = peer.session.subscriptions().cloned().collect();
    assert_eq!(entries.len(), 3);
    for e in &entries {
        let s = subscriptions
            .iter()
            .find(|s| s.filter == e.filter.as_str())
            .unwrap();
        assert_eq!(
            (e.options, &e.properties, e.granted),
            (s.options, &properties, None)
        );
        assert_eq!(e.subscription_identifier(), Some(42));
    }

    // [MQTT-3.8.4-6] [MQTT-3.9.3-1]: one reason code per filter, in order.
    let codes = [
        ReasonCode::GrantedQoS1,
        ReasonCode::NotAuthorized,
        ReasonCode::Success,
    ];
    let ack_properties = Properties {
        reason_string: Some("b/# refused".into()),
        ..Properties::default()
    };
    peer.send(Packet::SubAck(wasmqtt_codec::SubAck {
        packet_id: pid(1),
        properties: ack_properties.clone(),
        reason_codes: codes.to_vec(),
    }));
    assert_eq!(
        peer.events(),
        vec![Event::Subscribed {
            token,
            reason_codes: codes.to_vec(),
            properties: ack_properties,
        }]
    );
    // [MQTT-3.8.4-7]: the code is the granted QoS, or the filter failed.
    assert_eq!(
        registry(&peer),
        [
            ("$share/g/c".to_owned(), Some(QoS::AtMostOnce)),
            ("a/+".to_owned(), Some(QoS::AtLeastOnce)),
        ]
    );
}

#[test]
fn acknowledgements_with_the_wrong_number_of_reason_codes_are_protocol_errors() {
    // [MQTT-3.8.4-6] [MQTT-3.11.3-1]
    let two = || vec!["a".to_owned(), "b".to_owned()];
    for got in [1, 3] {
        for unsubscribing in [false, true] {
            let mut peer = connected(options_v(ProtocolVersion::V5));
            if unsubscribing {
                peer.session
                    .unsubscribe(peer.now, two(), Properties::default())
                    .unwrap();
            } else {
                let subs = two()
                    .iter()
                    .map(|f| subscription(f, QoS::AtMostOnce))
                    .collect();
                peer.session
                    .subscribe(peer.now, subs, Properties::default())
                    .unwrap();
            }
            peer.sent();
            peer.events();
            let codes = vec![ReasonCode::Success; got];
            peer.send(if unsubscribing {
                unsuback(pid(1), &codes)
            } else {
                suback(pid(1), &codes)
            });
            assert_closed_for_protocol_error(
                &mut peer,
                ReasonCode::ProtocolError,
                ProtocolError::ReasonCodeCount { expected: 2, got },
            );
        }
    }
}

#[test]
fn unsubscribe_removes_filters_on_unsuback() {
    // MQTT 3.1.1 UNSUBACK has no reason codes: Success for each filter.
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let v5 = version == ProtocolVersion::V5;
        let mut peer = connected(options_v(version));
        let none = Properties::default;
        subscribed(&mut peer, &[("a", none()), ("b", none()), ("c", none())]);
        let properties = if v5 {
            Properties {
                user_properties: vec![("why".into(), "done".into())],
                ..Properties::default()
            }
        } else {
            none()
        };
        let filters = vec!["a".to_owned(), "b".to_owned()];
        let token = peer
            .session
            .unsubscribe(peer.now, filters.clone(), properties.clone())
            .unwrap();
        let id = pid(4);
        assert_eq!(
            peer.sent(),
            vec![Packet::Unsubscribe(Unsubscribe {
                packet_id: id,
                properties,
                filters,
            })]
        );
        // Still subscribed until the server says otherwise.
        assert_eq!(registry(&peer).len(), 3);
        let sent_codes = [ReasonCode::Success, ReasonCode::NoSubscriptionExisted];
        peer.send(unsuback(id, if v5 { &sent_codes } else { &[] }));
        let reason_codes = if v5 {
            sent_codes.to_vec()
        } else {
            vec![ReasonCode::Success; 2]
        };
        assert_eq!(
            peer.events(),
            vec![Event::Unsubscribed {
                token,
                reason_codes,
                properties: Properties::default(),
            }],
            "{version:?}"
        );
        assert_eq!(
            registry(&peer),
            [("c".to_owned(), Some(QoS::AtLeastOnce))],
            "{version:?}"
        );
    }
}

#[test]
fn messages_are_matched_by_subscription_identifier_else_by_topic() {
    let mut peer = connected(options_v(ProtocolVersion::V5));
    let none = Properties::default;
    subscribed(
        &mut peer,
        &[
            ("a/+", with_id(1)),
            ("a/b", none()),
            ("$share/g/a/#", with_id(2)),
            ("#", none()),
            ("$SYS/#", none()),
            ("+/b", with_id(3)),
        ],
    );
    let cases: [(&str, &[u32], &[&str]); 7] = [
        // [MQTT-3.3.4-3]: a server sends the identifiers of every matching
        // subscription that has one, so a copy without any is for those
        // without one (mosquitto sends one copy per subscription).
        ("a/b", &[], &["#", "a/b"]),
        // Identifiers name the subscriptions that have one; those without
        // are matched by topic, the inner filter of a shared one.
        ("a/b", &[1], &["#", "a/+", "a/b"]),
        ("a/b", &[2, 3], &["#", "$share/g/a/#", "+/b", "a/b"]),
        ("x", &[1], &["#", "a/+"]),
        ("x", &[], &["#"]),
        // [MQTT-4.7.2-1]: filters starting with a wildcard miss `$` topics.
        ("$SYS/b", &[], &["$SYS/#"]),
        ("c/d", &[], &["#"]),
    ];
    for (topic, ids, expected) in cases {
        let mut message = incoming(topic, QoS::AtMostOnce, 0, b"");
        message.properties.subscription_identifiers = ids.to_vec();
        let mut got: Vec<&str> = peer
            .session
            .matching_subscriptions(&message)
            .map(|e| e.filter.as_str())
            .collect();
        got.sort_unstable();
        assert_eq!(got, expected, "{topic} {ids:?}");
    }
}

/// What CONNACK says, a filter, the SUBSCRIBE properties, and the error.
type LimitCase = (fn(&mut Properties), &'static str, Properties, UsageError);

#[test]
fn features_the_server_lacks_are_usage_errors() {
    let cases: [LimitCase; 4] = [
        (
            |p| p.wildcard_subscription_available = Some(false),
            "a/+",
            Properties::default(),
            UsageError::WildcardNotSupported,
        ),
        (
            |p| p.wildcard_subscription_available = Some(false),
            "$share/g/a/#",
            Properties::default(),
            UsageError::WildcardNotSupported,
        ),
        (
            |p| p.shared_subscription_available = Some(false),
            "$share/g/a",
            Properties::default(),
            UsageError::SharedNotSupported,
        ),
        (
            |p| p.subscription_identifier_available = Some(false),
            "a",
            with_id(5),
            UsageError::SubscriptionIdentifierNotSupported,
        ),
    ];
    // A filter the server cannot take spoils the whole SUBSCRIBE.
    for (limits, filter, properties, error) in cases {
        let mut peer = Peer::new(options_v(ProtocolVersion::V5));
        peer.connect_with(connack_with(limits));
        let subs = vec![
            subscription("plain", QoS::AtMostOnce),
            subscription(filter, QoS::AtMostOnce),
        ];
        assert_eq!(
            peer.session.subscribe(peer.now, subs, properties),
            Err(error.clone()),
            "{filter}"
        );
        assert!(peer.sent().is_empty(), "{error:?}");
        assert!(registry(&peer).is_empty(), "{error:?}");
        assert!(peer.session.is_connected());
        // What the server can take still goes through.
        subscribe_to(&mut peer, "plain", QoS::AtMostOnce);
        assert_eq!(peer.sent().len(), 1);
    }
}

#[test]
fn invalid_filters_and_empty_requests_are_usage_errors() {
    let cases = [
        ("a/#/b", TopicError::MisplacedMultiLevelWildcard),
        ("a+", TopicError::MisplacedSingleLevelWildcard),
        ("", TopicError::Empty),
        ("a\0", TopicError::NullCharacter),
        ("$share/g", TopicError::EmptySharedFilter),
        ("$share//a", TopicError::InvalidShareName),
    ];
    let mut peer = connected(options_v(ProtocolVersion::V5));
    let now = peer.now;
    for (filter, error) in cases {
        let subs = vec![
            subscription("ok", QoS::AtMostOnce),
            subscription(filter, QoS::AtMostOnce),
        ];
        assert_eq!(
            peer.session.subscribe(now, subs, Properties::default()),
            Err(UsageError::InvalidFilter(error)),
            "{filter:?}"
        );
        assert_eq!(
            peer.session
                .unsubscribe(now, vec!["ok".into(), filter.into()], Properties::default()),
            Err(UsageError::InvalidFilter(error)),
            "{filter:?}"
        );
    }
    assert_eq!(
        peer.session.subscribe(now, vec![], Properties::default()),
        Err(UsageError::NoFilters)
    );
    assert_eq!(
        peer.session.unsubscribe(now, vec![], Properties::default()),
        Err(UsageError::NoFilters)
    );
    assert!(peer.sent().is_empty());
    assert!(registry(&peer).is_empty());

    // MQTT 3.1.1 has no SUBSCRIBE properties.
    let mut old = connected(options_v(ProtocolVersion::V311));
    assert_eq!(
        old.session.subscribe(
            old.now,
            vec![subscription("a", QoS::AtMostOnce)],
            with_id(1)
        ),
        Err(UsageError::NotInV311)
    );
    assert!(old.sent().is_empty());
}

#[test]
fn subscribing_offline_sends_after_connack() {
    let mut peer = Peer::new(options_v(ProtocolVersion::V5));
    let token = peer
        .session
        .subscribe(
            peer.now,
            vec![subscription("a/#", QoS::AtLeastOnce)],
            with_id(9),
        )
        .unwrap();
    assert!(peer.sent().is_empty());
    assert_eq!(registry(&peer), [("a/#".to_owned(), None)]);
    peer.session.connect(peer.now).unwrap();
    assert!(matches!(peer.sent().as_slice(), [Packet::Connect(_)]));
    peer.send(Packet::ConnAck(Default::default()));
    let sent = peer.sent();
    let [Packet::Subscribe(s)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(s.properties, with_id(9));
    peer.send(suback(s.packet_id, &[ReasonCode::GrantedQoS1]));
    assert!(peer
        .events()
        .iter()
        .any(|e| matches!(e, Event::Subscribed { token: t, .. } if *t == token)));
    assert_eq!(
        registry(&peer),
        [("a/#".to_owned(), Some(QoS::AtLeastOnce))]
    );
}

#[test]
fn subscribe_does_not_wait_behind_publishes_out_of_send_quota() {
    // [MQTT-3.3.4-8]: only PUBLISH waits for quota [MQTT-4.9.0-2]; the
    // waiting PUBLISH keep their order, QoS 0 included.
    let mut peer = Peer::new(options_v(ProtocolVersion::V5));
    peer.connect_with(connack_with(|p| p.receive_maximum = Some(1)));
    for topic in ["p1", "p2"] {
        publish_now(&mut peer, publish(topic, QoS::AtLeastOnce, b""));
    }
    publish_now(&mut peer, publish("p0", QoS::AtMostOnce, b""));
    subscribe_to(&mut peer, "s", QoS::AtMostOnce);
    unsubscribe_from(&mut peer, "u");
    let first = peer.sent();
    let kinds: Vec<_> = first.iter().map(Packet::packet_type).collect();
    use wasmqtt_codec::PacketType::{Publish, Subscribe as Sub, Unsubscribe as Unsub};
    assert_eq!(kinds, [Publish, Sub, Unsub]);
    let p1 = publishes(&first)[0].clone();
    assert_eq!(p1.topic.as_str(), "p1");
    peer.send(Packet::PubAck(PubAck::new(p1.packet_id.unwrap())));
    let topics: Vec<_> = publishes(&peer.sent())
        .iter()
        .map(|p| p.topic.as_str().to_owned())
        .collect();
    assert_eq!(topics, ["p2", "p0"]);
}

#[test]
fn unsendable_or_unqueueable_subscribes_leave_no_trace() {
    // [MQTT-3.8.3-4]: No Local on a shared subscription can never be sent.
    let mut peer = Peer::new(Options {
        queue_limit: 0,
        ..Options::default()
    });
    let shared_no_local = wasmqtt_codec::Subscription {
        filter: "$share/g/a".into(),
        options: wasmqtt_codec::SubscriptionOptions {
            no_local: true,
            ..Default::default()
        },
    };
    let now = peer.now;
    assert!(matches!(
        peer.session
            .subscribe(now, vec![shared_no_local], Default::default()),
        Err(UsageError::Encode(_))
    ));
    // Offline with a zero-length queue: refused, and not registered either.
    let plain = wasmqtt_codec::Subscription {
        filter: "a/b".into(),
        options: Default::default(),
    };
    assert!(matches!(
        peer.session.subscribe(now, vec![plain], Default::default()),
        Err(UsageError::QueueFull { limit: 0 })
    ));
    assert_eq!(peer.session.subscriptions().count(), 0);
}

/// Filters too long for a Maximum Packet Size of 32: as SUBSCRIBE, 54
/// bytes for `LONG`; as UNSUBSCRIBE, 53.
const LONG: &str = "sensors/building-7/floor-3/room-12/temperature";
const LONG_TOO: &str = "sensors/building-7/floor-3/room-12/humidity";

fn max_packet_size(max: u32) -> ConnAck {
    connack_with(|p| p.maximum_packet_size = Some(max))
}

#[test]
fn subscribe_and_unsubscribe_over_the_server_maximum_packet_size_are_refused() {
    // [MQTT-3.2.2-15]: the client must not send a packet larger than the
    // server's Maximum Packet Size.
    let mut peer = Peer::new(options_v(ProtocolVersion::V5));
    peer.connect_with(max_packet_size(32));
    peer.sent();
    let now = peer.now;
    assert_eq!(
        peer.session.subscribe(
            now,
            vec![subscription(LONG, QoS::AtLeastOnce)],
            Properties::default()
        ),
        Err(UsageError::PacketTooLarge { size: 54, max: 32 })
    );
    assert_eq!(
        peer.session
            .unsubscribe(now, vec![LONG.into()], Properties::default()),
        Err(UsageError::PacketTooLarge { size: 53, max: 32 })
    );
    // Nothing sent or registered, and the connection is still up.
    assert!(peer.sent().is_empty());
    assert!(registry(&peer).is_empty());
    assert!(peer.session.is_connected());
    // Exactly the limit is allowed: 2 (fixed header) + 2 (id) + 1
    // (property length) + 2 + 24 (filter) + 1 (options) = 32.
    let fits = "a".repeat(24);
    subscribe_to(&mut peer, &fits, QoS::AtMostOnce);
    let sent = peer.sent();
    let [Packet::Subscribe(s)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(Packet::Subscribe(s.clone()).encoded_len(peer.version), 32);
}

#[test]
fn a_queued_subscribe_or_unsubscribe_too_large_for_a_new_connack_is_refused_not_sent() {
    // [MQTT-3.2.2-15]: the CONNACK after a reconnect lowers the Maximum
    // Packet Size below what waited in the queue. Those are settled as
    // refused with Packet too large for every filter instead of being
    // sent; what fits still goes out.
    let mut peer = connected(options_v(ProtocolVersion::V5));
    subscribed(&mut peer, &[(LONG, Properties::default())]);
    peer.drop_and_wait_for_reconnect();
    let unsubscribe = unsubscribe_from(&mut peer, LONG);
    let subscribe = subscribe_to(&mut peer, LONG_TOO, QoS::AtLeastOnce);
    subscribe_to(&mut peer, "short", QoS::AtLeastOnce);
    let events = peer.connect_with(ConnAck {
        session_present: true,
        ..max_packet_size(32)
    });
    let sent = peer.sent();
    let [Packet::Subscribe(s)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(s.subscriptions, [subscription("short", QoS::AtLeastOnce)]);
    assert_eq!(
        events[1..],
        [
            Event::Unsubscribed {
                token: unsubscribe,
                reason_codes: vec![ReasonCode::PacketTooLarge],
                properties: Properties::default(),
            },
            Event::Subscribed {
                token: subscribe,
                reason_codes: vec![ReasonCode::PacketTooLarge],
                properties: Properties::default(),
            },
        ]
    );
    // The UNSUBSCRIBE never left, so its subscription stays; the refused
    // SUBSCRIBE is not registered.
    assert_eq!(
        registry(&peer),
        [
            (LONG.to_owned(), Some(QoS::AtLeastOnce)),
            ("short".to_owned(), None)
        ]
    );
    assert!(peer.session.is_connected());
    peer.send(suback(s.packet_id, &[ReasonCode::GrantedQoS1]));
    assert!(matches!(
        peer.events().as_slice(),
        [Event::Subscribed { reason_codes, .. }] if reason_codes == &[ReasonCode::GrantedQoS1]
    ));
}

#[test]
fn a_restored_subscription_too_large_for_the_new_connack_is_reported_lost() {
    // [MQTT-3.2.2-15]: the server lost our session and now takes smaller
    // packets than the SUBSCRIBE that restores a subscription.
    let mut peer = connected(options_v(ProtocolVersion::V5));
    subscribed(
        &mut peer,
        &[(LONG, Properties::default()), ("b", Properties::default())],
    );
    peer.drop_and_wait_for_reconnect();
    let events = peer.connect_with(max_packet_size(32));
    let sent = peer.sent();
    let [Packet::Subscribe(s)] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(s.subscriptions[0].filter, "b");
    assert_eq!(
        events[1..],
        [Event::SubscriptionLost {
            filter: LONG.into(),
            reason_code: ReasonCode::PacketTooLarge,
        }]
    );
    assert_eq!(registry(&peer), [("b".to_owned(), Some(QoS::AtLeastOnce))]);
}
