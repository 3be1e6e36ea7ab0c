//! Malformed and rule-breaking input: the spec's reason code in DISCONNECT
//! (or CONNACK for a bad CONNECT), the connection closed, no harm to
//! other clients [MQTT-4.13.1-1].
mod common;

use std::net::SocketAddr;

use common::*;
use wasmqtt_codec::{Packet, ProtocolVersion, QoS, ReasonCode};

/// A subscriber and a publisher that must keep working throughout.
struct Bystanders {
    sub: Client,
    publ: Client,
    n: u32,
}

impl Bystanders {
    async fn new(addr: SocketAddr) -> Self {
        let mut sub = Client::v5(addr, "bystander-sub").await;
        sub.subscribe("fine", QoS::AtLeastOnce).await;
        let publ = Client::v5(addr, "bystander-pub").await;
        Self { sub, publ, n: 0 }
    }

    /// A message from one bystander reaches the other.
    async fn check(&mut self) {
        self.n += 1;
        let payload = self.n.to_string();
        assert_eq!(
            self.publ.publish1("fine", payload.as_bytes()).await,
            ReasonCode::Success
        );
        assert_eq!(
            self.sub.recv_acked().await.payload.as_ref(),
            payload.as_bytes()
        );
    }
}

/// A PUBLISH body at QoS 0: topic, Property Length and properties, payload.
fn publish_body(topic: &[u8], properties: &[u8]) -> Vec<u8> {
    let mut body = raw_str(topic);
    body.push(properties.len() as u8);
    body.extend_from_slice(properties);
    body.extend_from_slice(b"payload");
    body
}

#[tokio::test]
async fn each_broken_packet_gets_its_reason_code() {
    // [MQTT-4.13.1-1]; each case names the statement it breaks.
    use ReasonCode::{MalformedPacket as M, ProtocolError as P, TopicNameInvalid as T};
    let b = broker().await;
    let addr = b.tcp[0];
    let mut ok = Bystanders::new(addr).await;
    let mut qos1_zero_id = raw_str(b"t");
    qos1_zero_id.extend([0, 0, 0]);
    let cases: Vec<(&str, Vec<u8>, ReasonCode)> = vec![
        // [MQTT-2.1.3-1]: reserved fixed header flags.
        (
            "SUBSCRIBE flags 0",
            raw_packet(0x80, &[0, 1, 0, 0, 1, b'a', 0]),
            M,
        ),
        ("PUBREL flags 0", raw_packet(0x60, &[0, 1]), M),
        ("PINGREQ flags 1", vec![0xC1, 0], M),
        // [MQTT-3.3.1-4]
        ("PUBLISH QoS 3", raw_packet(0x36, &[0, 1, b't', 0, 1, 0]), M),
        // [MQTT-3.3.1-2]
        (
            "DUP at QoS 0",
            raw_packet(0x38, &publish_body(b"t", &[])),
            M,
        ),
        // [MQTT-1.5.4-1]
        (
            "invalid UTF-8",
            raw_packet(0x30, &publish_body(&[0xC3, 0x28], &[])),
            M,
        ),
        (
            "UTF-16 surrogate",
            raw_packet(0x30, &publish_body(&[0xED, 0xA0, 0x80], &[])),
            M,
        ),
        // [MQTT-1.5.4-2]
        (
            "U+0000 in topic",
            raw_packet(0x30, &publish_body(b"a\0b", &[])),
            M,
        ),
        // [MQTT-3.3.2-2] [MQTT-4.7.0-1]
        (
            "'+' in topic name",
            raw_packet(0x30, &publish_body(b"a/+", &[])),
            T,
        ),
        (
            "'#' in topic name",
            raw_packet(0x30, &publish_body(b"#", &[])),
            T,
        ),
        // [MQTT-2.2.1-3]
        ("PUBLISH packet id 0", raw_packet(0x32, &qos1_zero_id), P),
        (
            "SUBSCRIBE packet id 0",
            raw_packet(0x82, &[0, 0, 0, 0, 1, b'a', 0]),
            P,
        ),
        // [MQTT-1.5.5-1], section 2.1.4: at most four bytes, minimal.
        (
            "5-byte Remaining Length",
            vec![0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            M,
        ),
        ("non-minimal Remaining Length", vec![0xC0, 0x80, 0x00], M),
        ("packet type 0", vec![0x00, 0x00], M),
        ("bytes after PINGREQ", vec![0xC0, 0x01, 0x00], M),
        ("PUBACK without packet id", raw_packet(0x40, &[0]), M),
        // Packets only a server sends.
        ("CONNACK from a client", raw_packet(0x20, &[0, 0, 0]), P),
        ("SUBACK from a client", raw_packet(0x90, &[0, 1, 0, 0]), P),
        // [MQTT-3.8.3-2] [MQTT-3.10.3-2]
        ("SUBSCRIBE without filters", raw_packet(0x82, &[0, 1, 0]), P),
        (
            "UNSUBSCRIBE without filters",
            raw_packet(0xA2, &[0, 1, 0]),
            P,
        ),
        // [MQTT-3.8.3-5]: reserved option bits; Retain Handling 3.
        (
            "subscription option bits 6-7",
            raw_subscribe(1, &[("a", 0xC0)]),
            M,
        ),
        ("Retain Handling 3", raw_subscribe(1, &[("a", 0x30)]), P),
        // Section 2.2.2.2: properties.
        (
            "unknown property",
            raw_packet(0x30, &publish_body(b"t", &[0x7F])),
            M,
        ),
        (
            "Content Type twice",
            raw_packet(0x30, &publish_body(b"t", &[3, 0, 1, b'a', 3, 0, 1, b'b'])),
            P,
        ),
        (
            "Session Expiry in PUBLISH",
            raw_packet(0x30, &publish_body(b"t", &[0x11, 0, 0, 0, 1])),
            M,
        ),
        // [MQTT-3.3.4-6]
        (
            "Subscription Identifier from a client",
            raw_packet(0x30, &publish_body(b"t", &[0x0B, 1])),
            P,
        ),
        // [MQTT-3.3.2-1]: an empty topic needs a Topic Alias.
        (
            "empty topic without alias",
            raw_packet(0x30, &publish_body(b"", &[])),
            P,
        ),
        // [MQTT-3.1.0-2]: a second CONNECT, even one for an unknown
        // protocol level (whose 0x84 DISCONNECT cannot carry).
        (
            "second CONNECT, level 6",
            {
                let mut body = raw_str(b"MQTT");
                body.extend([6, 0x02, 0, 60]);
                body.extend(raw_str(b"c"));
                raw_packet(0x10, &body)
            },
            P,
        ),
        // Section 3.14.2.1: a reason code DISCONNECT does not have.
        ("DISCONNECT reason 0x05", raw_packet(0xE0, &[0x05]), M),
    ];
    for (i, (what, bytes, code)) in cases.into_iter().enumerate() {
        let mut bad = Client::v5(addr, &format!("bad{i}")).await;
        bad.send_raw(&bytes).await;
        match bad.recv().await {
            Some(Packet::Disconnect(d)) => assert_eq!(d.reason_code, code, "{what}"),
            other => panic!("{what}: expected DISCONNECT {code:?}, got {other:?}"),
        }
        bad.expect_closed().await;
        ok.check().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn bad_connect_is_refused_with_connack_or_closed() {
    // [MQTT-3.1.2-3]: the reserved CONNECT flag; [MQTT-3.1.2-11] will
    // flags without a will; [MQTT-3.1.2-1] the protocol name. An MQTT 5.0
    // CONNECT gets CONNACK with the reason code [MQTT-4.13.1-1]; one that
    // cannot be told apart is just closed.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut ok = Bystanders::new(addr).await;
    let connect_bytes = |name: &[u8], level: u8, flags: u8, props: &[u8]| {
        let mut body = raw_str(name);
        body.extend([level, flags, 0, 60]);
        if level == 5 {
            body.push(props.len() as u8);
            body.extend_from_slice(props);
        }
        body.extend(raw_str(b"id"));
        raw_packet(0x10, &body)
    };
    use ReasonCode::{MalformedPacket as M, ProtocolError as P};
    for (what, bytes, code) in [
        (
            "reserved flag",
            connect_bytes(b"MQTT", 5, 0x03, &[]),
            Some(M),
        ),
        (
            "will QoS without will",
            connect_bytes(b"MQTT", 5, 0x0A, &[]),
            Some(M),
        ),
        (
            "will retain without will",
            connect_bytes(b"MQTT", 5, 0x22, &[]),
            Some(M),
        ),
        (
            "Receive Maximum 0",
            connect_bytes(b"MQTT", 5, 0x02, &[0x21, 0, 0]),
            Some(P),
        ),
        ("protocol name", connect_bytes(b"MQTX", 5, 0x02, &[]), None),
        (
            "3.1.1 reserved flag",
            connect_bytes(b"MQTT", 4, 0x03, &[]),
            None,
        ),
    ] {
        let mut c = Client::open(addr, ProtocolVersion::V5).await;
        c.send_raw(&bytes).await;
        match (c.recv().await, code) {
            (Some(Packet::ConnAck(a)), Some(code)) => assert_eq!(a.reason_code, code, "{what}"),
            (None, None) => {}
            (other, _) => panic!("{what}: expected CONNACK {code:?}, got {other:?}"),
        }
        c.expect_closed().await;
        ok.check().await;
    }
    b.shutdown().await;
}

#[tokio::test]
async fn publish_before_connect_is_not_processed() {
    // [MQTT-3.1.0-1] [MQTT-3.1.4-6]: the connection is closed and the
    // message goes nowhere.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut ok = Bystanders::new(addr).await;
    let mut c = Client::open(addr, ProtocolVersion::V5).await;
    c.send(Packet::Publish(publish("fine", QoS::AtMostOnce, b"sneaky")))
        .await;
    c.expect_closed().await;
    ok.check().await;
    ok.sub.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test]
async fn garbage_then_close_harms_no_one() {
    // [MQTT-4.13.1-1] [MQTT-3.1.0-1]: random bytes, before and after
    // CONNECT, never crash the broker or disturb other clients.
    let b = broker().await;
    let addr = b.tcp[0];
    let mut ok = Bystanders::new(addr).await;
    // Deterministic noise: before CONNECT, after CONNECT, and cut mid-packet.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect()
    };
    for i in 0..40 {
        let bytes = noise(1 + i * 7);
        if i % 2 == 0 {
            let mut c = Client::open(addr, ProtocolVersion::V5).await;
            c.send_raw(&bytes).await;
        } else {
            let mut c = Client::v5(addr, &format!("noisy{i}")).await;
            c.send_raw(&bytes).await;
        }
    }
    // A PUBLISH cut short by the close.
    let mut c = Client::v5(addr, "cut").await;
    c.send_raw(&[0x30, 0x20, 0x00, 0x05, b'f', b'i']).await;
    drop(c);
    ok.check().await;
    b.shutdown().await;
}
