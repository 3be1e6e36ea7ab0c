//! Moves bytes, time and events between a `Session` and the browser.
//!
//! JS callbacks (events, promise settlement) may call back into the client,
//! so they never run while the driver is borrowed: driver methods queue
//! [`Action`]s and [`with_driver`] runs them after the borrow ends.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasmqtt_codec::{ProtocolVersion, Publish, ReasonCode};
use wasmqtt_session::{ConnectionError, Event, Millis, Session, Token};

use crate::convert;
use crate::error::Error;
use crate::js::{call_later, when_settled, Timeout};
use crate::socket::{Socket, SocketEvents};

/// Above this many bytes queued in the browser's socket, sending waits.
const HIGH_WATER: u32 = 4 << 20;
/// How often to look again while the socket is backed up.
const DRAIN_CHECK: Millis = 20;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`, on pages and in workers alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

pub(crate) fn now() -> Millis {
    performance_now() as Millis
}

/// Functions the JS wrapper hands in.
pub(crate) struct Hooks {
    /// `emit(name, a, b)` for client events.
    pub(crate) emit: Function,
    /// `message(topic, payload, packet, filters)` for each received message.
    pub(crate) message: Function,
    /// The `MqttError` class.
    pub(crate) error_class: Function,
    /// `async () => ({ username, password })`, called before each connect.
    pub(crate) credentials: Option<Function>,
}

/// What a `credentials` provider resolved with; absent fields stay as they were.
struct Credentials {
    username: Option<String>,
    password: Option<bytes::Bytes>,
}

impl Credentials {
    fn read(value: &JsValue) -> Self {
        let get = |k: &str| js_sys::Reflect::get(value, &JsValue::from_str(k)).ok();
        let password = get("password").and_then(|v| match v.as_string() {
            Some(s) => Some(bytes::Bytes::from(s.into_bytes())),
            None => v
                .dyn_ref::<Uint8Array>()
                .map(|a| bytes::Bytes::from(a.to_vec())),
        });
        Self {
            username: get("username").and_then(|v| v.as_string()),
            password,
        }
    }
}

/// A promise waiting for a session outcome.
struct Pending {
    resolve: Function,
    reject: Function,
}

pub(crate) enum Action {
    Emit(&'static str, JsValue, JsValue),
    Message(JsValue, JsValue, JsValue, JsValue),
    Call(Function, JsValue),
}

pub(crate) type Shared = Rc<RefCell<Driver>>;

/// What `end()` runs once nothing is in flight.
pub(crate) type Finish = Box<dyn FnOnce(&mut Driver)>;

pub(crate) struct Driver {
    pub(crate) session: Session,
    url: String,
    socket: Option<Socket>,
    timer: Option<(Millis, Timeout)>,
    /// Promises by token; tokens only grow, so this stays sorted.
    pending: VecDeque<(u64, Pending)>,
    /// QoS 0 publishes settled once their bytes reach the socket.
    flushed: Vec<Function>,
    /// `end()` calls, settled once the client has ended.
    end_waiters: Vec<Function>,
    tx: Vec<u8>,
    pub(crate) hooks: Hooks,
    me: Weak<RefCell<Driver>>,
    actions: Vec<Action>,
    /// `end()` is waiting for in-flight messages to finish.
    ending: Option<Finish>,
    ended: bool,
    was_connected: bool,
    /// Tokens of `request`s: their promise waits for the response, not
    /// for the acknowledgement of the publish.
    requests: Vec<u64>,
    /// The connection went down and no reconnect is coming (refused, out
    /// of attempts, reconnect off): operations fail at once.
    stopped: bool,
    /// Set by a disconnect, cleared when a reconnect is scheduled: still
    /// set once the session's events are drained means it gave up.
    gave_up: Option<Error>,
    /// Why the transport could not be opened, for the error event.
    open_failure: Option<Error>,
    /// The server's last AUTH asked us to continue: the next `auth()`
    /// answers it (Continue authentication) rather than starting a
    /// re-authentication.
    pub(crate) auth_challenge: bool,
}

/// Runs `f` on the driver, then everything it queued for JS.
pub(crate) fn with_driver<R>(shared: &Shared, f: impl FnOnce(&mut Driver) -> R) -> R {
    let result = f(&mut shared.borrow_mut());
    drive_and_run_actions(shared);
    result
}

/// The part of [`with_driver`] after `f`, kept out of line: it would
/// otherwise be copied into every caller.
#[inline(never)]
fn drive_and_run_actions(shared: &Shared) {
    let actions = {
        let mut d = shared.borrow_mut();
        d.drive();
        core::mem::take(&mut d.actions)
    };
    for action in actions {
        // An exception in a user's handler must not stop the others.
        let _ = match action {
            Action::Emit(name, a, b) => {
                let name = JsValue::from_str(name);
                shared
                    .borrow()
                    .hooks
                    .emit
                    .clone()
                    .call3(&JsValue::NULL, &name, &a, &b)
            }
            Action::Message(topic, payload, packet, filters) => {
                let message = shared.borrow().hooks.message.clone();
                let args = Array::of4(&topic, &payload, &packet, &filters);
                message.apply(&JsValue::NULL, &args)
            }
            Action::Call(f, value) => f.call1(&JsValue::NULL, &value),
        };
    }
}

impl SocketEvents for Driver {
    fn on_open(&mut self) {
        if let Err(e) = self.session.connect(now()) {
            self.fail_all(&Error::from(e));
        }
    }

    fn on_bytes(&mut self, bytes: &[u8]) {
        self.session.handle_bytes(now(), bytes);
    }

    fn on_close(&mut self) {
        self.socket = None;
        self.session.handle_connection_lost(now());
    }
}

impl Driver {
    pub(crate) fn new(session: Session, url: String, hooks: Hooks) -> Shared {
        Rc::new_cyclic(|me| {
            RefCell::new(Self {
                session,
                url,
                socket: None,
                timer: None,
                pending: VecDeque::new(),
                flushed: Vec::new(),
                end_waiters: Vec::new(),
                tx: Vec::new(),
                hooks,
                me: me.clone(),
                actions: Vec::new(),
                ending: None,
                ended: false,
                was_connected: false,
                requests: Vec::new(),
                stopped: false,
                gave_up: None,
                open_failure: None,
                auth_challenge: false,
            })
        })
    }

    /// Opens a transport, asking for fresh credentials first when a provider was given.
    pub(crate) fn open(&mut self) {
        let Some(provider) = self.hooks.credentials.clone() else {
            return self.open_socket();
        };
        let me = self.me.clone();
        // Called on a later microtask, never while the driver is borrowed.
        when_settled(&call_later(&provider), move |result| {
            // Read before borrowing the driver: reading runs JS (getters).
            let result = result.map(|creds| Credentials::read(&creds));
            let Some(shared) = me.upgrade() else { return };
            with_driver(&shared, |d| {
                if d.ended {
                    return;
                }
                match result {
                    Ok(creds) => {
                        d.apply_credentials(creds);
                        d.open_socket();
                    }
                    Err(e) => {
                        d.open_failure = Some(Error::new(
                            "CREDENTIALS_FAILED",
                            describe_failure("the credentials provider failed: ", &e),
                        ));
                        d.session.handle_connection_lost(now());
                    }
                }
            });
        });
    }

    fn apply_credentials(&mut self, creds: Credentials) {
        let options = self.session.options_mut();
        if let Some(user) = creds.username {
            options.username = Some(user);
        }
        if let Some(password) = creds.password {
            options.password = Some(password);
        }
    }

    fn open_socket(&mut self) {
        let protocol = match self.session.protocol_version() {
            ProtocolVersion::V311 => "mqttv3.1",
            _ => "mqtt",
        };
        let me = self.me.clone();
        let deliver = move |event: &dyn Fn(&mut dyn SocketEvents)| {
            if let Some(shared) = me.upgrade() {
                with_driver(&shared, |d| event(d));
            }
        };
        match Socket::open(&self.url, protocol, deliver) {
            Ok(socket) => self.socket = Some(socket),
            Err(e) => {
                self.open_failure = Some(Error::new(
                    "CONNECTION_LOST",
                    describe_failure("cannot open the WebSocket: ", &e),
                ));
                self.session.handle_connection_lost(now());
            }
        }
    }

    pub(crate) fn on_timer(&mut self) {
        self.timer = None;
        self.session.handle_timeout(now());
    }

    /// A promise settled by the response to request `token` (or its failure).
    pub(crate) fn promise_for_request(&mut self, token: Token) -> Promise {
        self.requests.push(token.get());
        self.promise_for(token)
    }

    /// Takes `token` out of the requests; whether it was one.
    fn take_request(&mut self, token: Token) -> bool {
        let found = self.requests.iter().position(|&t| t == token.get());
        found.map(|i| self.requests.swap_remove(i)).is_some()
    }

    /// A promise settled by the session event carrying `token`.
    pub(crate) fn promise_for(&mut self, token: Token) -> Promise {
        let mut slot = None;
        let promise = Promise::new(&mut |resolve, reject| slot = Some(Pending { resolve, reject }));
        if let Some(p) = slot {
            self.pending.push_back((token.get(), p));
        }
        promise
    }

    /// A promise settled once the client has ended.
    pub(crate) fn promise_on_end(&mut self) -> Promise {
        let mut slot = None;
        let promise = Promise::new(&mut |resolve, _| slot = Some(resolve));
        self.end_waiters.extend(slot);
        promise
    }

    /// A promise settled when the next transmit reaches the socket.
    pub(crate) fn promise_on_flush(&mut self) -> Promise {
        let mut slot = None;
        let promise = Promise::new(&mut |resolve, _| slot = Some(resolve));
        self.flushed.extend(slot);
        promise
    }

    pub(crate) fn error(&self, e: &Error) -> JsValue {
        e.to_js(&self.hooks.error_class)
    }

    fn settle(&mut self, token: Token, result: Result<JsValue, Error>) {
        let found = self.pending.binary_search_by_key(&token.get(), |(t, _)| *t);
        if let Some((_, p)) = found.ok().and_then(|i| self.pending.remove(i)) {
            let action = match result {
                Ok(v) => Action::Call(p.resolve, v),
                Err(e) => Action::Call(p.reject, self.error(&e)),
            };
            self.actions.push(action);
        }
    }

    /// Rejects every waiting promise.
    pub(crate) fn fail_all(&mut self, e: &Error) {
        let value = self.error(e);
        for (_, p) in core::mem::take(&mut self.pending) {
            self.actions.push(Action::Call(p.reject, value.clone()));
        }
    }

    /// Ends for good once `when` says so (immediately, or when nothing is in flight).
    pub(crate) fn end_when_idle(&mut self, finish: Finish) {
        self.ending = Some(finish);
    }

    pub(crate) fn mark_ended(&mut self) {
        // The DISCONNECT goes out even if the socket is backed up.
        self.transmit(true);
        let flushed = core::mem::take(&mut self.flushed);
        for resolve in flushed
            .into_iter()
            .chain(core::mem::take(&mut self.end_waiters))
        {
            self.actions.push(Action::Call(resolve, JsValue::UNDEFINED));
        }
        self.ended = true;
        self.socket = None;
        self.timer = None;
        self.fail_all(&Error::new("CLIENT_ENDED", "the client was ended"));
        // `close` (from the session's Disconnected) comes before `end`.
        while let Some(event) = self.session.poll_event() {
            self.on_event(event);
        }
        self.actions
            .push(Action::Emit("end", JsValue::UNDEFINED, JsValue::UNDEFINED));
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether the connection is down for good (refused, out of attempts,
    /// reconnect off), though `end()` was not called.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Sends what the session wrote, turns its events into JS actions and
    /// re-arms the timer.
    fn drive(&mut self) {
        loop {
            self.transmit(false);
            let mut any = false;
            while let Some(event) = self.session.poll_event() {
                any = true;
                self.on_event(event);
            }
            if let Some(reason) = self.gave_up.take() {
                // No reconnect is coming: nothing waiting will ever complete.
                self.stopped = true;
                self.fail_all(&reason);
            }
            if let Some(finish) = self.ending.take() {
                let m = self.session.metrics();
                let idle = m.in_flight == 0 && m.queued == 0;
                if idle || !self.session.is_connected() {
                    finish(self);
                    continue;
                }
                self.ending = Some(finish);
            }
            if !any {
                break;
            }
        }
        self.arm_timer();
    }

    fn transmit(&mut self, force: bool) {
        let Some(socket) = self.socket.as_ref().filter(|s| s.is_open()) else {
            return;
        };
        // Backpressure: leave bytes in the session until the browser catches up.
        if !force && socket.buffered() > HIGH_WATER {
            return;
        }
        if !self.session.poll_transmit(&mut self.tx) {
            return;
        }
        let sent = socket.send(&self.tx);
        self.tx.clear();
        if sent.is_ok() {
            for resolve in core::mem::take(&mut self.flushed) {
                self.actions.push(Action::Call(resolve, JsValue::UNDEFINED));
            }
        }
    }

    fn arm_timer(&mut self) {
        if self.ended {
            self.timer = None;
            return;
        }
        let backed_up = !self.flushed.is_empty()
            || self
                .socket
                .as_ref()
                .is_some_and(|s| s.buffered() > HIGH_WATER);
        let now = now();
        let due = match (self.session.poll_timeout(), backed_up) {
            (Some(at), true) => Some(at.min(now + DRAIN_CHECK)),
            (Some(at), false) => Some(at),
            (None, true) => Some(now + DRAIN_CHECK),
            (None, false) => None,
        };
        match due {
            None => self.timer = None,
            Some(at) if self.timer.as_ref().is_some_and(|(t, _)| *t == at) => {}
            Some(at) => {
                let me = self.me.clone();
                let delay = u32::try_from(at.saturating_sub(now)).unwrap_or(u32::MAX);
                let timeout = Timeout::new(delay, move || {
                    if let Some(shared) = me.upgrade() {
                        with_driver(&shared, Driver::on_timer);
                    }
                });
                self.timer = Some((at, timeout));
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected(connack) => {
                self.was_connected = true;
                let packet = convert::reason_packet(connack.reason_code, &connack.properties);
                js_sys::Reflect::set(
                    &packet,
                    &"sessionPresent".into(),
                    &connack.session_present.into(),
                )
                .ok();
                self.actions
                    .push(Action::Emit("connect", packet, JsValue::UNDEFINED));
            }
            Event::Message(publish) => {
                let filters = self.filters_for(&publish);
                let payload = Uint8Array::from(publish.payload.as_ref());
                self.actions.push(Action::Message(
                    JsValue::from_str(publish.topic.as_str()),
                    payload.into(),
                    convert::publish_packet(&publish),
                    filters.into(),
                ));
            }
            Event::Published { token, result } => {
                if self.requests.contains(&token.get()) {
                    // A request settles with its response; a failed publish
                    // ends it now.
                    if let Err(e) = result {
                        self.take_request(token);
                        self.settle(token, Err(Error::from(e)));
                    }
                    return;
                }
                let result = result
                    .map(|code| JsValue::from(u8::from(code)))
                    .map_err(Error::from);
                self.settle(token, result);
            }
            Event::Subscribed {
                token,
                reason_codes,
                ..
            }
            | Event::Unsubscribed {
                token,
                reason_codes,
                ..
            } => self.settle(token, Ok(convert::reason_codes(&reason_codes))),
            Event::SubscriptionLost {
                filter,
                reason_code,
            } => {
                let mut e = Error::new("SUBSCRIPTION_LOST", filter);
                e.reason_code = Some(u8::from(reason_code));
                let value = self.error(&e);
                self.actions
                    .push(Action::Emit("error", value, JsValue::UNDEFINED));
            }
            Event::Auth(auth) => {
                self.auth_challenge = auth.reason_code == ReasonCode::ContinueAuthentication;
                let packet = convert::reason_packet(auth.reason_code, &auth.properties);
                self.actions
                    .push(Action::Emit("auth", packet, JsValue::UNDEFINED));
            }
            Event::Response { token, message } => {
                self.take_request(token);
                let value = convert::publish_packet(&message);
                let payload = Uint8Array::from(message.payload.as_ref());
                js_sys::Reflect::set(&value, &"payload".into(), &payload).ok();
                self.settle(token, Ok(value));
            }
            Event::RequestTimeout { token } => {
                self.take_request(token);
                self.settle(
                    token,
                    Err(Error::new("REQUEST_TIMEOUT", "no response in time")),
                );
            }
            Event::Disconnected(reason) => self.on_disconnected(&reason),
            Event::ReconnectScheduled { attempt, delay } => {
                self.gave_up = None;
                let info = convert::Obj::new();
                info.set("attempt", attempt).set("delay", delay as f64);
                self.actions.push(Action::Emit(
                    "reconnecting",
                    info.build(),
                    JsValue::UNDEFINED,
                ));
            }
            Event::Reconnect { attempt } => {
                self.actions.push(Action::Emit(
                    "reconnect",
                    attempt.into(),
                    JsValue::UNDEFINED,
                ));
                self.open();
            }
            _ => {}
        }
    }

    fn on_disconnected(&mut self, reason: &ConnectionError) {
        self.socket = None;
        self.auth_challenge = false;
        if let ConnectionError::ServerDisconnected {
            reason_code,
            reason_string,
            server_reference,
        } = reason
        {
            let packet = convert::Obj::new();
            packet
                .set("reasonCode", u8::from(*reason_code))
                .opt("reasonString", reason_string.as_deref())
                .opt("serverReference", server_reference.as_deref());
            self.actions.push(Action::Emit(
                "disconnect",
                packet.build(),
                JsValue::UNDEFINED,
            ));
        }
        // Our own `end()` is neither an error nor `offline`.
        let lost = !matches!(reason, ConnectionError::Disconnected);
        let failure = self.open_failure.take();
        if lost {
            // A transport that never opened says why, rather than just "lost".
            let error = match (reason, failure) {
                (ConnectionError::ConnectionLost, Some(f)) => f,
                _ => Error::from(reason),
            };
            let value = self.error(&error);
            self.actions
                .push(Action::Emit("error", value, JsValue::UNDEFINED));
            // A scheduled reconnect comes as the next event; see `drive`.
            if !self.ended {
                self.gave_up = Some(error);
            }
        }
        self.actions.push(Action::Emit(
            "close",
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ));
        if core::mem::take(&mut self.was_connected) && lost {
            self.actions.push(Action::Emit(
                "offline",
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ));
        }
    }

    /// The subscriptions a message is for, as their filters.
    ///
    /// With Subscription Identifiers on the message, the subscriptions
    /// with those identifiers, and those without one that match the topic
    /// (a server may send one copy for all of them). Without any, in MQTT
    /// 5.0, only subscriptions without an identifier: a server that sends
    /// one copy per overlapping subscription (mosquitto) sends those with
    /// an identifier with it, so this copy is not theirs.
    fn filters_for(&self, message: &Publish) -> Array {
        let ids = &message.properties.subscription_identifiers;
        let by_id = self.session.protocol_version() == ProtocolVersion::V5
            && self.session.server().subscription_identifier_available;
        self.session
            .subscriptions()
            .filter(|s| match s.subscription_identifier() {
                Some(id) if !ids.is_empty() => ids.contains(&id),
                Some(_) if by_id => false,
                _ => s.filter.matches(&message.topic),
            })
            .map(|s| JsValue::from_str(s.filter.as_str()))
            .collect()
    }
}

/// `prefix` and what a JS exception says.
fn describe_failure(prefix: &str, e: &JsValue) -> String {
    let mut s = String::from(prefix);
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => s.push_str(&String::from(error.message())),
        None => match e.as_string() {
            Some(text) => s.push_str(&text),
            None => s.push_str("unknown error"),
        },
    }
    s
}
