//! An application message as the broker keeps it: shared by every
//! subscriber it is delivered to.

use std::sync::Arc;
use tokio::time::Instant;

use bytes::Bytes;
use wasmqtt_codec::{Properties, Publish, QoS, TopicName};

/// A message accepted from a publisher (or a will).
#[derive(Debug)]
pub struct Message {
    /// Topic Name (aliases resolved).
    pub topic: TopicName,
    /// Payload.
    pub payload: Bytes,
    /// QoS it was published with.
    pub qos: QoS,
    /// RETAIN as published.
    pub retain: bool,
    /// Application properties forwarded unchanged (User Properties, Content
    /// Type, Response Topic, Correlation Data, Payload Format Indicator) and
    /// the Message Expiry Interval as received.
    pub properties: Properties,
    /// Client id of the publisher, for No Local.
    pub publisher: Option<Arc<str>>,
    /// When the broker received it, for Message Expiry.
    pub received_at: Instant,
}

impl Message {
    /// Takes the forwardable parts of a received PUBLISH.
    pub fn from_publish(publish: Publish, publisher: Option<Arc<str>>) -> Self {
        let mut properties = publish.properties;
        properties.topic_alias = None;
        properties.subscription_identifiers.clear();
        Self {
            topic: publish.topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties,
            publisher,
            received_at: Instant::now(),
        }
    }

    /// Seconds of Message Expiry Interval left at `now`, `Some(None)` when
    /// it never expires, `None` once expired.
    pub fn remaining_expiry(&self, now: Instant) -> Option<Option<u32>> {
        let Some(interval) = self.properties.message_expiry_interval else {
            return Some(None);
        };
        let waited = now.saturating_duration_since(self.received_at).as_secs();
        let waited = u32::try_from(waited).unwrap_or(u32::MAX);
        (waited < interval).then(|| Some(interval - waited))
    }
}

/// One message on its way to one subscriber.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The message.
    pub message: Arc<Message>,
    /// QoS of this delivery: min(published QoS, granted QoS).
    pub qos: QoS,
    /// RETAIN flag to send.
    pub retain: bool,
    /// Subscription Identifiers of the matching subscriptions.
    pub subscription_ids: Vec<u32>,
}

impl Delivery {
    /// The PUBLISH for this delivery, or `None` if the message expired
    /// [MQTT-3.3.2-5]; the expiry sent is what is left [MQTT-3.3.2-6].
    pub fn to_publish(&self, now: Instant) -> Option<Publish> {
        let remaining = self.message.remaining_expiry(now)?;
        let mut properties = self.message.properties.clone();
        properties.message_expiry_interval = remaining;
        properties
            .subscription_identifiers
            .clone_from(&self.subscription_ids);
        Some(Publish {
            dup: false,
            qos: self.qos,
            retain: self.retain,
            topic: self.message.topic.clone(),
            packet_id: None,
            properties,
            payload: self.message.payload.clone(),
        })
    }
}
