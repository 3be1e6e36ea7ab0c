//! SUBSCRIBE and UNSUBSCRIBE (sections 3.8 and 3.10).

use std::sync::Arc;

use wasmqtt_codec::{
    Packet, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, TopicFilter, UnsubAck, Unsubscribe,
};

use super::Connection;
use crate::router::Subscriber;
use crate::session::SubscriptionRecord;

impl Connection {
    pub(super) fn on_subscribe(&mut self, subscribe: Subscribe) {
        let subscription_id = subscribe
            .properties
            .subscription_identifiers
            .first()
            .copied();
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        if self.session(&mut state).is_none() {
            // Taken over: this connection is about to close.
            return;
        }
        let mut reason_codes = Vec::with_capacity(subscribe.subscriptions.len());
        let mut retained = Vec::new();
        for s in subscribe.subscriptions {
            let Ok(filter) = TopicFilter::new(s.filter.as_str()) else {
                reason_codes.push(ReasonCode::TopicFilterInvalid);
                continue;
            };
            if !shared.access.can_subscribe(
                self.username.as_deref(),
                &self.client_id,
                filter.as_str(),
            ) {
                reason_codes.push(ReasonCode::NotAuthorized);
                continue;
            }
            let mut options = s.options;
            // Our Maximum QoS is 2; grant what was asked.
            options.qos = options.qos.min(QoS::ExactlyOnce);
            let share = filter.share_name().map(str::to_owned);
            let existed = state.subscriptions.insert(
                filter.filter(),
                share.as_deref(),
                Subscriber {
                    client: Arc::clone(&self.client_id),
                    options,
                    subscription_id,
                },
            );
            if let Some(session) = state.sessions.get_mut(&self.client_id) {
                session.subscriptions.insert(
                    filter.as_str().to_owned(),
                    SubscriptionRecord {
                        share: share.clone(),
                        filter: filter.filter().to_owned(),
                        options,
                        subscription_id,
                    },
                );
            }
            // [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11]; no retained
            // messages for shared subscriptions (section 4.8.2).
            let send_retained = share.is_none()
                && match options.retain_handling {
                    RetainHandling::SendAtSubscribe => true,
                    RetainHandling::SendAtSubscribeIfNew => !existed,
                    _ => false,
                };
            if send_retained {
                retained.extend(state.retained_for(filter.filter(), options, subscription_id));
            }
            reason_codes.push(match options.qos {
                QoS::AtMostOnce => ReasonCode::GRANTED_QOS_0,
                QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                _ => ReasonCode::GrantedQoS2,
            });
        }
        for delivery in retained {
            state.deliver(&self.client_id, delivery);
        }
        drop(state);
        // SUBACK goes out before the retained messages it triggered (section 3.8.4).
        self.encode(&Packet::SubAck(SubAck {
            packet_id: subscribe.packet_id,
            properties: Default::default(),
            reason_codes,
        }));
    }

    pub(super) fn on_unsubscribe(&mut self, unsubscribe: Unsubscribe) {
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        if self.session(&mut state).is_none() {
            // Taken over: this connection is about to close.
            return;
        }
        let reason_codes = unsubscribe
            .filters
            .iter()
            .map(|f| {
                let Ok(filter) = TopicFilter::new(f.as_str()) else {
                    return ReasonCode::TopicFilterInvalid;
                };
                let removed = state
                    .sessions
                    .get_mut(&self.client_id)
                    .and_then(|s| s.subscriptions.remove(filter.as_str()))
                    .is_some();
                state
                    .subscriptions
                    .remove(filter.filter(), filter.share_name(), &self.client_id);
                if removed {
                    ReasonCode::Success
                } else {
                    ReasonCode::NoSubscriptionExisted
                }
            })
            .collect();
        drop(state);
        self.encode(&Packet::UnsubAck(UnsubAck {
            packet_id: unsubscribe.packet_id,
            properties: Default::default(),
            reason_codes,
        }));
    }
}
