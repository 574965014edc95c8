//! Host records a receiver has already opened, kept by their frame text: a record seen again (a
//! catalog asked again, the same host from a second bootstrap node, a job's lookup after
//! `listModels`) costs a map lookup instead of a signature check and a parse. Its expiry is
//! checked again at every use; nothing else about it can change without changing its text.

use std::collections::BTreeMap;

use super::record::check_expiry;
use super::store::Entry;
use super::wire::open_host;
use super::Announcement;

/// The most records kept; one more and all go (a network with more hosts than this checks
/// some of them again).
pub const MAX_OPENED: usize = 512;

/// Opened host records by frame text (see the module's doc). A `BTreeMap` of [`Entry`], as the
/// catalog keeps them: the same code in the wasm.
#[derive(Default)]
pub struct Opened {
    records: BTreeMap<String, Entry>,
}

impl Opened {
    /// [`open_host`], answered from the records opened before when `text` is one of them.
    pub fn open_host(&mut self, text: &str, now: u64) -> Result<(Announcement, Vec<u8>), String> {
        if let Some(e) = self.records.get_mut(text) {
            check_expiry(&e.announcement, now).map_err(|e| e.to_string())?;
            return Ok((e.announcement.clone(), e.sealed.clone()));
        }
        let (announcement, sealed) = open_host(text, now)?;
        if self.records.len() >= MAX_OPENED {
            self.records.clear();
        }
        let entry = Entry {
            announcement,
            sealed,
        };
        self.records.insert(text.to_string(), entry.clone());
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
        assert!(expired.contains("expir"), "{expired}");
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
    fn it_stays_bounded() {
        let key = Keypair::generate_ed25519();
        let mut opened = Opened::default();
        for seq in 0..(MAX_OPENED as u64 + 10) {
            opened.open_host(&text(&key, seq, 10_000), 1_000).unwrap();
            assert!(opened.len() <= MAX_OPENED);
        }
    }
}
