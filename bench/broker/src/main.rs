//! `broker-bench`: message throughput of wasmqtt-broker and mosquitto on
//! loopback, QoS 0 and 1, one-to-one and fan-in, over TCP and WebSocket.
//!
//! Both brokers run side by side; for each scenario the runs alternate
//! A B A B ... so slow drift in machine load hits both alike. The load
//! generator is this one program (tokio + wasmqtt-codec +
//! tokio-tungstenite), so the client side costs the same for both.
//! See bench/broker/README.md.

mod brokers;
mod client;
mod scenario;

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde::Serialize;
use wasmqtt_codec::QoS;

use brokers::{loadavg1, machine_busy_ticks, process_ticks, BrokerProcess, TICKS};
use client::Transport;
use scenario::{Outcome, Scenario};

#[derive(Debug, Parser)]
#[command(about = "Throughput of wasmqtt-broker against mosquitto on loopback")]
struct Cli {
    /// Measured runs per broker and scenario.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Seconds the publishers publish in each run.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Publishers in the fan-in scenarios.
    #[arg(long, default_value_t = 10)]
    fan_in: usize,
    /// Payload bytes.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Messages in flight end to end per run, over all publishers.
    #[arg(long, default_value_t = 400)]
    window: u64,
    /// Most PUBLISHes a publisher writes at once (one write() or one
    /// WebSocket frame). 1, the default, is what MQTT.js and browser clients do.
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Only scenarios whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// wasmqtt-broker binary.
    #[arg(long, default_value = "target/release/wasmqtt-broker")]
    wasmqtt: PathBuf,
    /// mosquitto binary.
    #[arg(long, default_value = "mosquitto")]
    mosquitto: String,
    /// Extra line for the generated mosquitto.conf (repeatable). By default
    /// `set_tcp_nodelay true`, as wasmqtt-broker sets TCP_NODELAY too.
    #[arg(long = "mosquitto-option", default_values_t = ["set_tcp_nodelay true".to_owned()])]
    mosquitto_options: Vec<String>,
    /// Worker threads of the load generator (1: it leaves the other core to the broker).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Where the JSON results go (a Markdown table is written next to it).
    #[arg(long, default_value = "target/bench/broker.json")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct Run {
    scenario: String,
    broker: &'static str,
    rep: usize,
    #[serde(flatten)]
    outcome: Outcome,
    /// Broker CPU time during the run, in seconds.
    broker_cpu_s: f64,
    /// Load generator CPU time during the run, in seconds.
    client_cpu_s: f64,
    /// Average cores used by other processes during the run.
    foreign_cores: f64,
    /// 1-minute load average just before the run.
    loadavg_before: f64,
}

#[derive(Debug, Serialize)]
struct BrokerSummary {
    median: f64,
    min: f64,
    max: f64,
    /// Broker CPU microseconds per message (median over runs).
    cpu_us_per_msg: f64,
    failed_runs: usize,
}

#[derive(Debug, Serialize)]
struct Summary {
    scenario: Scenario,
    wasmqtt: BrokerSummary,
    mosquitto: BrokerSummary,
    /// median(wasmqtt-broker) / median(mosquitto).
    ratio: f64,
    /// mosquitto's CPU time per message / wasmqtt-broker's: how much less
    /// CPU wasmqtt-broker needs per message (less sensitive to other load
    /// than throughput).
    cpu_ratio: f64,
    /// 1-minute load average just before the scenario started.
    loadavg_before: f64,
    /// Largest average of other processes' CPU use during a run, in cores.
    max_foreign_cores: f64,
    /// Why the numbers may be unreliable, if they may.
    noisy: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    started_unix: u64,
    cores: usize,
    loadavg_at_start: f64,
    wasmqtt_version: String,
    mosquitto_version: String,
    reps: usize,
    client_threads: usize,
    payload: usize,
    window: u64,
    summaries: Vec<Summary>,
    runs: Vec<Run>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = if cli.client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.client_threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    match runtime.block_on(bench(&cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn scenarios(cli: &Cli) -> Vec<Scenario> {
    let mut out = Vec::new();
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        for publishers in [1, cli.fan_in] {
            for transport in [Transport::Tcp, Transport::Ws] {
                let t = match transport {
                    Transport::Tcp => "tcp",
                    Transport::Ws => "ws",
                };
                out.push(Scenario {
                    name: format!("qos{} {publishers}->1 {t}", qos as u8),
                    qos,
                    publishers,
                    transport,
                    seconds: cli.seconds,
                    payload: cli.payload,
                    window: cli.window,
                    batch: cli.batch,
                });
            }
        }
    }
    out.retain(|s| {
        cli.only
            .as_ref()
            .is_none_or(|f| s.name.contains(f.as_str()))
    });
    out
}

async fn bench(cli: &Cli) -> std::io::Result<()> {
    let dir = cli
        .out
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&dir)?;
    let loadavg_at_start = loadavg1();
    let brokers = [
        BrokerProcess::wasmqtt(&cli.wasmqtt, &[])?,
        BrokerProcess::mosquitto(&cli.mosquitto, &dir, &cli.mosquitto_options)?,
    ];
    for b in &brokers {
        eprintln!("{} ({}): tcp={} ws={}", b.name, b.version, b.tcp, b.ws);
    }
    let me = std::process::id().to_string();
    let mut run_id = 0usize;
    let mut runs = Vec::new();
    let mut summaries = Vec::new();

    // Warm up both (page cache, allocator, JIT-free but lazy statics).
    for b in &brokers {
        let warm = Scenario {
            name: "warm-up".into(),
            qos: QoS::AtLeastOnce,
            publishers: 2,
            transport: Transport::Tcp,
            seconds: 0.3,
            payload: cli.payload,
            window: cli.window,
            batch: cli.batch,
        };
        let o = scenario::run(b.tcp, &warm, &format!("warm-{}", b.name)).await;
        if let Some(e) = o.error {
            return Err(std::io::Error::other(format!(
                "{} warm-up failed: {e}",
                b.name
            )));
        }
    }

    for s in scenarios(cli) {
        let loadavg_before = loadavg1();
        eprintln!("== {} (load average {loadavg_before:.2})", s.name);
        let first = runs.len();
        for rep in 0..cli.reps {
            for b in &brokers {
                run_id += 1;
                let addr = match s.transport {
                    Transport::Tcp => b.tcp,
                    Transport::Ws => b.ws,
                };
                let pid = b.pid().to_string();
                let load = loadavg1();
                let (b0, c0, m0, t0) = (
                    process_ticks(&pid),
                    process_ticks(&me),
                    machine_busy_ticks(),
                    Instant::now(),
                );
                let outcome = scenario::run(addr, &s, &format!("r{run_id}")).await;
                let wall = t0.elapsed().as_secs_f64();
                let (b1, c1, m1) = (
                    process_ticks(&pid),
                    process_ticks(&me),
                    machine_busy_ticks(),
                );
                let broker_cpu = (b1 - b0) as f64 / TICKS;
                let client_cpu = (c1 - c0) as f64 / TICKS;
                let machine = (m1 - m0) as f64 / TICKS;
                let foreign = ((machine - broker_cpu - client_cpu) / wall).max(0.0);
                eprintln!(
                    "   {:<15} rep {rep}: {:>9.0} msg/s  {:>6} msgs in {:.2} s  broker cpu {:.2} s  other load {:.2} cores{}",
                    b.name,
                    outcome.rate,
                    outcome.received,
                    outcome.seconds,
                    broker_cpu,
                    foreign,
                    outcome
                        .error
                        .as_ref()
                        .map(|e| format!("  FAILED: {e}"))
                        .unwrap_or_default()
                );
                runs.push(Run {
                    scenario: s.name.clone(),
                    broker: b.name,
                    rep,
                    outcome,
                    broker_cpu_s: broker_cpu,
                    client_cpu_s: client_cpu,
                    foreign_cores: foreign,
                    loadavg_before: load,
                });
            }
        }
        summaries.push(summarize(s, &runs[first..], loadavg_before));
    }

    let report = Report {
        started_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg_at_start,
        wasmqtt_version: brokers[0].version.clone(),
        mosquitto_version: brokers[1].version.clone(),
        reps: cli.reps,
        client_threads: cli.client_threads,
        payload: cli.payload,
        window: cli.window,
        summaries,
        runs,
    };
    let json = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
    fs::write(&cli.out, json)?;
    let table = markdown(&report);
    fs::write(cli.out.with_extension("md"), &table)?;
    println!("{table}");
    eprintln!(
        "results: {} and {}",
        cli.out.display(),
        cli.out.with_extension("md").display()
    );
    // A failed mosquitto run is reported in the table; a failed
    // wasmqtt-broker run (a stall, lost or reordered messages) fails the bench.
    let failed: usize = report.summaries.iter().map(|s| s.wasmqtt.failed_runs).sum();
    let reordered: u64 = report
        .runs
        .iter()
        .filter(|r| r.broker == "wasmqtt-broker")
        .map(|r| r.outcome.out_of_order)
        .sum();
    if failed > 0 || reordered > 0 {
        return Err(std::io::Error::other(format!(
            "wasmqtt-broker: {failed} runs failed, {reordered} messages out of order"
        )));
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn broker_summary(runs: &[Run], broker: &str) -> BrokerSummary {
    let mine: Vec<&Run> = runs.iter().filter(|r| r.broker == broker).collect();
    let ok: Vec<&Run> = mine
        .iter()
        .copied()
        .filter(|r| r.outcome.error.is_none())
        .collect();
    let mut rates: Vec<f64> = ok.iter().map(|r| r.outcome.rate).collect();
    let mut cpu: Vec<f64> = ok
        .iter()
        .map(|r| r.broker_cpu_s * 1e6 / r.outcome.received.max(1) as f64)
        .collect();
    BrokerSummary {
        median: median(&mut rates),
        min: rates.first().copied().unwrap_or(f64::NAN),
        max: rates.last().copied().unwrap_or(f64::NAN),
        cpu_us_per_msg: median(&mut cpu),
        failed_runs: mine.len() - ok.len(),
    }
}

fn summarize(scenario: Scenario, runs: &[Run], loadavg_before: f64) -> Summary {
    let wasmqtt = broker_summary(runs, "wasmqtt-broker");
    let mosquitto = broker_summary(runs, "mosquitto");
    let max_foreign_cores = runs.iter().map(|r| r.foreign_cores).fold(0.0, f64::max);
    let mut noisy = Vec::new();
    // On 2 cores, other work above a quarter of a core competes with the
    // broker or the load generator.
    if max_foreign_cores > 0.25 {
        noisy.push(format!(
            "other processes used up to {max_foreign_cores:.2} cores"
        ));
    }
    for name in ["wasmqtt-broker", "mosquitto"] {
        // A load generator thread near 100% means the broker may be faster
        // than measured.
        let busy = runs
            .iter()
            .filter(|r| r.broker == name && r.outcome.seconds > 0.0)
            .map(|r| r.client_cpu_s / r.outcome.seconds)
            .fold(0.0, f64::max);
        if busy > 0.9 {
            noisy.push(format!(
                "load generator {:.0}% busy with {name}: a lower bound",
                busy * 100.0
            ));
        }
    }
    for (name, s) in [("wasmqtt-broker", &wasmqtt), ("mosquitto", &mosquitto)] {
        let spread = (s.max - s.min) / s.median;
        if spread > 0.25 {
            noisy.push(format!("{name} runs spread {:.0}%", spread * 100.0));
        }
        if s.failed_runs > 0 {
            noisy.push(format!("{name}: {} failed runs", s.failed_runs));
        }
    }
    Summary {
        ratio: wasmqtt.median / mosquitto.median,
        cpu_ratio: mosquitto.cpu_us_per_msg / wasmqtt.cpu_us_per_msg,
        scenario,
        wasmqtt,
        mosquitto,
        loadavg_before,
        max_foreign_cores,
        noisy,
    }
}

fn markdown(report: &Report) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| scenario | wasmqtt-broker msg/s median (min–max) | mosquitto msg/s median (min–max) | ratio | broker CPU µs/msg (wasmqtt / mosquitto) | CPU ratio | load avg before | noisy? |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---|");
    let k = |v: f64| {
        if v.is_nan() {
            "–".to_owned()
        } else if v >= 1000.0 {
            format!("{:.1}k", v / 1000.0)
        } else {
            format!("{v:.0}")
        }
    };
    for s in &report.summaries {
        let _ = writeln!(
            t,
            "| {} | {} ({}–{}) | {} ({}–{}) | {:.2} | {:.1} / {:.1} | {:.2} | {:.2} | {} |",
            s.scenario.name,
            k(s.wasmqtt.median),
            k(s.wasmqtt.min),
            k(s.wasmqtt.max),
            k(s.mosquitto.median),
            k(s.mosquitto.min),
            k(s.mosquitto.max),
            s.ratio,
            s.wasmqtt.cpu_us_per_msg,
            s.mosquitto.cpu_us_per_msg,
            s.cpu_ratio,
            s.loadavg_before,
            if s.noisy.is_empty() {
                "no".to_owned()
            } else {
                s.noisy.join("; ")
            }
        );
    }
    let _ = writeln!(
        t,
        "\nratio: median msg/s of wasmqtt-broker / mosquitto. CPU ratio: mosquitto's broker CPU time per message / wasmqtt-broker's.\n{} cores, {} runs per broker and scenario (alternating), {}-byte payloads, {} messages in flight end to end, load generator on {} thread(s). wasmqtt-broker: {}; mosquitto: {}.",
        report.cores,
        report.reps,
        report.payload,
        report.window,
        report.client_threads,
        report.wasmqtt_version,
        report.mosquitto_version
    );
    t
}
