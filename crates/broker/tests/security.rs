//! What one user can do to another: resuming another user's session by its
//! client identifier, and the ACL at delivery time. Two users, alice and
//! eve, with a password file and an ACL that gives each their own tree.
mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use common::*;
use tempfile::NamedTempFile;
use wasmqtt_broker::Broker;
use wasmqtt_codec::{Connect, ProtocolVersion, QoS, ReasonCode};

const ACL: &str = "\
user alice
topic readwrite alice/#
user eve
topic readwrite eve/#
user ops
topic write $control/#
";

struct Setup {
    broker: Broker,
    _files: (NamedTempFile, NamedTempFile),
}

async fn two_users() -> Setup {
    users(|_| {}).await
}

/// alice, eve, ops (granted `$control/#` by the ACL) and tester.
async fn users(f: impl FnOnce(&mut wasmqtt_broker::Config)) -> Setup {
    let lines: Vec<String> = ["alice", "eve", "ops", "tester"]
        .into_iter()
        .map(|u| argon2_line(u, &format!("{u}-pw")))
        .collect();
    let passwords = file(&lines.join("\n"));
    let acl = file(ACL);
    let broker = broker_with(|c| {
        c.password_file = Some(passwords.path().to_owned());
        c.acl_file = Some(acl.path().to_owned());
        c.allow_anonymous = false;
        f(c);
    })
    .await;
    Setup {
        broker,
        _files: (passwords, acl),
    }
}

/// CONNECT as `user` (password `{user}-pw`) with `id`, Clean Start 0 and a
/// Session Expiry of 300 s.
fn as_user(user: &str, id: &str, version: ProtocolVersion) -> Connect {
    let mut c = Connect {
        protocol_version: version,
        username: Some(user.into()),
        password: Some(Bytes::from(format!("{user}-pw"))),
        clean_start: false,
        ..connect(id)
    };
    if version == ProtocolVersion::V5 {
        c.properties.session_expiry_interval = Some(300);
    }
    c
}

async fn login(addr: SocketAddr, user: &str, id: &str) -> (Client, wasmqtt_codec::ConnAck) {
    Client::connect(addr, as_user(user, id, ProtocolVersion::V5)).await
}

#[tokio::test]
async fn a_stored_session_is_not_resumed_by_another_user() {
    let s = two_users().await;
    let addr = s.broker.tcp[0];
    let (mut alice, ack) = login(addr, "alice", "roaming").await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    assert_eq!(
        suback_codes(alice.subscribe("alice/#", QoS::AtLeastOnce).await),
        [ReasonCode::GrantedQoS1]
    );
    alice.disconnect().await;
    // A message queued for alice's stored session.
    let (mut publisher, _) = login(addr, "alice", "alice-pub").await;
    assert_eq!(
        publisher.publish1("alice/queued", b"q").await,
        ReasonCode::Success
    );

    // eve claims the same client id: a new, empty session.
    let (mut eve, ack) = login(addr, "eve", "roaming").await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    assert!(!ack.session_present, "eve must not resume alice's session");
    assert_eq!(
        publisher.publish1("alice/live", b"l").await,
        ReasonCode::NoMatchingSubscribers,
        "alice's subscription went with her session"
    );
    eve.assert_idle().await;
    eve.disconnect().await;

    // alice comes back to nothing of eve's either.
    let (mut alice, ack) = login(addr, "alice", "roaming").await;
    assert!(!ack.session_present);
    alice.assert_idle().await;
    s.broker.shutdown().await;
}

#[tokio::test]
async fn a_connected_session_cannot_be_taken_over_by_another_user() {
    let s = two_users().await;
    let addr = s.broker.tcp[0];
    let (mut alice, _) = login(addr, "alice", "roaming").await;
    alice.subscribe("alice/#", QoS::AtLeastOnce).await;

    // MQTT 5.0: CONNACK 0x85 Client Identifier not valid.
    let (mut eve, ack) = login(addr, "eve", "roaming").await;
    assert_eq!(ack.reason_code, ReasonCode::ClientIdentifierNotValid);
    eve.expect_closed().await;
    // MQTT 3.1.1: return code 2, Identifier rejected.
    let (mut eve, ack) =
        Client::connect(addr, as_user("eve", "roaming", ProtocolVersion::V311)).await;
    assert_eq!(ack.reason_code, ReasonCode::ClientIdentifierNotValid);
    eve.expect_closed().await;

    // alice is still connected, with her subscription.
    let (mut publisher, _) = login(addr, "alice", "alice-pub").await;
    assert_eq!(
        publisher.publish1("alice/x", b"x").await,
        ReasonCode::Success
    );
    assert_eq!(alice.recv_acked().await.payload.as_ref(), b"x");
    s.broker.shutdown().await;
}

#[tokio::test]
async fn with_authentication_control_topics_need_the_control_user_or_an_acl_grant() {
    let s = users(|c| {
        c.test_control = true;
        c.test_control_user = Some("tester".into());
    })
    .await;
    let addr = s.broker.tcp[0];
    let (mut alice, _) = login(addr, "alice", "victim").await;
    // eve may not: PUBACK 0x87, and alice's connection is untouched.
    let (mut eve, _) = login(addr, "eve", "eve-1").await;
    assert_eq!(
        eve.publish1("$control/drop/victim", b"").await,
        ReasonCode::NotAuthorized
    );
    alice.assert_idle().await;
    // The ACL can grant it: ops may.
    let (mut ops, _) = login(addr, "ops", "ops-1").await;
    assert_eq!(
        ops.publish1("$control/disconnect/victim", b"0x98").await,
        ReasonCode::Success
    );
    alice
        .expect_disconnect(ReasonCode::AdministrativeAction)
        .await;
    // So may the control user.
    let (mut alice, _) = login(addr, "alice", "victim").await;
    let (mut tester, _) = login(addr, "tester", "tester-1").await;
    assert_eq!(
        tester.publish1("$control/drop/victim", b"").await,
        ReasonCode::Success
    );
    alice.expect_closed().await;
    s.broker.shutdown().await;
}
