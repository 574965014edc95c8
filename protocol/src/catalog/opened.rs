//! Host records a receiver has already opened, kept by their frame text: a record seen again (a
//! catalog asked again, the same host from a second bootstrap node, a job's lookup after
//! `listModels`) costs a map lookup instead of a signature check and a parse. Its expiry is
//! checked again at every use; nothing else about it can change without changing its text.
//! One record is kept per host, its newest: a watching page that sees a host's load change every
//! second keeps one record for it, not one per change.

use std::collections::BTreeMap;

use super::record::check_expiry;
use super::store::Entry;
use super::wire::open_host;
use super::{Announcement, CatalogError};

/// The most records (hosts) kept; one more and all go, so in a network with more hosts than
/// this each catalog asked again is checked again in full, as if nothing were kept. Twice the
/// largest network we measure (1,000 hosts); a record is about 1-2 KB in memory.
pub const MAX_OPENED: usize = 2048;

/// Opened host records by frame text (see the module's doc). A `BTreeMap` of [`Entry`], as the
/// catalog keeps them: the same code in the wasm.
pub struct Opened {
    records: BTreeMap<String, Entry>,
    max: usize,
}

impl Default for Opened {
    fn default() -> Self {
        Opened::new(MAX_OPENED)
    }
}

impl Opened {
    /// Keeps at most `max` records.
    pub fn new(max: usize) -> Self {
        Opened {
            records: BTreeMap::new(),
            max,
        }
    }

    /// [`open_host`], answered from the records opened before when `text` is one of them.
    pub fn open_host(
        &mut self,
        text: &str,
        now: u64,
    ) -> Result<(Announcement, Vec<u8>), CatalogError> {
        if let Some(e) = self.records.get_mut(text) {
            check_expiry(&e.announcement, now)?;
            return Ok((e.announcement.clone(), e.sealed.clone()));
        }
        let (announcement, sealed) = open_host(text, now)?;
        let entry = Entry {
            announcement,
            sealed,
        };
        // The host's record kept before goes if this one is newer; an older one is not kept.
        let held = self.records.iter().find_map(|(text, held)| {
            let a = &held.announcement;
            (a.peer_id == entry.announcement.peer_id).then(|| (text.clone(), a.seq))
        });
        match held {
            Some((_, seq)) if seq >= entry.announcement.seq => {}
            held => {
                if let Some((older, _)) = held {
                    self.records.remove(&older);
                } else if self.records.len() >= self.max {
                    self.records.clear();
                }
                self.records.insert(text.to_string(), entry.clone());
            }
        }
        Ok((entry.announcement, entry.sealed))
    }

    /// Records kept now.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::record::tests::announcement;
    use crate::catalog::wire::{host_frame, CatalogFrame};
    use libp2p::identity::Keypair;

    fn text(key: &Keypair, seq: u64, expires_at: u64) -> String {
        let sealed = crate::catalog::seal(key, &announcement(key, seq, expires_at)).unwrap();
        match host_frame(&sealed) {
            CatalogFrame::Host(text) => text,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_record_seen_again_is_the_same_and_its_expiry_is_checked_again() {
        let key = Keypair::generate_ed25519();
        let record = text(&key, 1, 10_000);
        let mut opened = Opened::default();
        let first = opened.open_host(&record, 1_000).unwrap();
        assert_eq!(opened.len(), 1);
        let again = opened.open_host(&record, 2_000).unwrap();
        assert_eq!((again.0.seq, &again.1), (first.0.seq, &first.1));
        assert_eq!(opened.len(), 1);
        let expired = opened.open_host(&record, 10_000).unwrap_err();
        assert_eq!(expired.code(), "expiry", "{expired}");
    }

    #[test]
    fn an_altered_record_is_refused_though_its_original_was_opened() {
        let key = Keypair::generate_ed25519();
        let record = text(&key, 1, 10_000);
        let mut opened = Opened::default();
        opened.open_host(&record, 1_000).unwrap();
        let mut sealed = crate::catalog::wire::sealed_bytes(&record).unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let CatalogFrame::Host(altered) = host_frame(&sealed) else {
            unreachable!()
        };
        assert!(opened.open_host(&altered, 1_000).is_err());
        assert_eq!(opened.len(), 1, "a refused record is not kept");
    }

    #[test]
    fn one_record_is_kept_per_host_its_newest() {
        let (a, b) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let mut opened = Opened::default();
        for seq in 1..=50 {
            opened.open_host(&text(&a, seq, 10_000), 1_000).unwrap();
        }
        opened.open_host(&text(&b, 7, 10_000), 1_000).unwrap();
        assert_eq!(opened.len(), 2, "host a's 49 older records went");
        // An older record of a (a node behind the others) is opened but not kept: a's newest stays.
        let old = opened.open_host(&text(&a, 3, 10_000), 1_000).unwrap();
        assert_eq!(old.0.seq, 3);
        assert_eq!(opened.len(), 2);
        assert!(opened.records.contains_key(&text(&a, 50, 10_000)));
        assert!(!opened.records.contains_key(&text(&a, 3, 10_000)));
    }

    #[test]
    fn it_stays_bounded() {
        let mut opened = Opened::new(16);
        for _ in 0..40 {
            let key = Keypair::generate_ed25519();
            opened.open_host(&text(&key, 1, 10_000), 1_000).unwrap();
            assert!(opened.len() <= 16);
        }
        assert!(!opened.is_empty());
    }
}
