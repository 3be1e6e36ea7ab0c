//! Plausible sensor readings: mean-reverting random walks.

use serde_json::json;

/// The session's generator with the distributions readings need; seeded
/// per device so runs differ between devices but a test can repeat one.
#[derive(Debug, Clone)]
pub struct Rng(wasmqtt_session::Rng);

impl Rng {
    /// A generator from `seed` (any value, zero included).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(wasmqtt_session::Rng::new(seed ^ 0x9E37_79B9_7F4A_7C15 | 1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        // 53 random bits make every representable value in [0, 1) reachable.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Roughly standard normal (Irwin–Hall with 12 terms).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

/// One device's sensors.
#[derive(Debug, Clone)]
pub struct Sensors {
    rng: Rng,
    /// Where the temperature drifts back to, in °C.
    temperature_base: f64,
    /// Where the humidity drifts back to, in %.
    humidity_base: f64,
    /// Battery drain in % per second.
    drain: f64,
    /// Temperature in °C.
    pub temperature: f64,
    /// Relative humidity in %.
    pub humidity: f64,
    /// Battery charge in %.
    pub battery: f64,
    /// Received signal strength in dBm.
    pub rssi: f64,
}

impl Sensors {
    /// Sensors with a personality drawn from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let temperature_base = rng.range(18.0, 27.0);
        let humidity_base = rng.range(35.0, 65.0);
        let battery = rng.range(40.0, 100.0);
        let rssi = rng.range(-85.0, -45.0);
        let drain = rng.range(0.01, 0.05);
        Self {
            temperature: temperature_base + rng.normal(),
            humidity: humidity_base + 2.0 * rng.normal(),
            temperature_base,
            humidity_base,
            battery,
            rssi,
            drain,
            rng,
        }
    }

    /// Advances the readings by `dt` seconds.
    pub fn step(&mut self, dt: f64) {
        let dt = dt.clamp(0.0, 60.0);
        let noise = dt.sqrt();
        // Ornstein–Uhlenbeck: pull toward the base, plus noise.
        self.temperature += 0.05 * dt * (self.temperature_base - self.temperature)
            + 0.15 * noise * self.rng.normal();
        self.humidity +=
            0.05 * dt * (self.humidity_base - self.humidity) + 0.6 * noise * self.rng.normal();
        self.rssi += 0.1 * dt * (-65.0 - self.rssi) + 1.5 * noise * self.rng.normal();
        self.battery -= self.drain * dt * self.rng.range(0.5, 1.5);
        if self.battery < 5.0 {
            // Someone swapped the batteries.
            self.battery = 100.0;
        }
        self.temperature = self.temperature.clamp(-20.0, 60.0);
        self.humidity = self.humidity.clamp(0.0, 100.0);
        self.rssi = self.rssi.clamp(-110.0, -30.0);
    }

    /// The telemetry message: JSON with rounded readings.
    #[must_use]
    pub fn payload(&self, ts_millis: u64, seq: u64, uptime_s: u64) -> String {
        json!({
            "ts": ts_millis,
            "seq": seq,
            "temperature": round(self.temperature, 2),
            "humidity": round(self.humidity, 1),
            "battery": round(self.battery, 1),
            "rssi": self.rssi.round() as i64,
            "uptime": uptime_s,
        })
        .to_string()
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_stay_plausible_for_a_day() {
        for seed in 0..8 {
            let mut s = Sensors::new(seed);
            for _ in 0..86_400 {
                s.step(1.0);
                assert!((-20.0..=60.0).contains(&s.temperature));
                assert!((0.0..=100.0).contains(&s.humidity));
                assert!((5.0..=100.0).contains(&s.battery));
                assert!((-110.0..=-30.0).contains(&s.rssi));
            }
            // Mean reversion keeps it near home, not at a clamp.
            assert!((s.temperature - s.temperature_base).abs() < 5.0);
        }
    }

    #[test]
    fn readings_move() {
        let mut s = Sensors::new(7);
        let before = s.temperature;
        s.step(1.0);
        assert_ne!(before, s.temperature);
    }

    #[test]
    fn payload_is_json_with_every_reading() {
        let s = Sensors::new(1);
        let v: serde_json::Value =
            serde_json::from_str(&s.payload(1_700_000_000_000, 3, 9)).unwrap();
        for key in [
            "ts",
            "seq",
            "temperature",
            "humidity",
            "battery",
            "rssi",
            "uptime",
        ] {
            assert!(v[key].is_number(), "{key} in {v}");
        }
        assert_eq!(v["seq"], 3);
    }

    #[test]
    fn rng_unit_is_in_range() {
        let mut r = Rng::new(0);
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
