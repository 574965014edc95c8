//! The network catalog on real processes (issue 12): hosts announce themselves over gossipsub,
//! every relay keeps the newest valid announcement per host and answers `/fabstir/catalog/1.0.0`
//! (a host that only hosts publishes without subscribing and serves no catalog);
//! a host's load change reaches the catalog, a stopped host leaves it when its announcement
//! expires, and forged, tampered, expired, stale and out-of-bounds announcements published by a
//! hostile gossipsub peer are rejected (counted by reason) and never enter a catalog. The relay
//! also looks the DHT up for a client (delegated routing: `providers`, `dhtCheck`).

mod common;

use std::time::{Duration, Instant};

use common::client::{metric, Client};
use common::folder::{self, Folder};
use common::{Node, BIN};
use fabstir_protocol::catalog::wire::{ask, sealed_bytes};
use fabstir_protocol::catalog::{self, Announcement, CatalogFrame, CatalogRequest, ModelSummary};
use futures::StreamExt;
use libp2p::gossipsub;

/// An announcement lives 3 s here (re-sent every second), so a stopped host leaves soon.
const TTL: u64 = 3;

struct Net {
    relay: Node,
    relay_addr: String,
    relay_metrics: String,
    hosts: Vec<(Node, String)>,
    _dirs: Vec<Folder>,
}

/// A relay and three hosts: host-1 direct (a at 1, b at 3, slow at 1), host-2 direct (a at 2),
/// host-3 relayed (b at 5, c at 1).
fn network() -> Net {
    let (metrics_line, relay_metrics) = folder::metrics();
    let relay_dir = Folder::new(&metrics_line);
    let relay = relay_dir.start();
    let relay_addr = relay_dir.addr.clone();
    let mut dirs = vec![relay_dir];
    let mut hosts = Vec::new();
    for (reachability, models) in [
        ("direct", "[{ id: a, price_per_token: 1, backend: { kind: demo, seed: 1, tokens_per_second: 0 } }, { id: b, price_per_token: 3, backend: { kind: demo, seed: 1, tokens_per_second: 0 } }, { id: slow, price_per_token: 1, backend: { kind: demo, seed: 1, tokens_per_second: 10 } }]"),
        ("direct", "[{ id: a, price_per_token: 2, backend: { kind: demo, seed: 2, tokens_per_second: 0 } }]"),
        ("relayed", "[{ id: b, price_per_token: 5, backend: { kind: demo, seed: 3, tokens_per_second: 0 } }, { id: c, price_per_token: 1, backend: { kind: demo, seed: 3, tokens_per_second: 0 } }]"),
    ] {
        let dir = Folder::new(&format!("bootstrap_nodes: [{relay_addr}]\nrelay: {{ enabled: false }}\nhost:\n  reachability: {reachability}\n  announce_ttl_secs: {TTL}\n  request_rate: {{ burst: 0, refill_secs: 1 }}\n  models: {models}\n"));
        hosts.push((dir.start(), dir.addr.clone()));
        dirs.push(dir);
    }
    Net {
        relay,
        relay_addr,
        relay_metrics,
        hosts,
        _dirs: dirs,
    }
}

async fn models(client: &Client) -> Vec<ModelSummary> {
    let mut stream = client.open(catalog::PROTOCOL).await;
    ask(&mut stream, &CatalogRequest::Models)
        .await
        .unwrap()
        .into_iter()
        .map(|f| match f {
            CatalogFrame::Model(m) => m,
            other => panic!("a models answer holds {other:?}"),
        })
        .collect()
}

/// The hosts of `model` as the node hands them out, each opened (signature checked) here.
async fn hosts(client: &Client, model: Option<&str>) -> Vec<Announcement> {
    hosts_within(client, model, None, false).await
}

/// [`hosts`], asking the node to filter them by price and free slots.
async fn hosts_within(
    client: &Client,
    model: Option<&str>,
    max_price_per_token: Option<u64>,
    free_slots_only: bool,
) -> Vec<Announcement> {
    let mut stream = client.open(catalog::PROTOCOL).await;
    let request = CatalogRequest::Hosts {
        model_id: model.map(str::to_string),
        max_price_per_token,
        free_slots_only,
    };
    ask(&mut stream, &request)
        .await
        .unwrap()
        .into_iter()
        .map(|f| match f {
            CatalogFrame::Host(text) => {
                catalog::open(&sealed_bytes(&text).unwrap(), fabstir_node::host::unix_ms()).unwrap()
            }
            other => panic!("a hosts answer holds {other:?}"),
        })
        .collect()
}

/// What `client`'s node answers a delegated request (`providers`, `dhtCheck`).
async fn delegated(client: &Client, request: CatalogRequest) -> Vec<CatalogFrame> {
    let mut stream = client.open(catalog::PROTOCOL).await;
    ask(&mut stream, &request).await.unwrap()
}

/// The DHT providers of `model` the node finds for the client: peer id → addresses.
async fn providers(
    client: &Client,
    model: &str,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let request = CatalogRequest::Providers {
        model_id: model.into(),
    };
    delegated(client, request)
        .await
        .into_iter()
        .map(|f| match f {
            CatalogFrame::Provider(p) => (p.peer_id, p.addresses),
            other => panic!("a providers answer holds {other:?}"),
        })
        .collect()
}

/// Opens a watch and reads its first frame; the frame and the stream (the watch lasts while
/// the stream is held).
async fn first_watch_frame(client: &Client) -> (CatalogFrame, libp2p::Stream) {
    let mut stream = client.open(catalog::PROTOCOL).await;
    let request = CatalogRequest::Watch { model_id: None };
    fabstir_protocol::frame::write(&mut stream, &request)
        .await
        .unwrap();
    let frame = fabstir_protocol::frame::read::<_, CatalogFrame>(&mut stream)
        .await
        .unwrap()
        .unwrap();
    (frame, stream)
}

/// Watches `client`'s node's catalog in the background: the view as the watch answer builds it.
async fn watch(client: &Client) -> std::sync::Arc<std::sync::Mutex<catalog::WatchView>> {
    let mut stream = client.open(catalog::PROTOCOL).await;
    let request = CatalogRequest::Watch { model_id: None };
    fabstir_protocol::frame::write(&mut stream, &request)
        .await
        .unwrap();
    let view = std::sync::Arc::new(std::sync::Mutex::new(catalog::WatchView::new()));
    let filled = view.clone();
    tokio::spawn(async move {
        let mut opened = catalog::Opened::default();
        while let Ok(Some(f)) = fabstir_protocol::frame::read::<_, CatalogFrame>(&mut stream).await
        {
            let now = fabstir_node::host::unix_ms();
            let applied = filled.lock().unwrap().apply(f, now, &mut opened).unwrap();
            assert!(
                !matches!(applied, catalog::Applied::Dropped(_)),
                "{applied:?}"
            );
        }
    });
    view
}

/// Polls `check` every 100 ms until it holds, at most `limit`; how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(()) => return started.elapsed(),
            Err(last) if started.elapsed() > limit => panic!("{what} not within {limit:?}: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn summary(id: &str, hosts: u32, min: u64, max: u64) -> (String, u32, u64, u64) {
    (id.into(), hosts, min, max)
}

fn shape(models: &[ModelSummary]) -> Vec<(String, u32, u64, u64)> {
    models
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                m.hosts,
                m.min_price_per_token,
                m.max_price_per_token,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_catalogs_every_host_and_follows_load_and_departures() {
    let mut net = network();
    let relay = Client::connect(&net.relay_addr).await;
    let expected = vec![
        summary("a", 2, 1, 2),
        summary("b", 2, 3, 5),
        summary("c", 1, 1, 1),
        summary("slow", 1, 1, 1),
    ];
    let took = within(
        Duration::from_secs(30),
        "every model in the relay's catalog",
        || async {
            let got = shape(&models(&relay).await);
            (got == expected).then_some(()).ok_or(format!("{got:?}"))
        },
    )
    .await;
    println!("the relay's catalog held all 3 hosts' 4 models {took:?} after the hosts were ready");
    // Each host record is signed by its host; the relayed host gives circuit addresses.
    let b = hosts(&relay, Some("b")).await;
    let ids: Vec<&str> = b.iter().map(|a| a.peer_id.as_str()).collect();
    let host3 = net.hosts[2].1.rsplit("/p2p/").next().unwrap().to_string();
    assert!(ids.contains(&host3.as_str()), "{ids:?}");
    let relayed = b.iter().find(|a| a.peer_id == host3).unwrap();
    assert!(
        !relayed.addresses.is_empty()
            && relayed
                .addresses
                .iter()
                .all(|a| a.contains("/p2p-circuit/")),
        "the relayed host's addresses: {:?}",
        relayed.addresses
    );
    // The node filters a hosts answer by price when asked: b's hosts ask 3 and 5.
    let cheap = hosts_within(&relay, Some("b"), Some(4), false).await;
    let prices: Vec<u64> = cheap
        .iter()
        .flat_map(|a| a.models.iter().filter(|m| m.id == "b"))
        .map(|m| m.price_per_token)
        .collect();
    assert_eq!(prices, [3], "b's hosts at most 4 per token");
    assert!(hosts_within(&relay, Some("b"), Some(2), true)
        .await
        .is_empty());
    assert_eq!(hosts_within(&relay, Some("b"), None, true).await.len(), 2);
    // Delegated routing: the relay looks the DHT up for a client, which needs no Kademlia of
    // its own; each provider comes with the addresses the DHT gave (circuit ones for host-3).
    let host1_id = net.hosts[0].1.rsplit("/p2p/").next().unwrap().to_string();
    let took = within(Duration::from_secs(30), "both providers of b", || async {
        let found = providers(&relay, "b").await;
        let both = found.len() == 2
            && found
                .get(&host1_id)
                .is_some_and(|a| a.iter().any(|x| x.contains("/tcp/")))
            && found
                .get(&host3)
                .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.contains("/p2p-circuit")));
        both.then_some(()).ok_or(format!("{found:?}"))
    })
    .await;
    println!("the relay found b's 2 DHT providers for a client within {took:?}");
    let started = Instant::now();
    assert!(providers(&relay, "no-such-model").await.is_empty());
    println!(
        "a lookup with no provider answered in {:?}",
        started.elapsed()
    );
    let answered = match delegated(&relay, CatalogRequest::DhtCheck).await.as_slice() {
        [CatalogFrame::DhtCheck { answered }] => *answered,
        other => panic!("a dhtCheck answer: {other:?}"),
    };
    assert!(answered >= 1, "{answered} DHT peers answered the relay");
    // A host that only hosts publishes without subscribing, keeps no catalog and serves none.
    let host2 = Client::connect(&net.hosts[1].1).await;
    assert!(
        host2.try_open(catalog::PROTOCOL).await.is_err(),
        "host-2 serves a catalog"
    );
    // A watcher of the relay's catalog: every host, then each change as it happens.
    let watched = watch(&relay).await;
    within(
        Duration::from_secs(10),
        "the watch synced with 3 hosts",
        || async {
            let n = watched.lock().unwrap().catalog().len();
            (n == 3).then_some(()).ok_or(format!("{n} hosts"))
        },
    )
    .await;
    // One peer holds at most 4 watches: a fifth is refused, and a place comes back when a
    // watcher closes its stream.
    let mut more = Vec::new();
    for _ in 0..3 {
        more.push(first_watch_frame(&relay).await);
    }
    assert!(
        more.iter().all(|(f, _)| matches!(f, CatalogFrame::Host(_))),
        "{more:?}"
    );
    let (fifth, _) = first_watch_frame(&relay).await;
    assert_eq!(fifth, CatalogFrame::Refused("too many watchers".into()));
    let (_, stream) = more.pop().unwrap();
    drop(stream);
    within(
        Duration::from_secs(5),
        "a watch place given back",
        || async {
            match first_watch_frame(&relay).await.0 {
                CatalogFrame::Host(_) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    // Load: a job running on host-1 shows in its record within about a second.
    let host1 = Client::connect(&net.hosts[0].1).await;
    let job = host1.start("slow", 200).await.unwrap();
    let took = within(
        Duration::from_secs(10),
        "host-1's load in the relay's catalog",
        || async {
            let load = hosts(&relay, Some("slow"))
                .await
                .first()
                .map(|a| a.current_load);
            (load == Some(1)).then_some(()).ok_or(format!("{load:?}"))
        },
    )
    .await;
    println!(
        "a job on host-1 ({job}) showed as currentLoad 1 in the relay's catalog after {took:?}"
    );
    within(
        Duration::from_secs(5),
        "host-1's load in the watch",
        || async {
            let w = watched.lock().unwrap();
            let load = w
                .catalog()
                .get(&host1_id)
                .map(|e| e.announcement.current_load);
            (load == Some(1)).then_some(()).ok_or(format!("{load:?}"))
        },
    )
    .await;
    // Departure: host-2 stopped is gone once its announcement expires (TTL 3 s).
    let (node, _) = net.hosts.remove(1);
    node.terminate();
    let took = within(
        Duration::from_secs(TTL * 5),
        "host-2 gone from the relay's catalog",
        || async {
            let a = models(&relay)
                .await
                .into_iter()
                .find(|m| m.id == "a")
                .map(|m| m.hosts);
            (a == Some(1))
                .then_some(())
                .ok_or(format!("a has {a:?} hosts"))
        },
    )
    .await;
    println!("host-2 stopped: gone from the relay's catalog after {took:?} (TTL {TTL} s)");
    within(
        Duration::from_secs(5),
        "host-2 gone from the watch",
        || async {
            let n = watched.lock().unwrap().catalog().len();
            (n == 2).then_some(()).ok_or(format!("{n} hosts"))
        },
    )
    .await;
    assert!(metric(&net.relay_metrics, "fabstir_catalog_hosts") >= 2.0);
    let _ = (&net.relay, host1_id);
}

/// A gossipsub peer of its own identity, joined to the relay's catalog topic.
async fn gossip_peer(
    relay_addr: &str,
) -> (
    libp2p::Swarm<gossipsub::Behaviour>,
    libp2p::identity::Keypair,
) {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key.clone())
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| {
            gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossipsub::ConfigBuilder::default()
                    .protocol_id(
                        fabstir_node::catalog::GOSSIPSUB_PROTOCOL,
                        gossipsub::Version::V1_1,
                    )
                    .max_transmit_size(64 * 1024)
                    .build()
                    .unwrap(),
            )
            .unwrap()
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    swarm
        .behaviour_mut()
        .subscribe(&gossipsub::IdentTopic::new(catalog::TOPIC))
        .unwrap();
    swarm
        .dial(relay_addr.parse::<libp2p::Multiaddr>().unwrap())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline.into(), swarm.select_next_some())
            .await
            .expect("the relay never joined the topic");
        if let libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) = event {
            return (swarm, key);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tampered_expired_stale_and_bad_announcements_are_rejected() {
    let net = network();
    let relay = Client::connect(&net.relay_addr).await;
    let victim = net.hosts[0].1.rsplit("/p2p/").next().unwrap().to_string();
    let (mut swarm, key) = gossip_peer(&net.relay_addr).await;
    let now = fabstir_node::host::unix_ms();
    let me = key.public().to_peer_id().to_string();
    let base = |seq: u64| Announcement {
        peer_id: me.clone(),
        addresses: vec!["/ip4/127.0.0.1/tcp/9/p2p/".to_string() + &me],
        models: vec![fabstir_protocol::messages::ModelInfo {
            id: "a".into(),
            price_per_token: 0,
            price_per_prompt_token: 0,
            max_tokens: 10,
            context_tokens: None,
            backend: fabstir_protocol::messages::BackendKind::Demo,
        }],
        max_concurrent_jobs: 1,
        current_load: 0,
        version: "0.0.0".into(),
        seq,
        expires_at: now + 60_000,
    };
    let forged = Announcement {
        peer_id: victim.clone(),
        ..base(now)
    };
    let mut tampered = catalog::seal(&key, &base(now)).unwrap();
    let at = tampered.windows(5).position(|w| w == b"0.0.0").unwrap();
    tampered[at] = b'9';
    let expired = Announcement {
        expires_at: now - 1,
        ..base(now)
    };
    let overloaded = Announcement {
        current_load: 5,
        ..base(now)
    };
    let topic = gossipsub::IdentTopic::new(catalog::TOPIC);
    for (what, bytes) in [
        ("forged", catalog::seal(&key, &forged).unwrap()),
        ("tampered", tampered),
        ("expired", catalog::seal(&key, &expired).unwrap()),
        ("over its bounds", catalog::seal(&key, &overloaded).unwrap()),
        ("valid, seq 10", catalog::seal(&key, &base(10)).unwrap()),
        ("stale, seq 5", catalog::seal(&key, &base(5)).unwrap()),
    ] {
        swarm
            .behaviour_mut()
            .publish(topic.clone(), bytes)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        // Give the relay its turn (in order: the stale one must come after the valid one).
        let pause = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(pause);
        loop {
            tokio::select! {
                _ = &mut pause => break,
                _ = swarm.select_next_some() => {}
            }
        }
    }
    let m = &net.relay_metrics;
    let count = |outcome: &str| {
        metric(
            m,
            &format!("fabstir_catalog_announcements_received_total{{outcome=\"{outcome}\"}}"),
        )
    };
    let took = within(Duration::from_secs(10), "every forgery counted", || async {
        let got: Vec<f64> = ["wrong_signer", "bad_signature", "expiry", "field", "stale"]
            .iter()
            .map(|o| count(o))
            .collect();
        got.iter()
            .all(|n| *n >= 1.0)
            .then_some(())
            .ok_or(format!("{got:?}"))
    })
    .await;
    println!("forged, tampered, expired, out-of-bounds and stale announcements counted as rejected within {took:?}");
    // None entered the catalog: the victim's record is its own, and ours is the valid seq 10.
    let all = hosts(&relay, None).await;
    let mine: Vec<&Announcement> = all.iter().filter(|a| a.peer_id == me).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0].seq, 10,
        "the stale announcement replaced a newer one"
    );
    if let Some(v) = all.iter().find(|a| a.peer_id == victim) {
        assert!(
            !v.addresses.iter().any(|a| a.contains("/tcp/9/")),
            "the forged record entered the catalog"
        );
    }
}

/// Streams of one protocol that reach a node together are each answered: the node queues them
/// (src/inbound.rs) where libp2p-stream's single hand-over slot dropped all but the first.
/// Bursts of 64 catalog asks on one connection, with no asking again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_catalog_asks_are_answered_in_full() {
    let dir = Folder::new("");
    let relay = dir.start();
    let client = Client::connect(&dir.addr).await;
    let mut failed = Vec::new();
    for _ in 0..4 {
        let streams =
            futures::future::join_all((0..64).map(|_| client.open(catalog::PROTOCOL))).await;
        let answers = futures::future::join_all(
            streams
                .into_iter()
                .map(|mut s| async move { ask(&mut s, &CatalogRequest::Models).await }),
        )
        .await;
        failed.extend(
            answers
                .iter()
                .filter_map(|a| a.as_ref().err().map(|e| e.code())),
        );
    }
    assert!(
        failed.is_empty(),
        "{} of 256 asks failed: {failed:?}",
        failed.len()
    );
    relay.terminate();
}

/// A node started from `bin` with `config` (YAML after its listen, mDNS and metrics lines) on
/// free ports: the node, its address and its metrics address.
fn start(bin: &str, config: &str, dirs: &mut Vec<Folder>) -> (Node, String, String) {
    let (metrics_line, metrics) = folder::metrics();
    let dir = Folder::new(&format!("{metrics_line}{config}"));
    let node = dir.start_bin(bin);
    let addr = dir.addr.clone();
    dirs.push(dir);
    (node, addr, metrics)
}

/// The hosts `client`'s node holds: peer id → model `m`'s price.
async fn prices(client: &Client) -> std::collections::BTreeMap<String, u64> {
    hosts(client, None)
        .await
        .into_iter()
        .map(|a| (a.peer_id, a.models[0].price_per_token))
        .collect()
}

/// What became of the records a node received from its bootstrap nodes, for `outcome`.
fn synced(metrics: &str, outcome: &str) -> f64 {
    let name = format!("fabstir_catalog_records_synced_total{{outcome=\"{outcome}\"}}");
    metric(metrics, &name)
}

/// Waits (up to 30 s) until `client`'s node holds exactly the hosts and prices `expected`; how
/// long that took.
async fn holds(
    client: &Client,
    expected: &std::collections::BTreeMap<String, u64>,
    node: &str,
) -> Duration {
    let what = format!("{expected:?} at {node}");
    within(Duration::from_secs(30), &what, || async {
        let got = prices(client).await;
        (&got == expected).then_some(()).ok_or(format!("{got:?}"))
    })
    .await
}

/// Waits (up to 20 s) until a node has counted `n` synced records of `outcome`.
async fn synced_within(metrics: &str, outcome: &str, n: f64) {
    let what = format!("{n} synced record(s) {outcome}");
    within(Duration::from_secs(20), &what, || async {
        let got = synced(metrics, outcome);
        (got == n).then_some(()).ok_or(format!("{got}"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_joins_late_has_its_bootstrap_nodes_catalog_and_only_records_that_open() {
    // Hosts announce every 180 s here (TTL 540 s): a node that joins after their first
    // announcement learns of them only by asking its bootstrap node.
    let mut dirs = Vec::new();
    let (_relay, relay_addr, _) = start(BIN, "", &mut dirs);
    let host = |price: u64, seed: u64| {
        format!("bootstrap_nodes: [{relay_addr}]\nrelay: {{ enabled: false }}\nhost:\n  announce_ttl_secs: 540\n  request_rate: {{ burst: 0, refill_secs: 1 }}\n  models: [{{ id: m, price_per_token: {price}, backend: {{ kind: demo, seed: {seed}, tokens_per_second: 0 }} }}]\n")
    };
    let (_h1, h1, _) = start(BIN, &host(5, 1), &mut dirs);
    let (_h2, h2, _) = start(BIN, &host(2, 2), &mut dirs);
    let announced = Instant::now();
    let id = |addr: &str| addr.rsplit("/p2p/").next().unwrap().to_string();
    let both: std::collections::BTreeMap<String, u64> = [(id(&h1), 5), (id(&h2), 2)].into();
    let relay = Client::connect(&relay_addr).await;
    holds(&relay, &both, "the relay").await;
    // Past gossipsub's message cache (5 heartbeats of 1 s), so no gossip can hand the
    // announcements on to a node that joins now.
    tokio::time::sleep(Duration::from_secs(8).saturating_sub(announced.elapsed())).await;

    let plain = format!("relay: {{ enabled: false }}\nbootstrap_nodes: [{relay_addr}]\n");
    let (_late, late_addr, late_metrics) = start(BIN, &plain, &mut dirs);
    let late = Client::connect(&late_addr).await;
    let took = holds(&late, &both, "the late node").await;
    println!("a node that joined {announced:?} after the hosts' announcements held both {took:?} after it was ready", announced = announced.elapsed() - took);
    let kept = ["new", "replaced", "stale"].map(|o| synced(&late_metrics, o));
    assert_eq!(
        kept.iter().sum::<f64>(),
        2.0,
        "records kept from the sync: {kept:?}"
    );
    for refused in catalog::CatalogError::CODES {
        assert_eq!(synced(&late_metrics, refused), 0.0, "{refused}");
    }

    // A catalog server that alters the record pricing m at 5 (and closes a peer's first ask
    // unread): a node that joins through it keeps host-2's record and refuses the altered one.
    let hostile_bin = env!("CARGO_BIN_EXE_fabstir-hostile");
    let (_hostile, hostile_addr, hostile_metrics) = start(hostile_bin, &plain, &mut dirs);
    synced_within(&hostile_metrics, "new", 2.0).await;
    // No DHT: it meets no other node (a node new to the network also asks the relays it meets,
    // and the relay would give it host-1's true record).
    let through = format!(
        "relay: {{ enabled: false }}\nkad: {{ enabled: false }}\nbootstrap_nodes: [{hostile_addr}]\n"
    );
    let (_misled, misled_addr, misled_metrics) = start(BIN, &through, &mut dirs);
    synced_within(&misled_metrics, "bad_signature", 1.0).await;
    let misled = Client::connect(&misled_addr).await;
    let got = prices(&misled).await;
    assert_eq!(got.get(&id(&h2)), Some(&2), "{got:?}");
    assert_ne!(
        got.get(&id(&h1)),
        Some(&1),
        "the altered price was kept: {got:?}"
    );
    assert_eq!(synced(&misled_metrics, "new"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_relay_without_bootstrap_nodes_learns_the_catalog_from_relays_that_rejoin_it() {
    // relay-1 bootstraps from no one; relay-2 from relay-1; the host (announcing every 180 s)
    // from relay-2.
    let mut dirs = Vec::new();
    let (relay1, relay1_addr, _) = start(BIN, "", &mut dirs);
    let relay1_config = dirs.last().unwrap().config();
    let (_relay2, relay2_addr, _) = start(
        BIN,
        &format!("bootstrap_nodes: [{relay1_addr}]\n"),
        &mut dirs,
    );
    let host = format!("bootstrap_nodes: [{relay2_addr}]\nrelay: {{ enabled: false }}\nhost:\n  announce_ttl_secs: 540\n  models: [{{ id: m, price_per_token: 3, backend: {{ kind: demo, seed: 1, tokens_per_second: 0 }} }}]\n");
    let (_host, host_addr, _) = start(BIN, &host, &mut dirs);
    let expected = [(host_addr.rsplit("/p2p/").next().unwrap().to_string(), 3)].into();
    holds(&Client::connect(&relay1_addr).await, &expected, "relay-1").await;

    // relay-1 restarts (same identity and port) with an empty catalog; relay-2 dials it again
    // and relay-1, new, asks it.
    drop(relay1);
    let restarted = Instant::now();
    let _relay1 = Node::start(&relay1_config);
    let took = holds(
        &Client::connect(&relay1_addr).await,
        &expected,
        "relay-1 restarted",
    )
    .await;
    println!(
        "relay-1 restarted: held the host {:?} after it was started again (the host announces again in 180 s)",
        restarted.elapsed().max(took)
    );
}
