//! Options as `js/options.js` hands them over: checked, named errors
//! already raised there, connect options as a record of tagged fields and
//! MQTT 5.0 properties in their wire form. Reading them is only
//! conversion; what stays here is what needs the codec (topics, a CONNECT
//! the codec would refuse). Nothing here panics on unexpected values.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use wasmqtt_codec::{
    decode_string, PacketType, Properties, ProtocolVersion, QoS, RetainHandling,
    SubscriptionOptions, TopicName, Will,
};
use wasmqtt_session::{Backoff, Options};

use crate::error::{Error, Failure};

/// Properties in their wire form (Property Length first), as allowed in
/// `packet` (`None`: Will Properties).
pub(crate) fn properties(bytes: Vec<u8>, packet: Option<PacketType>) -> Result<Properties, Error> {
    Properties::decode_list(bytes.into(), packet)
        .map_err(|_| Error::new(Failure::InvalidProperties))
}

pub(crate) fn qos(n: u8) -> QoS {
    QoS::from_u8(n).unwrap_or(QoS::AtMostOnce)
}

/// The tags of the connect options record, each field as `js/options.js`
/// names it `O_...` (`boundary.rs` checks both agree). The value's form
/// follows from the field: a flag, a number or bytes.
mod field {
    pub(super) const CLIENT_ID: u8 = 1;
    pub(super) const USERNAME: u8 = 2;
    pub(super) const PASSWORD: u8 = 3;
    pub(super) const KEEPALIVE: u8 = 4;
    pub(super) const CLEAN: u8 = 5;
    pub(super) const CONNECT_TIMEOUT: u8 = 6;
    pub(super) const PING_TIMEOUT: u8 = 7;
    pub(super) const PROTOCOL_VERSION: u8 = 8;
    pub(super) const PROPERTIES: u8 = 9;
    pub(super) const WILL_TOPIC: u8 = 10;
    pub(super) const WILL_PAYLOAD: u8 = 11;
    pub(super) const WILL_QOS: u8 = 12;
    pub(super) const WILL_RETAIN: u8 = 13;
    pub(super) const WILL_PROPERTIES: u8 = 14;
    pub(super) const RECONNECT: u8 = 15;
    pub(super) const RECONNECT_INITIAL_DELAY: u8 = 16;
    pub(super) const RECONNECT_MAX_DELAY: u8 = 17;
    pub(super) const RECONNECT_MAX_ATTEMPTS: u8 = 18;
    pub(super) const RECONNECT_RESET_AFTER: u8 = 19;
    pub(super) const RESUBSCRIBE: u8 = 20;
    pub(super) const REQUEUE_UNACKED: u8 = 21;
    pub(super) const QUEUE_LIMIT: u8 = 22;
    pub(super) const QUEUE_QOS0: u8 = 23;
    pub(super) const AUTO_TOPIC_ALIAS: u8 = 24;
    pub(super) const RANDOM_SEED: u8 = 25;
}

/// Reads the record: a flag is a byte, a number base 128 low digits first
/// (as far as 2^53), bytes their length so and then them. JS wrote it, so
/// anything amiss (`None`) is a mismatch, refused as an invalid argument.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn flag(&mut self) -> Option<bool> {
        Some(self.u8()? != 0)
    }

    fn number(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..63).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.number()?).ok()?;
        let (b, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(b)
    }

    /// JS refused U+0000 in the strings it wrote.
    fn string(&mut self) -> Option<String> {
        decode_string(self.bytes()?).ok()
    }
}

/// What the record sets that is checked after reading it: properties, the will.
#[derive(Default)]
struct Later<'a> {
    properties: Option<&'a [u8]>,
    will_topic: Option<String>,
    will_properties: Option<&'a [u8]>,
}

/// The session options from the record `connectArgs` in `js/options.js`
/// writes: each set field, by tag. Unset fields keep their defaults.
pub(crate) fn connect(record: &[u8]) -> Result<Options, Error> {
    let mut o = Options::default();
    let mut will = Will {
        topic: TopicName::default(),
        payload: Bytes::new(),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Properties::default(),
    };
    let mut later = Later::default();
    read(&mut Fields(record), &mut o, &mut will, &mut later)
        .ok_or_else(|| Error::new(Failure::InvalidArgument))?;
    if let Some(p) = later.properties {
        o.properties = properties(p.to_vec(), Some(PacketType::Connect))?;
    }
    if let Some(topic) = later.will_topic {
        will.topic = TopicName::new(topic).map_err(|e| Error::topic(Failure::WillTopic, e))?;
        if let Some(p) = later.will_properties {
            will.properties = properties(p.to_vec(), None)?;
        }
        o.will = Some(will);
    }
    // What the codec would refuse at every connect is refused now.
    o.check()
        .map_err(|e| Error::encode(Failure::EncodeOptions, &e))?;
    Ok(o)
}

/// Reads each field of the record into `o`, `will` and `later`: `None`
/// if the record is malformed.
fn read<'a>(
    r: &mut Fields<'a>,
    o: &mut Options,
    will: &mut Will,
    later: &mut Later<'a>,
) -> Option<()> {
    use field as f;
    let mut reconnect = true;
    let mut backoff = Backoff::default();
    while !r.0.is_empty() {
        match r.u8()? {
            f::CLIENT_ID => o.client_id = r.string()?,
            f::USERNAME => o.username = Some(r.string()?),
            f::PASSWORD => o.password = Some(Bytes::copy_from_slice(r.bytes()?)),
            f::KEEPALIVE => o.keep_alive = r.number()? as u16,
            f::CLEAN => o.clean_start = r.flag()?,
            f::CONNECT_TIMEOUT => o.connect_timeout = r.number()?,
            f::PING_TIMEOUT => o.ping_timeout = Some(r.number()?),
            f::PROTOCOL_VERSION => {
                if r.number()? == 4 {
                    o.protocol_version = ProtocolVersion::V311;
                }
            }
            f::PROPERTIES => later.properties = Some(r.bytes()?),
            f::WILL_TOPIC => later.will_topic = Some(r.string()?),
            f::WILL_PAYLOAD => will.payload = Bytes::copy_from_slice(r.bytes()?),
            f::WILL_QOS => will.qos = qos(r.number()? as u8),
            f::WILL_RETAIN => will.retain = r.flag()?,
            f::WILL_PROPERTIES => later.will_properties = Some(r.bytes()?),
            f::RECONNECT => reconnect = r.flag()?,
            f::RECONNECT_INITIAL_DELAY => backoff.initial_delay = r.number()?,
            f::RECONNECT_MAX_DELAY => backoff.max_delay = r.number()?,
            f::RECONNECT_MAX_ATTEMPTS => backoff.max_attempts = Some(r.number()? as u32),
            f::RECONNECT_RESET_AFTER => backoff.reset_after = r.number()?,
            f::RESUBSCRIBE => o.resubscribe = r.flag()?,
            f::REQUEUE_UNACKED => o.requeue_unacked = r.flag()?,
            f::QUEUE_LIMIT => o.queue_limit = r.number()? as usize,
            f::QUEUE_QOS0 => o.queue_qos0 = r.flag()?,
            f::AUTO_TOPIC_ALIAS => o.auto_topic_alias = r.flag()?,
            // Seeds only spread reconnect jitter.
            f::RANDOM_SEED => o.random_seed = r.number()?,
            _ => return None,
        }
    }
    o.reconnect = reconnect.then_some(backoff);
    Some(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A record as `connectArgs` writes it: tag, then a flag, a number or bytes.
    enum V<'a> {
        Flag(bool),
        Num(u64),
        Bytes(&'a [u8]),
    }

    fn record(fields: &[(u8, V)]) -> Vec<u8> {
        let mut out = Vec::new();
        let number = |out: &mut Vec<u8>, mut n: u64| loop {
            let low = (n % 128) as u8;
            n /= 128;
            out.push(if n > 0 { low | 128 } else { low });
            if n == 0 {
                break;
            }
        };
        for (tag, v) in fields {
            out.push(*tag);
            match v {
                V::Flag(b) => out.push(u8::from(*b)),
                V::Num(n) => number(&mut out, *n),
                V::Bytes(b) => {
                    number(&mut out, b.len() as u64);
                    out.extend_from_slice(b);
                }
            }
        }
        out
    }

    fn every_field() -> Vec<(u8, V<'static>)> {
        use field as f;
        vec![
            (f::CLIENT_ID, V::Bytes("dashboard-ü".as_bytes())),
            (f::USERNAME, V::Bytes(b"ops")),
            (f::PASSWORD, V::Bytes(&[0, 255, 1])),
            (f::KEEPALIVE, V::Num(30)),
            (f::CLEAN, V::Flag(false)),
            (f::CONNECT_TIMEOUT, V::Num((1 << 53) - 1)),
            (f::PING_TIMEOUT, V::Num(1500)),
            (f::PROTOCOL_VERSION, V::Num(5)),
            // Session Expiry Interval 300.
            (f::PROPERTIES, V::Bytes(&[5, 0x11, 0, 0, 1, 44])),
            (f::WILL_TOPIC, V::Bytes(b"fleet/gone")),
            (f::WILL_PAYLOAD, V::Bytes(b"bye")),
            (f::WILL_QOS, V::Num(1)),
            (f::WILL_RETAIN, V::Flag(true)),
            // Will Delay Interval 10.
            (f::WILL_PROPERTIES, V::Bytes(&[5, 0x18, 0, 0, 0, 10])),
            (f::RECONNECT, V::Flag(true)),
            (f::RECONNECT_INITIAL_DELAY, V::Num(250)),
            (f::RECONNECT_MAX_DELAY, V::Num(60_000)),
            (f::RECONNECT_MAX_ATTEMPTS, V::Num(7)),
            (f::RECONNECT_RESET_AFTER, V::Num(5_000)),
            (f::RESUBSCRIBE, V::Flag(false)),
            (f::REQUEUE_UNACKED, V::Flag(false)),
            (f::QUEUE_LIMIT, V::Num(42)),
            (f::QUEUE_QOS0, V::Flag(false)),
            (f::AUTO_TOPIC_ALIAS, V::Flag(true)),
            (f::RANDOM_SEED, V::Num(123_456_789)),
        ]
    }

    #[test]
    fn every_field_reaches_the_options() {
        let o = connect(&record(&every_field())).unwrap();
        assert_eq!(o.client_id, "dashboard-ü");
        assert_eq!(o.username.as_deref(), Some("ops"));
        assert_eq!(o.password.as_deref(), Some(&[0, 255, 1][..]));
        assert_eq!((o.keep_alive, o.clean_start), (30, false));
        assert_eq!(o.connect_timeout, (1 << 53) - 1);
        assert_eq!(o.ping_timeout, Some(1500));
        assert_eq!(o.protocol_version, ProtocolVersion::V5);
        assert_eq!(o.properties.session_expiry_interval, Some(300));
        let will = o.will.unwrap();
        assert_eq!(will.topic.as_str(), "fleet/gone");
        assert_eq!(
            (&will.payload[..], will.qos, will.retain),
            (&b"bye"[..], QoS::AtLeastOnce, true)
        );
        assert_eq!(will.properties.will_delay_interval, Some(10));
        assert_eq!(
            o.reconnect,
            Some(Backoff {
                initial_delay: 250,
                max_delay: 60_000,
                max_attempts: Some(7),
                reset_after: 5_000,
            })
        );
        assert!(!o.resubscribe && !o.requeue_unacked && !o.queue_qos0 && o.auto_topic_alias);
        assert_eq!((o.queue_limit, o.random_seed), (42, 123_456_789));
    }

    #[test]
    fn unset_fields_keep_their_defaults() {
        let o = connect(&record(&[(field::PROTOCOL_VERSION, V::Num(4))])).unwrap();
        let d = Options::default();
        assert_eq!(o.protocol_version, ProtocolVersion::V311);
        assert_eq!(
            (o.keep_alive, o.clean_start, o.will),
            (d.keep_alive, d.clean_start, None)
        );
        assert_eq!(o.reconnect, d.reconnect);
        let off = connect(&record(&[(field::RECONNECT, V::Flag(false))])).unwrap();
        assert_eq!(off.reconnect, None);
    }

    /// Every cut of a record either ends between fields (and reads) or
    /// inside one (and is refused): never a panic.
    #[test]
    fn a_cut_record_is_refused_not_read() {
        let fields = every_field();
        let full = record(&fields);
        let mut boundaries = vec![0];
        for i in 1..=fields.len() {
            boundaries.push(record(&fields[..i]).len());
        }
        for cut in 0..full.len() {
            let result = connect(&full[..cut]);
            // A cut between fields is a shorter record: fine unless it
            // separates nothing the codec needs.
            if !boundaries.contains(&cut) {
                let e = result
                    .err()
                    .unwrap_or_else(|| panic!("cut at {cut} was read"));
                assert_eq!(e.failure(), Failure::InvalidArgument, "cut at {cut}");
            }
        }
    }

    #[test]
    fn unknown_tags_bad_numbers_and_bad_text_are_refused() {
        for bad in [
            vec![99, 0],
            // A number that never ends.
            vec![
                field::KEEPALIVE,
                0x80,
                0x80,
                0x80,
                0x80,
                0x80,
                0x80,
                0x80,
                0x80,
                0x80,
                0x80,
                1,
            ],
            // Bytes longer than the record.
            vec![field::CLIENT_ID, 5, b'a'],
            // Not UTF-8, and U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2].
            vec![field::CLIENT_ID, 2, 0xC3, 0x28],
            vec![field::USERNAME, 1, 0],
        ] {
            let e = connect(&bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} was read"));
            assert_eq!(e.failure(), Failure::InvalidArgument, "{bad:?}");
        }
    }
}
