//! `$SYS/broker/...` statistics, with `sys_interval` set to 1 second (of
//! virtual time: in-process connections on the paused clock).
mod common;

use std::collections::HashMap;

use common::*;
use wasmqtt_codec::QoS;

/// Reads `$SYS` updates until `done` accepts the latest values.
async fn until(c: &mut Client, mut done: impl FnMut(&HashMap<String, String>) -> bool) {
    let mut values = HashMap::new();
    loop {
        let p = c.recv_publish().await;
        let name = p
            .topic
            .as_str()
            .trim_start_matches("$SYS/broker/")
            .to_owned();
        let value = String::from_utf8(p.payload.to_vec()).expect("UTF-8 value");
        values.insert(name, value);
        if done(&values) {
            return;
        }
    }
}

fn number(values: &HashMap<String, String>, name: &str) -> u64 {
    values
        .get(name)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn statistics_are_published_and_follow_the_traffic() {
    // Section 4.7.2 ($SYS is server-specific; no normative statement on
    // its contents).
    let addr = local(broker_with(|c| c.sys_interval = 1).await);
    let mut sys = Client::v5(addr, "sys").await;
    sys.subscribe("$SYS/broker/#", QoS::AtMostOnce).await;
    // The retained values come at once: every statistic is there.
    until(&mut sys, |v| {
        [
            "clients/connected",
            "messages/received",
            "messages/sent",
            "bytes/received",
            "bytes/sent",
            "uptime",
        ]
        .iter()
        .all(|k| v.contains_key(*k))
    })
    .await;

    let mut p = Client::v5(addr, "p").await;
    let mut s = Client::v5(addr, "s").await;
    s.subscribe("t", QoS::AtLeastOnce).await;
    for _ in 0..3 {
        p.publish1("t", b"0123456789").await;
        s.recv_acked().await;
    }
    // Three clients are connected; three messages went in and out.
    until(&mut sys, |v| {
        number(v, "clients/connected") == 3
            && number(v, "messages/received") >= 3
            && number(v, "messages/sent") >= 3
            && number(v, "bytes/received") >= 30
            && number(v, "bytes/sent") >= 30
    })
    .await;
    drop(p);
    drop(s);
    until(&mut sys, |v| number(v, "clients/connected") == 1).await;
}

#[tokio::test(start_paused = true)]
async fn uptime_counts_seconds() {
    // Section 4.7.2 (server-specific $SYS topic).
    let b = local(broker_with(|c| c.sys_interval = 1).await);
    let mut sys = Client::v5(b, "sys").await;
    sys.subscribe("$SYS/broker/uptime", QoS::AtMostOnce).await;
    until(&mut sys, |v| {
        v.get("uptime").is_some_and(|u| u.ends_with(" seconds")) && number(v, "uptime") >= 1
    })
    .await;
}
