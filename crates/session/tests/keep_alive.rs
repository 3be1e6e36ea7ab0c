//! Keep alive (section 3.1.2.10): PINGREQ after silence, the ping timeout,
//! the Server Keep Alive override and the round-trip time.
mod common;

use common::*;
use wasmqtt_codec::{ConnAck, Packet, ProtocolVersion, QoS};
use wasmqtt_session::{ConnectionError, Event, Millis, Options};

/// When PINGREQ is due after a silence, in ms: Keep Alive less a tenth
/// of it, at most 1 s, the margin for timers that fire late.
fn due(keep_alive: u16) -> Millis {
    let k = Millis::from(keep_alive) * 1000;
    k - (k / 10).min(1_000)
}

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
fn pingreq_after_a_keep_alive_of_silence() {
    // [MQTT-3.1.2-20]: a PINGREQ when nothing else was sent for Keep Alive
    // (less the margin), in both protocol versions; each PINGRESP starts
    // the next interval.
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut peer = Peer::new(Options {
            protocol_version: version,
            client_id: "c".into(),
            ..options(10)
        });
        peer.connect();
        assert_eq!(pings_within(&mut peer, 35_000), [9_000, 18_000, 27_000]);
        assert!(peer.events().is_empty());
        assert!(peer.session.is_connected());
    }
}

/// Runs `rounds` keep-alive intervals with a timer that fires `late` ms
/// after `poll_timeout` asks, as browser timers do, answering each PINGREQ;
/// returns the gaps between consecutive packets sent (CONNECT first).
fn idle_gaps_with_late_timer(peer: &mut Peer, late: Millis, rounds: usize) -> Vec<Millis> {
    let mut last = peer.now;
    let mut gaps = Vec::new();
    while gaps.len() < rounds {
        let at = peer
            .session
            .poll_timeout()
            .expect("keep alive arms a timer");
        peer.now = at + late;
        peer.session.handle_timeout(peer.now);
        let sent = peer.sent();
        if sent.is_empty() {
            continue;
        }
        assert_eq!(sent, [Packet::PingReq]);
        gaps.push(peer.now - last);
        last = peer.now;
        peer.send(Packet::PingResp);
    }
    gaps
}

#[test]
fn a_late_timer_still_pings_within_keep_alive() {
    // Section 3.1.2.10: the gap between control packets the client sends
    // must not exceed Keep Alive. Browser timers fire a few ms late (a
    // second in a background tab), so the PINGREQ is due before that.
    for (keep_alive, late) in [(2, 6), (10, 3), (60, 1_000), (1, 50)] {
        let mut peer = Peer::new(options(keep_alive));
        peer.connect();
        let limit = Millis::from(keep_alive) * 1000;
        for gap in idle_gaps_with_late_timer(&mut peer, late, 3) {
            assert!(
                gap <= limit,
                "keep alive {keep_alive} s, late {late} ms: gap {gap} ms"
            );
        }
    }
    // The Server Keep Alive replaces ours, margin included.
    let mut peer = Peer::new(options(60));
    peer.connect_with(connack_with(|p| p.server_keep_alive = Some(10)));
    for gap in idle_gaps_with_late_timer(&mut peer, 3, 3) {
        assert!(gap <= 10_000, "server keep alive 10 s: gap {gap} ms");
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
    assert_eq!(pings_within(&mut peer, 10_000), [due(10)]);
    // A PUBACK we owe is a packet sent as well.
    peer.advance(3_000);
    peer.send(Packet::Publish(incoming("in", QoS::AtLeastOnce, 1, b"")));
    assert!(matches!(peer.sent().as_slice(), [Packet::PubAck(_)]));
    assert_eq!(pings_within(&mut peer, 10_000), [due(10)]);
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
        peer.advance(due(10));
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
    peer.advance(due(10));
    assert_eq!(peer.sent(), [Packet::PingReq]);
    peer.advance(1_000);
    // A message instead of PINGRESP: the server is there.
    peer.send(Packet::Publish(publish("in", QoS::AtMostOnce, b"")));
    peer.advance(due(10) - 1_001);
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
    // Each PINGREQ is due (a keep alive less the margin) after the previous one.
    let mut until_ping = due(10);
    for rtt in [250, 40] {
        peer.advance(until_ping - 1);
        assert!(peer.sent().is_empty());
        peer.advance(1);
        assert_eq!(peer.sent(), [Packet::PingReq]);
        peer.advance(rtt);
        peer.send(Packet::PingResp);
        assert_eq!(peer.session.metrics().round_trip_time, Some(rtt));
        until_ping = due(10) - rtt;
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
        (60, Some(5), Some(due(5))),
        (0, Some(20), Some(due(20))),
        (30, Some(0), None),
        (0, None, None),
        (7, None, Some(due(7))),
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
    peer.advance(due(10));
    assert_eq!(peer.sent(), [Packet::PingReq]);
    peer.drop_and_wait_for_reconnect();
    peer.connect();
    let events = peer.events();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(pings_within(&mut peer, 10_000), [due(10)]);
    assert!(peer.session.is_connected());
}
