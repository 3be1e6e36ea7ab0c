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

/// The session options from `connectArgs`' array.
pub(crate) fn connect(a: &Array) -> Result<Options, Error> {
    let d = Options::default();
    let will = match a.get(8).dyn_into::<Array>() {
        Err(_) => None,
        Ok(w) => Some(Will {
            topic: TopicName::new(w.get(0).as_string().unwrap_or_default())
                .map_err(|e| Error::topic(Failure::WillTopic, e))?,
            payload: bin(&w, 1).unwrap_or_default(),
            qos: qos(num(&w, 2).unwrap_or(0.0) as u8),
            retain: flag(&w, 3).unwrap_or(false),
            properties: properties(bin(&w, 4).unwrap_or_default().into(), None)?,
        }),
    };
    let reconnect = match a.get(10) {
        v if v.as_bool() == Some(false) => None,
        v => match v.dyn_into::<Array>() {
            Err(_) => d.reconnect,
            Ok(r) => {
                let b = Backoff::default();
                let ms = |i, default| num(&r, i).map_or(default, |n| n as u64);
                Some(Backoff {
                    initial_delay: ms(0, b.initial_delay),
                    max_delay: ms(1, b.max_delay),
                    max_attempts: num(&r, 2).map(|n| n as u32),
                    reset_after: ms(3, b.reset_after),
                })
            }
        },
    };
    let options = Options {
        protocol_version: if num(a, 7) == Some(4.0) {
            ProtocolVersion::V311
        } else {
            ProtocolVersion::V5
        },
        client_id: a.get(0).as_string().unwrap_or_default(),
        username: a.get(1).as_string(),
        password: bin(a, 2),
        keep_alive: num(a, 3).map_or(d.keep_alive, |n| n as u16),
        clean_start: flag(a, 4).unwrap_or(d.clean_start),
        properties: properties(
            bin(a, 9).unwrap_or_default().into(),
            Some(PacketType::Connect),
        )?,
        will,
        connect_timeout: num(a, 5).map_or(d.connect_timeout, |n| n as u64),
        ping_timeout: num(a, 6).map(|n| n as u64),
        reconnect,
        resubscribe: flag(a, 11).unwrap_or(d.resubscribe),
        requeue_unacked: flag(a, 12).unwrap_or(d.requeue_unacked),
        queue_limit: num(a, 13).map_or(d.queue_limit, |n| n as usize),
        queue_qos0: flag(a, 14).unwrap_or(d.queue_qos0),
        auto_topic_alias: flag(a, 15).unwrap_or(d.auto_topic_alias),
        // Seeds only spread reconnect jitter; the fraction bits are enough.
        random_seed: num(a, 16).map_or(d.random_seed, |s| (s * 9_007_199_254_740_991.0) as u64),
    };
    check_connect(&options)?;
    Ok(options)
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
    connect
        .encode(&mut Vec::new())
        .map_err(|e| Error::encode(Failure::EncodeOptions, &e))
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
