//! Moves bytes, time and events between a `Session` and the browser.
//!
//! What JS must learn (events, settled commands) is written as records to
//! `out` (see `events.rs`) and handed over in one call once the driver is
//! no longer borrowed, so JS may call back into the client at once.

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasmqtt_codec::{PacketType, Properties, ProtocolVersion, Publish, ReasonCode};
use wasmqtt_session::{ConnectionError, Event, Millis, Session, Token};

use crate::error::{Error, Failure};
use crate::events::{Kind, Out, DUP, PROPERTIES, RETAIN, TOPIC};
use crate::js::{call_later, microtask, when_settled, Timeout};
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
    /// `String(value)`: an exception's name and message, whatever was thrown.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

pub(crate) fn now() -> Millis {
    performance_now() as Millis
}

/// Functions the JS wrapper hands in.
pub(crate) struct Hooks {
    /// `events(Uint8Array)`: the records of one turn.
    pub(crate) events: Function,
    /// `async () => [username, password]`, called before each connect.
    pub(crate) credentials: Option<Function>,
    /// `() => WebSocket` for the URL: the subprotocol and the implementation.
    pub(crate) socket: Function,
}

/// What a `credentials` provider resolved with; absent fields stay as they were.
struct Credentials {
    username: Option<String>,
    password: Option<bytes::Bytes>,
}

impl Credentials {
    /// `[username, password]`, as `js/bridge.js` hands them over.
    fn read(value: &JsValue) -> Self {
        let pair = js_sys::Array::from(value);
        let password = pair.get(1);
        let password = match password.as_string() {
            Some(s) => Some(bytes::Bytes::from(s.into_bytes())),
            None => password
                .dyn_ref::<Uint8Array>()
                .map(|a| bytes::Bytes::from(a.to_vec())),
        };
        Self {
            username: pair.get(0).as_string(),
            password,
        }
    }
}

pub(crate) type Shared = Rc<RefCell<Driver>>;

/// What `end()` runs once nothing is in flight.
pub(crate) type Finish = Box<dyn FnOnce(&mut Driver)>;

pub(crate) struct Driver {
    pub(crate) session: Session,
    /// The broker's URL, only for messages: kept as the JS string.
    url: JsValue,
    socket: Option<Socket>,
    timer: Option<(Millis, Timeout)>,
    /// JS ids of commands by session token; tokens only grow, so this stays sorted.
    pending: Vec<(u64, u32)>,
    /// QoS 0 publishes settled once their bytes reach the socket.
    flushed: Vec<u32>,
    /// `end()` calls, settled once the client has ended.
    end_waiters: Vec<u32>,
    tx: Vec<u8>,
    pub(crate) hooks: Hooks,
    me: Weak<RefCell<Driver>>,
    /// Records for JS, handed over after each turn.
    out: Out,
    /// The topic of the last message written: JS keeps its string.
    last_topic: String,
    /// Filters JS has been told, by index.
    filter_names: Vec<String>,
    /// Indexes of the filters a message matched (reused).
    matched: Vec<u32>,
    /// A command ran: send once the calling task is done, so a burst of
    /// publishes goes out as one WebSocket frame.
    pub(crate) defer: bool,
    flush_scheduled: bool,
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
    /// The current socket has opened.
    opened: bool,
    /// The server's last AUTH asked us to continue: the next `auth()`
    /// answers it (Continue authentication) rather than starting a
    /// re-authentication.
    pub(crate) auth_challenge: bool,
}

/// Runs `f` on the driver, then hands what it queued to JS.
pub(crate) fn with_driver<R>(shared: &Shared, f: impl FnOnce(&mut Driver) -> R) -> R {
    let result = f(&mut shared.borrow_mut());
    drive_and_emit(shared);
    result
}

/// The part of [`with_driver`] after `f`, kept out of line: it would
/// otherwise be copied into every caller.
#[inline(never)]
fn drive_and_emit(shared: &Shared) {
    let (events, batch) = {
        let mut d = shared.borrow_mut();
        d.drive();
        if d.out.0.is_empty() {
            return;
        }
        let batch = Uint8Array::from(&d.out.0[..]);
        d.out.0.clear();
        (d.hooks.events.clone(), batch)
    };
    // JS reads the whole batch before it calls any user code.
    let _ = events.call1(&JsValue::NULL, &batch);
}

impl SocketEvents for Driver {
    fn on_open(&mut self) {
        self.opened = true;
        if let Err(e) = self.session.connect(now()) {
            self.fail_all(&Error::from(e));
        }
    }

    fn on_bytes(&mut self, bytes: &[u8]) {
        self.session.handle_bytes(now(), bytes);
    }

    fn on_close(&mut self) {
        if !self.opened {
            // Refused, wrong path, subprotocol not accepted: browsers do
            // not say which, so the error names the URL.
            self.open_failure = Some(Error::with_text(
                Failure::ConnectFailed,
                js_string(&self.url),
            ));
        }
        self.socket = None;
        self.session.handle_connection_lost(now());
    }
}

impl Driver {
    pub(crate) fn new(session: Session, url: JsValue, hooks: Hooks) -> Shared {
        Rc::new_cyclic(|me| {
            RefCell::new(Self {
                session,
                url,
                socket: None,
                timer: None,
                pending: Vec::new(),
                flushed: Vec::new(),
                end_waiters: Vec::new(),
                tx: Vec::new(),
                hooks,
                me: me.clone(),
                out: Out::default(),
                last_topic: String::new(),
                filter_names: Vec::new(),
                matched: Vec::new(),
                defer: false,
                flush_scheduled: false,
                ending: None,
                ended: false,
                was_connected: false,
                requests: Vec::new(),
                stopped: false,
                gave_up: None,
                open_failure: None,
                opened: false,
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
                        d.open_failure =
                            Some(Error::with_text(Failure::CredentialsFailed, js_string(&e)));
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
        self.opened = false;
        let me = self.me.clone();
        let deliver = move |event: &dyn Fn(&mut dyn SocketEvents)| {
            if let Some(shared) = me.upgrade() {
                with_driver(&shared, |d| event(d));
            }
        };
        match Socket::open(&self.hooks.socket, deliver) {
            Ok(socket) => self.socket = Some(socket),
            Err(e) => {
                self.open_failure = Some(Error::with_text(Failure::SocketFailed, js_string(&e)));
                self.session.handle_connection_lost(now());
            }
        }
    }

    /// Closes the connection as lost: the page is being frozen.
    pub(crate) fn freeze(&mut self) {
        if self.socket.is_some() {
            self.on_close();
        }
    }

    pub(crate) fn on_timer(&mut self) {
        self.timer = None;
        self.session.handle_timeout(now());
    }

    /// Command `id` settles with the response to request `token`.
    pub(crate) fn await_request(&mut self, id: u32, token: Token) {
        self.requests.push(token.get());
        self.await_token(id, token);
    }

    /// Takes `token` out of the requests; whether it was one.
    fn take_request(&mut self, token: Token) -> bool {
        let found = self.requests.iter().position(|&t| t == token.get());
        found.map(|i| self.requests.swap_remove(i)).is_some()
    }

    /// Command `id` settles with the session event carrying `token`.
    pub(crate) fn await_token(&mut self, id: u32, token: Token) {
        self.pending.push((token.get(), id));
    }

    /// Command `id` settles once the client has ended.
    pub(crate) fn await_end(&mut self, id: u32) {
        self.end_waiters.push(id);
    }

    /// Command `id` settles when the next transmit reaches the socket.
    pub(crate) fn await_flush(&mut self, id: u32) {
        self.flushed.push(id);
    }

    /// Settles command `id` with `undefined`.
    pub(crate) fn done(&mut self, id: u32) {
        self.out.kind(Kind::Done).u32(id);
    }

    /// Rejects command `id`.
    pub(crate) fn reject(&mut self, id: u32, e: &Error) {
        self.out.kind(Kind::Reject).u32(id);
        e.write(&mut self.out);
    }

    fn emit_error(&mut self, e: &Error) {
        self.out.kind(Kind::Error);
        e.write(&mut self.out);
    }

    /// The JS id waiting for `token`, taken out.
    fn take_pending(&mut self, token: Token) -> Option<u32> {
        let found = self.pending.binary_search_by_key(&token.get(), |(t, _)| *t);
        found.ok().map(|i| self.pending.remove(i).1)
    }

    /// Rejects every waiting command.
    pub(crate) fn fail_all(&mut self, e: &Error) {
        for (_, id) in core::mem::take(&mut self.pending) {
            self.reject(id, e);
        }
    }

    /// Ends for good once `when` says so (immediately, or when nothing is in flight).
    pub(crate) fn end_when_idle(&mut self, finish: Finish) {
        self.ending = Some(finish);
    }

    pub(crate) fn mark_ended(&mut self) {
        // The DISCONNECT goes out even if the socket is backed up.
        self.transmit(true);
        for id in core::mem::take(&mut self.flushed)
            .into_iter()
            .chain(core::mem::take(&mut self.end_waiters))
        {
            self.done(id);
        }
        self.ended = true;
        self.socket = None;
        self.timer = None;
        self.fail_all(&Error::new(Failure::ClientEnded));
        // `close` (from the session's Disconnected) comes before `end`.
        while let Some(event) = self.session.poll_event() {
            self.on_event(event);
        }
        self.out.kind(Kind::End);
    }

    pub(crate) fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether the connection is down for good (refused, out of attempts,
    /// reconnect off), though `end()` was not called.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Sends what the session wrote (now, or after a command once the
    /// calling task is done), turns its events into records and re-arms
    /// the timer.
    fn drive(&mut self) {
        let send = !core::mem::take(&mut self.defer);
        if !send && !self.flush_scheduled && !self.ended {
            self.flush_scheduled = true;
            let me = self.me.clone();
            microtask(move || {
                if let Some(shared) = me.upgrade() {
                    with_driver(&shared, |d| d.flush_scheduled = false);
                }
            });
        }
        loop {
            if send {
                self.transmit(false);
            }
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
            for id in core::mem::take(&mut self.flushed) {
                self.done(id);
            }
        }
    }

    /// Arms the timer for the session's next deadline, unless it is armed
    /// for earlier already: waking early costs one call that finds nothing
    /// due, re-arming on every send (keep-alive moves with each) costs more.
    fn arm_timer(&mut self) {
        if self.ended {
            self.timer = None;
            return;
        }
        let backed_up = (!self.flushed.is_empty() && !self.flush_scheduled)
            || self
                .socket
                .as_ref()
                .is_some_and(|s| s.buffered() > HIGH_WATER);
        let Some(at) = self.session.poll_timeout() else {
            if backed_up {
                self.arm(now() + DRAIN_CHECK);
            }
            return;
        };
        self.arm(if backed_up {
            at.min(now() + DRAIN_CHECK)
        } else {
            at
        });
    }

    fn arm(&mut self, at: Millis) {
        if self.timer.as_ref().is_some_and(|(t, _)| *t <= at) {
            return;
        }
        let me = self.me.clone();
        let delay = u32::try_from(at.saturating_sub(now())).unwrap_or(u32::MAX);
        let timeout = Timeout::new(delay, move || {
            if let Some(shared) = me.upgrade() {
                with_driver(&shared, Driver::on_timer);
            }
        });
        self.timer = Some((at, timeout));
    }

    /// Properties as on the wire (Property Length first).
    fn properties(&mut self, p: &Properties, packet: PacketType) {
        // Decoded properties always encode again; should they not, JS
        // still gets a valid (empty) list.
        if p.encode_list(Some(packet), &mut self.out.0).is_err() {
            self.out.u8(0);
        }
    }

    /// A `MESSAGE` body: flags, topic unless repeated, payload, properties.
    fn message(&mut self, p: &Publish) {
        let topic = p.topic.as_str();
        let mut flags = p.qos as u8;
        if p.retain {
            flags |= RETAIN;
        }
        if p.dup {
            flags |= DUP;
        }
        let repeated = self.last_topic == topic;
        if !repeated {
            flags |= TOPIC;
        }
        let has_properties = !p.properties.is_empty();
        if has_properties {
            flags |= PROPERTIES;
        }
        self.out.u8(flags);
        if !repeated {
            self.out.str(topic);
            self.last_topic.clear();
            self.last_topic.push_str(topic);
        }
        self.out.bytes(&p.payload);
        if has_properties {
            self.properties(&p.properties, PacketType::Publish);
        }
    }

    fn settle_code(&mut self, token: Token, code: ReasonCode) {
        if let Some(id) = self.take_pending(token) {
            self.out.kind(Kind::Code).u32(id).u8(code.into());
        }
    }

    fn settle_error(&mut self, token: Token, e: &Error) {
        if let Some(id) = self.take_pending(token) {
            self.reject(id, e);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected(connack) => {
                self.was_connected = true;
                self.out
                    .kind(Kind::Connect)
                    .u8(connack.reason_code.into())
                    .u8(connack.session_present.into());
                self.properties(&connack.properties, PacketType::ConnAck);
            }
            Event::Message(publish) => {
                self.match_filters(&publish);
                self.out.kind(Kind::Message);
                self.message(&publish);
                self.out.u32(self.matched.len() as u32);
                for i in 0..self.matched.len() {
                    self.out.u32(self.matched[i]);
                }
            }
            Event::Published { token, result } => {
                if self.requests.contains(&token.get()) {
                    // A request settles with its response; a failed publish
                    // ends it now.
                    if let Err(e) = result {
                        self.take_request(token);
                        self.settle_error(token, &Error::from(e));
                    }
                    return;
                }
                match result {
                    Ok(code) => self.settle_code(token, code),
                    Err(e) => self.settle_error(token, &Error::from(e)),
                }
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
            } => {
                if let Some(id) = self.take_pending(token) {
                    self.out
                        .kind(Kind::Codes)
                        .u32(id)
                        .u32(reason_codes.len() as u32);
                    for code in reason_codes {
                        self.out.u8(code.into());
                    }
                }
            }
            Event::SubscriptionLost {
                filter,
                reason_code,
            } => {
                let mut e = Error::with_text(Failure::SubscriptionLost, filter);
                e.reason_code = Some(u8::from(reason_code));
                self.emit_error(&e);
            }
            Event::Auth(auth) => {
                self.auth_challenge = auth.reason_code == ReasonCode::ContinueAuthentication;
                self.out.kind(Kind::Auth).u8(auth.reason_code.into());
                self.properties(&auth.properties, PacketType::Auth);
            }
            Event::Response { token, message } => {
                self.take_request(token);
                if let Some(id) = self.take_pending(token) {
                    self.out.kind(Kind::Response).u32(id);
                    self.message(&message);
                }
            }
            Event::RequestTimeout { token } => {
                self.take_request(token);
                self.settle_error(token, &Error::new(Failure::RequestTimeout));
            }
            Event::Disconnected(reason) => self.on_disconnected(&reason),
            Event::ReconnectScheduled { attempt, delay } => {
                self.gave_up = None;
                self.out
                    .kind(Kind::Reconnecting)
                    .u32(attempt)
                    .f64(delay as f64);
            }
            Event::Reconnect { attempt } => {
                self.out.kind(Kind::Reconnect).u32(attempt);
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
            let properties = Properties {
                reason_string: reason_string.clone(),
                server_reference: server_reference.clone(),
                ..Properties::default()
            };
            self.out.kind(Kind::Disconnect).u8((*reason_code).into());
            self.properties(&properties, PacketType::Disconnect);
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
            self.emit_error(&error);
            // A scheduled reconnect comes as the next event; see `drive`.
            if !self.ended {
                self.gave_up = Some(error);
            }
        }
        self.out.kind(Kind::Close);
        if core::mem::take(&mut self.was_connected) && lost {
            self.out.kind(Kind::Offline);
        }
    }

    /// Finds the subscriptions a message is for and puts the indexes of
    /// their filters in `matched`, telling JS filters it has not seen.
    ///
    /// With Subscription Identifiers on the message, the subscriptions
    /// with those identifiers, and those without one that match the topic
    /// (a server may send one copy for all of them). Without any, in MQTT
    /// 5.0, only subscriptions without an identifier: a server that sends
    /// one copy per overlapping subscription (mosquitto) sends those with
    /// an identifier with it, so this copy is not theirs.
    fn match_filters(&mut self, message: &Publish) {
        self.matched.clear();
        let ids = &message.properties.subscription_identifiers;
        let by_id = self.session.protocol_version() == ProtocolVersion::V5
            && self.session.server().subscription_identifier_available;
        for s in self.session.subscriptions() {
            let matches = match s.subscription_identifier() {
                Some(id) if !ids.is_empty() => ids.contains(&id),
                Some(_) if by_id => false,
                _ => s.filter.matches(&message.topic),
            };
            if !matches {
                continue;
            }
            let name = s.filter.as_str();
            let index = match self.filter_names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    self.out.kind(Kind::Filter).str(name);
                    self.filter_names.push(name.into());
                    self.filter_names.len() - 1
                }
            };
            self.matched.push(index as u32);
        }
    }
}
