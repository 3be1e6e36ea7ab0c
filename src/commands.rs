//! The commands both façades run on the driver (the JS `WasmClient` and
//! the Rust API), once their arguments are typed: which session call,
//! and what the caller's id waits for.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use wasmqtt_codec::{Properties, Publish, QoS, ReasonCode, Subscription};
use wasmqtt_session::UsageError;

use crate::driver::Driver;
use crate::error::{Error, Failure};
use crate::js::now;
use crate::output::Output;

impl<O: Output + 'static> Driver<O> {
    /// Runs command `id` unless the client ended or gave up; a failure
    /// rejects it. What it sends leaves once the calling task is done.
    pub(crate) fn command(&mut self, id: u32, f: impl FnOnce(&mut Self) -> Result<(), Error>) {
        self.defer = true;
        let result = if self.ended {
            Err(Error::new(Failure::ClientEnded))
        } else if self.is_stopped() {
            Err(Error::new(Failure::Stopped))
        } else {
            f(self)
        };
        if let Err(e) = result {
            self.reject(id, &e);
        }
    }

    /// Runs pending timers now, and a scheduled reconnect at once: the
    /// network or the tab came back.
    pub(crate) fn wake(&mut self) {
        self.session.reconnect_now(now());
        self.on_timer();
    }

    /// Publishes; settles on PUBACK/PUBCOMP (QoS 0: when written to the
    /// socket). With a timeout (ms), a request: settles with the response.
    pub(crate) fn publish(
        &mut self,
        id: u32,
        publish: Publish,
        timeout: Option<u64>,
    ) -> Result<(), Error> {
        if let Some(timeout) = timeout {
            let token = self.session.request(now(), publish, timeout)?;
            self.commands.await_token(id, token);
            return Ok(());
        }
        let qos = publish.qos;
        let token = self.session.publish(now(), publish)?;
        if qos == QoS::AtMostOnce && self.session.is_connected() {
            // Settled when the bytes reach the socket, for backpressure.
            self.commands.await_flush(id);
        } else {
            self.commands.await_token(id, token);
        }
        Ok(())
    }

    /// Subscribes; settles with the reason code of each filter.
    pub(crate) fn subscribe(
        &mut self,
        id: u32,
        subscriptions: Vec<Subscription>,
        properties: Properties,
    ) -> Result<(), Error> {
        let token = self.session.subscribe(now(), subscriptions, properties)?;
        self.commands.await_token(id, token);
        Ok(())
    }

    /// Unsubscribes; settles with the reason code of each filter.
    pub(crate) fn unsubscribe(&mut self, id: u32, filters: Vec<String>) -> Result<(), Error> {
        let token = self
            .session
            .unsubscribe(now(), filters, Properties::default())?;
        self.commands.await_token(id, token);
        Ok(())
    }

    /// Sends DISCONNECT with the reason code and properties `disconnect`
    /// gives (a Session Expiry Interval among them) and stops, once
    /// in-flight messages are settled (at once with `force`); settles `id`
    /// when done. Ending twice is harmless.
    pub(crate) fn end(
        &mut self,
        id: u32,
        force: bool,
        disconnect: impl FnOnce() -> Result<(ReasonCode, Properties), Error>,
    ) {
        self.defer = true;
        if self.ended {
            return self.done(id);
        }
        if let Err(e) = disconnect().and_then(|(r, p)| self.end_with(id, force, r, p)) {
            self.reject(id, &e);
        }
    }

    fn end_with(
        &mut self,
        id: u32,
        force: bool,
        reason: ReasonCode,
        mut properties: Properties,
    ) -> Result<(), Error> {
        let expiry = properties.session_expiry_interval.take();
        self.session
            .check_disconnect(reason, expiry, &properties)
            .map_err(|e| match e {
                UsageError::Encode(e) => Error::encode(Failure::EncodeOptions, &e),
                e => Error::from(e),
            })?;
        self.commands.await_end(id);
        let finish = move |d: &mut Self| {
            // Checked above; should it fail anyway, a plain DISCONNECT
            // still ends the session.
            if d.session
                .disconnect(now(), reason, expiry, properties)
                .is_err()
            {
                let _ =
                    d.session
                        .disconnect(now(), ReasonCode::Success, None, Properties::default());
            }
            d.mark_ended();
        };
        if force {
            finish(self);
        } else {
            self.end_when_idle(Box::new(finish));
        }
        Ok(())
    }
}
