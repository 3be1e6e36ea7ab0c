//! Authentication and authorization, black-box: password file (Argon2 and
//! SCRAM forms), anonymous access, the ACL file, SCRAM-SHA-256 enhanced
//! authentication and re-authentication.
mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use common::*;
use tempfile::NamedTempFile;
use tokio::io::AsyncReadExt;
use wasmqtt_broker::scram::{ScramClient, ScramCredential};
use wasmqtt_broker::{Broker, Config};
use wasmqtt_codec::{Auth, ConnAck, Connect, Packet, Properties, ProtocolVersion, QoS, ReasonCode};

const SCRAM: &str = "SCRAM-SHA-256";

fn scram_line(user: &str, password: &str) -> String {
    let c = ScramCredential::derive(password.as_bytes(), b"some salt", 4096);
    format!("{user}:{c}")
}

/// alice has an Argon2 hash, bob and carol SCRAM credentials.
fn password_file() -> NamedTempFile {
    file(&format!(
        "# test users\n{}\n\n{}\n{}\n",
        argon2_line("alice", "wonderland"),
        scram_line("bob", "builder"),
        scram_line("carol", "singer"),
    ))
}

async fn broker_with_files(
    passwords: Option<&NamedTempFile>,
    acl: Option<&NamedTempFile>,
    allow_anonymous: bool,
) -> Broker {
    broker_with(|c: &mut Config| {
        c.password_file = passwords.map(|f| f.path().to_owned());
        c.acl_file = acl.map(|f| f.path().to_owned());
        c.allow_anonymous = allow_anonymous;
    })
    .await
}

fn login(
    id: &str,
    version: ProtocolVersion,
    user: Option<&str>,
    password: Option<&str>,
) -> Connect {
    Connect {
        protocol_version: version,
        username: user.map(Into::into),
        password: password.map(|p| Bytes::copy_from_slice(p.as_bytes())),
        ..connect(id)
    }
}

async fn connack_code(addr: SocketAddr, c: Connect) -> ReasonCode {
    Client::connect(addr, c).await.1.reason_code
}

/// CONNECT as MQTT 3.1.1 and the raw CONNACK return code byte.
async fn v311_return_code(addr: SocketAddr, user: Option<&str>, password: Option<&str>) -> u8 {
    let mut c = Client::open(addr, ProtocolVersion::V311).await;
    c.send(Packet::Connect(login(
        "old",
        ProtocolVersion::V311,
        user,
        password,
    )))
    .await;
    let mut ack = [0u8; 4];
    tokio::time::timeout(WAIT, c.stream.read_exact(&mut ack))
        .await
        .expect("CONNACK in time")
        .expect("CONNACK");
    assert_eq!(ack[..3], [0x20, 0x02, 0x00]);
    ack[3]
}

fn auth_props(method: &str, data: impl Into<Bytes>) -> Properties {
    Properties {
        authentication_method: Some(method.into()),
        authentication_data: Some(data.into()),
        ..Properties::default()
    }
}

fn auth(reason_code: ReasonCode, method: &str, data: impl Into<Bytes>) -> Packet {
    Packet::Auth(Auth {
        reason_code,
        properties: auth_props(method, data),
    })
}

async fn recv_auth(c: &mut Client) -> Auth {
    match c.recv().await {
        Some(Packet::Auth(a)) => a,
        other => panic!("expected AUTH, got {other:?}"),
    }
}

async fn recv_connack(c: &mut Client) -> ConnAck {
    match c.recv().await {
        Some(Packet::ConnAck(a)) => a,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

async fn expect_disconnect(c: &mut Client, code: ReasonCode) {
    match c.recv().await {
        Some(Packet::Disconnect(d)) => assert_eq!(d.reason_code, code),
        other => panic!("expected DISCONNECT {code:?}, got {other:?}"),
    }
    assert_eq!(c.recv().await, None, "closed after DISCONNECT");
}

/// One SCRAM step: sends `client_first` (in CONNECT or AUTH 0x19 by the
/// caller), takes server-first from the AUTH 0x18 that must follow and
/// answers with client-final.
async fn scram_continue(c: &mut Client, scram: &mut ScramClient) {
    let a = recv_auth(c).await;
    assert_eq!(a.reason_code, ReasonCode::ContinueAuthentication);
    assert_eq!(a.properties.authentication_method.as_deref(), Some(SCRAM));
    let server_first = a.properties.authentication_data.expect("server-first");
    let client_final = scram
        .client_final(&server_first)
        .expect("valid server-first");
    c.send(auth(
        ReasonCode::ContinueAuthentication,
        SCRAM,
        client_final,
    ))
    .await;
}

/// CONNECT with SCRAM-SHA-256 up to CONNACK.
async fn scram_connect(
    addr: SocketAddr,
    id: &str,
    user: &str,
    password: &str,
) -> (Client, ConnAck, ScramClient) {
    let mut scram = ScramClient::new(user, password, "fyko+d2lbbFgONRv9qkxdawL");
    let mut c = Client::open(addr, ProtocolVersion::V5).await;
    c.send(Packet::Connect(Connect {
        properties: auth_props(SCRAM, scram.client_first()),
        ..connect(id)
    }))
    .await;
    scram_continue(&mut c, &mut scram).await;
    let ack = recv_connack(&mut c).await;
    (c, ack, scram)
}

#[tokio::test]
async fn passwords_are_checked_in_both_protocol_versions() {
    let passwords = password_file();
    let b = broker_with_files(Some(&passwords), None, false).await;
    let addr = b.tcp[0];
    let v5 = ProtocolVersion::V5;
    for (user, password, want) in [
        ("alice", Some("wonderland"), ReasonCode::Success),
        // The SCRAM form also checks plain passwords.
        ("bob", Some("builder"), ReasonCode::Success),
        ("alice", Some("wrong"), ReasonCode::BadUserNameOrPassword),
        ("alice", None, ReasonCode::BadUserNameOrPassword),
        ("bob", Some("wonderland"), ReasonCode::BadUserNameOrPassword),
        (
            "nobody",
            Some("wonderland"),
            ReasonCode::BadUserNameOrPassword,
        ),
    ] {
        let got = connack_code(addr, login("c", v5, Some(user), password)).await;
        assert_eq!(got, want, "{user} {password:?}");
    }
    // MQTT 3.1.1 return codes: 0 accepted, 4 bad user name or password.
    assert_eq!(
        v311_return_code(addr, Some("alice"), Some("wonderland")).await,
        0
    );
    assert_eq!(
        v311_return_code(addr, Some("bob"), Some("builder")).await,
        0
    );
    assert_eq!(v311_return_code(addr, Some("alice"), Some("nope")).await, 4);
    assert_eq!(v311_return_code(addr, Some("zed"), Some("nope")).await, 4);
    b.shutdown().await;
}

#[tokio::test]
async fn anonymous_clients_follow_allow_anonymous() {
    let passwords = password_file();
    let closed = broker_with_files(Some(&passwords), None, false).await;
    let anonymous = login("anon", ProtocolVersion::V5, None, None);
    assert_eq!(
        connack_code(closed.tcp[0], anonymous.clone()).await,
        ReasonCode::NotAuthorized
    );
    // MQTT 3.1.1: return code 5, not authorized.
    assert_eq!(v311_return_code(closed.tcp[0], None, None).await, 5);
    closed.shutdown().await;

    let open = broker_with_files(Some(&passwords), None, true).await;
    assert_eq!(
        connack_code(open.tcp[0], anonymous).await,
        ReasonCode::Success
    );
    assert_eq!(v311_return_code(open.tcp[0], None, None).await, 0);
    // A user name still needs the right password.
    let bad = login("c", ProtocolVersion::V5, Some("alice"), Some("x"));
    assert_eq!(
        connack_code(open.tcp[0], bad).await,
        ReasonCode::BadUserNameOrPassword
    );
    open.shutdown().await;
}

#[tokio::test]
async fn malformed_files_stop_the_broker_naming_the_line() {
    let good = argon2_line("alice", "pw");
    let passwords = file(&format!("{good}\n# ok so far\nbob:plaintext\n"));
    let err = Broker::start(Config {
        password_file: Some(passwords.path().to_owned()),
        ..Config::default()
    })
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("line 3"), "{err}");

    let acl = file("user alice\ntopic read a/#\ntopic write a/#/b\n");
    let err = Broker::start(Config {
        acl_file: Some(acl.path().to_owned()),
        ..Config::default()
    })
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("line 3"), "{err}");
}

const ACL: &str = "\
# Anonymous clients may only read public topics.
topic read public/#

user alice
topic readwrite alice/#
topic read feeds/+/news

user bob
topic read alice/#
topic read forbidden/#

all
topic readwrite users/%u/#
topic read clients/%c/#
";

#[tokio::test]
async fn acl_denies_publish_and_subscribe() {
    let passwords = password_file();
    let acl = file(ACL);
    let b = broker_with_files(Some(&passwords), Some(&acl), true).await;
    let addr = b.tcp[0];
    let v5 = ProtocolVersion::V5;
    let (mut bob, _) = Client::connect(addr, login("bob", v5, Some("bob"), Some("builder"))).await;
    let granted =
        |p: Packet| matches!(p, Packet::SubAck(s) if s.reason_codes == [ReasonCode::GrantedQoS1]);
    assert!(granted(
        bob.subscribe("forbidden/#", QoS::AtLeastOnce).await
    ));
    assert!(granted(bob.subscribe("alice/#", QoS::AtLeastOnce).await));
    // Not covered: bob may read alice/# only.
    assert!(
        matches!(bob.subscribe("#", QoS::AtLeastOnce).await, Packet::SubAck(s) if s.reason_codes == [ReasonCode::NotAuthorized])
    );

    let (mut alice, ack) =
        Client::connect(addr, login("alice", v5, Some("alice"), Some("wonderland"))).await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    // Denied PUBLISH: PUBACK / PUBREC 0x87, and nothing is delivered.
    alice.publish("forbidden/x", QoS::AtLeastOnce, b"no").await;
    assert!(
        matches!(alice.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::NotAuthorized)
    );
    alice.publish("forbidden/x", QoS::ExactlyOnce, b"no").await;
    assert!(
        matches!(alice.recv().await, Some(Packet::PubRec(a)) if a.reason_code == ReasonCode::NotAuthorized)
    );
    alice.publish("forbidden/x", QoS::AtMostOnce, b"no").await;
    // An allowed one afterwards is the first thing bob gets.
    alice.publish("alice/x", QoS::AtLeastOnce, b"yes").await;
    assert!(
        matches!(alice.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::Success)
    );
    let got = bob.recv_publish().await;
    assert_eq!(
        (got.topic.as_str(), got.payload.as_ref()),
        ("alice/x", &b"yes"[..])
    );

    // Denied SUBSCRIBE: SUBACK 0x87, per filter.
    alice
        .send(Packet::Subscribe(wasmqtt_codec::Subscribe {
            packet_id: pid(2),
            properties: Default::default(),
            subscriptions: [
                "forbidden/#",
                "alice/+/y",
                "feeds/+/news",
                "feeds/#",
                "$share/g/alice/#",
            ]
            .into_iter()
            .map(|f| wasmqtt_codec::Subscription {
                filter: f.into(),
                options: Default::default(),
            })
            .collect(),
        }))
        .await;
    match alice.recv().await {
        Some(Packet::SubAck(s)) => assert_eq!(
            s.reason_codes,
            [
                ReasonCode::NotAuthorized,
                ReasonCode::Success,
                ReasonCode::Success,
                ReasonCode::NotAuthorized,
                ReasonCode::Success,
            ]
        ),
        other => panic!("expected SUBACK, got {other:?}"),
    }

    // Anonymous: read public/# only.
    let mut anon = Client::v5(addr, "anon").await;
    assert!(
        matches!(anon.subscribe("public/+", QoS::AtMostOnce).await, Packet::SubAck(s) if s.reason_codes == [ReasonCode::Success])
    );
    anon.publish("public/x", QoS::AtLeastOnce, b"no").await;
    assert!(
        matches!(anon.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::NotAuthorized)
    );
    b.shutdown().await;
}

#[tokio::test]
async fn acl_substitutes_user_name_and_client_id() {
    let passwords = password_file();
    let acl = file(ACL);
    let b = broker_with_files(Some(&passwords), Some(&acl), true).await;
    let addr = b.tcp[0];
    let v5 = ProtocolVersion::V5;
    let (mut carol, _) =
        Client::connect(addr, login("dev-7", v5, Some("carol"), Some("singer"))).await;
    let code = |p: Packet| match p {
        Packet::SubAck(s) => s.reason_codes[0],
        other => panic!("expected SUBACK, got {other:?}"),
    };
    assert_eq!(
        code(carol.subscribe("users/carol/#", QoS::AtLeastOnce).await),
        ReasonCode::GrantedQoS1
    );
    assert_eq!(
        code(carol.subscribe("users/bob/#", QoS::AtLeastOnce).await),
        ReasonCode::NotAuthorized
    );
    assert_eq!(
        code(carol.subscribe("users/+/x", QoS::AtLeastOnce).await),
        ReasonCode::NotAuthorized
    );
    assert_eq!(
        code(carol.subscribe("clients/dev-7/in", QoS::AtLeastOnce).await),
        ReasonCode::GrantedQoS1
    );
    assert_eq!(
        code(carol.subscribe("clients/dev-8/in", QoS::AtLeastOnce).await),
        ReasonCode::NotAuthorized
    );
    carol
        .publish("users/bob/inbox", QoS::AtLeastOnce, b"x")
        .await;
    assert!(
        matches!(carol.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::NotAuthorized)
    );
    carol
        .publish("users/carol/notes", QoS::AtLeastOnce, b"mine")
        .await;
    // Both the PUBACK and the delivery to carol's own subscription arrive.
    let mut acked = false;
    let mut delivered = false;
    while !(acked && delivered) {
        match carol.recv().await {
            Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::Success => acked = true,
            Some(Packet::Publish(p)) if p.topic.as_str() == "users/carol/notes" => {
                if let Some(id) = p.packet_id {
                    carol
                        .send(Packet::PubAck(wasmqtt_codec::PubAck::new(id)))
                        .await;
                }
                delivered = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Anonymous clients get no %u rules.
    let mut anon = Client::v5(addr, "anon").await;
    assert_eq!(
        code(anon.subscribe("users//#", QoS::AtMostOnce).await),
        ReasonCode::NotAuthorized
    );
    b.shutdown().await;
}

#[tokio::test]
async fn will_topic_must_be_allowed_by_the_acl() {
    let passwords = password_file();
    let acl = file(ACL);
    let b = broker_with_files(Some(&passwords), Some(&acl), true).await;
    let will = |topic: &str| wasmqtt_codec::Will {
        topic: wasmqtt_codec::TopicName::new(topic).unwrap(),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Default::default(),
    };
    let v5 = ProtocolVersion::V5;
    let mut c = login("a", v5, Some("alice"), Some("wonderland"));
    c.will = Some(will("forbidden/will"));
    assert_eq!(
        connack_code(b.tcp[0], c.clone()).await,
        ReasonCode::NotAuthorized
    );
    c.will = Some(will("alice/will"));
    assert_eq!(connack_code(b.tcp[0], c).await, ReasonCode::Success);
    b.shutdown().await;
}

#[tokio::test]
async fn scram_sha_256_connects_and_names_the_user() {
    let passwords = password_file();
    let acl = file(ACL);
    let b = broker_with_files(Some(&passwords), Some(&acl), false).await;
    let (mut bob, ack, scram) = scram_connect(b.tcp[0], "bob-1", "bob", "builder").await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    assert_eq!(ack.properties.authentication_method.as_deref(), Some(SCRAM));
    let server_final = ack.properties.authentication_data.expect("server-final");
    scram
        .verify_server_final(&server_final)
        .expect("server proves it knows the key");
    // The ACL sees user "bob".
    bob.publish("users/bob/x", QoS::AtLeastOnce, b"ok").await;
    // No subscribers: 0x10, but not refused.
    assert!(
        matches!(bob.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::NoMatchingSubscribers)
    );
    bob.publish("users/carol/x", QoS::AtLeastOnce, b"no").await;
    assert!(
        matches!(bob.recv().await, Some(Packet::PubAck(a)) if a.reason_code == ReasonCode::NotAuthorized)
    );
    b.shutdown().await;
}

#[tokio::test]
async fn scram_failures_refuse_the_connection() {
    let passwords = password_file();
    let b = broker_with_files(Some(&passwords), None, true).await;
    let addr = b.tcp[0];
    // Wrong password, unknown user, and a user with only an Argon2 hash all
    // get a server-first (no user enumeration) and then 0x86.
    for (user, password) in [("bob", "wrong"), ("nobody", "x"), ("alice", "wonderland")] {
        let (mut c, ack, _) = scram_connect(addr, "c", user, password).await;
        assert_eq!(ack.reason_code, ReasonCode::BadUserNameOrPassword, "{user}");
        assert_eq!(c.recv().await, None);
    }
    // A CONNECT User Name that is not the SCRAM user.
    let scram = ScramClient::new("bob", "builder", "abc");
    let c = Connect {
        username: Some("carol".into()),
        properties: auth_props(SCRAM, scram.client_first()),
        ..connect("c")
    };
    assert_eq!(
        connack_code(addr, c).await,
        ReasonCode::BadUserNameOrPassword
    );
    // Garbage instead of client-first.
    let c = Connect {
        properties: auth_props(SCRAM, "hello"),
        ..connect("c")
    };
    assert_eq!(connack_code(addr, c).await, ReasonCode::NotAuthorized);
    // Something other than AUTH before CONNACK.
    let scram = ScramClient::new("bob", "builder", "abc");
    let mut c = Client::open(addr, ProtocolVersion::V5).await;
    c.send(Packet::Connect(Connect {
        properties: auth_props(SCRAM, scram.client_first()),
        ..connect("c")
    }))
    .await;
    assert!(matches!(c.recv().await, Some(Packet::Auth(_))));
    c.send(Packet::PingReq).await;
    assert_eq!(
        recv_connack(&mut c).await.reason_code,
        ReasonCode::ProtocolError
    );
    b.shutdown().await;
}

#[tokio::test]
async fn unknown_authentication_method_gets_0x8c() {
    let passwords = password_file();
    let b = broker_with_files(Some(&passwords), None, true).await;
    let c = Connect {
        properties: auth_props("KERBEROS", "ticket"),
        ..connect("c")
    };
    assert_eq!(
        connack_code(b.tcp[0], c).await,
        ReasonCode::BadAuthenticationMethod
    );
    b.shutdown().await;
    // Without a password file SCRAM is not offered either.
    let b = broker_with_files(None, None, true).await;
    let scram = ScramClient::new("bob", "builder", "abc");
    let c = Connect {
        properties: auth_props(SCRAM, scram.client_first()),
        ..connect("c")
    };
    assert_eq!(
        connack_code(b.tcp[0], c).await,
        ReasonCode::BadAuthenticationMethod
    );
    b.shutdown().await;
}

#[tokio::test]
async fn re_authentication_succeeds_then_a_wrong_password_disconnects() {
    let passwords = password_file();
    let b = broker_with_files(Some(&passwords), None, false).await;
    let (mut c, ack, _) = scram_connect(b.tcp[0], "re", "bob", "builder").await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    c.subscribe("t", QoS::AtMostOnce).await;

    let mut again = ScramClient::new("bob", "builder", "second-nonce");
    c.send(auth(
        ReasonCode::ReAuthenticate,
        SCRAM,
        again.client_first(),
    ))
    .await;
    scram_continue(&mut c, &mut again).await;
    let done = recv_auth(&mut c).await;
    assert_eq!(done.reason_code, ReasonCode::Success);
    assert_eq!(
        done.properties.authentication_method.as_deref(),
        Some(SCRAM)
    );
    again
        .verify_server_final(&done.properties.authentication_data.expect("server-final"))
        .expect("valid server-final");
    // Still connected and serving.
    c.publish("t", QoS::AtMostOnce, b"after").await;
    assert_eq!(c.recv_publish().await.payload.as_ref(), b"after");

    let mut wrong = ScramClient::new("bob", "not-builder", "third-nonce");
    c.send(auth(
        ReasonCode::ReAuthenticate,
        SCRAM,
        wrong.client_first(),
    ))
    .await;
    scram_continue(&mut c, &mut wrong).await;
    expect_disconnect(&mut c, ReasonCode::NotAuthorized).await;
    b.shutdown().await;
}

#[tokio::test]
async fn re_authentication_protocol_errors() {
    let passwords = password_file();
    let b = broker_with_files(Some(&passwords), None, true).await;
    let addr = b.tcp[0];
    // Another method: 0x8C.
    let (mut c, _, _) = scram_connect(addr, "m", "bob", "builder").await;
    c.send(auth(ReasonCode::ReAuthenticate, "PLAIN", "x")).await;
    expect_disconnect(&mut c, ReasonCode::BadAuthenticationMethod).await;
    // Another user: refused.
    let (mut c, _, _) = scram_connect(addr, "u", "bob", "builder").await;
    let carol = ScramClient::new("carol", "singer", "n");
    c.send(auth(
        ReasonCode::ReAuthenticate,
        SCRAM,
        carol.client_first(),
    ))
    .await;
    expect_disconnect(&mut c, ReasonCode::NotAuthorized).await;
    // Continue without a re-authentication in progress: Protocol Error.
    let (mut c, _, _) = scram_connect(addr, "o", "bob", "builder").await;
    c.send(auth(ReasonCode::ContinueAuthentication, SCRAM, "c=biws"))
        .await;
    expect_disconnect(&mut c, ReasonCode::ProtocolError).await;
    // AUTH on a connection that did not use enhanced authentication.
    let mut plain = Client::v5(addr, "plain").await;
    plain
        .send(auth(ReasonCode::ReAuthenticate, SCRAM, "n,,n=bob,r=x"))
        .await;
    expect_disconnect(&mut plain, ReasonCode::ProtocolError).await;
    b.shutdown().await;
}

/// `wasmqtt-broker --hash-password` lines work in a password file.
#[tokio::test]
async fn hash_password_command_makes_working_lines() {
    async fn hash(args: &[&str], password: &str) -> String {
        use tokio::io::AsyncWriteExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wasmqtt-broker"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{password}\n").as_bytes())
            .await
            .unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.expect("exits");
        assert!(out.status.success());
        String::from_utf8(out.stdout).expect("UTF-8")
    }
    let argon = hash(&["--hash-password", "dora"], "explorer").await;
    assert!(argon.starts_with("dora:$argon2id$"), "{argon}");
    let scram = hash(&["--hash-password", "eve", "--scram"], "secret").await;
    assert!(scram.starts_with("eve:scram-sha-256:4096:"), "{scram}");
    let passwords = file(&format!("{argon}{scram}"));
    let b = broker_with_files(Some(&passwords), None, false).await;
    let addr = b.tcp[0];
    let v5 = ProtocolVersion::V5;
    assert_eq!(
        connack_code(addr, login("d", v5, Some("dora"), Some("explorer"))).await,
        ReasonCode::Success
    );
    assert_eq!(
        connack_code(addr, login("e", v5, Some("eve"), Some("secret"))).await,
        ReasonCode::Success
    );
    let (_c, ack, _) = scram_connect(addr, "e2", "eve", "secret").await;
    assert_eq!(ack.reason_code, ReasonCode::Success);
    b.shutdown().await;
}
