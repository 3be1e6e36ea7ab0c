//! Topic Aliases (section 3.3.2.3.4) in both directions: per connection,
//! within each side's Topic Alias Maximum.
mod common;

use common::*;
use wasmqtt_codec::{
    ConnAck, DecodeError, Packet, ProtocolVersion, Publish, QoS, ReasonCode, TopicName,
};
use wasmqtt_session::{Options, ProtocolError};

/// A session that accepts up to `maximum` aliases from the server.
fn accepting(maximum: Option<u16>) -> Peer {
    let mut options = Options::default();
    options.properties.topic_alias_maximum = maximum;
    let mut peer = connected(options);
    peer.events();
    peer
}

/// A QoS 0 PUBLISH from the server to `topic` (empty for none) with `alias`.
fn aliased(topic: &str, alias: u16, payload: &[u8]) -> Packet {
    Packet::Publish(Publish {
        topic: if topic.is_empty() {
            TopicName::default()
        } else {
            TopicName::new(topic).unwrap()
        },
        properties: wasmqtt_codec::Properties {
            topic_alias: Some(alias),
            ..Default::default()
        },
        payload: bytes::Bytes::copy_from_slice(payload),
        ..Publish::default()
    })
}

#[test]
fn inbound_aliases_are_set_by_topic_and_alias_then_resolve_alone() {
    // [MQTT-3.3.2-10]: every alias from 1 to our maximum is accepted.
    let mut peer = accepting(Some(3));
    let steps = [
        ("a/b", 1, "a/b"),
        ("", 1, "a/b"),
        ("c", 3, "c"),
        ("", 3, "c"),
        // A new topic for an alias replaces the old one.
        ("d", 1, "d"),
        ("", 1, "d"),
        ("", 3, "c"),
    ];
    for (i, (topic, alias, resolved)) in steps.into_iter().enumerate() {
        let payload = [i as u8];
        peer.send(aliased(topic, alias, &payload));
        // The application sees the topic and no alias.
        let expected = publish(resolved, QoS::AtMostOnce, &payload);
        assert_eq!(messages(&peer.events()), vec![expected], "step {i}");
    }
    assert!(peer.session.is_connected());
}

#[test]
fn bad_inbound_aliases_are_protocol_errors() {
    let cases: [(Option<u16>, Packet, ReasonCode, ProtocolError); 4] = [
        // [MQTT-3.3.2-11]: not above the maximum we sent.
        (
            Some(3),
            aliased("a", 4, b""),
            ReasonCode::TopicAliasInvalid,
            ProtocolError::TopicAliasInvalid(4),
        ),
        // [MQTT-3.1.2-30]: none at all when we sent no maximum.
        (
            None,
            aliased("a", 1, b""),
            ReasonCode::TopicAliasInvalid,
            ProtocolError::TopicAliasInvalid(1),
        ),
        (
            Some(0),
            aliased("a", 1, b""),
            ReasonCode::TopicAliasInvalid,
            ProtocolError::TopicAliasInvalid(1),
        ),
        // An alias never set on this connection.
        (
            Some(3),
            aliased("", 2, b""),
            ReasonCode::ProtocolError,
            ProtocolError::TopicAliasUnknown(2),
        ),
    ];
    for (maximum, packet, code, error) in cases {
        let mut peer = accepting(maximum);
        peer.send(packet);
        assert_closed_for_protocol_error(&mut peer, code, error);
    }
}

#[test]
fn malformed_aliases_are_protocol_errors() {
    let cases: [(&[u8], ReasonCode, DecodeError); 2] = [
        // [MQTT-3.3.2-8]: alias 0.
        (
            &[0x30, 0x07, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x00],
            ReasonCode::TopicAliasInvalid,
            DecodeError::TopicAliasZero,
        ),
        // [MQTT-3.3.2-1]: an empty topic needs an alias.
        (
            &[0x30, 0x03, 0x00, 0x00, 0x00],
            ReasonCode::ProtocolError,
            DecodeError::EmptyTopicWithoutAlias,
        ),
    ];
    for (bytes, code, error) in cases {
        let mut peer = accepting(Some(3));
        peer.send_raw(bytes);
        assert_closed_for_protocol_error(&mut peer, code, ProtocolError::Decode(error));
    }
}

#[test]
fn inbound_aliases_do_not_outlive_the_connection() {
    // [MQTT-3.3.2-7], whether or not the session is resumed.
    for present in [true, false] {
        let mut peer = accepting(Some(3));
        peer.send(aliased("a", 1, b""));
        assert_eq!(messages(&peer.events()).len(), 1);
        peer.drop_and_wait_for_reconnect();
        peer.connect_with(ConnAck {
            session_present: present,
            ..ConnAck::default()
        });
        peer.sent();
        peer.send(aliased("", 1, b""));
        assert_closed_for_protocol_error(
            &mut peer,
            ReasonCode::ProtocolError,
            ProtocolError::TopicAliasUnknown(1),
        );
    }
}

fn auto_alias(version: ProtocolVersion) -> Options {
    Options {
        protocol_version: version,
        auto_topic_alias: true,
        keep_alive: 0,
        ..Options::default()
    }
}

fn server_maximum(maximum: Option<u16>) -> ConnAck {
    connack_with(|p| p.topic_alias_maximum = maximum)
}

/// Each PUBLISH as (topic, Topic Alias).
fn topics_and_aliases(sent: &[Publish]) -> Vec<(String, Option<u16>)> {
    sent.iter()
        .map(|p| (p.topic.as_str().to_owned(), p.properties.topic_alias))
        .collect()
}

fn sent_as(pairs: &[(&str, Option<u16>)]) -> Vec<(String, Option<u16>)> {
    pairs.iter().map(|(t, a)| ((*t).to_owned(), *a)).collect()
}

#[test]
fn outbound_aliases_send_the_topic_once_within_the_server_maximum() {
    // [MQTT-3.3.2-9] [MQTT-3.2.2-17]: never above the server's maximum.
    let mut peer = Peer::new(auto_alias(ProtocolVersion::V5));
    peer.connect_with(server_maximum(Some(2)));
    for (i, topic) in ["a", "b", "c", "a", "b", "c", "a"].iter().enumerate() {
        publish_now(&mut peer, publish(topic, QoS::AtMostOnce, &[i as u8]));
    }
    assert_eq!(
        topics_and_aliases(&publishes(&peer.sent())),
        sent_as(&[
            ("a", Some(1)),
            ("b", Some(2)),
            ("c", None),
            ("", Some(1)),
            ("", Some(2)),
            ("c", None),
            ("", Some(1)),
        ])
    );
}

#[test]
fn no_outbound_aliases_unless_enabled_and_allowed() {
    // [MQTT-3.2.2-18]: none when the server's maximum is absent or 0.
    let cases = [
        (ProtocolVersion::V5, true, None),
        (ProtocolVersion::V5, true, Some(0)),
        (ProtocolVersion::V5, false, Some(5)),
        (ProtocolVersion::V311, true, None),
    ];
    for (version, auto, maximum) in cases {
        let mut peer = Peer::new(Options {
            auto_topic_alias: auto,
            ..auto_alias(version)
        });
        peer.connect_with(server_maximum(maximum));
        for _ in 0..2 {
            publish_now(&mut peer, publish("a", QoS::AtLeastOnce, b""));
        }
        assert_eq!(
            topics_and_aliases(&publishes(&peer.sent())),
            sent_as(&[("a", None), ("a", None)]),
            "{version:?} auto={auto} maximum={maximum:?}"
        );
    }
}

#[test]
fn outbound_aliases_start_over_on_a_new_connection() {
    // [MQTT-3.3.2-7]: the server forgot them, so the first use on the new
    // connection, a DUP re-send included, carries the topic again, within
    // the new connection's maximum.
    let cases = [
        (
            Some(2),
            vec![("a", Some(1)), ("", Some(1)), ("b", Some(2)), ("", Some(2))],
        ),
        (
            Some(1),
            vec![("a", Some(1)), ("", Some(1)), ("b", None), ("b", None)],
        ),
        (
            None,
            vec![("a", None), ("a", None), ("b", None), ("b", None)],
        ),
    ];
    for (maximum, expected) in cases {
        let mut peer = Peer::new(auto_alias(ProtocolVersion::V5));
        peer.connect_with(server_maximum(Some(2)));
        for topic in ["a", "a", "b"] {
            publish_now(&mut peer, publish(topic, QoS::AtLeastOnce, b""));
        }
        assert_eq!(
            topics_and_aliases(&publishes(&peer.sent())),
            sent_as(&[("a", Some(1)), ("", Some(1)), ("b", Some(2))])
        );
        peer.drop_and_wait_for_reconnect();
        peer.connect_with(ConnAck {
            session_present: true,
            ..server_maximum(maximum)
        });
        publish_now(&mut peer, publish("b", QoS::AtLeastOnce, b""));
        let sent = publishes(&peer.sent());
        let dups: Vec<bool> = sent.iter().map(|p| p.dup).collect();
        assert_eq!(dups, [true, true, true, false]);
        let pairs = topics_and_aliases(&sent);
        assert_eq!(pairs, sent_as(&expected), "maximum={maximum:?}");
    }
}
