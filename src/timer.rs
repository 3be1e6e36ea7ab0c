//! When the driver wakes next: the session's next deadline, or sooner
//! while the socket is backed up.

use wasmqtt_session::Millis;

use crate::driver::{with_driver, Driver};
use crate::js::{now, Timeout};
use crate::output::Output;

/// How often to look again while the socket is backed up.
const DRAIN_CHECK: Millis = 20;

impl<O: Output + 'static> Driver<O> {
    pub(crate) fn on_timer(&mut self) {
        self.timer = None;
        self.session.handle_timeout(now());
    }

    /// Arms the timer for the session's next deadline, unless it is armed
    /// for earlier already: waking early costs one call that finds nothing
    /// due, re-arming on every send (keep-alive moves with each) costs more.
    pub(crate) fn arm_timer(&mut self) {
        if self.ended {
            self.timer = None;
            return;
        }
        let backed_up = self.held || (self.commands.awaits_flush() && !self.flush_scheduled);
        let Some(at) = self.session.poll_timeout() else {
            if backed_up {
                self.arm(now() + DRAIN_CHECK);
            }
            return;
        };
        self.arm(if backed_up {
            at.min(now() + DRAIN_CHECK)
        } else {
            at
        });
    }

    fn arm(&mut self, at: Millis) {
        if self.timer.as_ref().is_some_and(|(t, _)| *t <= at) {
            return;
        }
        let me = self.me.clone();
        let delay = u32::try_from(at.saturating_sub(now())).unwrap_or(u32::MAX);
        let timeout = Timeout::new(delay, move || {
            if let Some(shared) = me.upgrade() {
                with_driver(&shared, Driver::on_timer);
            }
        });
        self.timer = Some((at, timeout));
    }
}
