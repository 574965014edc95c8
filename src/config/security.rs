//! `p2pConfig.security` as the page writes it, and the validated allow and block lists.

use std::collections::HashSet;

use libp2p::PeerId;
use serde::Deserialize;

use crate::error::SdkError;

/// The `security` object as the page writes it (the `authenticate` callback is taken out by the
/// binding, which answers [`Approval`]s with it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityConfig {
    /// When not empty, only these peers are used as hosts.
    #[serde(default)]
    pub allowlist: Vec<String>,
    /// These peers are never connected to.
    #[serde(default)]
    pub blocklist: Vec<String>,
}

/// The validated lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerPolicy {
    /// Hosts allowed for jobs; empty means any host not blocked.
    pub allow: HashSet<PeerId>,
    /// Peers refused at the connection level.
    pub block: HashSet<PeerId>,
}

impl SecurityConfig {
    /// Parses the lists; a bad entry (or a blocked bootstrap node) is `INVALID_CONFIG` naming it.
    pub fn validate(&self, bootstrap: &[PeerId]) -> Result<PeerPolicy, SdkError> {
        // The same parsing as discovery's peer-id options, reported as a config error.
        let list = |name: &str, ids: &[String]| {
            crate::config::addresses::parse_peer_ids(&format!("p2pConfig.security.{name}"), ids)
                .map_err(|e| match e {
                    SdkError::InvalidArgument { name, message } => SdkError::config(name, message),
                    other => other,
                })
        };
        let block = list("blocklist", &self.blocklist)?;
        if let Some(i) = block.iter().position(|p| bootstrap.contains(p)) {
            return Err(SdkError::config(
                format!("p2pConfig.security.blocklist[{i}]"),
                format!("{} is one of the bootstrap nodes", block[i]),
            ));
        }
        Ok(PeerPolicy {
            allow: list("allowlist", &self.allowlist)?.into_iter().collect(),
            block: block.into_iter().collect(),
        })
    }
}

impl PeerPolicy {
    /// Whether the lists let `peer` serve jobs.
    pub fn lists_admit(&self, peer: &PeerId) -> bool {
        !self.block.contains(peer) && (self.allow.is_empty() || self.allow.contains(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_validate_naming_the_entry_and_decide() {
        let (a, b, boot) = (PeerId::random(), PeerId::random(), PeerId::random());
        let config = SecurityConfig {
            allowlist: vec![a.to_string()],
            blocklist: vec![b.to_string()],
        };
        let policy = config.validate(&[boot]).unwrap();
        assert!(policy.lists_admit(&a));
        assert!(!policy.lists_admit(&b));
        assert!(
            !policy.lists_admit(&PeerId::random()),
            "not on the allowlist"
        );
        assert!(PeerPolicy::default().lists_admit(&b));
        let bad = SecurityConfig {
            allowlist: vec![],
            blocklist: vec![b.to_string(), "nope".into()],
        };
        let e = bad.validate(&[boot]).unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(
            e.to_string().contains("p2pConfig.security.blocklist[1]"),
            "{e}"
        );
        let blocked_boot = SecurityConfig {
            allowlist: vec![],
            blocklist: vec![boot.to_string()],
        };
        assert!(blocked_boot
            .validate(&[boot])
            .unwrap_err()
            .to_string()
            .contains("bootstrap"));
    }
}
