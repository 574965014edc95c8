//! The client handle: starts the event loop, joins the network through the bootstrap nodes with
//! retries, and turns calls into [`Command`]s.

use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};

use crate::config::{BootstrapNode, ValidConfig};
use crate::discovery::{Cache, Capabilities, DiscoverOptions, DiscoveredNode};
use crate::error::SdkError;
use crate::event_loop::{Command, EventLoop};
use crate::events::{FeatureStatus, SdkEvent};
use crate::jobs::{JobRecord, Registry};
use crate::negotiation::{Candidate, JobSpec, Negotiated};
use crate::peers::{P2pMetrics, PeerInfo};
use crate::rt;
use crate::stream::{Canceller, TokenReader};

/// Commands waiting for the event loop; callers wait (backpressure) beyond this.
const COMMAND_BUFFER: usize = 64;
/// Events waiting for the page; beyond this they are counted as dropped, never block the loop.
pub const EVENT_BUFFER: usize = 1024;

/// Providers of one model probed per discovery (each costs a connection and two requests).
const MAX_PROBES: usize = 20;
/// How long a probe waits before its second and last try to reach a provider.
const PROBE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(300);

/// A cheap, cloneable handle to a running SDK network stack.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    events: mpsc::Sender<SdkEvent>,
    control: libp2p_stream::Control,
    peer_id: PeerId,
    config: Arc<ValidConfig>,
    registry: Arc<Mutex<Registry>>,
    cache: Arc<Mutex<Cache>>,
    /// Questions to the page's `authenticate` callback, when it gave one.
    approvals: Option<mpsc::Sender<crate::security::Approval>>,
    verdicts: Arc<Mutex<crate::security::Verdicts>>,
    /// One lookup per model at a time: concurrent callers wait for it and share its answer
    /// (through the cache) instead of each probing every host.
    lookups: Arc<Mutex<std::collections::HashMap<String, Arc<futures::lock::Mutex<()>>>>>,
}

impl Client {
    /// Builds the network stack and returns the handle and the event loop; the caller runs the
    /// loop (e.g. with [`rt::spawn`]) before using the handle.
    pub async fn new(
        key: Keypair,
        config: ValidConfig,
        events: mpsc::Sender<SdkEvent>,
    ) -> Result<(Client, EventLoop), SdkError> {
        let peer_id = key.public().to_peer_id();
        let swarm = crate::transport::build_swarm(key, &config).await?;
        let control = swarm.behaviour().stream.new_control();
        rt::spawn(crate::ping::answer_pings(control.clone()));
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_BUFFER);
        let event_loop = EventLoop::new(swarm, commands_rx, events.clone(), config.clone());
        let reliability = config.reliability;
        let client = Client {
            commands: commands_tx,
            events,
            control,
            peer_id,
            config: Arc::new(config),
            registry: Arc::new(Mutex::new(Registry::new(reliability))),
            cache: Arc::default(),
            approvals: None,
            verdicts: Arc::default(),
            lookups: Arc::default(),
        };
        Ok((client, event_loop))
    }

    /// Routes every host through an `authenticate` decision: the returned receiver gets one
    /// question per host (per `discoveryCacheTtl`), which its owner answers.
    pub fn ask_before_using_hosts(&mut self) -> mpsc::Receiver<crate::security::Approval> {
        let (tx, rx) = crate::security::approval_channel();
        self.approvals = Some(tx);
        rx
    }

    /// Whether `peer` may serve our jobs: not blocked, on the allowlist when there is one, and
    /// approved by the page's `authenticate` callback when there is one (a throw means no).
    pub async fn admits(&self, peer: PeerId) -> bool {
        if !self.registry().usable(&peer, rt::now_ms()) {
            self.debug("reliability", "info", || {
                format!("{peer} is blacklisted (its circuit is open); not used")
            });
            return false;
        }
        if !self.config.security.lists_admit(&peer) {
            self.debug("security", "info", || {
                format!("{peer} is not admitted by the allowlist or blocklist")
            });
            return false;
        }
        let Some(approvals) = &self.approvals else {
            return true;
        };
        let ttl = self.config.discovery_cache_ttl.as_secs_f64() * 1000.0;
        if let Some(ok) = self.verdicts().get(&peer, rt::now_ms(), ttl) {
            return ok;
        }
        let (reply, answer) = oneshot::channel();
        if approvals.clone().send((peer, reply)).await.is_err() {
            return false;
        }
        let limit = self.config.request_timeout;
        let verdict = match rt::timeout(limit, answer).await {
            Some(Ok(Ok(ok))) => ok,
            Some(Ok(Err(thrown))) => {
                self.debug("security", "warn", || {
                    format!("authenticate({peer}) threw: {thrown}; the host is not used")
                });
                false
            }
            Some(Err(_)) => false,
            None => {
                self.debug("security", "warn", || {
                    format!(
                        "authenticate({peer}) did not answer within {} ms; the host is not used",
                        limit.as_millis()
                    )
                });
                false
            }
        };
        self.verdicts().put(peer, verdict, rt::now_ms());
        verdict
    }

    fn verdicts(&self) -> MutexGuard<'_, crate::security::Verdicts> {
        self.verdicts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Dials every bootstrap node (with retries, in parallel) and returns once one is connected;
    /// the others keep trying in the background. Emits `p2p:started` on success.
    pub async fn bootstrap(&self) -> Result<(), SdkError> {
        let nodes = self.config.bootstrap_nodes.clone();
        let (results_tx, mut results_rx) = mpsc::channel(nodes.len());
        for node in nodes {
            let client = self.clone();
            let mut results = results_tx.clone();
            rt::spawn(async move {
                let result = client.dial_with_retry(&node).await;
                let _ = results
                    .send(result.map_err(|e| format!("{}: {e}", node.address)))
                    .await;
            });
        }
        drop(results_tx);
        let mut failures = Vec::new();
        while let Some(result) = results_rx.next().await {
            match result {
                Ok(()) => {
                    self.emit(SdkEvent::Started {
                        peer_id: self.peer_id.to_string(),
                        start_time: rt::now_ms(),
                        dht: FeatureStatus {
                            enabled: self.config.enable_dht,
                            available: true,
                            reason: None,
                        },
                        mdns: mdns_status(self.config.enable_mdns),
                    });
                    return Ok(());
                }
                Err(failure) => failures.push(failure),
            }
        }
        Err(SdkError::BootstrapFailed { failures })
    }

    async fn dial_with_retry(&self, node: &BootstrapNode) -> Result<(), SdkError> {
        let cfg = &self.config;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.dial_with_timeout(node.address.clone()).await {
                Ok(_) => return Ok(()),
                Err(SdkError::Stopped) => return Err(SdkError::Stopped),
                Err(e) => e,
            };
            if attempt > cfg.max_retries {
                self.emit(SdkEvent::ConnectionFailed {
                    address: node.address.to_string(),
                    attempts: attempt,
                    error: error.to_string(),
                });
                return Err(error);
            }
            let delay = crate::backoff::retry_delay(cfg.retry_delay, attempt);
            self.emit(SdkEvent::ConnectionRetry {
                address: node.address.to_string(),
                attempt,
                max_retries: cfg.max_retries,
                delay: delay.as_secs_f64() * 1000.0,
                error: error.to_string(),
            });
            rt::sleep(delay).await;
        }
    }

    async fn dial_with_timeout(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        let limit = self.config.dial_timeout;
        let operation = format!("dial {address}");
        rt::timeout(limit, self.dial(address))
            .await
            .unwrap_or(Err(SdkError::Timeout {
                operation,
                after_ms: limit.as_millis() as u64,
            }))
    }

    /// Dials `address` once (no retry) and returns the peer id once connected.
    pub async fn dial(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        self.request(|reply| Command::Dial {
            address,
            always: false,
            reply,
        })
        .await?
    }

    /// Pings a connected peer on demand; returns the round trip in ms.
    pub async fn ping(&self, peer: PeerId) -> Result<f64, SdkError> {
        self.with_connected_peer(peer, "ping", |mut control| async move {
            crate::ping::ping(&mut control, peer).await
        })
        .await
    }

    /// Asks a connected peer for its capabilities (`/fabstir/info/1.0.0`).
    pub async fn node_info(
        &self,
        peer: PeerId,
    ) -> Result<fabstir_protocol::messages::NodeInfo, SdkError> {
        self.with_connected_peer(peer, "node info", |control| async move {
            crate::dropped::retry_unanswered(|| {
                let mut control = control.clone();
                async move { crate::node_info::node_info(&mut control, peer).await }
            })
            .await
        })
        .await
    }

    /// Whether we have a connection to `peer` now.
    pub async fn is_connected(&self, peer: PeerId) -> Result<bool, SdkError> {
        self.request(|reply| Command::IsConnected { peer, reply })
            .await
    }

    /// Runs a stream request to `peer`: `NOT_CONNECTED` unless connected, `TIMEOUT` after
    /// `requestTimeout`.
    async fn with_connected_peer<T, F, Fut>(
        &self,
        peer: PeerId,
        operation: &str,
        request: F,
    ) -> Result<T, SdkError>
    where
        F: FnOnce(libp2p_stream::Control) -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError>>,
    {
        if !self
            .request(|reply| Command::IsConnected { peer, reply })
            .await?
        {
            return Err(SdkError::NotConnected {
                peer_id: peer.to_string(),
            });
        }
        let limit = self.config.request_timeout;
        rt::timeout(limit, request(self.control.clone()))
            .await
            .unwrap_or(Err(SdkError::Timeout {
                operation: format!("{operation} {peer}"),
                after_ms: limit.as_millis() as u64,
            }))
    }

    /// Opens a new connection to exactly `address`, even when already connected to its peer
    /// (proves that this address works); returns the peer id.
    pub async fn dial_fresh(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        self.request(|reply| Command::Dial {
            address,
            always: true,
            reply,
        })
        .await?
    }

    /// Makes sure we are connected to `peer` (dialing the addresses we reached it at before,
    /// within `dialTimeout`).
    pub async fn connect(&self, peer: PeerId) -> Result<(), SdkError> {
        let report = self.node_reliability(peer);
        if let Some(until) = report.blacklisted_until {
            return Err(SdkError::CircuitOpen {
                peer_id: peer.to_string(),
                retry_in_ms: (until - rt::now_ms()).max(0.0) as u64,
            });
        }
        let limit = self.config.dial_timeout;
        let connecting = self.request(|reply| Command::Connect { peer, reply });
        match rt::timeout(limit, connecting).await {
            Some(result) => result?,
            None => Err(SdkError::Timeout {
                operation: format!("connect to {peer}"),
                after_ms: limit.as_millis() as u64,
            }),
        }
    }

    /// Closes every connection to `peer`; false when there was none.
    pub async fn disconnect(&self, peer: PeerId) -> Result<bool, SdkError> {
        self.request(|reply| Command::Disconnect { peer, reply })
            .await
    }

    /// Hosts of `options.model_id`, from the cache when fresh, else from the DHT; filtered
    /// and ordered as [`crate::discovery::select`] says.
    pub async fn discover_nodes(
        &self,
        options: &DiscoverOptions,
    ) -> Result<Vec<DiscoveredNode>, SdkError> {
        crate::discovery::parse_peer_ids("preferredNodes", &options.preferred_nodes)?;
        crate::discovery::parse_peer_ids("excludeNodes", &options.exclude_nodes)?;
        let nodes = self
            .hosts_of(&options.model_id, options.force_refresh)
            .await?;
        let registry = self.registry();
        Ok(crate::discovery::select(nodes, options, |p| {
            registry.reputation(p, rt::now_ms())
        }))
    }

    /// Every reachable host of `model_id` (cached for `discoveryCacheTtl`).
    async fn hosts_of(
        &self,
        model_id: &str,
        refresh: bool,
    ) -> Result<Vec<DiscoveredNode>, SdkError> {
        if model_id.is_empty() || model_id.len() > fabstir_protocol::messages::MAX_MODEL_ID_LEN {
            return Err(SdkError::argument(
                "modelId",
                format!(
                    "must be 1 to {} bytes, got {}",
                    fabstir_protocol::messages::MAX_MODEL_ID_LEN,
                    model_id.len()
                ),
            ));
        }
        let ttl = self.config.discovery_cache_ttl.as_secs_f64() * 1000.0;
        if !refresh {
            if let Some(nodes) = self.cache().get(model_id, rt::now_ms(), ttl) {
                return Ok(nodes);
            }
        }
        let turn = {
            let mut lookups = self
                .lookups
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if lookups.len() > 256 {
                lookups.retain(|_, m| Arc::strong_count(m) > 1);
            }
            lookups.entry(model_id.to_string()).or_default().clone()
        };
        let started = rt::now_ms();
        let _turn = turn.lock().await;
        // Someone else looked while we waited: their answer is ours.
        if let Some((nodes, at)) = self.cache().get_with_time(model_id, rt::now_ms(), ttl) {
            if !refresh || at >= started {
                return Ok(nodes);
            }
        }
        let key = fabstir_protocol::messages::provider_key(model_id);
        let limit = self.config.request_timeout;
        let lookup = self.request(|reply| Command::FindProviders { key, reply });
        let providers = match rt::timeout(limit, lookup).await {
            Some(result) => result??,
            None => {
                return Err(SdkError::Timeout {
                    operation: format!("DHT lookup of {model_id}"),
                    after_ms: limit.as_millis() as u64,
                })
            }
        };
        self.debug("discovery", "info", || {
            format!(
                "the DHT lists {} provider(s) of {model_id}",
                providers.len()
            )
        });
        // An answer without a blacklisted host is not cached: the host may half-open before the
        // cache would expire.
        let now = rt::now_ms();
        let cacheable = providers.iter().all(|p| self.registry().usable(p, now));
        let admitted = futures::future::join_all(
            providers
                .into_iter()
                .map(|peer| async move { self.admits(peer).await.then_some(peer) }),
        )
        .await;
        let probes = admitted
            .into_iter()
            .flatten()
            .take(MAX_PROBES)
            .map(|peer| async move {
                let probed = self.probe(peer, model_id).await;
                if let Err(e) = &probed {
                    self.debug("discovery", "warn", || {
                        format!("provider {peer} did not qualify: {e}")
                    });
                }
                probed.ok()
            });
        let nodes: Vec<DiscoveredNode> = futures::future::join_all(probes)
            .await
            .into_iter()
            .flatten()
            .collect();
        for node in &nodes {
            self.emit(SdkEvent::NodeDiscovered {
                model_id: model_id.to_string(),
                node: node.clone(),
            });
        }
        // "No host" is not cached: one may come (back) any moment, and a retry should see it.
        if cacheable && !nodes.is_empty() {
            self.cache().put(model_id, rt::now_ms(), nodes.clone());
        }
        Ok(nodes)
    }

    /// Connects to a provider, reads its node info and measures its round trip.
    async fn probe(&self, peer: PeerId, model_id: &str) -> Result<DiscoveredNode, SdkError> {
        // A provider named a moment ago may be unreachable for a moment (a relayed host between
        // two reservations, a dial that lost a race): one more try before it is left out.
        if let Err(first) = self.connect(peer).await {
            if matches!(first, SdkError::CircuitOpen { .. }) {
                return Err(first);
            }
            self.debug("discovery", "info", || {
                format!("provider {peer} unreachable ({first}); trying once more")
            });
            rt::sleep(PROBE_RETRY_AFTER).await;
            self.connect(peer).await?;
        }
        let info = self.node_info(peer).await?;
        let Some(model) = info.models.iter().find(|m| m.id == model_id) else {
            return Err(SdkError::NoNodesAvailable {
                model_id: model_id.into(),
                reason: format!("{peer} no longer serves it"),
            });
        };
        let latency = self.ping(peer).await?;
        let peer_text = peer.to_string();
        let multiaddrs = self
            .connected_peers()
            .await?
            .into_iter()
            .filter(|p| p.peer_id == peer_text)
            .map(|p| {
                if p.address.ends_with(&peer_text) {
                    p.address
                } else {
                    format!("{}/p2p/{peer_text}", p.address)
                }
            })
            .collect();
        Ok(DiscoveredNode {
            peer_id: peer_text,
            multiaddrs,
            capabilities: Capabilities {
                models: info.models.iter().map(|m| m.id.clone()).collect(),
                max_tokens: model.max_tokens,
                price_per_token: model.price_per_token,
                compute_type: info.compute_type.clone(),
                max_concurrent_jobs: info.max_concurrent_jobs,
                current_load: info.current_load,
                backend: model.backend,
            },
            latency,
            reputation: 0.5,
            last_seen: rt::now_ms(),
        })
    }

    /// Finds hosts of the model, asks up to [`crate::negotiation::MAX_CANDIDATES`] of them for
    /// offers at once and starts the job on the cheapest acceptable one. Emits `job:negotiated`.
    pub async fn submit_job(&self, spec: &JobSpec) -> Result<Negotiated, SdkError> {
        self.submit_job_excluding(spec, &[]).await
    }

    /// [`Client::submit_job`] without the hosts in `exclude`.
    pub async fn submit_job_excluding(
        &self,
        spec: &JobSpec,
        exclude: &[PeerId],
    ) -> Result<Negotiated, SdkError> {
        let request = spec.request()?;
        let nodes = self.hosts_of(&spec.model_id, false).await?;
        if nodes.is_empty() {
            return Err(SdkError::NoNodesAvailable {
                model_id: spec.model_id.clone(),
                reason: "no usable host advertises it in the DHT (blacklisted hosts and hosts \
                         the security settings refuse are left out)"
                    .into(),
            });
        }
        // A cached host may have gone: reconnect to the best few at once and ask those that answer.
        let options = DiscoverOptions {
            exclude_nodes: exclude.iter().map(|p| p.to_string()).collect(),
            ..DiscoverOptions::default()
        };
        let best: Vec<DiscoveredNode> = crate::discovery::select(nodes, &options, |_| 0.5)
            .into_iter()
            .take(crate::negotiation::MAX_CANDIDATES)
            .collect();
        let reachable = futures::future::join_all(best.into_iter().map(|node| async move {
            let peer = node.peer_id.parse::<PeerId>().ok()?;
            if !self.admits(peer).await {
                return None;
            }
            if let Err(e) = self.connect(peer).await {
                self.debug("negotiation", "warn", || {
                    format!("{peer} is unreachable: {e}")
                });
                self.record_host_failure(peer);
                return None;
            }
            Some(Candidate {
                peer,
                reliability: self.registry().reputation(&node.peer_id, rt::now_ms()),
                latency: node.latency,
                advertised_price: node.capabilities.price_per_token,
            })
        }))
        .await;
        let candidates: Vec<Candidate> = reachable.into_iter().flatten().collect();
        if candidates.is_empty() {
            return Err(SdkError::NoNodesAvailable {
                model_id: spec.model_id.clone(),
                reason: "no host that advertises it could be reached".into(),
            });
        }
        self.debug("negotiation", "info", || {
            let peers: Vec<String> = candidates.iter().map(|c| c.peer.to_string()).collect();
            format!(
                "asking {} host(s) for offers: {}",
                peers.len(),
                peers.join(", ")
            )
        });
        let negotiated = crate::negotiation::negotiate(
            &self.control,
            candidates,
            request,
            spec.max_price,
            self.config.request_timeout,
        )
        .await
        .inspect_err(|e| {
            self.debug("negotiation", "warn", || format!("negotiation failed: {e}"))
        })?;
        self.debug("negotiation", "info", || {
            format!(
                "job {} accepted by {} at {} per token ({} offer(s) from {} host(s))",
                negotiated.job_id,
                negotiated.node_id,
                negotiated.price_per_token,
                negotiated.offers,
                negotiated.candidates
            )
        });
        let node: PeerId = negotiated
            .node_id
            .parse()
            .map_err(|e| SdkError::Internal(format!("negotiated with a bad peer id: {e}")))?;
        self.registry().add(
            &negotiated.job_id,
            JobRecord {
                node,
                price_per_token: negotiated.price_per_token,
                received: 0,
                max_tokens: spec.max_tokens,
            },
        );
        self.emit(SdkEvent::JobNegotiated {
            job_id: negotiated.job_id.clone(),
            node_id: negotiated.node_id.clone(),
            price_per_token: negotiated.price_per_token,
            candidates: negotiated.candidates,
            offers: negotiated.offers,
        });
        Ok(negotiated)
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

    /// Opens the token stream of one of our jobs from `resume_from` (default: the tokens
    /// received so far), reconnecting to its host when needed.
    pub async fn open_stream(
        &self,
        job_id: &str,
        resume_from: Option<u64>,
    ) -> Result<(TokenReader, Canceller, JobRecord), SdkError> {
        let record = self.job(job_id)?;
        self.connect(record.node).await?;
        let from = resume_from.unwrap_or(record.received);
        let control = self.control.clone();
        let limit = self.config.request_timeout;
        let opening = crate::dropped::retry_unanswered(|| {
            let mut control = control.clone();
            let record = record.clone();
            async move {
                crate::stream::open(
                    &mut control,
                    record.node,
                    job_id,
                    from,
                    u64::from(record.max_tokens),
                    self.config.stream_stall_timeout,
                )
                .await
            }
        });
        let (reader, canceller) =
            rt::timeout(limit, opening)
                .await
                .unwrap_or(Err(SdkError::Timeout {
                    operation: format!("open the stream of job {job_id}"),
                    after_ms: limit.as_millis() as u64,
                }))?;
        Ok((reader, canceller, record))
    }

    /// Notes how far a stream of `job_id` got (for `resumeResponseStream`'s default).
    pub fn record_progress(&self, job_id: &str, next_index: u64) {
        self.registry().progress(job_id, next_index);
    }

    /// Notes how a job stream went (totals, averages, and the host's reputation).
    pub fn record_stream(&self, summary: &crate::jobs::StreamSummary) {
        let change = self.registry().stream_ended(summary, rt::now_ms());
        self.on_reliability_change(summary.node, change);
    }

    /// Records a failed attempt to use `node` for a job (unreachable, refused to stream).
    pub fn record_host_failure(&self, node: PeerId) {
        let change = self.registry().outcome(node, false, None, rt::now_ms());
        self.on_reliability_change(node, change);
    }

    fn on_reliability_change(&self, node: PeerId, change: crate::reliability::Change) {
        use crate::reliability::Change;
        match change {
            Change::Opened(until) => {
                let report = self.node_reliability(node);
                self.debug("reliability", "warn", || {
                    format!(
                        "{node} is blacklisted until {until} after {} failure(s) in a row",
                        report.failed_jobs
                    )
                });
                self.emit(SdkEvent::NodeBlacklisted {
                    peer_id: node.to_string(),
                    until,
                    failed_jobs: report.failed_jobs,
                });
            }
            Change::Closed => self.debug("reliability", "info", || {
                format!("{node} succeeded again; its circuit is closed")
            }),
            Change::None => {}
        }
    }

    /// How reliable `node` has been for this SDK (`getNodeReliability`).
    pub fn node_reliability(&self, node: PeerId) -> crate::reliability::NodeReliability {
        self.registry().node_reliability(&node, rt::now_ms())
    }

    /// Totals over this SDK's job streams and the recent averages of time to first token (ms)
    /// and tokens per second.
    pub fn job_statistics(&self) -> (crate::jobs::JobTotals, Option<f64>, Option<f64>) {
        let registry = self.registry();
        let (ttft, rate) = registry.averages();
        (registry.totals(), ttft, rate)
    }

    /// Models with a discovery answer cached now.
    pub fn cached_models(&self) -> usize {
        self.cache().len()
    }

    /// Asks the DHT for the peers closest to a random key; how many answered.
    pub async fn dht_check(&self) -> Result<u32, SdkError> {
        let limit = self.config.request_timeout;
        let check = self.request(|reply| Command::DhtCheck { reply });
        match rt::timeout(limit, check).await {
            Some(result) => result?,
            None => Err(SdkError::Timeout {
                operation: "DHT lookup".into(),
                after_ms: limit.as_millis() as u64,
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ValidConfig {
        &self.config
    }

    /// Cancels one of our jobs when no stream of it is open: opens one and sends `cancel`,
    /// then reads until the host's end.
    pub async fn cancel_job(&self, job_id: &str) -> Result<(), SdkError> {
        let (mut reader, canceller, _) = self.open_stream(job_id, None).await?;
        canceller.cancel().await?;
        loop {
            if let crate::stream::StreamEvent::End(_) = reader.next().await? {
                return Ok(());
            }
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Round trip (median of 3 pings) and throughput to a connected node.
    pub async fn network_performance(
        &self,
        peer: PeerId,
        options: crate::perf::PerfOptions,
    ) -> Result<crate::perf::PerfReport, SdkError> {
        let mut pings = Vec::new();
        for _ in 0..3 {
            pings.push(self.ping(peer).await?);
        }
        let started = rt::now_ms();
        let (up_ms, down_ms) = self
            .with_connected_peer(peer, "performance test", |mut control| async move {
                crate::perf::transfer(&mut control, peer, options).await
            })
            .await?;
        Ok(crate::perf::PerfReport {
            peer_id: peer.to_string(),
            latency: crate::perf::median(&pings),
            pings,
            upload_bytes: options.upload_bytes,
            upload_mbps: crate::perf::mbps(options.upload_bytes, up_ms),
            download_bytes: options.download_bytes,
            download_mbps: crate::perf::mbps(options.download_bytes, down_ms),
            duration: rt::now_ms() - started,
        })
    }

    /// The connected peers.
    pub async fn connected_peers(&self) -> Result<Vec<PeerInfo>, SdkError> {
        self.request(|reply| Command::Peers { reply }).await
    }

    /// Our listen addresses (relay circuit addresses once reserved).
    pub async fn listen_addresses(&self) -> Result<Vec<String>, SdkError> {
        self.request(|reply| Command::ListenAddresses { reply })
            .await
    }

    /// Connection counters.
    pub async fn metrics(&self) -> Result<P2pMetrics, SdkError> {
        self.request(|reply| Command::Metrics { reply }).await
    }

    /// Closes every connection and ends the event loop.
    pub async fn stop(&self) -> Result<(), SdkError> {
        self.request(|reply| Command::Stop { reply }).await
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SdkError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .clone()
            .send(make(reply))
            .await
            .map_err(|_| SdkError::Stopped)?;
        answer.await.map_err(|_| SdkError::Stopped)
    }

    /// Emits `p2p:debug` when `subsystem` is enabled in the config; `message` is only built then.
    pub fn debug(
        &self,
        subsystem: &'static str,
        level: &'static str,
        message: impl FnOnce() -> String,
    ) {
        if let Some(event) = self.config.debug_event(subsystem, level, message) {
            self.emit(event);
        }
    }

    /// Sends an event to the page's listeners (dropped, not blocking, when the page lags).
    pub fn emit(&self, event: SdkEvent) {
        let _ = self.events.clone().try_send(event);
    }
}

fn mdns_status(enabled: bool) -> FeatureStatus {
    let reason = cfg!(target_arch = "wasm32")
        .then(|| "a browser cannot send or receive multicast".to_string());
    FeatureStatus {
        enabled,
        available: reason.is_none(),
        reason,
    }
}
