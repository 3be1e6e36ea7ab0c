//! Who may connect, publish and subscribe: the password file
//! ([`password`]), the ACL file ([`acl`]) and the bounds on password
//! checks ([`gate`]).

mod acl;
pub mod gate;
mod password;

use std::collections::HashMap;
use std::io;
use std::path::Path;

use wasmqtt_codec::topic::matches;
use wasmqtt_codec::ReasonCode;

use crate::config::Config;
use crate::scram::{self, ScramCredential};

use acl::{covers, Acl};
use gate::LoginGate;
use password::{parse_passwords, BlockPool, Credential};
pub use password::{password_line, HashKind};

/// Credentials and access control.
#[derive(Debug)]
pub struct Access {
    allow_anonymous: bool,
    /// `None` without a password file.
    users: Option<HashMap<String, Credential>>,
    /// `None` without an ACL file: everything is allowed.
    acl: Option<Acl>,
    /// Makes up stable SCRAM salts for unknown users, so that an exchange
    /// does not tell which names exist.
    mock_secret: [u8; 32],
    /// Bounds concurrent password checks and backs off failing addresses.
    logins: LoginGate,
    /// Argon2 working memory, one buffer per concurrent check.
    memory: BlockPool,
}

impl Default for Access {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            users: None,
            acl: None,
            mock_secret: [0; 32],
            logins: LoginGate::new(1, std::time::Duration::ZERO, 0),
            memory: BlockPool::default(),
        }
    }
}

impl Access {
    /// Loads the password and ACL files named in `config`.
    ///
    /// # Errors
    ///
    /// A file cannot be read, or a line is malformed: the error names the
    /// file and the line.
    pub fn load(config: &Config) -> io::Result<Self> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        let invalid = |path: &Path, e: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        };
        let limits = &config.limits;
        let logins = LoginGate::new(
            limits.max_concurrent_logins,
            std::time::Duration::from_millis(limits.login_wait_ms),
            limits.login_failures_before_backoff,
        );
        let mut access = Self {
            allow_anonymous: config.allow_anonymous,
            memory: BlockPool::new(logins.capacity()),
            logins,
            ..Self::default()
        };
        getrandom::fill(&mut access.mock_secret).map_err(io::Error::other)?;
        if let Some(path) = &config.password_file {
            access.users = Some(parse_passwords(&read(path)?).map_err(|e| invalid(path, e))?);
        }
        if let Some(path) = &config.acl_file {
            access.acl = Some(Acl::parse(&read(path)?).map_err(|e| invalid(path, e))?);
        }
        Ok(access)
    }

    /// Whether checking a CONNECT's credentials may hash (and so should run
    /// off the async threads).
    pub fn verifies_passwords(&self, username: Option<&str>) -> bool {
        username.is_some() && self.users.is_some()
    }

    /// Checks CONNECT credentials. With a password file this may cost a
    /// password hash: see [`Access::verifies_passwords`].
    pub fn authenticate(
        &self,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<(), ReasonCode> {
        let Some(username) = username else {
            return if self.allow_anonymous {
                Ok(())
            } else {
                Err(ReasonCode::NotAuthorized)
            };
        };
        let Some(users) = &self.users else {
            return if self.allow_anonymous {
                Ok(())
            } else {
                Err(ReasonCode::BadUserNameOrPassword)
            };
        };
        let ok = match (users.get(username), password) {
            (Some(credential), Some(password)) => credential.verify(password, &self.memory),
            _ => {
                // Spend the time a real check takes, so that it does not
                // tell which user names exist.
                if let Some(any) = users.values().next() {
                    any.verify(password.unwrap_or_default(), &self.memory);
                }
                false
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ReasonCode::BadUserNameOrPassword)
        }
    }

    /// The gate password checks go through.
    pub fn logins(&self) -> &LoginGate {
        &self.logins
    }

    /// Whether there is an ACL file (without one every topic is readable).
    pub fn has_acl(&self) -> bool {
        self.acl.is_some()
    }

    /// Whether user names are proven (there is a password file).
    pub fn authenticates(&self) -> bool {
        self.users.is_some()
    }

    /// Whether an ACL file explicitly allows publishing to `topic` (without
    /// one nothing is granted explicitly).
    pub fn acl_grants_publish(&self, username: Option<&str>, client_id: &str, topic: &str) -> bool {
        self.acl.is_some() && self.can_publish(username, client_id, topic)
    }

    /// Whether SCRAM-SHA-256 is offered: only with a password file.
    pub fn scram_enabled(&self) -> bool {
        self.users.is_some()
    }

    /// The SCRAM credentials of `username`. A user that does not exist or
    /// has only an Argon2 hash gets made-up ones that no proof satisfies,
    /// the same on every try.
    pub fn scram_credential(&self, username: &str) -> ScramCredential {
        if let Some(Credential::Scram(c)) = self.users.as_ref().and_then(|u| u.get(username)) {
            return c.clone();
        }
        let mock =
            |what: &str| scram::hmac(&self.mock_secret, format!("{what}\0{username}").as_bytes());
        ScramCredential {
            iterations: scram::DEFAULT_ITERATIONS,
            salt: mock("salt")[..16].to_vec(),
            stored_key: mock("stored"),
            server_key: mock("server"),
        }
    }

    /// Whether `username` (connected as `client_id`) may publish to `topic`.
    pub fn can_publish(&self, username: Option<&str>, client_id: &str, topic: &str) -> bool {
        let Some(acl) = &self.acl else {
            return true;
        };
        acl.rules(username)
            .filter(|r| r.write)
            .filter_map(|r| r.pattern_for(username, client_id))
            .any(|pattern| matches(&pattern, topic))
    }

    /// Whether `username` (connected as `client_id`) may receive a message
    /// published to `topic`: checked when a message is queued and again when
    /// it is sent, so a subscription can never deliver more than the rules
    /// allow now.
    pub fn can_read(&self, username: Option<&str>, client_id: &str, topic: &str) -> bool {
        let Some(acl) = &self.acl else {
            return true;
        };
        acl.rules(username)
            .filter(|r| r.read)
            .filter_map(|r| r.pattern_for(username, client_id))
            .any(|pattern| matches(&pattern, topic))
    }

    /// Whether `username` (connected as `client_id`) may subscribe to
    /// `filter`, a valid topic filter, maybe shared.
    pub fn can_subscribe(&self, username: Option<&str>, client_id: &str, filter: &str) -> bool {
        let Some(acl) = &self.acl else {
            return true;
        };
        let filter = match filter.strip_prefix("$share/") {
            Some(rest) => rest.split_once('/').map_or(rest, |(_, f)| f),
            None => filter,
        };
        acl.rules(username)
            .filter(|r| r.read)
            .filter_map(|r| r.pattern_for(username, client_id))
            .any(|pattern| covers(&pattern, filter))
    }
}

#[cfg(test)]
impl Access {
    /// Access with only an ACL, from its text.
    pub(crate) fn with_acl(text: &str) -> Self {
        Self {
            allow_anonymous: true,
            acl: Some(Acl::parse(text).unwrap_or_default()),
            ..Self::default()
        }
    }
}

/// Lines that are neither blank nor comments, numbered from 1.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::Argon2;

    fn access(passwords: Option<&str>, acl: Option<&str>, anonymous: bool) -> Access {
        Access {
            allow_anonymous: anonymous,
            users: passwords.map(|t| parse_passwords(t).unwrap()),
            acl: acl.map(|t| Acl::parse(t).unwrap()),
            mock_secret: [7; 32],
            ..Access::default()
        }
    }

    /// An Argon2 line with small parameters, so debug builds stay quick.
    fn cheap_argon2(user: &str, password: &str) -> String {
        let params = argon2::Params::new(64, 1, 1, None).unwrap();
        let a = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        format!(
            "{user}:{}",
            a.hash_password(password.as_bytes(), &salt).unwrap()
        )
    }

    #[test]
    fn passwords_check_out_by_form() {
        let salt = b"saltsaltsaltsalt";
        let scram = ScramCredential::derive(b"s3cret", salt, 4096);
        let file = format!(
            "# users\n\n{}\n  bob:{scram}  \n",
            cheap_argon2("alice", "wonderland")
        );
        let a = access(Some(&file), None, false);
        assert_eq!(a.authenticate(Some("alice"), Some(b"wonderland")), Ok(()));
        assert_eq!(a.authenticate(Some("bob"), Some(b"s3cret")), Ok(()));
        for (user, pw) in [
            (Some("alice"), Some(&b"wrong"[..])),
            (Some("alice"), None),
            (Some("bob"), Some(b"wonderland")),
            (Some("carol"), Some(b"wonderland")),
        ] {
            assert_eq!(
                a.authenticate(user, pw),
                Err(ReasonCode::BadUserNameOrPassword)
            );
        }
        assert_eq!(a.authenticate(None, None), Err(ReasonCode::NotAuthorized));
        let open = access(Some(&file), None, true);
        assert_eq!(open.authenticate(None, None), Ok(()));
        assert_eq!(
            open.authenticate(Some("alice"), Some(b"x")),
            Err(ReasonCode::BadUserNameOrPassword)
        );
        assert_eq!(a.scram_credential("bob"), scram);
        // Unknown and Argon2-only users get stable made-up credentials.
        let mock = a.scram_credential("carol");
        assert_eq!(mock, a.scram_credential("carol"));
        assert_ne!(mock.salt, a.scram_credential("alice").salt);
    }

    #[test]
    fn password_file_errors_name_the_line() {
        for (text, line) in [
            ("alice", "line 1:"),
            ("# c\n\n:$argon2id$x", "line 3:"),
            ("a:plain", "line 1:"),
            ("a:$argon2id$nonsense", "line 1:"),
            ("a:scram-sha-256:1:2", "line 1:"),
        ] {
            let e = parse_passwords(text).unwrap_err();
            assert!(e.starts_with(line), "{text:?}: {e}");
        }
        let line = cheap_argon2("a", "p");
        let e = parse_passwords(&format!("{line}\n{line}\n")).unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("twice"), "{e}");
    }

    #[test]
    fn password_line_makes_loadable_lines() {
        let line = password_line("dave", b"pw", HashKind::Scram { iterations: 4096 }).unwrap();
        assert!(line.starts_with("dave:scram-sha-256:4096:"));
        let a = access(Some(&line), None, false);
        assert_eq!(a.authenticate(Some("dave"), Some(b"pw")), Ok(()));
        assert!(password_line("a:b", b"pw", HashKind::Argon2).is_err());
        assert!(password_line(" a", b"pw", HashKind::Argon2).is_err());
        assert!(password_line("a", b"", HashKind::Argon2).is_err());
    }

    const ACL: &str = "\
# anonymous, before any section
topic read public/#

user alice
topic readwrite alice/#
topic write sensors/+/temp
topic read $SYS/#

all
topic readwrite users/%u/#
pattern read clients/%c/in

user bob
topic bob/# 
topic readwrite with space/# ";

    #[test]
    fn read_access_is_per_topic() {
        let a = access(None, Some(ACL), true);
        assert!(a.can_read(Some("alice"), "c1", "$SYS/broker/uptime"));
        assert!(a.can_read(Some("alice"), "c1", "alice/x"));
        assert!(!a.can_read(Some("alice"), "c1", "sensors/kitchen/temp"));
        assert!(!a.can_read(Some("eve"), "c1", "alice/x"));
        assert!(a.can_read(None, "c9", "clients/c9/in"));
        assert!(!a.can_read(None, "c9", "clients/c8/in"));
        assert!(access(None, None, true).can_read(Some("eve"), "c", "alice/x"));
    }

    #[test]
    fn acl_grants_by_section_and_substitution() {
        let a = access(None, Some(ACL), true);
        let pubs = |u: Option<&str>, c: &str, t: &str| a.can_publish(u, c, t);
        let subs = |u: Option<&str>, c: &str, f: &str| a.can_subscribe(u, c, f);
        assert!(pubs(Some("alice"), "c1", "alice/x/y"));
        assert!(pubs(Some("alice"), "c1", "sensors/kitchen/temp"));
        assert!(!pubs(Some("alice"), "c1", "sensors/kitchen/hum"));
        assert!(!pubs(Some("alice"), "c1", "public/x"));
        assert!(!pubs(None, "c1", "public/x"));
        assert!(subs(None, "c1", "public/#"));
        assert!(!subs(Some("alice"), "c1", "public/#"));
        assert!(subs(Some("alice"), "c1", "$SYS/broker/#"));
        assert!(!subs(Some("alice"), "c1", "sensors/+/temp"));
        assert!(subs(Some("alice"), "c1", "$share/g/alice/+"));
        assert!(!subs(Some("alice"), "c1", "$share/g/bob/+"));
        // `all` and `%u`/`%c`.
        assert!(pubs(Some("bob"), "c1", "users/bob/x"));
        assert!(!pubs(Some("bob"), "c1", "users/alice/x"));
        assert!(subs(Some("bob"), "c1", "users/bob/#"));
        assert!(!subs(Some("bob"), "c1", "users/+/#"));
        assert!(!pubs(None, "c1", "users//x"));
        assert!(subs(None, "c9", "clients/c9/in"));
        assert!(!subs(None, "c9", "clients/c8/in"));
        assert!(!subs(Some("mallory"), "+", "clients/+/in"));
        assert!(!pubs(Some("a/b"), "c1", "users/a/b/x"));
        // Unknown users get only `all`; `topic` without an access word is readwrite.
        assert!(!pubs(Some("zed"), "c1", "alice/x"));
        assert!(pubs(Some("bob"), "c1", "bob/x") && subs(Some("bob"), "c1", "bob/#"));
        assert!(pubs(Some("bob"), "c1", "with space/x"));
        // No ACL file: everything.
        let open = access(None, None, true);
        assert!(open.can_publish(None, "c", "x") && open.can_subscribe(None, "c", "#"));
    }
}
