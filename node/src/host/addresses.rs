//! The IP address each peer is connected to us from directly, for the per-IP share of job
//! slots (`host.max_jobs_per_ip`). A connection through a relay circuit has no address of its
//! own here: every client of a relayed host comes from its relay, so those count per peer id.

use std::collections::HashMap;
use std::net::IpAddr;

use libp2p::multiaddr::Protocol;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

/// Open direct connections per peer, with the address each comes from.
#[derive(Default)]
pub struct Addresses {
    by_peer: HashMap<PeerId, Vec<(ConnectionId, IpAddr)>>,
}

impl Addresses {
    /// Notes `peer`'s new connection from `remote` (ignored when relayed).
    pub fn connected(&mut self, peer: PeerId, connection: ConnectionId, remote: &Multiaddr) {
        if let Some(ip) = direct_ip(remote) {
            self.by_peer.entry(peer).or_default().push((connection, ip));
        }
    }

    /// Forgets a closed connection.
    pub fn closed(&mut self, peer: &PeerId, connection: ConnectionId) {
        if let Some(open) = self.by_peer.get_mut(peer) {
            open.retain(|(c, _)| *c != connection);
            if open.is_empty() {
                self.by_peer.remove(peer);
            }
        }
    }

    /// The address of `peer`'s newest direct connection, if it has one.
    pub fn ip_of(&self, peer: &PeerId) -> Option<IpAddr> {
        self.by_peer.get(peer)?.last().map(|(_, ip)| *ip)
    }
}

/// The IP address a connection comes from, unless it came through a relay circuit.
pub fn direct_ip(remote: &Multiaddr) -> Option<IpAddr> {
    if remote.iter().any(|p| p == Protocol::P2pCircuit) {
        return None;
    }
    remote.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_connections_have_an_address_and_circuits_none() {
        let tcp: Multiaddr = "/ip4/192.0.2.7/tcp/4001".parse().unwrap();
        assert_eq!(direct_ip(&tcp), Some("192.0.2.7".parse().unwrap()));
        let ws: Multiaddr = "/ip6/2001:db8::1/tcp/4002/ws".parse().unwrap();
        assert_eq!(direct_ip(&ws), Some("2001:db8::1".parse().unwrap()));
        let relay = PeerId::random();
        let circuit: Multiaddr = format!("/ip4/192.0.2.9/tcp/4001/p2p/{relay}/p2p-circuit")
            .parse()
            .unwrap();
        assert_eq!(direct_ip(&circuit), None);
        let bare: Multiaddr = format!("/p2p/{relay}/p2p-circuit").parse().unwrap();
        assert_eq!(direct_ip(&bare), None);
    }

    #[test]
    fn a_peer_has_the_address_of_its_newest_open_connection() {
        let mut a = Addresses::default();
        let peer = PeerId::random();
        let (c1, c2) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
        );
        a.connected(peer, c1, &"/ip4/10.0.0.1/tcp/1".parse().unwrap());
        a.connected(peer, c2, &"/ip4/10.0.0.2/tcp/1".parse().unwrap());
        assert_eq!(a.ip_of(&peer), Some("10.0.0.2".parse().unwrap()));
        a.closed(&peer, c2);
        assert_eq!(a.ip_of(&peer), Some("10.0.0.1".parse().unwrap()));
        a.closed(&peer, c1);
        assert_eq!(a.ip_of(&peer), None);
        assert!(
            a.by_peer.is_empty(),
            "a peer with no connection is forgotten"
        );
    }
}
