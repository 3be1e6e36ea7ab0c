//! Opening a connection: the CONNECT the options build, the CONNACK
//! outcomes, the server's limits, and the connect timeout.
mod common;

use bytes::Bytes;
use common::*;
use wasmqtt_codec::{
    ConnAck, Connect, Packet, PayloadFormatIndicator, Properties, ProtocolVersion, QoS, ReasonCode,
    TopicName, Will,
};
use wasmqtt_session::{ConnectionError, Event, Options, ProtocolError, ServerLimits, UsageError};

fn user_properties() -> Vec<(String, String)> {
    vec![
        ("app".into(), "dashboard".into()),
        ("app".into(), "second value, same name".into()),
    ]
}

/// Options with every CONNECT field and property set to something not default.
fn full_options() -> Options {
    Options {
        client_id: "dash-1".into(),
        username: Some("alice".into()),
        password: Some(Bytes::from_static(b"s3cret")),
        keep_alive: 30,
        clean_start: false,
        properties: Properties {
            session_expiry_interval: Some(3_600),
            receive_maximum: Some(10),
            maximum_packet_size: Some(4_096),
            topic_alias_maximum: Some(5),
            request_response_information: Some(true),
            request_problem_information: Some(false),
            user_properties: user_properties(),
            authentication_method: Some("TOKEN".into()),
            authentication_data: Some(Bytes::from_static(b"tok")),
            ..Properties::default()
        },
        will: Some(Will {
            topic: TopicName::new("dash/status").unwrap(),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties {
                will_delay_interval: Some(30),
                message_expiry_interval: Some(600),
                content_type: Some("text/plain".into()),
                response_topic: Some(TopicName::new("dash/ack").unwrap()),
                correlation_data: Some(Bytes::from_static(b"c1")),
                payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
                user_properties: user_properties(),
                ..Properties::default()
            },
        }),
        ..Options::default()
    }
}

fn sent_connect(peer: &mut Peer) -> Connect {
    peer.session.connect(peer.now).unwrap();
    match peer.sent().as_slice() {
        [Packet::Connect(c)] => c.clone(),
        other => panic!("expected CONNECT alone: {other:?}"),
    }
}

#[test]
fn connect_carries_every_option() {
    // [MQTT-3.1.2-7] [MQTT-3.1.2-9] will; [MQTT-3.1.2-17] [MQTT-3.1.2-19]
    // user name and password; [MQTT-3.1.3-1] payload order (checked by
    // decoding what was sent).
    let options = full_options();
    let mut peer = Peer::new(options.clone());
    let connect = sent_connect(&mut peer);
    assert_eq!(
        connect,
        Connect {
            protocol_version: ProtocolVersion::V5,
            clean_start: false,
            keep_alive: 30,
            properties: options.properties,
            client_id: "dash-1".into(),
            will: options.will,
            username: Some("alice".into()),
            password: Some(Bytes::from_static(b"s3cret")),
        }
    );
    // [MQTT-3.1.2-30]: with an Authentication Method nothing else goes out
    // before CONNACK, even when the application publishes.
    peer.session
        .publish(peer.now, publish("t", QoS::AtMostOnce, b"early"))
        .unwrap();
    assert!(peer.sent().is_empty());
}

#[test]
fn clean_start_on_first_connect_then_resume_on_v5_reconnects() {
    // [MQTT-3.1.2-4] [MQTT-3.1.2-5]: a v5 reconnect asks to resume (Clean
    // Start 0); 3.1.1 keeps the caller's Clean Session, since Clean Session 0
    // there makes a session that never expires, but an empty Client
    // Identifier always goes with Clean Session 1 [MQTT-3.1.3-7 in 3.1.1].
    let cases = [
        (ProtocolVersion::V5, "c", true, [true, false, false]),
        (ProtocolVersion::V5, "c", false, [false, false, false]),
        (ProtocolVersion::V5, "", false, [false, false, false]),
        (ProtocolVersion::V311, "c", true, [true, true, true]),
        (ProtocolVersion::V311, "c", false, [false, false, false]),
        (ProtocolVersion::V311, "", false, [true, true, true]),
    ];
    for (version, client_id, clean_start, expected) in cases {
        let mut peer = Peer::new(Options {
            protocol_version: version,
            client_id: client_id.into(),
            clean_start,
            ..Options::default()
        });
        let mut seen = Vec::new();
        for i in 0..expected.len() {
            if i > 0 {
                peer.drop_and_wait_for_reconnect();
            }
            let connect = sent_connect(&mut peer);
            assert_eq!(connect.protocol_version, version);
            seen.push(connect.clean_start);
            peer.send(Packet::ConnAck(ConnAck::default()));
            assert!(peer.session.is_connected());
        }
        assert_eq!(
            seen, expected,
            "{version:?} id={client_id:?} clean_start={clean_start}"
        );
    }
}

#[test]
fn empty_client_id_takes_the_assigned_one_for_reconnects() {
    // [MQTT-3.1.3-6] [MQTT-3.1.3-7] [MQTT-3.2.2-16]: an empty Client
    // Identifier gets one from the server, and the session goes on under it.
    let mut peer = Peer::new(Options::default());
    assert_eq!(sent_connect(&mut peer).client_id, "");
    peer.send(Packet::ConnAck(connack_with(|p| {
        p.assigned_client_identifier = Some("srv-42".into());
    })));
    assert_eq!(
        peer.session.server().assigned_client_identifier.as_deref(),
        Some("srv-42")
    );
    assert_eq!(peer.session.options().client_id, "srv-42");
    for _ in 0..2 {
        peer.drop_and_wait_for_reconnect();
        let connect = sent_connect(&mut peer);
        assert_eq!(connect.client_id, "srv-42");
        assert!(!connect.clean_start);
        // The server does not repeat the assignment for a named client.
        peer.send(Packet::ConnAck(ConnAck::default()));
        assert_eq!(peer.session.options().client_id, "srv-42");
    }
}

#[test]
fn v311_connect_is_level_4_and_return_codes_map_to_refusals() {
    // 3.1.1 section 3.2.2.3: Connect Return Codes 1..=5. Only 3 (server
    // unavailable) is worth retrying.
    let cases = [
        (1u8, ReasonCode::UnsupportedProtocolVersion, false),
        (2, ReasonCode::ClientIdentifierNotValid, false),
        (3, ReasonCode::ServerUnavailable, true),
        (4, ReasonCode::BadUserNameOrPassword, false),
        (5, ReasonCode::NotAuthorized, false),
    ];
    for (code, reason_code, retry) in cases {
        let mut options = full_options();
        options.protocol_version = ProtocolVersion::V311;
        let mut peer = Peer::new(options.clone());
        let connect = sent_connect(&mut peer);
        assert_eq!(connect.protocol_version, ProtocolVersion::V311);
        assert_eq!(connect.protocol_version.level(), 4);
        assert_eq!(connect.username.as_deref(), Some("alice"));
        // 3.1.1 has no properties: none go on the wire, for the will either.
        assert!(connect.properties.is_empty());
        let will = connect.will.expect("will");
        assert!(will.properties.is_empty());
        assert_eq!(will.topic.as_str(), "dash/status");
        peer.send_raw(&[0x20, 0x02, 0x00, code]);
        let events = peer.events();
        assert_eq!(
            events.first(),
            Some(&Event::Disconnected(ConnectionError::Refused {
                reason_code,
                reason_string: None,
                server_reference: None,
            })),
            "return code {code}"
        );
        assert_eq!(!reconnects_scheduled(&events).is_empty(), retry, "{code}");
        assert!(peer.sent().is_empty());
    }
}

#[test]
fn v311_connack_accepts_and_keeps_default_limits() {
    let mut peer = Peer::new(Options {
        protocol_version: ProtocolVersion::V311,
        client_id: "c".into(),
        ..Options::default()
    });
    peer.session.connect(peer.now).unwrap();
    peer.sent();
    peer.send_raw(&[0x20, 0x02, 0x00, 0x00]);
    assert!(matches!(peer.events().as_slice(), [Event::Connected(_)]));
    assert_eq!(peer.session.server(), &ServerLimits::default());
}

#[test]
fn no_connack_within_the_connect_timeout() {
    let mut peer = Peer::new(Options {
        connect_timeout: 5_000,
        ..Options::default()
    });
    peer.session.connect(peer.now).unwrap();
    peer.sent();
    peer.advance(4_999);
    assert!(peer.events().is_empty());
    assert!(!peer.session.is_connected());
    peer.advance(1);
    let events = peer.events();
    assert_eq!(
        events.first(),
        Some(&Event::Disconnected(ConnectionError::ConnectTimeout))
    );
    let scheduled = reconnects_scheduled(&events);
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].0, 1);
    assert!(scheduled[0].1 <= 1_000, "{scheduled:?}");
    // Nothing is sent on a connection given up on, and a late CONNACK is ignored.
    assert!(peer.sent().is_empty());
    peer.send(Packet::ConnAck(ConnAck::default()));
    assert!(peer.events().is_empty());
    assert!(!peer.session.is_connected());
}

/// The CONNACK failure codes worth retrying: the server's trouble, not ours.
const RETRYABLE: [ReasonCode; 8] = [
    ReasonCode::UnspecifiedError,
    ReasonCode::ImplementationSpecificError,
    ReasonCode::ServerUnavailable,
    ReasonCode::ServerBusy,
    ReasonCode::QuotaExceeded,
    ReasonCode::UseAnotherServer,
    ReasonCode::ServerMoved,
    ReasonCode::ConnectionRateExceeded,
];

#[test]
fn every_connack_failure_is_a_refusal_with_reason_and_reference() {
    // Table 3-1: 21 failure codes. [MQTT-3.2.2-7]: the server closes after
    // any of them, so the client sends nothing more.
    let failures: Vec<ReasonCode> = (0x80..=0xFF)
        .filter_map(ReasonCode::from_u8)
        .filter(|c| c.is_valid_for(wasmqtt_codec::PacketType::ConnAck))
        .collect();
    assert_eq!(failures.len(), 21);
    for code in failures {
        let mut peer = Peer::new(Options::default());
        let events = peer.connect_with(ConnAck {
            reason_code: code,
            session_present: false,
            properties: Properties {
                reason_string: Some(format!("why {code}")),
                server_reference: Some("other.example:8883".into()),
                ..Properties::default()
            },
        });
        let error = ConnectionError::Refused {
            reason_code: code,
            reason_string: Some(format!("why {code}")),
            server_reference: Some("other.example:8883".into()),
        };
        assert_eq!(events.first(), Some(&Event::Disconnected(error.clone())));
        assert_eq!(error.reason_code(), Some(code));
        let redirect = matches!(code, ReasonCode::UseAnotherServer | ReasonCode::ServerMoved);
        assert_eq!(
            error.redirect(),
            redirect.then_some("other.example:8883"),
            "{code:?}"
        );
        let retry = RETRYABLE.contains(&code);
        assert_eq!(error.is_retryable(), retry, "{code:?}");
        let scheduled = reconnects_scheduled(&events);
        assert_eq!(scheduled.len(), usize::from(retry), "{code:?}: {events:?}");
        // Either a reconnect is scheduled or the session says it gave up.
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events.contains(&Event::GaveUp), !retry, "{events:?}");
        if !retry {
            assert_eq!(peer.session.poll_timeout(), None, "{code:?}");
        }
        assert!(!peer.session.is_connected());
        assert!(peer.sent().is_empty(), "{code:?}");
        // Limits are learned from accepting CONNACKs only.
        assert_eq!(peer.session.server(), &ServerLimits::default());
    }
}

#[test]
fn connack_limits_are_kept_and_replaced_by_the_next_connack() {
    let mut peer = Peer::new(Options::default());
    assert_eq!(peer.session.server(), &ServerLimits::default());
    let events = peer.connect_with(connack_with(|p| {
        p.receive_maximum = Some(20);
        p.maximum_qos = Some(QoS::AtLeastOnce);
        p.retain_available = Some(false);
        p.maximum_packet_size = Some(2_048);
        p.topic_alias_maximum = Some(7);
        p.wildcard_subscription_available = Some(false);
        p.subscription_identifier_available = Some(false);
        p.shared_subscription_available = Some(false);
        p.server_keep_alive = Some(15);
        p.response_information = Some("resp/dash".into());
        p.assigned_client_identifier = Some("auto-1".into());
        p.session_expiry_interval = Some(120);
    }));
    assert!(matches!(events.as_slice(), [Event::Connected(_)]));
    assert_eq!(
        peer.session.server(),
        &ServerLimits {
            receive_maximum: 20,
            maximum_qos: QoS::AtLeastOnce,
            retain_available: false,
            maximum_packet_size: Some(2_048),
            topic_alias_maximum: 7,
            wildcard_subscription_available: false,
            subscription_identifier_available: false,
            shared_subscription_available: false,
            server_keep_alive: Some(15),
            response_information: Some("resp/dash".into()),
            assigned_client_identifier: Some("auto-1".into()),
            session_expiry_interval: Some(120),
        }
    );
    // A new connection's CONNACK says nothing: the spec's defaults apply again.
    peer.drop_and_wait_for_reconnect();
    peer.connect_with(ConnAck::default());
    assert_eq!(peer.session.server(), &ServerLimits::default());
    // The limits hold for commands: QoS 2 is allowed again.
    assert!(peer
        .session
        .publish(peer.now, publish("t", QoS::ExactlyOnce, b""))
        .is_ok());
}

#[test]
fn session_present_is_reported_as_received() {
    // [MQTT-3.2.2-2] [MQTT-3.2.2-3]
    let mut peer = Peer::new(Options {
        client_id: "c".into(),
        properties: Properties {
            session_expiry_interval: Some(60),
            ..Properties::default()
        },
        ..Options::default()
    });
    let first = peer.connect();
    assert_eq!(first, vec![Event::Connected(ConnAck::default())]);
    for present in [true, false] {
        peer.drop_and_wait_for_reconnect();
        let connack = ConnAck {
            session_present: present,
            ..ConnAck::default()
        };
        let events = peer.connect_with(connack.clone());
        assert_eq!(events.first(), Some(&Event::Connected(connack)));
        assert!(peer.session.is_connected());
    }
}

#[test]
fn only_connack_or_auth_may_come_first_and_connack_only_once() {
    // [MQTT-3.2.0-1]: nothing but AUTH before CONNACK; [MQTT-3.14.0-1]: no
    // DISCONNECT before it either; [MQTT-3.2.0-2]: one CONNACK per connection.
    let cases: [(bool, Packet); 6] = [
        (false, Packet::Publish(publish("t", QoS::AtMostOnce, b"x"))),
        (false, Packet::PingResp),
        (
            false,
            Packet::Disconnect(wasmqtt_codec::Disconnect::new(
                ReasonCode::ServerShuttingDown,
            )),
        ),
        (false, Packet::PubAck(wasmqtt_codec::PubAck::new(pid(1)))),
        (true, Packet::ConnAck(ConnAck::default())),
        (true, Packet::ConnAck(reason(ReasonCode::ServerBusy))),
    ];
    for (connected, packet) in cases {
        let mut peer = Peer::new(Options::default());
        open_connection(&mut peer, connected);
        let packet_type = packet.packet_type();
        peer.send(packet);
        let events = assert_closed_for_protocol_error(
            &mut peer,
            ReasonCode::ProtocolError,
            ProtocolError::UnexpectedPacket(packet_type),
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Connected(_) | Event::Message(_))),
            "{events:?}"
        );
        assert_eq!(reconnects_scheduled(&events).len(), 1, "{events:?}");
    }
}

#[test]
fn connect_refuses_while_connecting_or_connected() {
    let mut peer = Peer::new(Options::default());
    peer.session.connect(peer.now).unwrap();
    assert_eq!(
        peer.session.connect(peer.now),
        Err(UsageError::AlreadyConnected)
    );
    peer.sent();
    peer.send(Packet::ConnAck(ConnAck::default()));
    assert_eq!(
        peer.session.connect(peer.now),
        Err(UsageError::AlreadyConnected)
    );
    // The second call sent nothing.
    assert!(peer.sent().is_empty());
}

#[test]
fn connect_that_cannot_be_encoded_is_a_usage_error() {
    // 3.1.1 has no password without a user name [MQTT-3.1.2-22 in 3.1.1].
    let mut peer = Peer::new(Options {
        protocol_version: ProtocolVersion::V311,
        client_id: "c".into(),
        password: Some(Bytes::from_static(b"p")),
        ..Options::default()
    });
    assert_eq!(
        peer.session.connect(peer.now),
        Err(UsageError::Encode(
            wasmqtt_codec::EncodeError::PasswordWithoutUserName
        ))
    );
    assert!(peer.sent().is_empty());
    assert_eq!(peer.session.poll_timeout(), None);
}

#[test]
fn session_present_is_refused_when_no_session_can_exist() {
    // [MQTT-3.2.2-4]: after Clean Start 1 the server cannot have our session;
    // [MQTT-3.2.2-6]: a refusal never carries Session Present.
    for connack in [
        session_present(),
        ConnAck {
            session_present: true,
            ..reason(ReasonCode::ServerBusy)
        },
    ] {
        let mut peer = Peer::new(Options::default());
        peer.session.connect(peer.now).unwrap();
        peer.sent();
        peer.send(Packet::ConnAck(connack));
        assert_closed_for_protocol_error(
            &mut peer,
            ReasonCode::ProtocolError,
            ProtocolError::SessionPresentInvalid,
        );
        assert!(!peer.session.is_connected());
    }
}
