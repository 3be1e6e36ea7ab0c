//! The `$control/...` fault-injection topics (`Config.test_control`) and
//! graceful shutdown.
mod common;

use common::*;
use wasmqtt_codec::{Packet, ProtocolVersion, QoS, ReasonCode};

async fn control_broker() -> wasmqtt_broker::Broker {
    broker_with(|c| c.test_control = true).await
}

/// A victim with a will on `w/{id}`, and a watcher subscribed to `w/#`.
async fn victim_and_watcher(addr: std::net::SocketAddr, id: &str) -> (Client, Client) {
    let mut watcher = Client::v5(addr, &format!("{id}-watcher")).await;
    watcher.subscribe("w/#", QoS::AtMostOnce).await;
    let (victim, _) = connect_with(addr, id, |c| {
        c.will = Some(will(&format!("w/{id}"), b"will"));
    })
    .await;
    (victim, watcher)
}

#[tokio::test]
async fn drop_closes_the_connection_abruptly_and_the_will_fires() {
    // Test feature (no normative statement); the will follows [MQTT-3.1.2-8].
    let b = control_broker().await;
    let addr = b.tcp[0];
    let (mut victim, mut watcher) = victim_and_watcher(addr, "v").await;
    let mut ctl = Client::v5(addr, "ctl").await;
    assert_eq!(
        ctl.publish1("$control/drop/v", b"").await,
        ReasonCode::Success
    );
    victim.expect_closed().await; // no DISCONNECT
    assert_eq!(watcher.recv_publish().await.topic.as_str(), "w/v");
    b.shutdown().await;
}

#[tokio::test]
async fn disconnect_with_chosen_reason_and_server_reference() {
    // Section 4.11: Server Reference with 0x9C Use another server.
    let b = control_broker().await;
    let addr = b.tcp[0];
    let (mut victim, mut watcher) = victim_and_watcher(addr, "v").await;
    let mut ctl = Client::v5(addr, "ctl").await;
    ctl.publish1("$control/disconnect/v", b"0x9C,other.example:1883")
        .await;
    match victim.recv().await {
        Some(Packet::Disconnect(d)) => {
            assert_eq!(d.reason_code, ReasonCode::UseAnotherServer);
            assert_eq!(
                d.properties.server_reference.as_deref(),
                Some("other.example:1883")
            );
        }
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    victim.expect_closed().await;
    // The server closed the connection without a DISCONNECT 0x00 from the
    // client: the will is published [MQTT-3.1.2-8].
    assert_eq!(watcher.recv_publish().await.topic.as_str(), "w/v");

    // Decimal codes work too; no reference means none is sent; a code
    // DISCONNECT cannot carry becomes 0x98 Administrative action.
    for (id, code) in [("v2", &b"137"[..]), ("v3", b"0x01")] {
        let mut second = Client::v5(addr, id).await;
        ctl.publish1(&format!("$control/disconnect/{id}"), code)
            .await;
        let expected = if id == "v2" {
            ReasonCode::ServerBusy
        } else {
            ReasonCode::AdministrativeAction
        };
        match second.recv().await {
            Some(Packet::Disconnect(d)) => {
                assert_eq!(d.reason_code, expected);
                assert_eq!(d.properties.server_reference, None);
            }
            other => panic!("expected DISCONNECT, got {other:?}"),
        }
        second.expect_closed().await;
    }
    // MQTT 3.1.1 has no server DISCONNECT: the connection just closes.
    let (mut old, _) = Client::connect(
        addr,
        wasmqtt_codec::Connect {
            protocol_version: ProtocolVersion::V311,
            ..connect("old")
        },
    )
    .await;
    ctl.publish1("$control/disconnect/old", b"0x8B").await;
    old.expect_closed().await;
    b.shutdown().await;
}

#[tokio::test]
async fn raw_bytes_are_written_to_the_client() {
    // Test feature (no normative statement); a QoS 2 command completes
    // its flow [MQTT-4.3.3-8] [MQTT-4.3.3-11].
    let b = control_broker().await;
    let addr = b.tcp[0];
    let mut victim = Client::v5(addr, "v").await;
    let mut ctl = Client::v5(addr, "ctl").await;
    // An unasked-for PINGRESP; the command itself may come at QoS 2.
    let mut cmd = publish("$control/raw/v", QoS::ExactlyOnce, &[0xD0, 0x00]);
    cmd.packet_id = Some(pid(4));
    ctl.send(Packet::Publish(cmd)).await;
    assert!(
        matches!(ctl.recv().await, Some(Packet::PubRec(r)) if r.reason_code == ReasonCode::Success)
    );
    ctl.send(Packet::PubRel(wasmqtt_codec::PubRel::new(pid(4))))
        .await;
    assert!(
        matches!(ctl.recv().await, Some(Packet::PubComp(c)) if c.reason_code == ReasonCode::Success)
    );
    assert_eq!(victim.recv().await, Some(Packet::PingResp));
    victim.ping().await;
    b.shutdown().await;
}

#[tokio::test]
async fn acknowledgements_can_be_withheld_and_resumed() {
    // Test feature (no normative statement): PUBACK/PUBREC withheld,
    // routing unaffected.
    let b = control_broker().await;
    let addr = b.tcp[0];
    let mut sub = Client::v5(addr, "sub").await;
    sub.subscribe("wh/#", QoS::AtMostOnce).await;
    let mut victim = Client::v5(addr, "v").await;
    assert_eq!(
        victim.publish1("$control/withhold-acks/v", b"1").await,
        ReasonCode::Success
    );
    // The command reaches the connection as its next event; a round trip
    // makes sure it was applied.
    victim.ping().await;
    let mut p = publish("wh/1", QoS::AtLeastOnce, b"x");
    p.packet_id = Some(pid(11));
    victim.send(Packet::Publish(p)).await;
    let mut q = publish("wh/2", QoS::ExactlyOnce, b"x");
    q.packet_id = Some(pid(12));
    victim.send(Packet::Publish(q)).await;
    // Routed, but neither PUBACK nor PUBREC comes back.
    assert_eq!(sub.recv_publish().await.topic.as_str(), "wh/1");
    assert_eq!(sub.recv_publish().await.topic.as_str(), "wh/2");
    victim.assert_idle().await;

    let mut ctl = Client::v5(addr, "ctl").await;
    ctl.publish1("$control/withhold-acks/v", b"0").await;
    victim.ping().await;
    assert_eq!(victim.publish1("wh/3", b"x").await, ReasonCode::Success);
    b.shutdown().await;
}

#[tokio::test]
async fn control_topics_do_nothing_when_the_flag_is_off() {
    // Section 4.7.2: '$' topics are the server's; without test_control
    // `$control/...` is refused (0x87) and does nothing.
    let b = broker().await;
    let addr = b.tcp[0];
    let (mut victim, mut watcher) = victim_and_watcher(addr, "v").await;
    let mut ctl = Client::v5(addr, "ctl").await;
    for (verb, payload) in [
        ("drop", &b""[..]),
        ("disconnect", b"0x8B"),
        ("raw", &[0xD0, 0x00]),
        ("withhold-acks", b"1"),
    ] {
        // '$' topics are the server's: refused, and not acted on.
        assert_eq!(
            ctl.publish1(&format!("$control/{verb}/v"), payload).await,
            ReasonCode::NotAuthorized
        );
    }
    victim.assert_idle().await;
    assert_eq!(victim.publish1("w/x", b"acked").await, ReasonCode::Success);
    assert_eq!(watcher.recv_publish().await.payload.as_ref(), b"acked");
    watcher.assert_idle().await;
    b.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_sends_disconnect_0x8b_to_every_client() {
    // Section 4.13 / DISCONNECT 0x8B Server shutting down; MQTT 3.1.1
    // clients are just closed.
    // In-process connections on the paused clock: the time measured is
    // virtual, so a busy machine cannot make shutdown look slow.
    let b = broker().await;
    let mut a = Client::v5(&b, "a").await;
    let mut c = Client::v5(&b, "c").await;
    let (mut old, _) = Client::connect(
        &b,
        wasmqtt_codec::Connect {
            protocol_version: ProtocolVersion::V311,
            ..connect("old")
        },
    )
    .await;
    // One that has not sent CONNECT yet is closed as well.
    let mut silent = Client::open(&b, ProtocolVersion::V5).await;
    let started = tokio::time::Instant::now();
    b.shutdown().await;
    assert!(started.elapsed() < std::time::Duration::from_millis(900));
    a.expect_disconnect(ReasonCode::ServerShuttingDown).await;
    c.expect_disconnect(ReasonCode::ServerShuttingDown).await;
    old.expect_closed().await;
    silent.expect_closed().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_does_not_wait_for_connections_already_closing() {
    // A connection the broker closed lingers to read the peer's last bytes;
    // shutdown ends that at once rather than waiting for it.
    let b = broker().await;
    let mut c = Client::v5(&b, "c").await;
    c.send(Packet::Connect(connect("c"))).await;
    c.expect_disconnect(ReasonCode::ProtocolError).await;
    // `c` keeps its end open: the broker's side is still lingering.
    let started = tokio::time::Instant::now();
    b.shutdown().await;
    assert!(started.elapsed() < std::time::Duration::from_millis(900));
}
