//! The drive loop: moves bytes, time and events between a `Session` and
//! the browser, and hands the typed outputs (session events, settled
//! commands) to an [`Output`], once the driver is no longer borrowed so
//! the application may call back into the client at once.

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::RefCell;

use wasm_bindgen::JsValue;
use wasmqtt_session::{ConnectionError, Event, Millis, Session};

use crate::error::{Error, Failure};
use crate::js::{microtask, Timeout};
use crate::output::{Outcome, Output};
use crate::records::Records;
use crate::settle::Commands;
use crate::socket::Socket;
use crate::transport::Hooks;

/// Above this many bytes queued in the browser's socket, sending waits.
const HIGH_WATER: u32 = 4 << 20;

pub(crate) type Shared<O = Records> = Rc<RefCell<Driver<O>>>;

/// What `end()` runs once nothing is in flight.
pub(crate) type Finish<O> = Box<dyn FnOnce(&mut Driver<O>)>;

pub(crate) struct Driver<O: Output = Records> {
    pub(crate) session: Session,
    /// The broker's URL, only for messages: kept as the JS string.
    pub(crate) url: JsValue,
    pub(crate) socket: Option<Socket>,
    /// When the timer fires, and its handle (`timer.rs`).
    pub(crate) timer: Option<(Millis, Timeout)>,
    pub(crate) commands: Commands,
    tx: Vec<u8>,
    pub(crate) hooks: Hooks,
    pub(crate) me: Weak<RefCell<Driver<O>>>,
    pub(crate) output: O,
    /// A command ran: send once the calling task is done, so a burst of
    /// publishes goes out as one WebSocket frame.
    pub(crate) defer: bool,
    pub(crate) flush_scheduled: bool,
    /// `end()` is waiting for in-flight messages to finish.
    ending: Option<Finish<O>>,
    pub(crate) ended: bool,
    was_connected: bool,
    /// The session gave up: operations fail at once.
    stopped: bool,
    /// Why the connection last went down, for what waits when the session gives up.
    last_error: Option<Error>,
    /// Why the transport could not be opened, for the error event.
    pub(crate) open_failure: Option<Error>,
    /// The current socket has opened.
    pub(crate) opened: bool,
    /// The last transmit left bytes in the session: the socket was backed up.
    pub(crate) held: bool,
}

/// Runs `f` on the driver, then hands what it queued to the output.
pub(crate) fn with_driver<O: Output + 'static, R>(
    shared: &Shared<O>,
    f: impl FnOnce(&mut Driver<O>) -> R,
) -> R {
    let result = f(&mut shared.borrow_mut());
    drive_and_emit(shared);
    result
}

/// The part of [`with_driver`] after `f`, kept out of line: it would
/// otherwise be copied into every caller.
#[inline(never)]
fn drive_and_emit<O: Output + 'static>(shared: &Shared<O>) {
    let batch = {
        let mut d = shared.borrow_mut();
        d.drive();
        d.output.take()
    };
    if let Some(batch) = batch {
        O::hand_over(&batch);
        shared.borrow_mut().output.give_back(batch);
    }
}

impl<O: Output + 'static> Driver<O> {
    pub(crate) fn new(session: Session, url: JsValue, hooks: Hooks, output: O) -> Shared<O> {
        Rc::new_cyclic(|me| {
            RefCell::new(Self {
                session,
                url,
                socket: None,
                timer: None,
                commands: Commands::default(),
                tx: Vec::new(),
                hooks,
                me: me.clone(),
                output,
                defer: false,
                flush_scheduled: false,
                ending: None,
                ended: false,
                was_connected: false,
                stopped: false,
                last_error: None,
                open_failure: None,
                opened: false,
                held: false,
            })
        })
    }

    /// Settles command `id` with `undefined`.
    pub(crate) fn done(&mut self, id: u32) {
        self.output.settle(id, Outcome::Done);
    }

    /// Rejects command `id`.
    pub(crate) fn reject(&mut self, id: u32, e: &Error) {
        self.output.settle(id, Outcome::Failed(e));
    }

    /// Ends for good once nothing is in flight (or the connection is down).
    pub(crate) fn end_when_idle(&mut self, finish: Finish<O>) {
        self.ending = Some(finish);
    }

    pub(crate) fn mark_ended(&mut self) {
        // The DISCONNECT goes out even if the socket is backed up.
        self.transmit(true);
        self.ended = true;
        self.socket = None;
        self.timer = None;
        self.commands.end(&mut self.output);
        // `close` (from the session's Disconnected) comes before `end`.
        while let Some(event) = self.session.poll_event() {
            self.on_event(event);
        }
        self.output.ended();
    }

    /// Without a store nothing waits for one (`store.rs` has the other).
    #[cfg(not(feature = "store"))]
    fn awaits_store(&self) -> bool {
        false
    }

    /// Whether the session gave up: commands fail at once.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Sends what the session wrote (now, or after a command once the
    /// calling task is done), hands its events on and re-arms the timer.
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
            if let Some(finish) = self.ending.take() {
                let m = self.session.metrics();
                let idle = m.in_flight == 0 && m.queued == 0;
                if (idle || !self.session.is_connected()) && !self.awaits_store() {
                    finish(self);
                    continue;
                }
                self.ending = Some(finish);
            }
            if !any {
                break;
            }
        }
        #[cfg(feature = "store")]
        self.write_journal();
        self.arm_timer();
    }

    /// Hands the session's bytes to the socket. The socket is asked
    /// nothing unless there are bytes: a received frame that needs no
    /// answer costs no call out of the wasm.
    fn transmit(&mut self, force: bool) {
        self.held = false;
        let Some(socket) = self.socket.as_ref().filter(|_| self.opened) else {
            return;
        };
        if !self.session.wants_transmit() {
            return;
        }
        // Backpressure: leave bytes in the session until the browser catches up.
        if !force && socket.buffered() > HIGH_WATER {
            self.held = true;
            return;
        }
        if !self.session.poll_transmit(&mut self.tx) {
            return;
        }
        let sent = socket.send(&self.tx);
        self.tx.clear();
        if sent.is_ok() {
            self.commands.flushed(&mut self.output);
        }
    }

    /// Settles commands from outcome events; the rest go to the output,
    /// with what the connection's state asks of the driver.
    fn on_event(&mut self, event: Event) {
        let Some(event) = self.commands.settle(event, &mut self.output) else {
            return;
        };
        match &event {
            Event::Connected(_) => self.was_connected = true,
            Event::Disconnected(_) => self.socket = None,
            _ => {}
        }
        self.output.event(&self.session, &event);
        match event {
            Event::Disconnected(reason) => self.on_disconnected(&reason),
            // No reconnect is coming: nothing waiting will ever complete.
            Event::GaveUp if !self.ended => {
                self.stopped = true;
                let e = self.last_error.take();
                let e = e.unwrap_or_else(|| Error::new(Failure::Stopped));
                self.commands.fail_all(&e, &mut self.output);
            }
            Event::Reconnect { .. } => self.open(),
            _ => {}
        }
    }

    fn on_disconnected(&mut self, reason: &ConnectionError) {
        // Our own `end()` is neither an error nor `offline`.
        let lost = !matches!(reason, ConnectionError::Disconnected);
        let failure = self.open_failure.take();
        if lost {
            // A transport that never opened says why, rather than just "lost".
            let error = match (reason, failure) {
                (ConnectionError::ConnectionLost, Some(f)) => f,
                _ => Error::from(reason),
            };
            self.output.error(&error);
            self.last_error = Some(error);
        }
        let offline = core::mem::take(&mut self.was_connected) && lost;
        self.output.closed(offline);
    }
}
