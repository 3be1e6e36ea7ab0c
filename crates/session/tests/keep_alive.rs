//! Keep alive (section 3.1.2.10): PINGREQ after silence, the ping timeout,
//! the Server Keep Alive override and the round-trip time.
mod common;

use common::*;
use wasmqtt_codec::{ConnAck, Packet, ProtocolVersion, QoS};
use wasmqtt_session::{ConnectionError, Event, Millis, Options};

fn options(keep_alive: u16) -> Options {
    Options {
        keep_alive,
        ..Options::default()
    }
}

/// Advances one millisecond at a time for `ms` and returns the offsets
/// (from the start) at which the session sent PINGREQ.
fn pings_within(peer: &mut Peer, ms: Millis) -> Vec<Millis> {
    let start = peer.now;
    let mut at = Vec::new();
    for _ in 0..ms {
        peer.advance(1);
        for p in peer.sent() {
            assert_eq!(p, Packet::PingReq, "only PINGREQ expected");
            at.push(peer.now - start);
            peer.send(Packet::PingResp);
        }
    }
    at
}

#[test]
fn pingreq_exactly_after_a_keep_alive_of_silence() {
    // [MQTT-3.1.2-20]: a PINGREQ when nothing else was sent for Keep Alive,
    // in both protocol versions; each PINGRESP starts the next interval.
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut peer = Peer::new(Options {
            protocol_version: version,
            client_id: "c".into(),
            ..options(10)
        });
        peer.connect();
        assert_eq!(pings_within(&mut peer, 35_000), [10_000, 20_000, 30_000]);
        assert!(peer.events().is_empty());
        assert!(peer.session.is_connected());
    }
}

#[test]
fn sending_anything_postpones_the_pingreq() {
    // Keep Alive counts from the last packet sent, whatever it was.
    let mut peer = Peer::new(options(10));
    peer.connect();
    peer.advance(6_000);
    peer.session
        .publish(peer.now, publish("t", QoS::AtMostOnce, b"x"))
        .unwrap();
    assert_eq!(peer.sent().len(), 1);
    // The server sending does not count: the interval is about what we send.
    peer.send(Packet::Publish(publish("in", QoS::AtMostOnce, b"")));
    assert_eq!(pings_within(&mut peer, 10_000), [10_000]);
    // A PUBACK we owe is a packet sent as well.
    peer.advance(3_000);
    peer.send(Packet::Publish(incoming("in", QoS::AtLeastOnce, 1, b"")));
    assert!(matches!(peer.sent().as_slice(), [Packet::PubAck(_)]));
    assert_eq!(pings_within(&mut peer, 10_000), [10_000]);
}

#[test]
fn no_answer_to_pingreq_is_a_keep_alive_timeout() {
    // A Client SHOULD close when PINGRESP does not come (section 3.1.2.10);
    // the wait is half the keep alive unless configured.
    let cases: [(Option<Millis>, Millis); 3] =
        [(None, 5_000), (Some(2_000), 2_000), (Some(30_000), 30_000)];
    for (ping_timeout, wait) in cases {
        let mut peer = Peer::new(Options {
            ping_timeout,
            ..options(10)
        });
        peer.connect();
        peer.advance(10_000);
        assert_eq!(peer.sent(), [Packet::PingReq]);
        peer.advance(wait - 1);
        assert!(peer.events().is_empty(), "{ping_timeout:?}");
        assert!(peer.sent().is_empty());
        peer.advance(1);
        let events = peer.events();
        assert_eq!(
            events.first(),
            Some(&Event::Disconnected(ConnectionError::KeepAliveTimeout)),
            "{ping_timeout:?}"
        );
        assert_eq!(reconnects_scheduled(&events).len(), 1);
        assert!(!peer.session.is_connected());
        // No DISCONNECT: the server is not listening anyway.
        assert!(peer.sent().is_empty());
    }
}

#[test]
fn any_packet_after_pingreq_shows_the_server_is_alive() {
    let mut peer = Peer::new(options(10));
    peer.connect();
    peer.advance(10_000);
    assert_eq!(peer.sent(), [Packet::PingReq]);
    peer.advance(1_000);
    // A message instead of PINGRESP: the server is there.
    peer.send(Packet::Publish(publish("in", QoS::AtMostOnce, b"")));
    peer.advance(8_999);
    assert!(matches!(peer.events().as_slice(), [Event::Message(_)]));
    assert!(peer.session.is_connected());
    // It only proves liveness; the round trip is measured on PINGRESP alone.
    assert_eq!(peer.session.metrics().round_trip_time, None);
    // The next interval still counts from the PINGREQ.
    peer.advance(1);
    assert_eq!(peer.sent(), [Packet::PingReq]);
}

#[test]
fn round_trip_time_comes_from_pingreq_and_pingresp() {
    let mut peer = Peer::new(options(10));
    peer.connect();
    assert_eq!(peer.session.metrics().round_trip_time, None);
    // Each PINGREQ is due a keep alive after the previous one.
    let mut until_ping = 10_000;
    for rtt in [250, 40] {
        peer.advance(until_ping - 1);
        assert!(peer.sent().is_empty());
        peer.advance(1);
        assert_eq!(peer.sent(), [Packet::PingReq]);
        peer.advance(rtt);
        peer.send(Packet::PingResp);
        assert_eq!(peer.session.metrics().round_trip_time, Some(rtt));
        until_ping = 10_000 - rtt;
    }
    // An unsolicited PINGRESP changes nothing.
    peer.advance(1_000);
    peer.send(Packet::PingResp);
    assert_eq!(peer.session.metrics().round_trip_time, Some(40));
    assert!(peer.session.is_connected());
}

#[test]
fn server_keep_alive_overrides_ours_and_zero_turns_it_off() {
    // [MQTT-3.1.2-21]: the Client uses the Server Keep Alive instead of its
    // own; a Keep Alive of 0 turns keep-alive off (section 3.1.2.10).
    let cases: [(u16, Option<u16>, Option<Millis>); 5] = [
        (60, Some(5), Some(5_000)),
        (0, Some(20), Some(20_000)),
        (30, Some(0), None),
        (0, None, None),
        (7, None, Some(7_000)),
    ];
    for (ours, servers, interval) in cases {
        let mut peer = Peer::new(options(ours));
        peer.connect_with(ConnAck {
            properties: wasmqtt_codec::Properties {
                server_keep_alive: servers,
                ..Default::default()
            },
            ..ConnAck::default()
        });
        assert_eq!(peer.session.server().server_keep_alive, servers);
        let start = peer.now;
        let pings = pings_within(&mut peer, 45_000);
        match interval {
            Some(i) => {
                assert_eq!(pings.first(), Some(&i), "ours={ours} server={servers:?}");
                assert_eq!(pings.len() as Millis, 45_000 / i);
            }
            None => {
                assert!(pings.is_empty(), "ours={ours} server={servers:?}");
                // Nothing to wake up for at all.
                assert_eq!(peer.session.poll_timeout(), None);
            }
        }
        assert_eq!(peer.now - start, 45_000);
        assert!(peer.session.is_connected());
    }
}

#[test]
fn keep_alive_restarts_on_a_new_connection() {
    // A PINGREQ pending when the connection drops is forgotten: the new
    // connection's first PINGREQ comes a full interval after its CONNECT.
    let mut peer = Peer::new(options(10));
    peer.connect();
    peer.advance(10_000);
    assert_eq!(peer.sent(), [Packet::PingReq]);
    peer.drop_and_wait_for_reconnect();
    peer.connect();
    let events = peer.events();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(pings_within(&mut peer, 10_000), [10_000]);
    assert!(peer.session.is_connected());
}
