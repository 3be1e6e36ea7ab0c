//! What the server sends us: decoding and reacting to each packet.

use alloc::string::String;
use alloc::vec::Vec;
use wasmqtt_codec::{
    ConnAck, DecodeError, Disconnect, Packet, PacketType, Properties, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, SubAck, Subscription, UnsubAck,
};

use crate::error::{ConnectionError, ProtocolError};
use crate::event::{Event, PublishError, Token};
use crate::outbound::{Queued, Stage};
use crate::server::ServerLimits;
use crate::session::{Session, State};
use crate::Millis;

impl Session {
    /// Bytes arrived from the transport, in any chunking.
    pub fn handle_bytes(&mut self, now: Millis, bytes: &[u8]) {
        if !matches!(
            self.state,
            State::Connecting { .. } | State::Connected { .. }
        ) {
            return;
        }
        self.metrics.bytes_in += bytes.len() as u64;
        self.decoder.feed(bytes);
        loop {
            match self.decoder.next_packet_from_server() {
                Ok(Some(packet)) => {
                    self.metrics.packets_in += 1;
                    // Any packet shows the connection is alive.
                    if let Some(sent) = self.ping_sent.take() {
                        if packet == Packet::PingResp {
                            self.metrics.round_trip_time = Some(now.saturating_sub(sent));
                        }
                    }
                    self.handle_packet(now, packet);
                    if !matches!(
                        self.state,
                        State::Connecting { .. } | State::Connected { .. }
                    ) {
                        return;
                    }
                }
                Ok(None) => return,
                // A packet only clients send [MQTT-3.1.0-2] and others.
                Err(DecodeError::UnexpectedPacketType(t)) => {
                    return self.protocol_error(now, ProtocolError::UnexpectedPacket(t))
                }
                Err(e) => return self.protocol_error(now, ProtocolError::Decode(e)),
            }
        }
    }

    fn handle_packet(&mut self, now: Millis, packet: Packet) {
        let connecting = matches!(self.state, State::Connecting { .. });
        let result = match packet {
            Packet::ConnAck(p) if connecting => {
                self.on_connack(now, p);
                Ok(())
            }
            // [MQTT-4.12.0-6]: AUTH only when CONNECT named an Authentication
            // Method, and [MQTT-4.12.0-5] only with that method. A server
            // continues (0x18) or, after re-authentication, succeeds (0x00);
            // 0x19 is the client's to send.
            Packet::Auth(p)
                if self.options.properties.authentication_method.is_some()
                    && p.properties.authentication_method
                        == self.options.properties.authentication_method
                    && (p.reason_code == ReasonCode::ContinueAuthentication
                        || (p.reason_code == ReasonCode::Success && !connecting)) =>
            {
                self.auth_challenge = p.reason_code == ReasonCode::ContinueAuthentication;
                self.events.push_back(Event::Auth(p));
                Ok(())
            }
            // Before CONNACK the server may send only CONNACK or AUTH [MQTT-3.2.0-2].
            p if connecting => Err(ProtocolError::UnexpectedPacket(p.packet_type())),
            Packet::Publish(p) => self.on_publish(now, p),
            Packet::PubAck(p) => {
                self.on_puback(now, p);
                Ok(())
            }
            Packet::PubRec(p) => {
                self.on_pubrec(now, p);
                Ok(())
            }
            Packet::PubRel(p) => {
                self.on_pubrel(now, p);
                Ok(())
            }
            Packet::PubComp(p) => {
                self.on_pubcomp(now, p);
                Ok(())
            }
            Packet::SubAck(p) => self.on_suback(now, p),
            Packet::UnsubAck(p) => self.on_unsuback(now, p),
            Packet::PingResp => Ok(()),
            Packet::Disconnect(p) => {
                self.on_disconnect(now, p);
                Ok(())
            }
            p => Err(ProtocolError::UnexpectedPacket(p.packet_type())),
        };
        if let Err(e) = result {
            self.protocol_error(now, e);
        }
    }

    fn on_connack(&mut self, now: Millis, connack: ConnAck) {
        // [MQTT-3.2.2-6]: a refusal never has a session; [MQTT-3.2.2-4]: a
        // session we asked to discard cannot be present.
        if connack.session_present && (connack.reason_code.is_error() || self.clean_start_sent) {
            return self.protocol_error(now, ProtocolError::SessionPresentInvalid);
        }
        if connack.reason_code.is_error() {
            let (reason_string, server_reference) = reason_and_reference(connack.properties);
            return self.close(
                now,
                ConnectionError::Refused {
                    reason_code: connack.reason_code,
                    reason_string,
                    server_reference,
                },
            );
        }
        let v5 = self.options.protocol_version == ProtocolVersion::V5;
        self.limits = if v5 {
            ServerLimits::from_connack(&connack)
        } else {
            ServerLimits::default()
        };
        self.limits_known = true;
        if let Some(id) = &self.limits.assigned_client_identifier {
            // Reconnects must name the session the server made for us.
            self.options.client_id.clone_from(id);
        }
        let keep_alive = self
            .limits
            .server_keep_alive
            .unwrap_or(self.options.keep_alive);
        self.keep_alive = Millis::from(keep_alive) * 1000;
        self.alias_in
            .reset(self.options.properties.topic_alias_maximum.unwrap_or(0));
        // Our aliases only when asked for (MQTT 3.1.1 limits have none).
        let aliases = if self.options.auto_topic_alias {
            self.limits.topic_alias_maximum
        } else {
            0
        };
        self.alias_out.reset(aliases);
        self.state = State::Connected { since: now };
        let resumed = connack.session_present && self.connected_once;
        self.connected_once = true;
        self.events.push_back(Event::Connected(connack));
        if resumed {
            self.resend_in_flight(now);
            self.requeue_pending_acks();
        } else {
            // No session: the server forgot the QoS 2 ids it was sending us.
            self.inbound_qos2.clear();
            self.journal_inbound_cleared();
            self.requeue_after_session_loss();
            if self.options.resubscribe {
                self.queue_resubscribe();
            }
        }
        self.pump(now);
    }

    /// Queues SUBSCRIBE for every acknowledged subscription, ahead of other work.
    fn queue_resubscribe(&mut self) {
        let mut restore = Vec::new();
        for e in self.registry.iter().filter(|e| e.granted.is_some()) {
            restore.push(Queued::Subscribe {
                token: None,
                subscriptions: alloc::vec![wasmqtt_codec::Subscription {
                    filter: e.filter.as_str().into(),
                    options: e.options,
                }],
                properties: e.properties.clone(),
            });
        }
        self.queue_first(restore);
    }

    fn on_publish(&mut self, now: Millis, mut publish: Publish) -> Result<(), ProtocolError> {
        if let Some(alias) = publish.properties.topic_alias.take() {
            self.alias_in.resolve(alias, &mut publish.topic)?;
        }
        let version = self.options.protocol_version;
        match (publish.qos, publish.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                self.deliver(publish);
                if PubAck::new(id).encode(version, &mut self.tx).is_ok() {
                    self.sent_packet(now);
                }
            }
            (QoS::ExactlyOnce, Some(id)) => {
                // Deliver once; a DUP of a held id only gets PUBREC again.
                if !self.inbound_qos2.contains(id.get()) {
                    let max = self.options.properties.receive_maximum.unwrap_or(u16::MAX);
                    // [MQTT-3.3.4-9]: the server must respect our Receive Maximum.
                    if self.inbound_qos2.len() >= usize::from(max) {
                        return Err(ProtocolError::ReceiveMaximumExceeded);
                    }
                    self.inbound_qos2.insert(id.get());
                    self.journal_inbound(id, true);
                    // With a store: neither delivered nor acknowledged until
                    // the id is stored, or a crash forgets it and the
                    // broker's re-send is delivered again [MQTT-4.3.3-10].
                    self.hold_for_journal();
                    self.deliver(publish);
                }
                if PubRec::new(id).encode(version, &mut self.tx).is_ok() {
                    self.sent_packet(now);
                }
            }
            _ => self.deliver(publish),
        }
        Ok(())
    }

    fn deliver(&mut self, publish: Publish) {
        self.metrics.messages_in += 1;
        match self.requests.take_response(&publish) {
            Some(token) => self.events.push_back(Event::Response {
                token,
                message: publish,
            }),
            None => self.events.push_back(Event::Message(publish)),
        }
    }

    fn on_pubrel(&mut self, now: Millis, pubrel: PubRel) {
        let reason_code = if self.inbound_qos2.remove(pubrel.packet_id.get()) {
            self.journal_inbound(pubrel.packet_id, false);
            // With a store: no PUBCOMP until the id's removal is stored,
            // or a resumed session would take the broker's next message
            // under this id [MQTT-4.3.3-12] for a re-send and drop it.
            self.hold_for_journal();
            ReasonCode::Success
        } else {
            ReasonCode::PacketIdentifierNotFound
        };
        let pubcomp = PubComp {
            packet_id: pubrel.packet_id,
            reason_code: if self.options.protocol_version == ProtocolVersion::V5 {
                reason_code
            } else {
                ReasonCode::Success
            },
            properties: Default::default(),
        };
        if pubcomp
            .encode(self.options.protocol_version, &mut self.tx)
            .is_ok()
        {
            self.sent_packet(now);
        }
    }

    fn on_puback(&mut self, now: Millis, puback: PubAck) {
        let id = puback.packet_id.get();
        // A late acknowledgement of a message already settled is ignored.
        if self
            .inflight
            .get(id)
            .is_some_and(|f| f.stage == Stage::PubAck)
        {
            if let Some(f) = self.inflight.remove(id) {
                self.ids.release(puback.packet_id);
                let result = ack_result(puback.reason_code, puback.properties);
                self.finish(f.token, result);
            }
        }
        self.pump(now);
    }

    fn on_pubrec(&mut self, now: Millis, pubrec: PubRec) {
        let id = pubrec.packet_id;
        let stage = self.inflight.get(id.get()).map(|f| f.stage);
        match stage {
            Some(Stage::PubRec) if pubrec.reason_code.is_error() => {
                // [MQTT-4.3.3-4]: PUBREL only follows a PUBREC below 0x80;
                // a failed PUBREC ends the exchange and frees the id.
                if let Some(f) = self.inflight.remove(id.get()) {
                    self.ids.release(id);
                    let result = ack_result(pubrec.reason_code, pubrec.properties);
                    self.finish(f.token, result);
                }
                self.pump(now);
            }
            Some(stage @ (Stage::PubRec | Stage::PubComp)) => {
                let seq = self.next_seq;
                if let Some(f) = self.inflight.get_mut(id.get()) {
                    if stage == Stage::PubRec {
                        // Re-sent where the PUBREL was first sent: PUBRELs
                        // in PUBREC order [MQTT-4.6.0-4].
                        f.seq = seq;
                        self.next_seq += 1;
                    }
                    f.stage = Stage::PubComp;
                }
                if stage == Stage::PubRec {
                    self.journal_in_flight(id.get());
                    // With a store: no PUBREL until the store has it in
                    // place of the PUBLISH, which must not be re-sent once
                    // PUBREL has left [MQTT-4.3.3-6].
                    self.hold_for_journal();
                }
                self.send_pubrel(now, id, ReasonCode::Success);
            }
            // An unknown id is answered with 0x92 Packet Identifier not
            // found (section 3.6.2.1; MQTT 3.1.1 has no reason codes).
            _ if self.options.protocol_version == ProtocolVersion::V5 => {
                self.send_pubrel(now, id, ReasonCode::PacketIdentifierNotFound);
            }
            _ => self.send_pubrel(now, id, ReasonCode::Success),
        }
    }

    fn on_pubcomp(&mut self, now: Millis, pubcomp: PubComp) {
        let id = pubcomp.packet_id.get();
        if self
            .inflight
            .get(id)
            .is_some_and(|f| f.stage == Stage::PubComp)
        {
            if let Some(f) = self.inflight.remove(id) {
                self.ids.release(pubcomp.packet_id);
                self.finish(f.token, Ok(ReasonCode::Success));
            }
        }
        self.pump(now);
    }

    /// Removes the SUBSCRIBE (for SUBACK) or UNSUBSCRIBE (for UNSUBACK)
    /// that `id` acknowledges, once it has `count` filters (`None`: any).
    /// Shared by both acknowledgements, and moves instead of cloning.
    fn take_acked(
        &mut self,
        packet: PacketType,
        id: u16,
        count: Option<usize>,
    ) -> Result<Queued, ProtocolError> {
        let Some(pos) = self.pending_acks.iter().position(|a| a.packet_id == id) else {
            return Err(ProtocolError::UnknownPacketId(id));
        };
        let expected = match (self.pending_acks.get(pos).map(|a| &a.item), packet) {
            (Some(Queued::Subscribe { subscriptions, .. }), PacketType::SubAck) => {
                subscriptions.len()
            }
            (Some(Queued::Unsubscribe { filters, .. }), PacketType::UnsubAck) => filters.len(),
            _ => return Err(ProtocolError::UnexpectedPacket(packet)),
        };
        match count {
            Some(got) if got != expected => Err(ProtocolError::ReasonCodeCount { expected, got }),
            _ => Ok(self.pending_acks.remove(pos).item),
        }
    }

    fn on_suback(&mut self, now: Millis, suback: SubAck) -> Result<(), ProtocolError> {
        let id = suback.packet_id.get();
        let count = Some(suback.reason_codes.len());
        let Queued::Subscribe {
            token,
            subscriptions,
            ..
        } = self.take_acked(PacketType::SubAck, id, count)?
        else {
            // `take_acked` returns a SUBSCRIBE for a SUBACK.
            return Err(ProtocolError::UnexpectedPacket(PacketType::SubAck));
        };
        self.ids.release(suback.packet_id);
        self.settle_subscribe(
            token,
            &subscriptions,
            suback.reason_codes,
            suback.properties,
        );
        self.pump(now);
        Ok(())
    }

    /// Records the outcome of a SUBSCRIBE, one reason code per
    /// subscription: refused filters leave the registry (a restored one is
    /// reported lost), granted ones get their QoS.
    pub(crate) fn settle_subscribe(
        &mut self,
        token: Option<Token>,
        subscriptions: &[Subscription],
        reason_codes: Vec<ReasonCode>,
        properties: Properties,
    ) {
        for (s, &code) in subscriptions.iter().zip(&reason_codes) {
            let filter = &s.filter;
            if code.is_error() {
                self.registry.remove(filter);
                if token.is_none() {
                    self.events.push_back(Event::SubscriptionLost {
                        filter: filter.clone(),
                        reason_code: code,
                    });
                }
            } else if let Some(entry) = self.registry.get_mut(filter) {
                entry.granted = QoS::from_u8(code as u8);
            }
        }
        if let Some(token) = token {
            self.events.push_back(Event::Subscribed {
                token,
                reason_codes,
                properties,
            });
        }
    }

    fn on_unsuback(&mut self, now: Millis, unsuback: UnsubAck) -> Result<(), ProtocolError> {
        let id = unsuback.packet_id.get();
        let v5 = self.options.protocol_version == ProtocolVersion::V5;
        let count = Some(unsuback.reason_codes.len()).filter(|_| v5);
        let Queued::Unsubscribe { token, filters, .. } =
            self.take_acked(PacketType::UnsubAck, id, count)?
        else {
            // `take_acked` returns an UNSUBSCRIBE for an UNSUBACK.
            return Err(ProtocolError::UnexpectedPacket(PacketType::UnsubAck));
        };
        self.ids.release(unsuback.packet_id);
        let reason_codes = if v5 {
            unsuback.reason_codes
        } else {
            alloc::vec![ReasonCode::Success; filters.len()]
        };
        for filter in &filters {
            self.registry.remove(filter);
        }
        self.events.push_back(Event::Unsubscribed {
            token,
            reason_codes,
            properties: unsuback.properties,
        });
        self.pump(now);
        Ok(())
    }

    fn on_disconnect(&mut self, now: Millis, disconnect: Disconnect) {
        // [MQTT-3.14.2-2]: a server never sends Session Expiry Interval.
        if disconnect.properties.session_expiry_interval.is_some() {
            return self.protocol_error(now, ProtocolError::SessionExpiryFromServer);
        }
        let (reason_string, server_reference) = reason_and_reference(disconnect.properties);
        self.close(
            now,
            ConnectionError::ServerDisconnected {
                reason_code: disconnect.reason_code,
                reason_string,
                server_reference,
            },
        );
    }
}

/// Takes the two fields and drops the rest of `p` in one call, where
/// moving the fields out would drop every other field inline.
fn reason_and_reference(mut p: Properties) -> (Option<String>, Option<String>) {
    (p.reason_string.take(), p.server_reference.take())
}

fn ack_result(
    reason_code: ReasonCode,
    mut properties: Properties,
) -> Result<ReasonCode, PublishError> {
    if reason_code.is_error() {
        Err(PublishError::Rejected {
            reason_code,
            reason_string: properties.reason_string.take(),
        })
    } else {
        Ok(reason_code)
    }
}
