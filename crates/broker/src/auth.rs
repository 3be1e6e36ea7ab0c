//! Who may connect, publish and subscribe.
//!
//! # Password file (`password_file`)
//!
//! One user a line, `NAME:HASH`; blank lines and lines starting with `#`
//! are skipped. The name runs to the first `:` (so names cannot hold one).
//! A user has one line, in one of two forms:
//!
//! ```text
//! # Argon2 PHC string (argon2id, argon2i or argon2d), salted:
//! alice:$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH
//! # SCRAM-SHA-256 credentials (RFC 5802 section 3), base64 with padding:
//! bob:scram-sha-256:4096:SALT_B64:STORED_KEY_B64:SERVER_KEY_B64
//! ```
//!
//! `wasmqtt-broker --hash-password NAME [--scram]` reads a password from
//! standard input and prints such a line. Both forms check a plain CONNECT
//! password (the SCRAM form by recomputing the SaltedPassword); only the
//! SCRAM form can serve enhanced authentication with method
//! `SCRAM-SHA-256`. A malformed file stops the broker at start with an error
//! naming the line.
//!
//! CONNECT outcomes: no user name → allowed if `allow_anonymous`, else 0x87
//! (3.1.1: return code 5); a user name with a password file → the password
//! must check out, else 0x86 (3.1.1: 4); a user name without a password file
//! → allowed if `allow_anonymous`, else 0x86.
//!
//! # ACL file (`acl_file`)
//!
//! Without an ACL file every client may publish and subscribe to anything
//! (the broker still keeps clients from publishing to `$` topics). With one,
//! everything not granted is denied. Blank lines and `#` comments are
//! skipped; the rest are directives:
//!
//! ```text
//! # Rules before any section apply to anonymous clients (as in mosquitto).
//! topic read public/#
//!
//! user alice                  # starts the rules of user "alice"
//! topic readwrite alice/#
//! topic write sensors/+/temp
//!
//! anonymous                   # starts the rules of clients without a user name
//! topic read public/#
//!
//! all                         # starts rules that apply to every client
//! topic readwrite users/%u/#
//! topic read clients/%c/#
//!
//! pattern readwrite inbox/%c  # mosquitto style: a rule of `all`, wherever it is
//! ```
//!
//! `topic [read|write|readwrite] PATTERN`: the access word may be left out
//! (then `readwrite`) if the pattern holds no blank space; the pattern is
//! the rest of the line, in MQTT topic filter syntax, and may not be a
//! `$share/` filter. In a pattern `%u`
//! stands for the client's user name and `%c` for its client identifier; a
//! rule using `%u` never applies to anonymous clients, and one whose
//! substituted value is empty or holds `/`, `+` or `#` does not apply.
//!
//! A client's rules are those of its section (`user NAME` or `anonymous`)
//! plus those of `all`. PUBLISH to a topic is allowed if a `write` or
//! `readwrite` pattern matches the topic (denied: PUBACK/PUBREC 0x87, QoS 0
//! dropped); a will topic is checked the same way at CONNECT (denied:
//! CONNACK 0x87). SUBSCRIBE to a filter is allowed if one `read` or
//! `readwrite` pattern *covers* it: every topic the filter can match is
//! matched by that pattern, checked level by level (`#` in the pattern
//! covers the rest; `+` covers any one level, `+` included; a literal covers
//! only itself; a pattern starting with a wildcard covers no filter starting
//! with `$`). Shared subscriptions are checked on their filter part. A
//! filter covered only by several patterns together is denied.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use wasmqtt_codec::topic::matches;
use wasmqtt_codec::{ReasonCode, TopicFilter};

use crate::config::Config;
use crate::scram::{self, ScramCredential};

/// Credentials and access control.
#[derive(Debug, Default)]
pub struct Access {
    allow_anonymous: bool,
    /// `None` without a password file.
    users: Option<HashMap<String, Credential>>,
    /// `None` without an ACL file: everything is allowed.
    acl: Option<Acl>,
    /// Makes up stable SCRAM salts for unknown users, so that an exchange
    /// does not tell which names exist.
    mock_secret: [u8; 32],
}

/// One user's line in the password file.
#[derive(Clone)]
enum Credential {
    /// A PHC string, checked when loaded.
    Argon2(String),
    Scram(ScramCredential),
}

impl Credential {
    /// Checks a plain password: one Argon2 hash or one PBKDF2 derivation.
    fn verify(&self, password: &[u8]) -> bool {
        match self {
            Self::Argon2(phc) => PasswordHash::new(phc)
                .is_ok_and(|hash| Argon2::default().verify_password(password, &hash).is_ok()),
            Self::Scram(c) => c.verify_password(password),
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Argon2(_) => "Argon2(..)",
            Self::Scram(_) => "Scram(..)",
        })
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
        let mut access = Self {
            allow_anonymous: config.allow_anonymous,
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
            (Some(credential), Some(password)) => credential.verify(password),
            _ => {
                // Spend the time a real check takes, so that it does not
                // tell which user names exist.
                if let Some(any) = users.values().next() {
                    any.verify(password.unwrap_or_default());
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

/// Which kind of line [`password_line`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// `NAME:$argon2id$...` with the argon2 crate's default parameters.
    Argon2,
    /// `NAME:scram-sha-256:...` with this many PBKDF2 iterations.
    Scram {
        /// PBKDF2 iterations (RFC 7677 asks for at least 4096).
        iterations: u32,
    },
}

/// Makes a password-file line for `username`, with a fresh random salt.
///
/// # Errors
///
/// The user name cannot be written in the file (empty, holds `:` or a line
/// break, starts with `#` or blank space), the password is empty, or no
/// randomness or hash could be had.
pub fn password_line(username: &str, password: &[u8], kind: HashKind) -> Result<String, String> {
    if username.is_empty()
        || username.contains([':', '\n', '\r'])
        || username.starts_with('#')
        || username.trim() != username
    {
        return Err(format!(
            "user name {username:?} cannot be written in a password file"
        ));
    }
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let hash = match kind {
        HashKind::Argon2 => {
            let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
            Argon2::default()
                .hash_password(password, &salt)
                .map_err(|e| e.to_string())?
                .to_string()
        }
        HashKind::Scram { iterations } if iterations > 0 => {
            ScramCredential::derive(password, &salt, iterations).to_string()
        }
        HashKind::Scram { .. } => return Err("iterations must be positive".into()),
    };
    Ok(format!("{username}:{hash}"))
}

/// Lines that are neither blank nor comments, numbered from 1.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

fn parse_passwords(text: &str) -> Result<HashMap<String, Credential>, String> {
    let mut users = HashMap::new();
    for (n, line) in content_lines(text) {
        let at = |e: &str| format!("line {n}: {e}");
        let (name, hash) = line
            .split_once(':')
            .ok_or_else(|| at("expected NAME:HASH"))?;
        if name.is_empty() {
            return Err(at("empty user name"));
        }
        let credential = if hash.starts_with("$argon2") {
            check_argon2(hash).map_err(|e| at(&e))?;
            Credential::Argon2(hash.to_owned())
        } else if hash.starts_with(scram::FILE_PREFIX) {
            Credential::Scram(ScramCredential::parse(hash).map_err(|e| at(&e))?)
        } else {
            return Err(at(
                "unknown password hash (expected $argon2id$... or scram-sha-256:...)",
            ));
        };
        if users.insert(name.to_owned(), credential).is_some() {
            return Err(at(&format!("user {name:?} appears twice")));
        }
    }
    Ok(users)
}

fn check_argon2(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc).map_err(|e| format!("not a PHC string: {e}"))?;
    if !["argon2id", "argon2i", "argon2d"].contains(&hash.algorithm.as_str()) {
        return Err(format!("unknown algorithm {}", hash.algorithm));
    }
    argon2::Params::try_from(&hash).map_err(|e| format!("bad Argon2 parameters: {e}"))?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("PHC string without salt or hash".into());
    }
    Ok(())
}

/// The parsed ACL file.
#[derive(Debug, Default)]
struct Acl {
    anonymous: Vec<Rule>,
    all: Vec<Rule>,
    users: HashMap<String, Vec<Rule>>,
}

#[derive(Debug)]
struct Rule {
    read: bool,
    write: bool,
    pattern: String,
}

/// Where `topic` lines go.
enum Section {
    Anonymous,
    All,
    User(String),
}

impl Acl {
    fn parse(text: &str) -> Result<Self, String> {
        let mut acl = Self::default();
        let mut section = Section::Anonymous;
        for (n, line) in content_lines(text) {
            let at = |e: &str| format!("line {n}: {e}");
            let (word, rest) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(w, r)| (w, r.trim()));
            match word {
                "user" if !rest.is_empty() => {
                    acl.users.entry(rest.to_owned()).or_default();
                    section = Section::User(rest.to_owned());
                }
                "user" => return Err(at("`user` needs a name")),
                "anonymous" | "all" if !rest.is_empty() => {
                    return Err(at(&format!("`{word}` takes nothing after it")))
                }
                "anonymous" => section = Section::Anonymous,
                "all" => section = Section::All,
                "topic" | "pattern" => {
                    let rule = Rule::parse(rest).map_err(|e| at(&e))?;
                    let rules = match (&section, word) {
                        (_, "pattern") | (Section::All, _) => &mut acl.all,
                        (Section::Anonymous, _) => &mut acl.anonymous,
                        (Section::User(name), _) => acl.users.entry(name.clone()).or_default(),
                    };
                    rules.push(rule);
                }
                other => return Err(at(&format!("unknown directive {other:?}"))),
            }
        }
        Ok(acl)
    }

    fn rules<'a>(&'a self, username: Option<&str>) -> impl Iterator<Item = &'a Rule> {
        let own = match username {
            None => Some(&self.anonymous),
            Some(name) => self.users.get(name),
        };
        own.into_iter().flatten().chain(&self.all)
    }
}

impl Rule {
    fn parse(text: &str) -> Result<Self, String> {
        let (read, write, pattern) = match text.split_once(char::is_whitespace) {
            Some(("read", p)) => (true, false, p.trim()),
            Some(("write", p)) => (false, true, p.trim()),
            Some(("readwrite", p)) => (true, true, p.trim()),
            Some((other, _)) => {
                return Err(format!(
                    "unknown access {other:?} (read, write or readwrite)"
                ))
            }
            None if ["read", "write", "readwrite"].contains(&text) => (true, true, ""),
            None => (true, true, text),
        };
        if pattern.is_empty() {
            return Err("a rule needs a topic pattern".into());
        }
        if pattern.starts_with("$share/") {
            return Err("a pattern cannot be a shared subscription".into());
        }
        let sample = pattern.replace("%u", "u").replace("%c", "c");
        TopicFilter::validate(&sample)
            .map_err(|e| format!("invalid topic pattern {pattern:?}: {e}"))?;
        Ok(Self {
            read,
            write,
            pattern: pattern.to_owned(),
        })
    }

    /// The pattern for this client, or `None` if the rule cannot apply.
    fn pattern_for(&self, username: Option<&str>, client_id: &str) -> Option<Cow<'_, str>> {
        if !self.pattern.contains('%') {
            return Some(Cow::Borrowed(&self.pattern));
        }
        let safe = |v: &str| !v.is_empty() && !v.contains(['/', '+', '#']);
        let mut pattern = self.pattern.clone();
        if pattern.contains("%u") {
            let user = username.filter(|u| safe(u))?;
            pattern = pattern.replace("%u", user);
        }
        if pattern.contains("%c") {
            if !safe(client_id) {
                return None;
            }
            pattern = pattern.replace("%c", client_id);
        }
        Some(Cow::Owned(pattern))
    }
}

/// Whether every topic `filter` can match is matched by `pattern` (both
/// valid filters, not shared). Conservative: compares level by level.
fn covers(pattern: &str, filter: &str) -> bool {
    // [MQTT-4.7.2-1]: a pattern starting with a wildcard matches no `$`
    // topic, which a filter starting with `$` matches only.
    if pattern.starts_with(['+', '#']) && filter.starts_with('$') {
        return false;
    }
    let mut p = pattern.split('/');
    let mut f = filter.split('/');
    loop {
        match (p.next(), f.next()) {
            // `#` covers what is left, none included ("a/#" matches "a").
            (Some("#"), _) => return true,
            (None, None) => return true,
            (None, Some(_)) | (Some(_), None) | (Some(_), Some("#")) => return false,
            (Some("+"), Some(_)) => {}
            (Some(p), Some(f)) if p == f => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(passwords: Option<&str>, acl: Option<&str>, anonymous: bool) -> Access {
        Access {
            allow_anonymous: anonymous,
            users: passwords.map(|t| parse_passwords(t).unwrap()),
            acl: acl.map(|t| Acl::parse(t).unwrap()),
            mock_secret: [7; 32],
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
    fn covers_is_level_wise() {
        let yes = [
            ("#", "#"),
            ("#", "a/+/b"),
            ("a/#", "a"),
            ("a/#", "a/#"),
            ("a/#", "a/+/c/#"),
            ("a/+", "a/b"),
            ("a/+", "a/+"),
            ("+/+", "x/+"),
            ("a/b", "a/b"),
            ("a//b", "a//b"),
            ("$SYS/#", "$SYS/broker/+"),
            ("+/x", "+/x"),
        ];
        let no = [
            ("a/b", "a/+"),
            ("a/+", "a/#"),
            ("a/+", "a"),
            ("a/+", "a/b/c"),
            ("a", "a/b"),
            ("a/b/c", "a/b"),
            ("a/+/c", "a/b/#"),
            ("#", "$SYS/#"),
            ("+/broker", "$SYS/broker"),
            ("a/b", "#"),
            ("b/#", "a/#"),
        ];
        for (p, f) in yes {
            assert!(covers(p, f), "{p} should cover {f}");
        }
        for (p, f) in no {
            assert!(!covers(p, f), "{p} should not cover {f}");
        }
    }

    /// Cross-check with `matches` on sample topics: whenever `covers` says
    /// yes, every sample the filter matches, the pattern matches too.
    #[test]
    fn covers_never_allows_more_than_the_pattern_matches() {
        let filters = [
            "#", "+", "a", "a/#", "a/+", "+/b", "a/b", "a/+/c", "+/+", "$SYS/#", "$SYS/+", "a//b",
        ];
        let topics = [
            "a", "b", "a/b", "a/c", "b/b", "a/b/c", "a/x/c", "a//b", "$SYS", "$SYS/x", "$SYS/x/y",
            "/", "/b", "a/", "",
        ];
        for p in filters {
            for f in filters {
                if covers(p, f) {
                    for t in topics {
                        assert!(
                            !matches(f, t) || matches(p, t),
                            "{p} covers {f} but misses {t}"
                        );
                    }
                }
            }
        }
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

    #[test]
    fn acl_errors_name_the_line() {
        for (text, line) in [
            ("user alice\ntopic read a/#/b", "line 2:"),
            ("\n\nfrobnicate x", "line 3:"),
            ("user", "line 1:"),
            ("topic read", "line 1:"),
            ("all x", "line 1:"),
            ("topic read $share/g/a", "line 1:"),
            ("topic rw a/b", "line 1:"),
        ] {
            let e = Acl::parse(text).unwrap_err();
            assert!(e.starts_with(line), "{text:?}: {e}");
        }
    }
}
