//! What to connect with, publish with and subscribe with: builders over
//! the session's and the codec's own types.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;
use wasmqtt_codec::{
    PayloadFormatIndicator, Properties, ProtocolVersion, QoS, RetainHandling, SubscriptionOptions,
    TopicName,
};
use wasmqtt_session::Backoff;

use super::error::{topic, Error};

/// A user name and password, as a credentials provider gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// User Name; `None` keeps the one set before.
    pub username: Option<String>,
    /// Password; `None` keeps the one set before.
    pub password: Option<Bytes>,
}

impl Credentials {
    /// Both a user name and a password.
    ///
    /// ```
    /// let c = wasmqtt::Credentials::new("me", "secret");
    /// assert_eq!(c.password.as_deref(), Some(&b"secret"[..]));
    /// ```
    pub fn new(username: impl Into<String>, password: impl Into<Bytes>) -> Self {
        Self {
            username: Some(username.into()),
            password: Some(password.into()),
        }
    }
}

type ProviderFuture = Pin<Box<dyn Future<Output = Result<Credentials, String>>>>;
/// A credentials provider, called before each connection attempt.
pub(crate) type Provider = Rc<dyn Fn() -> ProviderFuture>;

/// How to connect: the CONNECT packet and the client's policies.
///
/// Every setting has the default of the npm package: MQTT 5.0, a client id
/// the server assigns, Keep Alive 60 s, Clean Start, reconnect with
/// exponential backoff and full jitter (1 s to 30 s), at most 1,000
/// messages queued while offline.
///
/// ```
/// use wasmqtt::{Backoff, Options, Will, QoS};
///
/// let options = Options::new()
///     .client_id("dashboard-1")
///     .keep_alive(30)
///     .clean_start(false)
///     .session_expiry(300)
///     .will(Will::new("dashboards/1/status", "gone")?.qos(QoS::AtLeastOnce).retain(true))
///     .reconnect(Backoff { initial_delay: 500, max_delay: 15_000, ..Backoff::default() })
///     .queue_limit(100);
/// # Ok::<(), wasmqtt::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) session: wasmqtt_session::Options,
    pub(crate) provider: Option<Provider>,
}

impl Options {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Client Identifier; empty (the default) lets the server assign one,
    /// readable afterwards from [`Client::client_id`](crate::Client::client_id).
    #[must_use]
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.session.client_id = id.into();
        self
    }

    /// User Name and Password.
    ///
    /// ```
    /// let options = wasmqtt::Options::new().credentials("me", "secret");
    /// ```
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<Bytes>) -> Self {
        self.session.username = Some(username.into());
        self.session.password = Some(password.into());
        self
    }

    /// Asks `provider` for fresh credentials before each connection
    /// attempt (a token that expires, say). An error fails the attempt
    /// with [`Error::Credentials`]; the reconnect policy then applies.
    ///
    /// ```
    /// use wasmqtt::{Credentials, Options};
    ///
    /// async fn fresh_token() -> Result<String, String> {
    ///     Ok("token".into())
    /// }
    ///
    /// let options = Options::new().credentials_provider(|| async {
    ///     Ok(Credentials::new("me", fresh_token().await?))
    /// });
    /// ```
    #[must_use]
    pub fn credentials_provider<F, Fut>(mut self, provider: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<Credentials, String>> + 'static,
    {
        self.provider = Some(Rc::new(move || Box::pin(provider()) as ProviderFuture));
        self
    }

    /// Keep Alive in seconds; 0 turns it off. The server may set another.
    #[must_use]
    pub fn keep_alive(mut self, seconds: u16) -> Self {
        self.session.keep_alive = seconds;
        self
    }

    /// Clean Start on the first connection (default `true`). Reconnects
    /// always ask to resume; the session expiry decides whether there is
    /// anything to resume.
    #[must_use]
    pub fn clean_start(mut self, clean: bool) -> Self {
        self.session.clean_start = clean;
        self
    }

    /// Session Expiry Interval in seconds: how long the broker keeps the
    /// session (subscriptions, unacknowledged messages) after a disconnect.
    #[must_use]
    pub fn session_expiry(mut self, seconds: u32) -> Self {
        self.session.properties.session_expiry_interval = Some(seconds);
        self
    }

    /// The Will Message the broker publishes if the connection is lost.
    #[must_use]
    pub fn will(mut self, will: Will) -> Self {
        self.session.will = Some(will.0);
        self
    }

    /// Reconnect after a lost connection with this backoff.
    #[must_use]
    pub fn reconnect(mut self, backoff: Backoff) -> Self {
        self.session.reconnect = Some(backoff);
        self
    }

    /// Never reconnect: once lost, the client stops ([`Error::Stopped`]).
    #[must_use]
    pub fn no_reconnect(mut self) -> Self {
        self.session.reconnect = None;
        self
    }

    /// Most messages waiting for a connection or for the server's Receive
    /// Maximum; beyond it, `publish` fails with `UsageError::QueueFull`.
    #[must_use]
    pub fn queue_limit(mut self, messages: usize) -> Self {
        self.session.queue_limit = messages;
        self
    }

    /// Whether QoS 0 messages wait for a connection (default `true`), or
    /// fail at once while offline.
    #[must_use]
    pub fn queue_qos0(mut self, queue: bool) -> Self {
        self.session.queue_qos0 = queue;
        self
    }

    /// How long to wait for CONNACK, in milliseconds (default 30,000).
    #[must_use]
    pub fn connect_timeout(mut self, ms: u64) -> Self {
        self.session.connect_timeout = ms;
        self
    }

    /// MQTT 3.1.1 instead of 5.0, for brokers that refuse 5.0.
    #[must_use]
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.session.protocol_version = version;
        self
    }

    /// Receive Maximum: QoS 1/2 messages the broker may send unacknowledged.
    #[must_use]
    pub fn receive_maximum(mut self, max: u16) -> Self {
        self.session.properties.receive_maximum = Some(max);
        self
    }

    /// Maximum Packet Size the client accepts.
    #[must_use]
    pub fn maximum_packet_size(mut self, bytes: u32) -> Self {
        self.session.properties.maximum_packet_size = Some(bytes);
        self
    }

    /// Asks the broker for Response Information (a topic prefix for
    /// responses), readable from [`Client::server`](crate::Client::server).
    #[must_use]
    pub fn request_response_information(mut self, request: bool) -> Self {
        self.session.properties.request_response_information = Some(request);
        self
    }

    /// Adds a User Property to CONNECT.
    #[must_use]
    pub fn user_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.session
            .properties
            .user_properties
            .push((key.into(), value.into()));
        self
    }

    /// Assign outgoing Topic Aliases automatically, within the server's maximum.
    #[must_use]
    pub fn auto_topic_alias(mut self, on: bool) -> Self {
        self.session.auto_topic_alias = on;
        self
    }

    /// Every session setting, for what the builder does not name.
    pub fn session_mut(&mut self) -> &mut wasmqtt_session::Options {
        &mut self.session
    }
}

/// The Will Message, with all of its properties.
///
/// ```
/// use wasmqtt::{QoS, Will};
///
/// let will = Will::new("devices/7/status", "offline")?
///     .qos(QoS::AtLeastOnce)
///     .retain(true)
///     .delay(5)
///     .message_expiry(3600)
///     .content_type("text/plain")
///     .user_property("site", "lab");
/// # Ok::<(), wasmqtt::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will(pub(crate) wasmqtt_codec::Will);

impl Will {
    /// A Will on `topic`; fails if it is not a valid topic name.
    pub fn new(topic_name: &str, payload: impl Into<Bytes>) -> Result<Self, Error> {
        Ok(Self(wasmqtt_codec::Will {
            topic: TopicName::new(topic_name).map_err(topic)?,
            payload: payload.into(),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Properties::default(),
        }))
    }

    /// Will QoS.
    #[must_use]
    pub fn qos(mut self, qos: QoS) -> Self {
        self.0.qos = qos;
        self
    }

    /// Will Retain.
    #[must_use]
    pub fn retain(mut self, retain: bool) -> Self {
        self.0.retain = retain;
        self
    }

    /// Will Delay Interval in seconds.
    #[must_use]
    pub fn delay(mut self, seconds: u32) -> Self {
        self.0.properties.will_delay_interval = Some(seconds);
        self
    }

    /// Message Expiry Interval in seconds.
    #[must_use]
    pub fn message_expiry(mut self, seconds: u32) -> Self {
        self.0.properties.message_expiry_interval = Some(seconds);
        self
    }

    /// Content Type.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.0.properties.content_type = Some(content_type.into());
        self
    }

    /// Payload Format Indicator: the payload is UTF-8 text.
    #[must_use]
    pub fn utf8(mut self) -> Self {
        self.0.properties.payload_format_indicator = Some(PayloadFormatIndicator::Utf8);
        self
    }

    /// Response Topic; fails if it is not a valid topic name.
    pub fn response_topic(mut self, topic_name: &str) -> Result<Self, Error> {
        self.0.properties.response_topic = Some(TopicName::new(topic_name).map_err(topic)?);
        Ok(self)
    }

    /// Correlation Data.
    #[must_use]
    pub fn correlation_data(mut self, data: impl Into<Bytes>) -> Self {
        self.0.properties.correlation_data = Some(data.into());
        self
    }

    /// Adds a User Property.
    #[must_use]
    pub fn user_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0
            .properties
            .user_properties
            .push((key.into(), value.into()));
        self
    }
}

/// How to publish: QoS, Retain and PUBLISH properties.
///
/// ```
/// use wasmqtt::{PublishOptions, QoS};
///
/// let options = PublishOptions::new()
///     .qos(QoS::AtLeastOnce)
///     .retain(true)
///     .message_expiry(60)
///     .user_property("unit", "celsius");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    pub(crate) qos: QoS,
    pub(crate) retain: bool,
    pub(crate) properties: Properties,
}

impl PublishOptions {
    /// QoS 0, not retained, no properties.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// QoS.
    #[must_use]
    pub fn qos(mut self, qos: QoS) -> Self {
        self.qos = qos;
        self
    }

    /// Retain.
    #[must_use]
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Message Expiry Interval in seconds.
    #[must_use]
    pub fn message_expiry(mut self, seconds: u32) -> Self {
        self.properties.message_expiry_interval = Some(seconds);
        self
    }

    /// Content Type.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.properties.content_type = Some(content_type.into());
        self
    }

    /// Payload Format Indicator: the payload is UTF-8 text.
    #[must_use]
    pub fn utf8(mut self) -> Self {
        self.properties.payload_format_indicator = Some(PayloadFormatIndicator::Utf8);
        self
    }

    /// Adds a User Property.
    #[must_use]
    pub fn user_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties
            .user_properties
            .push((key.into(), value.into()));
        self
    }

    /// Every PUBLISH property (Response Topic, Correlation Data …).
    pub fn properties_mut(&mut self) -> &mut Properties {
        &mut self.properties
    }
}

/// How to subscribe: the Subscription Options and SUBSCRIBE properties.
///
/// ```
/// use wasmqtt::{QoS, RetainHandling, SubscribeOptions};
///
/// let options = SubscribeOptions::new()
///     .qos(QoS::AtLeastOnce)
///     .no_local(true)
///     .retain_handling(RetainHandling::DoNotSend);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeOptions {
    pub(crate) options: SubscriptionOptions,
    pub(crate) properties: Properties,
}

impl SubscribeOptions {
    /// QoS 0, retained messages sent at subscribe.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Maximum QoS the broker may deliver with.
    #[must_use]
    pub fn qos(mut self, qos: QoS) -> Self {
        self.options.qos = qos;
        self
    }

    /// No Local: not this client's own messages.
    #[must_use]
    pub fn no_local(mut self, no_local: bool) -> Self {
        self.options.no_local = no_local;
        self
    }

    /// Retain As Published: keep the RETAIN flag when forwarding.
    #[must_use]
    pub fn retain_as_published(mut self, keep: bool) -> Self {
        self.options.retain_as_published = keep;
        self
    }

    /// When the broker sends retained messages.
    #[must_use]
    pub fn retain_handling(mut self, handling: RetainHandling) -> Self {
        self.options.retain_handling = handling;
        self
    }

    /// Subscription Identifier (1 to 268,435,455): messages for this
    /// subscription carry it.
    #[must_use]
    pub fn subscription_identifier(mut self, id: u32) -> Self {
        self.properties.subscription_identifiers = vec![id];
        self
    }

    /// Adds a User Property to SUBSCRIBE.
    #[must_use]
    pub fn user_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties
            .user_properties
            .push((key.into(), value.into()));
        self
    }
}
