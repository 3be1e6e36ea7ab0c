//! The `wasmqtt-devices` command: simulated devices for the dashboard demo.
//!
//! Prints `READY devices=N` on stdout once every device has connected,
//! and logs one line per noteworthy event on stderr.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use tokio::sync::mpsc;
use wasmqtt_devices::{device_ids, DeviceConfig, Report, Simulator};

/// Simulated MQTT 5.0 devices: telemetry, retained online/offline status
/// with a will, commands over request/response, and kill on demand.
///
/// Publish a device id to `sim/kill` to drop its TCP socket without
/// DISCONNECT (the broker publishes its will, `offline`), or to `sim/hang`
/// to make it go silent with the socket open (the broker notices after
/// 1.5 x keep-alive).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Broker TCP address.
    #[arg(long, default_value = "127.0.0.1:1883", value_name = "HOST:PORT")]
    broker: String,
    /// Number of devices.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u16).range(1..=1000))]
    devices: u16,
    /// Telemetry messages per second, per device (0.1 to 50).
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// First topic level: `{prefix}/{id}/telemetry`, `/status`, `/commands`.
    #[arg(long, default_value = "devices")]
    prefix: String,
    /// Device ids are `{id_stem}-01`, `{id_stem}-02`, …
    #[arg(long, default_value = "dev")]
    id_stem: String,
    /// Keep Alive in seconds: a hung device is declared dead after 1.5 x this.
    #[arg(long, default_value_t = 5)]
    keep_alive: u16,
    /// Seconds a killed or hung device stays down (0: for good).
    #[arg(long, default_value_t = 10.0)]
    revive_after: f64,
    /// User Name for every device.
    #[arg(long)]
    username: Option<String>,
    /// Password for every device (or the WASMQTT_DEVICES_PASSWORD variable).
    #[arg(long, env = "WASMQTT_DEVICES_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Seed for the readings (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Log only failures.
    #[arg(long, short)]
    quiet: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (lo, hi) = wasmqtt_devices::command::RATE_RANGE;
    if !(lo..=hi).contains(&cli.rate) {
        eprintln!("wasmqtt-devices: --rate must be within {lo} and {hi}");
        return ExitCode::from(2);
    }
    if !cli.revive_after.is_finite() || cli.revive_after < 0.0 {
        eprintln!("wasmqtt-devices: --revive-after must be 0 or more seconds");
        return ExitCode::from(2);
    }
    let seed = cli.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let ids = device_ids(&cli.id_stem, usize::from(cli.devices));
    let configs = ids.iter().enumerate().map(|(i, id)| DeviceConfig {
        prefix: cli.prefix.clone(),
        rate: cli.rate,
        keep_alive: cli.keep_alive,
        revive_after: (cli.revive_after > 0.0).then(|| Duration::from_secs_f64(cli.revive_after)),
        seed: seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9)),
        username: cli.username.clone(),
        password: cli.password.clone(),
        ..DeviceConfig::new(id.clone(), cli.broker.clone())
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sim = Simulator::spawn(configs, Some(tx));
    eprintln!(
        "wasmqtt-devices: {} devices -> {} ({} msg/s each; kill with a device id on sim/kill)",
        ids.len(),
        cli.broker,
        cli.rate
    );

    let mut seen = HashSet::new();
    let mut ready = false;
    let signal = wait_for_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            report = rx.recv() => {
                let Some(report) = report else { break };
                log(&report, cli.quiet);
                if let Report::Connected { id } = report {
                    seen.insert(id);
                    if !ready && seen.len() == ids.len() {
                        ready = true;
                        println!("READY devices={}", ids.len());
                    }
                }
            }
        }
    }
    eprintln!("wasmqtt-devices: stopping");
    if tokio::time::timeout(Duration::from_secs(3), sim.shutdown())
        .await
        .is_err()
    {
        eprintln!("wasmqtt-devices: some devices did not disconnect in time");
    }
    ExitCode::SUCCESS
}

fn log(report: &Report, quiet: bool) {
    let line = match report {
        Report::Disconnected { id, reason } => format!("{id}: disconnected: {reason}"),
        _ if quiet => return,
        Report::Connected { id } => format!("{id}: connected"),
        Report::Command { id, text, answered } => format!(
            "{id}: command {text:?}{}",
            if *answered {
                ""
            } else {
                " (no response topic)"
            }
        ),
        Report::Killed { id } => format!("{id}: killed (socket dropped without DISCONNECT)"),
        Report::Hung { id } => format!("{id}: hung (silent, socket open)"),
        Report::Rebooting { id } => format!("{id}: rebooting"),
    };
    eprintln!("wasmqtt-devices: {line}");
}

/// Ctrl-C or SIGTERM.
// Also in wasmqtt-broker: one copy would tie the devices to the broker library (~70 crates).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    tokio::signal::ctrl_c().await.ok();
}
