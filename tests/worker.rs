//! The Rust API in a dedicated Web Worker (no `window`, no `document`):
//! connect, subscribe, publish, receive and end against wasmqtt-broker.
//! `scripts/browser-test.sh` starts the broker and bakes its URL in.
#![cfg(target_arch = "wasm32")]

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use wasmqtt::{Client, Event, Options, PublishOptions, QoS, ReasonCode, SubscribeOptions};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// `f`'s output, failing the test after 5 s.
async fn deadline<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match select(Box::pin(f), TimeoutFuture::new(5_000)).await {
        Either::Left((v, _)) => v,
        Either::Right(_) => panic!("timed out waiting for {what}"),
    }
}

#[wasm_bindgen_test]
async fn the_rust_api_works_in_a_dedicated_worker() {
    assert!(
        js_sys::global().is_instance_of::<web_sys::WorkerGlobalScope>(),
        "runs in a worker"
    );
    let url = option_env!("WASMQTT_BROKER_WS")
        .unwrap_or_else(|| panic!("WASMQTT_BROKER_WS is not set: run scripts/browser-test.sh"));
    let topic = format!("worker/{}", (js_sys::Math::random() * 1e9) as u64);
    let c = deadline(
        "connect",
        Client::connect(url, Options::new().keep_alive(5)),
    )
    .await
    .expect("connected");
    let mut events = c.events();
    let mut sub = deadline(
        "subscribe",
        c.subscribe(&topic, SubscribeOptions::new().qos(QoS::AtLeastOnce)),
    )
    .await
    .expect("subscribed");
    let code = deadline(
        "publish",
        c.publish(
            &topic,
            "from a worker",
            PublishOptions::new().qos(QoS::AtLeastOnce),
        ),
    )
    .await;
    assert_eq!(code, Ok(ReasonCode::Success));
    let m = deadline("a message", sub.next()).await.expect("a message");
    assert_eq!(m.text(), Some("from a worker"));
    deadline("end", c.end()).await.expect("ended");
    assert_eq!(
        deadline("an event", events.next()).await,
        Some(Event::Ended)
    );
}
