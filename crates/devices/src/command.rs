//! Commands a device answers on `{prefix}/{id}/commands`.
//!
//! A command is a line of text; the reply is a JSON object published to the
//! request's Response Topic with its Correlation Data:
//! `{"device":"dev-01","command":"ping","ok":true,"reply":"pong"}`, or
//! `{"device":…,"command":…,"ok":false,"error":"…"}`.

use serde_json::{json, Value};

/// Fastest and slowest telemetry rates a device accepts, in messages/s.
pub const RATE_RANGE: (f64, f64) = (0.1, 50.0);

/// What a device can be asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Answer `pong`.
    Ping,
    /// Report uptime, rate, counters and the latest readings.
    Status,
    /// Change the telemetry rate (messages/s).
    SetRate(f64),
    /// Answer, then disconnect (the broker publishes the will, `offline`)
    /// and come back a moment later.
    Reboot,
    /// List the commands.
    Help,
}

/// Help text listing every command.
pub const HELP: &str = "commands: ping, status, set-rate N (0.1-50 msg/s), reboot, help";

impl Command {
    /// Parses one command line (case-insensitive, surrounding space ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut words = text.split_whitespace();
        let name = words.next().unwrap_or("").to_ascii_lowercase();
        let arg = words.next();
        if words.next().is_some() {
            return Err(format!("too many arguments; {HELP}"));
        }
        let no_arg = |c: Command| match arg {
            None => Ok(c),
            Some(_) => Err(format!("{name} takes no argument")),
        };
        match name.as_str() {
            "ping" => no_arg(Command::Ping),
            "status" => no_arg(Command::Status),
            "reboot" => no_arg(Command::Reboot),
            "help" => no_arg(Command::Help),
            "set-rate" => {
                let arg = arg.ok_or("set-rate needs a rate in messages/s, e.g. set-rate 2")?;
                let rate: f64 = arg
                    .parse()
                    .map_err(|_| format!("set-rate: {arg:?} is not a number"))?;
                let (lo, hi) = RATE_RANGE;
                if !(lo..=hi).contains(&rate) {
                    return Err(format!("set-rate: {rate} is outside {lo}-{hi} msg/s"));
                }
                Ok(Command::SetRate(rate))
            }
            "" => Err(format!("empty command; {HELP}")),
            _ => Err(format!("unknown command {name:?}; {HELP}")),
        }
    }

    /// The command's name as the reply echoes it.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Command::Ping => "ping",
            Command::Status => "status",
            Command::SetRate(_) => "set-rate",
            Command::Reboot => "reboot",
            Command::Help => "help",
        }
    }
}

/// What the device must do after replying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Nothing more.
    None,
    /// Publish at this rate from now on.
    SetRate(f64),
    /// Disconnect and reconnect.
    Reboot,
}

/// Builds the reply to `text` from the device's current `status` (a JSON
/// object) and says what to do next.
#[must_use]
pub fn answer(device: &str, text: &str, status: impl FnOnce() -> Value) -> (Value, Action) {
    let command = match Command::parse(text) {
        Ok(c) => c,
        Err(error) => {
            let name = text.split_whitespace().next().unwrap_or("");
            return (
                json!({ "device": device, "command": name, "ok": false, "error": error }),
                Action::None,
            );
        }
    };
    let (reply, action) = match command {
        Command::Ping => (json!("pong"), Action::None),
        Command::Status => (status(), Action::None),
        Command::SetRate(rate) => (
            json!(format!("telemetry rate set to {rate} msg/s")),
            Action::SetRate(rate),
        ),
        Command::Reboot => (json!("rebooting"), Action::Reboot),
        Command::Help => (json!(HELP), Action::None),
    };
    (
        json!({ "device": device, "command": command.name(), "ok": true, "reply": reply }),
        action,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(Command::parse("ping"), Ok(Command::Ping));
        assert_eq!(Command::parse("  STATUS \n"), Ok(Command::Status));
        assert_eq!(Command::parse("reboot"), Ok(Command::Reboot));
        assert_eq!(Command::parse("help"), Ok(Command::Help));
        assert_eq!(Command::parse("set-rate 2.5"), Ok(Command::SetRate(2.5)));
    }

    #[test]
    fn refuses_bad_commands_with_a_reason() {
        assert!(Command::parse("").unwrap_err().contains("empty"));
        assert!(Command::parse("fly")
            .unwrap_err()
            .contains("unknown command \"fly\""));
        assert!(Command::parse("set-rate")
            .unwrap_err()
            .contains("needs a rate"));
        assert!(Command::parse("set-rate fast")
            .unwrap_err()
            .contains("not a number"));
        assert!(Command::parse("set-rate 500")
            .unwrap_err()
            .contains("outside"));
        assert!(Command::parse("set-rate NaN").is_err());
        assert!(Command::parse("ping 3")
            .unwrap_err()
            .contains("no argument"));
        assert!(Command::parse("set-rate 1 2")
            .unwrap_err()
            .contains("too many"));
    }

    #[test]
    fn answers_ping_with_pong() {
        let (reply, action) = answer("dev-01", "ping", || unreachable!());
        assert_eq!(
            reply,
            json!({"device": "dev-01", "command": "ping", "ok": true, "reply": "pong"})
        );
        assert_eq!(action, Action::None);
    }

    #[test]
    fn status_reply_is_the_device_status() {
        let (reply, _) = answer("dev-01", "status", || json!({"rate": 1.0}));
        assert_eq!(reply["reply"]["rate"], 1.0);
    }

    #[test]
    fn set_rate_and_reboot_ask_for_actions() {
        assert_eq!(
            answer("d", "set-rate 4", || json!({})).1,
            Action::SetRate(4.0)
        );
        assert_eq!(answer("d", "reboot", || json!({})).1, Action::Reboot);
    }

    #[test]
    fn errors_are_replies_not_silence() {
        let (reply, action) = answer("d", "explode now", || json!({}));
        assert_eq!(reply["ok"], false);
        assert_eq!(reply["command"], "explode");
        assert!(reply["error"].as_str().unwrap().contains("unknown command"));
        assert_eq!(action, Action::None);
    }
}
