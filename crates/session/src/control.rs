//! Adjustments a driver makes between connections.

use crate::options::Options;
use crate::session::{Session, State};
use crate::Millis;

impl Session {
    /// The options, to change credentials before the next `connect`.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// Makes a scheduled reconnect due now: the network or the page came back.
    pub fn reconnect_now(&mut self, now: Millis) {
        if let State::Waiting { at } = &mut self.state {
            *at = (*at).min(now);
        }
    }
}
