//! The node's identify and ping of a page's connection wait `page_later::WAIT`
//! (`fabstir_node::wrap::page_later`): a peer that dials the node over WebSocket, as a page does, is
//! asked for its identify record no sooner than that after it dialled.
//!
//! Real swarms in this process, over TCP and WebSocket on 127.0.0.1, Noise and yamux.

use std::time::{Duration, Instant};

use fabstir_node::wrap::page_later::{page_later, PageLater, WAIT};
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, noise, ping, tcp, yamux, Multiaddr, Swarm};

/// What a fabstir-node runs of the two.
#[derive(NetworkBehaviour)]
struct Node {
    identify: PageLater<identify::Behaviour>,
    ping: PageLater<ping::Behaviour>,
}

/// What a page runs of them (without the SDK's own hold).
#[derive(NetworkBehaviour)]
struct Page {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
}

fn identify_of(key: &Keypair) -> identify::Behaviour {
    identify::Behaviour::new(identify::Config::new("/fabstir/test".into(), key.public()))
}

async fn swarm<B: NetworkBehaviour>(behaviour: impl FnOnce(&Keypair) -> B) -> Swarm<B> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .unwrap()
        .with_behaviour(|key| behaviour(key))
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

#[tokio::test]
async fn a_page_is_asked_for_its_identify_record_no_sooner_than_the_wait() {
    let mut node = swarm(|key| Node {
        identify: page_later(identify_of(key)),
        ping: page_later(ping::Behaviour::default()),
    })
    .await;
    node.listen_on("/ip4/127.0.0.1/tcp/0/ws".parse().unwrap())
        .unwrap();
    let addr: Multiaddr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = node.select_next_some().await {
            break address;
        }
    };
    let mut page = swarm(|key| Page {
        identify: identify_of(key),
        ping: ping::Behaviour::default(),
    })
    .await;
    // From the dial: the node's side of the connection (and its wait) starts after it.
    let dialled = Instant::now();
    page.dial(addr).unwrap();
    let deadline = tokio::time::sleep(Duration::from_secs(30));
    tokio::pin!(deadline);
    let served = loop {
        tokio::select! {
            _ = &mut deadline => panic!("the node did not ask the page for its identify record in 30 s"),
            _ = node.select_next_some() => {}
            event = page.select_next_some() => {
                // The page answered the node's identify request.
                if let SwarmEvent::Behaviour(PageEvent::Identify(identify::Event::Sent { .. })) = event {
                    break dialled.elapsed();
                }
            }
        }
    };
    // A lower bound (it cannot come sooner), so a slow machine cannot fail it.
    assert!(
        served >= WAIT,
        "the node asked for the page's identify record {served:?} after the page dialled, before {WAIT:?}"
    );
}
