//! The LLM host role: offers, running jobs on backends, keeping their tokens for resumes, and
//! serving the job and stream protocols.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fabstir_protocol::messages::{HostStats, JobRequest, NodeInfo, RejectReason};
use libp2p::PeerId;

use crate::backend::{self, Backend, Generation};
use crate::config::{LoadedConfig, NodeConfig};
use crate::error::NodeError;
use crate::metrics::HostMetrics;

pub mod addresses;
pub mod job;
pub mod job_protocol;
pub mod limits;
mod offer;
mod pending;
mod running;
pub mod slots;
pub mod stream_protocol;

pub use job::{Job, Reader};
pub use slots::{Offer, Slot};

/// How long a client may take to send a stream's first frame (its job or stream request).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a stream's first frame within [`REQUEST_TIMEOUT`]. `Ok(None)`: the client closed the
/// stream at once; `Ok(Some(Err(_)))`: a bad frame, which the caller answers; `Err`: nothing came
/// in time.
pub(crate) async fn read_request<R, M>(
    reader: &mut R,
    what: &str,
) -> std::io::Result<Option<Result<M, fabstir_protocol::frame::FrameError>>>
where
    R: futures::AsyncRead + Unpin,
    M: serde::de::DeserializeOwned,
{
    let payload = read_request_payload(reader, what).await?;
    Ok(payload.map(|p| p.and_then(|p| fabstir_protocol::frame::decode(&p))))
}

/// [`read_request`]'s frame, undecoded.
pub(crate) async fn read_request_payload<R>(
    reader: &mut R,
    what: &str,
) -> std::io::Result<Option<Result<Vec<u8>, fabstir_protocol::frame::FrameError>>>
where
    R: futures::AsyncRead + Unpin,
{
    let read = fabstir_protocol::frame::read_payload(reader);
    match tokio::time::timeout(REQUEST_TIMEOUT, read).await {
        Ok(Ok(Some(m))) => Ok(Some(Ok(m))),
        Ok(Ok(None)) => Ok(None),
        Ok(Err(e)) => Ok(Some(Err(e))),
        Err(_) => Err(std::io::Error::other(format!(
            "no {what} within {} s",
            REQUEST_TIMEOUT.as_secs()
        ))),
    }
}

/// A served model and its backend.
struct Model {
    /// Its place in the config (the key of its slots in `State::per_model`).
    index: usize,
    price_per_token: u64,
    price_per_prompt_token: u64,
    max_tokens: u32,
    /// Generations its backend runs at once, when bounded.
    parallel: Option<u32>,
    backend: Arc<dyn Backend>,
}

/// The host's shared state; cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

struct Inner {
    config: NodeConfig,
    models: HashMap<String, Model>,
    offer_ttl: Duration,
    offer_hold: Duration,
    /// Offers not yet settled (see `pending.rs`).
    pending: Arc<pending::PendingOffers>,
    retention: Duration,
    state: Mutex<State>,
    metrics: HostMetrics,
    /// The node's identity key: it signs every job's receipt.
    key: libp2p::identity::Keypair,
    /// Where jobs and receipts are recorded (none: a node that hosts nothing).
    store: Option<crate::store::Store>,
}

#[derive(Default)]
struct State {
    /// Jobs running plus slots held by fresh offers.
    slots_used: u32,
    jobs: HashMap<String, Arc<Job>>,
    /// Slots held per peer (of `jobs_per_peer()`).
    per_peer: limits::PerPeer,
    /// Slots held per IP address of direct peers (of `jobs_per_ip()`).
    per_ip: limits::Held<std::net::IpAddr>,
    /// Slots held per model (of its backend's `parallel`), by the model's index.
    per_model: limits::Held<usize>,
    /// Where each peer is connected from.
    addresses: addresses::Addresses,
    /// Offer requests per peer (`request_rate`).
    requests: limits::RequestRate,
    /// The node shuts down: no new offers or jobs.
    draining: bool,
}

impl Host {
    /// Builds the backends of every configured model; counts into `metrics`; signs receipts
    /// with `key` (the node's identity); records jobs in `store`.
    pub fn new(
        config: &LoadedConfig,
        metrics: HostMetrics,
        key: libp2p::identity::Keypair,
        store: Option<crate::store::Store>,
    ) -> Result<Host, NodeError> {
        let mut models = HashMap::new();
        for (i, m) in config.raw.host.models.iter().enumerate() {
            let field = format!("host.models[{i}].backend");
            models.insert(
                m.id.clone(),
                Model {
                    index: i,
                    price_per_token: m.price_per_token,
                    price_per_prompt_token: m.price_per_prompt_token,
                    max_tokens: m.max_tokens,
                    parallel: m.backend.parallel(),
                    backend: backend::build(&m.backend, &field)?,
                },
            );
        }
        let h = &config.raw.host;
        Ok(Host {
            inner: Arc::new(Inner {
                config: config.raw.clone(),
                models,
                offer_ttl: Duration::from_secs(h.offer_ttl_secs),
                offer_hold: Duration::from_secs(h.offer_hold_secs),
                pending: Arc::default(),
                retention: Duration::from_secs(h.token_retention_secs),
                state: Mutex::new(State::default()),
                metrics,
                key,
                store,
            }),
        })
    }

    /// The jobs one peer may run here at once.
    pub fn jobs_per_peer(&self) -> u32 {
        self.inner.config.host.jobs_per_peer()
    }

    /// Notes a new connection of `peer` from `remote`, for the per-IP share of slots.
    pub fn connected(
        &self,
        peer: PeerId,
        connection: libp2p::swarm::ConnectionId,
        remote: &libp2p::Multiaddr,
    ) {
        self.state().addresses.connected(peer, connection, remote);
    }

    /// Forgets a closed connection (slots already held keep counting against their address).
    pub fn disconnected(&self, peer: PeerId, connection: libp2p::swarm::ConnectionId) {
        self.state().addresses.closed(&peer, connection);
    }

    /// The jobs the direct peers of one IP address may run here at once.
    pub fn jobs_per_ip(&self) -> u32 {
        self.inner.config.host.jobs_per_ip()
    }

    /// The IP address `peer` is connected from directly (`None` through a relay circuit).
    pub fn ip_of(&self, peer: &PeerId) -> Option<std::net::IpAddr> {
        self.state().addresses.ip_of(peer)
    }

    /// The node's identity key (it signs receipts).
    pub fn key(&self) -> &libp2p::identity::Keypair {
        &self.inner.key
    }

    /// The host's counters.
    pub fn metrics(&self) -> &HostMetrics {
        &self.inner.metrics
    }

    /// Whether any model is served.
    pub fn serves_models(&self) -> bool {
        !self.inner.models.is_empty()
    }

    /// The model ids served.
    pub fn model_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inner.models.keys().cloned().collect();
        ids.sort();
        ids
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters inconsistent in a way that
        // matters more than stopping to serve, so a poisoned lock is used as is.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the info protocol reports now.
    pub fn info(&self) -> NodeInfo {
        let m = &self.inner.metrics;
        let stats = HostStats {
            jobs_started: m.jobs_with("started"),
            jobs_completed: m.jobs_with("completed"),
            jobs_cancelled: m.jobs_with("cancelled"),
            jobs_failed: m.jobs_with("failed"),
            tokens_generated: m.tokens.get(),
        };
        self.inner.config.node_info(self.state().slots_used, stats)
    }

    /// Checks `request` from `peer` and makes an offer holding a slot (refused `busy` or
    /// `peer_limit` when none is free for it now); or says why not.
    pub fn offer(
        &self,
        peer: PeerId,
        request: JobRequest,
    ) -> Result<Offer, (RejectReason, String)> {
        let offer = self.make_offer(peer, request);
        if let Err((reason, _)) = &offer {
            self.count_rejection(*reason);
        }
        offer
    }

    /// How long an offer stays open.
    pub fn offer_ttl(&self) -> Duration {
        self.inner.offer_ttl
    }

    /// How long a new offer holds its slot.
    pub fn offer_hold(&self) -> Duration {
        self.inner.offer_hold
    }

    /// Starts an accepted offer's job; fails with `invalid_request` when the offer has expired
    /// (as an accept after the offer's lifetime does), `unsupported_model` when the model went,
    /// `busy` or `peer_limit` when no slot is free now.
    pub fn start(&self, offer: Offer) -> Result<Arc<Job>, (RejectReason, String)> {
        let started = self.start_job(offer);
        if let Err((reason, _)) = &started {
            self.count_rejection(*reason);
        }
        started
    }

    fn start_job(&self, mut offer: Offer) -> Result<Arc<Job>, (RejectReason, String)> {
        self.refuse_while_draining()?;
        if unix_ms() > offer.expires_at {
            return Err((RejectReason::InvalidRequest, "the offer expired".into()));
        }
        let Some(model) = self.inner.models.get(&offer.request.model_id) else {
            return Err((
                RejectReason::UnsupportedModel,
                "the model is no longer served".into(),
            ));
        };
        let slot = match offer.hold.take() {
            Some(held) => held,
            None => self.take_slot(offer.peer, (model.index, model.parallel))?,
        };
        let r = &offer.request;
        let generation = Generation::of(r);
        let terms = job::Terms {
            price_per_token: offer.price_per_token,
            price_per_prompt_token: offer.price_per_prompt_token,
            request_sha256: std::mem::take(&mut offer.request_sha256),
            prompt_estimate: fabstir_protocol::chat::estimate_prompt_tokens(
                &generation.to_continue(),
            ),
        };
        let job = Arc::new(Job::new(
            offer.job_id.clone(),
            offer.peer,
            r.model_id.clone(),
            terms,
            self.inner.key.clone(),
            self.inner.store.clone(),
        ));
        self.state().jobs.insert(job.id.clone(), job.clone());
        self.inner.metrics.job("started");
        let row = self.job_row(&job, r);
        let tokens = model.backend.generate(generation);
        self.spawn_run(job.clone(), tokens, r.max_tokens, row, Some(slot));
        Ok(job)
    }

    /// The job `job_id` if it exists and belongs to `peer` (others' jobs are invisible).
    pub fn job(&self, job_id: &str, peer: &PeerId) -> Option<Arc<Job>> {
        self.state()
            .jobs
            .get(job_id)
            .filter(|j| j.owner == *peer)
            .cloned()
    }

    /// Takes no new offers or jobs from now on (`busy`, saying the host shuts down); running jobs
    /// go on.
    pub fn drain(&self) {
        self.state().draining = true;
    }

    /// Whether the host is draining.
    pub fn draining(&self) -> bool {
        self.state().draining
    }

    /// `busy`, saying why, once the host is draining (for new offers and jobs alike).
    fn refuse_while_draining(&self) -> Result<(), (RejectReason, String)> {
        if self.draining() {
            return Err((RejectReason::Busy, "the host is shutting down".into()));
        }
        Ok(())
    }

    /// Jobs still running.
    pub fn running(&self) -> usize {
        self.state().jobs.values().filter(|j| !j.ended()).count()
    }

    /// Ends every running job with the recoverable error `SHUTTING_DOWN` (its client fails
    /// over); returns how many.
    pub fn shut_down_running(&self) -> usize {
        let running: Vec<Arc<Job>> = self
            .state()
            .jobs
            .values()
            .filter(|j| !j.ended())
            .cloned()
            .collect();
        for job in &running {
            job.shut_down();
        }
        running.len()
    }

    /// Forgets jobs that ended more than the retention time ago; run it periodically.
    pub fn sweep(&self) {
        let retention = self.inner.retention;
        self.state().jobs.retain(|_, j| !j.ended_before(retention));
        if let Some(store) = &self.inner.store {
            let ended_before = unix_ms().saturating_sub(retention.as_millis() as u64);
            store.try_write(crate::store::Op::Sweep { ended_before });
        }
    }

    /// Jobs kept (running or retained).
    pub fn jobs_kept(&self) -> usize {
        self.state().jobs.len()
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fabstir_protocol::messages::StreamFrame;

    fn host(max_jobs: u32, tokens_per_second: f64) -> Host {
        host_with(max_jobs, tokens_per_second, "")
    }

    fn host_with(max_jobs: u32, tokens_per_second: f64, extra: &str) -> Host {
        let text = format!(
            "host:\n{extra}  max_concurrent_jobs: {max_jobs}\n  offer_ttl_secs: 1\n  token_retention_secs: 1\n  models:\n    - {{ id: m, price_per_token: 3, max_tokens: 100, backend: {{ kind: demo, seed: 5, tokens_per_second: {tokens_per_second} }} }}\n"
        );
        let config = crate::config::parse(std::path::Path::new("c.yaml"), &text).unwrap();
        Host::new(
            &config,
            HostMetrics::default(),
            libp2p::identity::Keypair::generate_ed25519(),
            None,
        )
        .unwrap()
    }

    fn request(max_tokens: u32, max_price: u64) -> JobRequest {
        JobRequest {
            model_id: "m".into(),
            prompt: "p".into(),
            max_tokens,
            temperature: 0.5,
            top_p: 1.0,
            max_price_per_token: max_price,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn offers_are_refused_with_the_right_reason() {
        let h = host(1, 10.0);
        let peer = PeerId::random();
        let reason = |r: JobRequest| h.offer(peer, r).err().map(|e| e.0);
        assert_eq!(reason(request(10, 2)), Some(RejectReason::PriceTooLow));
        assert_eq!(reason(request(101, 9)), Some(RejectReason::InvalidRequest));
        assert_eq!(reason(request(0, 9)), Some(RejectReason::InvalidRequest));
        let other = JobRequest {
            model_id: "x".into(),
            ..request(10, 9)
        };
        assert_eq!(reason(other), Some(RejectReason::UnsupportedModel));
        let first = h.offer(peer, request(10, 9)).unwrap();
        assert_eq!(first.price_per_token, 3);
        assert_eq!(h.info().current_load, 1, "a fresh offer holds a slot");
        assert_eq!(reason(request(10, 9)), Some(RejectReason::Busy));
        let mut first = first;
        first.release();
        assert_eq!(h.info().current_load, 0, "a released offer is a quote");
        let second = h.offer(PeerId::random(), request(10, 9)).unwrap();
        assert_eq!(
            h.start(first).err().map(|e| e.0),
            Some(RejectReason::Busy),
            "accepting a quote when full is busy at that moment"
        );
        let job = h.start(second).unwrap();
        assert_eq!(h.info().current_load, 1);
        job.cancel();
        wait_end(&job).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(h.offer(peer, request(10, 9)).is_ok(), "the slot came back");
    }

    #[tokio::test]
    async fn per_peer_limits_refuse_with_their_own_reasons() {
        let h = host_with(
            10,
            10.0,
            "  max_prompt_bytes: 8\n  max_jobs_per_peer: 2\n  request_rate: { burst: 4, refill_secs: 60 }\n",
        );
        let (peer, other) = (PeerId::random(), PeerId::random());
        let long = JobRequest {
            prompt: "123456789".into(),
            ..request(10, 9)
        };
        assert_eq!(
            h.offer(peer, long).err().map(|e| e.0),
            Some(RejectReason::PromptTooLarge)
        );
        let _a = h.start(h.offer(peer, request(10, 9)).unwrap()).unwrap();
        let _b = h.start(h.offer(peer, request(10, 9)).unwrap()).unwrap();
        assert_eq!(
            h.offer(peer, request(10, 9)).err().map(|e| e.0),
            Some(RejectReason::PeerLimit)
        );
        assert!(
            h.offer(other, request(10, 9)).is_ok(),
            "another peer is not limited"
        );
        assert_eq!(
            h.offer(peer, request(10, 9)).err().map(|e| e.0),
            Some(RejectReason::RateLimited),
            "five requests in a row from one peer"
        );
    }

    #[tokio::test]
    async fn by_default_one_peer_gets_half_the_slots() {
        let h = host(5, 10.0);
        let (peer, other) = (PeerId::random(), PeerId::random());
        let mine: Vec<_> = (0..2)
            .map(|_| h.start(h.offer(peer, request(10, 9)).unwrap()).unwrap())
            .collect();
        assert_eq!(
            h.offer(peer, request(10, 9)).err().map(|e| e.0),
            Some(RejectReason::PeerLimit),
            "5 / 2 = 2 jobs per peer"
        );
        assert!(h.start(h.offer(other, request(10, 9)).unwrap()).is_ok());
        assert_eq!(mine.len(), 2);
        assert_eq!(host(1, 0.0).inner.config.host.jobs_per_peer(), 1);
    }

    async fn wait_end(job: &Job) -> StreamFrame {
        let mut changed = job.subscribe();
        loop {
            if let Some(end) = job.snapshot(0, 0).end {
                return end;
            }
            changed.changed().await.unwrap();
        }
    }

    #[tokio::test]
    async fn generation_waits_for_its_reader() {
        let h = host_with(2, 0.0, "  max_tokens_ahead: 5\n");
        let job = h
            .start(h.offer(PeerId::random(), request(40, 9)).unwrap())
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(job.snapshot(0, 0).total, 5, "at most 5 ahead of nobody");
        let reader = job.attach();
        reader.delivered(5);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(job.snapshot(0, 0).total, 10, "5 ahead of what was read");
        reader.delivered(40);
        assert!(matches!(
            wait_end(&job).await,
            StreamFrame::End {
                total_tokens: 40,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_job_nobody_reads_is_stopped_and_frees_its_slot() {
        let h = host_with(1, 20.0, "  stream_open_secs: 1\n  client_grace_secs: 1\n");
        // No stream ever opens.
        let job = h
            .start(h.offer(PeerId::random(), request(100, 9)).unwrap())
            .unwrap();
        let end = wait_end(&job).await;
        assert!(
            matches!(&end, StreamFrame::Error { code, .. } if code == "ABANDONED"),
            "{end:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(h.info().current_load, 0);
        assert_eq!(h.inner.metrics.jobs_with("abandoned"), 1);

        // A reader that leaves and comes back within the grace keeps it; then it leaves for good.
        let job = h
            .start(h.offer(PeerId::random(), request(100, 9)).unwrap())
            .unwrap();
        let reader = job.attach();
        drop(reader);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let reader = job.attach();
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(job.snapshot(0, 0).end.is_none(), "back within the grace");
        drop(reader);
        let started = std::time::Instant::now();
        let end = wait_end(&job).await;
        assert!(matches!(&end, StreamFrame::Error { code, .. } if code == "ABANDONED"));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        let kept = job.snapshot(0, 1000).tokens.len();
        assert!(kept > 0, "the tokens made stay for a resume");
    }

    #[tokio::test]
    async fn a_job_ends_at_the_hosts_time_bound() {
        let h = host_with(1, 20.0, "  max_job_secs: 1\n");
        let job = h
            .start(h.offer(PeerId::random(), request(100, 9)).unwrap())
            .unwrap();
        let _reader = job.attach();
        match wait_end(&job).await {
            StreamFrame::End {
                total_tokens,
                finish_reason,
                ..
            } => {
                assert_eq!(
                    finish_reason,
                    fabstir_protocol::messages::FinishReason::Length
                );
                assert!(total_tokens < 100, "{total_tokens}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_job_runs_to_its_end_is_kept_then_forgotten_and_is_private() {
        let h = host(2, 0.0);
        let owner = PeerId::random();
        let job = h.start(h.offer(owner, request(40, 9)).unwrap()).unwrap();
        let mut changed = job.subscribe();
        while job.snapshot(0, 0).end.is_none() {
            changed.changed().await.unwrap();
        }
        let snap = job.snapshot(38, 10);
        assert_eq!(snap.total, 40);
        assert_eq!(snap.tokens.len(), 2);
        assert!(matches!(
            snap.tokens[0],
            StreamFrame::Token { index: 38, .. }
        ));
        assert!(matches!(
            snap.end,
            Some(StreamFrame::End {
                total_tokens: 40,
                finish_reason: fabstir_protocol::messages::FinishReason::Length,
                ..
            })
        ));
        let text: String = job
            .snapshot(0, 100)
            .tokens
            .into_iter()
            .map(|t| match t {
                StreamFrame::Token { content, .. } => content,
                _ => String::new(),
            })
            .collect();
        assert_eq!(text, fabstir_protocol::demo::demo_text(5, "p", 40));
        assert!(
            h.job(&job.id, &PeerId::random()).is_none(),
            "another peer cannot see it"
        );
        assert!(h.job(&job.id, &owner).is_some());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let stats = h.info().stats;
        assert_eq!(
            (
                stats.jobs_started,
                stats.jobs_completed,
                stats.tokens_generated
            ),
            (1, 1, 40)
        );
        assert_eq!(h.info().current_load, 0);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        h.sweep();
        assert_eq!(h.jobs_kept(), 0, "forgotten after the retention time");
    }

    #[tokio::test]
    async fn cancel_stops_generation_and_expired_offers_do_not_start() {
        let h = host(2, 100.0);
        let job = h
            .start(h.offer(PeerId::random(), request(100, 9)).unwrap())
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        job.cancel();
        let mut changed = job.subscribe();
        while job.snapshot(0, 0).end.is_none() {
            changed.changed().await.unwrap();
        }
        let generated = h.info().stats.tokens_generated;
        assert!(generated < 30, "{generated} tokens");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stats = h.info().stats;
        assert_eq!(
            stats.tokens_generated, generated,
            "nothing generated after cancel"
        );
        assert_eq!(stats.jobs_cancelled, 1);

        let offer = h.offer(PeerId::random(), request(10, 9)).unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(h.start(offer).is_err(), "the offer expired");
        assert_eq!(h.info().current_load, 0);
    }

    #[tokio::test]
    async fn a_stream_asked_for_before_the_accept_waits_for_the_offer_to_settle() {
        let h = host(2, 1000.0);
        let limit = Duration::from_secs(5);
        let peer = PeerId::random();
        // Accepted while the stream waits: the job.
        let offer = h.offer(peer, request(5, 9)).unwrap();
        let id = offer.job_id.clone();
        let waiting = tokio::spawn({
            let h = h.clone();
            let id = id.clone();
            async move { h.job_once_settled(&id, &peer, limit).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "it waits while the offer is open");
        h.start(offer).unwrap();
        let job = waiting.await.unwrap().expect("the job, once started");
        assert_eq!(job.id, id);
        // Declined (the offer dropped): no job, at once.
        let peer = PeerId::random();
        let offer = h.offer(peer, request(5, 9)).unwrap();
        let id = offer.job_id.clone();
        let waiting = tokio::spawn({
            let h = h.clone();
            async move { h.job_once_settled(&id, &peer, limit).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(offer);
        assert!(waiting.await.unwrap().is_none());
        // Another peer's offer is not waited for, nor is an unknown job.
        let peer = PeerId::random();
        let offer = h.offer(peer, request(5, 9)).unwrap();
        let started = std::time::Instant::now();
        assert!(h
            .job_once_settled(&offer.job_id, &PeerId::random(), limit)
            .await
            .is_none());
        assert!(h.job_once_settled("nope", &peer, limit).await.is_none());
        assert!(started.elapsed() < limit, "neither waited");
        // An offer nobody settles: the wait ends at its limit.
        let short = Duration::from_millis(100);
        assert!(h
            .job_once_settled(&offer.job_id, &peer, short)
            .await
            .is_none());
    }
}
