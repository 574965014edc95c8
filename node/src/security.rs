//! Which peers may connect to the node: the `security` allowlist and blocklist, enforced on every
//! connection (inbound and outbound) before any protocol runs.

use std::collections::HashSet;
use std::path::Path;

use libp2p::allow_block_list::{self, AllowedPeers, BlockedPeers};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::PeerId;
use serde::{Deserialize, Serialize};

use crate::error::NodeError;

/// The `security` section: peer ids as text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// When not empty, only these peers (and our bootstrap nodes) may connect.
    pub allowlist: Vec<String>,
    /// These peers are refused.
    pub blocklist: Vec<String>,
}

/// The parsed lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerLists {
    /// Allowed peers; empty means everyone not blocked.
    pub allow: HashSet<PeerId>,
    /// Refused peers.
    pub block: HashSet<PeerId>,
}

impl PeerLists {
    /// Parses both lists; a bad entry names its field and index.
    pub fn parse(path: &Path, config: &SecurityConfig) -> Result<PeerLists, NodeError> {
        let list = |name: &str, ids: &[String]| {
            ids.iter()
                .enumerate()
                .map(|(i, id)| {
                    id.parse::<PeerId>().map_err(|e| NodeError::Config {
                        path: path.to_path_buf(),
                        field: format!("security.{name}[{i}]"),
                        message: format!("{id:?} is not a peer id: {e}"),
                    })
                })
                .collect::<Result<HashSet<_>, _>>()
        };
        Ok(PeerLists {
            allow: list("allowlist", &config.allowlist)?,
            block: list("blocklist", &config.blocklist)?,
        })
    }

    /// Whether `peer` may connect (`always` are our bootstrap nodes, allowed unless blocked).
    pub fn admits(&self, peer: &PeerId, always: &[PeerId]) -> bool {
        !self.block.contains(peer)
            && (self.allow.is_empty() || self.allow.contains(peer) || always.contains(peer))
    }

    /// The behaviours that enforce the lists: the blocklist, and the allowlist when it is not
    /// empty (with `always` added to it).
    pub fn behaviours(
        &self,
        always: &[PeerId],
    ) -> (
        allow_block_list::Behaviour<BlockedPeers>,
        Toggle<allow_block_list::Behaviour<AllowedPeers>>,
    ) {
        let mut blocked = allow_block_list::Behaviour::<BlockedPeers>::default();
        for peer in &self.block {
            blocked.block_peer(*peer);
        }
        let allowed = (!self.allow.is_empty()).then(|| {
            let mut allowed = allow_block_list::Behaviour::<AllowedPeers>::default();
            for peer in self.allow.iter().chain(always) {
                allowed.allow_peer(*peer);
            }
            allowed
        });
        (blocked, allowed.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_decide() {
        let (a, b, boot) = (PeerId::random(), PeerId::random(), PeerId::random());
        let lists = PeerLists::parse(
            Path::new("c.yaml"),
            &SecurityConfig {
                allowlist: vec![a.to_string()],
                blocklist: vec![b.to_string()],
            },
        )
        .unwrap();
        assert!(lists.admits(&a, &[boot]));
        assert!(lists.admits(&boot, &[boot]), "bootstrap nodes stay allowed");
        assert!(!lists.admits(&b, &[boot]));
        assert!(!lists.admits(&PeerId::random(), &[boot]));
        assert!(PeerLists::default().admits(&PeerId::random(), &[]));
        let err = PeerLists::parse(
            Path::new("c.yaml"),
            &SecurityConfig {
                allowlist: vec![],
                blocklist: vec![a.to_string(), "nope".into()],
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("security.blocklist[1]"), "{err}");
    }
}
