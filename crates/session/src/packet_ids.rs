//! Packet Identifier allocation: never 0, never reused while in use [MQTT-2.2.1-3].

use alloc::vec;
use alloc::vec::Vec;
use wasmqtt_codec::PacketId;

/// One bit per identifier 1..=65535.
#[derive(Debug, Clone)]
pub(crate) struct PacketIds {
    used: Vec<u64>,
    next: u16,
    in_use: usize,
}

impl PacketIds {
    pub(crate) fn new() -> Self {
        Self {
            used: vec![0; 1024],
            next: 1,
            in_use: 0,
        }
    }

    fn slot(id: u16) -> (usize, u64) {
        (usize::from(id / 64), 1 << (id % 64))
    }

    pub(crate) fn is_used(&self, id: u16) -> bool {
        let (word, bit) = Self::slot(id);
        self.used.get(word).is_some_and(|w| w & bit != 0)
    }

    /// The next free identifier after the last one handed out, if any is free.
    pub(crate) fn allocate(&mut self) -> Option<PacketId> {
        if self.in_use >= usize::from(u16::MAX) {
            return None;
        }
        loop {
            let id = self.next;
            self.next = if id == u16::MAX { 1 } else { id + 1 };
            if !self.is_used(id) {
                self.mark(id);
                return PacketId::new(id);
            }
        }
    }

    /// Marks an identifier as taken (when restoring state).
    pub(crate) fn mark(&mut self, id: u16) {
        let (word, bit) = Self::slot(id);
        if let Some(w) = self.used.get_mut(word) {
            if *w & bit == 0 {
                *w |= bit;
                self.in_use += 1;
            }
        }
    }

    pub(crate) fn release(&mut self, id: PacketId) {
        let (word, bit) = Self::slot(id.get());
        if let Some(w) = self.used.get_mut(word) {
            if *w & bit != 0 {
                *w &= !bit;
                self.in_use -= 1;
            }
        }
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
        ids.mark(1);
        assert_eq!(ids.allocate().map(PacketId::get), Some(u16::MAX));
        assert_eq!(ids.allocate().map(PacketId::get), Some(2));
    }
}
