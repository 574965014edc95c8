//! The node's gossipsub waits for identify before its first stream to a peer
//! (`fabstir_node::catalog::gate`): a peer without gossipsub (a browser page) gets no proposal
//! to refuse and no identify push after it; two nodes still gossip.
//!
//! Swarms on libp2p's in-memory transport, Noise and yamux, in this process.

mod common;

use std::time::Duration;

use common::memory::swarm;
use fabstir_node::catalog::{self, gate::Gated};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, ping, Multiaddr, Swarm};

/// What a fabstir-node runs of the two: identify and the catalog's (gated) gossipsub.
#[derive(NetworkBehaviour)]
struct Node {
    identify: identify::Behaviour,
    gossipsub: Gated<gossipsub::Behaviour>,
}

/// What a page runs of them: identify and ping, no gossipsub.
#[derive(NetworkBehaviour)]
struct Page {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

fn identify_of(key: &Keypair) -> identify::Behaviour {
    identify::Behaviour::new(identify::Config::new("/fabstir/test".into(), key.public()))
}

/// A node whose held streams wait `patience` for identify.
fn node(patience: Duration) -> Swarm<Node> {
    swarm(|key| Node {
        identify: identify_of(key),
        gossipsub: catalog::gate::with_patience(catalog::behaviour(key, true).unwrap(), patience),
    })
}

fn listen<B: NetworkBehaviour>(swarm: &mut Swarm<B>, port: u64) -> Multiaddr {
    let addr: Multiaddr = format!("/memory/{port}").parse().unwrap();
    swarm.listen_on(addr.clone()).unwrap();
    addr
}

/// Identify records a page receives from a node in the 1.5 s after it dials it (the node's
/// answer, plus one for each push).
async fn identify_records_at_page(patience: Duration, port: u64) -> usize {
    let mut node = node(patience);
    let addr = listen(&mut node, port);
    let mut page = swarm(|key| Page {
        identify: identify_of(key),
        ping: ping::Behaviour::default(),
    });
    page.dial(addr).unwrap();
    let mut records = 0;
    let window = tokio::time::sleep(Duration::from_millis(1500));
    tokio::pin!(window);
    loop {
        tokio::select! {
            _ = &mut window => return records,
            _ = node.select_next_some() => {}
            event = page.select_next_some() => {
                if let SwarmEvent::Behaviour(PageEvent::Identify(identify::Event::Received { .. })) = event {
                    records += 1;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_page_without_gossipsub_gets_no_proposal_and_no_identify_push() {
    // Control: with nothing held (upstream's behaviour), the page refuses gossipsub's stream and
    // the node pushes identify after it: two records. If this fails, upstream changed and the
    // gate may no longer be needed.
    assert_eq!(identify_records_at_page(Duration::ZERO, 7101).await, 2);
    // Gated: identify lists no gossipsub, the node opens no stream, nothing is pushed.
    assert_eq!(
        identify_records_at_page(Duration::from_secs(3600), 7102).await,
        1
    );
}

#[tokio::test]
async fn two_nodes_still_gossip_once_identify_names_the_protocol() {
    // Patience of an hour: only identify (or the peer's own stream) lets a held stream out.
    let hour = Duration::from_secs(3600);
    let (mut a, mut b) = (node(hour), node(hour));
    let addr = listen(&mut a, 7103);
    b.dial(addr).unwrap();
    let topic = IdentTopic::new(fabstir_protocol::catalog::TOPIC);
    let b_id = *b.local_peer_id();
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => panic!("node A never heard node B subscribe in 30 s"),
            event = a.select_next_some() => {
                if let SwarmEvent::Behaviour(NodeEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, topic: t })) = event {
                    if peer_id == b_id && t == topic.hash() {
                        return;
                    }
                }
            }
            _ = b.select_next_some() => {}
        }
    }
}
