//! A watcher's view of one node's catalog, built from the frames of a `watch` answer (see
//! [`super::wire`]): every host record opened and checked here, so the node watched can hide a
//! host but not invent or alter one.

use super::wire::CatalogFrame;
use super::{Catalog, CatalogError, Inserted, Opened};
use crate::frame::FrameError;

/// What one frame did to a [`WatchView`].
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Nothing visible changed (a host sent during a sync, a stale record, an unknown `gone`).
    Nothing,
    /// The view is synced (for the first time, or again after a `reset`): every host may differ.
    Synced,
    /// A host's record is new or newer (peer id).
    Host(String),
    /// A host left the view (peer id).
    Gone(String),
    /// A record failed its check and was dropped: why.
    Dropped(CatalogError),
}

/// One node's catalog as its watch answer tells it.
#[derive(Debug, Default)]
pub struct WatchView {
    /// The hosts as of the last `synced` and the changes since.
    view: Catalog,
    /// Hosts being sent before a `synced` (after the request or a `reset`).
    pending: Option<Catalog>,
    synced: bool,
}

impl WatchView {
    /// An empty view, waiting for the node's first `synced`.
    pub fn new() -> Self {
        WatchView {
            view: Catalog::default(),
            pending: Some(Catalog::default()),
            synced: false,
        }
    }

    /// Whether the node has sent every host it holds at least once.
    pub fn synced(&self) -> bool {
        self.synced
    }

    /// The hosts as of the last `synced` and the changes since.
    pub fn catalog(&self) -> &Catalog {
        &self.view
    }

    /// Drops the records expired at `now` (the node may have gone silent); their hosts.
    pub fn expire(&mut self, now: u64) -> Vec<String> {
        self.view.expire(now)
    }

    /// Applies one frame of the watch answer; `now` is the clock records are checked against,
    /// `opened` the records opened before (a host record is opened through it).
    /// A frame that has no place in a watch answer is an error (the watch should end).
    pub fn apply(
        &mut self,
        frame: CatalogFrame,
        now: u64,
        opened: &mut Opened,
    ) -> Result<Applied, FrameError> {
        match frame {
            CatalogFrame::Host(text) => {
                let (a, bytes) = match opened.open_host(&text, now) {
                    Ok(x) => x,
                    Err(why) => return Ok(Applied::Dropped(why)),
                };
                if let Some(pending) = &mut self.pending {
                    pending.insert(a, bytes);
                    return Ok(Applied::Nothing);
                }
                let peer = a.peer_id.clone();
                Ok(match self.view.insert(a, bytes) {
                    Inserted::New | Inserted::Replaced => Applied::Host(peer),
                    Inserted::Stale | Inserted::Full => Applied::Nothing,
                })
            }
            CatalogFrame::Gone(peer) => {
                if let Some(pending) = &mut self.pending {
                    pending.remove(&peer);
                    return Ok(Applied::Nothing);
                }
                Ok(if self.view.remove(&peer) {
                    Applied::Gone(peer)
                } else {
                    Applied::Nothing
                })
            }
            CatalogFrame::Synced { .. } => match self.pending.take() {
                Some(pending) => {
                    self.view = pending;
                    self.synced = true;
                    Ok(Applied::Synced)
                }
                None => Err(FrameError::Malformed("synced twice".into())),
            },
            CatalogFrame::Reset => {
                self.pending = Some(Catalog::default());
                Ok(Applied::Nothing)
            }
            CatalogFrame::Refused(reason) => {
                Err(FrameError::Malformed(format!("watch refused: {reason}")))
            }
            f @ (CatalogFrame::Model(_)
            | CatalogFrame::End { .. }
            | CatalogFrame::Provider(_)
            | CatalogFrame::DhtCheck { .. }) => Err(FrameError::Malformed(format!(
                "not a watch frame: {}",
                f.name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::record::tests::announcement;
    use crate::catalog::seal;
    use crate::catalog::wire::{host_frame, sealed_bytes};
    use libp2p::identity::Keypair;

    const NOW: u64 = 1_000;

    fn frame(key: &Keypair, seq: u64) -> CatalogFrame {
        let mut a = announcement(key, seq, NOW + 60_000);
        a.current_load = seq as u32;
        host_frame(&seal(key, &a).unwrap())
    }

    #[test]
    fn syncs_then_follows_changes_and_drops_forged_records() {
        let (k1, k2) = (Keypair::generate_ed25519(), Keypair::generate_ed25519());
        let p1 = k1.public().to_peer_id().to_string();
        let p2 = k2.public().to_peer_id().to_string();
        let mut w = WatchView::new();
        let mut opened = Opened::default();
        assert_eq!(
            w.apply(frame(&k1, 1), NOW, &mut opened).unwrap(),
            Applied::Nothing
        );
        assert!(
            !w.synced() && w.catalog().is_empty(),
            "nothing shown before synced"
        );
        assert_eq!(
            w.apply(CatalogFrame::Synced { count: 1 }, NOW, &mut opened)
                .unwrap(),
            Applied::Synced
        );
        assert_eq!(w.catalog().len(), 1);
        assert_eq!(
            w.apply(frame(&k2, 1), NOW, &mut opened).unwrap(),
            Applied::Host(p2.clone())
        );
        assert_eq!(
            w.apply(frame(&k1, 2), NOW, &mut opened).unwrap(),
            Applied::Host(p1.clone())
        );
        assert_eq!(
            w.apply(frame(&k1, 2), NOW, &mut opened).unwrap(),
            Applied::Nothing
        );
        assert_eq!(w.catalog().get(&p1).unwrap().announcement.current_load, 2);
        // A record altered by the node watched: dropped, the view unchanged.
        let CatalogFrame::Host(text) = frame(&k1, 3) else {
            unreachable!()
        };
        let mut bytes = sealed_bytes(&text).unwrap();
        let at = bytes.len() - 80;
        bytes[at] ^= 1;
        assert!(matches!(
            w.apply(host_frame(&bytes), NOW, &mut opened).unwrap(),
            Applied::Dropped(_)
        ));
        assert_eq!(w.catalog().get(&p1).unwrap().announcement.seq, 2);
        assert_eq!(
            w.apply(CatalogFrame::Gone(p2.clone()), NOW, &mut opened)
                .unwrap(),
            Applied::Gone(p2.clone())
        );
        assert_eq!(
            w.apply(CatalogFrame::Gone(p2.clone()), NOW, &mut opened)
                .unwrap(),
            Applied::Nothing
        );
        // After a reset the old view stays shown until the next synced replaces it.
        w.apply(CatalogFrame::Reset, NOW, &mut opened).unwrap();
        w.apply(frame(&k2, 3), NOW, &mut opened).unwrap();
        assert_eq!(w.catalog().len(), 1);
        assert_eq!(
            w.apply(CatalogFrame::Synced { count: 1 }, NOW, &mut opened)
                .unwrap(),
            Applied::Synced
        );
        assert!(w.catalog().get(&p2).is_some() && w.catalog().get(&p1).is_none());
        assert!(w
            .apply(CatalogFrame::Synced { count: 0 }, NOW, &mut opened)
            .is_err());
        assert!(w
            .apply(CatalogFrame::End { count: 0 }, NOW, &mut opened)
            .is_err());
        assert_eq!(w.expire(NOW + 60_000), vec![p2]);
    }
}
