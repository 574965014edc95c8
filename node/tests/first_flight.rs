//! A real `fabstir-node`'s `/ws` listener sends a new connection's first answers above Noise
//! as one WebSocket message (`fabstir_node::first_flight::AfterHandshake`, wired in
//! `src/swarm.rs`): multistream-select's header and its yamux confirmation leave together.
//! `/tls/ws` connections go through the same pipeline (`swarm.rs`'s `page_connections`).
//!
//! A native client dials the node over WebSocket as a page does (multistream-select's lazy
//! variant, Noise, yamux) through a proxy on 127.0.0.1 that reads the node's side of the
//! connection as WebSocket frames (a server's frames are not masked) and records each one's
//! opcode and length.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{free_port, init, peer_id, Node};
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, yamux, Multiaddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One WebSocket frame the node sent: (opcode, payload length).
type Frames = Arc<Mutex<Vec<(u8, usize)>>>;

/// The frames whole in `buf` (after the HTTP upgrade answer), taken off its front.
fn frames_in(buf: &mut Vec<u8>, upgraded: &mut bool, out: &Frames) {
    if !*upgraded {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            return;
        };
        buf.drain(..end + 4);
        *upgraded = true;
    }
    loop {
        if buf.len() < 2 {
            return;
        }
        let (opcode, short) = (buf[0] & 0x0f, (buf[1] & 0x7f) as usize);
        let masked = buf[1] & 0x80 != 0;
        let (len, mut at) = match short {
            126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 if buf.len() >= 10 => {
                let bytes: [u8; 8] = buf[2..10].try_into().unwrap();
                (u64::from_be_bytes(bytes) as usize, 10)
            }
            126 | 127 => return,
            n => (n, 2),
        };
        if masked {
            at += 4;
        }
        if buf.len() < at + len {
            return;
        }
        out.lock().unwrap().push((opcode, len));
        buf.drain(..at + len);
    }
}

/// A proxy from a free port to `upstream` for one connection, recording the frames `upstream`
/// sends; its port.
async fn recording_proxy(upstream: u16, out: Frames) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let node = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
        client.set_nodelay(true).unwrap();
        node.set_nodelay(true).unwrap();
        let (mut client_read, mut client_write) = client.into_split();
        let (mut node_read, mut node_write) = node.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut client_read, &mut node_write).await;
        });
        let (mut buf, mut upgraded, mut chunk) = (Vec::new(), false, vec![0u8; 64 * 1024]);
        loop {
            let n = match node_read.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            frames_in(&mut buf, &mut upgraded, &out);
            if client_write.write_all(&chunk[..n]).await.is_err() {
                return;
            }
        }
    });
    port
}

#[tokio::test]
async fn the_first_answers_above_noise_leave_as_one_websocket_message() {
    let dir = tempfile::tempdir().unwrap();
    let ws = free_port(false);
    init(dir.path(), &[format!("/ip4/127.0.0.1/tcp/{ws}/ws")]);
    let _node = Node::start(&dir.path().join("config.yaml"));
    let node_id = peer_id(dir.path());

    let frames = Frames::default();
    let proxy = recording_proxy(ws, frames.clone()).await;
    let mut client = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .unwrap()
        .with_behaviour(|_| libp2p::swarm::dummy::Behaviour)
        .unwrap()
        .build();
    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{proxy}/ws/p2p/{node_id}")
        .parse()
        .unwrap();
    client.dial(addr).unwrap();
    let connected = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match client.select_next_some().await {
                SwarmEvent::ConnectionEstablished { .. } => return Ok(()),
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error),
                _ => {}
            }
        }
    })
    .await
    .expect("no connection to the node in 30 s");
    connected.unwrap();
    tokio::spawn(async move { while client.next().await.is_some() {} });

    // The client has sent all it sends to get connected (multistream-select's lazy variant does
    // not wait for the yamux confirmation); the node's answer to it is the second message.
    let data_frames = || -> Vec<usize> {
        let frames = frames.lock().unwrap();
        frames
            .iter()
            .filter(|(opcode, _)| *opcode <= 2)
            .map(|&(_, len)| len)
            .collect()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while data_frames().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let data = data_frames();
    assert!(data.len() >= 2, "the node's messages: {data:?} B");
    // Noise's reply (with multistream's answers below Noise, which FirstFlight puts with it).
    assert!(data[0] > 200, "Noise's reply: {data:?} B");
    // Above Noise: Noise's 2 B length and 16 B tag around multistream's header (20 B) and its
    // yamux confirmation (14 B). The header alone, as it left without AfterHandshake, is 38 B.
    assert!(
        data[1] >= 2 + 16 + 20 + 14,
        "the first message above Noise holds only {} B (header and confirmation apart?): {data:?} B",
        data[1]
    );
}
