//! One simulated device: connect, announce, publish telemetry, answer
//! commands, and die or hang when told to.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use wasmqtt_codec::{
    Properties, Publish, QoS, ReasonCode, Subscription, SubscriptionOptions, TopicName, Will,
};
use wasmqtt_session::{Backoff, Event, Options};

use crate::command::{self, Action};
use crate::link::{Link, Wake};
use crate::telemetry::Sensors;

/// How one device behaves.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// Device id, the `{id}` in its topics.
    pub id: String,
    /// Broker TCP address, `host:port`.
    pub broker: String,
    /// First topic level: `{prefix}/{id}/telemetry`, `/status`, `/commands`.
    pub prefix: String,
    /// Topic level of the simulator's own controls: `{control}/kill`, `{control}/hang`.
    pub control: String,
    /// Telemetry messages per second.
    pub rate: f64,
    /// MQTT Keep Alive in seconds; the broker declares a silent device dead
    /// after one and a half times this.
    pub keep_alive: u16,
    /// How long a killed or hung device stays down; `None` for good.
    pub revive_after: Option<Duration>,
    /// How long a reboot takes.
    pub reboot_delay: Duration,
    /// Seed for the sensors and the session's jitter.
    pub seed: u64,
    /// User Name and Password, if the broker wants them.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
}

impl DeviceConfig {
    /// Defaults: prefix `devices`, controls under `sim`, 1 msg/s, 5 s
    /// keep-alive, back 10 s after a kill, 2 s reboots.
    #[must_use]
    pub fn new(id: impl Into<String>, broker: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            broker: broker.into(),
            prefix: "devices".into(),
            control: "sim".into(),
            rate: 1.0,
            keep_alive: 5,
            revive_after: Some(Duration::from_secs(10)),
            reboot_delay: Duration::from_secs(2),
            seed: 1,
            username: None,
            password: None,
        }
    }

    /// `{prefix}/{id}/{leaf}`.
    #[must_use]
    pub fn topic(&self, leaf: &str) -> String {
        format!("{}/{}/{leaf}", self.prefix, self.id)
    }
}

/// What a device reports to whoever runs it (logs, readiness).
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// CONNACK accepted the connection.
    Connected {
        /// Device id.
        id: String,
    },
    /// The connection ended.
    Disconnected {
        /// Device id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A command arrived and was answered.
    Command {
        /// Device id.
        id: String,
        /// The command line.
        text: String,
        /// Whether a Response Topic was given (else nobody hears the reply).
        answered: bool,
    },
    /// Told to die: the socket was dropped without DISCONNECT.
    Killed {
        /// Device id.
        id: String,
    },
    /// Told to hang: the socket stays open but the device goes silent.
    Hung {
        /// Device id.
        id: String,
    },
    /// Rebooting on command.
    Rebooting {
        /// Device id.
        id: String,
    },
}

/// State that survives reboots.
#[derive(Debug)]
struct Device {
    config: DeviceConfig,
    sensors: Sensors,
    rate: f64,
    seq: u64,
    sent: u64,
    boots: u32,
    started: Instant,
    booted: Instant,
    last_step: Instant,
    reports: Option<mpsc::UnboundedSender<Report>>,
}

/// How one connection of the device ended.
enum End {
    Shutdown,
    /// Dropped, or hung and then dropped: stay down for `revive_after`.
    Down,
    Reboot,
}

/// Runs one device until `shutdown` turns true (or its sender is dropped),
/// then disconnects with Reason Code 0x04 so the broker publishes
/// `offline`.
pub async fn run(
    config: DeviceConfig,
    mut shutdown: watch::Receiver<bool>,
    reports: Option<mpsc::UnboundedSender<Report>>,
) {
    let now = Instant::now();
    let mut device = Device {
        sensors: Sensors::new(config.seed),
        rate: config
            .rate
            .clamp(command::RATE_RANGE.0, command::RATE_RANGE.1),
        config,
        seq: 0,
        sent: 0,
        boots: 0,
        started: now,
        booted: now,
        last_step: now,
        reports,
    };
    loop {
        let pause = match device.boot(&mut shutdown).await {
            End::Shutdown => return,
            End::Down => device.config.revive_after,
            End::Reboot => Some(device.config.reboot_delay),
        };
        let stopped = match pause {
            Some(pause) => {
                tokio::select! {
                    () = tokio::time::sleep(pause) => false,
                    () = stopped(&mut shutdown) => true,
                }
            }
            None => {
                stopped(&mut shutdown).await;
                true
            }
        };
        if stopped {
            return;
        }
    }
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: stop too.
    let _ = shutdown.wait_for(|&stop| stop).await;
}

impl Device {
    fn report(&self, report: Report) {
        if let Some(tx) = &self.reports {
            tx.send(report).ok();
        }
    }

    fn id(&self) -> String {
        self.config.id.clone()
    }

    fn options(&self) -> Options {
        let c = &self.config;
        let mut options = Options {
            client_id: format!("wasmqtt-sim-{}", c.id),
            keep_alive: c.keep_alive,
            username: c.username.clone(),
            password: c.password.clone().map(Bytes::from),
            connect_timeout: 10_000,
            reconnect: Some(Backoff {
                initial_delay: 500,
                max_delay: 5_000,
                max_attempts: None,
                reset_after: 10_000,
            }),
            // Stale readings are worthless: publish only while connected.
            queue_qos0: false,
            random_seed: c.seed.wrapping_add(u64::from(self.boots)),
            ..Options::default()
        };
        if let Ok(topic) = TopicName::new(c.topic("status")) {
            options.will = Some(Will {
                topic,
                payload: Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Properties::default(),
            });
        }
        options
    }

    fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate)
    }

    /// When the first reading of a boot is due: somewhere within one period,
    /// by the seed, so a fleet started at once does not publish in lockstep
    /// (500 devices would otherwise send 500 messages in the same instant).
    fn first_tick(&self, now: Instant) -> Instant {
        now + self.period().mul_f64(phase(self.config.seed))
    }

    /// One power-on: connect, work, and return how it ended.
    async fn boot(&mut self, shutdown: &mut watch::Receiver<bool>) -> End {
        self.boots += 1;
        self.booted = Instant::now();
        let mut link = Link::new(self.config.broker.clone(), self.options());
        let commands = self.config.topic("commands");
        let kill = format!("{}/kill", self.config.control);
        let hang = format!("{}/hang", self.config.control);
        let subscriptions = [&commands, &kill, &hang]
            .into_iter()
            .map(|filter| Subscription {
                filter: filter.clone(),
                options: SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    ..SubscriptionOptions::default()
                },
            })
            .collect();
        let now = link.now();
        // Queued until CONNACK; the session subscribes again by itself if
        // the broker loses the session.
        link.session()
            .subscribe(now, subscriptions, Properties::default())
            .ok();
        link.open().await;
        let mut next_tick = self.first_tick(Instant::now());
        loop {
            let wake = link.next(Some(next_tick), stopped(shutdown)).await;
            let message = match wake {
                Wake::Stopped => {
                    link.disconnect(ReasonCode::DisconnectWithWillMessage).await;
                    return End::Shutdown;
                }
                Wake::Deadline => {
                    self.publish_telemetry(&mut link);
                    let now = Instant::now();
                    next_tick += self.period();
                    if next_tick < now {
                        // Fell behind (a slow machine): skip, don't burst.
                        next_tick = now + self.period();
                    }
                    continue;
                }
                Wake::Event(Event::Connected(_)) => {
                    self.report(Report::Connected { id: self.id() });
                    self.publish_status(&mut link, "online");
                    continue;
                }
                Wake::Event(Event::Disconnected(reason)) => {
                    self.report(Report::Disconnected {
                        id: self.id(),
                        reason: reason.to_string(),
                    });
                    continue;
                }
                Wake::Event(Event::Message(message)) => message,
                Wake::Event(_) => continue,
            };
            let topic = message.topic.as_str();
            if topic == commands {
                match self.answer(&mut link, &message) {
                    Action::None => {}
                    Action::SetRate(rate) => {
                        self.rate = rate;
                        next_tick = Instant::now() + self.period();
                    }
                    Action::Reboot => {
                        self.report(Report::Rebooting { id: self.id() });
                        // The reply goes out first, in the same write.
                        link.disconnect(ReasonCode::DisconnectWithWillMessage).await;
                        return End::Reboot;
                    }
                }
            } else if topic == kill && self.addressed(&message.payload) {
                self.report(Report::Killed { id: self.id() });
                link.kill();
                return End::Down;
            } else if topic == hang && self.addressed(&message.payload) {
                self.report(Report::Hung { id: self.id() });
                // Keep the socket open but never read or write it: the
                // broker's keep-alive check (1.5 x Keep Alive) finds it dead.
                let revive = self.config.revive_after;
                tokio::select! {
                    () = async {
                        match revive {
                            Some(d) => tokio::time::sleep(d).await,
                            None => std::future::pending().await,
                        }
                    } => {}
                    () = stopped(shutdown) => return End::Shutdown,
                }
                drop(link);
                return End::Reboot;
            }
        }
    }

    fn addressed(&self, payload: &[u8]) -> bool {
        std::str::from_utf8(payload).is_ok_and(|p| p.trim() == self.config.id)
    }

    fn publish_status(&mut self, link: &mut Link, status: &'static str) {
        let Ok(topic) = TopicName::new(self.config.topic("status")) else {
            return;
        };
        let publish = Publish {
            qos: QoS::AtLeastOnce,
            retain: true,
            topic,
            payload: Bytes::from_static(status.as_bytes()),
            ..Publish::default()
        };
        let now = link.now();
        link.session().publish(now, publish).ok();
    }

    fn publish_telemetry(&mut self, link: &mut Link) {
        let now = Instant::now();
        self.sensors
            .step(now.duration_since(self.last_step).as_secs_f64());
        self.last_step = now;
        if !link.session().is_connected() {
            return;
        }
        let Ok(topic) = TopicName::new(self.config.topic("telemetry")) else {
            return;
        };
        self.seq += 1;
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let uptime = now.duration_since(self.booted).as_secs();
        let publish = Publish {
            topic,
            properties: Properties {
                content_type: Some("application/json".into()),
                ..Properties::default()
            },
            payload: self.sensors.payload(ts, self.seq, uptime).into(),
            ..Publish::default()
        };
        let at = link.now();
        if link.session().publish(at, publish).is_ok() {
            self.sent += 1;
        }
    }

    fn status(&self) -> serde_json::Value {
        let now = Instant::now();
        let s = &self.sensors;
        json!({
            "uptime": now.duration_since(self.booted).as_secs(),
            "since_start": now.duration_since(self.started).as_secs(),
            "boots": self.boots,
            "rate": self.rate,
            "sent": self.sent,
            "firmware": concat!("sim-", env!("CARGO_PKG_VERSION")),
            "temperature": (s.temperature * 100.0).round() / 100.0,
            "battery": (s.battery * 10.0).round() / 10.0,
        })
    }

    /// Answers a command through the request's Response Topic with its
    /// Correlation Data (section 4.10), at the request's QoS up to 1.
    fn answer(&mut self, link: &mut Link, request: &Publish) -> Action {
        let text = String::from_utf8_lossy(&request.payload);
        let (reply, action) = command::answer(&self.config.id, &text, || self.status());
        let response_topic = request.properties.response_topic.clone();
        self.report(Report::Command {
            id: self.id(),
            text: text.trim().to_owned(),
            answered: response_topic.is_some(),
        });
        // Without a Response Topic nobody is listening for the reply, but
        // the command is still carried out.
        if let Some(topic) = response_topic {
            let publish = Publish {
                qos: request.qos.min(QoS::AtLeastOnce),
                topic,
                properties: Properties {
                    correlation_data: request.properties.correlation_data.clone(),
                    content_type: Some("application/json".into()),
                    ..Properties::default()
                },
                payload: reply.to_string().into(),
                ..Publish::default()
            };
            let now = link.now();
            link.session().publish(now, publish).ok();
        }
        action
    }
}

/// A fraction in [0, 1) spread evenly over seeds (Fibonacci hashing), so
/// devices with consecutive seeds get far-apart phases.
fn phase(seed: u64) -> f64 {
    (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::phase;

    #[test]
    fn phases_cover_the_period() {
        let phases: Vec<f64> = (0..500u64).map(|i| phase(7 + i * 0x9E37_79B9)).collect();
        assert!(phases.iter().all(|p| (0.0..1.0).contains(p)));
        // Every tenth of the period holds some devices, none most of them.
        let mut buckets = [0usize; 10];
        for p in &phases {
            buckets[(p * 10.0) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (20..=80).contains(&n)),
            "{buckets:?}"
        );
    }
}
