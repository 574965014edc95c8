//! `p2pConfig.security`: which hosts this SDK uses for jobs. The blocklist refuses connections
//! outright; the allowlist and the page's `authenticate(peerId)` callback are consulted before a
//! host is probed, offered a job or streamed from.

use std::collections::{HashMap, HashSet};

use futures::channel::{mpsc, oneshot};
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
            crate::discovery::parse_peer_ids(&format!("p2pConfig.security.{name}"), ids).map_err(
                |e| match e {
                    SdkError::InvalidArgument { name, message } => SdkError::config(name, message),
                    other => other,
                },
            )
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

/// A question to the page's `authenticate` callback: may this peer serve jobs?
/// The answer is `Err` when the callback threw or rejected (treated as no).
pub type Approval = (PeerId, oneshot::Sender<Result<bool, String>>);

/// Questions waiting for the page; callers wait beyond this (backpressure).
pub const APPROVAL_BUFFER: usize = 16;

/// The page's answers, kept for `ttl_ms` so the callback is asked once per peer per period.
#[derive(Default)]
pub struct Verdicts {
    answers: HashMap<PeerId, (bool, f64)>,
}

impl Verdicts {
    /// A fresh answer about `peer`, if one is kept.
    pub fn get(&self, peer: &PeerId, now_ms: f64, ttl_ms: f64) -> Option<bool> {
        self.answers
            .get(peer)
            .filter(|(_, at)| now_ms - at < ttl_ms)
            .map(|(ok, _)| *ok)
    }

    /// Keeps an answer (at most 1024; the oldest are dropped first).
    pub fn put(&mut self, peer: PeerId, ok: bool, now_ms: f64) {
        if self.answers.len() >= 1024 {
            if let Some(oldest) = self
                .answers
                .iter()
                .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
                .map(|(p, _)| *p)
            {
                self.answers.remove(&oldest);
            }
        }
        self.answers.insert(peer, (ok, now_ms));
    }
}

/// The channel to the binding that asks the page.
pub fn approval_channel() -> (mpsc::Sender<Approval>, mpsc::Receiver<Approval>) {
    mpsc::channel(APPROVAL_BUFFER)
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

    #[test]
    fn verdicts_expire_and_stay_bounded() {
        let mut v = Verdicts::default();
        let p = PeerId::random();
        v.put(p, true, 0.0);
        assert_eq!(v.get(&p, 10.0, 100.0), Some(true));
        assert_eq!(v.get(&p, 200.0, 100.0), None);
        for i in 0..2000 {
            v.put(PeerId::random(), false, f64::from(i));
        }
        assert!(v.answers.len() <= 1024);
    }
}
