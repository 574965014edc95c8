//! The network catalog on a node (issue 12): every node subscribes to the gossipsub topic
//! [`fabstir_protocol::catalog::TOPIC`] and keeps the newest valid announcement per host; a host
//! also announces itself there, signed with its identity key (see `fabstir_protocol::catalog`).
//! Invalid announcements are rejected in gossipsub's validation, so they are not forwarded, and
//! counted by reason. Pages read the catalog through `/fabstir/catalog/1.0.0` ([`server`]),
//! once or watching its changes ([`hub`]).

pub mod gate;
pub mod hub;
pub mod rpc_limits;
pub mod server;
pub mod sync;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fabstir_protocol::catalog::{self, Announcement, Inserted};
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::identity::Keypair;
use libp2p::Swarm;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::host::{unix_ms, Host};
use crate::swarm::Behaviour;

/// The catalog, shared by the event loop (which fills it) and the catalog protocol's server.
pub type SharedCatalog = Arc<hub::Hub>;

/// What became of a received announcement.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `new`, `replaced`, `stale`, `full`, or a refusal code of
    /// [`fabstir_protocol::catalog::CatalogError::code`].
    pub outcome: String,
}

/// The catalog's metrics.
#[derive(Clone, Default)]
pub struct CatalogMetrics {
    /// Announcements received, by outcome.
    pub received: Family<Outcome, Counter>,
    /// Announcements we published.
    pub published: Counter,
    /// Hosts in the catalog.
    pub hosts: Gauge,
    /// Host records received from bootstrap nodes on joining ([`sync`]), by outcome.
    pub synced: Family<Outcome, Counter>,
    /// Syncs with a bootstrap node that ended without its whole answer.
    pub syncs_failed: Counter,
    /// Messages gossipsub dropped for a peer: its queue was full, or a message waited longer
    /// than gossipsub allows (5 s to publish, 1 s to forward).
    pub gossip_unsent: Counter,
}

impl CatalogMetrics {
    /// Adds the metrics to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let accepted = ["new", "replaced", "stale", "full"];
        for outcome in accepted.into_iter().chain(catalog::CatalogError::CODES) {
            for family in [&self.received, &self.synced] {
                let _ = family.get_or_create(&Outcome {
                    outcome: outcome.into(),
                });
            }
        }
        registry.register(
            "catalog_announcements_received",
            "Host announcements received over gossipsub, by outcome (refusals by reason)",
            self.received.clone(),
        );
        registry.register(
            "catalog_announcements_published",
            "Announcements of this host published",
            self.published.clone(),
        );
        registry.register("catalog_hosts", "Hosts in the catalog", self.hosts.clone());
        registry.register(
            "catalog_records_synced",
            "Host records received from bootstrap nodes on joining, by outcome (refusals by reason)",
            self.synced.clone(),
        );
        registry.register(
            "catalog_syncs_failed",
            "Catalog syncs with a bootstrap node that ended without its whole answer",
            self.syncs_failed.clone(),
        );
        registry.register(
            "catalog_gossip_unsent",
            "Gossipsub messages dropped for a slow peer (queue full, or not sent in time)",
            self.gossip_unsent.clone(),
        );
    }
}

/// Counts one `outcome` in `family`.
fn count(family: &Family<Outcome, Counter>, outcome: &str) {
    family
        .get_or_create(&Outcome {
            outcome: outcome.into(),
        })
        .inc();
}

/// The outcome label of an insertion into the catalog.
fn inserted_outcome(inserted: Inserted) -> &'static str {
    match inserted {
        Inserted::New => "new",
        Inserted::Replaced => "replaced",
        Inserted::Stale => "stale",
        Inserted::Full => "full",
    }
}

/// The one gossipsub protocol our nodes speak (gossipsub v1.1).
///
/// Only one: a node's gossipsub opens a stream to every peer it connects to, pages included,
/// and with gossipsub's default list (`/meshsub/1.3.0` down to `/meshsub/1.0.0`) a page that runs
/// no gossipsub refused four proposals in turn, four round trips on its bootstrap connection
/// right after `start()`, in the way of the page's first job. With one, it refuses once.
pub const GOSSIPSUB_PROTOCOL: &str = "/fabstir/meshsub/1.1.0";

/// The catalog's gossipsub settings: [`GOSSIPSUB_PROTOCOL`], messages signed by their publisher,
/// RPCs its receivers accept ([`rpc_limits`]);
/// `validate` when the node checks each message before it is forwarded (every node here; a load
/// generator's hosts only publish).
pub fn gossipsub_config(validate: bool) -> Result<gossipsub::Config, String> {
    gossipsub_builder(validate)
        .build()
        .map_err(|e| e.to_string())
}

/// [`gossipsub_config`]'s builder (a test may change its timing before it builds).
pub fn gossipsub_builder(validate: bool) -> gossipsub::ConfigBuilder {
    let mut builder = gossipsub::ConfigBuilder::default();
    builder
        .protocol_id(GOSSIPSUB_PROTOCOL, gossipsub::Version::V1_1)
        .validation_mode(gossipsub::ValidationMode::Strict);
    rpc_limits::bound(&mut builder);
    if validate {
        builder.validate_messages();
    }
    builder
}

/// The gossipsub behaviour for the catalog ([`gossipsub_config`], checked by us before a message
/// is forwarded); subscribed to the topic when the node keeps the catalog (else it only
/// publishes its own announcements, through gossipsub's fanout to the peers it knows
/// subscribed).
pub fn behaviour(
    key: &Keypair,
    subscribe: bool,
) -> Result<gate::Gated<gossipsub::Behaviour>, String> {
    let config = gossipsub_config(true)?;
    let mut behaviour =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)?;
    if subscribe {
        behaviour
            .subscribe(&gossipsub::IdentTopic::new(catalog::TOPIC))
            .map_err(|e| e.to_string())?;
    }
    let protocol = libp2p::StreamProtocol::new(GOSSIPSUB_PROTOCOL);
    Ok(gate::gated(behaviour, protocol))
}

/// On a relay: makes every other relay it meets (identify lists the hop protocol) a direct
/// gossipsub peer, which gossipsub sends every message it forwards. Relays keep the catalogs
/// pages read; in a plain mesh of 6 to 12 peers chosen among hundreds of hosts, another relay
/// is often outside it and hears of an announcement only through lazy gossip (IHAVE/IWANT), if
/// at all before the message leaves the cache: measured with 100 announcing hosts on 3 relays,
/// every relay held all of them only after 90 s. Both sides meet each other, so both add.
pub fn peer_relays(
    swarm: &mut Swarm<Behaviour>,
    peer: libp2p::PeerId,
    protocols: &[libp2p::StreamProtocol],
) {
    let we_relay = swarm.behaviour().relay.is_enabled();
    if we_relay
        && protocols
            .iter()
            .any(|p| p.as_ref() == fabstir_protocol::RELAY_HOP_PROTOCOL)
    {
        swarm.behaviour_mut().gossipsub.add_explicit_peer(&peer);
    }
}

/// Forgets a relay as a direct gossipsub peer once its last connection closed (gossipsub would
/// otherwise dial it again every few minutes; it is added again when it comes back).
pub fn relay_gone(swarm: &mut Swarm<Behaviour>, peer: &libp2p::PeerId) {
    swarm.behaviour_mut().gossipsub.remove_explicit_peer(peer);
}

/// A node's part in the catalog: what it received, and (for a host) its own announcements.
pub struct CatalogNode {
    /// The catalog.
    pub catalog: SharedCatalog,
    metrics: CatalogMetrics,
    /// How long an announcement of ours counts; we announce again after a third of it.
    ttl: Duration,
    seq: u64,
    /// When we last published, and what.
    last: Option<(Instant, Announcement)>,
}

/// The least time between two announcements of a host whose content changed (load changes are
/// coalesced to about one a second).
const MIN_INTERVAL: Duration = Duration::from_secs(1);

impl CatalogNode {
    /// A node whose own announcements count for `ttl`.
    pub fn new(ttl: Duration, metrics: CatalogMetrics) -> Self {
        CatalogNode {
            catalog: Arc::default(),
            metrics,
            ttl,
            seq: 0,
            last: None,
        }
    }

    /// The syncs of this catalog from the `bootstrap` nodes, through `control`.
    pub fn sync(
        &self,
        control: libp2p_stream::Control,
        bootstrap: impl IntoIterator<Item = libp2p::PeerId>,
    ) -> sync::Sync {
        sync::Sync::new(
            control,
            self.catalog.clone(),
            self.metrics.clone(),
            bootstrap,
        )
    }

    /// Every tick: drops expired announcements and, for a host with addresses to give, announces
    /// it when its content changed (at most once a second) or a third of its TTL has passed.
    pub fn tick(&mut self, swarm: &mut Swarm<Behaviour>, host: &Host, key: &Keypair) {
        let now = unix_ms();
        let hosts = self.catalog.expire(now);
        self.metrics.hosts.set(hosts as i64);
        if !host.serves_models() || host.draining() {
            return;
        }
        let local = *swarm.local_peer_id();
        let mut addresses: Vec<String> = swarm
            .external_addresses()
            .map(|a| {
                let mut a = a.clone();
                if !matches!(a.iter().last(), Some(libp2p::multiaddr::Protocol::P2p(_))) {
                    a.push(libp2p::multiaddr::Protocol::P2p(local));
                }
                a.to_string()
            })
            .collect();
        if addresses.is_empty() {
            return;
        }
        addresses.truncate(catalog::MAX_ADDRESSES);
        let info = host.info();
        let mut next = Announcement {
            peer_id: local.to_string(),
            addresses,
            models: info.models,
            max_concurrent_jobs: info.max_concurrent_jobs,
            current_load: info.current_load.min(info.max_concurrent_jobs),
            version: info.version,
            seq: 0,
            expires_at: 0,
        };
        let due = match &self.last {
            None => true,
            Some((at, last)) => {
                let changed = Announcement {
                    seq: 0,
                    expires_at: 0,
                    ..last.clone()
                } != next;
                (changed && at.elapsed() >= MIN_INTERVAL) || at.elapsed() >= self.ttl / 3
            }
        };
        if !due {
            return;
        }
        // Sequence numbers from the clock survive a restart without stored state.
        self.seq = now.max(self.seq + 1);
        next.seq = self.seq;
        next.expires_at = now + self.ttl.as_millis() as u64;
        let sealed = match catalog::seal(key, &next) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot seal our announcement");
                return;
            }
        };
        let topic = gossipsub::IdentTopic::new(catalog::TOPIC);
        match swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, sealed.clone())
        {
            Ok(_) => {
                self.metrics.published.inc();
            }
            // No peer on the topic yet: tried again next tick.
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => return,
            Err(e) => tracing::warn!(error = %e, "cannot publish our announcement"),
        }
        self.catalog.insert(next.clone(), sealed);
        self.last = Some((Instant::now(), next));
    }

    /// Checks a received announcement and tells gossipsub whether to forward it; counts the
    /// messages gossipsub could not send a peer.
    pub fn on_event(&mut self, swarm: &mut Swarm<Behaviour>, event: gossipsub::Event) {
        let (propagation_source, message_id, message) = match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => (propagation_source, message_id, message),
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => {
                let lost = failed_messages.priority + failed_messages.non_priority;
                tracing::debug!(%peer_id, lost, "gossipsub could not send a slow peer messages");
                self.metrics.gossip_unsent.inc_by(lost as u64);
                return;
            }
            _ => return,
        };
        let acceptance = match catalog::open(&message.data, unix_ms()) {
            Err(e) => {
                tracing::debug!(source = %propagation_source, error = %e, "announcement refused");
                count(&self.metrics.received, e.code());
                MessageAcceptance::Reject
            }
            Ok(a) => {
                let inserted = self.catalog.insert(a, message.data);
                count(&self.metrics.received, inserted_outcome(inserted));
                match inserted {
                    Inserted::New | Inserted::Replaced => MessageAcceptance::Accept,
                    Inserted::Stale | Inserted::Full => MessageAcceptance::Ignore,
                }
            }
        };
        let _ = swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message_id, &propagation_source, acceptance);
    }
}
