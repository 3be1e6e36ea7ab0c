//! Request/response (section 4.10): a PUBLISH with a Response Topic and
//! Correlation Data, and the message that answers it.
mod common;

use bytes::Bytes;
use common::*;
use wasmqtt_codec::{
    ConnAck, Packet, ProtocolVersion, PubAck, Publish, QoS, ReasonCode, SubscriptionOptions,
    TopicName,
};
use wasmqtt_session::{Event, Options, PublishError, Token, UsageError};

fn device(client_id: &str) -> Options {
    Options {
        client_id: client_id.into(),
        keep_alive: 0,
        ..Options::default()
    }
}

/// A session connected as `dev1` that sent two requests; returns their
/// tokens and Correlation Data, and the response topic.
fn two_requests(peer: &mut Peer) -> (Vec<(Token, Bytes)>, TopicName) {
    let mut requests = Vec::new();
    for qos in [QoS::AtLeastOnce, QoS::AtMostOnce] {
        let token = peer
            .session
            .request(peer.now, publish("svc/time", qos, b"?"), 5_000)
            .unwrap();
        requests.push(token);
    }
    // A request's publish reports no outcome of its own: the request
    // ends with its response.
    assert_eq!(outcomes(&peer.events()), []);
    let sent = peer.sent();
    let sent_publishes = publishes(&sent);
    let topic = sent_publishes[0].properties.response_topic.clone().unwrap();
    let data = sent_publishes
        .iter()
        .map(|p| p.properties.correlation_data.clone().unwrap());
    (requests.into_iter().zip(data).collect(), topic)
}

#[test]
fn a_request_subscribes_once_and_carries_fresh_correlation_data() {
    let mut peer = connected(device("dev1"));
    let mut requests = Vec::new();
    for qos in [QoS::AtLeastOnce, QoS::AtMostOnce, QoS::ExactlyOnce] {
        requests.push(
            peer.session
                .request(peer.now, publish("svc/time", qos, b"?"), 5_000)
                .unwrap(),
        );
    }
    let sent = peer.sent();
    let Packet::Subscribe(s) = &sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(s.subscriptions.len(), 1);
    assert_eq!(s.subscriptions[0].filter, "wasmqtt/response/dev1");
    // Our own requests do not come back to us.
    assert_eq!(
        s.subscriptions[0].options,
        SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            no_local: true,
            ..SubscriptionOptions::default()
        }
    );
    let requests_sent = publishes(&sent);
    assert_eq!(
        sent.len(),
        1 + requests_sent.len(),
        "one SUBSCRIBE: {sent:?}"
    );
    let mut seen = Vec::new();
    for p in &requests_sent {
        assert_eq!(p.topic.as_str(), "svc/time");
        assert_eq!(p.payload.as_ref(), b"?");
        assert_eq!(
            p.properties.response_topic.as_ref().map(TopicName::as_str),
            Some("wasmqtt/response/dev1")
        );
        let data = p.properties.correlation_data.clone().unwrap();
        assert_eq!(data.len(), 16);
        assert!(!seen.contains(&data), "correlation data reused");
        seen.push(data);
    }
    assert_eq!(seen.len(), 3);
    // The acknowledgement of a request's publish is no outcome: the
    // request waits for its response.
    peer.send(Packet::PubAck(PubAck::new(
        requests_sent[0].packet_id.unwrap(),
    )));
    assert_eq!(outcomes(&peer.events()), []);
}

#[test]
fn only_the_matching_message_on_the_response_topic_is_a_response() {
    let mut peer = connected(device("dev1"));
    let (requests, topic) = two_requests(&mut peer);
    let (first, second) = (&requests[0], &requests[1]);
    let message = |topic: &str, data: Option<&Bytes>| {
        let mut m = incoming(topic, QoS::AtLeastOnce, 1, b"12:00");
        m.properties.correlation_data = data.cloned();
        m
    };
    let topic = topic.as_str();
    let cases: [(Publish, Option<Token>); 6] = [
        (message(topic, Some(&second.1)), Some(second.0)),
        // Answered already: a plain message now.
        (message(topic, Some(&second.1)), None),
        (message(topic, Some(&Bytes::from_static(b"other"))), None),
        (message("elsewhere", Some(&first.1)), None),
        (message(topic, None), None),
        (message(topic, Some(&first.1)), Some(first.0)),
    ];
    for (i, (m, response)) in cases.into_iter().enumerate() {
        peer.send(Packet::Publish(m.clone()));
        let expected = match response {
            Some(token) => Event::Response { token, message: m },
            None => Event::Message(m),
        };
        assert_eq!(peer.events(), vec![expected], "case {i}");
        // Acknowledged like any message.
        assert_eq!(peer.sent(), vec![Packet::PubAck(PubAck::new(pid(1)))]);
    }
}

#[test]
fn a_request_whose_publish_fails_ends_without_waiting() {
    let mut peer = connected(device("dev1"));
    let (requests, _) = two_requests(&mut peer);
    let (first, second) = (&requests[0], &requests[1]);
    // The QoS 1 request's PUBLISH is refused: the request ends now, as
    // RequestFailed, not as a publish outcome.
    let mut puback = PubAck::new(pid(2));
    puback.reason_code = ReasonCode::NotAuthorized;
    peer.send(Packet::PubAck(puback));
    assert_eq!(
        peer.events(),
        [Event::RequestFailed {
            token: first.0,
            error: PublishError::Rejected {
                reason_code: ReasonCode::NotAuthorized,
                reason_string: None,
            },
        }]
    );
    // Only the other one is left to time out.
    peer.advance(5_000);
    assert_eq!(peer.events(), [Event::RequestTimeout { token: second.0 }]);
}

#[test]
fn a_request_without_answer_times_out() {
    let mut peer = connected(device("dev1"));
    let start = peer.now;
    let (requests, topic) = two_requests(&mut peer);
    assert_eq!(peer.session.poll_timeout(), Some(start + 5_000));
    peer.advance(4_999);
    assert!(peer.events().is_empty());
    peer.advance(1);
    let timeouts: Vec<_> = requests
        .iter()
        .map(|&(token, _)| Event::RequestTimeout { token })
        .collect();
    assert_eq!(peer.events(), timeouts);
    assert_eq!(peer.session.poll_timeout(), None);
    // A late answer is an ordinary message.
    let mut late = incoming(topic.as_str(), QoS::AtMostOnce, 0, b"");
    late.properties.correlation_data = Some(requests[0].1.clone());
    peer.send(Packet::Publish(late.clone()));
    assert_eq!(peer.events(), vec![Event::Message(late)]);
}

#[test]
fn the_response_topic_follows_response_information_and_client_id() {
    // The Response Topic is a topic name: no wildcards [MQTT-3.3.2-14].
    let cases = [
        ("dev1", Some("resp/abc/"), None, Some("resp/abc/dev1")),
        ("dev1", Some("resp/abc"), None, Some("resp/abc/dev1")),
        ("dev1", Some(""), None, Some("wasmqtt/response/dev1")),
        ("dev1", None, None, Some("wasmqtt/response/dev1")),
        ("", Some("r"), Some("srv-7"), Some("r/srv-7")),
        // Not a valid topic level: some other unique name.
        ("a+b", None, None, None),
    ];
    for (client_id, information, assigned, expected) in cases {
        let mut options = device(client_id);
        options.properties.request_response_information = Some(true);
        let mut peer = Peer::new(options);
        peer.session.connect(peer.now).unwrap();
        let Packet::Connect(connect) = &peer.sent()[0] else {
            panic!()
        };
        assert_eq!(connect.properties.request_response_information, Some(true));
        peer.send(Packet::ConnAck(connack_with(|p| {
            p.response_information = information.map(Into::into);
            p.assigned_client_identifier = assigned.map(Into::into);
        })));
        peer.session
            .request(peer.now, publish("svc", QoS::AtMostOnce, b""), 1_000)
            .unwrap();
        let sent = peer.sent();
        let Packet::Subscribe(s) = &sent[0] else {
            panic!("{sent:?}")
        };
        let topic = publishes(&sent)[0]
            .properties
            .response_topic
            .clone()
            .unwrap();
        assert_eq!(s.subscriptions[0].filter, topic.as_str());
        match expected {
            Some(expected) => assert_eq!(topic.as_str(), expected),
            None => {
                assert!(topic.as_str().starts_with("wasmqtt/response/"), "{topic}");
                assert!(!topic.as_str().contains(['+', '#']), "{topic}");
            }
        }
    }
}

#[test]
fn requests_need_mqtt5() {
    let mut peer = connected(Options {
        protocol_version: ProtocolVersion::V311,
        ..device("dev1")
    });
    assert_eq!(
        peer.session
            .request(peer.now, publish("svc", QoS::AtLeastOnce, b""), 1_000),
        Err(UsageError::NotInV311)
    );
    assert!(peer.sent().is_empty());
    assert_eq!(peer.session.subscriptions().count(), 0);
    assert_eq!(peer.session.poll_timeout(), None);
}

#[test]
fn a_request_made_offline_goes_out_after_connack() {
    let mut peer = Peer::new(device("dev1"));
    let token = peer
        .session
        .request(peer.now, publish("svc", QoS::AtLeastOnce, b""), 60_000)
        .unwrap();
    assert!(peer.sent().is_empty());
    peer.connect_with(ConnAck::default());
    let sent = peer.sent();
    assert!(
        matches!(sent.as_slice(), [Packet::Subscribe(_), Packet::Publish(_)]),
        "{sent:?}"
    );
    let request = &publishes(&sent)[0];
    let mut answer = incoming("wasmqtt/response/dev1", QoS::AtMostOnce, 0, b"ok");
    answer.properties.correlation_data = request.properties.correlation_data.clone();
    peer.send(Packet::Publish(answer.clone()));
    assert_eq!(
        peer.events(),
        vec![Event::Response {
            token,
            message: answer
        }]
    );
}
