//! What we send: the queue, flow control by the server's Receive Maximum,
//! and the QoS 1/2 state of our publishes.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use wasmqtt_codec::{
    PacketId, Properties, ProtocolVersion, PubRel, Publish, QoS, ReasonCode, Subscribe,
    Subscription, TopicFilter, Unsubscribe,
};

use crate::alias::Outbound;
use crate::error::UsageError;
use crate::event::{Event, PublishError, Token};
use crate::session::{Session, State};
use crate::Millis;

/// An operation waiting for a connection, or for send quota.
#[derive(Debug, Clone)]
pub(crate) enum Queued {
    Publish {
        token: Token,
        publish: Publish,
        queued_at: Millis,
    },
    Subscribe {
        /// `None` for subscriptions restored after a session loss.
        token: Option<Token>,
        subscriptions: Vec<Subscription>,
        properties: Properties,
    },
    Unsubscribe {
        token: Token,
        filters: Vec<String>,
        properties: Properties,
    },
}

impl Queued {
    /// When a waiting message's Message Expiry Interval runs out.
    pub(crate) fn expires_at(&self) -> Option<Millis> {
        match self {
            Self::Publish {
                publish, queued_at, ..
            } => publish
                .properties
                .message_expiry_interval
                .map(|s| queued_at.saturating_add(Millis::from(s) * 1000)),
            _ => None,
        }
    }

    /// Appends the SUBSCRIBE or UNSUBSCRIBE with `packet_id` to `out`,
    /// unless it is larger than `max`, the server's Maximum Packet Size
    /// [MQTT-3.2.2-15]. A PUBLISH is sized and sent by its own path.
    fn encode_request(
        &self,
        version: ProtocolVersion,
        packet_id: PacketId,
        max: Option<u32>,
        out: &mut Vec<u8>,
    ) -> Result<(), UsageError> {
        match self {
            Self::Subscribe {
                subscriptions,
                properties,
                ..
            } => {
                let packet = Subscribe {
                    packet_id,
                    properties: properties.clone(),
                    subscriptions: subscriptions.clone(),
                };
                check_size(packet.encoded_len(version), max)?;
                packet.encode(version, out).map_err(UsageError::Encode)
            }
            Self::Unsubscribe {
                filters,
                properties,
                ..
            } => {
                let packet = Unsubscribe {
                    packet_id,
                    properties: properties.clone(),
                    filters: filters.clone(),
                };
                check_size(packet.encoded_len(version), max)?;
                packet.encode(version, out).map_err(UsageError::Encode)
            }
            Self::Publish { .. } => Ok(()),
        }
    }
}

/// Refuses a packet of `size` bytes over the server's Maximum Packet Size.
fn check_size(size: usize, max: Option<u32>) -> Result<(), UsageError> {
    match max {
        Some(max) if size > max as usize => Err(UsageError::PacketTooLarge { size, max }),
        _ => Ok(()),
    }
}

/// Where one of our QoS 1/2 publishes stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named after the packet awaited
pub(crate) enum Stage {
    /// QoS 1, waiting for PUBACK.
    PubAck,
    /// QoS 2, waiting for PUBREC.
    PubRec,
    /// QoS 2, PUBREL sent, waiting for PUBCOMP.
    PubComp,
}

/// One of our publishes between sending and its final acknowledgement.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    pub(crate) token: Token,
    /// Send order of its PUBLISH, or of its PUBREL once sent, for
    /// resending in the original order [MQTT-4.4.0-1] [MQTT-4.6.0-1]
    /// [MQTT-4.6.0-4].
    pub(crate) seq: u64,
    pub(crate) publish: Publish,
    pub(crate) stage: Stage,
    /// When it was first sent: its Message Expiry Interval counts down
    /// from here if it has to be sent again as a new message.
    pub(crate) sent_at: Millis,
}

/// A SUBSCRIBE or UNSUBSCRIBE waiting for its acknowledgement.
#[derive(Debug, Clone)]
pub(crate) struct PendingAck {
    pub(crate) packet_id: u16,
    pub(crate) item: Queued,
}

impl Session {
    /// Validates a publish against the protocol and the server's limits.
    pub(crate) fn check_publish(&self, publish: &mut Publish) -> Result<(), UsageError> {
        if publish.topic.is_empty() {
            return Err(UsageError::InvalidTopic(wasmqtt_codec::TopicError::Empty));
        }
        // The session owns these fields; a Subscription Identifier from a
        // client is a Protocol Error [MQTT-3.3.4-6].
        publish.dup = false;
        publish.packet_id = None;
        publish.properties.topic_alias = None;
        publish.properties.subscription_identifiers.clear();
        if self.options.protocol_version == ProtocolVersion::V311 && !publish.properties.is_empty()
        {
            return Err(UsageError::NotInV311);
        }
        // What the codec would refuse at send time (a property PUBLISH may
        // not carry, U+0000 in a string …) is refused now. Only properties
        // can fail (topics are validated, sizes are checked below), so the
        // common property-free publish skips the probe; the payload does not
        // matter, so the probe goes without it.
        if !publish.properties.is_empty() {
            let probe = Publish {
                packet_id: PacketId::new(1).filter(|_| publish.qos != QoS::AtMostOnce),
                payload: bytes::Bytes::new(),
                ..publish.clone()
            };
            probe
                .encode(self.options.protocol_version, &mut Vec::new())
                .map_err(UsageError::Encode)?;
        }
        if self.limits_known {
            self.check_limits(publish)?;
        }
        Ok(())
    }

    /// Refuses a SUBSCRIBE or UNSUBSCRIBE the codec would not encode, or
    /// one larger than the server's Maximum Packet Size.
    pub(crate) fn check_encodable(&self, item: &Queued) -> Result<(), UsageError> {
        let packet_id = PacketId::new(1).ok_or(UsageError::NoFilters)?;
        item.encode_request(
            self.options.protocol_version,
            packet_id,
            self.limits.maximum_packet_size,
            &mut Vec::new(),
        )
    }

    fn check_limits(&self, publish: &Publish) -> Result<(), UsageError> {
        let limits = &self.limits;
        if publish.qos > limits.maximum_qos {
            return Err(UsageError::QoSNotSupported {
                max: limits.maximum_qos,
            });
        }
        if publish.retain && !limits.retain_available {
            return Err(UsageError::RetainNotSupported);
        }
        if let Some(max) = limits.maximum_packet_size {
            // The largest form: a Packet Identifier, the full topic and,
            // when aliases are on, the Topic Alias assigned with it: 3
            // bytes, and 1 more for each length it may push past a varint
            // boundary (Property Length, Remaining Length).
            let alias = if self.alias_out.is_on() { 5 } else { 0 };
            let size = publish.encoded_len(self.options.protocol_version) + 2 + alias;
            if size > max as usize {
                return Err(UsageError::PacketTooLarge { size, max });
            }
        }
        Ok(())
    }

    pub(crate) fn check_filter(
        &self,
        filter: &TopicFilter,
        properties: &Properties,
    ) -> Result<(), UsageError> {
        let limits = &self.limits;
        if filter.has_wildcards() && !limits.wildcard_subscription_available {
            return Err(UsageError::WildcardNotSupported);
        }
        if filter.is_shared() && !limits.shared_subscription_available {
            return Err(UsageError::SharedNotSupported);
        }
        if !properties.subscription_identifiers.is_empty()
            && !limits.subscription_identifier_available
        {
            return Err(UsageError::SubscriptionIdentifierNotSupported);
        }
        Ok(())
    }

    /// Queues an operation and sends what the connection allows.
    pub(crate) fn enqueue(&mut self, now: Millis, item: Queued) -> Result<(), UsageError> {
        let connected = matches!(self.state, State::Connected { .. });
        if let Queued::Publish { publish, .. } = &item {
            if !connected && publish.qos == QoS::AtMostOnce && !self.options.queue_qos0 {
                return Err(UsageError::NotConnected);
            }
        }
        if self.queue.len() >= self.options.queue_limit {
            return Err(UsageError::QueueFull {
                limit: self.options.queue_limit,
            });
        }
        let kept = self.journal_candidate(&item);
        self.queue.push_back(item);
        self.pump(now);
        // Still waiting (offline, or for send quota): the store keeps it.
        self.journal_if_queued(kept);
        Ok(())
    }

    /// Sends queued operations in order while connected and within quota.
    pub(crate) fn pump(&mut self, now: Millis) {
        if !matches!(self.state, State::Connected { .. }) {
            return;
        }
        // The expiry timer may have run late (browsers throttle timers in
        // background tabs): what expired meanwhile is dropped, not sent.
        self.expire_queued(now);
        // Once a PUBLISH waits for send quota, later PUBLISH wait behind it
        // to keep their order; nothing else waits for quota [MQTT-3.3.4-8].
        let mut publishes_wait = false;
        let mut i = 0;
        while let Some(item) = self.queue.get(i) {
            let needs_id = match item {
                Queued::Publish { publish, .. } => {
                    // [MQTT-4.9.0-2]: no more QoS 1/2 in flight than Receive Maximum.
                    publishes_wait |= publish.qos != QoS::AtMostOnce
                        && self.inflight.len() >= usize::from(self.limits.receive_maximum);
                    if publishes_wait {
                        i += 1;
                        continue;
                    }
                    publish.qos != QoS::AtMostOnce
                }
                _ => true,
            };
            let id = if needs_id {
                match self.ids.allocate() {
                    Some(id) => Some(id),
                    None => return,
                }
            } else {
                None
            };
            let Some(item) = take_at(&mut self.queue, i) else {
                return;
            };
            self.send_item(now, item, id);
        }
    }

    fn send_item(&mut self, now: Millis, item: Queued, id: Option<PacketId>) {
        let version = self.options.protocol_version;
        let seq = self.next_seq;
        self.next_seq += 1;
        match item {
            Queued::Publish {
                token,
                mut publish,
                queued_at,
            } => {
                if let Err(e) = self.check_limits(&publish) {
                    self.release(id);
                    self.finish(token, Err(PublishError::Usage(e)));
                    return;
                }
                if let Some(interval) = publish.properties.message_expiry_interval {
                    // The receiver gets what is left of the interval [MQTT-3.3.2-6].
                    let waited =
                        u32::try_from(now.saturating_sub(queued_at) / 1000).unwrap_or(u32::MAX);
                    publish.properties.message_expiry_interval =
                        Some(interval.saturating_sub(waited));
                }
                publish.packet_id = id;
                if publish.qos == QoS::ExactlyOnce {
                    // With a store: a QoS 2 PUBLISH leaves once stored, or
                    // a crash leaves the broker holding an id the next
                    // page may reuse for a message the broker then drops
                    // as a re-send [MQTT-4.3.3-1] [MQTT-4.3.3-10].
                    self.hold_for_journal();
                }
                self.transmit_publish(now, &publish);
                self.metrics.messages_out += 1;
                match id {
                    // Never stored, so settled without `finish`.
                    None => self.settle(token, Ok(ReasonCode::Success)),
                    Some(pid) => {
                        let stage = if publish.qos == QoS::AtLeastOnce {
                            Stage::PubAck
                        } else {
                            Stage::PubRec
                        };
                        self.inflight.insert(
                            pid.get(),
                            InFlight {
                                token,
                                seq,
                                publish,
                                stage,
                                sent_at: now,
                            },
                        );
                        self.journal_in_flight(pid.get());
                    }
                }
            }
            Queued::Subscribe { .. } | Queued::Unsubscribe { .. } => {
                let Some(packet_id) = id else { return };
                // Checked when queued, but a new CONNACK may have lowered the
                // Maximum Packet Size since: then it is not sent. The size is
                // all that can fail here; the rest was checked when queued.
                let max = self.limits.maximum_packet_size;
                if item
                    .encode_request(version, packet_id, max, &mut self.tx)
                    .is_err()
                {
                    self.release(id);
                    self.refuse_too_large(item);
                    return;
                }
                self.sent_packet(now);
                self.pending_acks.push(PendingAck {
                    packet_id: packet_id.get(),
                    item,
                });
            }
        }
    }

    /// Settles a SUBSCRIBE or UNSUBSCRIBE too large to send as if the
    /// server had refused every filter with Packet too large (0x95).
    fn refuse_too_large(&mut self, item: Queued) {
        let code = ReasonCode::PacketTooLarge;
        match item {
            Queued::Subscribe {
                token,
                subscriptions,
                ..
            } => {
                let codes = alloc::vec![code; subscriptions.len()];
                self.settle_subscribe(token, &subscriptions, codes, Properties::default());
            }
            Queued::Unsubscribe { token, filters, .. } => {
                // Never sent, so the subscriptions stay.
                self.events.push_back(Event::Unsubscribed {
                    token,
                    reason_codes: alloc::vec![code; filters.len()],
                    properties: Properties::default(),
                });
            }
            Queued::Publish { .. } => {}
        }
    }

    /// Encodes a PUBLISH, with a Topic Alias when enabled.
    pub(crate) fn transmit_publish(&mut self, now: Millis, publish: &Publish) {
        let version = self.options.protocol_version;
        let alias = self.alias_out.lookup(publish.topic.as_str());
        let result = match alias {
            Outbound::None => publish.encode(version, &mut self.tx),
            Outbound::Assign(a) | Outbound::Reuse(a) => {
                let mut p = publish.clone();
                p.properties.topic_alias = Some(a);
                if matches!(alias, Outbound::Reuse(_)) {
                    p.topic = wasmqtt_codec::TopicName::default();
                }
                p.encode(version, &mut self.tx)
            }
        };
        if result.is_ok() {
            self.sent_packet(now);
        }
    }

    pub(crate) fn release(&mut self, id: Option<PacketId>) {
        if let Some(id) = id {
            self.ids.release(id);
        }
    }

    /// Settles a QoS 1/2 publish for good: the store forgets it too.
    pub(crate) fn finish(&mut self, token: Token, result: Result<ReasonCode, PublishError>) {
        self.journal_done(token);
        self.settle(token, result);
    }

    /// Reports a publish's outcome (or its request's, when it fails).
    fn settle(&mut self, token: Token, result: Result<ReasonCode, PublishError>) {
        if let Some(event) = self.requests.publish_outcome(token, result) {
            self.events.push_back(event);
        }
    }

    /// Drops waiting messages whose Message Expiry Interval ran out.
    pub(crate) fn expire_queued(&mut self, now: Millis) {
        // Reported as found (what `finish` does), without a list of tokens.
        let (events, requests) = (&mut self.events, &mut self.requests);
        let journal = &mut self.journal;
        self.queue.retain(|q| match (q, q.expires_at()) {
            (Queued::Publish { token, .. }, Some(at)) if now >= at => {
                crate::store::forget(journal, *token);
                // `push_back`: `extend` brings in VecDeque's iterator code.
                if let Some(e) = requests.publish_outcome(*token, Err(PublishError::Expired)) {
                    events.push_back(e);
                }
                false
            }
            _ => true,
        });
    }

    /// Sends PUBREL for a QoS 2 publish the server received.
    pub(crate) fn send_pubrel(&mut self, now: Millis, id: PacketId, reason_code: ReasonCode) {
        let pubrel = PubRel {
            packet_id: id,
            reason_code,
            properties: Properties::default(),
        };
        if pubrel
            .encode(self.options.protocol_version, &mut self.tx)
            .is_ok()
        {
            self.sent_packet(now);
        }
    }

    /// Re-sends unacknowledged PUBLISH (with DUP) and PUBREL in the order
    /// they were first sent after the server resumed our session
    /// [MQTT-4.4.0-1]: PUBLISH in publish order, PUBREL in PUBREC order.
    pub(crate) fn resend_in_flight(&mut self, now: Millis) {
        for id in self.inflight_order() {
            let Some(f) = self.inflight.get_mut(id) else {
                continue;
            };
            match f.stage {
                Stage::PubComp => {
                    let pid = f.publish.packet_id;
                    if let Some(pid) = pid {
                        self.send_pubrel(now, pid, ReasonCode::Success);
                    }
                }
                Stage::PubAck | Stage::PubRec => {
                    // [MQTT-3.3.1-1]: DUP on a re-delivery.
                    f.publish.dup = true;
                    let publish = f.publish.clone();
                    self.transmit_publish(now, &publish);
                }
            }
        }
    }

    /// The ids of our publishes in flight, in the order they were first sent.
    pub(crate) fn inflight_order(&self) -> Vec<u16> {
        let mut order: Vec<(u64, u16)> = Vec::with_capacity(self.inflight.len());
        self.inflight.for_each(|id, f| order.push((f.seq, id)));
        order.sort_unstable_by_key(|&(seq, _)| seq);
        order.into_iter().map(|(_, id)| id).collect()
    }

    /// Moves the SUBSCRIBE and UNSUBSCRIBE still waiting for their
    /// acknowledgement to `out`, in the order they were sent, their ids released.
    fn take_pending_acks(&mut self, out: &mut Vec<Queued>) {
        for a in core::mem::take(&mut self.pending_acks) {
            self.release(PacketId::new(a.packet_id));
            out.push(a.item);
        }
    }

    /// Puts `items` at the front of the queue, in their order.
    pub(crate) fn queue_first(&mut self, items: Vec<Queued>) {
        for item in items.into_iter().rev() {
            self.queue.push_front(item);
        }
    }

    /// The server resumed our session but re-sends only PUBLISH and PUBREL
    /// [MQTT-4.4.0-1]: SUBSCRIBE and UNSUBSCRIBE it never acknowledged go
    /// out again, ahead of other waiting work, or they would wait forever.
    pub(crate) fn requeue_pending_acks(&mut self) {
        let mut items = Vec::new();
        self.take_pending_acks(&mut items);
        self.queue_first(items);
    }

    /// The server has no session for us: our publishes in flight are
    /// re-queued as new messages (or reported lost), and unacknowledged
    /// SUBSCRIBE/UNSUBSCRIBE are sent again.
    pub(crate) fn requeue_after_session_loss(&mut self) {
        let mut front = Vec::new();
        for id in self.inflight_order() {
            let Some(f) = self.inflight.remove(id) else {
                continue;
            };
            self.release(f.publish.packet_id);
            match f.stage {
                // PUBREC said the server owns the message; it was delivered.
                Stage::PubComp => self.finish(f.token, Ok(ReasonCode::Success)),
                _ if self.options.requeue_unacked => {
                    let mut publish = f.publish;
                    publish.dup = false;
                    publish.packet_id = None;
                    self.journal_queued(f.token, &publish);
                    front.push(Queued::Publish {
                        token: f.token,
                        publish,
                        queued_at: f.sent_at,
                    });
                }
                _ => self.finish(f.token, Err(PublishError::SessionLost)),
            }
        }
        self.take_pending_acks(&mut front);
        // The ids of acknowledgements we dropped are free again.
        self.ids = crate::packet_ids::PacketIds::new();
        self.queue_first(front);
    }
}

/// `queue.remove(i)`, by moving item `i` to the front and popping it:
/// `VecDeque::remove` brings in its `wrap_copy`, 263 B gzip of wasm
/// (docs/size.md). O(i) either way.
fn take_at<T>(queue: &mut VecDeque<T>, i: usize) -> Option<T> {
    if i >= queue.len() {
        return None;
    }
    for j in (0..i).rev() {
        queue.swap(j, j + 1);
    }
    queue.pop_front()
}

#[cfg(test)]
mod tests {
    use super::take_at;
    use alloc::collections::VecDeque;
    use alloc::vec::Vec;

    #[test]
    fn take_at_is_remove() {
        for n in 0..6 {
            for i in 0..n + 2 {
                let mut q: VecDeque<usize> = (0..n).collect();
                let mut expected = q.clone();
                assert_eq!(take_at(&mut q, i), expected.remove(i));
                assert_eq!(
                    q.iter().collect::<Vec<_>>(),
                    expected.iter().collect::<Vec<_>>()
                );
            }
        }
    }
}
