//! Option objects from JS, read field by field with `Reflect`.
//!
//! The JS wrapper has already turned strings into `Uint8Array` where bytes
//! are expected and user properties into `[key, value]` pairs. `null` and
//! `undefined` mean "not set" everywhere; an unknown field is an error, to
//! catch typos. Errors name the field by its path, e.g. `will.qos`.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::cell::Cell;
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasmqtt_codec::{
    PayloadFormatIndicator, Properties, ProtocolVersion, QoS, RetainHandling, SubscriptionOptions,
    TopicName, Will,
};
use wasmqtt_session::{Backoff, Options};

use crate::error::Error;

/// An options object's fields, by position in its list of known names.
pub(crate) struct Fields {
    /// Where the object sits, e.g. `will.properties`; empty at the top.
    path: String,
    names: &'static [&'static str],
    /// One per name: `undefined` where absent.
    values: Vec<JsValue>,
    /// The first problem found. Readers note it and go on with a default
    /// value: building an options struct then needs no early returns, and
    /// so no code to drop the fields read before one.
    error: Cell<Option<Error>>,
}

/// An options object read from its fields.
pub(crate) trait Parse: Default {
    /// The field names, in the order [`Parse::from_fields`] reads them.
    const NAMES: &'static [&'static str];
    /// Reads the fields, noting problems in `f`.
    fn from_fields(f: &Fields) -> Self;
}

/// Reads an options object, naming the offending field on error.
pub(crate) fn parse<T: Parse>(value: JsValue) -> Result<T, Error> {
    let fields = Fields::read(&value, String::new(), T::NAMES)?;
    let parsed = T::from_fields(&fields);
    match fields.error.take() {
        Some(e) => Err(e),
        None => Ok(parsed),
    }
}

impl Fields {
    /// Reads the own enumerable fields of `value` (none if it is null or
    /// undefined); a name not in `names` is an error.
    fn read(value: &JsValue, path: String, names: &'static [&'static str]) -> Result<Self, Error> {
        let mut values = Vec::new();
        values.resize(names.len(), JsValue::UNDEFINED);
        if absent(value) {
            return Ok(Self::new(path, names, values));
        }
        if !value.is_object() {
            let path = if path.is_empty() { "options" } else { &path };
            return Err(Error::options(path, "must be an object"));
        }
        let object: &Object = value.unchecked_ref();
        for key in Object::keys(object).iter() {
            let name = key.as_string().unwrap_or_default();
            let Some(slot) = names
                .iter()
                .position(|n| *n == name)
                .and_then(|i| values.get_mut(i))
            else {
                return Err(Error::options(&join(&path, &name), "is not a known option"));
            };
            *slot = Reflect::get(object, &key).unwrap_or(JsValue::UNDEFINED);
        }
        Ok(Self::new(path, names, values))
    }

    fn new(path: String, names: &'static [&'static str], values: Vec<JsValue>) -> Self {
        Self {
            path,
            names,
            values,
            error: Cell::new(None),
        }
    }

    /// Field `i`, unless absent, null or undefined.
    fn get(&self, i: usize) -> Option<&JsValue> {
        self.values.get(i).filter(|v| !absent(v))
    }

    fn path_of(&self, i: usize) -> String {
        join(&self.path, self.names.get(i).copied().unwrap_or_default())
    }

    /// Notes `e` unless a problem was found before.
    fn note(&self, e: Error) {
        let first = self.error.take().unwrap_or(e);
        self.error.set(Some(first));
    }

    /// Notes a problem with field `i`; `None` to go on with.
    fn fail<T>(&self, i: usize, problem: &str) -> Option<T> {
        self.note(Error::options(&self.path_of(i), problem));
        None
    }

    /// The object in field `i`; an absent one has no fields.
    fn nested<T: Parse>(&self, i: usize) -> T {
        let Some(fields) = self.sub(i, T::NAMES) else {
            return T::default();
        };
        let parsed = T::from_fields(&fields);
        self.absorb(fields);
        parsed
    }

    /// The fields of the object in field `i`; `None`, with the problem
    /// noted, if it is not an object or has unknown fields. (The part of
    /// `nested` that does not depend on the type read.)
    fn sub(&self, i: usize, names: &'static [&'static str]) -> Option<Fields> {
        let value = self.values.get(i).cloned().unwrap_or(JsValue::UNDEFINED);
        Fields::read(&value, self.path_of(i), names)
            .map_err(|e| self.note(e))
            .ok()
    }

    /// Notes the first problem found in `fields`, read by `sub`.
    fn absorb(&self, fields: Fields) {
        if let Some(e) = fields.error.take() {
            self.note(e);
        }
    }

    /// A non-negative integer up to `max`.
    fn uint(&self, i: usize, max: u64, problem: &str) -> Option<u64> {
        let n = self.get(i)?.as_f64();
        match n {
            #[allow(clippy::cast_precision_loss)]
            Some(n) if n >= 0.0 && n <= max as f64 && (n as u64) as f64 == n => Some(n as u64),
            _ => self.fail(i, problem),
        }
    }

    fn uint8(&self, i: usize) -> Option<u8> {
        let n = self.uint(i, 0xFF, "must be an integer from 0 to 255");
        n.map(|n| n as u8)
    }

    fn uint16(&self, i: usize) -> Option<u16> {
        let n = self.uint(i, 0xFFFF, "must be an integer from 0 to 65535");
        n.map(|n| n as u16)
    }

    fn uint32(&self, i: usize) -> Option<u32> {
        let n = self.uint(i, 0xFFFF_FFFF, "must be an integer from 0 to 4294967295");
        n.map(|n| n as u32)
    }

    /// An integer from 1 to `max`: Two or Four Byte Integer properties
    /// where 0 is a Protocol Error (Receive Maximum, Maximum Packet Size)
    /// and Subscription Identifiers.
    fn positive(&self, i: usize, max: u64, problem: &str) -> Option<u64> {
        match self.uint(i, max, problem) {
            Some(0) => self.fail(i, problem),
            n => n,
        }
    }

    /// Milliseconds: any safe integer.
    fn millis(&self, i: usize) -> Option<u64> {
        self.uint(i, (1 << 53) - 1, "must be a non-negative integer")
    }

    /// 0, 1 or 2 (QoS, Retain Handling); absent is 0.
    fn zero_to_two(&self, i: usize) -> u8 {
        self.uint(i, 2, "must be 0, 1 or 2").unwrap_or(0) as u8
    }

    fn boolean(&self, i: usize) -> Option<bool> {
        let v = self.get(i)?;
        v.as_bool()
            .or_else(|| self.fail(i, "must be true or false"))
    }

    fn string(&self, i: usize) -> Option<String> {
        let v = self.get(i)?;
        v.as_string().or_else(|| self.fail(i, "must be a string"))
    }

    fn bin(&self, i: usize) -> Option<Bytes> {
        let v = self.get(i)?;
        let bytes = if let Some(a) = v.dyn_ref::<Uint8Array>() {
            a.to_vec()
        } else if let Some(b) = v.dyn_ref::<ArrayBuffer>() {
            Uint8Array::new(b).to_vec()
        } else {
            return self.fail(i, "must be a Uint8Array");
        };
        Some(Bytes::from(bytes))
    }

    /// User properties as `[key, value]` pairs.
    fn pairs(&self, i: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(list) = self.get(i) else {
            return out;
        };
        let pairs = list.dyn_ref::<Array>().map(Array::iter);
        for pair in pairs.into_iter().flatten() {
            let pair = pair.dyn_ref::<Array>();
            match pair.map(|p| (p.get(0).as_string(), p.get(1).as_string())) {
                Some((Some(k), Some(v))) => out.push((k, v)),
                _ => {
                    self.fail::<()>(i, PAIRS);
                    return Vec::new();
                }
            }
        }
        if !Array::is_array(list) {
            self.fail::<()>(i, PAIRS);
        }
        out
    }
}

const PAIRS: &str = "must be an array of [string, string] pairs";

/// `parent.key`, or `key` at the top.
fn join(parent: &str, key: &str) -> String {
    let mut path = String::from(parent);
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    path
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

fn qos(q: u8) -> Result<QoS, Error> {
    QoS::from_u8(q).ok_or_else(|| Error::options("qos", "must be 0, 1 or 2"))
}

fn topic(name: String, field: &str) -> Result<TopicName, Error> {
    TopicName::new(name).map_err(|e| Error::options(field, crate::error::topic_problem(e)))
}

/// MQTT 5.0 properties a message can carry (`PublishProperties` in TS).
#[derive(Debug, Default)]
pub(crate) struct MessageProperties {
    payload_format_indicator: Option<bool>,
    message_expiry_interval: Option<u32>,
    content_type: Option<String>,
    response_topic: Option<String>,
    correlation_data: Option<Bytes>,
    user_properties: Vec<(String, String)>,
    will_delay_interval: Option<u32>,
}

impl Parse for MessageProperties {
    const NAMES: &'static [&'static str] = &[
        "payloadFormatIndicator",
        "messageExpiryInterval",
        "contentType",
        "responseTopic",
        "correlationData",
        "userProperties",
        "willDelayInterval",
    ];
    fn from_fields(f: &Fields) -> Self {
        Self {
            payload_format_indicator: f.boolean(0),
            message_expiry_interval: f.uint32(1),
            content_type: f.string(2),
            response_topic: f.string(3),
            correlation_data: f.bin(4),
            user_properties: f.pairs(5),
            will_delay_interval: f.uint32(6),
        }
    }
}

impl MessageProperties {
    /// The properties of a PUBLISH (not a will).
    pub(crate) fn into_properties(self) -> Result<Properties, Error> {
        if self.will_delay_interval.is_some() {
            return Err(Error::options(
                "properties.willDelayInterval",
                "is only for the will",
            ));
        }
        self.into_properties_at("properties.responseTopic")
    }

    fn into_properties_at(self, response_topic_field: &str) -> Result<Properties, Error> {
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
                .map(|t| topic(t, response_topic_field))
                .transpose()?,
            correlation_data: self.correlation_data,
            user_properties: self.user_properties,
            will_delay_interval: self.will_delay_interval,
            ..Properties::default()
        })
    }
}

#[derive(Debug, Default)]
struct WillOptions {
    topic: Option<String>,
    payload: Option<Bytes>,
    qos: u8,
    retain: bool,
    properties: MessageProperties,
}

impl Parse for WillOptions {
    const NAMES: &'static [&'static str] = &["topic", "payload", "qos", "retain", "properties"];
    fn from_fields(f: &Fields) -> Self {
        Self {
            topic: f.string(0),
            payload: f.bin(1),
            qos: f.zero_to_two(2),
            retain: f.boolean(3).unwrap_or(false),
            properties: f.nested(4),
        }
    }
}

#[derive(Debug, Default)]
struct ConnectProperties {
    session_expiry_interval: Option<u32>,
    receive_maximum: Option<u16>,
    maximum_packet_size: Option<u32>,
    topic_alias_maximum: Option<u16>,
    request_response_information: Option<bool>,
    request_problem_information: Option<bool>,
    user_properties: Vec<(String, String)>,
    authentication_method: Option<String>,
    authentication_data: Option<Bytes>,
}

impl Parse for ConnectProperties {
    const NAMES: &'static [&'static str] = &[
        "sessionExpiryInterval",
        "receiveMaximum",
        "maximumPacketSize",
        "topicAliasMaximum",
        "requestResponseInformation",
        "requestProblemInformation",
        "userProperties",
        "authenticationMethod",
        "authenticationData",
    ];
    fn from_fields(f: &Fields) -> Self {
        let positive = "must be a positive integer";
        Self {
            session_expiry_interval: f.uint32(0),
            receive_maximum: f.positive(1, 0xFFFF, positive).map(|n| n as u16),
            maximum_packet_size: f.positive(2, 0xFFFF_FFFF, positive).map(|n| n as u32),
            topic_alias_maximum: f.uint16(3),
            request_response_information: f.boolean(4),
            request_problem_information: f.boolean(5),
            user_properties: f.pairs(6),
            authentication_method: f.string(7),
            authentication_data: f.bin(8),
        }
    }
}

#[derive(Debug, Default)]
struct ReconnectOptions {
    initial_delay: Option<u64>,
    max_delay: Option<u64>,
    max_attempts: Option<u32>,
    reset_after: Option<u64>,
}

impl Parse for ReconnectOptions {
    const NAMES: &'static [&'static str] =
        &["initialDelay", "maxDelay", "maxAttempts", "resetAfter"];
    fn from_fields(f: &Fields) -> Self {
        Self {
            initial_delay: f.millis(0),
            max_delay: f.millis(1),
            max_attempts: f.uint32(2),
            reset_after: f.millis(3),
        }
    }
}

#[derive(Debug)]
enum Reconnect {
    Enabled(bool),
    Policy(ReconnectOptions),
}

#[derive(Debug, Default)]
struct QueueOptions {
    limit: Option<usize>,
    qos0: Option<bool>,
}

impl Parse for QueueOptions {
    const NAMES: &'static [&'static str] = &["limit", "qos0"];
    fn from_fields(f: &Fields) -> Self {
        Self {
            limit: f.uint32(0).map(|n| n as usize),
            qos0: f.boolean(1),
        }
    }
}

/// The options of `connect(url, options)`.
#[derive(Debug, Default)]
pub(crate) struct ConnectOptions {
    client_id: Option<String>,
    username: Option<String>,
    password: Option<Bytes>,
    keepalive: Option<u16>,
    clean: Option<bool>,
    connect_timeout: Option<u64>,
    ping_timeout: Option<u64>,
    protocol_version: Option<u8>,
    will: Option<WillOptions>,
    properties: ConnectProperties,
    reconnect: Option<Reconnect>,
    resubscribe: Option<bool>,
    requeue_unacked: Option<bool>,
    queue: QueueOptions,
    auto_topic_alias: Option<bool>,
    /// Set by the wrapper from `crypto.getRandomValues`.
    random_seed: Option<f64>,
}

impl Parse for ConnectOptions {
    const NAMES: &'static [&'static str] = &[
        "clientId",
        "username",
        "password",
        "keepalive",
        "clean",
        "connectTimeout",
        "pingTimeout",
        "protocolVersion",
        "will",
        "properties",
        "reconnect",
        "resubscribe",
        "requeueUnacked",
        "queue",
        "autoTopicAlias",
        "randomSeed",
    ];
    fn from_fields(f: &Fields) -> Self {
        Self {
            client_id: f.string(0),
            username: f.string(1),
            password: f.bin(2),
            keepalive: f.uint16(3),
            clean: f.boolean(4),
            connect_timeout: f.millis(5),
            ping_timeout: f.millis(6),
            protocol_version: f.uint8(7),
            will: f.get(8).map(|_| f.nested(8)),
            properties: f.nested(9),
            reconnect: f.get(10).and_then(|v| match v.as_bool() {
                Some(b) => Some(Reconnect::Enabled(b)),
                None if v.is_object() => Some(Reconnect::Policy(f.nested(10))),
                None => f.fail(10, "must be a boolean or an object"),
            }),
            resubscribe: f.boolean(11),
            requeue_unacked: f.boolean(12),
            queue: f.nested(13),
            auto_topic_alias: f.boolean(14),
            random_seed: f
                .get(15)
                .and_then(|v| v.as_f64().or_else(|| f.fail(15, "must be a number"))),
        }
    }
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
                topic: topic(
                    w.topic
                        .ok_or_else(|| Error::options("will.topic", "is required"))?,
                    "will.topic",
                )?,
                payload: w
                    .payload
                    .ok_or_else(|| Error::options("will.payload", "is required"))?,
                qos: qos(w.qos).map_err(|_| Error::options("will.qos", "must be 0, 1 or 2"))?,
                retain: w.retain,
                properties: w
                    .properties
                    .into_properties_at("will.properties.responseTopic")?,
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
        let options = Options {
            protocol_version,
            client_id: self.client_id.unwrap_or_default(),
            username: self.username,
            password: self.password,
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
                authentication_data: p.authentication_data,
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
        };
        check_connect(&options)?;
        Ok(options)
    }
}

/// Refuses now a CONNECT the codec would refuse at every connect (a
/// string with U+0000, a field over 65,535 bytes, a password without a
/// user name in MQTT 3.1.1 …).
fn check_connect(o: &Options) -> Result<(), Error> {
    let connect = wasmqtt_codec::Connect {
        protocol_version: o.protocol_version,
        clean_start: o.clean_start,
        keep_alive: o.keep_alive,
        properties: o.properties.clone(),
        client_id: o.client_id.clone(),
        will: o.will.clone(),
        username: o.username.clone(),
        password: o.password.clone(),
    };
    connect.encode(&mut Vec::new()).map_err(|e| {
        let mut error = Error::from(wasmqtt_session::UsageError::Encode(e));
        error.code = "INVALID_OPTIONS";
        error
    })
}

/// Options of `publish(topic, payload, options)`.
#[derive(Debug, Default)]
pub(crate) struct PublishOptions {
    pub(crate) qos: u8,
    pub(crate) retain: bool,
    pub(crate) properties: MessageProperties,
    /// Only for `request`.
    pub(crate) timeout: Option<u64>,
}

impl Parse for PublishOptions {
    const NAMES: &'static [&'static str] = &["qos", "retain", "properties", "timeout"];
    fn from_fields(f: &Fields) -> Self {
        Self {
            qos: f.zero_to_two(0),
            retain: f.boolean(1).unwrap_or(false),
            properties: f.nested(2),
            timeout: f.millis(3),
        }
    }
}

impl PublishOptions {
    pub(crate) fn qos(&self) -> Result<QoS, Error> {
        qos(self.qos)
    }
}

/// Options of `subscribe(filter, options)`.
#[derive(Debug, Default)]
pub(crate) struct SubscribeOptions {
    qos: u8,
    nl: bool,
    rap: bool,
    rh: u8,
    subscription_identifier: Option<u32>,
    user_properties: Vec<(String, String)>,
}

impl Parse for SubscribeOptions {
    const NAMES: &'static [&'static str] = &[
        "qos",
        "nl",
        "rap",
        "rh",
        "subscriptionIdentifier",
        "userProperties",
    ];
    fn from_fields(f: &Fields) -> Self {
        Self {
            qos: f.zero_to_two(0),
            nl: f.boolean(1).unwrap_or(false),
            rap: f.boolean(2).unwrap_or(false),
            rh: f.zero_to_two(3),
            // A Variable Byte Integer, 0 excluded.
            subscription_identifier: f
                .positive(4, 268_435_455, "must be an integer from 1 to 268435455")
                .map(|n| n as u32),
            user_properties: f.pairs(5),
        }
    }
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
#[derive(Debug, Default)]
pub(crate) struct EndOptions {
    pub(crate) reason_code: Option<u8>,
    pub(crate) session_expiry_interval: Option<u32>,
    pub(crate) user_properties: Vec<(String, String)>,
    pub(crate) reason_string: Option<String>,
}

impl Parse for EndOptions {
    const NAMES: &'static [&'static str] = &[
        "reasonCode",
        "sessionExpiryInterval",
        "userProperties",
        "reasonString",
    ];
    fn from_fields(f: &Fields) -> Self {
        Self {
            reason_code: f.uint8(0),
            session_expiry_interval: f.uint32(1),
            user_properties: f.pairs(2),
            reason_string: f.string(3),
        }
    }
}
