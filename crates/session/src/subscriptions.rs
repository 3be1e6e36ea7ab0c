//! The registry of subscriptions, for resubscribing and for dispatching
//! each message to its subscription's handler.

use alloc::vec::Vec;
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

/// Subscriptions, one per filter text, sorted by filter.
///
/// A sorted list: every received message is matched against all of them
/// anyway, and lookups by filter are binary searches.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Vec<SubscriptionEntry>,
}

impl Registry {
    fn find(&self, filter: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| e.filter.as_str().cmp(filter))
    }

    /// Adds `entry`, replacing the one with the same filter.
    pub(crate) fn insert(&mut self, entry: SubscriptionEntry) {
        match self.find(entry.filter.as_str()) {
            Ok(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    *e = entry;
                }
            }
            Err(i) => self.entries.insert(i, entry),
        }
    }

    pub(crate) fn remove(&mut self, filter: &str) {
        if let Ok(i) = self.find(filter) {
            self.entries.remove(i);
        }
    }

    pub(crate) fn get_mut(&mut self, filter: &str) -> Option<&mut SubscriptionEntry> {
        let i = self.find(filter).ok()?;
        self.entries.get_mut(i)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &SubscriptionEntry> {
        self.entries.iter()
    }

    /// The subscriptions a message was delivered for.
    ///
    /// [MQTT-3.3.4-3]: a server sends the Subscription Identifiers of every
    /// overlapping subscription that has one. So with identifiers on the
    /// message: the subscriptions with those identifiers, and those
    /// without one that match the topic (one copy may serve them all).
    /// Without any, where identifiers are in use (`by_id`): only the
    /// matching subscriptions without an identifier, since a server that
    /// sends one copy per subscription (mosquitto) sends the others their
    /// own copy, with the identifier. Otherwise by topic alone.
    pub(crate) fn matching<'a>(
        &'a self,
        message: &'a Publish,
        by_id: bool,
    ) -> impl Iterator<Item = &'a SubscriptionEntry> + 'a {
        let ids = &message.properties.subscription_identifiers;
        self.entries
            .iter()
            .filter(move |e| match e.subscription_identifier() {
                Some(id) if !ids.is_empty() => ids.contains(&id),
                Some(_) if by_id => false,
                _ => e.filter.matches(&message.topic),
            })
    }
}
