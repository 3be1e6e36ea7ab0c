//! PUBLISH from the client, and the acknowledgements of ours (sections 3.3 to 3.7).

use std::sync::Arc;

use wasmqtt_codec::{
    Packet, PacketId, PayloadFormatIndicator, ProtocolVersion, PubAck, PubComp, PubRec, PubRel,
    Publish, QoS, ReasonCode,
};

use super::{Connection, End};
use crate::message::Message;
use crate::session::Stage;
use crate::state::Stats;

impl Connection {
    pub(super) fn on_publish(&mut self, mut publish: Publish) -> Option<End> {
        // [MQTT-3.3.4-6]: Subscription Identifiers only go from server to client.
        if !publish.properties.subscription_identifiers.is_empty() {
            self.send_disconnect(ReasonCode::ProtocolError);
            return Some(End::Abnormal);
        }
        if let Some(alias) = publish.properties.topic_alias {
            let max = usize::from(self.shared.config.limits.topic_alias_maximum);
            let index = usize::from(alias).checked_sub(1).filter(|&i| i < max);
            // The table grows as aliases are used: most clients use none.
            if let Some(i) = index.filter(|&i| i >= self.aliases.len()) {
                self.aliases.resize(i + 1, None);
            }
            let slot = index.and_then(|i| self.aliases.get_mut(i));
            // [MQTT-3.3.2-8] [MQTT-3.3.2-9]: 0 (refused by the decoder) or
            // above the Topic Alias Maximum we announced.
            let Some(slot) = slot else {
                self.send_disconnect(ReasonCode::TopicAliasInvalid);
                return Some(End::Abnormal);
            };
            if publish.topic.is_empty() {
                match slot {
                    Some(topic) => publish.topic = topic.clone(),
                    // Section 3.3.2.3.4: an alias with no mapping is a Protocol Error.
                    None => {
                        self.send_disconnect(ReasonCode::ProtocolError);
                        return Some(End::Abnormal);
                    }
                }
            } else {
                *slot = Some(publish.topic.clone());
            }
        }
        let id = publish.packet_id;
        if publish.qos == QoS::ExactlyOnce {
            let id = id?;
            if self.session_has_inbound(id) {
                // [MQTT-4.3.3-9]: a re-sent QoS 2 message is acknowledged,
                // not routed again.
                self.acknowledge(&publish, ReasonCode::Success);
                return None;
            }
            let held = self.inbound_count();
            // [MQTT-3.3.4-7]: the client must respect our Receive Maximum;
            // one more is 0x93 (section 3.2.2.3.3).
            if held >= usize::from(self.shared.config.limits.receive_maximum) {
                self.send_disconnect(ReasonCode::ReceiveMaximumExceeded);
                return Some(End::Abnormal);
            }
        }
        if self.shared.config.test_control
            && publish.topic.as_str().starts_with("$control/")
            && self.may_use_test_control(publish.topic.as_str())
        {
            self.on_test_control(&publish);
            if let (QoS::ExactlyOnce, Some(id)) = (publish.qos, id) {
                self.hold_inbound(id);
            }
            self.acknowledge(&publish, ReasonCode::Success);
            return None;
        }
        let allowed = !publish.topic.is_system()
            && self.shared.access.can_publish(
                self.username.as_deref(),
                &self.client_id,
                publish.topic.as_str(),
            );
        let utf8_ok = publish.properties.payload_format_indicator
            != Some(PayloadFormatIndicator::Utf8)
            || std::str::from_utf8(&publish.payload).is_ok();
        let reason = if !allowed {
            ReasonCode::NotAuthorized
        } else if !utf8_ok {
            ReasonCode::PayloadFormatInvalid
        } else {
            Stats::add(&self.shared.stats.messages_received, 1);
            if let (QoS::ExactlyOnce, Some(id)) = (publish.qos, id) {
                self.hold_inbound(id);
            }
            let message = Arc::new(Message::from_publish(
                publish.clone(),
                Some(Arc::clone(&self.client_id)),
            ));
            let routed = self.shared.state().route(message, &self.shared.access);
            if routed == 0 {
                ReasonCode::NoMatchingSubscribers
            } else {
                ReasonCode::Success
            }
        };
        self.acknowledge(&publish, reason);
        None
    }

    /// Whether this client may use the `$control/...` topics. Without a
    /// password file user names prove nothing and anyone may (test setups);
    /// with one, only the configured control user or a user the ACL grants
    /// write access to the topic. Others are refused like any `$` topic.
    fn may_use_test_control(&self, topic: &str) -> bool {
        let access = &self.shared.access;
        if !access.authenticates() {
            return true;
        }
        let username = self.username.as_deref();
        username.is_some() && username == self.shared.config.test_control_user.as_deref()
            || access.acl_grants_publish(username, &self.client_id, topic)
    }

    /// PUBACK or PUBREC for a QoS 1/2 publish; MQTT 3.1.1 only has success.
    fn acknowledge(&mut self, publish: &Publish, reason_code: ReasonCode) {
        let Some(packet_id) = publish.packet_id else {
            return;
        };
        if self.withhold_acks {
            return;
        }
        let reason_code = match self.version {
            ProtocolVersion::V5 => reason_code,
            _ => ReasonCode::Success,
        };
        let properties = Default::default();
        let packet = match publish.qos {
            QoS::AtLeastOnce => Packet::PubAck(PubAck {
                packet_id,
                reason_code,
                properties,
            }),
            _ => Packet::PubRec(PubRec {
                packet_id,
                reason_code,
                properties,
            }),
        };
        self.encode(&packet);
    }

    fn session_has_inbound(&self, id: PacketId) -> bool {
        let mut state = self.shared.state();
        self.session(&mut state)
            .is_some_and(|s| s.inbound_qos2.contains(&id.get()))
    }

    fn inbound_count(&self) -> usize {
        let mut state = self.shared.state();
        self.session(&mut state).map_or(0, |s| s.inbound_qos2.len())
    }

    fn hold_inbound(&self, id: PacketId) {
        let mut state = self.shared.state();
        if let Some(s) = self.session(&mut state) {
            s.inbound_qos2.insert(id.get());
        }
    }

    pub(super) fn on_pubrel(&mut self, id: PacketId) {
        let known = {
            let mut state = self.shared.state();
            self.session(&mut state)
                .is_some_and(|s| s.inbound_qos2.remove(&id.get()))
        };
        let reason_code = if known || self.version == ProtocolVersion::V311 {
            ReasonCode::Success
        } else {
            ReasonCode::PacketIdentifierNotFound
        };
        self.encode(&Packet::PubComp(PubComp {
            packet_id: id,
            reason_code,
            properties: Default::default(),
        }));
    }

    /// Removes an in-flight delivery at `stage`; returns whether it was there.
    fn settle(&mut self, id: PacketId, stage: Stage) -> bool {
        let mut state = self.shared.state();
        let Some(session) = self.session(&mut state) else {
            return false;
        };
        if session
            .inflight
            .get(&id.get())
            .is_some_and(|o| o.stage == stage)
        {
            session.inflight.remove(&id.get());
            true
        } else {
            false
        }
    }

    pub(super) fn on_puback(&mut self, id: PacketId) {
        self.settle(id, Stage::PubAck);
    }

    pub(super) fn on_pubcomp(&mut self, id: PacketId) {
        self.settle(id, Stage::PubComp);
    }

    pub(super) fn on_pubrec(&mut self, pubrec: PubRec) {
        let id = pubrec.packet_id;
        if pubrec.reason_code.is_error() {
            // A PUBREC with a failure code ends the exchange (section 4.3.3).
            self.settle(id, Stage::PubRec);
            return;
        }
        // PUBREC answers a QoS 2 delivery (again, if the PUBREL was lost).
        let known = {
            let mut state = self.shared.state();
            self.session(&mut state)
                .and_then(|s| s.inflight.get_mut(&id.get()))
                .filter(|o| o.stage != Stage::PubAck)
                .map(|o| o.stage = Stage::PubComp)
                .is_some()
        };
        let reason_code = if known || self.version == ProtocolVersion::V311 {
            ReasonCode::Success
        } else {
            ReasonCode::PacketIdentifierNotFound
        };
        self.encode(&Packet::PubRel(PubRel {
            packet_id: id,
            reason_code,
            properties: Default::default(),
        }));
    }
}
