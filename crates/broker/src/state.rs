//! The broker's shared state: sessions, subscriptions, retained messages.
//! One lock guards it; it is never held across an await.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wasmqtt_codec::QoS;

use crate::auth::Access;
use crate::message::{Delivery, Message};
use crate::router::{RetainedStore, SubscriptionTree};
use crate::session::Session;

/// Traffic counters for `$SYS/broker/...`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Application messages received.
    pub messages_received: AtomicU64,
    /// Application messages sent.
    pub messages_sent: AtomicU64,
    /// Bytes received.
    pub bytes_received: AtomicU64,
    /// Bytes sent.
    pub bytes_sent: AtomicU64,
    /// Connections currently open (CONNACK sent).
    pub clients_connected: AtomicU64,
}

impl Stats {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds a possibly negative `n` to `counter`.
    pub fn add_signed(counter: &AtomicU64, n: i64) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Sessions, the subscription tree and retained messages.
#[derive(Debug)]
pub struct State {
    /// Sessions by client id.
    pub sessions: HashMap<Arc<str>, Session>,
    /// Every subscription, by filter level.
    pub subscriptions: SubscriptionTree,
    /// Retained messages.
    pub retained: RetainedStore,
    /// Most deliveries queued per session.
    pub max_queued: usize,
}

impl State {
    /// Empty state.
    pub fn new(max_queued: usize) -> Self {
        Self {
            sessions: HashMap::new(),
            subscriptions: SubscriptionTree::default(),
            retained: RetainedStore::default(),
            max_queued,
        }
    }

    /// Routes a message to every matching subscription; returns how many
    /// sessions it was queued for.
    pub fn route(&mut self, message: Arc<Message>, access: &Access) -> usize {
        if message.retain {
            self.retained.set(Arc::clone(&message));
        }
        let sessions = &self.sessions;
        let online = |client: &str| sessions.get(client).is_some_and(|s| s.link.is_some());
        let mut matches = self.subscriptions.matches(message.topic.as_str(), &online);
        // One copy per session, with the highest granted QoS and every
        // Subscription Identifier of its matching subscriptions [MQTT-3.3.4-3]:
        // sorting brings a session's subscriptions together without hashing.
        matches.sort_unstable_by(|a, b| a.client.cmp(&b.client));
        let mut per_session: Vec<(Arc<str>, Delivery)> = Vec::with_capacity(matches.len());
        for sub in matches {
            let own = message.publisher.as_deref() == Some(&*sub.client);
            // [MQTT-3.8.3-3]: No Local keeps a client's own messages from it.
            if own && sub.options.no_local {
                continue;
            }
            let qos = message.qos.min(sub.options.qos);
            // [MQTT-3.3.1-12] [MQTT-3.3.1-13]: RETAIN is kept only with Retain As Published.
            let retain = message.retain && sub.options.retain_as_published;
            match per_session.last_mut() {
                Some((client, entry)) if *client == sub.client => {
                    entry.qos = entry.qos.max(qos);
                    entry.retain |= retain;
                    entry.subscription_ids.extend(sub.subscription_id);
                }
                _ => per_session.push((
                    sub.client,
                    Delivery {
                        message: Arc::clone(&message),
                        qos,
                        retain,
                        subscription_ids: sub.subscription_id.into_iter().collect(),
                    },
                )),
            }
        }
        // The ACL is checked for the receiving session's user, whatever its
        // subscriptions say.
        if access.has_acl() {
            per_session.retain(|(client, _)| {
                let username = self
                    .sessions
                    .get(client)
                    .and_then(|s| s.username.as_deref());
                access.can_read(username, client, message.topic.as_str())
            });
        }
        let count = per_session.len();
        for (client, delivery) in per_session {
            self.deliver(&client, delivery);
        }
        count
    }

    /// Queues a delivery for a session and wakes its connection.
    pub fn deliver(&mut self, client: &str, delivery: Delivery) {
        let max_queued = self.max_queued;
        let Some(session) = self.sessions.get_mut(client) else {
            return;
        };
        // QoS 0 is not kept for a disconnected session.
        if session.link.is_none() && delivery.qos == QoS::AtMostOnce {
            return;
        }
        if session.pending.len() >= max_queued {
            session.dropped += 1;
            return;
        }
        session.pending.push_back(delivery);
        if let Some(link) = &session.link {
            link.notify.notify_one();
        }
    }

    /// Removes a session and its subscriptions.
    pub fn remove_session(&mut self, client: &str) -> Option<Session> {
        let session = self.sessions.remove(client)?;
        for record in session.subscriptions.values() {
            self.subscriptions
                .remove(&record.filter, record.share.as_deref(), client);
        }
        // The table does not keep the size of a past crowd: shrunk to twice
        // its use once it is four times larger, so shrinking stays rare.
        let len = self.sessions.len();
        if self.sessions.capacity() > 4 * len + 64 {
            self.sessions.shrink_to(2 * len);
        }
        Some(session)
    }

    /// Retained messages for a new subscription, as deliveries.
    pub fn retained_for(
        &mut self,
        filter: &str,
        options: wasmqtt_codec::SubscriptionOptions,
        subscription_id: Option<u32>,
    ) -> Vec<Delivery> {
        self.retained
            .matching(filter, tokio::time::Instant::now())
            .into_iter()
            .map(|message| Delivery {
                qos: message.qos.min(options.qos),
                // [MQTT-3.3.1-9]: retained messages sent for a new subscription keep RETAIN.
                retain: true,
                subscription_ids: subscription_id.into_iter().collect(),
                message,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Subscriber;
    use wasmqtt_codec::{Publish, SubscriptionOptions, TopicName};

    fn message(topic: &str) -> Arc<Message> {
        let publish = Publish {
            qos: QoS::AtLeastOnce,
            topic: TopicName::new(topic).unwrap(),
            ..Publish::default()
        };
        Arc::new(Message::from_publish(publish, None))
    }

    /// A subscription the ACL does not allow (made under other rules, or
    /// by another user) delivers nothing.
    #[test]
    fn route_checks_the_acl_for_the_receiving_user() {
        let access =
            Access::with_acl("user alice\ntopic read alice/#\nuser eve\ntopic read eve/#\n");
        let mut state = State::new(10);
        for (client, user) in [("a", "alice"), ("e", "eve")] {
            let mut session = Session::new(Arc::from(client));
            session.username = Some(user.into());
            state.sessions.insert(Arc::from(client), session);
            state.subscriptions.insert(
                "alice/#",
                None,
                Subscriber {
                    client: Arc::from(client),
                    options: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        ..Default::default()
                    },
                    subscription_id: None,
                },
            );
        }
        assert_eq!(state.route(message("alice/x"), &access), 1);
        let queued = |state: &State, c: &str| state.sessions.get(c).map(|s| s.pending.len());
        assert_eq!(queued(&state, "a"), Some(1));
        assert_eq!(queued(&state, "e"), Some(0));
    }
}
