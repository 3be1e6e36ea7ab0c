//! `$SYS/broker/...` statistics, published as retained messages.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use wasmqtt_codec::{Publish, TopicName};

use crate::broker::Shared;
use crate::message::Message;

/// Publishes the statistics every `sys_interval` seconds until shutdown.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut stop = shared.shutdown.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(shared.config.sys_interval));
    loop {
        tokio::select! {
            _ = tick.tick() => publish_all(&shared),
            _ = stop.changed() => return,
        }
    }
}

fn publish_all(shared: &Shared) {
    let s = &shared.stats;
    let (sessions, subscriptions, retained) = {
        let state = shared.state();
        (
            state.sessions.len(),
            state.subscriptions.len(),
            state.retained.len(),
        )
    };
    let values = [
        (
            "clients/connected",
            s.clients_connected.load(Ordering::Relaxed).to_string(),
        ),
        ("clients/total", sessions.to_string()),
        (
            "messages/received",
            s.messages_received.load(Ordering::Relaxed).to_string(),
        ),
        (
            "messages/sent",
            s.messages_sent.load(Ordering::Relaxed).to_string(),
        ),
        (
            "bytes/received",
            s.bytes_received.load(Ordering::Relaxed).to_string(),
        ),
        (
            "bytes/sent",
            s.bytes_sent.load(Ordering::Relaxed).to_string(),
        ),
        ("subscriptions/count", subscriptions.to_string()),
        ("retained messages/count", retained.to_string()),
        (
            "uptime",
            format!("{} seconds", shared.started.elapsed().as_secs()),
        ),
    ];
    let mut state = shared.state();
    for (name, value) in values {
        let Ok(topic) = TopicName::new(format!("$SYS/broker/{name}")) else {
            continue;
        };
        let publish = Publish {
            retain: true,
            topic,
            payload: Bytes::from(value),
            ..Publish::default()
        };
        state.route(
            Arc::new(Message::from_publish(publish, None)),
            &shared.access,
        );
    }
}
