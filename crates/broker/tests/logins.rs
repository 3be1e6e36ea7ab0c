//! Password checks under load: a flood of bad logins runs at most the
//! configured number of Argon2 checks at once and is refused with 0x89
//! Server busy past the wait; an address that keeps failing backs off with
//! 0x9F Connection rate exceeded; a legitimate login still gets in.
mod common;

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use common::*;
use tempfile::NamedTempFile;
use tokio::io::AsyncReadExt;
use tokio::net::TcpSocket;
use wasmqtt_broker::scram::ScramClient;
use wasmqtt_broker::{Broker, Limits};
use wasmqtt_codec::{Auth, Connect, Packet, Properties, ProtocolVersion, ReasonCode};

/// Alice's password file, hashed costly enough (4 MiB) that checks
/// overlap in a flood.
fn password_file() -> NamedTempFile {
    file(&format!("{}\n", argon2_line_with("alice", "right", 4096)))
}

async fn broker(passwords: &NamedTempFile, limits: Limits) -> Broker {
    broker_with(|c| {
        c.password_file = Some(passwords.path().to_owned());
        c.allow_anonymous = false;
        c.limits = limits;
    })
    .await
}

fn login(version: ProtocolVersion, password: &str) -> Connect {
    Connect {
        protocol_version: version,
        username: Some("alice".into()),
        password: Some(Bytes::copy_from_slice(password.as_bytes())),
        ..connect("")
    }
}

/// CONNECT from `from` (a loopback address) and the CONNACK code: the
/// reason code for MQTT 5.0, the return code byte for 3.1.1.
async fn attempt(addr: SocketAddr, from: IpAddr, version: ProtocolVersion, password: &str) -> u8 {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut c = Client::on(stream, version);
    c.send(Packet::Connect(login(version, password))).await;
    if version == ProtocolVersion::V311 {
        let mut ack = [0u8; 4];
        tokio::time::timeout(WAIT, c.stream.read_exact(&mut ack))
            .await
            .expect("CONNACK in time")
            .expect("CONNACK");
        return ack[3];
    }
    match c.recv().await {
        Some(Packet::ConnAck(ack)) => ack.reason_code as u8,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V311;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_logins_runs_bounded_and_gets_server_busy() {
    let passwords = password_file();
    let b = broker(
        &passwords,
        Limits {
            max_concurrent_logins: 1,
            login_wait_ms: 20,
            login_failures_before_backoff: 0,
            ..Limits::default()
        },
    )
    .await;
    let addr = b.tcp[0];
    let flood: Vec<_> = (0..32)
        .map(|i| {
            let version = if i % 2 == 0 { V5 } else { V311 };
            tokio::spawn(async move { (version, attempt(addr, LOCAL, version, "wrong").await) })
        })
        .collect();
    let mut busy = (0, 0);
    for task in flood {
        match task.await.unwrap() {
            (V5, 0x86) | (V311, 4) => {}
            (V5, 0x89) => busy.0 += 1,
            // MQTT 3.1.1 has no Server busy: 3 Server unavailable.
            (V311, 3) => busy.1 += 1,
            other => panic!("unexpected CONNACK {other:?}"),
        }
    }
    assert!(
        busy.0 > 0 && busy.1 > 0,
        "some attempts found no place: {busy:?}"
    );
    let logins = b.shared().access.logins();
    assert_eq!(logins.peak(), 1, "one check at a time");
    // Once the flood has passed, the right password gets in.
    assert_eq!(attempt(addr, LOCAL, V5, "right").await, 0x00);
    b.shutdown().await;
}

#[tokio::test]
async fn an_address_that_keeps_failing_backs_off_and_others_still_log_in() {
    let passwords = password_file();
    let b = broker(
        &passwords,
        Limits {
            login_failures_before_backoff: 3,
            ..Limits::default()
        },
    )
    .await;
    let addr = b.tcp[0];
    for _ in 0..3 {
        assert_eq!(attempt(addr, LOCAL, V5, "wrong").await, 0x86);
    }
    // Past the allowance: refused without a check, even with the right password.
    assert_eq!(attempt(addr, LOCAL, V5, "right").await, 0x9F);
    assert_eq!(attempt(addr, LOCAL, V311, "right").await, 3);
    // Another address is not affected.
    assert_eq!(attempt(addr, OTHER, V5, "right").await, 0x00);
    b.shutdown().await;
}

/// A SCRAM-SHA-256 CONNECT for alice (who has only an Argon2 hash, so no
/// proof can succeed) and the CONNACK reason code.
async fn scram_attempt(addr: SocketAddr) -> ReasonCode {
    const METHOD: &str = "SCRAM-SHA-256";
    let props = |data: String| Properties {
        authentication_method: Some(METHOD.into()),
        authentication_data: Some(Bytes::from(data)),
        ..Properties::default()
    };
    let mut scram = ScramClient::new("alice", "right", "rOprNGfwEbeRWgbNEkqO");
    let mut c = Client::open(addr, V5).await;
    c.send(Packet::Connect(Connect {
        properties: props(scram.client_first()),
        ..connect("")
    }))
    .await;
    let server_first = match c.recv().await {
        Some(Packet::ConnAck(ack)) => return ack.reason_code,
        Some(Packet::Auth(a)) => a.properties.authentication_data.expect("server-first"),
        other => panic!("expected AUTH or CONNACK, got {other:?}"),
    };
    let client_final = scram
        .client_final(&server_first)
        .expect("valid server-first");
    c.send(Packet::Auth(Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: props(client_final),
    }))
    .await;
    match c.recv().await {
        Some(Packet::ConnAck(ack)) => ack.reason_code,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

#[tokio::test]
async fn failed_scram_proofs_count_toward_the_back_off() {
    let passwords = password_file();
    let b = broker(
        &passwords,
        Limits {
            login_failures_before_backoff: 2,
            ..Limits::default()
        },
    )
    .await;
    let addr = b.tcp[0];
    for _ in 0..2 {
        assert_eq!(scram_attempt(addr).await, ReasonCode::BadUserNameOrPassword);
    }
    // Refused before the exchange starts, and for plain passwords too.
    assert_eq!(
        scram_attempt(addr).await,
        ReasonCode::ConnectionRateExceeded
    );
    assert_eq!(attempt(addr, LOCAL, V5, "right").await, 0x9F);
    b.shutdown().await;
}
