//! The wasm↔JS boundary, checked: the names and numbers each side uses
//! for record kinds and flags (`events.rs` and `js/bridge.js`), the tags
//! of the connect options record (`options.rs` and `js/options.js`), and MQTT 5.0
//! property identifiers (the codec, `js/bridge.js` and `js/options.js`).
//! Each test reads the sources, so a change on one side alone fails here.
//! (Failures are checked the same way in `error.rs`.)

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec::Vec;

use wasmqtt_codec::PropertyId;

const EVENTS_RS: &str = include_str!("events.rs");
const OPTIONS_RS: &str = include_str!("options.rs");
const BRIDGE_JS: &str = include_str!("../js/bridge.js");
const OPTIONS_JS: &str = include_str!("../js/options.js");

/// The text from `start` to the first `end` after it.
fn block<'a>(source: &'a str, start: &str, end: &str) -> &'a str {
    let from = source
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"));
    let rest = &source[from + start.len()..];
    &rest[..rest.find(end).unwrap_or_else(|| panic!("end of {start:?}"))]
}

/// `Name = 1,` lines of a Rust enum body: name and number.
fn rust_enum(body: &str) -> Vec<(String, u32)> {
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with("#[") && l.contains(" = "))
        .map(|l| {
            let (name, value) = l.trim_end_matches(',').split_once(" = ").unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// `const NAME: type = N;` (any visibility) in `source`: value by name.
fn rust_consts(source: &str) -> BTreeMap<String, u32> {
    source
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = &l[l.find("const ")? + 6..];
            let (name, rest) = rest.split_once(':')?;
            let value = rest.split_once('=')?.1.trim().trim_end_matches(';');
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// `const NAME = N;` in JS source: value by name.
fn js_consts(source: &str) -> BTreeMap<String, u32> {
    source
        .lines()
        .filter_map(|l| {
            let (name, value) = l.strip_prefix("const ")?.split_once(" = ")?;
            Some((name.to_string(), value.trim_end_matches(';').parse().ok()?))
        })
        .collect()
}

/// The string literals of the JS array `const NAME = [ ... ];`.
fn js_strings(source: &str, name: &str) -> Vec<String> {
    block(source, &format!("const {name} = ["), "];")
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// `PayloadFormatIndicator` → `PAYLOAD_FORMAT_INDICATOR`.
fn upper_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `PayloadFormatIndicator` → `payloadFormatIndicator`.
fn lower_camel(pascal: &str) -> String {
    let mut chars = pascal.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_lowercase().to_string() + chars.as_str()
    })
}

#[test]
fn records_match_js() {
    let kinds = rust_enum(block(EVENTS_RS, "pub(crate) enum Kind {", "}"));
    assert!(kinds.len() >= 16, "{kinds:?}");
    let js = js_consts(BRIDGE_JS);
    let events = js_strings(BRIDGE_JS, "EVENTS");
    let close = js["K_CLOSE"];
    for (name, value) in &kinds {
        if *value >= close {
            // Events without an argument: named by EVENTS in order.
            let event = events.get((value - close) as usize);
            assert_eq!(event, Some(&name.to_lowercase()), "Kind::{name}");
        } else {
            let js_name = format!("K_{}", upper_snake(name));
            assert_eq!(js.get(&js_name), Some(value), "Kind::{name} vs {js_name}");
        }
    }
    assert_eq!(
        kinds.last().map(|k| k.1),
        Some(close + events.len() as u32 - 1)
    );
    // No JS kind the wasm does not write.
    for (name, value) in js.iter().filter(|(n, _)| n.starts_with("K_")) {
        assert!(kinds.iter().any(|k| k.1 == *value), "{name} = {value}");
    }
}

#[test]
fn message_flags_match_js() {
    let rust = rust_consts(block(
        EVENTS_RS,
        "QoS in the low two bits",
        "/// The buffer",
    ));
    let js = js_consts(BRIDGE_JS);
    assert_eq!(rust.len(), 5, "{rust:?}");
    for (name, value) in &rust {
        assert_eq!(js.get(&format!("F_{name}")), Some(value), "{name}");
    }
    // QoS takes the bits below the lowest flag.
    assert_eq!(js["F_QOS"] + 1, *rust.values().min().unwrap());
}

#[test]
fn connect_option_tags_match_js() {
    let rust = rust_consts(block(OPTIONS_RS, "mod field {", "}"));
    let js: BTreeMap<String, u32> = js_consts(OPTIONS_JS)
        .into_iter()
        .filter_map(|(name, v)| Some((name.strip_prefix("O_")?.to_string(), v)))
        .collect();
    assert!(rust.len() >= 25, "{rust:?}");
    assert_eq!(rust, js);
    // Tags are distinct, and each is written by `connectArgs` and read by `connect`.
    let mut values: Vec<u32> = rust.values().copied().collect();
    values.sort_unstable();
    values.dedup();
    assert_eq!(values.len(), rust.len());
    let writer = block(OPTIONS_JS, "export function connectArgs", "\n}\n");
    let reader = block(OPTIONS_RS, "fn read<'a>(", "\n}\n");
    for name in rust.keys() {
        assert!(
            writer.contains(&format!("[O_{name},")),
            "O_{name} not written"
        );
        assert!(
            reader.contains(&format!("f::{name} =>")),
            "field::{name} not read"
        );
    }
}

/// `id: ['name', 'type'],` entries of `PROPERTIES` in `js/bridge.js`.
fn bridge_properties() -> BTreeMap<u32, String> {
    block(BRIDGE_JS, "const PROPERTIES = {", "};")
        .lines()
        .filter_map(|l| {
            let (id, rest) = l.trim().split_once(": ['")?;
            Some((id.parse().ok()?, rest.split('\'').next()?.to_string()))
        })
        .collect()
}

#[test]
fn property_ids_match_the_codec_and_options() {
    let bridge = bridge_properties();
    assert_eq!(bridge.len(), 27, "{bridge:?}");
    for (&id, name) in &bridge {
        let property = PropertyId::from_u32(id).unwrap_or_else(|| panic!("{id}: {name}"));
        let codec = lower_camel(&format!("{property:?}"));
        let expected = match property {
            // Shown as lists, resolved by the client (Topic Alias).
            PropertyId::SubscriptionIdentifier => "subscriptionIdentifiers".to_string(),
            PropertyId::UserProperty => "userProperties".to_string(),
            PropertyId::TopicAlias => String::new(),
            _ => codec,
        };
        assert_eq!(name, &expected, "property {id:#04x}");
    }
    // Every `name: [0xNN, check]` in js/options.js names that property.
    let mut checked = 0;
    for line in OPTIONS_JS.lines() {
        let Some((name, rest)) = line.trim().split_once(": [0x") else {
            continue;
        };
        let id = u32::from_str_radix(&rest[..2], 16).unwrap();
        // The last word before it (`const WILL = { ...MESSAGE, willDelayInterval`).
        let name = name.rsplit([' ', '{']).next().unwrap_or_default();
        let expected = if name == "subscriptionIdentifier" {
            "subscriptionIdentifiers"
        } else {
            name
        };
        assert_eq!(
            bridge.get(&id).map(String::as_str),
            Some(expected),
            "{line}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "{checked} properties found in js/options.js");
}
