//! What the Rust API hands out: messages and connection events.

use bytes::Bytes;
use wasmqtt_codec::{Properties, Publish, QoS, ReasonCode};
use wasmqtt_session::ServerLimits;

use super::error::Error;

/// A message the broker delivered.
///
/// ```
/// # fn show(m: &wasmqtt::Message) {
/// match m.text() {
///     Some(text) => println!("{}: {text}", m.topic),
///     None => println!("{}: {} bytes", m.topic, m.payload.len()),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// Topic Name (a Topic Alias already resolved).
    pub topic: String,
    /// Payload; cloning it does not copy the bytes.
    pub payload: Bytes,
    /// QoS it was delivered with.
    pub qos: QoS,
    /// RETAIN: a retained message, sent because of a subscribe.
    pub retain: bool,
    /// DUP: the broker may have sent it before.
    pub dup: bool,
    /// PUBLISH properties (User Properties, Content Type, Response Topic,
    /// Correlation Data, Subscription Identifiers …).
    pub properties: Properties,
}

impl Message {
    /// The payload as UTF-8 text, if it is.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }
}

impl From<&Publish> for Message {
    fn from(p: &Publish) -> Self {
        Self {
            topic: p.topic.as_str().to_owned(),
            payload: p.payload.clone(),
            qos: p.qos,
            retain: p.retain,
            dup: p.dup,
            properties: p.properties.clone(),
        }
    }
}

/// What happens to the connection, from [`Client::events`](crate::Client::events).
///
/// ```no_run
/// # async fn run(client: wasmqtt::Client) {
/// use futures_util::StreamExt;
/// use wasmqtt::Event;
///
/// let mut events = client.events();
/// while let Some(event) = events.next().await {
///     match event {
///         Event::Connected { session_present, .. } => println!("up (resumed: {session_present})"),
///         Event::Disconnected { reason } => println!("down: {reason}"),
///         Event::Reconnecting { attempt, delay_ms } => println!("retry #{attempt} in {delay_ms} ms"),
///         _ => {}
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// CONNACK accepted the connection.
    Connected {
        /// The broker resumed an existing session.
        session_present: bool,
        /// The broker's limits and features from this CONNACK.
        server: ServerLimits,
    },
    /// The connection was lost, refused or never opened, and why. A
    /// `Reconnecting` follows unless the client gives up.
    Disconnected {
        /// Why.
        reason: Error,
    },
    /// The next connection attempt, and how long until it starts.
    Reconnecting {
        /// Attempts in a row so far, from 1.
        attempt: u32,
        /// Milliseconds until it starts.
        delay_ms: u64,
    },
    /// A subscription restored after the broker lost the session was refused.
    SubscriptionLost {
        /// The filter.
        filter: String,
        /// The SUBACK reason code.
        reason_code: ReasonCode,
    },
    /// The client ended; the stream ends after this.
    Ended,
}
