//! A relayed host's reservations on its bootstrap relays: reserving, noticing a closed
//! reservation and reserving again, and the circuit addresses it can be reached at.

use crate::swarm::Behaviour;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, Swarm};
use std::collections::HashMap;

/// A relayed host's reservations on its bootstrap relays.
#[derive(Default)]
pub(crate) struct RelayedListeners {
    /// Relay → its bootstrap address and our circuit listener, if one is open.
    pub(crate) relays: HashMap<PeerId, (Multiaddr, Option<ListenerId>)>,
    /// Relay → the addresses it listens on (from identify).
    addresses: HashMap<PeerId, Vec<Multiaddr>>,
    /// When to try again to reserve on relays whose listener closed.
    retry_at: Option<tokio::time::Instant>,
}

impl RelayedListeners {
    pub(crate) fn listen(&mut self, swarm: &mut Swarm<Behaviour>, relay: PeerId, addr: Multiaddr) {
        let listener = match swarm.listen_on(addr.clone().with(Protocol::P2pCircuit)) {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(%addr, error = %e, "cannot reserve on relay");
                self.retry_at = Some(tokio::time::Instant::now() + RESERVE_RETRY);
                None
            }
        };
        self.relays.insert(relay, (addr, listener));
    }

    /// Reserves on `peer` if it is one of our relays and we hold no reservation there.
    pub(crate) fn on_connected(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId) {
        if let Some((addr, None)) = self.relays.get(&peer) {
            let addr = addr.clone();
            self.listen(swarm, peer, addr);
        }
    }

    pub(crate) fn is_relay(&self, peer: &PeerId) -> bool {
        self.relays.contains_key(peer)
    }

    /// Marks a circuit listener closed; true when it was one of ours.
    pub(crate) fn closed(&mut self, listener: ListenerId) -> bool {
        for (_, l) in self.relays.values_mut() {
            if *l == Some(listener) {
                *l = None;
                self.retry_at = Some(tokio::time::Instant::now() + RESERVE_RETRY);
                return true;
            }
        }
        false
    }

    pub(crate) fn retry_due(&mut self, swarm: &mut Swarm<Behaviour>) {
        if self
            .retry_at
            .is_none_or(|t| tokio::time::Instant::now() < t)
        {
            return;
        }
        self.retry_at = None;
        let idle: Vec<(PeerId, Multiaddr)> = self
            .relays
            .iter()
            .filter(|(_, (_, l))| l.is_none())
            .map(|(p, (a, _))| (*p, a.clone()))
            .collect();
        for (relay, addr) in idle {
            self.listen(swarm, relay, addr);
        }
    }

    pub(crate) fn learn_addresses(&mut self, relay: PeerId, addrs: &[Multiaddr]) {
        self.addresses.insert(relay, addrs.to_vec());
    }

    /// Every address through which peers can reach us via `relay`: each of the relay's own
    /// addresses (so browsers find a WebSocket or WebRTC one), then `/p2p/<relay>/p2p-circuit`.
    pub(crate) fn circuit_addresses(&self, relay: &PeerId) -> Vec<Multiaddr> {
        let mut bases: Vec<Multiaddr> = self.addresses.get(relay).cloned().unwrap_or_default();
        if let Some((addr, _)) = self.relays.get(relay) {
            bases.push(addr.clone());
        }
        let mut out: Vec<Multiaddr> = Vec::new();
        for base in bases {
            let mut a: Multiaddr = base
                .iter()
                .filter(|p| !matches!(p, Protocol::P2p(_)))
                .collect();
            a.push(Protocol::P2p(*relay));
            a.push(Protocol::P2pCircuit);
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// How soon a failed reservation is tried again.
const RESERVE_RETRY: std::time::Duration = std::time::Duration::from_secs(3);
