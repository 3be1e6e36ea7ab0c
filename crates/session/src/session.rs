//! The session state machine: commands in, bytes and events out.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use wasmqtt_codec::{
    Auth, Decoder, Disconnect, Packet, Properties, ProtocolVersion, Publish, ReasonCode,
    Subscription, TopicFilter, MAX_PACKET_SIZE,
};

use crate::alias::{InboundAliases, OutboundAliases};
use crate::backoff::Rng;
use crate::error::{ConnectionError, ProtocolError, UsageError};
use crate::event::{Event, Token};
use crate::id_map::IdMap;
use crate::metrics::Metrics;
use crate::options::Options;
use crate::outbound::{InFlight, PendingAck, Queued};
use crate::packet_ids::{IdSet, PacketIds};
use crate::request::Requests;
use crate::server::ServerLimits;
use crate::subscriptions::{Registry, SubscriptionEntry};
use crate::Millis;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Waiting for the driver to open a transport and call `connect`.
    Opening,
    /// CONNECT sent, waiting for CONNACK until the deadline.
    Connecting { deadline: Millis },
    /// CONNACK accepted at `since`.
    Connected { since: Millis },
    /// Waiting to reconnect at `at`.
    Waiting { at: Millis },
    /// Ended by `disconnect` or out of reconnect attempts.
    Ended,
}

/// A client session.
///
/// # Driving it
///
/// 1. Open a transport (a WebSocket), then call [`Session::connect`].
/// 2. Pass every received chunk to [`Session::handle_bytes`], a closed
///    transport to [`Session::handle_connection_lost`], and call
///    [`Session::handle_timeout`] when the time [`Session::poll_timeout`]
///    gave has come.
/// 3. After each of those calls and after each command, drain the outputs:
///    [`Session::poll_transmit`] (send it all as one frame), then
///    [`Session::poll_event`] until `None`, then re-arm the timer from
///    [`Session::poll_timeout`].
/// 4. With a store (`store` feature, once `restore` turned the journal
///    on): then take the journal (`poll_journal`), write it, and after
///    its transaction commits call `journal_committed` and drain again.
///    Until then the packets and deliveries that rest on it, and all
///    output after them, wait (`commit.rs`).
///
/// Commands ([`Session::publish`], [`Session::subscribe`], …) return a
/// [`UsageError`] for caller mistakes and never disconnect for them.
/// Operations made while disconnected wait in a bounded queue.
#[derive(Debug)]
pub struct Session {
    pub(crate) options: Options,
    pub(crate) state: State,
    pub(crate) limits: ServerLimits,
    /// Whether `limits` came from a CONNACK (before that nothing is checked).
    pub(crate) limits_known: bool,
    pub(crate) connected_once: bool,
    /// Clean Start of the CONNECT on the current connection.
    pub(crate) clean_start_sent: bool,
    pub(crate) keep_alive: Millis,
    pub(crate) last_sent: Millis,
    pub(crate) ping_sent: Option<Millis>,
    pub(crate) decoder: Decoder,
    pub(crate) tx: Vec<u8>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) ids: PacketIds,
    next_token: u64,
    pub(crate) next_seq: u64,
    pub(crate) queue: VecDeque<Queued>,
    /// Our QoS 1/2 publishes awaiting acknowledgement, by Packet Identifier.
    pub(crate) inflight: IdMap<InFlight>,
    /// SUBSCRIBE and UNSUBSCRIBE awaiting SUBACK/UNSUBACK, in send order:
    /// few at a time, so a list.
    pub(crate) pending_acks: Vec<PendingAck>,
    /// QoS 2 ids the server sent us that await PUBREL.
    pub(crate) inbound_qos2: IdSet,
    pub(crate) alias_in: InboundAliases,
    pub(crate) alias_out: OutboundAliases,
    pub(crate) registry: Registry,
    pub(crate) requests: Requests,
    pub(crate) rng: Rng,
    pub(crate) attempt: u32,
    pub(crate) metrics: Metrics,
    /// The server's last AUTH asked us to continue: the next `auth`
    /// answers it rather than starting a re-authentication.
    pub(crate) auth_challenge: bool,
    /// Changes to the resumable state for a store, once turned on (`store.rs`).
    pub(crate) journal: crate::store::Journal,
    /// Output waiting for the store to commit the journal (`commit.rs`).
    #[cfg(feature = "store")]
    pub(crate) gate: crate::commit::Gate,
}

impl Session {
    /// A session that will connect with `options` once the driver's transport is open.
    #[must_use]
    pub fn new(options: Options) -> Self {
        let max_in = options
            .properties
            .maximum_packet_size
            .unwrap_or(MAX_PACKET_SIZE);
        Self {
            decoder: Decoder::new(options.protocol_version, max_in),
            rng: Rng::new(options.random_seed),
            options,
            state: State::Opening,
            limits: ServerLimits::default(),
            limits_known: false,
            connected_once: false,
            clean_start_sent: false,
            keep_alive: 0,
            last_sent: 0,
            ping_sent: None,
            tx: Vec::new(),
            events: VecDeque::new(),
            ids: PacketIds::new(),
            next_token: 1,
            next_seq: 0,
            queue: VecDeque::new(),
            inflight: IdMap::default(),
            pending_acks: Vec::new(),
            inbound_qos2: IdSet::default(),
            alias_in: InboundAliases::default(),
            alias_out: OutboundAliases::default(),
            registry: Registry::default(),
            requests: Requests::default(),
            attempt: 0,
            metrics: Metrics::default(),
            auth_challenge: false,
            journal: Default::default(),
            #[cfg(feature = "store")]
            gate: Default::default(),
        }
    }

    // ----- read-only state -----

    /// Whether CONNACK accepted the current connection.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected { .. })
    }

    /// The options, with the Client Identifier the server assigned, if any.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The protocol version in use.
    #[must_use]
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.options.protocol_version
    }

    /// The server's limits from the last CONNACK (the spec's defaults before one).
    #[must_use]
    pub fn server(&self) -> &ServerLimits {
        &self.limits
    }

    /// Traffic and health counters.
    #[must_use]
    pub fn metrics(&self) -> Metrics {
        let mut m = self.metrics;
        m.in_flight = self.inflight.len();
        m.queued = self.queue.len();
        m
    }

    /// The subscriptions made, acknowledged or not.
    pub fn subscriptions(&self) -> impl Iterator<Item = &SubscriptionEntry> {
        self.registry.iter()
    }

    /// The subscriptions a received message belongs to, for dispatching
    /// it to per-subscription handlers (see `Registry::matching` for the rule).
    pub fn matching_subscriptions<'a>(
        &'a self,
        message: &'a Publish,
    ) -> impl Iterator<Item = &'a SubscriptionEntry> + 'a {
        let by_id = self.options.protocol_version == ProtocolVersion::V5
            && self.limits.subscription_identifier_available;
        self.registry.matching(message, by_id)
    }

    // ----- outputs -----

    /// Moves the bytes to send into `out`; `false` if there were none.
    /// Send them as one transport frame.
    #[must_use]
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        #[cfg(feature = "store")]
        if self.awaits_journal() {
            return self.poll_transmit_held(out);
        }
        if self.tx.is_empty() {
            return false;
        }
        self.metrics.bytes_out += self.tx.len() as u64;
        out.append(&mut self.tx);
        true
    }

    /// Whether [`Session::poll_transmit`] has bytes to give: a driver asks
    /// its transport whether it can take them only when there are some.
    #[must_use]
    pub fn wants_transmit(&self) -> bool {
        !self.tx.is_empty()
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        #[cfg(feature = "store")]
        if !self.event_may_go() {
            return None;
        }
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        let state = match self.state {
            State::Connecting { deadline } => Some(deadline),
            State::Connected { since } => {
                let ping = match self.ping_sent {
                    Some(sent) => Some(sent.saturating_add(self.ping_timeout())),
                    None if self.keep_alive > 0 => Some(self.ping_due()),
                    None => None,
                };
                let reset = (self.attempt > 0).then(|| since.saturating_add(self.backoff_reset()));
                min_opt(ping, reset)
            }
            State::Waiting { at } => Some(at),
            State::Opening | State::Ended => None,
        };
        // By index: `VecDeque::iter` brings in `slice_ranges`.
        let mut expiry = None;
        let mut i = 0;
        while let Some(q) = self.queue.get(i) {
            expiry = min_opt(expiry, q.expires_at());
            i += 1;
        }
        min_opt(min_opt(state, expiry), self.requests.next_deadline())
    }

    // ----- inputs -----

    /// The timer armed from [`Session::poll_timeout`] fired.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.expire_queued(now);
        self.requests.expire(now, &mut self.events);
        match self.state {
            State::Connecting { deadline } if now >= deadline => {
                self.close(now, ConnectionError::ConnectTimeout);
            }
            State::Connected { since } => {
                if self.attempt > 0 && now >= since.saturating_add(self.backoff_reset()) {
                    self.attempt = 0;
                }
                match self.ping_sent {
                    Some(sent) if now >= sent.saturating_add(self.ping_timeout()) => {
                        self.close(now, ConnectionError::KeepAliveTimeout);
                    }
                    None if self.keep_alive > 0 && now >= self.ping_due() => {
                        // [MQTT-3.1.2-20]: a PINGREQ when nothing else was sent.
                        Packet::encode_ping_request(&mut self.tx);
                        self.sent_packet(now);
                        self.ping_sent = Some(now);
                    }
                    _ => {}
                }
            }
            State::Waiting { at } if now >= at => {
                self.state = State::Opening;
                self.metrics.reconnects += 1;
                self.events.push_back(Event::Reconnect {
                    attempt: self.attempt,
                });
            }
            _ => {}
        }
    }

    /// The transport closed, or failed to open.
    pub fn handle_connection_lost(&mut self, now: Millis) {
        match self.state {
            State::Connecting { .. } | State::Connected { .. } | State::Opening => {
                self.close(now, ConnectionError::ConnectionLost);
            }
            State::Waiting { .. } | State::Ended => {}
        }
    }

    // ----- commands -----

    /// Sends CONNECT on a newly opened transport.
    pub fn connect(&mut self, now: Millis) -> Result<(), UsageError> {
        match self.state {
            State::Opening | State::Ended | State::Waiting { .. } => {}
            State::Connecting { .. } | State::Connected { .. } => {
                return Err(UsageError::AlreadyConnected)
            }
        }
        let v5 = self.options.protocol_version == ProtocolVersion::V5;
        // Reconnects ask to resume; MQTT 3.1.1 keeps the caller's choice,
        // since Clean Session 0 there makes a session that never expires,
        // except that an empty Client Identifier needs Clean Session 1
        // [MQTT-3.1.3-7 in 3.1.1]: there is no name to resume under.
        let clean_start = if self.connected_once && v5 {
            false
        } else {
            self.options.clean_start || (!v5 && self.options.client_id.is_empty())
        };
        self.clean_start_sent = clean_start;
        let connect = self.options.connect_packet(clean_start);
        self.tx.clear();
        connect.encode(&mut self.tx).map_err(UsageError::Encode)?;
        self.send_now_from(0);
        self.decoder.reset();
        self.decoder.set_version(self.options.protocol_version);
        self.sent_packet(now);
        self.state = State::Connecting {
            deadline: now.saturating_add(self.options.connect_timeout),
        };
        Ok(())
    }

    /// Sends DISCONNECT and ends the session's connection for good (until
    /// `connect` is called again). Refused as [`Session::check_disconnect`]
    /// says. Once the session has ended this does nothing.
    pub fn disconnect(
        &mut self,
        now: Millis,
        reason_code: ReasonCode,
        session_expiry_interval: Option<u32>,
        mut properties: Properties,
    ) -> Result<(), UsageError> {
        self.check_disconnect(reason_code, session_expiry_interval, &properties)?;
        if self.state == State::Ended {
            return Ok(());
        }
        if let State::Connected { .. } = self.state {
            properties.session_expiry_interval = session_expiry_interval;
            let packet = Disconnect {
                reason_code,
                properties,
            };
            let start = self.tx.len();
            packet
                .encode(self.options.protocol_version, &mut self.tx)
                .map_err(UsageError::Encode)?;
            self.send_now_from(start);
            self.sent_packet(now);
        }
        self.state = State::Ended;
        self.attempt = 0;
        self.connection_down();
        self.events
            .push_back(Event::Disconnected(ConnectionError::Disconnected));
        Ok(())
    }

    /// Whether [`Session::disconnect`] accepts these, whatever the state of
    /// the connection: for a driver that disconnects once in-flight
    /// messages are done and wants to refuse bad arguments at once.
    /// `session_expiry_interval` may change the one sent in CONNECT, but
    /// not from 0 (section 3.14.2.2.2: a Protocol Error); the rest must
    /// encode (a reason code DISCONNECT can carry, in this version).
    pub fn check_disconnect(
        &self,
        reason_code: ReasonCode,
        session_expiry_interval: Option<u32>,
        properties: &Properties,
    ) -> Result<(), UsageError> {
        let connect_expiry = self.options.properties.session_expiry_interval.unwrap_or(0);
        if connect_expiry == 0 && session_expiry_interval.is_some_and(|s| s > 0) {
            return Err(UsageError::SessionExpiryAfterZero);
        }
        let mut properties = properties.clone();
        properties.session_expiry_interval = session_expiry_interval;
        Disconnect {
            reason_code,
            properties,
        }
        .encode(self.options.protocol_version, &mut Vec::new())
        .map_err(UsageError::Encode)
    }

    /// Answers an AUTH challenge, or starts re-authentication when connected.
    ///
    /// The session sets the method and the reason code: the Authentication
    /// Method is always the configured one; the reason code is Continue
    /// authentication while connecting or when the server's last AUTH
    /// challenged us, Re-authenticate otherwise. `auth` brings the
    /// Authentication Data and any other properties.
    pub fn auth(&mut self, now: Millis, mut auth: Auth) -> Result<(), UsageError> {
        if self.options.protocol_version == ProtocolVersion::V311 {
            return Err(UsageError::NotInV311);
        }
        let method = self
            .options
            .properties
            .authentication_method
            .clone()
            .ok_or(UsageError::NoAuthenticationMethod)?;
        auth.reason_code = match self.state {
            State::Connecting { .. } => ReasonCode::ContinueAuthentication,
            State::Connected { .. } if self.auth_challenge => ReasonCode::ContinueAuthentication,
            State::Connected { .. } => ReasonCode::ReAuthenticate,
            _ => return Err(UsageError::NotConnected),
        };
        // [MQTT-4.12.0-5]: the same method as in CONNECT.
        auth.properties.authentication_method = Some(method);
        auth.encode(self.options.protocol_version, &mut self.tx)
            .map_err(UsageError::Encode)?;
        self.auth_challenge = false;
        self.sent_packet(now);
        Ok(())
    }

    /// Subscribes to `subscriptions` with SUBSCRIBE `properties` (one
    /// Subscription Identifier and User Properties apply to them all).
    /// Refused with [`UsageError::PacketTooLarge`] over the server's
    /// Maximum Packet Size.
    pub fn subscribe(
        &mut self,
        now: Millis,
        subscriptions: Vec<Subscription>,
        properties: Properties,
    ) -> Result<Token, UsageError> {
        if subscriptions.is_empty() {
            return Err(UsageError::NoFilters);
        }
        let v311 = self.options.protocol_version == ProtocolVersion::V311;
        if v311 && !properties.is_empty() {
            return Err(UsageError::NotInV311);
        }
        let mut entries = Vec::with_capacity(subscriptions.len());
        for s in &subscriptions {
            let filter = TopicFilter::new(s.filter.as_str()).map_err(UsageError::InvalidFilter)?;
            if self.limits_known {
                self.check_filter(&filter, &properties)?;
            }
            entries.push(SubscriptionEntry {
                filter,
                options: s.options,
                properties: properties.clone(),
                granted: None,
            });
        }
        let mut item = Queued::Subscribe {
            token: None,
            subscriptions,
            properties,
        };
        // Refuse now what could never be sent (e.g. No Local on a shared
        // subscription, two Subscription Identifiers).
        self.check_encodable(&item)?;
        let token = self.token();
        if let Queued::Subscribe { token: t, .. } = &mut item {
            *t = Some(token);
        }
        self.enqueue(now, item)?;
        for entry in entries {
            self.registry.insert(entry);
        }
        Ok(token)
    }

    /// Removes subscriptions. Refused with [`UsageError::PacketTooLarge`]
    /// over the server's Maximum Packet Size.
    pub fn unsubscribe(
        &mut self,
        now: Millis,
        filters: Vec<alloc::string::String>,
        properties: Properties,
    ) -> Result<Token, UsageError> {
        if filters.is_empty() {
            return Err(UsageError::NoFilters);
        }
        for f in &filters {
            TopicFilter::validate(f).map_err(UsageError::InvalidFilter)?;
        }
        if self.options.protocol_version == ProtocolVersion::V311 && !properties.is_empty() {
            return Err(UsageError::NotInV311);
        }
        let token = self.token();
        let item = Queued::Unsubscribe {
            token,
            filters,
            properties,
        };
        self.check_encodable(&item)?;
        self.enqueue(now, item)?;
        Ok(token)
    }

    /// Publishes a message. The Packet Identifier, DUP and Topic Alias are
    /// the session's to set; the outcome arrives as [`Event::Published`].
    pub fn publish(&mut self, now: Millis, mut publish: Publish) -> Result<Token, UsageError> {
        self.check_publish(&mut publish)?;
        let token = self.token();
        self.enqueue_publish(now, token, publish)?;
        Ok(token)
    }

    pub(crate) fn enqueue_publish(
        &mut self,
        now: Millis,
        token: Token,
        publish: Publish,
    ) -> Result<(), UsageError> {
        self.enqueue(
            now,
            Queued::Publish {
                token,
                publish,
                queued_at: now,
            },
        )
    }

    // ----- shared helpers -----

    #[cfg(feature = "store")]
    pub(crate) fn next_token_value(&self) -> u64 {
        self.next_token
    }

    #[cfg(feature = "store")]
    pub(crate) fn set_next_token(&mut self, next: u64) {
        self.next_token = next;
    }

    pub(crate) fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    pub(crate) fn sent_packet(&mut self, now: Millis) {
        self.metrics.packets_out += 1;
        self.last_sent = now;
    }

    /// When to send PINGREQ: a tenth of Keep Alive (at most 1 s) before it
    /// runs out, so a timer that fires late (browsers: a few ms, 1 s in a
    /// background tab) still keeps the gap within Keep Alive (section
    /// 3.1.2.10).
    fn ping_due(&self) -> Millis {
        let margin = (self.keep_alive / 10).min(1_000);
        self.last_sent
            .saturating_add(self.keep_alive.saturating_sub(margin))
    }

    fn ping_timeout(&self) -> Millis {
        self.options
            .ping_timeout
            .unwrap_or(self.keep_alive / 2)
            .max(1)
    }

    fn backoff_reset(&self) -> Millis {
        self.options.reconnect.map_or(0, |b| b.reset_after)
    }

    /// Per-connection state that does not survive the transport.
    pub(crate) fn connection_down(&mut self) {
        self.ping_sent = None;
        self.auth_challenge = false;
        self.decoder.reset();
    }

    /// Ends the connection for `error`, sending DISCONNECT first for a
    /// protocol error, and schedules a reconnect when that can help.
    pub(crate) fn close(&mut self, now: Millis, error: ConnectionError) {
        if let ConnectionError::Protocol(e) = &error {
            if self.options.protocol_version == ProtocolVersion::V5
                && matches!(
                    self.state,
                    State::Connected { .. } | State::Connecting { .. }
                )
            {
                let reason = e.reason_code();
                let reason = if reason.is_valid_for(wasmqtt_codec::PacketType::Disconnect) {
                    reason
                } else {
                    ReasonCode::ProtocolError
                };
                let start = self.tx.len();
                Disconnect::new(reason)
                    .encode(self.options.protocol_version, &mut self.tx)
                    .ok();
                self.send_now_from(start);
                self.sent_packet(now);
            }
        }
        self.connection_down();
        let retry = error.is_retryable();
        self.events.push_back(Event::Disconnected(error));
        self.schedule_reconnect(now, retry);
    }

    fn schedule_reconnect(&mut self, now: Millis, retry: bool) {
        let Some(policy) = self.options.reconnect.filter(|_| retry) else {
            self.give_up();
            return;
        };
        self.attempt = self.attempt.saturating_add(1);
        let random = self.rng.next_u32();
        match policy.delay(self.attempt, random) {
            Some(delay) => {
                self.state = State::Waiting {
                    at: now.saturating_add(delay),
                };
                self.events.push_back(Event::ReconnectScheduled {
                    attempt: self.attempt,
                    delay,
                });
            }
            None => self.give_up(),
        }
    }

    /// No more reconnects; a later `connect` by the application starts the
    /// policy's attempts over.
    fn give_up(&mut self) {
        self.state = State::Ended;
        self.attempt = 0;
        self.events.push_back(Event::GaveUp);
    }

    /// Handles a protocol violation by the server.
    pub(crate) fn protocol_error(&mut self, now: Millis, error: ProtocolError) {
        self.close(now, ConnectionError::Protocol(error));
    }
}

fn min_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
