//! A node's lazy gossip (IHAVE) fits what its peers accept (`fabstir_node::catalog::lazy_gossip`):
//! a node that gossips after a burst of announcements does not cut its peers off from its later
//! ones.
//!
//! Swarms with the catalog's gossipsub settings on libp2p's in-memory transport, Noise and
//! yamux, in this process: a relay and 14 peers, all subscribed. The relay's mesh keeps 6 of
//! them; it publishes a burst (sent to every peer), gossips the burst's ids at its first
//! heartbeat to some of the 8 outside its mesh, then publishes once more. Every peer must
//! receive every message, the last one included.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use fabstir_node::catalog;
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};

/// More than gossipsub's mesh holds (12 at most, pruned to 6 at a heartbeat).
const SUBSCRIBERS: u64 = 14;
/// More message ids than fit in the 16 KiB of control bytes gossipsub accepts in one RPC (each
/// id about 73 bytes on the wire); gossipsub's own bound is 5,000 ids.
const BURST: usize = 250;
/// The time to gossipsub's first heartbeat and between heartbeats (default: 6 s, then 1 s).
const HEARTBEAT: Duration = Duration::from_secs(10);

/// A swarm with the catalog's gossipsub settings, with time to spare on a slow machine:
/// messages wait in the queue up to a minute (not 5 s), and the first heartbeat (gossip) comes
/// after the burst is out.
fn swarm() -> Swarm<gossipsub::Behaviour> {
    common::memory::swarm(|key| {
        let config = catalog::gossipsub_builder(false)
            .publish_queue_duration(Duration::from_secs(60))
            .heartbeat_initial_delay(Duration::ZERO)
            .heartbeat_interval(HEARTBEAT)
            .build()
            .unwrap();
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relays_gossip_after_a_burst_does_not_cut_off_its_later_announcements() {
    let topic = IdentTopic::new(fabstir_protocol::catalog::TOPIC);
    let mut relay = swarm();
    relay.behaviour_mut().subscribe(&topic).unwrap();
    let mut received: HashMap<PeerId, usize> = HashMap::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PeerId>();
    for i in 0..SUBSCRIBERS {
        let mut s = swarm();
        s.behaviour_mut().subscribe(&topic).unwrap();
        let addr: Multiaddr = format!("/memory/{}", 7201 + i).parse().unwrap();
        s.listen_on(addr.clone()).unwrap();
        relay.dial(addr).unwrap();
        received.insert(*s.local_peer_id(), 0);
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                if let SwarmEvent::Behaviour(gossipsub::Event::Message { .. }) =
                    s.select_next_some().await
                {
                    let _ = tx.send(*s.local_peer_id());
                }
            }
        });
    }
    // Until every peer's subscription is known, then the burst.
    let mut subscribed = 0;
    let wait = tokio::time::timeout(Duration::from_secs(60), async {
        while subscribed < SUBSCRIBERS {
            if let SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) =
                relay.select_next_some().await
            {
                subscribed += 1;
            }
        }
    });
    wait.await.expect("every peer's subscription within 60 s");
    for n in 0..BURST {
        relay
            .behaviour_mut()
            .publish(topic.clone(), format!("burst {n}"))
            .unwrap();
    }
    // At its first heartbeat the relay prunes its mesh to 6 and gossips the ids of the last
    // three heartbeats' messages (the burst) to peers outside it.
    let gossip = tokio::time::sleep(HEARTBEAT + Duration::from_secs(3));
    tokio::pin!(gossip);
    loop {
        tokio::select! {
            _ = &mut gossip => break,
            _ = relay.select_next_some() => {}
            Some(peer) = rx.recv() => *received.get_mut(&peer).unwrap() += 1,
        }
    }
    relay
        .behaviour_mut()
        .publish(topic.clone(), "after the gossip")
        .unwrap();
    let everyone = tokio::time::timeout(Duration::from_secs(60), async {
        while received.values().any(|n| *n < BURST + 1) {
            tokio::select! {
                _ = relay.select_next_some() => {}
                Some(peer) = rx.recv() => *received.get_mut(&peer).unwrap() += 1,
            }
        }
    });
    if everyone.await.is_err() {
        let short: Vec<usize> = received
            .values()
            .copied()
            .filter(|n| *n < BURST + 1)
            .collect();
        panic!(
            "{} of {SUBSCRIBERS} subscribers missed messages after the relay's gossip \
             (received {short:?} of {})",
            short.len(),
            BURST + 1
        );
    }
}
