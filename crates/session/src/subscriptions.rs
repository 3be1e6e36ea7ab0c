//! The registry of subscriptions, for resubscribing and for dispatching
//! each message to its subscription's handler.

use alloc::collections::BTreeMap;
use alloc::string::String;
use wasmqtt_codec::{Properties, Publish, QoS, SubscriptionOptions, TopicFilter};

/// One subscription as the application asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEntry {
    /// The filter, validated.
    pub filter: TopicFilter,
    /// Subscription Options.
    pub options: SubscriptionOptions,
    /// The SUBSCRIBE properties it was made with (Subscription Identifier, User Properties).
    pub properties: Properties,
    /// QoS granted by SUBACK; `None` until acknowledged.
    pub granted: Option<QoS>,
}

impl SubscriptionEntry {
    /// Subscription Identifier given at subscribe time.
    #[must_use]
    pub fn subscription_identifier(&self) -> Option<u32> {
        self.properties.subscription_identifiers.first().copied()
    }
}

/// Subscriptions by filter text.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: BTreeMap<String, SubscriptionEntry>,
}

impl Registry {
    pub(crate) fn insert(&mut self, entry: SubscriptionEntry) {
        self.entries
            .insert(String::from(entry.filter.as_str()), entry);
    }

    pub(crate) fn remove(&mut self, filter: &str) {
        self.entries.remove(filter);
    }

    pub(crate) fn get_mut(&mut self, filter: &str) -> Option<&mut SubscriptionEntry> {
        self.entries.get_mut(filter)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &SubscriptionEntry> {
        self.entries.values()
    }

    /// The subscriptions a message was delivered for: by Subscription
    /// Identifier when the message carries them, by topic matching otherwise.
    pub(crate) fn matching<'a>(
        &'a self,
        message: &'a Publish,
    ) -> impl Iterator<Item = &'a SubscriptionEntry> + 'a {
        let ids = &message.properties.subscription_identifiers;
        self.entries.values().filter(
            move |e| match (ids.is_empty(), e.subscription_identifier()) {
                (false, Some(id)) => ids.contains(&id),
                _ => e.filter.matches(&message.topic),
            },
        )
    }
}
