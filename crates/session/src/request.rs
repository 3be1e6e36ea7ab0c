//! Request/response (section 4.10): a publish with a Response Topic and
//! fresh Correlation Data, matched with the message that answers it.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use wasmqtt_codec::{
    Properties, ProtocolVersion, Publish, QoS, ReasonCode, Subscription, SubscriptionOptions,
    TopicName,
};

use crate::error::UsageError;
use crate::event::{Event, PublishError, Token};
use crate::session::Session;
use crate::Millis;

/// Requests waiting for their response: Correlation Data, token, deadline.
/// A list: requests wait a few at a time.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    pending: Vec<(Bytes, Token, Millis)>,
    /// The topic responses come back on, once subscribed.
    response_topic: Option<TopicName>,
}

impl Requests {
    pub(crate) fn next_deadline(&self) -> Option<Millis> {
        self.pending.iter().map(|&(_, _, at)| at).min()
    }

    /// Removes the requests whose time ran out and reports each to `events`
    /// (directly: a list of tokens in between costs code).
    pub(crate) fn expire(&mut self, now: Millis, events: &mut VecDeque<Event>) {
        self.pending.retain(|&(_, token, at)| {
            let keep = now < at;
            if !keep {
                events.push_back(Event::RequestTimeout { token });
            }
            keep
        });
    }

    /// What the end of publish `token` reports: [`Event::Published`], or
    /// for a request's publish nothing when it went out (the request waits
    /// for its response) and [`Event::RequestFailed`] when it failed.
    pub(crate) fn publish_outcome(
        &mut self,
        token: Token,
        result: Result<ReasonCode, PublishError>,
    ) -> Option<Event> {
        let Some(i) = self.pending.iter().position(|p| p.1 == token) else {
            return Some(Event::Published { token, result });
        };
        let error = result.err()?;
        self.pending.remove(i);
        Some(Event::RequestFailed { token, error })
    }

    /// The request `message` answers, if any.
    pub(crate) fn take_response(&mut self, message: &Publish) -> Option<Token> {
        if self.pending.is_empty() || self.response_topic.as_ref() != Some(&message.topic) {
            return None;
        }
        let data = message.properties.correlation_data.as_ref()?;
        let i = self.pending.iter().position(|(d, _, _)| d == data)?;
        Some(self.pending.remove(i).1)
    }
}

/// Where responses come back unless the server names a base.
const RESPONSE_PREFIX: &str = "wasmqtt/response/";

/// Appends `n` as 16 lowercase hex digits (`{:016x}`).
fn push_hex(s: &mut String, n: u64) {
    for shift in (0..16).rev() {
        let digit = ((n >> (shift * 4)) & 0xF) as u8;
        s.push(char::from(if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        }));
    }
}

impl Session {
    /// Publishes `publish` as a request and reports the answer as
    /// [`crate::Event::Response`], or [`crate::Event::RequestTimeout`]
    /// after `timeout`. The session subscribes to its response topic on
    /// first use: under the server's Response Information when it gave
    /// one, else `wasmqtt/response/{client id}`.
    pub fn request(
        &mut self,
        now: Millis,
        mut publish: Publish,
        timeout: Millis,
    ) -> Result<Token, UsageError> {
        if self.options.protocol_version == ProtocolVersion::V311 {
            return Err(UsageError::NotInV311);
        }
        let topic = self.response_topic(now)?;
        let mut data = [0u8; 16];
        data[..8].copy_from_slice(&self.rng.next_u64().to_be_bytes());
        data[8..].copy_from_slice(&self.rng.next_u64().to_be_bytes());
        let data = Bytes::copy_from_slice(&data);
        publish.properties.response_topic = Some(topic);
        publish.properties.correlation_data = Some(data.clone());
        self.check_publish(&mut publish)?;
        let token = self.token();
        // Pending before it is queued: a QoS 0 publish may go out at once,
        // and its outcome must be known as a request's.
        self.requests
            .pending
            .push((data, token, now.saturating_add(timeout)));
        if let Err(e) = self.enqueue_publish(now, token, publish) {
            self.requests.pending.pop();
            return Err(e);
        }
        Ok(token)
    }

    fn response_topic(&mut self, now: Millis) -> Result<TopicName, UsageError> {
        if let Some(topic) = &self.requests.response_topic {
            return Ok(topic.clone());
        }
        // Strings are put together by hand: `format!` would pull the
        // formatting machinery into the wasm build.
        let mut name = match &self.limits.response_information {
            Some(base) if !base.is_empty() => {
                // `trim_end_matches('/')` on bytes: less code than a char pattern.
                let mut end = base.len();
                while end > 0 && base.as_bytes().get(end - 1) == Some(&b'/') {
                    end -= 1;
                }
                String::from(base.get(..end).unwrap_or_default()) + "/"
            }
            _ => String::from(RESPONSE_PREFIX),
        };
        if self.options.client_id.is_empty() {
            push_hex(&mut name, self.rng.next_u64());
        } else {
            name.push_str(&self.options.client_id);
        }
        // Client ids may hold characters a topic name cannot; fall back to random.
        let topic = TopicName::new(name)
            .or_else(|_| {
                let mut name = String::from(RESPONSE_PREFIX);
                push_hex(&mut name, self.rng.next_u64());
                TopicName::new(name)
            })
            .map_err(UsageError::InvalidTopic)?;
        let subscription = Subscription {
            filter: topic.as_str().into(),
            options: SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                no_local: true,
                ..SubscriptionOptions::default()
            },
        };
        self.subscribe(now, alloc::vec![subscription], Properties::default())?;
        self.requests.response_topic = Some(topic.clone());
        Ok(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_matches_format() {
        for n in [0, 1, 0xabc, 0x0123_4567_89ab_cdef, u64::MAX] {
            let mut s = String::new();
            push_hex(&mut s, n);
            assert_eq!(s, alloc::format!("{n:016x}"));
        }
    }
}
