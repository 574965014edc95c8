//! Gossipsub RPCs that their receivers accept (`fabstir_node::catalog::rpc_limits`): a relay's
//! lazy gossip after a burst, and a large announcement followed by others, do not cut its peers
//! off from what it sends next.
//!
//! Swarms with the catalog's gossipsub settings on libp2p's in-memory transport, Noise and
//! yamux, in this process: a relay and its subscribed peers. Every peer must receive every
//! message the relay publishes.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use fabstir_node::catalog;
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::mpsc;

/// The time to gossipsub's first heartbeat and between heartbeats (default: 6 s, then 1 s).
const HEARTBEAT: Duration = Duration::from_secs(10);

/// A swarm with the catalog's gossipsub settings, with time to spare on a slow machine:
/// messages wait in the queue up to a minute (not 5 s), and the first heartbeat (gossip) comes
/// after a burst is out.
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

/// A relay whose `peers` subscribed peers (each in a task of its own) report every message.
struct Net {
    relay: Swarm<gossipsub::Behaviour>,
    topic: IdentTopic,
    received: HashMap<PeerId, usize>,
    rx: mpsc::UnboundedReceiver<PeerId>,
}

impl Net {
    /// The relay connected to `peers` subscribed peers listening on `/memory/<port>…`, once it
    /// knows every peer's subscription.
    async fn start(peers: u64, port: u64) -> Net {
        let topic = IdentTopic::new(fabstir_protocol::catalog::TOPIC);
        let mut relay = swarm();
        relay.behaviour_mut().subscribe(&topic).unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut received = HashMap::new();
        for i in 0..peers {
            let mut s = swarm();
            s.behaviour_mut().subscribe(&topic).unwrap();
            let addr: Multiaddr = format!("/memory/{}", port + i).parse().unwrap();
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
        let mut subscribed = 0;
        let wait = tokio::time::timeout(Duration::from_secs(60), async {
            while subscribed < peers {
                if let SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) =
                    relay.select_next_some().await
                {
                    subscribed += 1;
                }
            }
        });
        wait.await.expect("every peer's subscription within 60 s");
        Net {
            relay,
            topic,
            received,
            rx,
        }
    }

    fn publish(&mut self, data: impl Into<Vec<u8>>) {
        let topic = self.topic.clone();
        self.relay.behaviour_mut().publish(topic, data).unwrap();
    }

    /// Runs the relay until it or a peer has something: a peer's message is counted.
    async fn step(&mut self) {
        tokio::select! {
            _ = self.relay.select_next_some() => {}
            Some(peer) = self.rx.recv() => *self.received.get_mut(&peer).unwrap() += 1,
        }
    }

    /// Runs the relay and counts what the peers receive, for `time`.
    async fn run(&mut self, time: Duration) {
        let _ = tokio::time::timeout(time, async {
            loop {
                self.step().await;
            }
        })
        .await;
    }

    /// Runs until every peer received `n` messages (at most a minute), else says who did not.
    async fn every_peer_received(&mut self, n: usize, what: &str) {
        let everyone = tokio::time::timeout(Duration::from_secs(60), async {
            while self.received.values().any(|got| *got < n) {
                self.step().await;
            }
        });
        if everyone.await.is_err() {
            let short: Vec<usize> = self
                .received
                .values()
                .copied()
                .filter(|got| *got < n)
                .collect();
            panic!(
                "{} of {} peers missed messages {what} (received {short:?} of {n})",
                short.len(),
                self.received.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relays_gossip_after_a_burst_does_not_cut_off_its_later_announcements() {
    // 14 peers: more than gossipsub's mesh holds (12 at most, pruned to 6 at a heartbeat).
    let mut net = Net::start(14, 7201).await;
    // 250 ids: more than fit in the 16 KiB of control bytes gossipsub accepts in one RPC (each
    // id about 73 bytes on the wire); gossipsub's own bound is 5,000 ids.
    for n in 0..250 {
        net.publish(format!("burst {n}"));
    }
    // At its first heartbeat the relay prunes its mesh to 6 and gossips the ids of the last
    // three heartbeats' messages (the burst) to peers outside it.
    net.run(HEARTBEAT + Duration::from_secs(3)).await;
    net.publish("after the gossip");
    net.every_peer_received(251, "after the relay's gossip")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_announcement_in_a_burst_does_not_cut_off_the_rest() {
    let mut net = Net::start(3, 7231).await;
    // Near an announcement's 16 KiB bound, then 100 small ones right behind it: a peer reads the
    // large frame in 8 KiB pieces, the last one with the next frames in it.
    for round in 0..3 {
        net.publish(vec![b'x'; 15_000 + round]);
        for n in 0..100 {
            net.publish(format!("round {round} message {n}"));
        }
    }
    net.every_peer_received(303, "after a large one").await;
}
