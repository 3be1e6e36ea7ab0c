//! Options as `js/options.js` hands them over: checked, named errors
//! already raised there, connect options as an array in a fixed order and
//! MQTT 5.0 properties in their wire form. Reading them is only
//! conversion; what stays here is what needs the codec (topics, a CONNECT
//! the codec would refuse). Nothing here panics on unexpected values.

use alloc::vec::Vec;
use bytes::Bytes;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasmqtt_codec::{
    PacketType, Properties, ProtocolVersion, QoS, RetainHandling, SubscriptionOptions, TopicName,
    Will,
};
use wasmqtt_session::{Backoff, Options};

use crate::error::{Error, Failure};

/// Properties in their wire form (Property Length first), as allowed in
/// `packet` (`None`: Will Properties).
pub(crate) fn properties(bytes: Vec<u8>, packet: Option<PacketType>) -> Result<Properties, Error> {
    Properties::decode_list(bytes.into(), packet)
        .map_err(|_| Error::new(Failure::InvalidProperties))
}

fn num(a: &Array, i: u32) -> Option<f64> {
    a.get(i).as_f64()
}

fn flag(a: &Array, i: u32) -> Option<bool> {
    a.get(i).as_bool()
}

fn bin(a: &Array, i: u32) -> Option<Bytes> {
    a.get(i)
        .dyn_into::<Uint8Array>()
        .ok()
        .map(|b| b.to_vec().into())
}

pub(crate) fn qos(n: u8) -> QoS {
    QoS::from_u8(n).unwrap_or(QoS::AtMostOnce)
}

/// The slots of `connectArgs`' array, named as `CONNECT_SLOTS` in
/// `js/options.js` names them (`boundary.rs` checks both agree).
mod slot {
    pub(super) const CLIENT_ID: u32 = 0;
    pub(super) const USERNAME: u32 = 1;
    pub(super) const PASSWORD: u32 = 2;
    pub(super) const KEEPALIVE: u32 = 3;
    pub(super) const CLEAN: u32 = 4;
    pub(super) const CONNECT_TIMEOUT: u32 = 5;
    pub(super) const PING_TIMEOUT: u32 = 6;
    pub(super) const PROTOCOL_VERSION: u32 = 7;
    pub(super) const WILL: u32 = 8;
    pub(super) const PROPERTIES: u32 = 9;
    pub(super) const RECONNECT: u32 = 10;
    pub(super) const RESUBSCRIBE: u32 = 11;
    pub(super) const REQUEUE_UNACKED: u32 = 12;
    pub(super) const QUEUE_LIMIT: u32 = 13;
    pub(super) const QUEUE_QOS0: u32 = 14;
    pub(super) const AUTO_TOPIC_ALIAS: u32 = 15;
    pub(super) const RANDOM_SEED: u32 = 16;
}

/// The slots of the will's array (`WILL_SLOTS` in `js/options.js`).
mod will_slot {
    pub(super) const TOPIC: u32 = 0;
    pub(super) const PAYLOAD: u32 = 1;
    pub(super) const QOS: u32 = 2;
    pub(super) const RETAIN: u32 = 3;
    pub(super) const PROPERTIES: u32 = 4;
}

/// The slots of the reconnect policy's array (`RECONNECT_SLOTS` in `js/options.js`).
mod reconnect_slot {
    pub(super) const INITIAL_DELAY: u32 = 0;
    pub(super) const MAX_DELAY: u32 = 1;
    pub(super) const MAX_ATTEMPTS: u32 = 2;
    pub(super) const RESET_AFTER: u32 = 3;
}

/// The session options from `connectArgs`' array.
pub(crate) fn connect(a: &Array) -> Result<Options, Error> {
    use will_slot as w;
    let d = Options::default();
    let will = match a.get(slot::WILL).dyn_into::<Array>() {
        Err(_) => None,
        Ok(will) => Some(Will {
            topic: TopicName::new(will.get(w::TOPIC).as_string().unwrap_or_default())
                .map_err(|e| Error::topic(Failure::WillTopic, e))?,
            payload: bin(&will, w::PAYLOAD).unwrap_or_default(),
            qos: qos(num(&will, w::QOS).unwrap_or(0.0) as u8),
            retain: flag(&will, w::RETAIN).unwrap_or(false),
            properties: properties(bin(&will, w::PROPERTIES).unwrap_or_default().into(), None)?,
        }),
    };
    let reconnect = match a.get(slot::RECONNECT) {
        v if v.as_bool() == Some(false) => None,
        v => match v.dyn_into::<Array>() {
            Err(_) => d.reconnect,
            Ok(r) => {
                let b = Backoff::default();
                let ms = |i, default| num(&r, i).map_or(default, |n| n as u64);
                use reconnect_slot as s;
                Some(Backoff {
                    initial_delay: ms(s::INITIAL_DELAY, b.initial_delay),
                    max_delay: ms(s::MAX_DELAY, b.max_delay),
                    max_attempts: num(&r, s::MAX_ATTEMPTS).map(|n| n as u32),
                    reset_after: ms(s::RESET_AFTER, b.reset_after),
                })
            }
        },
    };
    let options = Options {
        protocol_version: if num(a, slot::PROTOCOL_VERSION) == Some(4.0) {
            ProtocolVersion::V311
        } else {
            ProtocolVersion::V5
        },
        client_id: a.get(slot::CLIENT_ID).as_string().unwrap_or_default(),
        username: a.get(slot::USERNAME).as_string(),
        password: bin(a, slot::PASSWORD),
        keep_alive: num(a, slot::KEEPALIVE).map_or(d.keep_alive, |n| n as u16),
        clean_start: flag(a, slot::CLEAN).unwrap_or(d.clean_start),
        properties: properties(
            bin(a, slot::PROPERTIES).unwrap_or_default().into(),
            Some(PacketType::Connect),
        )?,
        will,
        connect_timeout: num(a, slot::CONNECT_TIMEOUT).map_or(d.connect_timeout, |n| n as u64),
        ping_timeout: num(a, slot::PING_TIMEOUT).map(|n| n as u64),
        reconnect,
        resubscribe: flag(a, slot::RESUBSCRIBE).unwrap_or(d.resubscribe),
        requeue_unacked: flag(a, slot::REQUEUE_UNACKED).unwrap_or(d.requeue_unacked),
        queue_limit: num(a, slot::QUEUE_LIMIT).map_or(d.queue_limit, |n| n as usize),
        queue_qos0: flag(a, slot::QUEUE_QOS0).unwrap_or(d.queue_qos0),
        auto_topic_alias: flag(a, slot::AUTO_TOPIC_ALIAS).unwrap_or(d.auto_topic_alias),
        // Seeds only spread reconnect jitter; the fraction bits are enough.
        random_seed: num(a, slot::RANDOM_SEED)
            .map_or(d.random_seed, |s| (s * 9_007_199_254_740_991.0) as u64),
    };
    // What the codec would refuse at every connect is refused now.
    options
        .check()
        .map_err(|e| Error::encode(Failure::EncodeOptions, &e))?;
    Ok(options)
}

/// Subscription options from their byte in SUBSCRIBE (section 3.8.3.1).
pub(crate) fn subscription(byte: u8) -> SubscriptionOptions {
    SubscriptionOptions {
        qos: qos(byte & 3),
        no_local: byte & 4 != 0,
        retain_as_published: byte & 8 != 0,
        retain_handling: match byte >> 4 {
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => RetainHandling::SendAtSubscribe,
        },
    }
}
