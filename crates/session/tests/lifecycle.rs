//! How connections end and come back: DISCONNECT both ways, redirects,
//! reconnect backoff, enhanced authentication, malformed input, metrics.
mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use proptest::prelude::*;
use wasmqtt_codec::{
    decode_packet, Auth, ConnAck, DecodeError, Disconnect, Packet, PacketType, Properties,
    PropertyId, ProtocolVersion, PubRel, QoS, ReasonCode, TopicError,
};
use wasmqtt_session::{
    Backoff, ConnectionError, Event, Millis, Options, ProtocolError, UsageError,
};

fn with_expiry(session_expiry_interval: Option<u32>) -> Options {
    Options {
        client_id: "c".into(),
        properties: Properties {
            session_expiry_interval,
            ..Properties::default()
        },
        ..Options::default()
    }
}

fn backoff(max_attempts: Option<u32>) -> Backoff {
    Backoff {
        initial_delay: 1_000,
        max_delay: 4_000,
        max_attempts,
        reset_after: 10_000,
    }
}

fn with_backoff(policy: Option<Backoff>) -> Options {
    Options {
        reconnect: policy,
        ..Options::default()
    }
}

/// Nothing happens any more: no timer, no packets, no events, whatever time passes.
fn assert_ended(peer: &mut Peer) {
    assert_eq!(peer.session.poll_timeout(), None);
    peer.advance(3_600_000);
    assert!(peer.events().is_empty());
    assert!(peer.sent().is_empty());
    assert!(!peer.session.is_connected());
}

/// The connection drops and no reconnect follows.
fn assert_lost_for_good(peer: &mut Peer) {
    peer.session.handle_connection_lost(peer.now);
    assert_eq!(
        peer.events(),
        [
            Event::Disconnected(ConnectionError::ConnectionLost),
            Event::GaveUp
        ]
    );
    assert_ended(peer);
}

// ----- DISCONNECT from us -----

/// `disconnect` with `code`, `session_expiry_interval` and no properties.
fn disconnect(
    peer: &mut Peer,
    code: ReasonCode,
    session_expiry_interval: Option<u32>,
) -> Result<(), UsageError> {
    peer.session.disconnect(
        peer.now,
        code,
        session_expiry_interval,
        Properties::default(),
    )
}

#[test]
fn disconnect_sends_reason_expiry_and_properties_then_ends() {
    // Section 3.14: our DISCONNECT carries the reason code, a new Session
    // Expiry Interval and properties; [MQTT-3.14.4-1]: nothing after it.
    let mut peer = Peer::new(with_expiry(Some(300)));
    peer.connect();
    let properties = Properties {
        reason_string: Some("closing the tab".into()),
        user_properties: vec![("k".into(), "v".into())],
        ..Properties::default()
    };
    peer.session
        .disconnect(
            peer.now,
            ReasonCode::DisconnectWithWillMessage,
            Some(0),
            properties.clone(),
        )
        .unwrap();
    assert_eq!(
        peer.sent(),
        [Packet::Disconnect(Disconnect {
            reason_code: ReasonCode::DisconnectWithWillMessage,
            properties: Properties {
                session_expiry_interval: Some(0),
                ..properties
            },
        })]
    );
    assert_eq!(
        peer.events(),
        [Event::Disconnected(ConnectionError::Disconnected)]
    );
    // Late bytes from the server are not processed.
    peer.send(Packet::Publish(incoming("t", QoS::AtLeastOnce, 1, b"")));
    assert_ended(&mut peer);
    // Disconnecting again does nothing.
    assert_eq!(
        disconnect(&mut peer, ReasonCode::NORMAL_DISCONNECTION, None),
        Ok(())
    );
    assert_ended(&mut peer);
    // The application may connect again.
    assert!(matches!(peer.connect().as_slice(), [Event::Connected(_)]));
}

#[test]
fn disconnect_cannot_give_a_session_expiry_to_a_session_without_one() {
    // Section 3.14.2.2.2: a non-zero Session Expiry Interval in DISCONNECT
    // after 0 (or none) in CONNECT is a Protocol Error; the session refuses it.
    let cases: [(Option<u32>, Option<u32>, bool); 7] = [
        (None, Some(10), false),
        (Some(0), Some(1), false),
        (None, Some(0), true),
        (None, None, true),
        (Some(60), Some(0), true),
        (Some(60), Some(3_600), true),
        (Some(60), None, true),
    ];
    for (in_connect, in_disconnect, allowed) in cases {
        let mut peer = Peer::new(with_expiry(in_connect));
        peer.connect();
        let result = disconnect(&mut peer, ReasonCode::NORMAL_DISCONNECTION, in_disconnect);
        let case = format!("{in_connect:?} -> {in_disconnect:?}");
        if allowed {
            assert_eq!(result, Ok(()), "{case}");
            let Packet::Disconnect(d) = &peer.sent()[0] else {
                panic!("{case}")
            };
            assert_eq!(d.properties.session_expiry_interval, in_disconnect);
        } else {
            assert_eq!(result, Err(UsageError::SessionExpiryAfterZero), "{case}");
            // Refused: nothing sent and the connection stays up.
            assert!(peer.sent().is_empty(), "{case}");
            assert!(peer.events().is_empty(), "{case}");
            assert!(peer.session.is_connected(), "{case}");
        }
    }
}

#[test]
fn check_disconnect_refuses_what_disconnect_would_whatever_the_state() {
    // A driver that disconnects once in-flight messages are done checks
    // first, possibly while no connection is up.
    let mut peer = Peer::new(with_expiry(None));
    let check = |peer: &Peer, code, expiry| {
        peer.session
            .check_disconnect(code, expiry, &Properties::default())
    };
    for connected in [false, true] {
        if connected {
            peer.connect();
        }
        assert_eq!(
            check(&peer, ReasonCode::NORMAL_DISCONNECTION, Some(5)),
            Err(UsageError::SessionExpiryAfterZero)
        );
        assert!(matches!(
            check(&peer, ReasonCode::Banned, None),
            Err(UsageError::Encode(_))
        ));
        assert_eq!(
            check(&peer, ReasonCode::NORMAL_DISCONNECTION, Some(0)),
            Ok(())
        );
        assert!(peer.sent().is_empty());
    }
}

#[test]
fn disconnect_with_a_code_disconnect_cannot_carry_is_refused() {
    // [MQTT-3.14.2-1]: only DISCONNECT reason codes.
    let mut peer = Peer::new(Options::default());
    peer.connect();
    let result = disconnect(&mut peer, ReasonCode::Banned, None);
    assert!(matches!(result, Err(UsageError::Encode(_))), "{result:?}");
    assert!(peer.sent().is_empty());
    assert!(peer.session.is_connected());
}

#[test]
fn disconnect_while_waiting_to_reconnect_cancels_the_reconnect() {
    let mut peer = Peer::new(Options::default());
    peer.connect();
    peer.session.handle_connection_lost(peer.now);
    assert_eq!(reconnects_scheduled(&peer.events()).len(), 1);
    disconnect(&mut peer, ReasonCode::NORMAL_DISCONNECTION, None).unwrap();
    assert_eq!(
        peer.events(),
        [Event::Disconnected(ConnectionError::Disconnected)]
    );
    // No transport: nothing to send DISCONNECT on.
    assert_ended(&mut peer);
}

#[test]
fn v311_disconnect_is_bare() {
    let mut peer = Peer::new(Options {
        protocol_version: ProtocolVersion::V311,
        client_id: "c".into(),
        ..Options::default()
    });
    peer.connect();
    // 3.1.1 has no reason codes but Normal disconnection.
    assert!(disconnect(&mut peer, ReasonCode::DisconnectWithWillMessage, None).is_err());
    assert!(peer.session.is_connected());
    disconnect(&mut peer, ReasonCode::NORMAL_DISCONNECTION, None).unwrap();
    let mut raw = Vec::new();
    assert!(peer.session.poll_transmit(&mut raw));
    assert_eq!(raw, [0xE0, 0x00]);
    assert_eq!(
        peer.events(),
        [Event::Disconnected(ConnectionError::Disconnected)]
    );
    assert_ended(&mut peer);
}

// ----- DISCONNECT from the server, redirects -----

#[test]
fn server_disconnect_is_reported_and_not_answered() {
    // Section 3.14.4: the receiver of DISCONNECT closes; it does not send
    // one back. Redirects (0x9C, 0x9D) expose the Server Reference.
    let cases = [
        (ReasonCode::ServerShuttingDown, None),
        (ReasonCode::SessionTakenOver, None),
        (ReasonCode::UseAnotherServer, Some("b.example:8883")),
        (ReasonCode::ServerMoved, Some("b.example:8883")),
    ];
    for (code, redirect) in cases {
        let mut peer = Peer::new(Options::default());
        peer.connect();
        peer.send(Packet::Disconnect(Disconnect {
            reason_code: code,
            properties: Properties {
                reason_string: Some("maintenance".into()),
                server_reference: Some("b.example:8883".into()),
                user_properties: vec![("k".into(), "v".into())],
                ..Properties::default()
            },
        }));
        let error = ConnectionError::ServerDisconnected {
            reason_code: code,
            reason_string: Some("maintenance".into()),
            server_reference: Some("b.example:8883".into()),
        };
        let events = peer.events();
        assert_eq!(events.first(), Some(&Event::Disconnected(error.clone())));
        assert_eq!(error.redirect(), redirect, "{code:?}");
        assert_eq!(error.reason_code(), Some(code));
        // A session taken over by another connection is not fought for.
        let retries = usize::from(code != ReasonCode::SessionTakenOver);
        assert_eq!(reconnects_scheduled(&events).len(), retries, "{events:?}");
        assert!(peer.sent().is_empty(), "{code:?}");
        assert!(!peer.session.is_connected());
        // What follows on the dead connection is ignored.
        peer.send(Packet::Publish(publish("t", QoS::AtMostOnce, b"")));
        assert!(peer.events().is_empty());
    }
}

#[test]
fn connack_redirect_names_the_other_server() {
    for (code, redirect) in [
        (ReasonCode::UseAnotherServer, Some("b.example")),
        (ReasonCode::ServerMoved, Some("b.example")),
        (ReasonCode::ServerBusy, None),
    ] {
        let mut peer = Peer::new(Options::default());
        let events = peer.connect_with(connack_with(|p| {
            p.server_reference = Some("b.example".into());
        }));
        assert!(matches!(events.as_slice(), [Event::Connected(_)]));
        peer.drop_and_wait_for_reconnect();
        let mut refusal = reason(code);
        refusal.properties.server_reference = Some("b.example".into());
        let events = peer.connect_with(refusal);
        let Some(Event::Disconnected(error)) = events.first() else {
            panic!("{events:?}")
        };
        assert_eq!(error.redirect(), redirect, "{code:?}");
    }
}

// ----- reconnect backoff -----

#[test]
fn reconnect_delays_grow_within_their_ceilings_then_stop() {
    let mut peer = Peer::new(with_backoff(Some(backoff(Some(4)))));
    peer.connect();
    let ceilings = [1_000, 2_000, 4_000, 4_000];
    for (i, ceiling) in ceilings.into_iter().enumerate() {
        let attempt = i as u32 + 1;
        // The connection drops, or the transport fails to open.
        peer.session.handle_connection_lost(peer.now);
        let events = peer.events();
        assert_eq!(
            events.first(),
            Some(&Event::Disconnected(ConnectionError::ConnectionLost))
        );
        let scheduled = reconnects_scheduled(&events);
        assert_eq!(scheduled.len(), 1, "{events:?}");
        let (n, delay) = scheduled[0];
        assert_eq!(n, attempt);
        assert!(delay < ceiling, "attempt {attempt}: {delay} >= {ceiling}");
        // The Reconnect event comes exactly after the delay.
        assert_eq!(peer.session.poll_timeout(), Some(peer.now + delay));
        if delay > 0 {
            peer.advance(delay - 1);
            assert!(peer.events().is_empty());
        }
        peer.advance(1);
        assert_eq!(peer.events(), [Event::Reconnect { attempt }]);
        assert_eq!(peer.session.metrics().reconnects, u64::from(attempt));
    }
    // The fourth attempt fails too: that was the last one.
    assert_lost_for_good(&mut peer);
    assert_eq!(peer.session.metrics().reconnects, 4);
}

#[test]
fn a_fresh_connect_after_giving_up_gets_a_fresh_budget() {
    let mut peer = Peer::new(with_backoff(Some(backoff(Some(1)))));
    peer.connect();
    peer.drop_and_wait_for_reconnect();
    peer.session.handle_connection_lost(peer.now);
    assert!(reconnects_scheduled(&peer.events()).is_empty());
    // The application connects again by hand; when that connection drops
    // the policy starts over.
    assert!(matches!(peer.connect().as_slice(), [Event::Connected(_)]));
    peer.session.handle_connection_lost(peer.now);
    let scheduled = reconnects_scheduled(&peer.events());
    assert_eq!(
        scheduled.iter().map(|s| s.0).collect::<Vec<_>>(),
        [1],
        "{scheduled:?}"
    );
}

#[test]
fn reconnect_jitter_differs_between_seeds_and_repeats_for_one() {
    let first_delay = |seed: u64| {
        let mut peer = Peer::new(Options {
            random_seed: seed,
            ..with_backoff(Some(backoff(None)))
        });
        peer.connect();
        peer.session.handle_connection_lost(peer.now);
        reconnects_scheduled(&peer.events())[0].1
    };
    let delays: Vec<Millis> = (1..=16).map(first_delay).collect();
    assert!(delays.iter().all(|&d| d < 1_000), "{delays:?}");
    let mut distinct = delays.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        distinct.len() > 8,
        "full jitter spreads clients: {delays:?}"
    );
    assert_eq!(first_delay(7), delays[6]);
}

#[test]
fn attempt_count_resets_once_a_connection_stays_up() {
    let mut peer = Peer::new(with_backoff(Some(backoff(None))));
    peer.connect();
    let mut attempts = Vec::new();
    // Up for 9 s (too short to count), then 10 s (long enough), then 0 s.
    for up in [9_000, 10_000, 0] {
        let events = peer.drop_and_wait_for_reconnect();
        attempts.extend(reconnects_scheduled(&events).into_iter().map(|s| s.0));
        peer.connect();
        peer.advance(up);
    }
    peer.session.handle_connection_lost(peer.now);
    attempts.extend(
        reconnects_scheduled(&peer.events())
            .into_iter()
            .map(|s| s.0),
    );
    assert_eq!(attempts, [1, 2, 1, 2]);
    assert_eq!(peer.session.metrics().reconnects, 3);
}

#[test]
fn without_a_reconnect_policy_a_lost_connection_stays_down() {
    let mut peer = Peer::new(with_backoff(None));
    peer.connect();
    assert_lost_for_good(&mut peer);
    assert_eq!(peer.session.metrics().reconnects, 0);
}

/// The largest delay attempt `n` may wait: min(max_delay, initial * 2^(n-1)).
fn ceiling(b: &Backoff, attempt: u32) -> u128 {
    let doubled = u128::from(b.initial_delay) << (attempt - 1).min(64);
    doubled.min(u128::from(b.max_delay))
}

proptest! {
    #[test]
    fn backoff_delay_is_capped_jittered_and_monotone(
        initial in 0..100_000u64,
        max in 0..10_000_000u64,
        max_attempts in proptest::option::of(1..50u32),
        attempt in 0..200u32,
        r1 in any::<u32>(),
        r2 in any::<u32>(),
    ) {
        let b = Backoff { initial_delay: initial, max_delay: max, max_attempts, reset_after: 0 };
        let (lo, hi) = (r1.min(r2), r1.max(r2));
        let exhausted = attempt == 0 || max_attempts.is_some_and(|m| attempt > m);
        prop_assert_eq!(b.delay(attempt, lo).is_none(), exhausted);
        if let (Some(a), Some(z)) = (b.delay(attempt, lo), b.delay(attempt, hi)) {
            prop_assert!(u128::from(z) <= ceiling(&b, attempt));
            // Monotone in the random value, and the whole range is used.
            prop_assert!(a <= z);
            prop_assert_eq!(b.delay(attempt, 0), Some(0));
            // The ceilings grow: a later attempt never has a smaller delay
            // for the same random value.
            if let Some(next) = b.delay(attempt + 1, hi) {
                prop_assert!(z <= next);
            }
        }
    }
}

// ----- enhanced authentication -----

const METHOD: &str = "SCRAM-SHA-256";

fn auth_options() -> Options {
    Options {
        client_id: "c".into(),
        properties: Properties {
            authentication_method: Some(METHOD.into()),
            authentication_data: Some(Bytes::from_static(b"client-first")),
            ..Properties::default()
        },
        ..Options::default()
    }
}

fn auth(reason_code: ReasonCode, method: Option<&str>, data: &'static [u8]) -> Auth {
    Auth {
        reason_code,
        properties: Properties {
            authentication_method: method.map(Into::into),
            authentication_data: Some(Bytes::from_static(data)),
            ..Properties::default()
        },
    }
}

/// Calls `auth` with `given`: the session sends one AUTH with `code`, the
/// configured method and the given data.
fn assert_auth_sent(peer: &mut Peer, given: Auth, code: ReasonCode) {
    let data = given.properties.authentication_data.clone();
    peer.session.auth(peer.now, given).unwrap();
    let expected = Auth {
        reason_code: code,
        properties: Properties {
            authentication_method: Some(METHOD.into()),
            authentication_data: data,
            ..Properties::default()
        },
    };
    assert_eq!(peer.sent(), [Packet::Auth(expected)]);
}

#[test]
fn enhanced_authentication_during_connect() {
    // Section 4.12: AUTH 0x18 challenges until CONNACK; [MQTT-4.12.0-5]:
    // every AUTH carries the CONNECT's Authentication Method.
    let mut peer = Peer::new(auth_options());
    peer.session.connect(peer.now).unwrap();
    let Packet::Connect(connect) = &peer.sent()[0] else {
        panic!()
    };
    assert_eq!(
        connect.properties.authentication_method.as_deref(),
        Some(METHOD)
    );
    let token = peer
        .session
        .publish(peer.now, publish("t", QoS::AtMostOnce, b"x"))
        .unwrap();
    for round in [&b"server-first"[..], b"server-second"] {
        let challenge = auth(ReasonCode::ContinueAuthentication, Some(METHOD), round);
        peer.send(Packet::Auth(challenge.clone()));
        assert_eq!(peer.events(), [Event::Auth(challenge)]);
        // Whatever method and code the caller puts in, the session answers
        // with 0x18 and the configured method.
        assert_auth_sent(
            &mut peer,
            auth(ReasonCode::Success, Some("OTHER"), b"client-final"),
            ReasonCode::ContinueAuthentication,
        );
        // [MQTT-3.1.2-30]: still nothing but AUTH before CONNACK.
        assert!(!peer.session.is_connected());
    }
    let connack = connack_with(|p| p.authentication_method = Some(METHOD.into()));
    peer.send(Packet::ConnAck(connack.clone()));
    assert_eq!(
        peer.events(),
        [
            Event::Connected(connack),
            Event::Published {
                token,
                result: Ok(ReasonCode::Success)
            }
        ]
    );
    assert!(matches!(peer.sent().as_slice(), [Packet::Publish(_)]));
}

#[test]
fn re_authentication_when_connected() {
    // [MQTT-4.12.1-1]: AUTH 0x19 with the original method starts it; the
    // server's 0x18 challenges are answered with 0x18; 0x00 ends it.
    let mut peer = Peer::new(auth_options());
    peer.connect_with(connack_with(|p| {
        p.authentication_method = Some(METHOD.into())
    }));
    assert_auth_sent(
        &mut peer,
        auth(ReasonCode::Success, None, b"re-first"),
        ReasonCode::ReAuthenticate,
    );
    let challenge = auth(ReasonCode::ContinueAuthentication, Some(METHOD), b"chal");
    peer.send(Packet::Auth(challenge.clone()));
    assert_eq!(peer.events(), [Event::Auth(challenge)]);
    // The session remembers the challenge: whatever code the caller puts
    // in, the answer is 0x18.
    assert_auth_sent(
        &mut peer,
        auth(ReasonCode::Success, None, b"answer"),
        ReasonCode::ContinueAuthentication,
    );
    let done = auth(ReasonCode::Success, Some(METHOD), b"ok");
    peer.send(Packet::Auth(done.clone()));
    assert_eq!(peer.events(), [Event::Auth(done)]);
    // Answered and done: the next `auth` starts a new re-authentication,
    // even when the caller asks to continue.
    assert_auth_sent(
        &mut peer,
        auth(ReasonCode::ContinueAuthentication, None, b"again"),
        ReasonCode::ReAuthenticate,
    );
    // Traffic goes on during and after re-authentication.
    assert!(peer.session.is_connected());
    peer.session
        .publish(peer.now, publish("t", QoS::AtMostOnce, b""))
        .unwrap();
    assert_eq!(peer.sent().len(), 1);
}

#[test]
fn auth_usage_errors() {
    // [MQTT-4.12.0-7]: no AUTH without an Authentication Method in CONNECT.
    let v311 = Options {
        protocol_version: ProtocolVersion::V311,
        ..auth_options()
    };
    let cases = [
        (Options::default(), true, UsageError::NoAuthenticationMethod),
        (v311, true, UsageError::NotInV311),
        (auth_options(), false, UsageError::NotConnected),
    ];
    for (options, connect, error) in cases {
        let mut peer = Peer::new(options);
        if connect {
            peer.connect();
        }
        assert_eq!(
            peer.session
                .auth(peer.now, auth(ReasonCode::ReAuthenticate, None, b"")),
            Err(error.clone())
        );
        assert!(peer.sent().is_empty(), "{error:?}");
        assert!(peer.events().is_empty(), "{error:?}");
        assert_eq!(peer.session.is_connected(), connect);
    }
}

#[test]
fn server_auth_without_an_authentication_method_is_a_protocol_error() {
    // [MQTT-4.12.0-6]: no AUTH unless CONNECT named a method.
    for connected in [false, true] {
        let mut peer = Peer::new(Options::default());
        open_connection(&mut peer, connected);
        peer.send(Packet::Auth(auth(
            ReasonCode::ContinueAuthentication,
            Some(METHOD),
            b"",
        )));
        let events = assert_closed_for_protocol_error(
            &mut peer,
            ReasonCode::ProtocolError,
            ProtocolError::UnexpectedPacket(PacketType::Auth),
        );
        assert!(!events.iter().any(|e| matches!(e, Event::Auth(_))));
    }
}

// ----- malformed input -----

struct Malformed {
    name: &'static str,
    version: ProtocolVersion,
    /// Whether CONNACK came before the bytes.
    connected: bool,
    bytes: &'static [u8],
    error: DecodeError,
    code: ReasonCode,
}

fn malformed_cases() -> Vec<Malformed> {
    use ProtocolVersion::{V311, V5};
    let m = |name, version, connected, bytes, error, code| Malformed {
        name,
        version,
        connected,
        bytes,
        error,
        code,
    };
    vec![
        // [MQTT-3.3.1-4]: both QoS bits set.
        m(
            "PUBLISH QoS 3",
            V5,
            true,
            &[0x36, 0x06, 0x00, 0x01, b't', 0x00, 0x01, 0x00],
            DecodeError::InvalidQoS,
            ReasonCode::MalformedPacket,
        ),
        m(
            "reserved packet type 0",
            V5,
            true,
            &[0x00, 0x00],
            DecodeError::InvalidPacketType(0),
            ReasonCode::MalformedPacket,
        ),
        // [MQTT-3.2.2-1]: reserved Connect Acknowledge Flags.
        m(
            "CONNACK reserved flag bits",
            V5,
            false,
            &[0x20, 0x03, 0x02, 0x00, 0x00],
            DecodeError::ReservedBitSet(PacketType::ConnAck),
            ReasonCode::MalformedPacket,
        ),
        m(
            "CONNACK fixed header flags",
            V5,
            false,
            &[0x21, 0x03, 0x00, 0x00, 0x00],
            DecodeError::InvalidFlags {
                packet: PacketType::ConnAck,
                flags: 1,
            },
            ReasonCode::MalformedPacket,
        ),
        m(
            "CONNACK Receive Maximum twice",
            V5,
            false,
            &[
                0x20, 0x09, 0x00, 0x00, 0x06, 0x21, 0x00, 0x0A, 0x21, 0x00, 0x0A,
            ],
            DecodeError::DuplicateProperty(PropertyId::ReceiveMaximum),
            ReasonCode::ProtocolError,
        ),
        // [MQTT-3.1.2-24]: over our Maximum Packet Size (64): refused on
        // the fixed header, before the body arrives.
        m(
            "PUBLISH over Maximum Packet Size",
            V5,
            true,
            &[0x30, 0x64],
            DecodeError::PacketTooLarge { size: 102, max: 64 },
            ReasonCode::PacketTooLarge,
        ),
        m(
            "PUBLISH topic with a wildcard",
            V5,
            true,
            &[0x30, 0x06, 0x00, 0x03, b'a', b'/', b'+', 0x00],
            DecodeError::TopicNameInvalid(TopicError::WildcardInName),
            ReasonCode::TopicNameInvalid,
        ),
        m(
            "Variable Byte Integer of five bytes",
            V5,
            true,
            &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            DecodeError::VarIntTooLong,
            ReasonCode::MalformedPacket,
        ),
        // 3.1.1 has no AUTH, and no DISCONNECT for a client to send.
        m(
            "AUTH in 3.1.1",
            V311,
            true,
            &[0xF0, 0x00],
            DecodeError::InvalidPacketType(15),
            ReasonCode::MalformedPacket,
        ),
        m(
            "CONNACK return code 6 in 3.1.1",
            V311,
            false,
            &[0x20, 0x02, 0x00, 0x06],
            DecodeError::InvalidReasonCode {
                code: 6,
                packet: PacketType::ConnAck,
            },
            ReasonCode::MalformedPacket,
        ),
    ]
}

#[test]
fn malformed_bytes_close_the_connection_with_the_right_reason_code() {
    // Section 4.13: a Malformed Packet or Protocol Error from the server
    // closes the connection, with DISCONNECT and the reason code in MQTT 5.0.
    for case in malformed_cases() {
        // The codec agrees on the error, so the table is about the session.
        let mut buf = BytesMut::from(case.bytes);
        assert_eq!(
            decode_packet(&mut buf, case.version, 64),
            Err(case.error),
            "{}",
            case.name
        );
        assert_eq!(case.error.reason_code(), case.code, "{}", case.name);
        // Whole, and one byte at a time.
        for chunked in [false, true] {
            let mut peer = Peer::new(Options {
                protocol_version: case.version,
                client_id: "c".into(),
                properties: Properties {
                    maximum_packet_size: (case.version == ProtocolVersion::V5).then_some(64),
                    ..Properties::default()
                },
                ..Options::default()
            });
            open_connection(&mut peer, case.connected);
            let before = peer.session.metrics();
            if chunked {
                for b in case.bytes {
                    peer.send_raw(&[*b]);
                }
            } else {
                peer.send_raw(case.bytes);
            }
            let events = assert_closed_for_protocol_error(
                &mut peer,
                case.code,
                ProtocolError::Decode(case.error),
            );
            assert_eq!(reconnects_scheduled(&events).len(), 1, "{}", case.name);
            // No further packets are processed on this connection.
            peer.send(Packet::Publish(incoming("t", QoS::AtLeastOnce, 1, b"")));
            peer.send(Packet::PingResp);
            assert!(peer.events().is_empty(), "{}", case.name);
            assert!(peer.sent().is_empty(), "{}", case.name);
            assert_eq!(peer.session.metrics().packets_in, before.packets_in);
        }
    }
}

#[test]
fn a_valid_packet_before_malformed_bytes_in_one_chunk_is_still_handled() {
    let mut peer = Peer::new(Options::default());
    peer.connect();
    let mut bytes = Vec::new();
    Packet::Publish(publish("ok", QoS::AtMostOnce, b"1"))
        .encode(ProtocolVersion::V5, &mut bytes)
        .unwrap();
    bytes.extend_from_slice(&[0x00, 0x00]);
    peer.send_raw(&bytes);
    let sent = peer.sent();
    assert_eq!(
        sent,
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::MalformedPacket
        ))]
    );
    let events = peer.events();
    assert!(matches!(events[0], Event::Message(ref m) if m.topic.as_str() == "ok"));
    assert_eq!(
        events[1],
        Event::Disconnected(ConnectionError::Protocol(ProtocolError::Decode(
            DecodeError::InvalidPacketType(0)
        )))
    );
}

#[test]
fn after_a_protocol_error_the_reconnect_decodes_afresh() {
    // The broken stream does not leak into the next connection.
    let mut peer = Peer::new(Options::default());
    peer.connect();
    peer.send_raw(&[0x36, 0x00]);
    assert!(!peer.session.is_connected());
    // The transport closing afterwards is not a second loss.
    let events = peer.drop_and_wait_for_reconnect();
    let disconnects = events
        .iter()
        .filter(|e| matches!(e, Event::Disconnected(_)))
        .count();
    assert_eq!(disconnects, 1, "{events:?}");
    peer.sent();
    assert!(matches!(peer.connect().as_slice(), [Event::Connected(_)]));
    peer.send(Packet::Publish(publish("t", QoS::AtMostOnce, b"")));
    assert!(matches!(peer.events().as_slice(), [Event::Message(_)]));
}

/// A piece of what a broken broker might send: a valid packet or noise.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        Just(Packet::PingResp),
        Just(Packet::ConnAck(ConnAck::default())),
        Just(Packet::Publish(publish("t", QoS::AtMostOnce, b"p"))),
        (1..=u16::MAX).prop_map(|id| Packet::Publish(incoming("t/q", QoS::ExactlyOnce, id, b"q"))),
        (1..=u16::MAX).prop_map(|id| Packet::PubRel(PubRel::new(pid(id)))),
        Just(Packet::Disconnect(Disconnect::new(ReasonCode::ServerBusy))),
    ]
    .prop_map(|p| {
        let mut out = Vec::new();
        // Encoded as MQTT 5.0; read as 3.1.1 some of these are malformed too.
        p.encode(ProtocolVersion::V5, &mut out).unwrap();
        out
    });
    prop_oneof![valid, proptest::collection::vec(any::<u8>(), 0..12)]
}

proptest! {
    #[test]
    fn whatever_arrives_the_session_never_panics_and_closes_cleanly(
        v5 in any::<bool>(),
        connected in any::<bool>(),
        pieces in proptest::collection::vec(piece(), 0..8),
        split in any::<prop::sample::Index>(),
    ) {
        let version = if v5 { ProtocolVersion::V5 } else { ProtocolVersion::V311 };
        let mut peer = Peer::new(Options {
            protocol_version: version,
            client_id: "c".into(),
            ..Options::default()
        });
        open_connection(&mut peer, connected);
        let bytes = pieces.concat();
        let (a, b) = bytes.split_at(split.index(bytes.len() + 1));
        peer.send_raw(a);
        peer.send_raw(b);
        // Everything sent decodes (`sent` checks that).
        let sent = peer.sent();
        let events = peer.events();
        let closes: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Event::Disconnected(_)))
            .map(|(i, _)| i)
            .collect();
        prop_assert!(closes.len() <= 1, "{:?}", events);
        if let Some(&i) = closes.first() {
            prop_assert!(!peer.session.is_connected());
            // Nothing is delivered after the close.
            prop_assert!(
                events[i + 1..]
                    .iter()
                    .all(|e| matches!(e, Event::ReconnectScheduled { .. })),
                "{:?}",
                events
            );
            if let (Event::Disconnected(ConnectionError::Protocol(e)), true) = (&events[i], v5) {
                let code = match e.reason_code() {
                    c if c.is_valid_for(PacketType::Disconnect) => c,
                    _ => ReasonCode::ProtocolError,
                };
                // DISCONNECT is the last packet sent [MQTT-3.14.4-1].
                prop_assert_eq!(sent.last(), Some(&Packet::Disconnect(Disconnect::new(code))));
            }
        }
    }
}

// ----- metrics -----

fn wire_len(packets: &[Packet], version: ProtocolVersion) -> u64 {
    packets.iter().map(|p| p.encoded_len(version) as u64).sum()
}

#[test]
fn metrics_count_bytes_packets_and_messages_both_ways() {
    let v = ProtocolVersion::V5;
    let mut peer = Peer::new(Options {
        keep_alive: 10,
        ..Options::default()
    });
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    let (mut packets_in, mut packets_out) = (0u64, 0u64);
    let mut receive = |peer: &mut Peer, packet: Packet| {
        bytes_in += packet.encoded_len(v) as u64;
        packets_in += 1;
        peer.send(packet);
    };
    let mut take = |peer: &mut Peer| {
        let sent = peer.sent();
        bytes_out += wire_len(&sent, v);
        packets_out += sent.len() as u64;
        sent
    };

    peer.session.connect(peer.now).unwrap();
    take(&mut peer);
    receive(&mut peer, Packet::ConnAck(ConnAck::default()));
    // Two messages out: QoS 1 (acknowledged) and QoS 0.
    peer.session
        .publish(peer.now, publish("a", QoS::AtLeastOnce, b"hello"))
        .unwrap();
    peer.session
        .publish(peer.now, publish("b", QoS::AtMostOnce, b"x"))
        .unwrap();
    let out = take(&mut peer);
    assert_eq!(out.len(), 2);
    let Packet::Publish(p) = &out[0] else {
        panic!()
    };
    receive(
        &mut peer,
        Packet::PubAck(wasmqtt_codec::PubAck::new(p.packet_id.unwrap())),
    );
    // Two messages in: QoS 1, and QoS 2 sent twice (DUP) then released.
    receive(
        &mut peer,
        Packet::Publish(incoming("in/1", QoS::AtLeastOnce, 7, b"one")),
    );
    let mut q2 = incoming("in/2", QoS::ExactlyOnce, 8, b"two");
    receive(&mut peer, Packet::Publish(q2.clone()));
    q2.dup = true;
    receive(&mut peer, Packet::Publish(q2));
    receive(&mut peer, Packet::PubRel(PubRel::new(pid(8))));
    let answers = take(&mut peer);
    assert_eq!(
        answers.len(),
        4,
        "PUBACK, PUBREC, PUBREC, PUBCOMP: {answers:?}"
    );
    // A ping round.
    peer.advance(10_000);
    assert_eq!(take(&mut peer), [Packet::PingReq]);
    receive(&mut peer, Packet::PingResp);
    // Bytes in count as they arrive, whole packets or not.
    peer.send_raw(&[0x30]);

    let m = peer.session.metrics();
    assert_eq!(m.packets_out, 8);
    assert_eq!(m.packets_in, 7);
    assert_eq!((m.packets_in, m.packets_out), (packets_in, packets_out));
    assert_eq!(m.bytes_out, bytes_out);
    assert_eq!(m.bytes_in, bytes_in + 1);
    assert_eq!(m.messages_out, 2);
    assert_eq!(m.messages_in, 2);
    assert_eq!(m.in_flight, 0);
    assert_eq!(m.queued, 0);
    assert_eq!(m.reconnects, 0);
}

#[test]
fn metrics_in_flight_and_queued_follow_the_session() {
    let mut peer = Peer::new(Options::default());
    // Queued while offline.
    for _ in 0..3 {
        peer.session
            .publish(peer.now, publish("t", QoS::AtLeastOnce, b""))
            .unwrap();
    }
    assert_eq!(peer.session.metrics().queued, 3);
    assert_eq!(peer.session.metrics().messages_out, 0);
    peer.connect_with(connack_with(|p| p.receive_maximum = Some(2)));
    let m = peer.session.metrics();
    assert_eq!((m.in_flight, m.queued, m.messages_out), (2, 1, 2));
    // Re-sending after a resumed session is not a new message.
    peer.drop_and_wait_for_reconnect();
    peer.connect_with(ConnAck {
        session_present: true,
        properties: Properties {
            receive_maximum: Some(2),
            ..Properties::default()
        },
        ..ConnAck::default()
    });
    let resent = peer.sent();
    assert_eq!(resent.len(), 2);
    assert!(resent
        .iter()
        .all(|p| matches!(p, Packet::Publish(p) if p.dup)));
    let m = peer.session.metrics();
    assert_eq!((m.in_flight, m.queued, m.messages_out), (2, 1, 2));
    assert_eq!(m.reconnects, 1);
}

#[test]
fn server_auth_that_breaks_the_rules_is_a_protocol_error() {
    // [MQTT-4.12.0-5]: the same method; 0x19 is only the client's to send;
    // Success only ends a re-authentication, never a connect.
    let cases = [
        auth(ReasonCode::ContinueAuthentication, Some("OTHER"), b"x"),
        auth(ReasonCode::ReAuthenticate, Some(METHOD), b"x"),
        auth(ReasonCode::Success, Some(METHOD), b"x"),
    ];
    for bad in cases {
        let mut peer = Peer::new(auth_options());
        peer.session.connect(peer.now).unwrap();
        peer.sent();
        peer.send(Packet::Auth(bad.clone()));
        assert_closed_for_protocol_error(
            &mut peer,
            ReasonCode::ProtocolError,
            ProtocolError::UnexpectedPacket(wasmqtt_codec::PacketType::Auth),
        );
    }
}

#[test]
fn server_disconnect_with_session_expiry_is_a_protocol_error() {
    // [MQTT-3.14.2-2]: the server must not send Session Expiry Interval.
    let mut peer = Peer::new(Options::default());
    peer.connect();
    let mut d = Disconnect::new(ReasonCode::ServerShuttingDown);
    d.properties.session_expiry_interval = Some(10);
    peer.send(Packet::Disconnect(d));
    assert_closed_for_protocol_error(
        &mut peer,
        ReasonCode::ProtocolError,
        ProtocolError::SessionExpiryFromServer,
    );
}
