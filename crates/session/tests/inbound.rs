//! What the server sends: application messages at QoS 0/1/2, our Receive
//! Maximum, and packets a server may not send.
mod common;

use common::*;
use wasmqtt_codec::{
    Auth, ConnAck, Connect, DecodeError, Packet, PacketType, Properties, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, QoS, ReasonCode, Subscribe, Unsubscribe,
};
use wasmqtt_session::{Event, Options, ProtocolError};

fn options_v(version: ProtocolVersion) -> Options {
    Options {
        protocol_version: version,
        ..Options::default()
    }
}

fn pubcomp(id: u16, reason_code: ReasonCode) -> Packet {
    Packet::PubComp(PubComp {
        reason_code,
        ..PubComp::new(pid(id))
    })
}

#[test]
fn each_qos_is_delivered_once_and_answered_as_its_qos_requires() {
    // [MQTT-3.3.4-1]: QoS 0 gets no answer, QoS 1 a PUBACK [MQTT-4.3.2-4],
    // QoS 2 a PUBREC [MQTT-4.3.3-8], each with the PUBLISH's Packet Identifier.
    let cases = [
        (QoS::AtMostOnce, vec![]),
        (QoS::AtLeastOnce, vec![Packet::PubAck(PubAck::new(pid(7)))]),
        (QoS::ExactlyOnce, vec![Packet::PubRec(PubRec::new(pid(7)))]),
    ];
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        for (qos, answer) in &cases {
            let mut peer = connected(options_v(version));
            peer.events();
            let message = incoming("a/b", *qos, 7, b"hello");
            peer.send(Packet::Publish(message.clone()));
            assert_eq!(
                peer.events(),
                vec![Event::Message(message)],
                "{version:?} {qos:?}"
            );
            assert_eq!(&peer.sent(), answer, "{version:?} {qos:?}");
            assert_eq!(peer.session.metrics().messages_in, 1);
        }
    }
}

#[test]
fn qos1_id_is_free_again_after_puback() {
    // [MQTT-4.3.2-5]: after PUBACK the same id, DUP or not, is a new message.
    let mut peer = connected(Options::default());
    let first = incoming("t", QoS::AtLeastOnce, 3, b"1");
    let mut again = incoming("t", QoS::AtLeastOnce, 3, b"2");
    again.dup = true;
    peer.send(Packet::Publish(first.clone()));
    peer.send(Packet::Publish(again.clone()));
    assert_eq!(messages(&peer.events()), vec![first, again]);
    assert_eq!(peer.sent(), vec![Packet::PubAck(PubAck::new(pid(3))); 2]);
}

#[test]
fn qos2_is_delivered_once_until_pubrel_then_the_id_is_new() {
    let mut peer = connected(Options::default());
    let message = incoming("t", QoS::ExactlyOnce, 9, b"once");
    peer.send(Packet::Publish(message.clone()));
    assert_eq!(messages(&peer.events()), vec![message.clone()]);
    assert_eq!(peer.sent(), vec![Packet::PubRec(PubRec::new(pid(9)))]);

    // [MQTT-4.3.3-10]: a repeat before PUBREL gets PUBREC again, no second delivery.
    let mut dup = message.clone();
    dup.dup = true;
    peer.send(Packet::Publish(dup.clone()));
    peer.send(Packet::Publish(dup));
    assert_eq!(peer.events(), vec![]);
    assert_eq!(peer.sent(), vec![Packet::PubRec(PubRec::new(pid(9))); 2]);

    // [MQTT-4.3.3-11]: PUBREL is answered with PUBCOMP for the same id.
    peer.send(Packet::PubRel(PubRel::new(pid(9))));
    assert_eq!(peer.sent(), vec![pubcomp(9, ReasonCode::Success)]);
    assert_eq!(peer.events(), vec![]);

    // [MQTT-4.3.3-12]: after PUBCOMP the id starts a new message.
    let next = incoming("t", QoS::ExactlyOnce, 9, b"next");
    peer.send(Packet::Publish(next.clone()));
    assert_eq!(messages(&peer.events()), vec![next]);
    assert_eq!(peer.sent(), vec![Packet::PubRec(PubRec::new(pid(9)))]);
    assert!(peer.session.is_connected());
}

#[test]
fn pubrel_for_an_unknown_id_is_answered_with_packet_identifier_not_found() {
    // MQTT 5.0 answers with 0x92; MQTT 3.1.1 has no reason codes.
    for (version, code) in [
        (ProtocolVersion::V5, ReasonCode::PacketIdentifierNotFound),
        (ProtocolVersion::V311, ReasonCode::Success),
    ] {
        let mut peer = connected(options_v(version));
        peer.send(Packet::PubRel(PubRel::new(pid(4))));
        assert_eq!(peer.sent(), vec![pubcomp(4, code)], "{version:?}");
        // A second PUBREL for an id already completed is unknown too.
        peer.send(Packet::Publish(incoming("t", QoS::ExactlyOnce, 5, b"")));
        peer.send(Packet::PubRel(PubRel::new(pid(5))));
        peer.send(Packet::PubRel(PubRel::new(pid(5))));
        assert_eq!(
            peer.sent(),
            vec![
                Packet::PubRec(PubRec::new(pid(5))),
                pubcomp(5, ReasonCode::Success),
                pubcomp(5, code),
            ],
            "{version:?}"
        );
        assert!(peer.session.is_connected());
    }
}

#[test]
fn more_unacknowledged_qos2_than_our_receive_maximum_is_a_protocol_error() {
    // [MQTT-3.3.4-9]: the server may have at most our Receive Maximum QoS 1/2
    // messages unacknowledged; QoS 2 ones stay so until PUBREL.
    let mut options = Options::default();
    options.properties.receive_maximum = Some(2);
    let mut peer = connected(options);
    for id in [1, 2] {
        peer.send(Packet::Publish(incoming("t", QoS::ExactlyOnce, id, b"")));
    }
    // QoS 1 is acknowledged at once and does not count; a repeat of a held id is no new message.
    peer.send(Packet::Publish(incoming("t", QoS::AtLeastOnce, 8, b"")));
    let mut dup = incoming("t", QoS::ExactlyOnce, 2, b"");
    dup.dup = true;
    peer.send(Packet::Publish(dup));
    // PUBREL frees a slot.
    peer.send(Packet::PubRel(PubRel::new(pid(1))));
    peer.send(Packet::Publish(incoming("t", QoS::ExactlyOnce, 3, b"")));
    assert_eq!(messages(&peer.events()).len(), 4);
    assert_eq!(peer.sent().len(), 6);

    peer.send(Packet::Publish(incoming("t", QoS::ExactlyOnce, 4, b"late")));
    let events = assert_closed_for_protocol_error(
        &mut peer,
        ReasonCode::ReceiveMaximumExceeded,
        ProtocolError::ReceiveMaximumExceeded,
    );
    assert!(messages(&events).is_empty(), "{events:?}");
}

#[test]
fn packets_a_server_may_not_send_are_protocol_errors() {
    let subscribe = Packet::Subscribe(Subscribe {
        packet_id: pid(1),
        properties: Properties::default(),
        subscriptions: vec![subscription("a", QoS::AtMostOnce)],
    });
    let unsubscribe = Packet::Unsubscribe(Unsubscribe {
        packet_id: pid(1),
        properties: Properties::default(),
        filters: vec!["a".into()],
    });
    let cases = [
        subscribe,
        unsubscribe,
        Packet::PingReq,
        Packet::Connect(Connect::default()),
        // [MQTT-3.2.0-2]: one CONNACK per connection.
        Packet::ConnAck(ConnAck::default()),
        // [MQTT-4.12.0-6]: no AUTH when CONNECT had no Authentication Method.
        Packet::Auth(Auth::default()),
    ];
    for packet in cases {
        let kind = packet.packet_type();
        let mut peer = connected(Options::default());
        peer.events();
        peer.send(packet);
        assert_closed_for_protocol_error(
            &mut peer,
            ReasonCode::ProtocolError,
            ProtocolError::UnexpectedPacket(kind),
        );
    }
}

#[test]
fn only_connack_or_auth_may_come_before_connack() {
    // [MQTT-3.2.0-1]
    let mut peer = Peer::new(Options::default());
    peer.session.connect(peer.now).unwrap();
    peer.sent();
    peer.send(Packet::Publish(incoming("t", QoS::AtMostOnce, 0, b"")));
    let events = assert_closed_for_protocol_error(
        &mut peer,
        ReasonCode::ProtocolError,
        ProtocolError::UnexpectedPacket(PacketType::Publish),
    );
    assert!(messages(&events).is_empty());
}

#[test]
fn acknowledgements_must_match_a_request_of_their_kind() {
    // The SUBSCRIBE each session sends takes id 1.
    let success = [ReasonCode::Success];
    let cases = [
        (suback(pid(2), &success), ProtocolError::UnknownPacketId(2)),
        (
            unsuback(pid(2), &success),
            ProtocolError::UnknownPacketId(2),
        ),
        (
            unsuback(pid(1), &success),
            ProtocolError::UnexpectedPacket(PacketType::UnsubAck),
        ),
    ];
    for (packet, error) in cases {
        let mut peer = connected(Options::default());
        subscribe_to(&mut peer, "s", QoS::AtMostOnce);
        peer.sent();
        peer.events();
        peer.send(packet);
        assert_closed_for_protocol_error(&mut peer, ReasonCode::ProtocolError, error);
    }
    // The right one is accepted.
    let mut peer = connected(Options::default());
    let token = subscribe_to(&mut peer, "s", QoS::AtMostOnce);
    peer.send(suback(pid(1), &success));
    assert!(matches!(
        peer.events().as_slice(),
        [Event::Subscribed { token: t, .. }] if *t == token
    ));
}

#[test]
fn malformed_packets_close_with_the_decoders_reason_code() {
    let cases: [(&[u8], DecodeError, ReasonCode); 2] = [
        // QoS 3 [MQTT-3.3.1-4].
        (
            &[0x36, 0x05, 0x00, 0x01, b't', 0x00, 0x01],
            DecodeError::InvalidQoS,
            ReasonCode::MalformedPacket,
        ),
        // PUBLISH with DUP at QoS 0 [MQTT-3.3.1-2].
        (
            &[0x38, 0x04, 0x00, 0x01, b't', 0x00],
            DecodeError::DupWithQoS0,
            ReasonCode::MalformedPacket,
        ),
    ];
    for (bytes, error, code) in cases {
        let mut peer = connected(Options::default());
        peer.events();
        peer.send_raw(bytes);
        assert_closed_for_protocol_error(&mut peer, code, ProtocolError::Decode(error));
    }
}

#[test]
fn packets_may_arrive_in_any_chunking() {
    let mut peer = connected(Options::default());
    let first = incoming("a", QoS::AtLeastOnce, 1, b"one");
    let second = incoming("b", QoS::AtMostOnce, 0, b"two");
    let mut bytes = Vec::new();
    for p in [&first, &second] {
        p.encode(ProtocolVersion::V5, &mut bytes).unwrap();
    }
    for byte in &bytes {
        peer.send_raw(std::slice::from_ref(byte));
    }
    assert_eq!(messages(&peer.events()), vec![first, second]);
    assert_eq!(peer.sent(), vec![Packet::PubAck(PubAck::new(pid(1)))]);
}
