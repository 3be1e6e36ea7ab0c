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

/// Timers in virtual time: a broker without listeners, sessions put in its
/// state directly, tokio's clock paused. A test's `sleep` lets the clock
/// jump from timer to timer, so the broker's timers due before it have run
/// when it returns, and no real time passes.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::broker::Broker;
    use crate::config::Config;
    use crate::session::Session;

    async fn broker() -> Broker {
        let config = Config {
            sys_interval: 0,
            ..Config::default()
        };
        Broker::start(config).await.unwrap()
    }

    /// Puts a detached session for `client` in the state, as a connection
    /// ending leaves it, and starts its expiry timer.
    fn detached(shared: &Arc<Shared>, client: &str, expiry: u32) {
        let client: Arc<str> = Arc::from(client);
        let mut session = Session::new(Arc::clone(&client));
        session.expiry_interval = expiry;
        session.generation = shared.next_id();
        let generation = session.generation;
        shared.state().sessions.insert(Arc::clone(&client), session);
        expire_later(Arc::clone(shared), client, generation, expiry);
    }

    fn exists(shared: &Shared, client: &str) -> bool {
        shared.state().sessions.contains_key(client)
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_ends_when_its_expiry_interval_has_passed() {
        // [MQTT-3.1.2-23]
        let b = broker().await;
        let shared = Arc::clone(b.shared());
        detached(&shared, "s", 60);
        tokio::time::sleep(Duration::from_millis(59_900)).await;
        assert!(exists(&shared, "s"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!exists(&shared, "s"));
        b.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_replaced_sessions_timer_leaves_its_successor() {
        // [MQTT-3.1.2-23]: a session of 1 s is replaced (Clean Start) by one
        // of 60 s under the same client id; the first timer must not end
        // the second session.
        let b = broker().await;
        let shared = Arc::clone(b.shared());
        detached(&shared, "s", 1);
        shared.state().remove_session("s");
        detached(&shared, "s", 60);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(exists(&shared, "s"), "the old timer ended the new session");
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert!(!exists(&shared, "s"));
        b.shutdown().await;
    }
}
