//! The ACL file (`acl_file`).
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

use std::borrow::Cow;
use std::collections::HashMap;

use wasmqtt_codec::TopicFilter;

use super::content_lines;

/// The parsed ACL file.
#[derive(Debug, Default)]
pub(super) struct Acl {
    anonymous: Vec<Rule>,
    all: Vec<Rule>,
    users: HashMap<String, Vec<Rule>>,
}

#[derive(Debug)]
pub(super) struct Rule {
    pub(super) read: bool,
    pub(super) write: bool,
    pattern: String,
}

/// Where `topic` lines go.
enum Section {
    Anonymous,
    All,
    User(String),
}

impl Acl {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
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

    pub(super) fn rules<'a>(&'a self, username: Option<&str>) -> impl Iterator<Item = &'a Rule> {
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
    pub(super) fn pattern_for(
        &self,
        username: Option<&str>,
        client_id: &str,
    ) -> Option<Cow<'_, str>> {
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
pub(super) fn covers(pattern: &str, filter: &str) -> bool {
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
    use wasmqtt_codec::topic::matches;

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
