//! Identify with an observed address other implementations accept on relayed connections.
//!
//! libp2p-relay 0.22's client transport gives an inbound circuit connection the remote address
//! `/p2p/<client>` (no IP, no relay), and libp2p-identify 0.48 sends the remote address as the
//! client's observed address. js-libp2p rejects such an identify message ("… was not an IPv4,
//! IPv6, DNS … address"), so a stock js-libp2p client never learnt a relayed host's protocols.
//! This wrapper hands identify the full circuit address the connection came in on instead:
//! `<relay address>/p2p/<relay>/p2p-circuit/p2p/<client>` (the listener's local address plus the
//! client), which is what the client dialled through and what js-libp2p itself reports.

use std::borrow::Cow;

use libp2p::identify;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::THandler;
use libp2p::Multiaddr;

use super::{Change, Wrap};

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
pub type Identify = Wrap<identify::Behaviour, FullCircuit>;

/// `b`, reporting [`observed_address`].
pub fn identify(b: identify::Behaviour) -> Identify {
    Wrap::new(b, FullCircuit)
}

/// The change of [`Identify`]: identify is told [`observed_address`] as the remote address.
pub struct FullCircuit;

impl Change<identify::Behaviour> for FullCircuit {
    type Handler = THandler<identify::Behaviour>;

    fn handler(&mut self, inner: Self::Handler, _: Option<&Multiaddr>) -> Self::Handler {
        inner
    }

    fn remote<'a>(&self, local: &Multiaddr, remote: &'a Multiaddr) -> Cow<'a, Multiaddr> {
        Cow::Owned(observed_address(local, remote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::PeerId;

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
