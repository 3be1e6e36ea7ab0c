//! Small browser helpers without `gloo-timers` and `wasm-bindgen-futures`:
//! a timeout that is cleared when dropped, and a callback for a settled
//! promise. Both use `Closure<dyn FnMut(JsValue)>`, the one closure type
//! the crate hands to JS, so wasm-bindgen emits one invoke shim.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

/// The one kind of callback given to JS.
pub(crate) type Callback = Closure<dyn FnMut(JsValue)>;

// `setTimeout`/`clearTimeout` that keep their deadlines in a hidden page.
// Ids are numbers (u32 here: in the glue, every call converts one, so it
// never hands the wasm the whole module to import from).
// The npm build imports them from the package's own file; a Rust app
// (feature `rust-api`) gets the file as a wasm-bindgen snippet.
#[cfg_attr(
    not(feature = "rust-api"),
    wasm_bindgen(raw_module = "../js/timers.js")
)]
#[cfg_attr(feature = "rust-api", wasm_bindgen(module = "/js/timers.js"))]
extern "C" {
    #[wasm_bindgen(js_name = setTimer)]
    fn set_timeout(handler: &Callback, ms: u32) -> u32;
    #[wasm_bindgen(js_name = clearTimer)]
    fn clear_timeout(id: u32);
}

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`, on pages and in workers alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    /// `String(value)`: an exception's name and message, whatever was thrown.
    #[wasm_bindgen(js_name = String)]
    pub(crate) fn js_string(value: &JsValue) -> String;
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &Callback);
    /// A promise, to call `then` with a plain function.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_call(this: &Thenable, f: &Function) -> Promise;
}

/// The time the session runs on: milliseconds since the page started.
pub(crate) fn now() -> wasmqtt_session::Millis {
    performance_now() as wasmqtt_session::Millis
}

/// `Promise.resolve().then(f)`: calls `f` on a later microtask and
/// settles as the promise (or value, or exception) it gives.
pub(crate) fn call_later(f: &Function) -> Promise {
    Promise::resolve(&JsValue::UNDEFINED)
        .unchecked_ref::<Thenable>()
        .then_call(f)
}

/// Calls `f` once the current task's code has run (a microtask). The
/// callback owns itself until then: a queued microtask always runs.
pub(crate) fn microtask(f: impl FnOnce() + 'static) {
    let slot: Rc<RefCell<Option<Callback>>> = Rc::default();
    let own = slot.clone();
    let mut f = Some(f);
    let callback = Callback::new(move |_| {
        // wasm-bindgen frees a closure dropped while it runs once it returns.
        drop(own.borrow_mut().take());
        if let Some(f) = f.take() {
            f();
        }
    });
    queue_microtask(&callback);
    *slot.borrow_mut() = Some(callback);
}

/// A scheduled call of `f`, cancelled when dropped.
pub(crate) struct Timeout {
    id: u32,
    _handler: Callback,
}

impl Timeout {
    pub(crate) fn new(ms: u32, mut f: impl FnMut() + 'static) -> Self {
        let handler = Callback::new(move |_| f());
        Self {
            id: set_timeout(&handler, ms),
            _handler: handler,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(self.id);
    }
}

type Settled = dyn FnOnce(Result<JsValue, JsValue>);

/// What both callbacks share: `f` until the promise settles, and the
/// callbacks themselves, dropped once it has.
struct Waiter {
    f: Option<Box<Settled>>,
    callbacks: Option<(Callback, Callback)>,
}

/// Calls `f` once `promise` settles, on a later microtask.
pub(crate) fn when_settled(promise: &Promise, f: impl FnOnce(Result<JsValue, JsValue>) + 'static) {
    let waiter = Rc::new(RefCell::new(Waiter {
        f: Some(Box::new(f)),
        callbacks: None,
    }));
    let callback = |ok: bool| {
        let waiter = waiter.clone();
        Callback::new(move |v: JsValue| {
            let (f, callbacks) = {
                let mut w = waiter.borrow_mut();
                (w.f.take(), w.callbacks.take())
            };
            // wasm-bindgen frees a closure dropped while it runs once it returns.
            drop(callbacks);
            if let Some(f) = f {
                f(if ok { Ok(v) } else { Err(v) });
            }
        })
    };
    let (resolved, rejected) = (callback(true), callback(false));
    let _ = promise.then2(&resolved, &rejected);
    waiter.borrow_mut().callbacks = Some((resolved, rejected));
}
