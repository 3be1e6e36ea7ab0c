//! The JS façade's [`Output`]: each turn's outputs as the records of
//! `events.rs`, handed to `js/bridge.js` in one call.

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::prelude::*;
use wasmqtt_codec::{Properties, Publish};
use wasmqtt_session::{ConnectionError, Event, Session};

use crate::error::{Error, Failure};
use crate::events::{Kind, Out, DUP, IN_FRAME, PROPERTIES, RETAIN, TOPIC};
use crate::output::{Outcome, Output};
use crate::topics::Topics;

pub(crate) struct Records {
    out: Out,
    /// Takes the records of one turn.
    events: Events,
    /// The topics JS keeps, by slot.
    topics: Topics,
    /// Filters JS has been told, by index.
    filter_names: Vec<String>,
    /// Where JS writes each received frame (`WasmClient::inbox`).
    inbox: Vec<u8>,
    /// The length of the frame in `inbox` that this turn received, until
    /// one message's payload has been found at its end.
    frame: usize,
    /// `WasmClient::metrics`, where JS reads them.
    pub(crate) metrics: [f64; 10],
    /// Where this turn's journal records end (they come first).
    #[cfg(feature = "store")]
    journal_end: usize,
}

impl Records {
    pub(crate) fn new(events: Events) -> Self {
        Self {
            out: Out::default(),
            events,
            topics: Topics::new(),
            filter_names: Vec::new(),
            inbox: Vec::new(),
            frame: 0,
            metrics: [0.0; 10],
            #[cfg(feature = "store")]
            journal_end: 0,
        }
    }

    /// Room for a frame of `len` bytes, which JS writes in place: its
    /// address, valid until a larger frame asks for more.
    pub(crate) fn inbox(&mut self, len: usize) -> *mut u8 {
        if self.inbox.len() < len {
            self.inbox.resize(len, 0);
        }
        self.inbox.as_mut_ptr()
    }

    /// The `len` bytes JS wrote to the inbox: the frame this turn received.
    pub(crate) fn frame(&mut self, len: usize) -> &[u8] {
        self.frame = len.min(self.inbox.len());
        &self.inbox[..self.frame]
    }

    /// Properties as on the wire (Property Length first): the bytes the
    /// server sent (JS skips a Topic Alias the session resolved). Only
    /// received properties are written, so none are left out: an MQTT
    /// 3.1.1 packet has none, an empty list.
    fn properties(&mut self, p: &Properties) {
        debug_assert!(p.received.bytes().is_some() || p.is_empty());
        match p.received.bytes() {
            Some(received) => self.out.0.extend_from_slice(received),
            None => {
                self.out.u8(0);
            }
        }
    }

    /// A `MESSAGE` body (see `events.rs`).
    fn message(&mut self, p: &Publish) {
        let topic = p.topic.as_str();
        let mut flags = p.qos as u8;
        if p.retain {
            flags |= RETAIN;
        }
        if p.dup {
            flags |= DUP;
        }
        let (slot, new_topic) = self.topics.slot(topic);
        if new_topic {
            flags |= TOPIC;
        }
        let has_properties = !p.properties.is_empty();
        if has_properties {
            flags |= PROPERTIES;
        }
        // With one packet per frame (mosquitto, EMQX, HiveMQ) the payload
        // ends the frame: JS views it in the frame it holds, no copy. The
        // bytes are compared, so the view is right whatever the decoder
        // did; one message per frame, so no two payloads share memory.
        let in_frame = !p.payload.is_empty() && self.inbox[..self.frame].ends_with(&p.payload);
        if in_frame {
            flags |= IN_FRAME;
            self.frame = 0;
        }
        self.out.u8(flags).u8(slot);
        if new_topic {
            self.out.str(topic);
        }
        if in_frame {
            self.out.u32(p.payload.len() as u32);
        } else {
            self.out.bytes(&p.payload);
        }
        if has_properties {
            self.properties(&p.properties);
        }
    }

    /// The session's subscriptions for `message`: a u32 count, then each
    /// as a u32 index into JS's filter table; a filter JS has not been
    /// told yet (its index is the table's length) is followed by its name.
    fn filters(&mut self, session: &Session, message: &Publish) {
        let count_at = self.out.0.len();
        self.out.u32(0);
        let mut count: u32 = 0;
        for s in session.matching_subscriptions(message) {
            let name = s.filter.as_str();
            let known = self.filter_names.iter().position(|n| n == name);
            let index = known.unwrap_or(self.filter_names.len());
            self.out.u32(index as u32);
            if known.is_none() {
                self.out.str(name);
                self.filter_names.push(name.into());
            }
            count += 1;
        }
        if let Some(at) = self.out.0.get_mut(count_at..count_at + 4) {
            at.copy_from_slice(&count.to_le_bytes());
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// `events(at, len)`, from `js/bridge.js`.
    pub(crate) type Events;
    /// Tells JS where the records are in wasm memory: it reads them in
    /// place, all of them before it runs any user code, which may call back
    /// in (and then writes to another buffer: see `take`).
    #[wasm_bindgen(method, js_name = call)]
    fn deliver(this: &Events, this_arg: &JsValue, at: usize, len: usize);
}

impl Output for Records {
    type Batch = (Events, Vec<u8>);

    fn take(&mut self) -> Option<Self::Batch> {
        // JS views a payload in the frame only while that frame is current.
        self.frame = 0;
        #[cfg(feature = "store")]
        {
            self.journal_end = 0;
        }
        if self.out.0.is_empty() {
            return None;
        }
        let records = core::mem::take(&mut self.out.0);
        Some((self.events.clone().unchecked_into(), records))
    }

    fn hand_over((events, records): &Self::Batch) {
        events.deliver(&JsValue::NULL, records.as_ptr() as usize, records.len());
    }

    fn give_back(&mut self, (_, mut records): Self::Batch) {
        // Kept unless a call from JS meanwhile wrote (and handed over) a larger one.
        records.clear();
        if records.capacity() > self.out.0.capacity() {
            self.out.0 = records;
        }
    }

    fn event(&mut self, session: &Session, event: &Event) {
        match event {
            Event::Connected(connack) => {
                self.out
                    .kind(Kind::Connect)
                    .u8(connack.reason_code.into())
                    .u8(connack.session_present.into());
                self.properties(&connack.properties);
            }
            Event::Message(publish) => {
                self.out.kind(Kind::Message);
                self.message(publish);
                self.filters(session, publish);
            }
            Event::SubscriptionLost {
                filter,
                reason_code,
            } => {
                let mut e = Error::with_text(Failure::SubscriptionLost, filter.clone());
                e.reason_code = Some(u8::from(*reason_code));
                self.error(&e);
            }
            Event::Auth(auth) => {
                self.out.kind(Kind::Auth).u8(auth.reason_code.into());
                self.properties(&auth.properties);
            }
            Event::Disconnected(ConnectionError::ServerDisconnected {
                reason_code,
                reason_string,
                server_reference,
            }) => {
                self.out.kind(Kind::Disconnect).u8((*reason_code).into());
                for text in [reason_string, server_reference] {
                    match text {
                        Some(text) => self.out.u8(1).str(text),
                        None => self.out.u8(0),
                    };
                }
            }
            Event::ReconnectScheduled { attempt, delay } => {
                self.out
                    .kind(Kind::Reconnecting)
                    .u32(*attempt)
                    .u32(u32::try_from(*delay).unwrap_or(u32::MAX));
            }
            Event::Reconnect { attempt } => {
                self.out.kind(Kind::Reconnect).u32(*attempt);
            }
            _ => {}
        }
    }

    fn settle(&mut self, id: u32, outcome: Outcome) {
        match outcome {
            Outcome::Done => {
                self.out.kind(Kind::Done).u32(id);
            }
            Outcome::Code(code) => {
                self.out.kind(Kind::Code).u32(id).u8(code.into());
            }
            Outcome::Codes(codes) => {
                self.out.kind(Kind::Codes).u32(id).u32(codes.len() as u32);
                for &code in codes {
                    self.out.u8(code.into());
                }
            }
            Outcome::Response(message) => {
                self.out.kind(Kind::Response).u32(id);
                self.message(message);
            }
            Outcome::Failed(e) => {
                self.out.kind(Kind::Reject).u32(id);
                e.write(&mut self.out);
            }
        }
    }

    fn error(&mut self, e: &Error) {
        self.out.kind(Kind::Error);
        e.write(&mut self.out);
    }

    fn closed(&mut self, offline: bool) {
        self.out.kind(Kind::Close);
        if offline {
            self.out.kind(Kind::Offline);
        }
    }

    fn ended(&mut self) {
        self.out.kind(Kind::End);
    }

    #[cfg(feature = "store")]
    fn journal(&mut self, journal: &[u8]) {
        // Ahead of the turn's other records (after its earlier journal):
        // JS acts on records as it reads them, and the store must have the
        // journal before any listener runs.
        let mut record = Out::default();
        record.kind(Kind::Store).bytes(journal);
        let at = self.journal_end;
        self.journal_end += record.0.len();
        self.out.0.splice(at..at, record.0);
    }
}
