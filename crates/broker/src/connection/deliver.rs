//! Sending queued deliveries within the client's Receive Maximum and
//! Maximum Packet Size.

use std::sync::Arc;
use tokio::time::Instant;

use wasmqtt_codec::{Packet, PubRel, QoS};

use super::Connection;
use crate::session::{Outgoing, Stage};
use crate::state::Stats;

impl Connection {
    /// Moves deliveries from the session queue to the wire.
    pub(super) fn drain(&mut self) {
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        let Some(session) = self.session(&mut state) else {
            return;
        };
        let now = Instant::now();
        let mut sent = 0;
        while let Some(front) = session.pending.front() {
            // [MQTT-3.3.4-9]: no more QoS 1/2 in flight than the client's Receive Maximum.
            if front.qos != QoS::AtMostOnce
                && session.inflight.len() >= usize::from(self.client_receive_maximum)
            {
                break;
            }
            let Some(delivery) = session.pending.pop_front() else {
                break;
            };
            if !self.may_read(delivery.message.topic.as_str()) {
                continue;
            }
            let Some(mut publish) = delivery.to_publish(now) else {
                continue; // expired while queued
            };
            if delivery.qos != QoS::AtMostOnce {
                let Some(id) = session.allocate_packet_id() else {
                    session.pending.push_front(delivery);
                    break;
                };
                publish.packet_id = Some(id);
            }
            let alias = self.aliases_out.apply(&mut publish);
            // [MQTT-3.1.2-25]: never send a packet larger than the client accepts.
            if publish.encoded_len(self.version) > self.client_maximum_packet_size as usize {
                continue;
            }
            if publish.encode(self.version, &mut self.tx).is_err() {
                continue;
            }
            self.aliases_out.sent(&mut publish, alias);
            sent += 1;
            if let Some(id) = publish.packet_id {
                let stage = if publish.qos == QoS::AtLeastOnce {
                    Stage::PubAck
                } else {
                    Stage::PubRec
                };
                let seq = session.next_seq;
                session.next_seq += 1;
                session.inflight.insert(
                    id.get(),
                    Outgoing {
                        seq,
                        publish,
                        stage,
                    },
                );
            }
        }
        Stats::add(&shared.stats.messages_sent, sent);
    }

    /// Re-sends unacknowledged PUBLISH (DUP) and PUBREL in order after the
    /// session resumed [MQTT-4.4.0-1].
    pub(super) fn resend_in_flight(&mut self) {
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        let Some(session) = self.session(&mut state) else {
            return;
        };
        // A delivery this user may no longer read is dropped, not re-sent.
        // A PUBREL carries no message and still completes its exchange.
        session.inflight.retain(|_, out| {
            out.stage == Stage::PubComp || self.may_read(out.publish.topic.as_str())
        });
        let mut order: Vec<&mut Outgoing> = session.inflight.values_mut().collect();
        order.sort_unstable_by_key(|o| o.seq);
        for out in order {
            let packet = match out.stage {
                Stage::PubComp => {
                    let Some(id) = out.publish.packet_id else {
                        continue;
                    };
                    Packet::PubRel(PubRel::new(id))
                }
                _ => {
                    out.publish.dup = true;
                    Packet::Publish(out.publish.clone())
                }
            };
            if packet.encode(self.version, &mut self.tx).is_err() {
                tracing::error!("cannot re-encode an in-flight packet");
            }
        }
    }

    /// Whether this connection's user may receive a message on `topic` now.
    fn may_read(&self, topic: &str) -> bool {
        self.shared
            .access
            .can_read(self.username.as_deref(), &self.client_id, topic)
    }
}
