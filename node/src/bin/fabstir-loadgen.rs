//! `fabstir-loadgen`: the relay-capacity benchmark's load generator. Opens N concurrent WebSocket
//! connections (each with its own Noise handshake and Yamux session) to one node, holds them,
//! and reports how many were held and the node's resident memory per connection.
//!
//! With `--circuits N` it instead measures circuits relayed at once: it makes `--listeners`
//! peers reserve on the node (a relay), then opens N circuits to them through it.
//!
//! A `/tls/ws` target (e.g. `/ip4/127.0.0.1/tcp/443/tls/sni/relay.example.com/ws/p2p/…`) is
//! dialed with TLS; `--ca <PEM file>` adds a trust anchor (the benchmark's test CA).
//!
//! usage: fabstir-loadgen --target <ws multiaddr with /p2p/> --connections N --pid <node pid>
//!        [--concurrency 256] [--hold-secs 5] [--circuits N --listeners L] [--ca PEM]

use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{dummy, NetworkBehaviour, SwarmEvent};
use libp2p::{noise, tcp, yamux, Multiaddr, Swarm};

struct Args {
    target: Multiaddr,
    connections: usize,
    circuits: usize,
    listeners: usize,
    pid: u32,
    concurrency: usize,
    hold: Duration,
    /// The WebSocket transport's TLS configuration (web roots, plus `--ca`).
    tls: libp2p::websocket::tls::Config,
}

fn args() -> Result<Args, String> {
    let mut target = None;
    let mut connections = None;
    let mut pid = None;
    let mut concurrency = 256;
    let mut circuits = 0;
    let mut listeners = 50;
    let mut hold = 5;
    let mut tls = libp2p::websocket::tls::Config::builder();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--target" => target = Some(value.parse::<Multiaddr>().map_err(|e| bad(&e))?),
            "--connections" => connections = Some(value.parse().map_err(|e| bad(&e))?),
            "--pid" => pid = Some(value.parse().map_err(|e| bad(&e))?),
            "--concurrency" => concurrency = value.parse().map_err(|e| bad(&e))?,
            "--hold-secs" => hold = value.parse().map_err(|e| bad(&e))?,
            "--circuits" => circuits = value.parse().map_err(|e| bad(&e))?,
            "--listeners" => listeners = value.parse().map_err(|e| bad(&e))?,
            "--ca" => {
                use rustls::pki_types::{pem::PemObject, CertificateDer};
                let pem = std::fs::read(&value).map_err(|e| bad(&e))?;
                for der in CertificateDer::pem_slice_iter(&pem) {
                    let der = der.map_err(|e| bad(&e))?;
                    tls.add_trust(&libp2p::websocket::tls::Certificate::new(der.to_vec()))
                        .map_err(|e| bad(&e))?;
                }
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(Args {
        target: target.ok_or("--target is required")?,
        connections: connections.unwrap_or(0),
        circuits,
        listeners,
        pid: pid.ok_or("--pid is required")?,
        concurrency,
        hold: Duration::from_secs(hold),
        tls: tls.finish(),
    })
}

/// What opening and holding connections came to.
struct Held {
    /// Connections still open at the end of the hold.
    held: usize,
    /// Dials that failed.
    failed: usize,
    /// The first failure's error.
    first_error: Option<String>,
    /// Seconds until every dial had succeeded or failed.
    establish_secs: f64,
}

/// Dials `total` connections with `dial(swarm, n)`, `in_flight` at a time, counting those
/// `counts` accepts, until all succeeded or failed (or `deadline`, or 30 s without an event);
/// then holds them for `hold` while driving the swarm (the node pings and identifies each).
async fn open_and_hold<B: NetworkBehaviour>(
    swarm: &mut Swarm<B>,
    total: usize,
    in_flight: usize,
    deadline: Duration,
    hold: Duration,
    mut dial: impl FnMut(&mut Swarm<B>, usize) -> Result<(), String>,
    counts: impl Fn(&ConnectedPoint) -> bool,
) -> Result<Held, String> {
    let started = Instant::now();
    let (mut dialed, mut open, mut failed) = (0usize, 0usize, 0usize);
    let mut first_error = None;
    while dialed < total.min(in_flight) {
        dial(swarm, dialed)?;
        dialed += 1;
    }
    let deadline = started + deadline;
    while open + failed < total && Instant::now() < deadline {
        let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(30), swarm.next()).await
        else {
            break;
        };
        match event {
            SwarmEvent::ConnectionEstablished { endpoint, .. } if counts(&endpoint) => open += 1,
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                failed += 1;
                first_error.get_or_insert(error.to_string());
            }
            SwarmEvent::ConnectionClosed { endpoint, .. } if counts(&endpoint) => {
                open = open.saturating_sub(1)
            }
            _ => continue,
        }
        if dialed < total {
            dial(swarm, dialed)?;
            dialed += 1;
        }
    }
    let establish_secs = started.elapsed().as_secs_f64();
    let hold_until = Instant::now() + hold;
    while Instant::now() < hold_until {
        if let Ok(Some(SwarmEvent::ConnectionClosed { endpoint, .. })) =
            tokio::time::timeout(Duration::from_millis(200), swarm.next()).await
        {
            if counts(&endpoint) {
                open = open.saturating_sub(1);
            }
        }
    }
    Ok(Held {
        held: open,
        failed,
        first_error,
        establish_secs,
    })
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> Result<(), String> {
    let args = args()?;
    if args.circuits > 0 {
        return circuits(&args).await;
    }
    let peer = match args.target.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
        _ => return Err("--target must end with /p2p/<peer id>".into()),
    };
    let hold_for = args.hold + Duration::from_secs(60);
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| e.to_string())?
        .with_other_transport(|key| websocket(key, args.tls.clone()))
        .map_err(|e| e.to_string())?
        .with_behaviour(|_| dummy::Behaviour)
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(hold_for))
        .build();
    let before = rss_kib(args.pid).ok_or("cannot read the node's memory")?;
    let dial = |swarm: &mut libp2p::Swarm<dummy::Behaviour>, _: usize| {
        let opts = DialOpts::peer_id(peer)
            .addresses(vec![args.target.clone()])
            .condition(PeerCondition::Always)
            .build();
        swarm.dial(opts).map_err(|e| e.to_string())
    };
    let outcome = open_and_hold(
        &mut swarm,
        args.connections,
        args.concurrency,
        Duration::from_secs(600),
        args.hold,
        dial,
        |_| true,
    )
    .await?;
    let open = outcome.held;
    let after = rss_kib(args.pid).ok_or("cannot read the node's memory")?;
    let per = if open > 0 {
        (after.saturating_sub(before)) as f64 / open as f64
    } else {
        0.0
    };
    println!(
        "{}",
        serde_json::json!({
            "connections": args.connections,
            "held": open,
            "failed": outcome.failed,
            "firstError": outcome.first_error,
            "establishSeconds": outcome.establish_secs,
            "nodeRssBeforeKiB": before,
            "nodeRssAfterKiB": after,
            "nodeKiBPerConnection": per,
        })
    );
    Ok(())
}

type WsTransport =
    libp2p::core::transport::Boxed<(libp2p::PeerId, libp2p::core::muxing::StreamMuxerBox)>;

/// WebSocket (and, for `/tls/ws` addresses, TLS with `tls`) over TCP, then Noise and Yamux.
fn websocket(
    key: &libp2p::identity::Keypair,
    tls: libp2p::websocket::tls::Config,
) -> Result<WsTransport, Box<dyn std::error::Error + Send + Sync>> {
    use libp2p::core::muxing::StreamMuxerBox;
    use libp2p::core::upgrade::Version;
    use libp2p::core::Transport;
    let tcp = libp2p::tcp::tokio::Transport::new(tcp::Config::default().nodelay(true));
    let mut ws = libp2p::websocket::Config::new(tcp);
    ws.set_tls_config(tls);
    Ok(ws
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(key)?)
        .multiplex(yamux::Config::default())
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed())
}

type RelaySwarm = libp2p::Swarm<libp2p::relay::client::Behaviour>;

async fn relay_client_swarm() -> Result<RelaySwarm, String> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| e.to_string())?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(|e| e.to_string())?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| e.to_string())?
        .with_behaviour(|_, relay| relay)
        .map_err(|e| e.to_string())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build())
}

/// Circuits relayed at once: `listeners` peers reserve, then `circuits` circuits are opened to
/// them (round robin) through the relay and held.
async fn circuits(args: &Args) -> Result<(), String> {
    use libp2p::multiaddr::Protocol;
    use libp2p::relay;
    let before = rss_kib(args.pid).ok_or("cannot read the node's memory")?;
    let circuit_base = args.target.clone().with(Protocol::P2pCircuit);
    let mut ids = Vec::new();
    let (ready_tx, mut ready_rx) =
        futures::channel::mpsc::channel::<Result<(), String>>(args.listeners);
    for _ in 0..args.listeners {
        let mut swarm = relay_client_swarm().await?;
        ids.push(*swarm.local_peer_id());
        swarm
            .listen_on(circuit_base.clone())
            .map_err(|e| e.to_string())?;
        let mut ready = ready_tx.clone();
        tokio::spawn(async move {
            let mut told = false;
            loop {
                let event = swarm.select_next_some().await;
                if let SwarmEvent::Behaviour(relay::client::Event::ReservationReqAccepted {
                    ..
                }) = event
                {
                    if !told {
                        told = true;
                        let _ = futures::SinkExt::send(&mut ready, Ok(())).await;
                    }
                }
                if let SwarmEvent::ListenerClosed { reason: Err(e), .. } = event {
                    if !told {
                        told = true;
                        let _ = futures::SinkExt::send(&mut ready, Err(e.to_string())).await;
                    }
                }
            }
        });
    }
    drop(ready_tx);
    let mut reserved = 0;
    let mut reservation_error = None;
    for _ in 0..args.listeners {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.next()).await {
            Ok(Some(Ok(()))) => reserved += 1,
            Ok(Some(Err(e))) => {
                reservation_error.get_or_insert(e);
            }
            _ => break,
        }
    }
    let mut dialer = relay_client_swarm().await?;
    // Connect to the relay first: circuit dials made before that connection exists are cancelled.
    dialer
        .dial(args.target.clone())
        .map_err(|e| e.to_string())?;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), dialer.next()).await {
            Ok(Some(SwarmEvent::ConnectionEstablished { .. })) => break,
            Ok(Some(SwarmEvent::OutgoingConnectionError { error, .. })) => {
                return Err(error.to_string())
            }
            Ok(Some(_)) => continue,
            _ => return Err("no connection to the relay".into()),
        }
    }
    let dial = |swarm: &mut RelaySwarm, n: usize| {
        let target = ids[n % ids.len()];
        let addr = circuit_base.clone().with(Protocol::P2p(target));
        let opts = DialOpts::peer_id(target)
            .addresses(vec![addr])
            .condition(PeerCondition::Always)
            .build();
        swarm.dial(opts).map_err(|e| e.to_string())
    };
    // libp2p's relay client keeps at most 10 circuit requests in flight per relay connection
    // and cancels the rest, so circuits are opened a few at a time.
    let in_flight = args.concurrency.min(8);
    let through_relay = |e: &ConnectedPoint| {
        e.get_remote_address()
            .iter()
            .any(|p| p == Protocol::P2pCircuit)
    };
    let outcome = open_and_hold(
        &mut dialer,
        args.circuits,
        in_flight,
        Duration::from_secs(300),
        args.hold,
        dial,
        through_relay,
    )
    .await?;
    let after = rss_kib(args.pid).ok_or("cannot read the node's memory")?;
    println!(
        "{}",
        serde_json::json!({
            "circuits": args.circuits,
            "listeners": args.listeners,
            "reserved": reserved,
            "reservationError": reservation_error,
            "held": outcome.held,
            "failed": outcome.failed,
            "firstError": outcome.first_error,
            "establishSeconds": outcome.establish_secs,
            "nodeRssBeforeKiB": before,
            "nodeRssAfterKiB": after,
        })
    );
    Ok(())
}
