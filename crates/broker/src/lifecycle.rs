//! Timers that outlive a connection: Will Delay and Session Expiry.

use std::sync::Arc;
use std::time::Duration;

use wasmqtt_codec::{Publish, Will};

use crate::broker::Shared;
use crate::message::Message;
use crate::state::Stats;

/// Removes the session after `expiry` seconds unless a connection attached
/// since. A will still waiting for its delay is published then: the session
/// ending comes first [MQTT-3.1.3-9].
pub(crate) fn expire_later(shared: Arc<Shared>, client: Arc<str>, generation: u64, expiry: u32) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(u64::from(expiry))).await;
        let will = {
            let mut state = shared.state();
            if state
                .sessions
                .get(&client)
                .is_some_and(|s| s.generation == generation)
            {
                state.remove_session(&client).and_then(|s| s.delayed_will)
            } else {
                None
            }
        };
        if let Some(will) = will {
            route_will(&shared, client, will);
        }
    });
}

/// Publishes the session's delayed will after `delay` seconds unless a
/// connection attached since (which cancels it) or the session ended first
/// (which published it).
pub(crate) fn will_later(shared: Arc<Shared>, client: Arc<str>, generation: u64, delay: u32) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(u64::from(delay))).await;
        let will = shared
            .state()
            .sessions
            .get_mut(&client)
            .filter(|s| s.generation == generation)
            .and_then(|s| s.delayed_will.take());
        if let Some(will) = will {
            route_will(&shared, client, will);
        }
    });
}

/// The Will Delay Interval of `will`, in seconds.
pub(crate) fn will_delay(will: &Will) -> u32 {
    will.properties.will_delay_interval.unwrap_or(0)
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
    shared.state().route(message, &shared.access);
}
