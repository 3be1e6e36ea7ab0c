//! Topic Aliases on the PUBLISH packets we send (section 3.3.2.3.4), for
//! clients that allow them (Topic Alias Maximum in CONNECT): the first
//! message on a topic carries the topic and a new alias, later ones only
//! the alias. Aliases are handed out first come, first served, and never
//! remapped; once they run out, other topics go in full. What a
//! connection keeps for this is bounded by [`MAX_ALIASES`], whatever the
//! client allows.

use std::collections::HashMap;

use wasmqtt_codec::{Publish, TopicName};

/// Most aliases one connection keeps.
pub(super) const MAX_ALIASES: u16 = 64;

/// The aliases this connection has given the client.
#[derive(Debug, Default)]
pub(super) struct OutgoingAliases {
    max: u16,
    by_topic: HashMap<TopicName, u16>,
}

/// What [`OutgoingAliases::apply`] did to a PUBLISH.
#[derive(Debug)]
pub(super) enum Applied {
    /// Nothing.
    None,
    /// A new alias, sent with the topic.
    New(u16),
    /// A known alias, sent instead of the topic (kept here meanwhile).
    Known(TopicName),
}

impl OutgoingAliases {
    /// For a client whose Topic Alias Maximum is `client_max` (0: none may
    /// be sent [MQTT-3.1.2-27]).
    pub(super) fn new(client_max: u16) -> Self {
        Self {
            max: client_max.min(MAX_ALIASES),
            by_topic: HashMap::new(),
        }
    }

    /// Puts an alias on `publish` (never above the client's maximum
    /// [MQTT-3.1.2-26]). Call [`OutgoingAliases::sent`] once the packet is
    /// encoded; if it is dropped instead, nothing was promised.
    pub(super) fn apply(&self, publish: &mut Publish) -> Applied {
        if self.max == 0 {
            return Applied::None;
        }
        if let Some(&alias) = self.by_topic.get(&publish.topic) {
            publish.properties.topic_alias = Some(alias);
            return Applied::Known(std::mem::take(&mut publish.topic));
        }
        match u16::try_from(self.by_topic.len()) {
            Ok(used) if used < self.max => {
                let alias = used + 1;
                publish.properties.topic_alias = Some(alias);
                Applied::New(alias)
            }
            _ => Applied::None,
        }
    }

    /// Records a new mapping once its PUBLISH went out, and gives `publish`
    /// back its topic and no alias: in-flight copies are re-sent on a later
    /// connection, where these aliases mean nothing.
    pub(super) fn sent(&mut self, publish: &mut Publish, applied: Applied) {
        match applied {
            Applied::None => {}
            Applied::New(alias) => {
                self.by_topic.insert(publish.topic.clone(), alias);
            }
            Applied::Known(topic) => publish.topic = topic,
        }
        publish.properties.topic_alias = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(topic: &str) -> Publish {
        Publish {
            topic: TopicName::new(topic).unwrap(),
            ..Publish::default()
        }
    }

    #[test]
    fn aliases_go_to_the_first_topics_up_to_the_maximum() {
        let mut aliases = OutgoingAliases::new(1);
        let mut first = publish("a");
        let applied = aliases.apply(&mut first);
        assert_eq!(first.properties.topic_alias, Some(1));
        assert_eq!(first.topic.as_str(), "a");
        aliases.sent(&mut first, applied);
        assert_eq!(
            (first.topic.as_str(), first.properties.topic_alias),
            ("a", None)
        );

        let mut again = publish("a");
        let applied = aliases.apply(&mut again);
        assert!(again.topic.is_empty());
        assert_eq!(again.properties.topic_alias, Some(1));
        aliases.sent(&mut again, applied);
        assert_eq!(
            (again.topic.as_str(), again.properties.topic_alias),
            ("a", None)
        );

        let mut other = publish("b");
        aliases.apply(&mut other);
        assert_eq!(
            (other.topic.as_str(), other.properties.topic_alias),
            ("b", None)
        );
    }

    #[test]
    fn none_without_a_client_maximum_and_none_promised_until_sent() {
        let none = OutgoingAliases::new(0);
        let mut p = publish("a");
        none.apply(&mut p);
        assert_eq!(p.properties.topic_alias, None);

        let aliases = OutgoingAliases::new(u16::MAX);
        assert_eq!(aliases.max, MAX_ALIASES);
        let mut dropped = publish("a");
        aliases.apply(&mut dropped);
        // Not sent: the next one on the topic still carries the topic.
        let mut next = publish("a");
        aliases.apply(&mut next);
        assert_eq!(next.topic.as_str(), "a");
    }
}
