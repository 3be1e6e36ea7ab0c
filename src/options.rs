//! Option objects from JS, read with serde and checked field by field.
//!
//! The JS wrapper has already turned strings into `Uint8Array` where bytes
//! are expected and user properties into `[key, value]` pairs.

use bytes::Bytes;
use serde::Deserialize;
use wasmqtt_codec::{
    PayloadFormatIndicator, Properties, ProtocolVersion, QoS, RetainHandling, SubscriptionOptions,
    TopicName, Will,
};
use wasmqtt_session::{Backoff, Options};

use crate::error::Error;

/// Reads an options object, naming the offending field on error.
pub(crate) fn parse<'de, T: Deserialize<'de>>(value: wasm_bindgen::JsValue) -> Result<T, Error> {
    if value.is_undefined() || value.is_null() {
        return parse(js_sys::Object::new().into());
    }
    let de = serde_wasm_bindgen::Deserializer::from(value);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Error::options(&path, &e.into_inner().to_string())
    })
}

type Bin = serde_bytes::ByteBuf;

fn bytes(b: Option<Bin>) -> Option<Bytes> {
    b.map(|b| Bytes::from(b.into_vec()))
}

fn qos(q: u8) -> Result<QoS, Error> {
    QoS::from_u8(q).ok_or_else(|| Error::options("qos", "must be 0, 1 or 2"))
}

fn topic(name: &str, field: &str) -> Result<TopicName, Error> {
    TopicName::new(name).map_err(|e| Error::options(field, &e.to_string()))
}

/// MQTT 5.0 properties a message can carry (`PublishProperties` in TS).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct MessageProperties {
    payload_format_indicator: Option<bool>,
    message_expiry_interval: Option<u32>,
    content_type: Option<String>,
    response_topic: Option<String>,
    correlation_data: Option<Bin>,
    #[serde(default)]
    user_properties: Vec<(String, String)>,
    will_delay_interval: Option<u32>,
}

impl MessageProperties {
    pub(crate) fn into_properties(self) -> Result<Properties, Error> {
        Ok(Properties {
            payload_format_indicator: self.payload_format_indicator.map(|utf8| {
                if utf8 {
                    PayloadFormatIndicator::Utf8
                } else {
                    PayloadFormatIndicator::Unspecified
                }
            }),
            message_expiry_interval: self.message_expiry_interval,
            content_type: self.content_type,
            response_topic: self
                .response_topic
                .map(|t| topic(&t, "properties.responseTopic"))
                .transpose()?,
            correlation_data: bytes(self.correlation_data),
            user_properties: self.user_properties,
            will_delay_interval: self.will_delay_interval,
            ..Properties::default()
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WillOptions {
    topic: String,
    payload: Bin,
    #[serde(default)]
    qos: u8,
    #[serde(default)]
    retain: bool,
    #[serde(default)]
    properties: MessageProperties,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectProperties {
    session_expiry_interval: Option<u32>,
    receive_maximum: Option<u16>,
    maximum_packet_size: Option<u32>,
    topic_alias_maximum: Option<u16>,
    request_response_information: Option<bool>,
    request_problem_information: Option<bool>,
    #[serde(default)]
    user_properties: Vec<(String, String)>,
    authentication_method: Option<String>,
    authentication_data: Option<Bin>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReconnectOptions {
    initial_delay: Option<u64>,
    max_delay: Option<u64>,
    max_attempts: Option<u32>,
    reset_after: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Reconnect {
    Enabled(bool),
    Policy(ReconnectOptions),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QueueOptions {
    limit: Option<usize>,
    qos0: Option<bool>,
}

/// The options of `connect(url, options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ConnectOptions {
    client_id: Option<String>,
    username: Option<String>,
    password: Option<Bin>,
    keepalive: Option<u16>,
    clean: Option<bool>,
    connect_timeout: Option<u64>,
    ping_timeout: Option<u64>,
    protocol_version: Option<u8>,
    will: Option<WillOptions>,
    #[serde(default)]
    properties: ConnectProperties,
    reconnect: Option<Reconnect>,
    resubscribe: Option<bool>,
    requeue_unacked: Option<bool>,
    #[serde(default)]
    queue: QueueOptions,
    auto_topic_alias: Option<bool>,
    /// Set by the wrapper from `crypto.getRandomValues`.
    random_seed: Option<f64>,
}

impl ConnectOptions {
    pub(crate) fn into_options(self) -> Result<Options, Error> {
        let d = Options::default();
        let protocol_version = match self.protocol_version {
            None | Some(5) => ProtocolVersion::V5,
            Some(4) => ProtocolVersion::V311,
            Some(_) => return Err(Error::options("protocolVersion", "must be 4 or 5")),
        };
        let will = match self.will {
            None => None,
            Some(w) => Some(Will {
                topic: topic(&w.topic, "will.topic")?,
                payload: Bytes::from(w.payload.into_vec()),
                qos: qos(w.qos).map_err(|_| Error::options("will.qos", "must be 0, 1 or 2"))?,
                retain: w.retain,
                properties: w.properties.into_properties()?,
            }),
        };
        let p = self.properties;
        let reconnect = match self.reconnect {
            None | Some(Reconnect::Enabled(true)) => d.reconnect,
            Some(Reconnect::Enabled(false)) => None,
            Some(Reconnect::Policy(r)) => {
                let b = Backoff::default();
                Some(Backoff {
                    initial_delay: r.initial_delay.unwrap_or(b.initial_delay),
                    max_delay: r.max_delay.unwrap_or(b.max_delay),
                    max_attempts: r.max_attempts,
                    reset_after: r.reset_after.unwrap_or(b.reset_after),
                })
            }
        };
        Ok(Options {
            protocol_version,
            client_id: self.client_id.unwrap_or_default(),
            username: self.username,
            password: bytes(self.password),
            keep_alive: self.keepalive.unwrap_or(d.keep_alive),
            clean_start: self.clean.unwrap_or(d.clean_start),
            properties: Properties {
                session_expiry_interval: p.session_expiry_interval,
                receive_maximum: p.receive_maximum,
                maximum_packet_size: p.maximum_packet_size,
                topic_alias_maximum: p.topic_alias_maximum,
                request_response_information: p.request_response_information,
                request_problem_information: p.request_problem_information,
                user_properties: p.user_properties,
                authentication_method: p.authentication_method,
                authentication_data: bytes(p.authentication_data),
                ..Properties::default()
            },
            will,
            connect_timeout: self.connect_timeout.unwrap_or(d.connect_timeout),
            ping_timeout: self.ping_timeout,
            reconnect,
            resubscribe: self.resubscribe.unwrap_or(d.resubscribe),
            requeue_unacked: self.requeue_unacked.unwrap_or(d.requeue_unacked),
            queue_limit: self.queue.limit.unwrap_or(d.queue_limit),
            queue_qos0: self.queue.qos0.unwrap_or(d.queue_qos0),
            auto_topic_alias: self.auto_topic_alias.unwrap_or(d.auto_topic_alias),
            // Seeds only spread reconnect jitter; the fraction bits are enough.
            random_seed: self
                .random_seed
                .map_or(d.random_seed, |s| (s * 9_007_199_254_740_991.0) as u64),
        })
    }
}

/// Options of `publish(topic, payload, options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PublishOptions {
    #[serde(default)]
    pub(crate) qos: u8,
    #[serde(default)]
    pub(crate) retain: bool,
    #[serde(default)]
    pub(crate) properties: MessageProperties,
    /// Only for `request`.
    pub(crate) timeout: Option<u64>,
}

impl PublishOptions {
    pub(crate) fn qos(&self) -> Result<QoS, Error> {
        qos(self.qos)
    }
}

/// Options of `subscribe(filter, options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SubscribeOptions {
    #[serde(default)]
    qos: u8,
    #[serde(default)]
    nl: bool,
    #[serde(default)]
    rap: bool,
    #[serde(default)]
    rh: u8,
    subscription_identifier: Option<u32>,
    #[serde(default)]
    user_properties: Vec<(String, String)>,
}

impl SubscribeOptions {
    pub(crate) fn split(self) -> Result<(SubscriptionOptions, Properties), Error> {
        let retain_handling = match self.rh {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(Error::options("rh", "must be 0, 1 or 2")),
        };
        let options = SubscriptionOptions {
            qos: qos(self.qos)?,
            no_local: self.nl,
            retain_as_published: self.rap,
            retain_handling,
        };
        let properties = Properties {
            subscription_identifiers: self.subscription_identifier.into_iter().collect(),
            user_properties: self.user_properties,
            ..Properties::default()
        };
        Ok((options, properties))
    }
}

/// Options of `end(options)`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EndOptions {
    pub(crate) reason_code: Option<u8>,
    pub(crate) session_expiry_interval: Option<u32>,
    #[serde(default)]
    pub(crate) user_properties: Vec<(String, String)>,
    pub(crate) reason_string: Option<String>,
}
