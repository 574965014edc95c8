//! A node's (or a page's) catalog: the newest valid announcement per host, bounded in size,
//! expired entries dropped, summarised per model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Announcement, MAX_HOSTS};

/// One host's newest announcement, with the sealed bytes it came in (handed on unchanged, so a
/// receiver can check the host's signature itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The opened announcement.
    pub announcement: Announcement,
    /// The signed envelope it was opened from.
    pub sealed: Vec<u8>,
}

/// What [`Catalog::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A host not in the catalog before.
    New,
    /// A newer announcement of a known host.
    Replaced,
    /// Not newer than the one held (same or lower `seq`): ignored.
    Stale,
    /// A new host while the catalog is full: ignored.
    Full,
}

/// One model across the catalog's hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelSummary {
    /// The model id.
    pub id: String,
    /// Hosts that serve it.
    pub hosts: u32,
    /// The lowest price per generated token among them.
    pub min_price_per_token: u64,
    /// The highest.
    pub max_price_per_token: u64,
    /// Job slots free on those hosts now (maxConcurrentJobs − currentLoad, summed).
    pub free_slots: u32,
}

/// The newest valid announcement per host.
#[derive(Debug, Clone)]
pub struct Catalog {
    hosts: BTreeMap<String, Entry>,
    max_hosts: usize,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new(MAX_HOSTS)
    }
}

impl Catalog {
    /// An empty catalog holding at most `max_hosts` hosts.
    pub fn new(max_hosts: usize) -> Self {
        Catalog {
            hosts: BTreeMap::new(),
            max_hosts,
        }
    }

    /// Keeps `announcement` (already opened and checked) unless an equal or newer one of the same
    /// host is held, or it is a new host and the catalog is full.
    pub fn insert(&mut self, announcement: Announcement, sealed: Vec<u8>) -> Inserted {
        let entry = Entry {
            announcement,
            sealed,
        };
        let full = self.hosts.len() >= self.max_hosts;
        match self.hosts.get_mut(&entry.announcement.peer_id) {
            Some(held) if held.announcement.seq >= entry.announcement.seq => Inserted::Stale,
            Some(held) => {
                *held = entry;
                Inserted::Replaced
            }
            None if full => Inserted::Full,
            None => {
                self.hosts.insert(entry.announcement.peer_id.clone(), entry);
                Inserted::New
            }
        }
    }

    /// Drops the announcements expired at `now` (ms since the Unix epoch); returns their hosts.
    pub fn expire(&mut self, now: u64) -> Vec<String> {
        let gone: Vec<String> = self
            .hosts
            .values()
            .filter(|e| e.announcement.expires_at <= now)
            .map(|e| e.announcement.peer_id.clone())
            .collect();
        for peer in &gone {
            self.hosts.remove(peer);
        }
        gone
    }

    /// Drops the host's entry; whether one was held.
    pub fn remove(&mut self, peer_id: &str) -> bool {
        self.hosts.remove(peer_id).is_some()
    }

    /// The host's entry, if held.
    pub fn get(&self, peer_id: &str) -> Option<&Entry> {
        self.hosts.get(peer_id)
    }

    /// Hosts held.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether no host is held.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Every entry, by peer id.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.hosts.values()
    }

    /// The entries of hosts that serve `model_id`.
    pub fn hosts_for<'a>(&'a self, model_id: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.hosts
            .values()
            .filter(move |e| e.announcement.models.iter().any(|m| m.id == model_id))
    }

    /// Every model served, by id, with its host count, price range and free slots.
    pub fn models(&self) -> Vec<ModelSummary> {
        let mut by_id: BTreeMap<&str, ModelSummary> = BTreeMap::new();
        for e in self.hosts.values() {
            let a = &e.announcement;
            let free = a.max_concurrent_jobs.saturating_sub(a.current_load);
            for m in &a.models {
                let s = by_id.entry(&m.id).or_insert_with(|| ModelSummary {
                    id: m.id.clone(),
                    hosts: 0,
                    min_price_per_token: u64::MAX,
                    max_price_per_token: 0,
                    free_slots: 0,
                });
                s.hosts += 1;
                s.min_price_per_token = s.min_price_per_token.min(m.price_per_token);
                s.max_price_per_token = s.max_price_per_token.max(m.price_per_token);
                s.free_slots = s.free_slots.saturating_add(free);
            }
        }
        by_id.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::record::tests::announcement;
    use libp2p::identity::Keypair;

    #[test]
    fn newest_per_host_bounded_expired_dropped() {
        let (k1, k2, k3) = (
            Keypair::generate_ed25519(),
            Keypair::generate_ed25519(),
            Keypair::generate_ed25519(),
        );
        let mut c = Catalog::new(2);
        assert_eq!(c.insert(announcement(&k1, 5, 100), vec![1]), Inserted::New);
        assert_eq!(
            c.insert(announcement(&k1, 5, 200), vec![2]),
            Inserted::Stale
        );
        assert_eq!(
            c.insert(announcement(&k1, 4, 200), vec![3]),
            Inserted::Stale
        );
        assert_eq!(
            c.insert(announcement(&k1, 6, 100), vec![4]),
            Inserted::Replaced
        );
        assert_eq!(
            c.get(&k1.public().to_peer_id().to_string()).unwrap().sealed,
            vec![4]
        );
        let mut dear = announcement(&k2, 1, 300);
        dear.models[0].price_per_token = 9;
        dear.current_load = 4;
        assert_eq!(c.insert(dear, vec![5]), Inserted::New);
        assert_eq!(c.insert(announcement(&k3, 1, 300), vec![6]), Inserted::Full);
        assert_eq!(
            c.models(),
            vec![ModelSummary {
                id: "m".into(),
                hosts: 2,
                min_price_per_token: 2,
                max_price_per_token: 9,
                free_slots: 3,
            }]
        );
        assert_eq!(c.hosts_for("m").count(), 2);
        assert_eq!(c.hosts_for("other").count(), 0);
        assert_eq!(c.expire(100), vec![k1.public().to_peer_id().to_string()]);
        assert_eq!(c.len(), 1);
    }
}
