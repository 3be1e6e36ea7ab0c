//! Timers that outlive a connection: Will Delay and Session Expiry.

use std::sync::Arc;
use std::time::Duration;

use wasmqtt_codec::{Publish, Will};

use crate::broker::Shared;
use crate::message::Message;
use crate::state::Stats;

/// Removes the session after `expiry` seconds unless a connection attached since.
pub(crate) fn expire_later(shared: Arc<Shared>, client: Arc<str>, generation: u64, expiry: u32) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(u64::from(expiry))).await;
        let mut state = shared.state();
        if state
            .sessions
            .get(&client)
            .is_some_and(|s| s.generation == generation)
        {
            state.remove_session(&client);
        }
    });
}

/// Publishes a will after its Will Delay Interval, or when the session ends
/// if that is sooner [MQTT-3.1.3-9]; a reconnect before then cancels it.
pub(crate) fn publish_will(
    shared: Arc<Shared>,
    client: Arc<str>,
    will: Will,
    generation: u64,
    session_expiry: u32,
) {
    let delay = will
        .properties
        .will_delay_interval
        .unwrap_or(0)
        .min(session_expiry);
    if delay == 0 {
        route_will(&shared, client, will);
        return;
    }
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(u64::from(delay))).await;
        let cancelled = shared
            .state()
            .sessions
            .get(&client)
            .is_some_and(|s| s.generation != generation);
        if !cancelled {
            route_will(&shared, client, will);
        }
    });
}

/// Routes a will as an application message from `client`.
pub(crate) fn route_will(shared: &Shared, client: Arc<str>, will: Will) {
    let mut properties = will.properties;
    properties.will_delay_interval = None;
    let publish = Publish {
        qos: will.qos,
        retain: will.retain,
        topic: will.topic,
        properties,
        payload: will.payload,
        ..Publish::default()
    };
    let message = Arc::new(Message::from_publish(publish, Some(client)));
    Stats::add(&shared.stats.messages_received, 1);
    shared.state().route(message);
}
