//! Helpers for the tests of the Rust API: deadlines on futures and
//! streams, and the broker's `$control` topics.
#![allow(dead_code)]

use std::future::Future;

use futures_util::future::{select, Either};
use futures_util::{Stream, StreamExt};
use gloo_timers::future::TimeoutFuture;
use wasmqtt::{Client, Event, Message, Options, PublishOptions, QoS};

use crate::support::WAIT_MS;

/// `f`'s output, failing the test if it takes longer than `WAIT_MS`.
pub async fn deadline<T>(what: &str, f: impl Future<Output = T>) -> T {
    let f = std::pin::pin!(f);
    match select(f, TimeoutFuture::new(WAIT_MS)).await {
        Either::Left((v, _)) => v,
        Either::Right(_) => panic!("timed out waiting for {what}"),
    }
}

/// The next item of a stream, within `WAIT_MS`; panics if it ended.
pub async fn next<S: Stream + Unpin>(what: &str, s: &mut S) -> S::Item {
    deadline(what, s.next())
        .await
        .unwrap_or_else(|| panic!("{what}: the stream ended"))
}

/// Whether a stream stays quiet for `ms` (its next item, if not).
pub async fn quiet<S: Stream + Unpin>(s: &mut S, ms: u32) -> Option<S::Item> {
    match select(s.next(), TimeoutFuture::new(ms)).await {
        Either::Left((item, _)) => item,
        Either::Right(_) => None,
    }
}

/// The next connection event.
pub async fn event(events: &mut wasmqtt::Events) -> Event {
    next("a connection event", events).await
}

/// Connects, failing the test if it cannot.
pub async fn connect(url: &str, options: Options) -> Client {
    deadline("connect", Client::connect(url, options))
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// Publishes `$control/{verb}/{client}` to wasmqtt-broker at QoS 1.
pub async fn control(c: &Client, verb: &str, client: &str) {
    control_with(c, verb, client, b"").await;
}

/// `control` with a payload (the bytes of `raw`, the reason of `disconnect`).
pub async fn control_with(c: &Client, verb: &str, client: &str, payload: &[u8]) {
    deadline(
        "a control command",
        c.publish(
            &format!("$control/{verb}/{client}"),
            payload.to_vec(),
            PublishOptions::new().qos(QoS::AtLeastOnce),
        ),
    )
    .await
    .expect("control command accepted");
}

/// Backoff that retries within `ms`.
pub fn soon(ms: u64) -> wasmqtt::Backoff {
    wasmqtt::Backoff {
        initial_delay: ms,
        max_delay: ms,
        ..wasmqtt::Backoff::default()
    }
}

/// Waits for the `Disconnected` event and gives its reason.
pub async fn disconnected(events: &mut wasmqtt::Events) -> wasmqtt::Error {
    match event(events).await {
        Event::Disconnected { reason } => reason,
        e => panic!("expected Disconnected, got {e:?}"),
    }
}

/// The next message of a subscription or of `messages()`.
pub async fn message<S: Stream<Item = Message> + Unpin>(s: &mut S) -> Message {
    next("a message", s).await
}
