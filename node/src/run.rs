//! The node's event loop: listens, reports its addresses, serves the host protocols, advertises
//! its models in the DHT, keeps connections honest, stops on signals.

use std::collections::HashSet;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, kad, mdns, relay, Swarm};

use crate::advertise::Advertiser;
use crate::config::host::Reachability;
use crate::config::LoadedConfig;
use crate::error::NodeError;
use crate::host::Host;
use crate::identity::Identity;
use crate::liveness::Liveness;
use crate::metrics::HostMetrics;
use crate::relayed::RelayedListeners;
use crate::say;
use crate::shutdown::{Shutdown, Step};
use crate::swarm::{Behaviour, BehaviourEvent};

pub use crate::serve::{CatalogServer, StreamServer, TermsHook};

/// Runs the node until SIGINT or SIGTERM (graceful: see `host.shutdown_grace_secs`).
pub async fn run(config: LoadedConfig, identity: Identity) -> Result<(), NodeError> {
    run_serving(
        config,
        identity,
        |host, peer, stream, known| {
            Box::pin(crate::host::stream_protocol::serve(
                host, peer, stream, known,
            ))
        },
        |served, peer, stream| Box::pin(crate::catalog::server::serve(served, peer, stream)),
        |_, _| {},
    )
    .await
}

/// Runs the node with `serve_tokens` answering token streams, `serve_catalog` catalog requests
/// and `terms` seeing a job negotiation's terms before they are sent (the test suite's hostile
/// host swaps in its own; everything else is the node's).
pub async fn run_serving(
    config: LoadedConfig,
    identity: Identity,
    serve_tokens: StreamServer,
    serve_catalog: CatalogServer,
    terms: TermsHook,
) -> Result<(), NodeError> {
    crate::wrap::relay_guard::install_quiet_hook();
    let mut registry = prometheus_client::registry::Registry::default();
    let host_metrics = HostMetrics::default();
    host_metrics.register(registry.sub_registry_with_prefix("fabstir"));
    let (store, stored) = match (&config.database_file, config.raw.host.models.is_empty()) {
        (Some(file), false) => {
            let (store, stored, totals) = crate::store::Store::open(file)?;
            host_metrics.restore(&totals);
            (Some(store), stored)
        }
        _ => (None, Vec::new()),
    };
    let host = Host::new(&config, host_metrics, identity.keypair.clone(), store)?;
    let continued = host.restore(stored);
    if continued > 0 {
        say(format_args!(
            "continuing {continued} job(s) a stop cut short"
        ));
    }
    let catalog_metrics = crate::catalog::CatalogMetrics::default();
    catalog_metrics.register(registry.sub_registry_with_prefix("fabstir"));
    let announce_ttl = std::time::Duration::from_secs(config.raw.host.announce_ttl_secs);
    let mut catalog = crate::catalog::CatalogNode::new(announce_ttl, catalog_metrics);
    let mut swarm = crate::swarm::build(&config, &identity, &mut registry).await?;
    let has_bootstrap = !config.bootstrap_nodes.is_empty();
    let health = std::sync::Arc::new(crate::health::Health::new(
        has_bootstrap,
        has_bootstrap && host.serves_models() && swarm.behaviour().kad.is_enabled(),
    ));
    let mut p2p_metrics = libp2p::metrics::Metrics::new(&mut registry);
    if config.raw.metrics.enabled {
        // Validated at load.
        let addr = config
            .raw
            .metrics
            .listen
            .parse()
            .map_err(|e| NodeError::Network(format!("metrics.listen: {e}")))?;
        let bound =
            crate::metrics::serve(addr, std::sync::Arc::new(registry), health.clone()).await?;
        say(format_args!("metrics http://{bound}/metrics"));
    }
    crate::serve::spawn_protocols(
        swarm.behaviour().inbound.listener(),
        &host,
        serve_tokens,
        terms,
    );
    // A node that keeps no catalog (a host that only hosts) does not serve one: a page that
    // asks it is told the protocol is not spoken, and looks elsewhere.
    let (mut lookups, delegate) = crate::delegated::Lookups::new();
    if config.raw.host.keeps_catalog(config.raw.relay.enabled) {
        let listener = swarm.behaviour().inbound.listener();
        let served = crate::catalog::server::Served {
            hub: catalog.catalog.clone(),
            dht: swarm.behaviour().kad.is_enabled().then_some(delegate),
        };
        crate::serve::spawn_catalog(listener, &host, served, serve_catalog);
    }
    let mut sync = swarm.behaviour().outbound.as_ref().map(|outbound| {
        let bootstrap = config.bootstrap_nodes.iter().map(|(p, _)| *p);
        catalog.sync(outbound.new_control(), bootstrap)
    });
    let relayed = config.raw.host.reachability == Reachability::Relayed;
    // A relay must hand its addresses to clients in each reservation (libp2p's relay client
    // rejects a reservation without them); with none configured, the listen addresses serve.
    // A relayed host announces only its circuit addresses.
    let announce_listen_addresses = config.external_addresses.is_empty() && !relayed;
    let mut pending_listeners = HashSet::new();
    for addr in &config.listen {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NodeError::Network(format!("cannot listen on {addr}: {e}")))?;
        pending_listeners.insert(id);
    }
    for addr in &config.external_addresses {
        swarm.add_external_address(addr.clone());
        say(format_args!("announcing {}", identity.full_address(addr)));
    }
    for (peer, addr) in &config.bootstrap_nodes {
        if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
            kad.add_address(peer, addr.clone());
        }
        if let Err(e) = swarm.dial(addr.clone()) {
            tracing::warn!(%addr, error = %e, "cannot dial bootstrap node");
        }
    }
    // A relayed host reserves on each bootstrap relay once connected to it.
    let mut relays = RelayedListeners::default();
    if relayed {
        for (peer, addr) in &config.bootstrap_nodes {
            relays.relays.insert(*peer, (addr.clone(), None));
        }
    }
    say(format_args!(
        "fabstir-node {} peer id {}",
        env!("CARGO_PKG_VERSION"),
        identity.peer_id()
    ));

    let mut liveness = Liveness::new(config.raw.connection.max_ping_failures);
    let mut advertiser = Advertiser::new(
        host.model_ids(),
        std::time::Duration::from_secs(config.raw.host.advertise_interval_secs),
    );
    let mut rejoin = crate::rejoin::Rejoin::new(config.bootstrap_nodes.clone());
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let grace = std::time::Duration::from_secs(config.raw.host.shutdown_grace_secs);
    let mut shutdown = Shutdown::Running;
    loop {
        let signalled = tokio::select! {
            _ = terminate.recv() => true,
            _ = interrupt.recv() => true,
            _ = tick.tick() => {
                match shutdown.step(&host) {
                    Step::Wait => {}
                    Step::Exit => break,
                }
                let has_addresses = swarm.external_addresses().next().is_some();
                if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                    let knows_peers = kad.kbuckets().any(|b| b.num_entries() > 0);
                    advertiser.tick(kad, knows_peers && has_addresses);
                    lookups.tick(kad);
                }
                relays.retry_due(&mut swarm);
                catalog.tick(&mut swarm, &host, &identity.keypair);
                for addr in rejoin.due(tokio::time::Instant::now()) {
                    tracing::info!(%addr, "dialing a lost bootstrap node again");
                    if let Err(e) = swarm.dial(addr.clone()) {
                        tracing::warn!(%addr, error = %e, "cannot dial bootstrap node");
                    }
                }
                false
            }
            ask = lookups.next() => {
                if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                    lookups.start(kad, ask);
                }
                false
            }
            event = swarm.select_next_some() => {
                record(&mut p2p_metrics, &event);
                if let (SwarmEvent::Behaviour(BehaviourEvent::Kad(e)), Some(kad)) = (&event, swarm.behaviour_mut().kad.as_mut()) {
                    lookups.on_event(kad, e);
                }
                match event {
                SwarmEvent::NewListenAddr { listener_id, address } => {
                    say(format_args!("listening {}", identity.full_address(&address)));
                    if announce_listen_addresses {
                        swarm.add_external_address(address);
                        advertiser.soon();
                    }
                    if pending_listeners.remove(&listener_id) && pending_listeners.is_empty() {
                        health.set_listening();
                        say(format_args!("ready"));
                    }
                }
                SwarmEvent::ListenerError { listener_id, error } => {
                    tracing::error!(?listener_id, %error, "listener failed");
                }
                SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                    if relays.closed(&mut swarm, listener_id) {
                        tracing::warn!(?reason, "relay reservation ended; reserving again soon");
                    } else if let Err(e) = reason {
                        return Err(NodeError::Network(format!("listener {listener_id:?} closed: {e}")));
                    }
                }
                SwarmEvent::ConnectionEstablished { peer_id, connection_id, endpoint, .. } => {
                    host.connected(peer_id, connection_id, endpoint.get_remote_address());
                    if config.bootstrap_nodes.iter().any(|(p, _)| *p == peer_id) {
                        health.set_bootstrap_connected(true);
                    }
                    relays.on_connected(&mut swarm, peer_id);
                    if rejoin.connected(&peer_id) {
                        say(format_args!("rejoined {peer_id}"));
                        // It may have restarted with an empty DHT store: announce again.
                        advertiser.soon();
                    }
                    tracing::info!(%peer_id, ?connection_id, addr = %endpoint.get_remote_address(), "connection established");
                }
                SwarmEvent::ConnectionClosed { peer_id, connection_id, cause, num_established, .. } => {
                    liveness.forget(connection_id);
                    host.disconnected(peer_id, connection_id);
                    if num_established == 0 {
                        crate::catalog::relay_gone(&mut swarm, &peer_id);
                        if let Some(sync) = sync.as_mut() {
                            sync.gone(&peer_id);
                        }
                        rejoin.disconnected(&peer_id, tokio::time::Instant::now());
                        if has_bootstrap {
                            let any = config.bootstrap_nodes.iter().any(|(p, _)| swarm.is_connected(p));
                            health.set_bootstrap_connected(any);
                        }
                    }
                    tracing::info!(%peer_id, ?connection_id, cause = ?cause.map(|c| c.to_string()), "connection closed");
                }
                SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                    id,
                    result: kad::QueryResult::StartProviding(result),
                    ..
                })) => {
                    if let Some(model) = advertiser.on_result(id, &result) {
                        say(format_args!("advertised {model}"));
                        if advertiser.all_announced() {
                            health.set_models_announced();
                        }
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::RelayClient(
                    relay::client::Event::ReservationReqAccepted { relay_peer_id, renewal: false, .. },
                )) => {
                    relays.reserved(&mut swarm, relay_peer_id);
                    advertiser.soon();
                }
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, ref info, .. })) => {
                    if let Some(sync) = sync.as_mut() {
                        sync.on_identify(peer_id, &info.protocols);
                    }
                    if relays.is_relay(&peer_id) && relays.learn_addresses(&mut swarm, peer_id, &info.listen_addrs) {
                        advertiser.soon();
                    }
                    if let SwarmEvent::Behaviour(event) = event {
                        on_behaviour_event(&mut swarm, &mut liveness, event);
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => catalog.on_event(&mut swarm, e),
                SwarmEvent::Behaviour(event) => on_behaviour_event(&mut swarm, &mut liveness, event),
                _ => {}
            }
            false
            },
        };
        if signalled {
            if !matches!(shutdown, Shutdown::Running) {
                say(format_args!("second signal: exiting now"));
                break;
            }
            health.set_draining();
            host.drain();
            say(format_args!(
                "draining: no new jobs; {} running may finish within {} s",
                host.running(),
                grace.as_secs()
            ));
            shutdown = Shutdown::Draining(tokio::time::Instant::now() + grace);
        }
    }
    say(format_args!("shutting down"));
    Ok(())
}

/// Counts a swarm event and the protocol events libp2p's metrics know.
fn record(metrics: &mut libp2p::metrics::Metrics, event: &SwarmEvent<BehaviourEvent>) {
    use libp2p::metrics::Recorder;
    metrics.record(event);
    match event {
        SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => metrics.record(e),
        SwarmEvent::Behaviour(BehaviourEvent::Kad(e)) => metrics.record(e),
        SwarmEvent::Behaviour(BehaviourEvent::Ping(e)) => metrics.record(e),
        SwarmEvent::Behaviour(BehaviourEvent::Relay(e)) => metrics.record(e),
        _ => {}
    }
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Result<tokio::signal::unix::Signal, NodeError> {
    tokio::signal::unix::signal(kind)
        .map_err(|e| NodeError::Network(format!("cannot install signal handler: {e}")))
}

fn on_behaviour_event(
    swarm: &mut Swarm<Behaviour>,
    liveness: &mut Liveness,
    event: BehaviourEvent,
) {
    match event {
        BehaviourEvent::Ping(event) => liveness.on_ping(swarm, event),
        BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
            crate::catalog::peer_relays(swarm, peer_id, &info.protocols);
            let speaks_kad = info
                .protocols
                .iter()
                .any(|p| p.as_ref() == fabstir_protocol::KAD_PROTOCOL);
            if let (true, Some(kad)) = (speaks_kad, swarm.behaviour_mut().kad.as_mut()) {
                for addr in info.listen_addrs {
                    kad.add_address(&peer_id, addr);
                }
            }
        }
        BehaviourEvent::Relay(event) => log_relay_event(&event),
        BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
            for (peer, addr) in found {
                if let Some(kad) = swarm.behaviour_mut().kad.as_mut() {
                    kad.add_address(&peer, addr.clone());
                }
                tracing::debug!(%peer, %addr, "mDNS discovered peer");
            }
        }
        BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => {
            tracing::debug!(%peer, "DHT routing table updated");
        }
        _ => {}
    }
}

fn log_relay_event(event: &relay::Event) {
    match event {
        relay::Event::ReservationReqAccepted {
            src_peer_id,
            renewed,
        } => {
            tracing::info!(peer = %src_peer_id, renewed, "relay reservation accepted");
        }
        relay::Event::ReservationReqDenied { src_peer_id, .. } => {
            tracing::info!(peer = %src_peer_id, "relay reservation denied");
        }
        relay::Event::CircuitReqAccepted {
            src_peer_id,
            dst_peer_id,
        } => {
            tracing::info!(src = %src_peer_id, dst = %dst_peer_id, "relay circuit opened");
        }
        relay::Event::CircuitClosed {
            src_peer_id,
            dst_peer_id,
            error,
        } => {
            tracing::info!(src = %src_peer_id, dst = %dst_peer_id, error = ?error.as_ref().map(|e| e.to_string()), "relay circuit closed");
        }
        other => tracing::debug!(event = ?other, "relay event"),
    }
}
