//! Packet Identifier allocation: never 0, never reused while in use [MQTT-2.2.1-3].

use alloc::vec;
use alloc::vec::Vec;
use wasmqtt_codec::PacketId;

/// A set of 16-bit identifiers, one bit each: constant-time and with a
/// single instantiation for every id set the session keeps.
#[derive(Debug, Clone)]
pub(crate) struct IdSet {
    bits: Vec<u64>,
    len: usize,
}

impl Default for IdSet {
    fn default() -> Self {
        Self {
            bits: vec![0; 1024],
            len: 0,
        }
    }
}

impl IdSet {
    fn slot(id: u16) -> (usize, u64) {
        (usize::from(id / 64), 1 << (id % 64))
    }

    pub(crate) fn contains(&self, id: u16) -> bool {
        let (word, bit) = Self::slot(id);
        self.bits.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Adds `id`; `false` if it was already there.
    pub(crate) fn insert(&mut self, id: u16) -> bool {
        let (word, bit) = Self::slot(id);
        match self.bits.get_mut(word) {
            Some(w) if *w & bit == 0 => {
                *w |= bit;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Removes `id`; `false` if it was not there.
    pub(crate) fn remove(&mut self, id: u16) -> bool {
        let (word, bit) = Self::slot(id);
        match self.bits.get_mut(word) {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(feature = "store")]
    /// Calls `f` with each identifier, in ascending order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u16)) {
        for (word, &bits) in self.bits.iter().enumerate() {
            for bit in 0..64 {
                if bits & (1 << bit) != 0 {
                    f((word * 64 + bit) as u16);
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        if self.len > 0 {
            self.bits.fill(0);
            self.len = 0;
        }
    }
}

/// One bit per identifier 1..=65535.
#[derive(Debug, Clone)]
pub(crate) struct PacketIds {
    used: IdSet,
    next: u16,
}

impl PacketIds {
    pub(crate) fn new() -> Self {
        Self {
            used: IdSet::default(),
            next: 1,
        }
    }

    /// The next free identifier after the last one handed out, if any is free.
    pub(crate) fn allocate(&mut self) -> Option<PacketId> {
        if self.used.len() >= usize::from(u16::MAX) {
            return None;
        }
        loop {
            let id = self.next;
            self.next = if id == u16::MAX { 1 } else { id + 1 };
            if self.used.insert(id) {
                return PacketId::new(id);
            }
        }
    }

    /// Marks an identifier as taken; `false` if it already was.
    #[cfg(any(test, feature = "store"))]
    pub(crate) fn mark(&mut self, id: PacketId) -> bool {
        self.used.insert(id.get())
    }

    pub(crate) fn release(&mut self, id: PacketId) {
        self.used.remove(id.get());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_zero_never_reused_while_in_use() {
        // [MQTT-2.2.1-3]: non-zero, and not reused until released.
        let mut ids = PacketIds::new();
        let mut taken = Vec::new();
        for _ in 0..u16::MAX {
            let id = ids.allocate().unwrap();
            assert_ne!(id.get(), 0);
            taken.push(id);
        }
        assert_eq!(ids.allocate(), None);
        ids.release(taken[500]);
        assert_eq!(ids.allocate(), Some(taken[500]));
        assert_eq!(ids.allocate(), None);
    }

    #[test]
    fn wraps_past_65535_and_skips_used() {
        let mut ids = PacketIds::new();
        ids.next = u16::MAX;
        ids.mark(PacketId::new(1).unwrap());
        assert_eq!(ids.allocate().map(PacketId::get), Some(u16::MAX));
        assert_eq!(ids.allocate().map(PacketId::get), Some(2));
    }
}
