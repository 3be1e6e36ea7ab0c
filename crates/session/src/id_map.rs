//! Values by 16-bit identifier in constant time: our QoS 1/2 publishes in
//! flight, by Packet Identifier.
//!
//! 256 pages of 256 slots; a page exists only while one of its ids is in
//! use, and each value is boxed, so memory follows the number of values
//! (1 KB per page in use on wasm32). This is far less code than a
//! `BTreeMap` instantiation, which matters in the browser build.

use alloc::boxed::Box;
use alloc::vec::Vec;

const PAGE_BITS: u32 = 8;
const PAGE: usize = 1 << PAGE_BITS;

#[derive(Debug, Clone)]
struct Page<V> {
    used: usize,
    /// `PAGE` slots, or none while `used` is 0.
    slots: Vec<Option<Box<V>>>,
}

/// A map from `u16` to `V`.
#[derive(Debug, Clone)]
pub(crate) struct IdMap<V> {
    pages: Vec<Page<V>>,
    len: usize,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        Self {
            pages: Vec::new(),
            len: 0,
        }
    }
}

fn split(id: u16) -> (usize, usize) {
    (usize::from(id >> PAGE_BITS), usize::from(id) & (PAGE - 1))
}

impl<V> IdMap<V> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, id: u16) -> Option<&Option<Box<V>>> {
        let (page, slot) = split(id);
        self.pages.get(page)?.slots.get(slot)
    }

    pub(crate) fn get(&self, id: u16) -> Option<&V> {
        self.slot(id)?.as_deref()
    }

    pub(crate) fn get_mut(&mut self, id: u16) -> Option<&mut V> {
        let (page, slot) = split(id);
        self.pages
            .get_mut(page)?
            .slots
            .get_mut(slot)?
            .as_deref_mut()
    }

    /// Sets the value of `id`, replacing any.
    pub(crate) fn insert(&mut self, id: u16, value: V) {
        let (page, slot) = split(id);
        if self.pages.is_empty() {
            self.pages.resize_with(PAGE, || Page {
                used: 0,
                slots: Vec::new(),
            });
        }
        let Some(page) = self.pages.get_mut(page) else {
            return;
        };
        if page.slots.is_empty() {
            page.slots.resize_with(PAGE, || None);
        }
        if let Some(slot) = page.slots.get_mut(slot) {
            if slot.is_none() {
                page.used += 1;
                self.len += 1;
            }
            *slot = Some(Box::new(value));
        }
    }

    pub(crate) fn remove(&mut self, id: u16) -> Option<V> {
        let (page, slot) = split(id);
        let page = self.pages.get_mut(page)?;
        let value = page.slots.get_mut(slot)?.take()?;
        page.used -= 1;
        self.len -= 1;
        if page.used == 0 {
            page.slots = Vec::new();
        }
        Some(*value)
    }

    /// Calls `f` with every `(id, value)`, by id. (Plain loops: less code
    /// than the iterator below.)
    pub(crate) fn for_each(&self, mut f: impl FnMut(u16, &V)) {
        let mut id: u16 = 0;
        for page in &self.pages {
            if page.slots.is_empty() {
                id = id.wrapping_add(PAGE as u16);
                continue;
            }
            for v in &page.slots {
                if let Some(v) = v {
                    f(id, v);
                }
                id = id.wrapping_add(1);
            }
        }
    }

    /// Every `(id, value)`, by id.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u16, &V)> {
        self.pages.iter().enumerate().flat_map(|(page, p)| {
            p.slots.iter().enumerate().filter_map(move |(slot, v)| {
                let id = (page << PAGE_BITS) | slot;
                Some((u16::try_from(id).ok()?, v.as_deref()?))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btree_map() {
        let mut map = IdMap::default();
        let mut model = BTreeMap::new();
        // A fixed pseudo-random walk over inserts, removals and lookups.
        let mut x: u32 = 12345;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // Few distinct ids, to hit the same ones often, but across pages.
            let id = ((x >> 8) % 1200) as u16 * 53;
            match (x >> 4) % 3 {
                0 => {
                    map.insert(id, step);
                    model.insert(id, step);
                }
                1 => assert_eq!(map.remove(id), model.remove(&id)),
                _ => {
                    if let Some(v) = map.get_mut(id) {
                        *v += 1;
                    }
                    if let Some(v) = model.get_mut(&id) {
                        *v += 1;
                    }
                }
            }
            assert_eq!(map.len(), model.len());
            assert_eq!(map.get(id), model.get(&id));
        }
        let all: Vec<(u16, u32)> = map.iter().map(|(k, &v)| (k, v)).collect();
        let expected: Vec<(u16, u32)> = model.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(all, expected);
        let mut each = Vec::new();
        map.for_each(|k, &v| each.push((k, v)));
        assert_eq!(each, expected);
    }

    #[test]
    fn empty_pages_are_freed() {
        let mut map = IdMap::default();
        map.insert(0, ());
        map.insert(u16::MAX, ());
        assert_eq!(
            map.iter().map(|(id, ())| id).collect::<Vec<_>>(),
            [0, u16::MAX]
        );
        let mut each = Vec::new();
        map.for_each(|id, ()| each.push(id));
        assert_eq!(each, [0, u16::MAX]);
        assert_eq!(map.remove(0), Some(()));
        assert!(map.pages.first().is_some_and(|p| p.slots.is_empty()));
        assert_eq!(map.remove(0), None);
        assert_eq!(map.len(), 1);
    }
}
