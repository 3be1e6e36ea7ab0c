//! What the Rust API keeps between calls: the callers waiting for their
//! command, the subscriptions' streams and the event streams. The driver
//! reports into it as its [`Output`]; it only routes.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::{mpsc, oneshot};
use wasmqtt_codec::ReasonCode;
use wasmqtt_session::{Event as SessionEvent, Session};

use super::error::Error;
use super::message::{Event, Message};
use crate::error::Error as Failed;
use crate::output::{Outcome, Output};

/// How a command settled.
pub(crate) enum Settled {
    Done,
    Code(ReasonCode),
    Codes(Vec<ReasonCode>),
    Response(Box<Message>),
}

pub(crate) type Reply = oneshot::Sender<Result<Settled, Error>>;

/// A subscription's stream, by the filter it was made for.
struct Route {
    filter: String,
    key: u64,
    tx: mpsc::UnboundedSender<Message>,
}

#[derive(Default)]
pub(crate) struct State {
    next_id: u32,
    pending: Vec<(u32, Reply)>,
    routes: Vec<Route>,
    all: Vec<mpsc::UnboundedSender<Message>>,
    events: Vec<mpsc::UnboundedSender<Event>>,
    /// `Client::connect` waiting for the first CONNACK or error.
    first: Option<oneshot::Sender<Result<(), Error>>>,
    /// Why the connection was lost, for the `Disconnected` event.
    lost: Option<Error>,
    pub(crate) ended: bool,
}

pub(crate) type Shared = Rc<RefCell<State>>;

impl State {
    /// A new command id; with `reply`, what waits for it.
    pub(crate) fn id(&mut self, reply: Option<Reply>) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        if let Some(reply) = reply {
            self.pending.push((self.next_id, reply));
        }
        self.next_id
    }

    pub(crate) fn wait_connected(&mut self) -> oneshot::Receiver<Result<(), Error>> {
        let (tx, rx) = oneshot::channel();
        self.first = Some(tx);
        rx
    }

    /// A stream of the messages for `filter`; the key takes it out again.
    pub(crate) fn route(&mut self, filter: &str) -> (u64, mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = mpsc::unbounded();
        let key = u64::from(self.id(None));
        self.routes.push(Route {
            filter: filter.to_owned(),
            key,
            tx,
        });
        (key, rx)
    }

    /// Takes route `key` out; whether another still needs its filter.
    pub(crate) fn unroute(&mut self, key: u64, filter: &str) -> bool {
        self.routes.retain(|r| r.key != key);
        self.routes.iter().any(|r| r.filter == filter)
    }

    pub(crate) fn messages(&mut self) -> mpsc::UnboundedReceiver<Message> {
        let (tx, rx) = mpsc::unbounded();
        if !self.ended {
            self.all.push(tx);
        }
        rx
    }

    pub(crate) fn events(&mut self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded();
        if !self.ended {
            self.events.push(tx);
        }
        rx
    }

    fn emit(&mut self, event: Event) {
        // A dropped stream's sender fails: it goes.
        self.events
            .retain(|tx| tx.unbounded_send(event.clone()).is_ok());
    }
}

/// The driver's output for one Rust client.
pub(crate) struct Tap(pub(crate) Shared);

impl Output for Tap {
    /// Streams and replies wake their tasks, which run later: nothing is
    /// left to hand over once the driver is free.
    type Batch = ();

    fn take(&mut self) -> Option<()> {
        None
    }

    fn hand_over((): &()) {}

    fn give_back(&mut self, (): ()) {}

    /// The Rust API offers no store: a journal only comes after a store
    /// restored the session, which never happens here.
    #[cfg(feature = "store")]
    fn journal(&mut self, _journal: &[u8]) {}

    fn event(&mut self, session: &Session, event: &SessionEvent) {
        let mut s = self.0.borrow_mut();
        match event {
            SessionEvent::Message(publish) => {
                let m = Message::from(publish);
                // The session's dispatch rule: which subscriptions it is for.
                for entry in session.matching_subscriptions(publish) {
                    let filter = entry.filter.as_str();
                    // A route whose stream was dropped stays until
                    // `Subscription`'s drop takes it out; sending just fails.
                    for r in s.routes.iter().filter(|r| r.filter == filter) {
                        let _ = r.tx.unbounded_send(m.clone());
                    }
                }
                s.all.retain(|tx| tx.unbounded_send(m.clone()).is_ok());
            }
            SessionEvent::Connected(connack) => {
                s.lost = None;
                if let Some(first) = s.first.take() {
                    let _ = first.send(Ok(()));
                }
                s.emit(Event::Connected {
                    session_present: connack.session_present,
                    server: session.server().clone(),
                });
            }
            SessionEvent::ReconnectScheduled { attempt, delay } => s.emit(Event::Reconnecting {
                attempt: *attempt,
                delay_ms: *delay,
            }),
            SessionEvent::SubscriptionLost {
                filter,
                reason_code,
            } => s.emit(Event::SubscriptionLost {
                filter: filter.clone(),
                reason_code: *reason_code,
            }),
            _ => {}
        }
    }

    fn settle(&mut self, id: u32, outcome: Outcome) {
        let mut s = self.0.borrow_mut();
        let Some(i) = s.pending.iter().position(|(p, _)| *p == id) else {
            return;
        };
        let (_, reply) = s.pending.swap_remove(i);
        let _ = reply.send(match outcome {
            Outcome::Done => Ok(Settled::Done),
            Outcome::Code(c) => Ok(Settled::Code(c)),
            Outcome::Codes(c) => Ok(Settled::Codes(c.to_vec())),
            Outcome::Response(m) => Ok(Settled::Response(Box::new(Message::from(m)))),
            Outcome::Failed(e) => Err(Error::from(e)),
        });
    }

    fn error(&mut self, e: &Failed) {
        let mut s = self.0.borrow_mut();
        let e = Error::from(e);
        if let Some(first) = s.first.take() {
            let _ = first.send(Err(e.clone()));
        }
        s.lost = Some(e);
    }

    fn closed(&mut self, _offline: bool) {
        let mut s = self.0.borrow_mut();
        if let Some(reason) = s.lost.take() {
            s.emit(Event::Disconnected { reason });
        }
    }

    fn ended(&mut self) {
        let mut s = self.0.borrow_mut();
        s.ended = true;
        if let Some(first) = s.first.take() {
            let _ = first.send(Err(Error::Ended));
        }
        s.emit(Event::Ended);
        // Every stream ends.
        s.events.clear();
        s.all.clear();
        s.routes.clear();
        for (_, reply) in std::mem::take(&mut s.pending) {
            let _ = reply.send(Err(Error::Ended));
        }
    }
}
