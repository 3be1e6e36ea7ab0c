//! Commands from outside the connection: takeover, shutdown, and the
//! `$control/...` fault-injection topics (only with `test_control` on;
//! with a password file, only for `test_control_user` and users the ACL
//! grants write access to them).
//!
//! | topic                              | payload                      | effect on that client's connection |
//! |------------------------------------|------------------------------|------------------------------------|
//! | `$control/drop/{client}`           | ignored                      | closed abruptly, no DISCONNECT     |
//! | `$control/disconnect/{client}`     | `code[,server reference]`    | DISCONNECT with that reason code   |
//! | `$control/raw/{client}`            | bytes                        | the bytes are written as they are  |
//! | `$control/withhold-acks/{client}`  | `1` or `0`                   | stop / resume PUBACK and PUBREC    |

use wasmqtt_codec::{Disconnect, Packet, PacketType, ProtocolVersion, Publish, ReasonCode};

use super::{Connection, End};
use crate::session::Control;

impl Connection {
    /// Handles a command; `Some` ends the connection.
    pub(super) fn on_control(&mut self, control: Control) -> Option<End> {
        match control {
            Control::TakenOver => {
                self.send_disconnect(ReasonCode::SessionTakenOver);
                Some(End::Abnormal)
            }
            Control::Shutdown => {
                self.send_disconnect(ReasonCode::ServerShuttingDown);
                Some(End::Abnormal)
            }
            Control::Drop => {
                self.tx.clear();
                Some(End::Abnormal)
            }
            Control::Disconnect {
                reason_code,
                server_reference,
            } => {
                // MQTT 3.1.1 has no server DISCONNECT: the connection just closes.
                if self.version == ProtocolVersion::V5 {
                    let mut packet = Disconnect::new(reason_code);
                    packet.properties.server_reference = server_reference;
                    self.encode(&Packet::Disconnect(packet));
                }
                Some(End::Abnormal)
            }
            Control::Raw(bytes) => {
                self.tx.extend_from_slice(&bytes);
                None
            }
            Control::WithholdAcks(on) => {
                self.withhold_acks = on;
                None
            }
        }
    }

    /// Parses a `$control/...` publish and forwards the command.
    pub(super) fn on_test_control(&mut self, publish: &Publish) {
        let mut parts = publish.topic.as_str().splitn(3, '/').skip(1);
        let (Some(verb), Some(client)) = (parts.next(), parts.next()) else {
            return;
        };
        let payload = String::from_utf8_lossy(&publish.payload);
        let command = match verb {
            "drop" => Control::Drop,
            "raw" => Control::Raw(publish.payload.clone()),
            "withhold-acks" => Control::WithholdAcks(payload.trim() == "1"),
            "disconnect" => {
                let (code, reference) = match payload.split_once(',') {
                    Some((c, r)) => (c, Some(r.trim().to_owned())),
                    None => (&*payload, None),
                };
                let code = parse_code(code.trim()).unwrap_or(ReasonCode::AdministrativeAction);
                Control::Disconnect {
                    reason_code: code,
                    server_reference: reference,
                }
            }
            _ => return,
        };
        let state = self.shared.state();
        if let Some(link) = state.sessions.get(client).and_then(|s| s.link.as_ref()) {
            link.control.send(command).ok();
        }
    }
}

/// A DISCONNECT reason code written in decimal or `0x` hex.
fn parse_code(text: &str) -> Option<ReasonCode> {
    let value = match text.strip_prefix("0x") {
        Some(hex) => u8::from_str_radix(hex, 16).ok()?,
        None => text.parse().ok()?,
    };
    ReasonCode::from_u8(value).filter(|c| c.is_valid_for(PacketType::Disconnect))
}
