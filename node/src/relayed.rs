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
    /// Relay → the circuit addresses we added as external addresses while our reservation there
    /// stands.
    announced: HashMap<PeerId, Vec<Multiaddr>>,
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

    /// Marks a circuit listener closed and removes the circuit addresses through its relay from
    /// our external ones (peers must not be sent to a circuit that is gone); false when it was
    /// not one of ours.
    pub(crate) fn closed(&mut self, swarm: &mut Swarm<Behaviour>, listener: ListenerId) -> bool {
        let Some(relay) = self
            .relays
            .iter_mut()
            .find(|(_, (_, l))| *l == Some(listener))
            .map(|(relay, (_, l))| {
                *l = None;
                *relay
            })
        else {
            return false;
        };
        self.retry_at = Some(tokio::time::Instant::now() + RESERVE_RETRY);
        for address in self.announced.remove(&relay).unwrap_or_default() {
            swarm.remove_external_address(&address);
        }
        true
    }

    /// A reservation on `relay` was accepted: adds the circuit addresses through it that are not
    /// added yet as external addresses and prints `reachable <address>` for each; true if there
    /// were any.
    pub(crate) fn reserved(&mut self, swarm: &mut Swarm<Behaviour>, relay: PeerId) -> bool {
        let local = *swarm.local_peer_id();
        let new = self.new_circuits(relay, local);
        let added = !new.is_empty();
        for address in new {
            crate::say(format_args!("reachable {address}"));
            swarm.add_external_address(address);
        }
        added
    }

    /// The circuit addresses through `relay` not announced yet, now marked announced.
    fn new_circuits(&mut self, relay: PeerId, local: PeerId) -> Vec<Multiaddr> {
        let all = self.circuit_addresses(&relay, local);
        let announced = self.announced.entry(relay).or_default();
        let new: Vec<Multiaddr> = all.into_iter().filter(|a| !announced.contains(a)).collect();
        announced.extend(new.iter().cloned());
        new
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

    /// Records `relay`'s own addresses (from identify). If our reservation there already
    /// stands, announces the circuit addresses this adds, as [`Self::reserved`] does (identify
    /// may finish after the reservation, which then knew only the bootstrap address); true if
    /// there were any.
    pub(crate) fn learn_addresses(
        &mut self,
        swarm: &mut Swarm<Behaviour>,
        relay: PeerId,
        addrs: &[Multiaddr],
    ) -> bool {
        self.addresses.insert(relay, addrs.to_vec());
        self.announced.contains_key(&relay) && self.reserved(swarm, relay)
    }

    /// Every address through which peers can reach `local` via `relay`: each of the relay's own
    /// addresses (so browsers find a WebSocket or WebRTC one), then
    /// `/p2p/<relay>/p2p-circuit/p2p/<local>`, once each.
    ///
    /// The form is the one libp2p-relay's client itself confirms as an external address when a
    /// reservation is accepted (`<reserved address>/p2p/<relay>/p2p-circuit/p2p/<local>`, in
    /// `priv_client.rs`), so the swarm's set of external addresses, and with it the Kademlia
    /// provider record, holds that one once and not also a second spelling without `/p2p/<local>`.
    fn circuit_addresses(&self, relay: &PeerId, local: PeerId) -> Vec<Multiaddr> {
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
            a.push(Protocol::P2p(local));
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// How soon a failed reservation is tried again.
const RESERVE_RETRY: std::time::Duration = std::time::Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circuit_addresses_are_distinct_and_end_in_our_id() {
        let relay = PeerId::random();
        let local = PeerId::random();
        let mut listeners = RelayedListeners::default();
        let tcp: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{relay}").parse().unwrap();
        listeners.relays.insert(relay, (tcp, None));
        let text = |v: Vec<Multiaddr>| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let tcp_circuit = format!("/ip4/127.0.0.1/tcp/1/p2p/{relay}/p2p-circuit/p2p/{local}");
        let ws_circuit = format!("/ip4/127.0.0.1/tcp/2/ws/p2p/{relay}/p2p-circuit/p2p/{local}");
        // Reserved before identify: only the bootstrap address is known.
        assert_eq!(
            text(listeners.new_circuits(relay, local)),
            std::slice::from_ref(&tcp_circuit)
        );
        let addrs: Vec<Multiaddr> = vec![
            "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
            "/ip4/127.0.0.1/tcp/2/ws".parse().unwrap(),
        ];
        // Identify then adds only what is new; again, nothing.
        listeners.addresses.insert(relay, addrs);
        assert_eq!(
            text(listeners.new_circuits(relay, local)),
            std::slice::from_ref(&ws_circuit)
        );
        assert!(listeners.new_circuits(relay, local).is_empty());
        assert!(listeners.new_circuits(PeerId::random(), local).is_empty());
    }
}
