//! The simulator against an in-process wasmqtt-broker on a free port,
//! observed by a client built on the same driver.

use std::future::pending;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use wasmqtt_broker::{Broker, Config};
use wasmqtt_codec::{Properties, Publish, QoS, Subscription, SubscriptionOptions, TopicName};
use wasmqtt_devices::link::{Link, Wake};
use wasmqtt_devices::{DeviceConfig, Report, Simulator};
use wasmqtt_session::{Event, Options};

/// Generous: the machine running the tests may be busy.
const DEADLINE: Duration = Duration::from_secs(20);

async fn broker() -> (Broker, String) {
    let config = Config {
        tcp: vec!["127.0.0.1:0".parse().unwrap()],
        sys_interval: 0,
        ..Config::default()
    };
    let broker = Broker::start(config).await.expect("broker starts");
    let addr = broker.tcp[0].to_string();
    (broker, addr)
}

fn device(id: &str, broker: &str) -> DeviceConfig {
    DeviceConfig {
        rate: 5.0,
        revive_after: Some(Duration::from_millis(300)),
        reboot_delay: Duration::from_millis(300),
        ..DeviceConfig::new(id, broker)
    }
}

static OBSERVERS: AtomicU32 = AtomicU32::new(1);

/// A client that subscribes to `filters` and is connected when returned.
async fn observer(broker: &str, filters: &[&str]) -> Link {
    let mut link = Link::new(
        broker,
        Options {
            client_id: format!("observer-{}", OBSERVERS.fetch_add(1, Ordering::Relaxed)),
            ..Options::default()
        },
    );
    let subscriptions = filters
        .iter()
        .map(|f| Subscription {
            filter: (*f).to_owned(),
            options: SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                ..SubscriptionOptions::default()
            },
        })
        .collect();
    let now = link.now();
    link.session()
        .subscribe(now, subscriptions, Properties::default())
        .unwrap();
    link.open().await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        match link.next(Some(deadline), pending()).await {
            Wake::Event(Event::Subscribed { .. }) => return link,
            Wake::Event(_) => {}
            Wake::Deadline | Wake::Stopped => panic!("observer did not subscribe in time"),
        }
    }
}

/// The next message on `topic` whose payload satisfies `want`.
async fn message(link: &mut Link, topic: &str, want: impl Fn(&[u8]) -> bool) -> Publish {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match link.next(Some(deadline), pending()).await {
            Wake::Event(Event::Message(m)) if m.topic.as_str() == topic && want(&m.payload) => {
                return m
            }
            Wake::Event(_) => {}
            Wake::Deadline | Wake::Stopped => panic!("no matching message on {topic} in time"),
        }
    }
}

fn publish(link: &mut Link, topic: &str, payload: &str, properties: Properties) {
    let now = link.now();
    link.session()
        .publish(
            now,
            Publish {
                qos: QoS::AtLeastOnce,
                topic: TopicName::new(topic).unwrap(),
                properties,
                payload: Bytes::copy_from_slice(payload.as_bytes()),
                ..Publish::default()
            },
        )
        .unwrap();
}

/// Properties asking for a reply on `test/replies` with `correlation`.
fn reply_to(correlation: &'static [u8]) -> Properties {
    Properties {
        response_topic: Some(TopicName::new("test/replies").unwrap()),
        correlation_data: Some(Bytes::from_static(correlation)),
        ..Properties::default()
    }
}

fn json(payload: &[u8]) -> Value {
    serde_json::from_slice(payload).expect("JSON payload")
}

#[tokio::test]
async fn announces_online_and_publishes_telemetry() {
    let (broker, addr) = broker().await;
    let sim = Simulator::spawn([device("dev-01", &addr)], None);
    let mut obs = observer(&addr, &["devices/+/status", "devices/+/telemetry"]).await;
    let status = message(&mut obs, "devices/dev-01/status", |p| p == b"online").await;
    // Retained: a late subscriber sees it at once (it may also be live).
    let _ = status;
    let t1 = message(&mut obs, "devices/dev-01/telemetry", |_| true).await;
    let t2 = message(&mut obs, "devices/dev-01/telemetry", |_| true).await;
    let (a, b) = (json(&t1.payload), json(&t2.payload));
    assert!(b["seq"].as_u64() > a["seq"].as_u64());
    for key in ["temperature", "humidity", "battery", "rssi"] {
        assert!(a[key].is_number(), "{key} missing in {a}");
    }
    assert_eq!(
        t1.properties.content_type.as_deref(),
        Some("application/json")
    );
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn status_is_retained_for_late_subscribers() {
    let (broker, addr) = broker().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sim = Simulator::spawn([device("dev-07", &addr)], Some(tx));
    // Wait for the device to connect before anyone subscribes.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let report = tokio::time::timeout_at(deadline, rx.recv()).await.unwrap();
        if matches!(report, Some(Report::Connected { .. })) {
            break;
        }
    }
    let mut obs = observer(&addr, &["devices/dev-07/status"]).await;
    let m = message(&mut obs, "devices/dev-07/status", |p| p == b"online").await;
    // Either the retained copy, or the live one if the subscription won
    // the race with the device's publish; retained is what matters later.
    let _ = m;
    drop(obs);
    let mut late = observer(&addr, &["devices/+/status"]).await;
    let m = message(&mut late, "devices/dev-07/status", |p| p == b"online").await;
    assert!(m.retain, "a new subscriber gets the retained status");
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn answers_a_command_with_the_same_correlation_data() {
    let (broker, addr) = broker().await;
    let sim = Simulator::spawn([device("dev-02", &addr)], None);
    let mut obs = observer(&addr, &["devices/dev-02/status", "test/replies"]).await;
    message(&mut obs, "devices/dev-02/status", |p| p == b"online").await;

    publish(
        &mut obs,
        "devices/dev-02/commands",
        "ping",
        reply_to(b"\x00corr-42\xff"),
    );
    let reply = message(&mut obs, "test/replies", |_| true).await;
    assert_eq!(
        reply.properties.correlation_data.as_deref(),
        Some(&b"\x00corr-42\xff"[..])
    );
    let body = json(&reply.payload);
    assert_eq!(body["ok"], true);
    assert_eq!(body["reply"], "pong");
    assert_eq!(body["device"], "dev-02");

    // An unknown command is answered with an error, not silence.
    publish(
        &mut obs,
        "devices/dev-02/commands",
        "launch",
        reply_to(b"second"),
    );
    let reply = message(&mut obs, "test/replies", |_| true).await;
    assert_eq!(
        reply.properties.correlation_data.as_deref(),
        Some(&b"second"[..])
    );
    let body = json(&reply.payload);
    assert_eq!(body["ok"], false);
    assert!(body["error"].as_str().unwrap().contains("unknown command"));
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn the_session_request_helper_gets_status_and_set_rate_replies() {
    let (broker, addr) = broker().await;
    let sim = Simulator::spawn([device("dev-03", &addr)], None);
    let mut obs = observer(&addr, &["devices/dev-03/status"]).await;
    message(&mut obs, "devices/dev-03/status", |p| p == b"online").await;

    let ask = |obs: &mut Link, text: &str| {
        let now = obs.now();
        obs.session()
            .request(
                now,
                Publish {
                    qos: QoS::AtLeastOnce,
                    topic: TopicName::new("devices/dev-03/commands").unwrap(),
                    payload: Bytes::copy_from_slice(text.as_bytes()),
                    ..Publish::default()
                },
                10_000,
            )
            .unwrap()
    };
    async fn response(obs: &mut Link, token: wasmqtt_session::Token) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match obs.next(Some(deadline), pending()).await {
                Wake::Event(Event::Response { token: t, message }) if t == token => {
                    return json(&message.payload)
                }
                Wake::Event(Event::RequestTimeout { .. }) | Wake::Deadline => {
                    panic!("no response")
                }
                _ => {}
            }
        }
    }
    let token = ask(&mut obs, "set-rate 20");
    let body = response(&mut obs, token).await;
    assert_eq!(body["ok"], true, "{body}");
    let token = ask(&mut obs, "status");
    let body = response(&mut obs, token).await;
    assert_eq!(body["reply"]["rate"], 20.0, "{body}");
    assert_eq!(body["reply"]["boots"], 1, "{body}");
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn a_killed_device_turns_offline_through_its_will_and_comes_back() {
    let (broker, addr) = broker().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sim = Simulator::spawn([device("dev-04", &addr), device("dev-05", &addr)], Some(tx));
    let mut obs = observer(&addr, &["devices/+/status"]).await;
    message(&mut obs, "devices/dev-04/status", |p| p == b"online").await;
    message(&mut obs, "devices/dev-05/status", |p| p == b"online").await;

    publish(&mut obs, "sim/kill", "dev-04", Properties::default());
    message(&mut obs, "devices/dev-04/status", |p| p == b"offline").await;
    message(&mut obs, "devices/dev-04/status", |p| p == b"online").await;

    // Only the addressed device died, and it did so without DISCONNECT.
    let mut killed = Vec::new();
    while let Ok(report) = rx.try_recv() {
        if let Report::Killed { id } = report {
            killed.push(id);
        }
    }
    assert_eq!(killed, ["dev-04"]);
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn a_hung_device_is_found_dead_by_keep_alive() {
    let (broker, addr) = broker().await;
    let config = DeviceConfig {
        keep_alive: 1,
        revive_after: None,
        ..device("dev-06", &addr)
    };
    let sim = Simulator::spawn([config], None);
    let mut obs = observer(&addr, &["devices/+/status"]).await;
    message(&mut obs, "devices/dev-06/status", |p| p == b"online").await;
    let hung_at = Instant::now();
    publish(&mut obs, "sim/hang", "dev-06", Properties::default());
    message(&mut obs, "devices/dev-06/status", |p| p == b"offline").await;
    // Not at once like a kill: only when 1.5 x Keep Alive passed in silence.
    assert!(hung_at.elapsed() >= Duration::from_millis(1_000));
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn reboot_goes_offline_then_online() {
    let (broker, addr) = broker().await;
    let sim = Simulator::spawn([device("dev-08", &addr)], None);
    let mut obs = observer(&addr, &["devices/+/status", "test/replies"]).await;
    message(&mut obs, "devices/dev-08/status", |p| p == b"online").await;
    publish(
        &mut obs,
        "devices/dev-08/commands",
        "reboot",
        reply_to(b"r"),
    );
    let reply = message(&mut obs, "test/replies", |_| true).await;
    assert_eq!(json(&reply.payload)["reply"], "rebooting");
    message(&mut obs, "devices/dev-08/status", |p| p == b"offline").await;
    message(&mut obs, "devices/dev-08/status", |p| p == b"online").await;
    sim.shutdown().await;
    broker.shutdown().await;
}

#[tokio::test]
async fn shutdown_leaves_devices_offline() {
    let (broker, addr) = broker().await;
    let sim = Simulator::spawn([device("dev-09", &addr)], None);
    let mut obs = observer(&addr, &["devices/+/status"]).await;
    message(&mut obs, "devices/dev-09/status", |p| p == b"online").await;
    sim.shutdown().await;
    message(&mut obs, "devices/dev-09/status", |p| p == b"offline").await;
    broker.shutdown().await;
}

#[tokio::test]
async fn devices_reconnect_after_the_broker_comes_back() {
    // A broker that is not there yet: the device keeps trying with backoff.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sim = Simulator::spawn([device("dev-10", &addr.to_string())], Some(tx));
    // Its first attempt fails.
    let report = tokio::time::timeout(DEADLINE, rx.recv()).await.unwrap();
    assert!(
        matches!(report, Some(Report::Disconnected { .. })),
        "{report:?}"
    );
    let config = Config {
        tcp: vec![addr],
        sys_interval: 0,
        ..Config::default()
    };
    let Ok(broker) = Broker::start(config).await else {
        // Someone else took the port in between; nothing to test.
        sim.shutdown().await;
        return;
    };
    let mut obs = observer(&addr.to_string(), &["devices/+/status"]).await;
    message(&mut obs, "devices/dev-10/status", |p| p == b"online").await;
    sim.shutdown().await;
    broker.shutdown().await;
}

/// The fleet the dashboard is tested with: 500 devices at 2 msg/s each all
/// connect, and every one of them is heard from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_500_connects_and_publishes() {
    const FLEET: usize = 500;
    let (broker, addr) = broker().await;
    let mut obs = observer(&addr, &["devices/+/telemetry"]).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let configs = wasmqtt_devices::device_ids("dev", FLEET)
        .into_iter()
        .enumerate()
        .map(|(i, id)| DeviceConfig {
            rate: 2.0,
            seed: 1 + i as u64 * 0x9E37_79B9,
            ..DeviceConfig::new(id, addr.clone())
        });
    let sim = Simulator::spawn(configs, Some(tx));
    let deadline = Instant::now() + 3 * DEADLINE;
    let mut connected = std::collections::HashSet::new();
    while connected.len() < FLEET {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Report::Connected { id })) => {
                connected.insert(id);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("only {} of {FLEET} connected", connected.len()),
        }
    }
    let mut heard = std::collections::HashSet::new();
    while heard.len() < FLEET {
        match link_next(&mut obs, deadline).await {
            Some(m) => {
                let id = m.topic.as_str().split('/').nth(1).unwrap_or("").to_owned();
                heard.insert(id);
            }
            None => panic!("heard from only {} of {FLEET} devices", heard.len()),
        }
    }
    sim.shutdown().await;
    broker.shutdown().await;
}

/// The observer's next message, or None once `deadline` passes.
async fn link_next(link: &mut Link, deadline: Instant) -> Option<Publish> {
    loop {
        match link.next(Some(deadline), pending()).await {
            Wake::Event(Event::Message(m)) => return Some(m),
            Wake::Event(_) => {}
            Wake::Deadline | Wake::Stopped => return None,
        }
    }
}
