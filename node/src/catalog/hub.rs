//! The node's catalog shared between the event loop (which fills it from gossipsub and expires
//! it) and the catalog protocol's server (which answers from it and feeds its watchers every
//! change as it happens).

use std::sync::{Arc, Mutex, MutexGuard};

use fabstir_protocol::catalog::{Announcement, Catalog, Entry, Inserted};
use tokio::sync::broadcast;

/// A change to the catalog, as its watchers are told it.
#[derive(Debug, Clone)]
pub enum Change {
    /// A host's new or newer record.
    Host(Arc<Entry>),
    /// A host left the catalog (peer id).
    Gone(String),
}

/// How many changes a watcher may fall behind before it is sent the whole catalog again.
const CHANGES_BUFFERED: usize = 1024;

/// The catalog and its feed of changes.
#[derive(Debug)]
pub struct Hub {
    catalog: Mutex<Catalog>,
    changes: broadcast::Sender<Change>,
    /// The watches being served.
    pub watchers: super::server::Watchers,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            catalog: Mutex::default(),
            changes: broadcast::channel(CHANGES_BUFFERED).0,
            watchers: super::server::Watchers::new(
                super::server::WATCHES_PER_PEER,
                super::server::MAX_WATCHERS,
            ),
        }
    }
}

impl Hub {
    /// The catalog, locked (for reading: changes go through [`Hub::insert`] and
    /// [`Hub::expire`], which tell the watchers).
    pub fn lock(&self) -> MutexGuard<'_, Catalog> {
        self.catalog.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `announcement` as [`Catalog::insert`] does, and tells the watchers when it did.
    pub fn insert(&self, announcement: Announcement, sealed: Vec<u8>) -> Inserted {
        let mut catalog = self.lock();
        let inserted = catalog.insert(announcement.clone(), sealed.clone());
        if matches!(inserted, Inserted::New | Inserted::Replaced) {
            // Sent under the lock, so a watcher that subscribed under it sees every later change.
            let _ = self.changes.send(Change::Host(Arc::new(Entry {
                announcement,
                sealed,
            })));
        }
        inserted
    }

    /// Drops the announcements expired at `now`, tells the watchers; the hosts left.
    pub fn expire(&self, now: u64) -> usize {
        let mut catalog = self.lock();
        for peer in catalog.expire(now) {
            let _ = self.changes.send(Change::Gone(peer));
        }
        catalog.len()
    }

    /// The catalog, locked, with a feed of every change after this moment.
    pub fn subscribe(&self) -> (MutexGuard<'_, Catalog>, broadcast::Receiver<Change>) {
        let catalog = self.lock();
        let changes = self.changes.subscribe();
        (catalog, changes)
    }
}
