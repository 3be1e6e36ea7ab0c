//! The streams the Rust API hands out.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::mpsc::UnboundedReceiver;
use futures_core::Stream;
use wasmqtt_codec::ReasonCode;

use super::client::Client;
use super::message::{Event, Message};

/// The messages of one subscription, a [`Stream`]; dropping it
/// unsubscribes (unless another subscription has the same filter).
/// Messages wait in it until read.
#[must_use = "dropping a subscription unsubscribes"]
pub struct Subscription {
    client: Client,
    filter: String,
    key: u64,
    granted: ReasonCode,
    rx: UnboundedReceiver<Message>,
    /// Dropping sends UNSUBSCRIBE (not after `unsubscribe()`, which sent one).
    unsubscribe_on_drop: bool,
}

impl Subscription {
    pub(crate) fn new(
        client: Client,
        filter: String,
        key: u64,
        rx: UnboundedReceiver<Message>,
    ) -> Self {
        Self {
            client,
            filter,
            key,
            granted: ReasonCode::Success,
            rx,
            unsubscribe_on_drop: true,
        }
    }

    pub(crate) fn granted(mut self, code: ReasonCode) -> Self {
        self.granted = code;
        self
    }

    /// The topic filter.
    #[must_use]
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// What SUBACK granted: `GrantedQoS0`, `GrantedQoS1` or `GrantedQoS2`.
    #[must_use]
    pub fn granted_qos(&self) -> ReasonCode {
        self.granted
    }

    /// Unsubscribes and waits for UNSUBACK's reason code.
    pub async fn unsubscribe(mut self) -> Result<ReasonCode, super::Error> {
        let client = self.client.clone();
        let filter = std::mem::take(&mut self.filter);
        // Dropping takes only the route out; the UNSUBSCRIBE is the one below.
        self.unsubscribe_on_drop = false;
        let last = !client.release(self.key, &filter, false);
        drop(self);
        if !last {
            return Ok(ReasonCode::Success);
        }
        client.unsubscribe(&filter).await
    }
}

impl Stream for Subscription {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.client
            .release(self.key, &self.filter, self.unsubscribe_on_drop);
    }
}

/// Every message the client receives, a [`Stream`]; from [`Client::messages`].
pub struct Messages(UnboundedReceiver<Message>);

impl Messages {
    pub(crate) fn new(rx: UnboundedReceiver<Message>) -> Self {
        Self(rx)
    }
}

impl Stream for Messages {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}

/// The connection's events, a [`Stream`]; from [`Client::events`].
pub struct Events(UnboundedReceiver<Event>);

impl Events {
    pub(crate) fn new(rx: UnboundedReceiver<Event>) -> Self {
        Self(rx)
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}
