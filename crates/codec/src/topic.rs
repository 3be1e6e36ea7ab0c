//! Topic names and topic filters as validated types (MQTT 5.0 section 4.7;
//! MQTT 3.1.1 has the same rules).
//!
//! Validation happens once, at construction, so the rest of the code can
//! rely on a [`TopicName`] never holding a wildcard and a [`TopicFilter`]
//! never holding a misplaced one. Matching ([`matches()`]) is on the broker's
//! hot path: it scans bytes in one pass and never allocates.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// Longest topic in bytes: it travels as a UTF-8 string with a 16-bit length
/// [MQTT-4.7.3-3].
const MAX_LEN: usize = 65_535;

/// What a shared subscription filter starts with [MQTT-4.8.2].
const SHARE_PREFIX: &str = "$share/";

/// Why a topic name or filter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// Topics must hold at least one character [MQTT-4.7.3-1].
    #[error("topic is empty")]
    Empty,
    /// Longer than 65535 bytes of UTF-8 [MQTT-4.7.3-3].
    #[error("topic is longer than 65535 bytes")]
    TooLong,
    /// Holds U+0000 [MQTT-4.7.3-2].
    #[error("topic contains a null character")]
    NullCharacter,
    /// A topic name holds `+` or `#` [MQTT-3.3.2-2].
    #[error("topic name contains a wildcard")]
    WildcardInName,
    /// `#` is not the whole last level [MQTT-4.7.1-1].
    #[error("'#' is not the whole last level")]
    MisplacedMultiLevelWildcard,
    /// `+` is not a whole level [MQTT-4.7.1-2].
    #[error("'+' is not a whole level")]
    MisplacedSingleLevelWildcard,
    /// The share name of `$share/{ShareName}/{filter}` is empty or holds
    /// `/`, `+` or `#` [MQTT-4.8.2-1].
    #[error("invalid share name")]
    InvalidShareName,
    /// `$share/{ShareName}` is not followed by `/` and a filter [MQTT-4.8.2-2].
    #[error("shared subscription has no topic filter")]
    EmptySharedFilter,
}

/// Checks the rules every topic shares: non-empty, length, no U+0000.
fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        Err(TopicError::Empty)
    } else if s.len() > MAX_LEN {
        Err(TopicError::TooLong)
    } else if s.as_bytes().contains(&0) {
        Err(TopicError::NullCharacter)
    } else {
        Ok(())
    }
}

/// Checks wildcard placement in a non-empty, non-shared filter.
fn check_levels(filter: &str) -> Result<(), TopicError> {
    // On bytes (`/`, `#` and `+` are ASCII): `str` char patterns cost more code.
    let mut levels = filter.as_bytes().split(|&c| c == b'/').peekable();
    while let Some(level) = levels.next() {
        if level.contains(&b'#') && (level != b"#" || levels.peek().is_some()) {
            return Err(TopicError::MisplacedMultiLevelWildcard);
        }
        if level.contains(&b'+') && level != b"+" {
            return Err(TopicError::MisplacedSingleLevelWildcard);
        }
    }
    Ok(())
}

/// A topic name: what a PUBLISH is sent to. It holds no wildcards.
///
/// `TopicName::default()` is the empty name, which only a PUBLISH carrying a
/// Topic Alias may use; [`TopicName::new`] refuses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TopicName(String);

impl TopicName {
    /// Validates a topic name: non-empty [MQTT-4.7.3-1], no U+0000
    /// [MQTT-4.7.3-2], at most 65535 bytes [MQTT-4.7.3-3], and no `+` or
    /// `#` [MQTT-4.7.0-1] [MQTT-3.3.2-2].
    ///
    /// # Errors
    ///
    /// The [`TopicError`] naming the first rule broken.
    pub fn new(name: impl Into<String>) -> Result<Self, TopicError> {
        let name = name.into();
        check_common(&name)?;
        if name.bytes().any(|b| b == b'+' || b == b'#') {
            return Err(TopicError::WildcardInName);
        }
        Ok(Self(name))
    }

    /// The name as sent on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives back the owned text without copying.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }

    /// True only for the default name used with a Topic Alias.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Names starting with `$` are reserved for the server (e.g. `$SYS/`) and
    /// escape filters that start with a wildcard [MQTT-4.7.2-1].
    #[must_use]
    pub fn is_system(&self) -> bool {
        self.0.starts_with('$')
    }
}

/// Lets maps keyed by `TopicName` be looked up with a plain `&str`.
impl core::borrow::Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TopicName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TopicName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A topic filter: what a SUBSCRIBE asks for. It may hold wildcards and may
/// be a shared subscription `$share/{ShareName}/{filter}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter {
    /// The whole text as sent on the wire.
    full: String,
    /// Byte offset of the matched filter in `full`: 0 unless shared.
    start: usize,
}

impl TopicFilter {
    /// Validates a topic filter: non-empty, no U+0000, at most 65535 bytes,
    /// `#` only as the whole last level [MQTT-4.7.1-1], `+` only as a whole
    /// level [MQTT-4.7.1-2]. Text starting with `$share/` must go on with a
    /// share name free of `/`, `+`, `#` [MQTT-4.8.2-1], then `/` and a
    /// non-empty valid filter [MQTT-4.8.2-2].
    ///
    /// # Errors
    ///
    /// The [`TopicError`] naming the first rule broken.
    pub fn new(filter: impl Into<String>) -> Result<Self, TopicError> {
        let full = filter.into();
        let start = Self::check(&full)?;
        Ok(Self { full, start })
    }

    /// Checks `filter` like [`TopicFilter::new`] without taking or copying it.
    ///
    /// # Errors
    ///
    /// The [`TopicError`] naming the first rule broken.
    pub fn validate(filter: &str) -> Result<(), TopicError> {
        Self::check(filter).map(|_| ())
    }

    /// Validates and returns where the matched filter starts.
    fn check(full: &str) -> Result<usize, TopicError> {
        check_common(full)?;
        let start = match full.strip_prefix(SHARE_PREFIX) {
            None => 0,
            Some(rest) => {
                // On bytes, as in `check_levels`.
                let rest = rest.as_bytes();
                let (share, inner) = match rest.iter().position(|&c| c == b'/') {
                    Some(i) => (
                        rest.get(..i).unwrap_or_default(),
                        rest.get(i + 1..).unwrap_or_default(),
                    ),
                    None => (rest, &[][..]),
                };
                if share.is_empty() || share.iter().any(|&c| c == b'+' || c == b'#') {
                    return Err(TopicError::InvalidShareName);
                }
                if inner.is_empty() {
                    return Err(TopicError::EmptySharedFilter);
                }
                full.len() - inner.len()
            }
        };
        check_levels(full.get(start..).unwrap_or_default())?;
        Ok(start)
    }

    /// The whole text as sent on the wire, `$share/` prefix included.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// Gives back the owned text without copying.
    #[must_use]
    pub fn into_string(self) -> String {
        self.full
    }

    /// The share name of a shared subscription: `Some("g")` for
    /// `$share/g/a/#`.
    #[must_use]
    pub fn share_name(&self) -> Option<&str> {
        // The ShareName ends at the '/' just before the matched filter.
        let end = self.start.checked_sub(1)?;
        self.full.get(SHARE_PREFIX.len()..end)
    }

    /// The filter that is matched: `a/#` for `$share/g/a/#`, the whole text
    /// otherwise.
    #[must_use]
    pub fn filter(&self) -> &str {
        self.full.get(self.start..).unwrap_or_default()
    }

    /// Whether this is a `$share/{ShareName}/{filter}` subscription.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.start != 0
    }

    /// Whether [`filter`](Self::filter) holds `+` or `#`; validation makes
    /// every such character a wildcard.
    #[must_use]
    pub fn has_wildcards(&self) -> bool {
        self.filter().bytes().any(|b| b == b'+' || b == b'#')
    }

    /// Whether a PUBLISH to `topic` reaches this subscription.
    #[must_use]
    pub fn matches(&self, topic: &TopicName) -> bool {
        matches(self.filter(), topic.as_str())
    }
}

/// Implements the string conversions both topic types share; every way in
/// goes through `new`, so no unvalidated value can be built.
macro_rules! str_conversions {
    ($ty:ty) => {
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $ty {
            type Error = TopicError;
            fn try_from(s: String) -> Result<Self, TopicError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = TopicError;
            fn try_from(s: &str) -> Result<Self, TopicError> {
                Self::new(s)
            }
        }

        impl FromStr for $ty {
            type Err = TopicError;
            fn from_str(s: &str) -> Result<Self, TopicError> {
                Self::new(s)
            }
        }
    };
}

str_conversions!(TopicName);
str_conversions!(TopicFilter);

/// Whether `filter` matches `topic`, for callers that already validated both
/// (a shared filter must be passed without its `$share/{ShareName}/`).
///
/// `+` matches exactly one level, which may be empty; `#` matches the parent
/// level and any number of child levels; a filter starting with a wildcard
/// never matches a name starting with `$` [MQTT-4.7.2-1]. Unvalidated input
/// gives a meaningless answer but never panics. One pass, no allocation.
#[must_use]
pub fn matches(filter: &str, topic: &str) -> bool {
    let (f, t) = (filter.as_bytes(), topic.as_bytes());
    if t.first() == Some(&b'$') && matches!(f.first(), Some(b'+' | b'#')) {
        return false;
    }
    if f == t {
        // Cheap and common: a filter without wildcards.
        return true;
    }
    let (mut i, mut j) = (0, 0);
    loop {
        // Here `i` and `j` are at the start of a level.
        match (f.get(i), f.get(i + 1)) {
            (Some(b'#'), None) => return true,
            (Some(b'+'), None | Some(b'/')) => {
                i += 1;
                while t.get(j).is_some_and(|&c| c != b'/') {
                    j += 1;
                }
            }
            _ => {
                while let (Some(&a), Some(&b)) = (f.get(i), t.get(j)) {
                    if a != b || a == b'/' {
                        break;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        // Both levels must end together.
        match (f.get(i), t.get(j)) {
            (None, None) => return true,
            (Some(b'/'), Some(b'/')) => {
                i += 1;
                j += 1;
            }
            // "a/#" also matches "a": `#` includes the parent level.
            (Some(b'/'), None) => return f.get(i + 1..) == Some(b"#".as_slice()),
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn name(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    fn filter(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap()
    }

    fn fmatch(f: &str, t: &str) -> bool {
        filter(f).matches(&name(t))
    }

    /// Asserts every space-separated filter in `list` is accepted.
    fn ok(list: &str) {
        for s in list.split(' ') {
            assert_eq!(filter(s).as_str(), s);
        }
    }

    /// Asserts every space-separated filter in `list` is refused with `err`.
    fn bad(err: TopicError, list: &str) {
        for s in list.split(' ') {
            assert_eq!(TopicFilter::new(s), Err(err), "{s}");
        }
    }

    /// Checks lines `filter > names it matches` and `filter ! names it does not`.
    fn table(lines: &str) {
        for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut words = line.split(' ');
            let (f, op) = (words.next().unwrap(), words.next().unwrap());
            for t in words {
                assert_eq!(fmatch(f, t), op == ">", "{line}: {t}");
            }
        }
    }

    #[test]
    fn name_valid_and_conversions() {
        for s in "a / a/b // sport/tennis/player1 $SYS/x é/ü a/$share".split(' ') {
            assert_eq!(name(s).as_str(), s);
        }
        let n: TopicName = "a/b".parse().unwrap();
        assert!(n == "a/b" && n == *"a/b" && n.as_ref() == "a/b");
        assert_eq!(TopicName::try_from("a/b".to_string()), Ok(n.clone()));
        assert_eq!(TopicName::try_from("a/b"), Ok(n.clone()));
        assert_eq!(n.to_string(), "a/b");
        assert_eq!(n.into_string(), "a/b");
        assert!(name("$SYS/a").is_system() && !name("a/$SYS").is_system());
    }

    #[test]
    fn empty_null_length_mqtt_4_7_3_1_to_3() {
        // [MQTT-4.7.3-1] at least one character.
        assert_eq!(TopicName::new(""), Err(TopicError::Empty));
        assert_eq!(TopicFilter::new(""), Err(TopicError::Empty));
        assert!(TopicName::default().is_empty());
        assert_eq!(TopicError::Empty.to_string(), "topic is empty");
        // [MQTT-4.7.3-2] no U+0000.
        assert_eq!(TopicName::new("a\0b"), Err(TopicError::NullCharacter));
        bad(TopicError::NullCharacter, "a/\0 \0 $share/\0/a $share/g/\0");
        // [MQTT-4.7.3-3] at most 65535 bytes; bytes, not characters.
        let max = "a".repeat(MAX_LEN);
        assert!(TopicName::new(max.as_str()).is_ok());
        assert!(TopicFilter::new(max).is_ok());
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(TopicName::new(long.as_str()), Err(TopicError::TooLong));
        assert_eq!(TopicFilter::new(long), Err(TopicError::TooLong));
        let wide = "é".repeat(32_768);
        assert_eq!(TopicName::new(wide), Err(TopicError::TooLong));
    }

    #[test]
    fn name_wildcards_mqtt_4_7_0_1_and_3_3_2_2() {
        for s in "# + a/+ a/# a+ sport/tennis#".split(' ') {
            assert_eq!(TopicName::new(s), Err(TopicError::WildcardInName), "{s}");
        }
    }

    #[test]
    fn multi_level_wildcard_mqtt_4_7_1_1() {
        // Examples from 4.7.1.2, then edge cases.
        ok("sport/tennis/player1/# sport/# # /# a//#");
        let err = TopicError::MisplacedMultiLevelWildcard;
        bad(err, "sport/tennis# sport/tennis/#/ranking ## #/ #/# #a +#");
    }

    #[test]
    fn single_level_wildcard_mqtt_4_7_1_2() {
        // Examples from 4.7.1.3, then edge cases.
        ok("+ +/tennis/# sport/+/player1 /+ +/+ +/ a/+/+/# +//+");
        let err = TopicError::MisplacedSingleLevelWildcard;
        bad(err, "sport+ ++ a/+b +a/b a/b+/c");
    }

    #[test]
    fn spec_matching_examples() {
        // 4.7.1.2, then 4.7.1.3.
        table(
            "sport/tennis/player1/# > sport/tennis/player1 sport/tennis/player1/ranking
             sport/tennis/player1/# > sport/tennis/player1/score/wimbledon
             sport/# > sport sport/ sport/a/b
             sport/# ! sports spor s/port
             sport/tennis/+ > sport/tennis/player1 sport/tennis/player2
             sport/tennis/+ ! sport/tennis/player1/ranking sport/tennis
             sport/+ > sport/
             sport/+ ! sport
             +/+ > /finance
             /+ > /finance
             + ! /finance",
        );
    }

    #[test]
    fn empty_levels_are_levels() {
        table(
            "a/+/b > a//b
             a//b > a//b
             a/b ! a//b a a/b/c a/ /a/b
             # > / // a/
             a/+ ! a/b/c a
             +/+/+ > // a/b/c /b/",
        );
    }

    #[test]
    fn dollar_topics_mqtt_4_7_2_1() {
        table(
            "# ! $SYS/monitor/Clients $SYS $ $/a
             +/monitor/Clients ! $SYS/monitor/Clients
             + ! $SYS $
             $SYS/# > $SYS/monitor/Clients $SYS $SYS/
             $SYS/monitor/+ > $SYS/monitor/Clients
             $SYS/monitor/Clients > $SYS/monitor/Clients
             # > a/$SYS a$
             +/$x > a/$x
             $share/g/# ! $SYS/x
             $share/g/$SYS/+ > $SYS/x",
        );
    }

    #[test]
    fn shared_valid_mqtt_4_8_2() {
        let cases = "$share/g/a/# g a/#
                     $share/consumer1/sport/tennis/+ consumer1 sport/tennis/+
                     $share/g// g /
                     $share/$share/# $share #";
        for line in cases.lines() {
            let v: Vec<&str> = line.split_whitespace().collect();
            let f = filter(v[0]);
            assert!(f.is_shared() && f.has_wildcards() == v[2].contains(['+', '#']));
            assert_eq!((f.share_name(), f.filter()), (Some(v[1]), v[2]));
            assert_eq!(f.as_str(), v[0]);
        }
        table(
            "$share/g/a/# > a a/b
             $share/g/a/# ! $share/g/a/b",
        );
    }

    #[test]
    fn shared_share_name_mqtt_4_8_2_1() {
        let err = TopicError::InvalidShareName;
        bad(err, "$share/ $share//a $share/+/a $share/#/a");
        bad(err, "$share/g+/a $share/# $share/a#/b");
    }

    #[test]
    fn shared_needs_filter_mqtt_4_8_2_2() {
        bad(TopicError::EmptySharedFilter, "$share/x $share/x/");
        let err = TopicError::MisplacedMultiLevelWildcard;
        bad(err, "$share/g/a/#/b $share/g/a#");
        bad(TopicError::MisplacedSingleLevelWildcard, "$share/g/a+");
    }

    #[test]
    fn not_shared_and_conversions() {
        for s in "$shared/a $share $SHARE/g/a a/$share/g/b".split(' ') {
            let f = filter(s);
            assert!(!f.is_shared() && f.share_name().is_none() && f.filter() == s);
        }
        let f: TopicFilter = "a/+".parse().unwrap();
        assert_eq!(TopicFilter::try_from("a/+"), Ok(f.clone()));
        assert_eq!(TopicFilter::try_from("a/+".to_string()), Ok(f.clone()));
        assert_eq!((f.to_string().as_str(), f.as_ref()), ("a/+", "a/+"));
        assert!(f.has_wildcards() && !filter("a/b").has_wildcards());
        assert_eq!(f.into_string(), "a/+");
    }

    /// Straightforward split-based matcher to check the byte scanner against.
    fn reference(f: &str, t: &str) -> bool {
        if t.starts_with('$') && (f.starts_with('+') || f.starts_with('#')) {
            return false;
        }
        let (mut fl, mut tl) = (f.split('/'), t.split('/'));
        loop {
            match (fl.next(), tl.next()) {
                (Some("#"), _) | (None, None) => return true,
                (Some("+"), Some(_)) => {}
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    }

    const NAME: &str = "[^+#\\x00]{1,40}";

    /// Only valid filters, over a tiny alphabet so they often match.
    fn valid_filter() -> impl Strategy<Value = String> {
        "(([ab$]{0,2}|\\+)/){0,4}([ab$]{0,2}|\\+|#)".prop_filter("empty", |f| !f.is_empty())
    }

    /// Arbitrary text, or short text dense in the characters that matter.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "(\\$share/)?[a/+#$\\x00]{0,12}"]
    }

    proptest! {
        #[test]
        fn prop_filter_equal_to_name_matches(n in NAME) {
            prop_assert!(matches(&n, &n));
            prop_assume!(!n.starts_with(SHARE_PREFIX));
            prop_assert!(filter(&n).matches(&name(&n)));
        }

        #[test]
        fn prop_hash_matches_non_dollar(n in NAME) {
            prop_assert_eq!(fmatch("#", &n), !n.starts_with('$'));
        }

        #[test]
        fn prop_plus_replaces_any_level(n in NAME, k in any::<prop::sample::Index>()) {
            let mut levels: Vec<&str> = n.split('/').collect();
            let k = k.index(levels.len());
            levels[k] = "+";
            let f = levels.join("/");
            let want = k != 0 || !n.starts_with('$');
            prop_assert_eq!(matches(&f, &n), want);
            prop_assume!(!f.starts_with(SHARE_PREFIX));
            prop_assert_eq!(filter(&f).matches(&name(&n)), want);
        }

        #[test]
        fn prop_matches_agrees_with_reference(f in valid_filter(), t in "[ab/$]{1,8}") {
            prop_assert!(TopicFilter::new(f.as_str()).is_ok());
            prop_assert_eq!(matches(&f, &t), reference(&f, &t));
        }

        #[test]
        fn prop_never_panics(a in text(), b in text()) {
            let _ = matches(&a, &b);
            let _ = TopicName::new(a.as_str());
            if let Ok(f) = TopicFilter::new(a.as_str()) {
                prop_assert_eq!(f.as_str(), a.as_str());
                prop_assert!(a.ends_with(f.filter()));
            }
        }
    }
}
