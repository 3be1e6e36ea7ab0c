//! The topics JS keeps as strings, by slot. A dashboard gets messages on
//! hundreds of topics, interleaved: telling JS each message's topic would
//! cost a `TextDecoder.decode` and a new string per message. Instead a
//! `MESSAGE` record names a slot, and carries the topic only when the
//! slot's topic changes; JS keeps the string at that slot (`#topics` in
//! `js/bridge.js`). Both tables are bounded: `TOPIC_SLOTS` topics.
//!
//! JS only follows: which slot a topic takes is decided here, so this
//! policy can change without JS knowing.

use alloc::boxed::Box;
use alloc::string::String;

/// Slots in the table (a slot crosses as a u8).
pub(crate) const TOPIC_SLOTS: usize = 1 << SLOT_BITS;
const SLOT_BITS: u32 = 8;
const _: () = assert!(TOPIC_SLOTS <= 256, "a slot crosses as a u8");
/// Slots a topic may take, from the one its hash names on: the least
/// recently used of them gives way. With one slot per topic
/// (direct-mapped), 84 of 200 topics interleaved carried their topic
/// again each time; with 4, 14; with 8, none (250: 43).
const WAYS: usize = 8;

#[derive(Default)]
struct Slot {
    topic: String,
    /// When the slot was last used (a count of lookups); 0: never.
    used: u32,
}

pub(crate) struct Topics {
    slots: Box<[Slot; TOPIC_SLOTS]>,
    clock: u32,
}

impl Topics {
    pub(crate) fn new() -> Self {
        Self {
            slots: Box::new(core::array::from_fn(|_| Slot::default())),
            clock: 0,
        }
    }

    /// The slot `topic` is in, and whether it was just put there (JS must
    /// be told the topic). Never empty: a topic name has one byte or more.
    pub(crate) fn slot(&mut self, topic: &str) -> (u8, bool) {
        self.clock = self.clock.wrapping_add(1);
        let home = hash(topic.as_bytes());
        let mut oldest = home;
        for way in 0..WAYS {
            let i = (home + way) % TOPIC_SLOTS;
            if self.slots[i].topic == topic {
                self.slots[i].used = self.clock;
                return (i as u8, false);
            }
            if self.slots[i].used < self.slots[oldest].used {
                oldest = i;
            }
        }
        let slot = &mut self.slots[oldest];
        slot.topic.clear();
        slot.topic.push_str(topic);
        slot.used = self.clock;
        (oldest as u8, true)
    }
}

/// FNV-1a, mixed once more (its own top bits follow the last byte too
/// closely): the top bits name the slot.
fn hash(bytes: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (h.wrapping_mul(0x9e37_79b9) >> (32 - SLOT_BITS)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;

    /// What JS does with the records: keeps the topic a slot was told.
    struct Js(Vec<Option<String>>);

    impl Js {
        fn receive(&mut self, topics: &mut Topics, topic: &str) -> String {
            let (slot, tell) = topics.slot(topic);
            let slot = usize::from(slot);
            if tell {
                self.0[slot] = Some(topic.into());
            }
            self.0[slot].clone().expect("a slot JS was never told")
        }
    }

    /// Many more topics than slots, interleaved: every message still gets
    /// its own topic, and a topic is sent again only when it lost its slot.
    #[test]
    fn every_message_keeps_its_topic() {
        let mut topics = Topics::new();
        let mut js = Js(vec![None; TOPIC_SLOTS]);
        let names: Vec<String> = (0..3 * TOPIC_SLOTS)
            .map(|i| format!("fleet/{i}/temp"))
            .collect();
        // A pseudo-random walk over them, and runs of one topic.
        let mut x = 1u32;
        for _ in 0..20_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let topic = &names[(x >> 8) as usize % names.len()];
            assert_eq!(&js.receive(&mut topics, topic), topic);
        }
        for topic in &names {
            assert_eq!(&js.receive(&mut topics, topic), topic);
            assert!(!topics.slot(topic).1, "{topic} repeated");
        }
    }

    /// Fewer topics than slots, interleaved: once they have settled in
    /// their slots (a few first take another's and are sent again), no
    /// message carries its topic.
    #[test]
    fn a_few_hundred_topics_settle() {
        let mut topics = Topics::new();
        let names: Vec<String> = (0..200).map(|i| format!("fleet/device-{i:03}")).collect();
        let sent = |topics: &mut Topics| names.iter().filter(|t| topics.slot(t).1).count();
        assert_eq!(sent(&mut topics), names.len());
        assert!(sent(&mut topics) < names.len() / 10);
        assert_eq!(sent(&mut topics), 0);
        assert_eq!(sent(&mut topics), 0);
    }
}
