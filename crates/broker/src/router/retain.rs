//! Retained messages: the last retained message per topic.

use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::time::Instant;

use wasmqtt_codec::topic;

use crate::message::Message;

/// Retained messages by topic.
#[derive(Debug, Default)]
pub struct RetainedStore {
    by_topic: BTreeMap<String, Arc<Message>>,
}

impl RetainedStore {
    /// Stores `message` as the retained one for its topic, or deletes the
    /// retained message when the payload is empty [MQTT-3.3.1-6] [MQTT-3.3.1-7].
    pub fn set(&mut self, message: Arc<Message>) {
        let topic = message.topic.as_str();
        if message.payload.is_empty() {
            self.by_topic.remove(topic);
        } else {
            self.by_topic.insert(topic.to_owned(), message);
        }
    }

    /// Number of retained messages.
    pub fn len(&self) -> usize {
        self.by_topic.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.by_topic.is_empty()
    }

    /// Retained messages matching `filter` that have not expired; expired
    /// ones are dropped on the way.
    pub fn matching(&mut self, filter: &str, now: Instant) -> Vec<Arc<Message>> {
        self.by_topic
            .retain(|_, m| m.remaining_expiry(now).is_some());
        self.by_topic
            .iter()
            .filter(|(t, _)| topic::matches(filter, t))
            .map(|(_, m)| Arc::clone(m))
            .collect()
    }
}
