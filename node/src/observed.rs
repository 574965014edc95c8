//! Identify with an observed address other implementations accept on relayed connections.
//!
//! libp2p-relay 0.22's client transport gives an inbound circuit connection the remote address
//! `/p2p/<client>` (no IP, no relay), and libp2p-identify 0.48 sends the remote address as the
//! client's observed address. js-libp2p rejects such an identify message ("… was not an IPv4,
//! IPv6, DNS … address"), so a stock js-libp2p client never learnt a relayed host's protocols.
//! This wrapper hands identify the full circuit address the connection came in on instead:
//! `<relay address>/p2p/<relay>/p2p-circuit/p2p/<client>` (the listener's local address plus the
//! client), which is what the client dialled through and what js-libp2p itself reports.

use std::task::{Context, Poll};

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::identify;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// The address to report as observed for a connection from `remote` to our `local` address.
pub fn observed_address(local: &Multiaddr, remote: &Multiaddr) -> Multiaddr {
    let relayed_in = matches!(local.iter().last(), Some(Protocol::P2pCircuit));
    let only_peer = remote.iter().all(|p| matches!(p, Protocol::P2p(_)));
    if relayed_in && only_peer && !remote.is_empty() {
        local.iter().chain(remote.iter()).collect()
    } else {
        remote.clone()
    }
}

/// `identify::Behaviour`, with [`observed_address`] as the observed address of inbound
/// connections. Everything else is passed through unchanged.
pub struct Identify(pub identify::Behaviour);

impl NetworkBehaviour for Identify {
    type ConnectionHandler = THandler<identify::Behaviour>;
    type ToSwarm = identify::Event;

    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.0.handle_pending_inbound_connection(id, local, remote)
    }

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let observed = observed_address(local, remote);
        self.0
            .handle_established_inbound_connection(id, peer, local, &observed)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: Option<PeerId>,
        addresses: &[Multiaddr],
        role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.0
            .handle_pending_outbound_connection(id, peer, addresses, role)
    }

    fn handle_established_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.0
            .handle_established_outbound_connection(id, peer, addr, role, port_use)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.0.on_swarm_event(event)
    }

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.0.on_connection_handler_event(peer, id, event)
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<identify::Event, THandlerInEvent<Self>>> {
        self.0.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relayed_connection_is_observed_at_its_full_circuit_address() {
        let relay = PeerId::random();
        let client = PeerId::random();
        let local: Multiaddr = format!("/ip4/127.0.0.1/tcp/4001/p2p/{relay}/p2p-circuit")
            .parse()
            .unwrap();
        let remote: Multiaddr = format!("/p2p/{client}").parse().unwrap();
        assert_eq!(
            observed_address(&local, &remote).to_string(),
            format!("/ip4/127.0.0.1/tcp/4001/p2p/{relay}/p2p-circuit/p2p/{client}")
        );
        // A direct connection keeps the address the transport saw.
        let direct: Multiaddr = "/ip4/127.0.0.1/tcp/55555".parse().unwrap();
        let listen: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        assert_eq!(observed_address(&listen, &direct), direct);
    }
}
