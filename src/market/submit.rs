//! Submitting a job: the hosts of its model (cached or looked up), the job started at once on the
//! best one with a free slot; if it does not start it, the next few reconnected at once, offers
//! asked of those that answer, and the cheapest acceptable one started.

use libp2p::PeerId;

use crate::error::SdkError;
use crate::events::{DiscoveredNode, SdkEvent};
use crate::market::discovery::DiscoverOptions;
use crate::market::jobs::JobRecord;
use crate::market::negotiation::{Candidate, JobSpec, Negotiated};
use crate::market::Market;
use crate::net::rt;

impl Market {
    /// Finds hosts of the model and starts the job on the best one (by price, then round trip)
    /// that its record says has a free slot; when that host does not start it, asks the next
    /// few (up to [`crate::market::negotiation::MAX_CANDIDATES`] in all) for offers at once and
    /// starts it on the cheapest acceptable one. Emits `job:negotiated`.
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
        let nodes = self
            .hosts_of(
                &spec.model_id,
                false,
                crate::market::discovery::Source::Auto,
                crate::market::lookup::Probe::UnlessCatalogued,
            )
            .await?;
        if nodes.is_empty() {
            return Err(SdkError::NoNodesAvailable {
                model_id: spec.model_id.clone(),
                reason: "no host of it in the catalogs or the DHT answered (hosts that refuse \
                         this page, blacklisted hosts and hosts the security settings refuse \
                         are left out)"
                    .into(),
            });
        }
        let nodes = fitting(nodes, &request)?;
        // A cached host may have gone: each host is connected to before it is asked, and one
        // that cannot be reached is left out (the best host alone first, the others at once).
        let options = DiscoverOptions {
            exclude_nodes: exclude
                .iter()
                .map(|p| p.to_string())
                .chain(spec.exclude_nodes.iter().cloned())
                .collect(),
            preferred_nodes: spec.preferred_nodes.clone(),
            ..DiscoverOptions::default()
        };
        let mut ranked: Vec<DiscoveredNode> =
            crate::market::discovery::select(nodes, &options, |_| 0.5)
                .into_iter()
                .take(crate::market::negotiation::MAX_CANDIDATES)
                .collect();
        // The best host whose record says it has a free slot at prices within the maxima is
        // asked to start the job at once: its record (signed by it, when from a catalog) already
        // says what an offer would. Comparing offers of several hosts costs a round trip more
        // and holds a slot on each, so the others are asked only if it does not start the job.
        let max_price = request.max_price_per_token;
        let max_prompt = request.max_prompt_price_per_token.unwrap_or(u64::MAX);
        let first = ranked
            .iter()
            .position(|n| {
                let c = &n.capabilities;
                c.price_per_token <= max_price
                    && c.price_per_prompt_token <= max_prompt
                    && c.current_load < c.max_concurrent_jobs
            })
            .map(|i| ranked.remove(i));
        // Why the last host that could not be reached was not: said when none could be.
        let unreachable = std::cell::Cell::new(None);
        let first = match first {
            Some(node) => self.candidate(node, &unreachable).await,
            None => None,
        };
        let others = |why: Option<String>| async {
            let reached = ranked
                .into_iter()
                .map(|node| self.candidate(node, &unreachable));
            let others: Vec<Candidate> = futures::future::join_all(reached)
                .await
                .into_iter()
                .flatten()
                .collect();
            self.net.debug("negotiation", "info", || {
                let peers: Vec<String> = others.iter().map(|c| c.peer.to_string()).collect();
                let why = why.map(|w| format!("not started on the best host: {w}; "));
                format!(
                    "{}asking {} host(s): {}",
                    why.unwrap_or_default(),
                    peers.len(),
                    peers.join(", ")
                )
            });
            others
        };
        let (negotiated, opened) = crate::market::negotiation::negotiate(
            &self.net.control(),
            first,
            others,
            &unreachable,
            request,
            self.net.config().request_timeout,
            self.net.config().stream_stall_timeout,
        )
        .await
        .inspect_err(|e| {
            self.net
                .debug("negotiation", "warn", || format!("negotiation failed: {e}"))
        })?;
        self.net.debug("negotiation", "info", || {
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
                price_per_prompt_token: negotiated.price_per_prompt_token,
                received: 0,
                max_tokens: spec.max_tokens,
                request_sha256: negotiated.request_sha256.clone(),
            },
        );
        if let Some(opened) = opened {
            self.keep_opened(&negotiated.job_id, opened);
        }
        self.net.emit(SdkEvent::JobNegotiated {
            job_id: negotiated.job_id.clone(),
            node_id: negotiated.node_id.clone(),
            price_per_token: negotiated.price_per_token,
            candidates: negotiated.candidates,
            offers: negotiated.offers,
        });
        Ok(negotiated)
    }

    /// `node` as a host to ask, once connected (`None`, a failure on its record and why in
    /// `unreachable`, when it cannot be reached; `None` when security refuses it).
    async fn candidate(
        &self,
        node: DiscoveredNode,
        unreachable: &std::cell::Cell<Option<String>>,
    ) -> Option<Candidate> {
        let peer = node.peer_id.parse::<PeerId>().ok()?;
        if !self.admits(peer).await {
            return None;
        }
        if let Err(e) = self.connect(peer).await {
            let why = format!("{peer} is unreachable: {e}");
            self.net.debug("negotiation", "warn", || why.clone());
            unreachable.set(Some(why));
            self.record_host_failure(peer);
            return None;
        }
        Some(Candidate {
            peer,
            reliability: self.registry().reputation(&node.peer_id, rt::now_ms()),
            latency: node.latency,
            advertised_price: node.capabilities.price_per_token,
            advertised_prompt_price: node.capabilities.price_per_prompt_token,
        })
    }
}

/// The hosts whose model context can hold the conversation: at least
/// `fabstir_protocol::chat::estimate_prompt_tokens` tokens (a lower bound: every word is at
/// least one token, every message a few more). `PROMPT_TOO_LONG` when none can.
fn fitting(
    nodes: Vec<DiscoveredNode>,
    request: &fabstir_protocol::messages::JobRequest,
) -> Result<Vec<DiscoveredNode>, SdkError> {
    let least = fabstir_protocol::chat::estimate_prompt_tokens(&request.conversation_to_continue());
    // A host that announces no context is not ruled out.
    let context = |n: &DiscoveredNode| n.capabilities.context_tokens.map_or(u64::MAX, u64::from);
    let largest = nodes.iter().map(context).max().unwrap_or(u64::MAX);
    if least > largest {
        return Err(SdkError::PromptTooLong {
            message: format!(
                "the conversation is at least {least} tokens; the largest context any host of \
                 {} announces is {largest}",
                request.model_id
            ),
        });
    }
    Ok(nodes.into_iter().filter(|n| context(n) >= least).collect())
}
