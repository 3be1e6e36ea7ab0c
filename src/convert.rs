//! Rust values to plain JS objects: packets, properties, limits, metrics.

use alloc::string::String;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasmqtt_codec::{PayloadFormatIndicator, Properties, Publish, ReasonCode};
use wasmqtt_session::{Metrics, ServerLimits};

/// Builds an object field by field; absent values are left out.
pub(crate) struct Obj(Object);

impl Obj {
    pub(crate) fn new() -> Self {
        Self(Object::new())
    }

    pub(crate) fn set(&self, key: &str, value: impl Into<JsValue>) -> &Self {
        Reflect::set(&self.0, &JsValue::from_str(key), &value.into()).ok();
        self
    }

    pub(crate) fn opt<T: Into<JsValue>>(&self, key: &str, value: Option<T>) -> &Self {
        if let Some(v) = value {
            self.set(key, v);
        }
        self
    }

    pub(crate) fn build(self) -> JsValue {
        self.0.into()
    }
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

fn pairs(list: &[(String, String)]) -> JsValue {
    list.iter()
        .map(|(k, v)| Array::of2(&k.into(), &v.into()))
        .collect::<Array>()
        .into()
}

/// MQTT 5.0 properties with the camelCase names MQTT.js uses.
pub(crate) fn properties(p: &Properties) -> JsValue {
    let o = Obj::new();
    o.opt(
        "payloadFormatIndicator",
        p.payload_format_indicator
            .map(|f| f == PayloadFormatIndicator::Utf8),
    )
    .opt("messageExpiryInterval", p.message_expiry_interval)
    .opt("contentType", p.content_type.as_deref())
    .opt(
        "responseTopic",
        p.response_topic.as_ref().map(|t| t.as_str()),
    )
    .opt("correlationData", p.correlation_data.as_deref().map(bytes))
    .opt("sessionExpiryInterval", p.session_expiry_interval)
    .opt(
        "assignedClientIdentifier",
        p.assigned_client_identifier.as_deref(),
    )
    .opt("serverKeepAlive", p.server_keep_alive)
    .opt("authenticationMethod", p.authentication_method.as_deref())
    .opt(
        "authenticationData",
        p.authentication_data.as_deref().map(bytes),
    )
    .opt("responseInformation", p.response_information.as_deref())
    .opt("serverReference", p.server_reference.as_deref())
    .opt("reasonString", p.reason_string.as_deref())
    .opt("receiveMaximum", p.receive_maximum)
    .opt("topicAliasMaximum", p.topic_alias_maximum)
    .opt("maximumQoS", p.maximum_qos.map(|q| q as u8))
    .opt("retainAvailable", p.retain_available)
    .opt("maximumPacketSize", p.maximum_packet_size)
    .opt(
        "wildcardSubscriptionAvailable",
        p.wildcard_subscription_available,
    )
    .opt(
        "subscriptionIdentifierAvailable",
        p.subscription_identifier_available,
    )
    .opt(
        "sharedSubscriptionAvailable",
        p.shared_subscription_available,
    );
    if !p.subscription_identifiers.is_empty() {
        let ids: Array = p
            .subscription_identifiers
            .iter()
            .map(|&i| JsValue::from(i))
            .collect();
        o.set("subscriptionIdentifiers", ids);
    }
    if !p.user_properties.is_empty() {
        o.set("userProperties", pairs(&p.user_properties));
    }
    o.build()
}

/// A received message's packet (without the payload, passed separately).
pub(crate) fn publish_packet(p: &Publish) -> JsValue {
    let o = Obj::new();
    o.set("topic", p.topic.as_str())
        .set("qos", p.qos as u8)
        .set("retain", p.retain)
        .set("dup", p.dup);
    if !p.properties.is_empty() {
        o.set("properties", properties(&p.properties));
    }
    o.build()
}

/// An acknowledgement-like packet: reason code and properties.
pub(crate) fn reason_packet(code: ReasonCode, p: &Properties) -> JsValue {
    let o = Obj::new();
    o.set("reasonCode", u8::from(code))
        .set("properties", properties(p));
    o.build()
}

pub(crate) fn reason_codes(codes: &[ReasonCode]) -> JsValue {
    codes
        .iter()
        .map(|&c| JsValue::from(u8::from(c)))
        .collect::<Array>()
        .into()
}

pub(crate) fn server(s: &ServerLimits) -> JsValue {
    let o = Obj::new();
    o.set("receiveMaximum", s.receive_maximum)
        .set("maximumQoS", s.maximum_qos as u8)
        .set("retainAvailable", s.retain_available)
        .opt("maximumPacketSize", s.maximum_packet_size)
        .set("topicAliasMaximum", s.topic_alias_maximum)
        .set(
            "wildcardSubscriptionAvailable",
            s.wildcard_subscription_available,
        )
        .set(
            "subscriptionIdentifierAvailable",
            s.subscription_identifier_available,
        )
        .set(
            "sharedSubscriptionAvailable",
            s.shared_subscription_available,
        )
        .opt("serverKeepAlive", s.server_keep_alive)
        .opt("responseInformation", s.response_information.as_deref())
        .opt(
            "assignedClientIdentifier",
            s.assigned_client_identifier.as_deref(),
        )
        .opt("sessionExpiryInterval", s.session_expiry_interval);
    o.build()
}

pub(crate) fn metrics(m: &Metrics) -> JsValue {
    let o = Obj::new();
    // JS numbers hold integers exactly up to 2^53.
    o.set("bytesIn", m.bytes_in as f64)
        .set("bytesOut", m.bytes_out as f64)
        .set("packetsIn", m.packets_in as f64)
        .set("packetsOut", m.packets_out as f64)
        .set("messagesIn", m.messages_in as f64)
        .set("messagesOut", m.messages_out as f64)
        .set("inFlight", m.in_flight as f64)
        .set("queued", m.queued as f64)
        .set("reconnects", m.reconnects as f64)
        .opt("roundTripTime", m.round_trip_time.map(|t| t as f64));
    o.build()
}
