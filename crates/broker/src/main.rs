//! The `wasmqtt-broker` command.

// Peer data must never panic the broker: no unwrap, expect, panic or
// unchecked indexing outside tests (a proven bound gets a local allow).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wasmqtt_broker::{password_line, Broker, Config, HashKind};

/// MQTT 5.0 / 3.1.1 broker with TCP and WebSocket listeners.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file; flags override it.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// TCP listener address (repeatable; port 0 picks a free port).
    #[arg(long)]
    tcp: Vec<SocketAddr>,
    /// WebSocket listener address (repeatable; port 0 picks a free port).
    #[arg(long)]
    ws: Vec<SocketAddr>,
    /// Refuse clients without credentials.
    #[arg(long)]
    no_anonymous: bool,
    /// Password file (`user:$argon2id$...` or `user:scram-sha-256:...` lines).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// ACL file.
    #[arg(long)]
    acl_file: Option<PathBuf>,
    /// Enable the `$control/...` fault-injection topics (for tests only).
    /// With a password file only --test-control-user and users the ACL
    /// grants write access to `$control/...` may use them; without one,
    /// any client may.
    #[arg(long)]
    test_control: bool,
    /// With --test-control and a password file: the user allowed to use
    /// the `$control/...` topics.
    #[arg(long, value_name = "NAME")]
    test_control_user: Option<String>,
    /// Print a password-file line for USER, reading the password from the
    /// first line of standard input, and exit.
    #[arg(long, value_name = "USER")]
    hash_password: Option<String>,
    /// With --hash-password: make SCRAM-SHA-256 credentials (usable for
    /// enhanced authentication too) instead of an Argon2 hash.
    #[arg(long, requires = "hash_password")]
    scram: bool,
    /// With --scram: PBKDF2 iterations.
    #[arg(long, default_value_t = 4096, requires = "scram", value_name = "N")]
    scram_iterations: u32,
    /// Log filter, e.g. `info` or `wasmqtt_broker=debug`.
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(user) = &cli.hash_password {
        return hash_password(user, cli.scram.then_some(cli.scram_iterations));
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .init();
    let mut config = match &cli.config {
        Some(path) => match load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("wasmqtt-broker: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    if !cli.tcp.is_empty() {
        config.tcp.clone_from(&cli.tcp);
    }
    if !cli.ws.is_empty() {
        config.ws.clone_from(&cli.ws);
    }
    if config.tcp.is_empty() && config.ws.is_empty() {
        config.tcp.push(SocketAddr::from(([127, 0, 0, 1], 1883)));
        config.ws.push(SocketAddr::from(([127, 0, 0, 1], 8080)));
    }
    config.allow_anonymous &= !cli.no_anonymous;
    config.password_file = cli.password_file.or(config.password_file);
    config.acl_file = cli.acl_file.or(config.acl_file);
    config.test_control |= cli.test_control;
    config.test_control_user = cli.test_control_user.or(config.test_control_user);

    let broker = match Broker::start(config).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("wasmqtt-broker: {e}");
            return ExitCode::FAILURE;
        }
    };
    // One machine-readable line so scripts and tests can find the ports.
    let list = |addrs: &[SocketAddr]| {
        addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "LISTENING tcp={} ws={}",
        list(&broker.tcp),
        list(&broker.ws)
    );
    wait_for_signal().await;
    broker.shutdown().await;
    ExitCode::SUCCESS
}

/// `--hash-password USER`: one line of standard input in, one
/// password-file line out.
fn hash_password(user: &str, scram_iterations: Option<u32>) -> ExitCode {
    let mut password = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut password) {
        eprintln!("wasmqtt-broker: cannot read the password: {e}");
        return ExitCode::FAILURE;
    }
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);
    let kind = match scram_iterations {
        Some(iterations) => HashKind::Scram { iterations },
        None => HashKind::Argon2,
    };
    match password_line(user, password.as_bytes(), kind) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wasmqtt-broker: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &PathBuf) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    toml::from_str(&text).map_err(|e| e.to_string())
}

/// Ctrl-C or SIGTERM.
// Also in wasmqtt-devices: one copy would tie the devices to the broker library (~70 crates).
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
