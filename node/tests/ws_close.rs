//! `fabstir_node::ws_close::Lingering`: a WebSocket connection that libp2p read to its end (the
//! peer sent its Close frame) and then dropped finishes without a panic. Its closing task read
//! the finished stream again, and libp2p-websocket 0.46's stream panics when polled after its end
//! ("Unfold must not be polled after it returned `Poll::Ready(None)`"): the nodes' logs showed
//! it after pages in WebKitGTK (and, rarely, Chromium) closed their connections.
//!
//! A real libp2p WebSocket pair on 127.0.0.1 (libp2p-websocket over tokio's TCP), the node's
//! side wrapped as `swarm.rs` wraps it. The panic is in a task of its own, so a panic hook counts
//! panics; this file holds one test, so nothing else can panic beside it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fabstir_node::ws_close::{Lingering, LINGER};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::core::transport::{DialOpts, ListenerId, PortUse, Transport, TransportEvent};
use libp2p::core::Endpoint;
use libp2p::{tcp, websocket, Multiaddr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_read_to_its_end_then_dropped_closes_without_a_panic() {
    let panics = Arc::new(AtomicUsize::new(0));
    let counted = panics.clone();
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        counted.fetch_add(1, Ordering::SeqCst);
        report(info);
    }));

    let websocket = || websocket::Config::new(tcp::tokio::Transport::default()).boxed();
    let mut node = websocket();
    let listen: Multiaddr = "/ip4/127.0.0.1/tcp/0/ws".parse().unwrap();
    node.listen_on(ListenerId::next(), listen).unwrap();
    let address = loop {
        if let TransportEvent::NewAddress { listen_addr, .. } = node.select_next_some().await {
            break listen_addr;
        }
    };
    let dial = websocket()
        .dial(
            address,
            DialOpts {
                role: Endpoint::Dialer,
                port_use: PortUse::New,
            },
        )
        .unwrap();
    let accept = async {
        loop {
            if let TransportEvent::Incoming { upgrade, .. } = node.select_next_some().await {
                break upgrade.await.unwrap();
            }
        }
    };
    let (page, accepted) = futures::join!(dial, accept);
    let (mut page, mut accepted) = (page.unwrap(), Lingering::new(accepted));

    page.write_all(b"hello").await.unwrap();
    page.close().await.unwrap();
    let mut got = Vec::new();
    accepted.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"hello");
    drop(accepted);
    // The closing task has LINGER at most; give it that and a margin.
    tokio::time::sleep(LINGER + Duration::from_millis(500)).await;
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "closing a connection read to its end panicked"
    );
}
