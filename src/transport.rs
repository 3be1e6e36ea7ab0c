//! Opening the transport: fresh credentials first when a provider was
//! given, then a WebSocket whose events drive the session.

use alloc::string::String;
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::driver::{with_driver, Driver};
use crate::error::{Error, Failure};
use crate::js::{call_later, js_string, now, when_settled};
use crate::output::Output;
use crate::socket::{Socket, SocketEvents};

/// Functions the JS wrapper hands in for the transport.
pub(crate) struct Hooks {
    /// `async () => [username, password]`, called before each connect.
    pub(crate) credentials: Option<Function>,
    /// `() => WebSocket` for the URL: the subprotocol, the implementation
    /// and the handlers that call `WasmClient::{opened, receive, closed}`;
    /// `(ws) => {}` detaches them and closes `ws`.
    pub(crate) socket: Function,
}

/// What a `credentials` provider resolved with; absent fields stay as they were.
struct Credentials {
    username: Option<String>,
    password: Option<bytes::Bytes>,
}

impl Credentials {
    /// `[username, password]`, as `js/bridge.js` hands them over.
    fn read(value: &JsValue) -> Self {
        let pair = value.unchecked_ref::<js_sys::Array>();
        let password = pair.get(1);
        let password = match password.as_string() {
            Some(s) => Some(bytes::Bytes::from(s.into_bytes())),
            None => password
                .dyn_ref::<Uint8Array>()
                .map(|a| bytes::Bytes::from(a.to_vec())),
        };
        Self {
            username: pair.get(0).as_string(),
            password,
        }
    }
}

impl<O: Output + 'static> SocketEvents for Driver<O> {
    fn on_open(&mut self) {
        self.opened = true;
        if let Err(e) = self.session.connect(now()) {
            self.commands.fail_all(&Error::from(e), &mut self.output);
        }
    }

    fn on_close(&mut self) {
        if !self.opened {
            // Refused, wrong path, subprotocol not accepted: browsers do
            // not say which, so the error names the URL.
            self.open_failure = Some(Error::with_text(
                Failure::ConnectFailed,
                js_string(&self.url),
            ));
        }
        self.socket = None;
        self.session.handle_connection_lost(now());
    }
}

impl<O: Output + 'static> Driver<O> {
    /// Opens a transport, asking for fresh credentials first when a provider was given.
    pub(crate) fn open(&mut self) {
        let Some(provider) = self.hooks.credentials.clone() else {
            return self.open_socket();
        };
        let me = self.me.clone();
        // Called on a later microtask, never while the driver is borrowed.
        when_settled(&call_later(&provider), move |result| {
            // Read before borrowing the driver: reading runs JS (getters).
            let result = result.map(|creds| Credentials::read(&creds));
            let Some(shared) = me.upgrade() else { return };
            with_driver(&shared, |d| {
                if d.ended {
                    return;
                }
                match result {
                    Ok(creds) => {
                        d.apply_credentials(creds);
                        d.open_socket();
                    }
                    Err(e) => {
                        d.open_failure =
                            Some(Error::with_text(Failure::CredentialsFailed, js_string(&e)));
                        d.session.handle_connection_lost(now());
                    }
                }
            });
        });
    }

    fn apply_credentials(&mut self, creds: Credentials) {
        let options = self.session.options_mut();
        if let Some(user) = creds.username {
            options.username = Some(user);
        }
        if let Some(password) = creds.password {
            options.password = Some(password);
        }
    }

    fn open_socket(&mut self) {
        self.opened = false;
        match Socket::open(&self.hooks.socket) {
            Ok(socket) => self.socket = Some(socket),
            Err(e) => {
                self.open_failure = Some(Error::with_text(Failure::SocketFailed, js_string(&e)));
                self.session.handle_connection_lost(now());
            }
        }
    }

    /// Closes the connection as lost: the page is being frozen.
    pub(crate) fn freeze(&mut self) {
        if self.socket.is_some() {
            self.on_close();
        }
    }
}
