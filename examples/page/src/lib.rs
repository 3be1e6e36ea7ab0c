//! A minimal Rust web page on wasmqtt's Rust API: it connects to a broker,
//! subscribes to a filter, shows every message in a list and the
//! connection's state in a status line.
//!
//! `index.html` loads it (after `wasm-pack build --target web`) and calls
//! `start(url, filter)`; `tests/page.rs` runs it in headless Chromium
//! against wasmqtt-broker.

use futures_util::StreamExt;
use wasm_bindgen::prelude::*;
use wasmqtt::{Client, Event, Options, QoS, SubscribeOptions};
use web_sys::{Document, Element};

/// Connects to `url`, subscribes to `filter` and keeps the page's
/// `#status` and `#messages` up to date; resolves once subscribed, and
/// rejects with the error's message if it could not.
#[wasm_bindgen]
pub async fn start(url: String, filter: String) -> Result<(), JsError> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsError::new("no document"))?;
    let status = find(&document, "status")?;
    let list = find(&document, "messages")?;
    status.set_text_content(Some("connecting…"));

    let client = Client::connect(&url, Options::new()).await?;
    status.set_text_content(Some("connected"));
    let mut events = client.events();
    let shown = status.clone();
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(event) = events.next().await {
            shown.set_text_content(Some(&match event {
                Event::Connected { .. } => "connected".to_owned(),
                Event::Disconnected { reason } => format!("disconnected: {reason}"),
                Event::Reconnecting { attempt, delay_ms } => {
                    format!("reconnecting (attempt {attempt}) in {delay_ms} ms")
                }
                _ => continue,
            }));
        }
    });

    let mut messages = client
        .subscribe(&filter, SubscribeOptions::new().qos(QoS::AtLeastOnce))
        .await?;
    wasm_bindgen_futures::spawn_local(async move {
        // The subscription keeps the client alive while the page shows it.
        while let Some(m) = messages.next().await {
            let text = m.text().map_or_else(
                || format!("{}: {} bytes", m.topic, m.payload.len()),
                |t| format!("{}: {t}", m.topic),
            );
            if let Ok(item) = document.create_element("li") {
                item.set_text_content(Some(&text));
                let _ = list.append_child(&item);
            }
        }
    });
    Ok(())
}

fn find(document: &Document, id: &str) -> Result<Element, JsError> {
    document
        .get_element_by_id(id)
        .ok_or_else(|| JsError::new(&format!("no #{id} on the page")))
}
