//! `Client`: the commands, each a future settled by the driver.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use futures_channel::oneshot;
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasmqtt_codec::{Properties, Publish, ReasonCode, Subscription as Filter, TopicName};
use wasmqtt_session::{Metrics, ServerLimits, Session};

use super::error::{topic, Error};
use super::listener::{Settled, Shared, State, Tap};
use super::options::{Options, Provider, PublishOptions, SubscribeOptions};
use super::socket::{self, Slot, SocketHook};
use super::streams::{Events, Messages, Subscription};
use crate::driver::{self, with_driver};
use crate::error::Error as Failed;
use crate::transport::Hooks;

type Driver = driver::Driver<Tap>;

/// An MQTT 5.0 connection from a page or a Web Worker, reconnecting as
/// configured. Cheap to clone: every clone is a handle on the same
/// connection, which lives until [`Client::end`] or until every handle
/// (and every [`Subscription`]) is dropped.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use wasmqtt::{Client, Options, PublishOptions, QoS, SubscribeOptions};
///
/// # async fn run() -> Result<(), wasmqtt::Error> {
/// let client = Client::connect("ws://localhost:8080/mqtt", Options::new()).await?;
/// println!("receive maximum: {}", client.server().receive_maximum);
///
/// let mut temps = client
///     .subscribe("sensors/+/temp", SubscribeOptions::new().qos(QoS::AtLeastOnce))
///     .await?;
/// client
///     .publish("sensors/1/temp", "21.5", PublishOptions::new().qos(QoS::AtLeastOnce))
///     .await?;
/// if let Some(m) = temps.next().await {
///     println!("{}: {:?}", m.topic, m.text());
/// }
/// client.end().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

/// `() => Promise<[username, password]>`.
type CredentialsHook = Closure<dyn FnMut(JsValue) -> Promise>;

struct Inner {
    driver: driver::Shared<Tap>,
    state: Shared,
    /// The functions the driver calls, alive as long as it is.
    _hooks: (SocketHook, Option<CredentialsHook>),
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle went: end at once, as `end()` with nothing to wait for.
        if self.driver.try_borrow_mut().is_ok() {
            with_driver(&self.driver, |d| d.end(0, true, disconnect));
        }
    }
}

/// A plain DISCONNECT (Normal disconnection).
fn disconnect() -> Result<(ReasonCode, Properties), Failed> {
    Ok((ReasonCode::Success, Properties::default()))
}

/// `provider` as the JS function the driver calls: a promise of
/// `[username, password]`.
fn credentials_hook(provider: Provider) -> CredentialsHook {
    Closure::new(move |_| {
        let credentials = provider();
        wasm_bindgen_futures::future_to_promise(async move {
            let c = credentials.await.map_err(|e| JsValue::from_str(&e))?;
            let user = c.username.map_or(JsValue::UNDEFINED, JsValue::from);
            let password = c
                .password
                .map_or(JsValue::UNDEFINED, |p| Uint8Array::from(&p[..]).into());
            Ok(Array::of2(&user, &password).into())
        })
    })
}

impl Client {
    /// Connects to `url` (`ws://` or `wss://`) and waits for the broker to
    /// accept: fails with the first error before that (refused, no
    /// WebSocket, a timeout) and ends the client. Afterwards it reconnects
    /// as `options` say; [`Client::events`] tells when.
    pub async fn connect(url: &str, options: Options) -> Result<Self, Error> {
        let client = Self::new(url, options)?;
        let connected = client.inner.state.borrow_mut().wait_connected();
        match connected.await {
            Ok(Ok(())) => Ok(client),
            Ok(Err(e)) => Err(e),
            Err(oneshot::Canceled) => Err(Error::Ended),
        }
    }

    /// Starts connecting to `url` and returns at once: commands wait for
    /// the connection (within the queue limit). [`Client::events`] tells
    /// when it is up.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), wasmqtt::Error> {
    /// let client = wasmqtt::Client::new("ws://localhost:8080/mqtt", wasmqtt::Options::new())?;
    /// assert!(!client.is_connected());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(url: &str, options: Options) -> Result<Self, Error> {
        options.session.check().map_err(Error::Options)?;
        let slot = Slot::default();
        let socket = socket::hook(url.to_owned(), slot.clone());
        let credentials = options.provider.map(credentials_hook);
        let hooks = Hooks {
            credentials: credentials
                .as_ref()
                .map(|c| c.as_ref().clone().unchecked_into()),
            socket: socket.as_ref().clone().unchecked_into(),
        };
        let state: Shared = Rc::new(RefCell::new(State::default()));
        let session = Session::new(options.session);
        let driver = Driver::new(session, url.into(), hooks, Tap(state.clone()));
        *slot.borrow_mut() = Rc::downgrade(&driver);
        with_driver(&driver, Driver::open);
        Ok(Self {
            inner: Rc::new(Inner {
                driver,
                state,
                _hooks: (socket, credentials),
            }),
        })
    }

    /// Runs `f` as command `id` on the driver and waits for it to settle.
    async fn command(
        &self,
        f: impl FnOnce(&mut Driver, u32) -> Result<(), Failed>,
    ) -> Result<Settled, Error> {
        let (tx, rx) = oneshot::channel();
        let id = self.inner.state.borrow_mut().id(Some(tx));
        with_driver(&self.inner.driver, |d| d.command(id, |d| f(d, id)));
        rx.await.unwrap_or(Err(Error::Ended))
    }

    fn message(
        topic_name: &str,
        payload: Bytes,
        options: PublishOptions,
    ) -> Result<Publish, Error> {
        Ok(Publish {
            qos: options.qos,
            retain: options.retain,
            topic: TopicName::new(topic_name).map_err(topic)?,
            properties: options.properties,
            payload,
            ..Publish::default()
        })
    }

    /// Publishes and waits for the broker: PUBACK (QoS 1) or PUBCOMP
    /// (QoS 2), with its reason code (`Success`, or `NoMatchingSubscribers`);
    /// at QoS 0, `Success` once the bytes are handed to the WebSocket. A
    /// reason code of 0x80 or above is [`Error::Publish`].
    ///
    /// ```no_run
    /// # async fn run(client: wasmqtt::Client) -> Result<(), wasmqtt::Error> {
    /// use wasmqtt::{PublishOptions, QoS};
    /// let code = client
    ///     .publish("lights/kitchen", "on", PublishOptions::new().qos(QoS::AtLeastOnce))
    ///     .await?;
    /// println!("PUBACK: {code:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn publish(
        &self,
        topic_name: &str,
        payload: impl Into<Bytes>,
        options: PublishOptions,
    ) -> Result<ReasonCode, Error> {
        let publish = Self::message(topic_name, payload.into(), options)?;
        match self.command(|d, id| d.publish(id, publish, None)).await? {
            Settled::Code(code) => Ok(code),
            _ => Ok(ReasonCode::Success),
        }
    }

    /// MQTT 5.0 request/response: publishes with a Response Topic and
    /// Correlation Data of its own and waits at most `timeout_ms` for the
    /// response ([`Error::RequestTimeout`]).
    ///
    /// ```no_run
    /// # async fn run(client: wasmqtt::Client) -> Result<(), wasmqtt::Error> {
    /// use wasmqtt::PublishOptions;
    /// let reply = client
    ///     .request("devices/7/commands", "status", PublishOptions::new(), 5_000)
    ///     .await?;
    /// println!("{:?}", reply.text());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request(
        &self,
        topic_name: &str,
        payload: impl Into<Bytes>,
        options: PublishOptions,
        timeout_ms: u64,
    ) -> Result<super::Message, Error> {
        let publish = Self::message(topic_name, payload.into(), options)?;
        match self
            .command(|d, id| d.publish(id, publish, Some(timeout_ms)))
            .await?
        {
            Settled::Response(m) => Ok(*m),
            _ => Err(Error::RequestTimeout),
        }
    }

    /// Subscribes to `filter` and returns its messages as a stream, once
    /// the broker granted it (SUBACK). Dropping the [`Subscription`]
    /// unsubscribes (unless another one has the same filter). A refusal
    /// is [`Error::Refused`] with the SUBACK reason code.
    ///
    /// ```no_run
    /// # async fn run(client: wasmqtt::Client) -> Result<(), wasmqtt::Error> {
    /// use futures_util::StreamExt;
    /// use wasmqtt::{QoS, SubscribeOptions};
    ///
    /// let mut alerts = client
    ///     .subscribe("alerts/#", SubscribeOptions::new().qos(QoS::AtLeastOnce))
    ///     .await?;
    /// while let Some(m) = alerts.next().await {
    ///     println!("{}: {:?}", m.topic, m.text());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe(
        &self,
        filter: &str,
        options: SubscribeOptions,
    ) -> Result<Subscription, Error> {
        // Routed before SUBSCRIBE leaves: retained messages may come
        // right behind the SUBACK, in the same frame.
        let (key, rx) = self.inner.state.borrow_mut().route(filter);
        let subscription = Subscription::new(self.clone(), filter.to_owned(), key, rx);
        let entry = Filter {
            filter: filter.into(),
            options: options.options,
        };
        let properties = options.properties;
        let settled = self
            .command(|d, id| d.subscribe(id, vec![entry], properties))
            .await;
        let code = match settled? {
            Settled::Codes(codes) => codes.first().copied(),
            _ => None,
        };
        match code {
            Some(code) if !code.is_error() => Ok(subscription.granted(code)),
            code => Err(Error::Refused {
                reason_code: code.unwrap_or(ReasonCode::UnspecifiedError),
            }),
        }
    }

    /// Unsubscribes from `filter` and waits for UNSUBACK's reason code
    /// (what dropping a [`Subscription`] does without waiting).
    pub async fn unsubscribe(&self, filter: &str) -> Result<ReasonCode, Error> {
        let filters = vec![filter.to_owned()];
        match self.command(|d, id| d.unsubscribe(id, filters)).await? {
            Settled::Codes(codes) => Ok(codes.first().copied().unwrap_or(ReasonCode::Success)),
            _ => Ok(ReasonCode::Success),
        }
    }

    /// Dropping a subscription: takes its route out and, with
    /// `unsubscribe`, unsubscribes without waiting unless another
    /// subscription has the same filter. Whether another has it.
    pub(crate) fn release(&self, key: u64, filter: &str, unsubscribe: bool) -> bool {
        let mut state = self.inner.state.borrow_mut();
        let shared = state.unroute(key, filter);
        if shared || state.ended || !unsubscribe {
            return shared;
        }
        let id = state.id(None);
        drop(state);
        let filters = vec![filter.to_owned()];
        if self.inner.driver.try_borrow_mut().is_ok() {
            with_driver(&self.inner.driver, |d| {
                d.command(id, |d| d.unsubscribe(id, filters))
            });
        }
        false
    }

    /// Every message the client receives, whichever subscription it is
    /// for. Ends when the client ends.
    #[must_use]
    pub fn messages(&self) -> Messages {
        Messages::new(self.inner.state.borrow_mut().messages())
    }

    /// The connection's events: connected, disconnected with the reason,
    /// reconnecting with the attempt and the delay. Ends when the client
    /// ends.
    #[must_use]
    pub fn events(&self) -> Events {
        Events::new(self.inner.state.borrow_mut().events())
    }

    /// Sends DISCONNECT once in-flight messages are settled and ends the
    /// client; ending twice is harmless.
    pub async fn end(&self) -> Result<(), Error> {
        self.end_with(ReasonCode::Success, false).await
    }

    /// Ends with this DISCONNECT reason code (e.g. 0x04 Disconnect with
    /// Will Message), at once with `force` or once nothing is in flight.
    pub async fn end_with(&self, reason_code: ReasonCode, force: bool) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let id = self.inner.state.borrow_mut().id(Some(tx));
        with_driver(&self.inner.driver, |d| {
            d.end(id, force, || Ok((reason_code, Properties::default())))
        });
        rx.await.unwrap_or(Ok(Settled::Done)).map(|_| ())
    }

    /// Reconnects at once if a reconnect is scheduled, and runs the
    /// client's timers now: call it when the network or the page comes
    /// back (the `online` and `visibilitychange` events), rather than
    /// waiting out the backoff.
    pub fn reconnect_now(&self) {
        if self.inner.driver.try_borrow_mut().is_ok() {
            with_driver(&self.inner.driver, Driver::wake);
        }
    }

    /// Whether the connection is up.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.inner
            .driver
            .try_borrow()
            .is_ok_and(|d| d.session.is_connected())
    }

    /// The Client Identifier, including one the broker assigned.
    #[must_use]
    pub fn client_id(&self) -> String {
        self.inner
            .driver
            .try_borrow()
            .map(|d| d.session.options().client_id.clone())
            .unwrap_or_default()
    }

    /// The broker's limits and features from the last CONNACK (Receive
    /// Maximum, Maximum Packet Size, Maximum QoS, Retain Available …).
    #[must_use]
    pub fn server(&self) -> ServerLimits {
        self.inner
            .driver
            .try_borrow()
            .map(|d| d.session.server().clone())
            .unwrap_or_default()
    }

    /// Traffic and health counters: bytes, packets and messages each way,
    /// in flight, queued, reconnects, round-trip time.
    #[must_use]
    pub fn metrics(&self) -> Metrics {
        self.inner
            .driver
            .try_borrow()
            .map(|d| d.session.metrics())
            .unwrap_or_default()
    }
}
