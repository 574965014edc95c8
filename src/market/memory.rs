//! What an SDK instance remembers beyond its own lifetime (issue 14): each host's record
//! (reliability, circuit) and the receipts it received, bounded, as the text the binding keeps
//! in IndexedDB under the SDK's peer id when `identity.persist` is on: a first line
//! `fabstir-memory 1`, then one line per host (`host <peer id> <7 numbers>`, see
//! [`HostRecord::to_parts`]) and per receipt (`receipt <envelope in base64>`). (A line format
//! rather than JSON: serde_json's code for one more type cost the wasm ~4 KB gzip.)

use std::collections::VecDeque;

use crate::market::receipts::{verify_envelope, VerifiedReceipt};
use crate::market::reliability::HostRecord;
use libp2p::PeerId;

/// Hosts remembered: those with the most jobs are kept beyond this.
pub const MAX_HOSTS: usize = 256;
/// Receipts remembered: the newest are kept beyond this (a receipt is ~850 bytes of base64).
pub const MAX_RECEIPTS: usize = 256;
/// The first line; a text of another format or version is not read.
const HEADER: &str = "fabstir-memory 1";

/// The remembered state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// Each host's record.
    pub hosts: Vec<(PeerId, HostRecord)>,
    /// Verified receipts, oldest first.
    pub receipts: VecDeque<VerifiedReceipt>,
}

/// Adds `receipt` to `receipts`, forgetting the oldest beyond [`MAX_RECEIPTS`].
pub fn keep_receipt(receipts: &mut VecDeque<VerifiedReceipt>, receipt: VerifiedReceipt) {
    receipts.push_back(receipt);
    while receipts.len() > MAX_RECEIPTS {
        receipts.pop_front();
    }
}

impl Memory {
    /// Adds a receipt, forgetting the oldest beyond [`MAX_RECEIPTS`].
    pub fn push_receipt(&mut self, receipt: VerifiedReceipt) {
        keep_receipt(&mut self.receipts, receipt);
    }

    /// The stored text.
    pub fn to_text(&self) -> String {
        // Beyond the bound, the least used go (repeatedly the one with the fewest jobs: no sort
        // code in the wasm for a list this short).
        let mut hosts: Vec<&(PeerId, HostRecord)> = self.hosts.iter().collect();
        while hosts.len() > MAX_HOSTS {
            let least = (0..hosts.len())
                .min_by_key(|&i| hosts[i].1.total)
                .unwrap_or(0);
            hosts.swap_remove(least);
        }
        let mut out = String::from(HEADER);
        for (peer, record) in hosts {
            out.push_str("\nhost ");
            out.push_str(&peer.to_string());
            for n in record.to_parts() {
                out.push(' ');
                out.push_str(&n.to_string());
            }
        }
        for r in &self.receipts {
            out.push_str("\nreceipt ");
            out.push_str(&r.envelope);
        }
        out
    }

    /// Reads a stored text for the SDK whose peer id is `me`, keeping what is valid: hosts with
    /// a well-formed record, receipts that verify and name `me` as client, within the bounds.
    /// `Err` says why nothing could be read (then the SDK starts with an empty memory).
    pub fn from_text(text: &str, me: PeerId) -> Result<Memory, String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("it does not start with {HEADER:?}"));
        }
        let mut memory = Memory::default();
        for line in lines {
            let mut words = line.split(' ');
            match (words.next(), words.next()) {
                (Some("host"), Some(peer)) if memory.hosts.len() < MAX_HOSTS => {
                    let numbers: Vec<u64> = words.filter_map(|w| w.parse().ok()).collect();
                    let record = <[u64; 7]>::try_from(numbers)
                        .ok()
                        .and_then(HostRecord::from_parts);
                    if let (Ok(peer), Some(record)) = (peer.parse(), record) {
                        memory.hosts.push((peer, record));
                    }
                }
                (Some("receipt"), Some(envelope)) => {
                    if let Ok(r) = verify_envelope(envelope) {
                        if r.receipt.client == me.to_string() {
                            memory.push_receipt(r);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(memory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resilience::ReliabilityConfig;
    use libp2p::identity::Keypair;

    fn receipt(host: &Keypair, client: PeerId, job: &str) -> VerifiedReceipt {
        let r = fabstir_protocol::receipt::Receipt {
            version: 1,
            job_id: job.into(),
            host: host.public().to_peer_id().to_string(),
            client: client.to_string(),
            model_id: "m".into(),
            prompt_tokens: 0,
            completion_tokens: 2,
            price_per_token: 3,
            price_per_prompt_token: 0,
            cost: 6,
            request_sha256: "0".repeat(64),
            output_sha256: "1".repeat(64),
            started_at: 1,
            ended_at: 2,
        };
        let envelope = fabstir_protocol::receipt::seal_base64(host, &r).unwrap();
        verify_envelope(&envelope).unwrap()
    }

    #[test]
    fn memory_round_trips_and_keeps_only_what_is_valid_and_ours() {
        let (me, other, host) = (
            PeerId::random(),
            PeerId::random(),
            Keypair::generate_ed25519(),
        );
        let config = ReliabilityConfig {
            failure_threshold: 1,
            blacklist_duration: 1000,
        };
        let mut record = HostRecord::default();
        record.record(true, Some(12.0), 0.0, &config);
        record.record(false, None, 5.0, &config);
        let mut memory = Memory {
            hosts: vec![(host.public().to_peer_id(), record)],
            ..Memory::default()
        };
        memory.push_receipt(receipt(&host, me, "j1"));
        memory.push_receipt(receipt(&host, other, "j2"));
        let text = memory.to_text();
        let back = Memory::from_text(&text, me).unwrap();
        assert_eq!(back.hosts, memory.hosts, "the record, circuit included");
        assert!(
            !back.hosts[0].1.usable(500.0),
            "still blacklisted after a reload"
        );
        let jobs: Vec<&str> = back
            .receipts
            .iter()
            .map(|r| r.receipt.job_id.as_str())
            .collect();
        assert_eq!(jobs, ["j1"], "another client's receipt is not ours to keep");

        let tampered = text.replace("host ", "host x");
        assert!(Memory::from_text(&tampered, me).unwrap().hosts.is_empty());
        assert!(Memory::from_text("fabstir-memory 2", me).is_err());
        assert!(Memory::from_text("not a memory", me).is_err());
        let peer = PeerId::random();
        for bad in [
            "-1 0 0 0 0 0 0",
            "1 2 0 0 0 0 0",
            "1 1 0 0 0 3 0",
            "0.5 0 0 0 0 0 0",
            "4294967296 0 0 0 0 0 0",
            "1 1 0 0 0 0",
        ] {
            let text = format!("fabstir-memory 1\nhost {peer} {bad}");
            assert!(
                Memory::from_text(&text, me).unwrap().hosts.is_empty(),
                "{bad}"
            );
        }
        let good = format!("fabstir-memory 1\nhost {peer} 1 1 0 0 0 0 0\nwhat 1");
        assert_eq!(Memory::from_text(&good, me).unwrap().hosts.len(), 1);
    }

    #[test]
    fn receipts_and_hosts_are_bounded() {
        let (me, host) = (PeerId::random(), Keypair::generate_ed25519());
        let mut memory = Memory::default();
        let one = receipt(&host, me, "j");
        for _ in 0..MAX_RECEIPTS + 5 {
            memory.push_receipt(one.clone());
        }
        assert_eq!(memory.receipts.len(), MAX_RECEIPTS);
        let config = ReliabilityConfig {
            failure_threshold: 3,
            blacklist_duration: 1000,
        };
        memory.hosts = (0..MAX_HOSTS + 10)
            .map(|i| {
                let mut r = HostRecord::default();
                for _ in 0..i % 7 {
                    r.record(true, None, 0.0, &config);
                }
                (PeerId::random(), r)
            })
            .collect();
        let unused =
            |hosts: &[(PeerId, HostRecord)]| hosts.iter().filter(|(_, r)| r.total == 0).count();
        let back = Memory::from_text(&memory.to_text(), me).unwrap();
        assert_eq!(back.hosts.len(), MAX_HOSTS);
        assert_eq!(
            unused(&back.hosts),
            unused(&memory.hosts) - 10,
            "the least used go first"
        );
    }
}
