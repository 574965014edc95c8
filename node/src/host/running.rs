//! Running jobs: the task that drives a job's generation and counts it, and bringing back at a
//! start the jobs the database kept (ended ones to stream again; ones a stop cut short continued
//! on their backend from their stored text, as a failover continuation is).

use std::sync::Arc;
use std::time::Duration;

use fabstir_protocol::messages::{Continuation, JobRequest, StreamFrame};
use futures::stream::BoxStream;
use libp2p::PeerId;

use super::{job, Host, Job, Slot};
use crate::backend::{BackendError, Generation, Piece};
use crate::store::{JobRow, Op, StoredJob};

impl Host {
    /// The job's database row, when the host keeps a database.
    pub(super) fn job_row(&self, job: &Job, request: &JobRequest) -> Option<JobRow> {
        self.inner.store.as_ref()?;
        let t = &job.terms;
        Some(JobRow {
            id: job.id.clone(),
            owner: job.owner.to_string(),
            model_id: job.model_id.clone(),
            request: serde_json::to_string(request).unwrap_or_default(),
            price_per_token: t.price_per_token,
            price_per_prompt_token: t.price_per_prompt_token,
            request_sha256: t.request_sha256.clone(),
            prompt_estimate: t.prompt_estimate,
            started_at: job.started_at,
        })
    }

    /// Runs `job` on `tokens` in its own task (recording `row` first), counting what it does;
    /// `slot` is freed when it ends.
    pub(super) fn spawn_run(
        &self,
        job: Arc<Job>,
        tokens: BoxStream<'static, Result<Piece, BackendError>>,
        max_tokens: u32,
        row: Option<JobRow>,
        slot: Option<Slot>,
    ) {
        let host = self.clone();
        let h = &self.inner.config.host;
        let limits = job::RunLimits {
            ahead: u64::from(h.max_tokens_ahead),
            open_within: Duration::from_secs(h.stream_open_secs),
            grace: Duration::from_secs(h.client_grace_secs),
            max_duration: Duration::from_secs(h.max_job_secs),
        };
        tokio::spawn(async move {
            if let (Some(store), Some(row)) = (&host.inner.store, row) {
                store.write(Op::Job(row)).await;
            }
            let metrics = &host.inner.metrics;
            let on_token = |n, since_start: Duration| {
                metrics.tokens.inc();
                if n == 1 {
                    metrics
                        .time_to_first_token
                        .observe(since_start.as_secs_f64());
                }
            };
            let on_receipt = |r: &crate::store::ReceiptRow| {
                metrics.receipted(&r.model_id, r.completion_tokens, r.cost)
            };
            let outcome = job.run(tokens, max_tokens, limits, on_token, on_receipt);
            metrics.job(outcome.await.name());
            drop(slot);
        });
    }

    /// Brings back the jobs read from the database; returns how many were running (and now
    /// continue). A record that cannot be read back is logged and left out.
    pub fn restore(&self, stored: Vec<StoredJob>) -> usize {
        let Some(store) = self.inner.store.clone() else {
            return 0;
        };
        let mut continued = 0;
        for s in stored {
            let id = s.row.id.clone();
            let (Ok(owner), Ok(request)) = (
                s.row.owner.parse::<PeerId>(),
                serde_json::from_str::<JobRequest>(&s.row.request),
            ) else {
                tracing::warn!(job = %id, "a stored job cannot be read back; left out");
                continue;
            };
            let end = match (&s.end_frame, s.ended_at) {
                (Some(frame), Some(at)) => match serde_json::from_str::<StreamFrame>(frame) {
                    Ok(frame) => Some((frame, at)),
                    Err(_) => continue,
                },
                _ => None,
            };
            let running = end.is_none();
            let text: String = s.tokens.iter().map(|(t, _)| t.as_str()).collect();
            let generated = s.tokens.len() as u64;
            let terms = job::Terms {
                price_per_token: s.row.price_per_token,
                price_per_prompt_token: s.row.price_per_prompt_token,
                request_sha256: s.row.request_sha256.clone(),
                prompt_estimate: s.row.prompt_estimate,
            };
            let job = Arc::new(Job::restored(
                id.clone(),
                owner,
                s.row.model_id.clone(),
                terms,
                self.inner.key.clone(),
                store.clone(),
                s.row.started_at,
                s.tokens,
                end,
            ));
            self.state().jobs.insert(id.clone(), job.clone());
            if running {
                continued += 1;
                tracing::info!(job = %id, tokens = generated, "a job a stop cut short waits for its client");
                let tokens = self.continuation_when_read(job.clone(), request.clone(), text);
                self.spawn_run(job, tokens, request.max_tokens, None, None);
            }
        }
        continued
    }

    /// The rest of a cut job, generated only once a client reads it again: until then it holds
    /// no slot and asks nothing of the backend (its client may have failed over elsewhere; the
    /// job then ends `ABANDONED` after the grace, with a receipt for what was sent).
    fn continuation_when_read(
        &self,
        job: Arc<Job>,
        request: JobRequest,
        text: String,
    ) -> BoxStream<'static, Result<Piece, BackendError>> {
        use futures::StreamExt;
        let host = self.clone();
        let resumed = async move {
            job.attended().await;
            let slot = host
                .inner
                .models
                .get(&request.model_id)
                .and_then(|m| host.take_slot(job.owner, (m.index, m.parallel)).ok());
            let generated = job.snapshot(0, 0).total;
            // The slot is held for as long as the rest is generated.
            host.continuation(&request, text, generated)
                .map(move |piece| {
                    let _held = &slot;
                    piece
                })
                .boxed()
        };
        futures::stream::once(resumed).flatten().boxed()
    }

    /// What the backend of `request`'s model generates after `text` (`generated` tokens of the
    /// job): the rest of its tokens, or an error when the model is no longer served.
    fn continuation(
        &self,
        request: &JobRequest,
        text: String,
        generated: u64,
    ) -> BoxStream<'static, Result<Piece, BackendError>> {
        use futures::StreamExt;
        let Some(model) = self.inner.models.get(&request.model_id) else {
            let error = BackendError::new(format!(
                "the host no longer serves {} after its restart",
                request.model_id
            ));
            return futures::stream::once(async move { Err(error) }).boxed();
        };
        let (mut before, mut before_tokens) = request
            .continuation
            .as_ref()
            .map(|c| (c.text.clone(), c.tokens))
            .unwrap_or_default();
        before.push_str(&text);
        before_tokens += generated;
        let rest = JobRequest {
            max_tokens: request
                .max_tokens
                .saturating_sub(u32::try_from(generated).unwrap_or(u32::MAX)),
            continuation: Some(Continuation {
                text: before,
                tokens: before_tokens,
            }),
            ..request.clone()
        };
        if rest.max_tokens == 0 {
            return futures::stream::empty().boxed();
        }
        model.backend.generate(Generation::of(&rest))
    }
}
