//! Starting the brokers under test on free loopback ports, and reading
//! their CPU time.

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A broker process.
pub struct BrokerProcess {
    /// `wasmqtt-broker` or `mosquitto`.
    pub name: &'static str,
    /// Version line, for the report.
    pub version: String,
    child: Child,
    /// TCP listener.
    pub tcp: SocketAddr,
    /// WebSocket listener.
    pub ws: SocketAddr,
}

impl BrokerProcess {
    /// Starts wasmqtt-broker on OS-chosen ports (it prints them), with
    /// `extra` arguments.
    pub fn wasmqtt(bin: &Path, extra: &[String]) -> io::Result<Self> {
        let version = Command::new(bin)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let mut child = Command::new(bin)
            .args([
                "--tcp",
                "127.0.0.1:0",
                "--ws",
                "127.0.0.1:0",
                "--log",
                "warn",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", bin.display())))?;
        let stdout = child.stdout.take().expect("piped");
        // Read on a thread, so a broker that never says LISTENING is
        // killed after a bound instead of holding the run up.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(read) => read?,
            Err(_) => {
                child.kill().ok();
                child.wait().ok();
                return Err(io::Error::other(
                    "wasmqtt-broker did not print LISTENING within 10 s",
                ));
            }
        };
        let field = |key: &str| -> io::Result<SocketAddr> {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(key))
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| io::Error::other(format!("bad LISTENING line: {line:?}")))
        };
        let (tcp, ws) = (field("tcp=")?, field("ws=")?);
        Ok(Self {
            name: "wasmqtt-broker",
            version,
            child,
            tcp,
            ws,
        })
    }

    /// Starts mosquitto with a generated configuration: a TCP listener and a
    /// WebSocket listener on free ports, no persistence, anonymous access,
    /// everything else at its defaults.
    pub fn mosquitto(bin: &str, dir: &Path, extra: &[String]) -> io::Result<Self> {
        // mosquitto cannot report ports it chose: find two free ones.
        let free =
            || -> io::Result<u16> { Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()) };
        let (tcp_port, ws_port) = (free()?, free()?);
        let conf = dir.join("mosquitto.conf");
        let mut text = String::from("persistence false\nallow_anonymous true\n");
        for line in extra {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!(
            "listener {tcp_port} 127.0.0.1\nlistener {ws_port} 127.0.0.1\nprotocol websockets\n"
        ));
        fs::write(&conf, text)?;
        let version = Command::new(bin)
            .arg("-h")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let log = fs::File::create(dir.join("mosquitto.log"))?;
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{bin}: {e}")))?;
        let mut broker = Self {
            name: "mosquitto",
            version,
            child,
            tcp: SocketAddr::from(([127, 0, 0, 1], tcp_port)),
            ws: SocketAddr::from(([127, 0, 0, 1], ws_port)),
        };
        // Ready once both listeners accept connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        for addr in [broker.tcp, broker.ws] {
            while TcpStream::connect(addr).is_err() {
                if let Some(status) = broker.child.try_wait()? {
                    return Err(io::Error::other(format!(
                        "mosquitto exited ({status}); see {}",
                        dir.join("mosquitto.log").display()
                    )));
                }
                if Instant::now() > deadline {
                    return Err(io::Error::other("mosquitto did not start listening"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(broker)
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// CPU time (user + system) of process `pid`, in clock ticks.
pub fn process_ticks(pid: &str) -> u64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

/// Busy CPU time of the whole machine (all cores), in clock ticks.
pub fn machine_busy_ticks() -> u64 {
    let Ok(stat) = fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let Some(line) = stat.lines().next() else {
        return 0;
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    total - idle
}

/// The 1-minute load average.
pub fn loadavg1() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Clock ticks per second (USER_HZ), 100 on Linux.
pub const TICKS: f64 = 100.0;
