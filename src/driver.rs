//! Moves bytes, time and events between a `Session` and the browser.
//!
//! JS callbacks (events, promise settlement) may call back into the client,
//! so they never run while the driver is borrowed: driver methods queue
//! [`Action`]s and [`with_driver`] runs them after the borrow ends.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasmqtt_codec::ProtocolVersion;
use wasmqtt_session::{ConnectionError, Event, Millis, Session, Token};

use crate::convert;
use crate::error::Error;
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
    pending: BTreeMap<u64, Pending>,
    /// QoS 0 publishes settled once their bytes reach the socket.
    flushed: Vec<Function>,
    tx: Vec<u8>,
    pub(crate) hooks: Hooks,
    me: Weak<RefCell<Driver>>,
    actions: Vec<Action>,
    /// `end()` is waiting for in-flight messages to finish.
    ending: Option<Finish>,
    ended: bool,
    was_connected: bool,
}

/// Runs `f` on the driver, then everything it queued for JS.
pub(crate) fn with_driver<R>(shared: &Shared, f: impl FnOnce(&mut Driver) -> R) -> R {
    let (result, actions) = {
        let mut d = shared.borrow_mut();
        let result = f(&mut d);
        d.drive();
        (result, std::mem::take(&mut d.actions))
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
    result
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
                pending: BTreeMap::new(),
                flushed: Vec::new(),
                tx: Vec::new(),
                hooks,
                me: me.clone(),
                actions: Vec::new(),
                ending: None,
                ended: false,
                was_connected: false,
            })
        })
    }

    /// Opens a transport, asking for fresh credentials first when a provider was given.
    pub(crate) fn open(&mut self) {
        let Some(provider) = self.hooks.credentials.clone() else {
            return self.open_socket();
        };
        let me = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match provider.call0(&JsValue::NULL) {
                Ok(v) => wasm_bindgen_futures::JsFuture::from(Promise::resolve(&v)).await,
                Err(e) => Err(e),
            };
            let Some(shared) = me.upgrade() else { return };
            with_driver(&shared, |d| {
                if d.ended {
                    return;
                }
                match result {
                    Ok(creds) => {
                        d.apply_credentials(&creds);
                        d.open_socket();
                    }
                    Err(e) => {
                        d.actions.push(Action::Emit("error", e, JsValue::UNDEFINED));
                        d.session.handle_connection_lost(now());
                    }
                }
            });
        });
    }

    fn apply_credentials(&mut self, creds: &JsValue) {
        let get = |k: &str| js_sys::Reflect::get(creds, &JsValue::from_str(k)).ok();
        let options = self.session.options_mut();
        if let Some(user) = get("username").and_then(|v| v.as_string()) {
            options.username = Some(user);
        }
        match get("password") {
            Some(v) if v.is_string() => {
                options.password = v.as_string().map(|s| bytes::Bytes::from(s.into_bytes()));
            }
            Some(v) if v.is_instance_of::<Uint8Array>() => {
                options.password = Some(Uint8Array::from(v).to_vec().into());
            }
            _ => {}
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
                self.actions
                    .push(Action::Emit("error", e, JsValue::UNDEFINED));
                self.session.handle_connection_lost(now());
            }
        }
    }

    pub(crate) fn on_timer(&mut self) {
        self.timer = None;
        self.session.handle_timeout(now());
    }

    /// A promise settled by the session event carrying `token`.
    pub(crate) fn promise_for(&mut self, token: Token) -> Promise {
        let mut slot = None;
        let promise = Promise::new(&mut |resolve, reject| slot = Some(Pending { resolve, reject }));
        if let Some(p) = slot {
            self.pending.insert(token.get(), p);
        }
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
        if let Some(p) = self.pending.remove(&token.get()) {
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
        for (_, p) in std::mem::take(&mut self.pending) {
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
        for resolve in std::mem::take(&mut self.flushed) {
            self.actions.push(Action::Call(resolve, JsValue::UNDEFINED));
        }
        self.ended = true;
        self.socket = None;
        self.timer = None;
        self.fail_all(&Error::new("CLIENT_ENDED", "the client was ended"));
        self.actions
            .push(Action::Emit("end", JsValue::UNDEFINED, JsValue::UNDEFINED));
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.ended
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
            for resolve in std::mem::take(&mut self.flushed) {
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
                let filters: Array = self
                    .session
                    .matching_subscriptions(&publish)
                    .map(|s| JsValue::from_str(s.filter.as_str()))
                    .collect();
                let payload = Uint8Array::from(publish.payload.as_ref());
                self.actions.push(Action::Message(
                    JsValue::from_str(publish.topic.as_str()),
                    payload.into(),
                    convert::publish_packet(&publish),
                    filters.into(),
                ));
            }
            Event::Published { token, result } => {
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
                let packet = convert::reason_packet(auth.reason_code, &auth.properties);
                self.actions
                    .push(Action::Emit("auth", packet, JsValue::UNDEFINED));
            }
            Event::Response { token, message } => {
                let value = convert::publish_packet(&message);
                let payload = Uint8Array::from(message.payload.as_ref());
                js_sys::Reflect::set(&value, &"payload".into(), &payload).ok();
                self.settle(token, Ok(value));
            }
            Event::RequestTimeout { token } => {
                self.settle(
                    token,
                    Err(Error::new("REQUEST_TIMEOUT", "no response in time")),
                );
            }
            Event::Disconnected(reason) => self.on_disconnected(&reason),
            Event::ReconnectScheduled { attempt, delay } => {
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
        if !matches!(reason, ConnectionError::Disconnected) {
            let value = self.error(&Error::from(reason));
            self.actions
                .push(Action::Emit("error", value, JsValue::UNDEFINED));
        }
        self.actions.push(Action::Emit(
            "close",
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ));
        if std::mem::take(&mut self.was_connected) {
            self.actions.push(Action::Emit(
                "offline",
                JsValue::UNDEFINED,
                JsValue::UNDEFINED,
            ));
        }
        // No reconnect is coming: nothing waiting will ever complete.
        let reconnecting = self.session.poll_timeout().is_some();
        if !reconnecting && !self.ended && !matches!(reason, ConnectionError::Disconnected) {
            self.fail_all(&Error::from(reason));
        }
    }
}
