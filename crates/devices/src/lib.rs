//! Simulated devices for the wasmqtt dashboard demo.
//!
//! Each device is an MQTT 5.0 client built on the project's own sans-IO
//! session engine ([`wasmqtt_session`]) with tokio TCP as its transport
//! ([`link::Link`] is the whole driver). A device:
//!
//! - connects with a retained Will Message `offline` on
//!   `{prefix}/{id}/status` and a short Keep Alive (5 s by default), and
//!   publishes retained `online` there after every CONNACK;
//! - publishes JSON telemetry (temperature, humidity, battery, rssi, …,
//!   random walks) to `{prefix}/{id}/telemetry` at its rate;
//! - answers commands on `{prefix}/{id}/commands` (`ping`, `status`,
//!   `set-rate N`, `reboot`, `help`) by publishing a JSON reply to the
//!   request's Response Topic with the same Correlation Data;
//! - dies on demand: a message on `sim/kill` whose payload is its id makes
//!   it drop its TCP socket without DISCONNECT, as a crash would, so the
//!   broker publishes its will at once. A message on `sim/hang` with its id
//!   makes it keep the socket open but go silent, so the broker only finds
//!   out through Keep Alive (after 1.5 x Keep Alive). Either way it comes
//!   back after `revive_after` (10 s by default) with a fresh session.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod command;
pub mod device;
pub mod link;
pub mod telemetry;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

pub use device::{DeviceConfig, Report};

/// A set of running devices.
#[derive(Debug)]
pub struct Simulator {
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Simulator {
    /// Starts one task per config on the current tokio runtime. Reports
    /// from every device go to `reports`, if given.
    #[must_use]
    pub fn spawn(
        configs: impl IntoIterator<Item = DeviceConfig>,
        reports: Option<mpsc::UnboundedSender<Report>>,
    ) -> Self {
        let (shutdown, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for config in configs {
            tasks.spawn(device::run(config, rx.clone(), reports.clone()));
        }
        Self { shutdown, tasks }
    }

    /// Tells every device to disconnect (with its will, so each turns
    /// `offline`) and waits for them.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Device ids `{stem}-01`, `{stem}-02`, … (two digits at least).
#[must_use]
pub fn device_ids(stem: &str, count: usize) -> Vec<String> {
    let width = count.to_string().len().max(2);
    (1..=count).map(|i| format!("{stem}-{i:0width$}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_zero_padded() {
        assert_eq!(super::device_ids("dev", 3), ["dev-01", "dev-02", "dev-03"]);
        assert_eq!(super::device_ids("d", 100)[0], "d-001");
    }
}
