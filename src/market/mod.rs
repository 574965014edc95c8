//! The marketplace room: finding hosts of a model (the network catalog, DHT lookups, probes,
//! cache, filters), negotiating offers, reading token streams, the job registry, reliability and
//! the circuit breaker, failover, retries of whole jobs, hosts' signed receipts, node info and
//! which hosts security admits. It talks to the network only through the `net` room's handle and
//! protocol codecs.

pub mod admission;
pub mod catalog;
pub mod catalog_watch;
pub mod decision;
pub mod delegated;
pub mod discovery;
pub mod failover;
pub mod jobs;
pub mod lookup;
pub mod memory;
pub mod negotiation;
pub mod node_info;
pub mod receipts;
pub mod records;
pub mod reliability;
pub mod retry;
pub mod security;
pub mod spec;
pub mod stream;
pub mod streaming;
pub mod submit;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::mpsc;
use libp2p::PeerId;

use crate::error::SdkError;
use crate::market::discovery::Cache;
use crate::market::jobs::{JobRecord, Registry};
use crate::net::handle::Network;
use crate::net::rt;

/// The marketplace of one SDK instance: what it knows of hosts and jobs, over a network handle.
#[derive(Clone)]
pub struct Market {
    net: Network,
    registry: Arc<Mutex<Registry>>,
    cache: Arc<Mutex<Cache>>,
    /// Questions to the page's `authenticate` callback, when it gave one.
    approvals: Option<mpsc::Sender<security::Approval>>,
    verdicts: Arc<Mutex<security::Verdicts>>,
    /// One lookup per model at a time: concurrent callers wait for it and share its answer
    /// (through the cache) instead of each probing every host.
    lookups: Arc<Mutex<HashMap<String, Arc<futures::lock::Mutex<()>>>>>,
    /// The watches of the bootstrap nodes' catalogs, once started.
    watches: Arc<Mutex<catalog_watch::Watches>>,
    /// Token streams opened together with their job's accept, until the job's stream is asked
    /// for (`open_stream` from token 0 takes it).
    opened: Arc<Mutex<Vec<(String, negotiation::Opened)>>>,
    /// Host records already checked (catalog answers and watches): one seen again is not
    /// checked again, only its expiry.
    records: Arc<Mutex<fabstir_protocol::catalog::Opened>>,
    /// Host records refused so far, and of those the forged ones (`refuse_record`).
    refused: Arc<Mutex<catalog::Refused>>,
}

impl Market {
    /// The marketplace over `net`; `reliability` configures the circuit breaker.
    pub fn new(net: Network) -> Self {
        let reliability = net.config().reliability;
        Market {
            net,
            registry: Arc::new(Mutex::new(Registry::new(reliability))),
            cache: Arc::default(),
            approvals: None,
            verdicts: Arc::default(),
            lookups: Arc::default(),
            watches: Arc::default(),
            opened: Arc::default(),
            records: Arc::default(),
            refused: Arc::default(),
        }
    }

    /// The network handle it works through.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Routes every host through an `authenticate` decision: the returned receiver gets one
    /// question per host (per `discoveryCacheTtl`), which its owner answers.
    pub fn ask_before_using_hosts(&mut self) -> mpsc::Receiver<crate::market::security::Approval> {
        let (tx, rx) = crate::market::security::approval_channel();
        self.approvals = Some(tx);
        rx
    }

    /// Makes sure we are connected to `peer`: `CIRCUIT_OPEN` without dialing while the host is
    /// blacklisted, else [`Network::connect`].
    pub async fn connect(&self, peer: PeerId) -> Result<(), SdkError> {
        let report = self.node_reliability(peer);
        if let Some(until) = report.blacklisted_until {
            return Err(SdkError::CircuitOpen {
                peer_id: peer.to_string(),
                retry_in_ms: (until - rt::now_ms()).max(0.0) as u64,
            });
        }
        self.net.connect(peer).await
    }

    /// Asks a connected peer for its capabilities (`/fabstir/info/1.0.0`).
    pub async fn node_info(
        &self,
        peer: PeerId,
    ) -> Result<fabstir_protocol::messages::NodeInfo, SdkError> {
        self.net
            .with_connected_peer(peer, "node info", |control| async move {
                crate::net::dropped::retry_unanswered(|| {
                    let mut control = control.clone();
                    async move { crate::market::node_info::node_info(&mut control, peer).await }
                })
                .await
            })
            .await
    }

    /// What this SDK knows about one of its jobs, or `JOB_NOT_FOUND`.
    pub fn job(&self, job_id: &str) -> Result<JobRecord, SdkError> {
        self.registry()
            .get(job_id)
            .ok_or_else(|| SdkError::JobNotFound {
                job_id: job_id.to_string(),
                message: "this SDK instance did not start it".into(),
            })
    }

    /// Models with a discovery answer cached now.
    pub fn cached_models(&self) -> usize {
        self.cache().len()
    }

    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The host records checked before (the `records` field).
    pub(crate) fn opened(&self) -> MutexGuard<'_, fabstir_protocol::catalog::Opened> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `discoveryCacheTtl` in ms: how long a discovery answer (and an approval verdict) serves.
    pub(crate) fn discovery_ttl_ms(&self) -> f64 {
        self.net.config().discovery_cache_ttl.as_secs_f64() * 1000.0
    }

    pub(crate) fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
