//! `fabstir-catalog-scale`: the network catalog's scale benchmark (issue 12). Starts N announcing
//! hosts in this process (each its own libp2p swarm and identity on loopback, joined to one of
//! the given relays in turn, subscribed to the catalog topic as a real host is, and publishing a
//! sealed announcement like a real host's on start and every third of its TTL). They serve
//! nothing: what is measured is the catalog, not jobs. Reports as one JSON line:
//! - how long until every relay's catalog (its `fabstir_catalog_hosts` metric) holds all N;
//! - over a steady window: bytes the relays sent and received per host per minute (their
//!   libp2p bandwidth metrics: all their traffic, which at rest is the catalog's gossip), their
//!   CPU (share of one core, from `/proc`) and resident memory, and the gossipsub messages each
//!   relay dropped for slow peers since it started (`fabstir_catalog_gossip_unsent_total`).
//!
//! With `SCALE_DEBUG` set in the environment, each host says on stderr when a dial fails, when
//! it cannot publish yet, each message id it published (and how late), when its connection
//! closes and when gossipsub dropped messages it could not send in time (`SlowPeer`). With
//! `RUST_LOG` set, the tool logs as a node does, each host's lines in a `host{index=…}` span
//! (e.g. `RUST_LOG=fabstir_catalog_scale=info,libp2p_gossipsub=debug`: the span's own target
//! must be enabled); a relay's log then tells which host's messages it never read.
//!
//! usage: fabstir-catalog-scale --hosts N --relay <tcp multiaddr with /p2p/>,<metrics host:port>,<pid>
//!        [--relay …] [--ttl-secs 60] [--window-secs 60] [--publish-only true]

use std::time::{Duration, Instant};

use fabstir_protocol::catalog::{self, Announcement};
use fabstir_protocol::messages::{BackendKind, ModelInfo};
use futures::StreamExt;
use libp2p::{gossipsub, identity::Keypair, noise, tcp, yamux, Multiaddr, Swarm};
use tracing::Instrument;

struct Relay {
    addr: Multiaddr,
    metrics: String,
    pid: u32,
}

struct Args {
    hosts: usize,
    /// Hosts publish without subscribing to the topic (gossipsub fanout): they receive no one
    /// else's announcements.
    publish_only: bool,
    relays: Vec<Relay>,
    ttl: Duration,
    window: Duration,
}

fn args() -> Result<Args, String> {
    let (mut hosts, mut relays, mut ttl, mut window) = (0, Vec::new(), 60, 60);
    let mut publish_only = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--hosts" => hosts = value.parse().map_err(|e| bad(&e))?,
            "--ttl-secs" => ttl = value.parse().map_err(|e| bad(&e))?,
            "--window-secs" => window = value.parse().map_err(|e| bad(&e))?,
            "--publish-only" => publish_only = value.parse().map_err(|e| bad(&e))?,
            "--relay" => {
                let parts: Vec<&str> = value.split(',').collect();
                let [addr, metrics, pid] = parts[..] else {
                    return Err(bad(&"want <multiaddr>,<metrics host:port>,<pid>"));
                };
                relays.push(Relay {
                    addr: addr.parse().map_err(|e| bad(&e))?,
                    metrics: metrics.into(),
                    pid: pid.parse().map_err(|e| bad(&e))?,
                });
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if hosts == 0 || relays.is_empty() {
        return Err("--hosts N and at least one --relay are required".into());
    }
    Ok(Args {
        hosts,
        publish_only,
        relays,
        ttl: Duration::from_secs(ttl),
        window: Duration::from_secs(window),
    })
}

/// One announcing host: dials `relay`, joins the topic, announces on start and every `ttl / 3`.
async fn announce(
    index: usize,
    relay: Multiaddr,
    ttl: Duration,
    publish_only: bool,
) -> Result<(), String> {
    let key = Keypair::generate_ed25519();
    let me = key.public().to_peer_id();
    let relay_id = match relay.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
        _ => return Err("the relay address needs /p2p/".into()),
    };
    let mut swarm: Swarm<gossipsub::Behaviour> =
        libp2p::SwarmBuilder::with_existing_identity(key.clone())
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| e.to_string())?
            .with_behaviour(|key| {
                let config =
                    fabstir_node::catalog::gossipsub_config(false).expect("gossipsub config");
                gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(key.clone()),
                    config,
                )
                .expect("gossipsub")
            })
            .map_err(|e| e.to_string())?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
            .build();
    let topic = gossipsub::IdentTopic::new(catalog::TOPIC);
    if !publish_only {
        swarm
            .behaviour_mut()
            .subscribe(&topic)
            .map_err(|e| e.to_string())?;
    }
    let circuit = relay
        .clone()
        .with(libp2p::multiaddr::Protocol::P2pCircuit)
        .with(libp2p::multiaddr::Protocol::P2p(me));
    let debug = std::env::var_os("SCALE_DEBUG").is_some();
    let mut next = Instant::now();
    let mut dialed = Instant::now() - Duration::from_secs(60);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if !swarm.is_connected(&relay_id) {
                    // A dial among hundreds at once can fail: again every few seconds.
                    if dialed.elapsed() > Duration::from_secs(3) {
                        dialed = Instant::now();
                        let _ = swarm.dial(relay.clone());
                    }
                    continue;
                }
                if Instant::now() < next {
                    continue;
                }
                let now = fabstir_node::host::unix_ms();
                let a = Announcement {
                    peer_id: me.to_string(),
                    addresses: vec![circuit.to_string()],
                    models: vec![ModelInfo {
                        id: format!("scale-{}", index % 10),
                        price_per_token: 1 + (index % 5) as u64,
                        price_per_prompt_token: 0,
                        max_tokens: 4096,
                        context_tokens: None,
                        backend: BackendKind::Demo,
                    }],
                    max_concurrent_jobs: 4,
                    current_load: 0,
                    version: env!("CARGO_PKG_VERSION").into(),
                    seq: now,
                    expires_at: now + ttl.as_millis() as u64,
                };
                let sealed = catalog::seal(&key, &a).map_err(|e| e.to_string())?;
                // Until the relay has our subscription, there is no one to publish to: again
                // next tick.
                match swarm.behaviour_mut().publish(topic.clone(), sealed) {
                    Ok(id) => {
                        if debug {
                            eprintln!("host {index}: {me} published {id} {:?} after it was due", next.elapsed());
                        }
                        next = Instant::now() + ttl / 3;
                    }
                    Err(e) if debug => eprintln!("host {index}: {e}"),
                    Err(_) => {}
                }
            }
            event = swarm.select_next_some() => {
                if debug {
                    match &event {
                        libp2p::swarm::SwarmEvent::OutgoingConnectionError { error, .. } => {
                            eprintln!("host {index}: dial failed: {error}");
                        }
                        libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::SlowPeer {
                            failed_messages, ..
                        }) => {
                            eprintln!("host {index}: slow peer: {failed_messages:?}");
                        }
                        libp2p::swarm::SwarmEvent::ConnectionClosed { cause, .. } => {
                            eprintln!("host {index}: connection closed: {cause:?}");
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The Prometheus text of `metrics` (`host:port`), by a plain HTTP GET.
fn scrape(metrics: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(metrics).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {metrics}\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// The sum of the values of metric `name` whose labels contain `label` (every one when empty).
fn metric(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
                && l.contains(label)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

const BANDWIDTH: &str = "libp2p_bandwidth_bytes_total";

/// What a relay's metrics and `/proc` say: (CPU seconds, bytes in, bytes out, resident KiB,
/// gossipsub messages it dropped for slow peers).
fn sample(relay: &Relay) -> Option<(f64, f64, f64, u64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", relay.pid)).ok()?;
    let fields: Vec<&str> = stat.rsplit(") ").next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{}/status", relay.pid)).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let text = scrape(&relay.metrics)?;
    Some((
        ticks / 100.0,
        metric(&text, BANDWIDTH, "direction=\"Inbound\""),
        metric(&text, BANDWIDTH, "direction=\"Outbound\""),
        rss,
        metric(&text, "fabstir_catalog_gossip_unsent_total", ""),
    ))
}

fn main() -> Result<(), String> {
    let args = args()?;
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let started = Instant::now();
        for i in 0..args.hosts {
            let relay = args.relays[i % args.relays.len()].addr.clone();
            let (ttl, publish_only) = (args.ttl, args.publish_only);
            let span = tracing::info_span!("host", index = i);
            tokio::spawn(
                async move {
                    if let Err(e) = announce(i, relay, ttl, publish_only).await {
                        eprintln!("host {i}: {e}");
                    }
                }
                .instrument(span),
            );
        }
        // Every relay's catalog holding all N (one announcement each, then the TTL renews it).
        let limit = Duration::from_secs(600);
        let mut held = vec![0.0; args.relays.len()];
        loop {
            for (r, relay) in args.relays.iter().enumerate() {
                held[r] = scrape(&relay.metrics)
                    .map(|t| metric(&t, "fabstir_catalog_hosts", ""))
                    .unwrap_or(0.0);
            }
            if held.iter().all(|h| *h as usize >= args.hosts) || started.elapsed() > limit {
                break;
            }
            if started.elapsed().as_millis() % 2000 < 200 {
                eprintln!("{:.0} s: the relays hold {held:?}", started.elapsed().as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let converged = started.elapsed();
        let before: Vec<_> = args.relays.iter().map(sample).collect();
        tokio::time::sleep(args.window).await;
        let after: Vec<_> = args.relays.iter().map(sample).collect();
        let minutes = args.window.as_secs_f64() / 60.0;
        let (mut cpu, mut read, mut written, mut rss) = (Vec::new(), 0.0, 0.0, Vec::new());
        let mut unsent = Vec::new();
        for (b, a) in before.iter().zip(&after) {
            let (Some(b), Some(a)) = (b, a) else {
                return Err("cannot read a relay's /proc".to_string());
            };
            cpu.push(format!("{:.3}", (a.0 - b.0) / args.window.as_secs_f64()));
            read += a.1 - b.1;
            written += a.2 - b.2;
            rss.push(a.3);
            unsent.push(a.4);
        }
        let per_host = |bytes: f64| bytes / args.hosts as f64 / minutes;
        println!(
            "{{\"hosts\":{},\"publishOnly\":{},\"relays\":{},\"ttlSecs\":{},\"convergedSecs\":{:.2},\"complete\":{},\"heldByRelay\":{:?},\"relaySentBytesPerHostPerMin\":{:.0},\"relayReceivedBytesPerHostPerMin\":{:.0},\"relayCpuCores\":[{}],\"relayRssKiB\":{:?},\"relayGossipUnsent\":{:?}}}",
            args.hosts,
            args.publish_only,
            args.relays.len(),
            args.ttl.as_secs(),
            converged.as_secs_f64(),
            held.iter().all(|h| *h as usize >= args.hosts),
            held,
            per_host(written),
            per_host(read),
            cpu.join(","),
            rss,
            unsent
        );
        Ok(())
    })
}
