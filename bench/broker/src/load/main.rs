//! Memory under load: what idle connections cost a broker, and what a burst
//! of failed logins costs wasmqtt-broker.
//!
//! `idle`: for each broker (wasmqtt-broker, then mosquitto) open `--tcp` idle
//! TCP connections, then `--ws` idle WebSocket connections, each completing
//! CONNECT/CONNACK; read the broker's VmRSS before, with all of them open,
//! and after they closed.
//!
//! `logins`: wasmqtt-broker with an Argon2 password file (default
//! parameters, as `--hash-password` makes them); `--attempts` concurrent
//! CONNECTs with a wrong password, twice, then one with the right password;
//! report the CONNACK codes, peak and settled VmRSS, and threads.

#[allow(dead_code)]
#[path = "../brokers.rs"]
mod brokers;
mod conn;
mod proc;

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brokers::BrokerProcess;
use clap::{Parser, Subcommand};
use tokio::sync::Semaphore;

#[derive(Parser)]
#[command(about = "Broker memory under many idle connections and login floods")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
    /// wasmqtt-broker binary.
    #[arg(long, default_value = "target/release/wasmqtt-broker", global = true)]
    wasmqtt: PathBuf,
    /// mosquitto binary.
    #[arg(long, default_value = "mosquitto", global = true)]
    mosquitto: String,
    /// Directory for generated configuration files.
    #[arg(long, default_value = "target/bench", global = true)]
    dir: PathBuf,
}

#[derive(Subcommand)]
enum Mode {
    /// Idle connections against both brokers.
    Idle {
        /// Idle TCP connections.
        #[arg(long, default_value_t = 10_000)]
        tcp: usize,
        /// Idle WebSocket connections.
        #[arg(long, default_value_t = 10_000)]
        ws: usize,
        /// Connections being opened at once.
        #[arg(long, default_value_t = 200)]
        parallel: usize,
        /// Only this broker (`wasmqtt-broker` or `mosquitto`).
        #[arg(long)]
        only: Option<String>,
    },
    /// Concurrent failed logins against wasmqtt-broker.
    Logins {
        /// Concurrent CONNECTs with a wrong password per burst.
        #[arg(long, default_value_t = 96)]
        attempts: usize,
        /// Turn the per-address back-off off, as for a flood from many
        /// addresses.
        #[arg(long)]
        no_backoff: bool,
    },
}

/// A second loopback address, for a client that is not the flood's.
const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// Time for a broker to finish closing connections before RSS is read.
const SETTLE: Duration = Duration::from_secs(3);

fn main() -> io::Result<()> {
    let cli = Cli::parse();
    std::fs::create_dir_all(&cli.dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.mode {
        Mode::Idle {
            tcp,
            ws,
            parallel,
            ref only,
        } => {
            let mut rows = Vec::new();
            let config = cli.dir.join("wasmqtt-load.toml");
            std::fs::write(&config, "[limits]\nmax_connections = 1000000\n")?;
            let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
            if wanted("wasmqtt-broker") {
                let args = ["--config".to_owned(), config.display().to_string()];
                let broker = BrokerProcess::wasmqtt(&cli.wasmqtt, &args)?;
                rows.extend(runtime.block_on(idle(&broker, tcp, ws, parallel))?);
            }
            if wanted("mosquitto") {
                let broker = BrokerProcess::mosquitto(&cli.mosquitto, &cli.dir, &[])?;
                rows.extend(runtime.block_on(idle(&broker, tcp, ws, parallel))?);
            }
            println!("| broker | transport | connections held | RSS before (KiB) | RSS with all open (KiB) | KiB per connection | RSS after close (KiB) |");
            println!("|---|---|---:|---:|---:|---:|---:|");
            for r in rows {
                println!("{r}");
            }
            Ok(())
        }
        Mode::Logins {
            attempts,
            no_backoff,
        } => runtime.block_on(logins(&cli.wasmqtt, &cli.dir, attempts, no_backoff)),
    }
}

async fn idle(
    broker: &BrokerProcess,
    tcp: usize,
    ws: usize,
    parallel: usize,
) -> io::Result<Vec<String>> {
    let mut rows = Vec::new();
    for (transport, count, addr) in [("tcp", tcp, broker.tcp), ("ws", ws, broker.ws)] {
        if count == 0 {
            continue;
        }
        tokio::time::sleep(SETTLE).await;
        let before = proc::rss(broker.pid());
        let started = Instant::now();
        let held = open_idle(transport, addr, count, parallel).await?;
        eprintln!(
            "{}: {} {transport} connections in {:.1} s",
            broker.name,
            held.len(),
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(SETTLE).await;
        let at_n = proc::rss(broker.pid());
        let n = held.len();
        drop(held);
        tokio::time::sleep(SETTLE).await;
        let after = proc::rss(broker.pid());
        let per = at_n.saturating_sub(before) as f64 / n.max(1) as f64;
        rows.push(format!(
            "| {} | {transport} | {n} | {before} | {at_n} | {per:.1} | {after} |",
            broker.name
        ));
    }
    Ok(rows)
}

async fn open_idle(
    transport: &str,
    addr: SocketAddr,
    count: usize,
    parallel: usize,
) -> io::Result<Vec<conn::Idle>> {
    let limit = Arc::new(Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let permit = Arc::clone(&limit)
            .acquire_owned()
            .await
            .map_err(io::Error::other)?;
        let connect = conn::connect_bytes(&format!("idle-{transport}-{i}"), None);
        let ws = transport == "ws";
        tasks.spawn(async move {
            let _permit = permit;
            if ws {
                conn::ws(addr, &connect).await
            } else {
                conn::tcp(addr, None, &connect)
                    .await
                    .map(|(s, _)| conn::Idle::Tcp(s))
            }
        });
    }
    let mut held = Vec::with_capacity(count);
    while let Some(result) = tasks.join_next().await {
        held.push(result.map_err(io::Error::other)??);
    }
    Ok(held)
}

async fn logins(bin: &Path, dir: &Path, attempts: usize, no_backoff: bool) -> io::Result<()> {
    let passwords = dir.join("load-passwords");
    let mut hash = Command::new(bin)
        .args(["--hash-password", "alice"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = hash.stdin.take() {
        stdin.write_all(b"right\n")?;
    }
    let line = hash.wait_with_output()?.stdout;
    std::fs::write(&passwords, line)?;
    let mut args = vec![
        "--password-file".to_owned(),
        passwords.display().to_string(),
        "--no-anonymous".to_owned(),
    ];
    if no_backoff {
        let config = dir.join("wasmqtt-no-backoff.toml");
        std::fs::write(&config, "[limits]\nlogin_failures_before_backoff = 0\n")?;
        args.extend(["--config".to_owned(), config.display().to_string()]);
    }
    let broker = BrokerProcess::wasmqtt(bin, &args)?;
    let pid = broker.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "{} with an Argon2 password file, {attempts} concurrent wrong-password CONNECTs per burst{}\n",
        broker.version,
        if no_backoff { ", back-off off" } else { "" }
    );
    println!("| step | CONNACK codes | time (s) | VmRSS (KiB) | peak VmHWM (KiB) | threads |");
    println!("|---|---|---:|---:|---:|---:|");
    let row = |step: &str, codes: &str, secs: f64| {
        println!(
            "| {step} | {codes} | {secs:.2} | {} | {} | {} |",
            proc::rss(pid),
            proc::status(pid, "VmHWM"),
            proc::status(pid, "Threads")
        );
    };
    row("idle", "", 0.0);
    let wrong = conn::connect_bytes("", Some(("alice", "wrong")));
    let addr = broker.tcp;
    for burst in 1..=2 {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..attempts {
            let wrong = wrong.clone();
            tasks.spawn(async move { conn::tcp(addr, None, &wrong).await.map(|(_, code)| code) });
        }
        // Meanwhile, the right password from another address.
        let right = conn::connect_bytes("", Some(("alice", "right")));
        let legit = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let started = Instant::now();
            let code = conn::tcp(addr, Some(OTHER), &right).await.map(|(_, c)| c);
            (code, started.elapsed().as_secs_f64())
        });
        let mut codes = BTreeMap::new();
        while let Some(result) = tasks.join_next().await {
            let key = match result.map_err(io::Error::other)? {
                Ok(code) => format!("0x{:02X}", code as u8),
                Err(e) => format!("error {}", e.kind()),
            };
            *codes.entry(key).or_insert(0) += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        let (code, waited) = legit.await.map_err(io::Error::other)?;
        row(
            &format!("right password from another address during burst {burst}"),
            &format!("0x{:02X}", code? as u8),
            waited,
        );
        let codes = codes
            .iter()
            .map(|(k, v)| format!("{k} x{v}"))
            .collect::<Vec<_>>()
            .join(", ");
        row(&format!("burst {burst} done"), &codes, secs);
        tokio::time::sleep(SETTLE).await;
        row(
            &format!("{} s after burst {burst}", SETTLE.as_secs()),
            "",
            0.0,
        );
    }
    // The right password from the flooding address: still backing off.
    let right = conn::connect_bytes("", Some(("alice", "right")));
    let started = Instant::now();
    let code = conn::tcp(broker.tcp, None, &right).await?.1;
    row(
        "right password from the flooding address",
        &format!("0x{:02X}", code as u8),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}
