//! The page in headless Chromium against wasmqtt-broker (its URL baked in
//! by scripts/browser-test.sh): what is published shows up in the list.
#![cfg(target_arch = "wasm32")]

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;
use wasmqtt::{Client, Options, PublishOptions, QoS};

wasm_bindgen_test_configure!(run_in_browser);

fn broker() -> String {
    option_env!("WASMQTT_BROKER_WS")
        .unwrap_or_else(|| panic!("WASMQTT_BROKER_WS is not set: run scripts/browser-test.sh"))
        .to_owned()
}

/// `f`'s output, or `None` if it takes more than 5 s.
async fn within<T>(f: impl std::future::Future<Output = T>) -> Option<T> {
    match select(Box::pin(f), TimeoutFuture::new(5_000)).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

/// The page's two elements, fresh.
fn page() -> web_sys::Document {
    let document = web_sys::window().unwrap().document().unwrap();
    // Beside the test runner's own output, which must stay.
    for (id, tag) in [("status", "p"), ("messages", "ul")] {
        if let Some(old) = document.get_element_by_id(id) {
            old.remove();
        }
        let element = document.create_element(tag).unwrap();
        element.set_id(id);
        document.body().unwrap().append_child(&element).unwrap();
    }
    document
}

/// The text of every list item, once there are `n` (within 5 s).
async fn items(document: &web_sys::Document, n: u32) -> Vec<String> {
    for _ in 0..500 {
        let list = document.get_element_by_id("messages").unwrap();
        if list.child_element_count() >= n {
            let mut texts = Vec::new();
            let mut item = list.first_element_child();
            while let Some(li) = item {
                texts.push(li.text_content().unwrap_or_default());
                item = li.next_element_sibling();
            }
            return texts;
        }
        TimeoutFuture::new(10).await;
    }
    panic!("fewer than {n} messages shown");
}

#[wasm_bindgen_test]
async fn published_messages_show_up_in_the_list() {
    let document = page();
    let base = format!("example/{}", (js_sys::Math::random() * 1e9) as u64);
    let started = within(example_page::start(broker(), format!("{base}/#"))).await;
    assert!(started.expect("start finishes").is_ok(), "start failed");
    let status = document.get_element_by_id("status").unwrap();
    assert_eq!(status.text_content().as_deref(), Some("connected"));

    let publisher = Client::connect(&broker(), Options::new()).await.unwrap();
    let qos1 = PublishOptions::new().qos(QoS::AtLeastOnce);
    publisher
        .publish(&format!("{base}/temp"), "21.5", qos1.clone())
        .await
        .unwrap();
    publisher
        .publish(&format!("{base}/raw"), vec![0xff, 0], qos1)
        .await
        .unwrap();
    assert_eq!(
        items(&document, 2).await,
        [format!("{base}/temp: 21.5"), format!("{base}/raw: 2 bytes")]
    );
    publisher.end().await.unwrap();
}

#[wasm_bindgen_test]
async fn an_unreachable_broker_is_an_error_not_a_hang() {
    page();
    // Nothing listens on port 1.
    let started = within(example_page::start(
        "ws://127.0.0.1:1/mqtt".into(),
        "#".into(),
    ))
    .await;
    assert!(started.expect("start finishes").is_err());
}
