//! Topic Aliases (section 3.3.2.3.4), per connection and per direction.

use alloc::string::String;
use alloc::vec::Vec;
use wasmqtt_codec::TopicName;

use crate::error::ProtocolError;

/// Aliases the server set for topics it sends us.
#[derive(Debug, Default)]
pub(crate) struct InboundAliases {
    topics: Vec<Option<TopicName>>,
}

impl InboundAliases {
    pub(crate) fn reset(&mut self, maximum: u16) {
        self.topics.clear();
        self.topics.resize(usize::from(maximum), None);
    }

    /// Maps `alias` for `topic`, or resolves it when `topic` is empty.
    pub(crate) fn resolve(
        &mut self,
        alias: u16,
        topic: &mut TopicName,
    ) -> Result<(), ProtocolError> {
        // [MQTT-3.3.2-9] [MQTT-3.3.2-10]: 0 or above our maximum is invalid.
        let slot = usize::from(alias)
            .checked_sub(1)
            .and_then(|i| self.topics.get_mut(i))
            .ok_or(ProtocolError::TopicAliasInvalid(alias))?;
        if topic.is_empty() {
            match slot {
                Some(known) => *topic = known.clone(),
                None => return Err(ProtocolError::TopicAliasUnknown(alias)),
            }
        } else {
            *slot = Some(topic.clone());
        }
        Ok(())
    }
}

/// Aliases we assign for topics we send, within the server's maximum.
#[derive(Debug, Default)]
pub(crate) struct OutboundAliases {
    /// The topic of alias `i + 1`. Searched linearly: comparing short
    /// strings is cheap next to encoding and sending the PUBLISH.
    topics: Vec<String>,
    maximum: u16,
}

/// How to send a topic.
pub(crate) enum Outbound {
    /// Send the topic and set up this alias.
    Assign(u16),
    /// Send the alias alone.
    Reuse(u16),
    /// Send the topic without an alias.
    None,
}

impl OutboundAliases {
    /// Whether aliases may be assigned on this connection.
    pub(crate) fn is_on(&self) -> bool {
        self.maximum > 0
    }

    pub(crate) fn reset(&mut self, maximum: u16) {
        self.topics.clear();
        self.maximum = maximum;
    }

    pub(crate) fn lookup(&mut self, topic: &str) -> Outbound {
        let known = self.topics.iter().position(|t| t == topic);
        // Aliases are handed out first come, first served until the
        // server's maximum; dashboards publish to a small, stable set of topics.
        let alias = u16::try_from(known.unwrap_or(self.topics.len()) + 1);
        match (known, alias) {
            (Some(_), Ok(alias)) => Outbound::Reuse(alias),
            (None, Ok(alias)) if alias <= self.maximum => {
                self.topics.push(String::from(topic));
                Outbound::Assign(alias)
            }
            _ => Outbound::None,
        }
    }
}
