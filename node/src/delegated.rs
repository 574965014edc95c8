//! Delegated routing: DHT lookups the node does for pages (`providers` and `dhtCheck` on
//! `/fabstir/catalog/1.0.0`), so a browser needs no Kademlia client of its own. The catalog
//! server asks through a [`Delegate`]; the event loop, which owns the swarm, runs each lookup in
//! its Kademlia behaviour ([`Lookups`]) and hands back what it finds as it finds it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fabstir_protocol::catalog::wire::MAX_PROVIDERS;
use fabstir_protocol::catalog::{ProviderHint, MAX_ADDRESSES, MAX_ADDRESS_LEN};
use libp2p::core::Endpoint;
use libp2p::kad::store::{MemoryStore, RecordStore};
use libp2p::kad::{self, GetProvidersOk, QueryId, QueryResult};
use libp2p::swarm::{ConnectionId, NetworkBehaviour};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Lookups done for pages at once; a request beyond them is refused as busy.
pub const MAX_LOOKUPS: usize = 32;
/// How long a page's lookup may run; what was found by then is the answer.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

type Kad = kad::Behaviour<MemoryStore>;

/// A lookup asked of the event loop.
#[derive(Debug)]
pub enum Ask {
    /// The providers of a DHT key, each sent on `found` as found; `found` closes at the end.
    Providers {
        /// The DHT key (`fabstir_protocol::messages::provider_key`).
        key: Vec<u8>,
        /// Where providers go.
        found: mpsc::Sender<ProviderHint>,
    },
    /// A lookup of a random key: how many DHT peers answered.
    Check {
        /// Where the count goes.
        reply: oneshot::Sender<u32>,
    },
}

/// The catalog server's handle on the event loop's lookups.
#[derive(Clone, Debug)]
pub struct Delegate {
    asks: mpsc::Sender<Ask>,
    places: Arc<Semaphore>,
}

impl Delegate {
    /// The providers of `key` the node's DHT finds within [`LOOKUP_TIMEOUT`] (at most
    /// [`MAX_PROVIDERS`]); an error when the node is busy or stopping.
    pub async fn providers(&self, key: Vec<u8>) -> Result<Vec<ProviderHint>, String> {
        let _place = self.place()?;
        let (found, mut rx) = mpsc::channel(MAX_PROVIDERS);
        self.ask(Ask::Providers { key, found })?;
        let mut hints: Vec<ProviderHint> = Vec::new();
        let collect = async {
            while let Some(hint) = rx.recv().await {
                if hints.len() < MAX_PROVIDERS && !hints.iter().any(|h| h.peer_id == hint.peer_id) {
                    hints.push(hint);
                }
            }
        };
        // Dropping `rx` at the deadline tells the event loop to end the lookup.
        let _ = tokio::time::timeout(LOOKUP_TIMEOUT, collect).await;
        Ok(hints)
    }

    /// How many DHT peers answered a lookup of a random key within [`LOOKUP_TIMEOUT`].
    pub async fn check(&self) -> Result<u32, String> {
        let _place = self.place()?;
        let (reply, rx) = oneshot::channel();
        self.ask(Ask::Check { reply })?;
        match tokio::time::timeout(LOOKUP_TIMEOUT, rx).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(_)) => Err("the node is stopping".into()),
            Err(_) => Ok(0),
        }
    }

    fn place(&self) -> Result<tokio::sync::SemaphorePermit<'_>, String> {
        self.places
            .try_acquire()
            .map_err(|_| "too many DHT lookups".to_string())
    }

    fn ask(&self, ask: Ask) -> Result<(), String> {
        self.asks
            .try_send(ask)
            .map_err(|_| "too many DHT lookups".to_string())
    }
}

/// The lookups running in the event loop's Kademlia behaviour.
#[derive(Debug)]
pub struct Lookups {
    asks: mpsc::Receiver<Ask>,
    providers: HashMap<QueryId, mpsc::Sender<ProviderHint>>,
    checks: HashMap<QueryId, oneshot::Sender<u32>>,
}

impl Lookups {
    /// The event loop's side and the server's handle.
    pub fn new() -> (Lookups, Delegate) {
        let (tx, rx) = mpsc::channel(MAX_LOOKUPS);
        let lookups = Lookups {
            asks: rx,
            providers: HashMap::new(),
            checks: HashMap::new(),
        };
        let delegate = Delegate {
            asks: tx,
            places: Arc::new(Semaphore::new(MAX_LOOKUPS)),
        };
        (lookups, delegate)
    }

    /// The next lookup asked (pending forever once every handle is gone).
    pub async fn next(&mut self) -> Ask {
        match self.asks.recv().await {
            Some(ask) => ask,
            None => std::future::pending().await,
        }
    }

    /// Starts `ask` in `kad`.
    pub fn start(&mut self, kad: &mut Kad, ask: Ask) {
        match ask {
            Ask::Providers { key, found } => {
                let id = kad.get_providers(kad::RecordKey::new(&key));
                self.providers.insert(id, found);
            }
            Ask::Check { reply } => {
                let id = kad.get_closest_peers(PeerId::random());
                self.checks.insert(id, reply);
            }
        }
    }

    /// Ends the lookups whose asker stopped waiting.
    pub fn tick(&mut self, kad: &mut Kad) {
        let mut gone = Vec::new();
        self.providers.retain(|id, found| {
            let waiting = !found.is_closed();
            if !waiting {
                gone.push(*id);
            }
            waiting
        });
        self.checks.retain(|id, reply| {
            let waiting = !reply.is_closed();
            if !waiting {
                gone.push(*id);
            }
            waiting
        });
        for id in gone {
            if let Some(mut query) = kad.query_mut(&id) {
                query.finish();
            }
        }
    }

    /// Hands a lookup's progress to its asker (other Kademlia events are left alone).
    pub fn on_event(&mut self, kad: &mut Kad, event: &kad::Event) {
        let kad::Event::OutboundQueryProgressed {
            id,
            result,
            stats,
            step,
        } = event
        else {
            return;
        };
        match result {
            QueryResult::GetClosestPeers(_) => {
                if let Some(reply) = self.checks.remove(id) {
                    let _ = reply.send(stats.num_successes());
                }
            }
            QueryResult::GetProviders(Ok(GetProvidersOk::FoundProviders { key, providers })) => {
                let Some(found) = self.providers.get(id) else {
                    return;
                };
                let held = kad.store_mut().providers(key);
                for peer in providers {
                    let addresses = addresses_of(kad, &held, peer)
                        .iter()
                        .map(Multiaddr::to_string)
                        .filter(|a| a.len() <= MAX_ADDRESS_LEN)
                        .take(MAX_ADDRESSES)
                        .collect();
                    let _ = found.try_send(ProviderHint {
                        peer_id: peer.to_string(),
                        addresses,
                    });
                }
                if step.last {
                    self.providers.remove(id);
                }
            }
            QueryResult::GetProviders(_) => {
                self.providers.remove(id);
            }
            _ => {}
        }
    }
}

/// The addresses Kademlia knows for `peer` as a provider: those of its record among `held` (the
/// provider records of the key this node holds), then those the running lookups and the
/// routing table know.
/// Kademlia has no public call for the latter; it hands them to the swarm when dialing a peer,
/// through `handle_pending_outbound_connection`, which reads no state of the connection id
/// given (libp2p-kad 0.49), so it is asked the same way here.
fn addresses_of(kad: &mut Kad, held: &[kad::ProviderRecord], peer: &PeerId) -> Vec<Multiaddr> {
    let mut addresses: Vec<Multiaddr> = held
        .iter()
        .filter(|r| r.provider == *peer)
        .flat_map(|r| r.addresses.iter().cloned())
        .collect();
    let known = kad
        .handle_pending_outbound_connection(
            ConnectionId::new_unchecked(0),
            Some(*peer),
            &[],
            Endpoint::Dialer,
        )
        .unwrap_or_default();
    for addr in known {
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    addresses
}
