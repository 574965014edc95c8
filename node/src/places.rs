//! Places in a bounded pool, counted per key (a peer, an IP address): at most `per_key` for one
//! key and at most `total` in all. A place is given back when its guard drops. The inbound
//! stream queues ([`crate::serve`]) and the catalog's watches ([`crate::catalog::server`]) hold
//! theirs here.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Held<K> {
    per_key: HashMap<K, usize>,
    total: usize,
}

/// The places held, per key.
#[derive(Debug)]
pub struct Places<K> {
    held: Arc<Mutex<Held<K>>>,
    per_key: usize,
    total: usize,
}

impl<K> Clone for Places<K> {
    fn clone(&self) -> Self {
        Places {
            held: self.held.clone(),
            per_key: self.per_key,
            total: self.total,
        }
    }
}

/// One key's place; given back when dropped.
#[derive(Debug)]
pub struct Place<K: Hash + Eq + Copy>(Places<K>, K);

impl<K: Hash + Eq + Copy> Places<K> {
    /// A pool of at most `per_key` places per key and `total` in all.
    pub fn new(per_key: usize, total: usize) -> Self {
        Places {
            held: Arc::new(Mutex::new(Held {
                per_key: HashMap::new(),
                total: 0,
            })),
            per_key,
            total,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Held<K>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for `key`, or `None` when `key` or the pool holds its share.
    pub fn take(&self, key: K) -> Option<Place<K>> {
        let mut held = self.lock();
        if held.total >= self.total {
            return None;
        }
        let n = held.per_key.entry(key).or_default();
        if *n >= self.per_key {
            return None;
        }
        *n += 1;
        held.total += 1;
        Some(Place(self.clone(), key))
    }
}

impl<K: Hash + Eq + Copy> Drop for Place<K> {
    fn drop(&mut self) {
        let mut held = self.0.lock();
        if let Some(n) = held.per_key.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                held.per_key.remove(&self.1);
            }
            held.total -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_each_key_and_the_pool_and_gives_places_back() {
        let places = Places::new(2, 3);
        let a1 = places.take('a').unwrap();
        let _a2 = places.take('a').unwrap();
        assert!(places.take('a').is_none(), "a holds its share");
        let _b1 = places.take('b').unwrap();
        assert!(places.take('c').is_none(), "the pool is full");
        drop(a1);
        assert!(places.take('c').is_some());
    }
}
