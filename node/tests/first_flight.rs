//! A real `fabstir-node`'s `/ws` listener sends a new connection's first answers above Noise
//! as one WebSocket message (`fabstir_node::first_flight::AfterHandshake`, wired in
//! `src/swarm.rs`): multistream-select's header and its yamux confirmation leave together.
//! `/tls/ws` connections go through the same pipeline (`swarm.rs`'s `page_connections`).
//! A relayed host does the same on a circuit.
//!
//! Over `/ws`, a native client dials the node as a page does (multistream-select's lazy variant,
//! Noise, yamux) through a proxy on 127.0.0.1 that reads the node's side of the connection as
//! WebSocket frames (a server's frames are not masked) and records each one's opcode and
//! length. Over a circuit, the client reads the host's side as Noise frames (each a 2 B length
//! and its bytes) just below its own Noise.

mod common;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use common::folder::Folder;
use common::{free_port, init, peer_id, Node};
use futures::{AsyncRead, AsyncWrite, StreamExt};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use libp2p::swarm::{NetworkBehaviour, Swarm, SwarmEvent};
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

/// Drives `swarm` until its first connection is established (at most 30 s), then on in a task.
async fn connected<B: NetworkBehaviour + Send + 'static>(mut swarm: Swarm<B>, addr: &str)
where
    B::ToSwarm: Send,
{
    swarm.dial(addr.parse::<Multiaddr>().unwrap()).unwrap();
    let connected = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { .. } => return Ok(()),
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error),
                _ => {}
            }
        }
    })
    .await
    .expect("no connection in 30 s");
    connected.unwrap();
    tokio::spawn(async move { while swarm.next().await.is_some() {} });
}

/// The lengths in `recorded` once there are at least two (at most 30 s).
async fn first_two(recorded: impl Fn() -> Vec<usize>) -> Vec<usize> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while recorded().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lengths = recorded();
    assert!(lengths.len() >= 2, "the node's messages: {lengths:?} B");
    lengths
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
    let client = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .unwrap()
        .with_behaviour(|_| libp2p::swarm::dummy::Behaviour)
        .unwrap()
        .build();
    connected(
        client,
        &format!("/ip4/127.0.0.1/tcp/{proxy}/ws/p2p/{node_id}"),
    )
    .await;

    // The client has sent all it sends to get connected (multistream-select's lazy variant does
    // not wait for the yamux confirmation); the node's answer to it is the second message.
    let data = first_two(|| {
        let frames = frames.lock().unwrap();
        frames
            .iter()
            .filter(|(opcode, _)| *opcode <= 2)
            .map(|&(_, len)| len)
            .collect()
    })
    .await;
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

/// Noise frames' lengths as read (each a 2 B big-endian length, then that many bytes).
type NoiseFrames = Arc<Mutex<Vec<usize>>>;

/// A connection whose reads are recorded as Noise frames into `frames`.
struct Reading<C> {
    inner: C,
    frames: NoiseFrames,
    /// Bytes read and not yet a whole frame.
    pending: Vec<u8>,
}

impl<C: AsyncRead + Unpin> AsyncRead for Reading<C> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.pending.extend_from_slice(&buf[..n]);
        while this.pending.len() >= 2 {
            let len = u16::from_be_bytes([this.pending[0], this.pending[1]]) as usize;
            if this.pending.len() < 2 + len {
                break;
            }
            this.frames.lock().unwrap().push(len);
            this.pending.drain(..2 + len);
        }
        Poll::Ready(Ok(n))
    }
}

impl<C: AsyncWrite + Unpin> AsyncWrite for Reading<C> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// Noise, with what its connection reads recorded as frames (the client's circuits).
#[derive(Clone)]
struct Recorded(noise::Config, NoiseFrames);

impl UpgradeInfo for Recorded {
    type Info = <noise::Config as UpgradeInfo>::Info;
    type InfoIter = <noise::Config as UpgradeInfo>::InfoIter;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.protocol_info()
    }
}

impl Recorded {
    fn reading<C>(&self, socket: C) -> Reading<C> {
        Reading {
            inner: socket,
            frames: self.1.clone(),
            pending: Vec::new(),
        }
    }
}

impl<C> OutboundConnectionUpgrade<C> for Recorded
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = <noise::Config as OutboundConnectionUpgrade<Reading<C>>>::Output;
    type Error = noise::Error;
    type Future = <noise::Config as OutboundConnectionUpgrade<Reading<C>>>::Future;

    fn upgrade_outbound(self, socket: C, info: Self::Info) -> Self::Future {
        let socket = self.reading(socket);
        self.0.upgrade_outbound(socket, info)
    }
}

impl<C> InboundConnectionUpgrade<C> for Recorded
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = <noise::Config as InboundConnectionUpgrade<Reading<C>>>::Output;
    type Error = noise::Error;
    type Future = <noise::Config as InboundConnectionUpgrade<Reading<C>>>::Future;

    fn upgrade_inbound(self, socket: C, info: Self::Info) -> Self::Future {
        let socket = self.reading(socket);
        self.0.upgrade_inbound(socket, info)
    }
}

#[tokio::test]
async fn a_relayed_host_sends_the_first_answers_above_noise_as_one_frame_on_a_circuit() {
    let relay_dir = Folder::new("kad: { enabled: false }\n");
    let relay = relay_dir.start();
    let relay_addr = &relay_dir.addr;
    let host_dir = Folder::new(&format!(
        "kad: {{ enabled: false }}\nbootstrap_nodes: [{relay_addr}]\nrelay: {{ enabled: false }}\nhost:\n  reachability: relayed\n  models: [{{ id: m, price_per_token: 1, backend: {{ kind: demo, seed: 1, tokens_per_second: 0 }} }}]\n"
    ));
    let _host = host_dir.start();
    let host_id = host_dir.peer();
    relay.wait_for_log(
        &["relay reservation accepted", host_id],
        Duration::from_secs(30),
    );

    let frames = NoiseFrames::default();
    let recorded = frames.clone();
    let client = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_relay_client(
            move |key: &libp2p::identity::Keypair| {
                noise::Config::new(key).map(|noise| Recorded(noise, recorded))
            },
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_, relay_client| relay_client)
        .unwrap()
        .build();
    connected(client, &format!("{relay_addr}/p2p-circuit/p2p/{host_id}")).await;

    let data = first_two(|| frames.lock().unwrap().clone()).await;
    // Noise's second handshake message: the host's identity and its signature.
    assert!(data[0] > 100, "Noise's reply: {data:?} B");
    // Above Noise: a 16 B tag around multistream's header (20 B) and its yamux confirmation
    // (14 B); the header alone would be 36 B.
    assert!(
        data[1] >= 16 + 20 + 14,
        "the host's first frame above Noise holds only {} B (header and confirmation apart?): {data:?} B",
        data[1]
    );
}
