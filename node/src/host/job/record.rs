//! A job's record in the host's database (issue 14): each token and the end are written before
//! any reader sees them, and a job read back after a restart is rebuilt from it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use fabstir_protocol::messages::StreamFrame;
use tokio::sync::watch;

use super::{Job, Outcome};
use crate::store::{Op, Persisted, ReceiptRow, Store};

/// Where a job is recorded, and how far its record has got.
pub(super) struct Record {
    pub(super) store: Store,
    pub(super) durable: Arc<Durable>,
}

/// How much of a job is stored; readers see no further.
pub(crate) struct Durable {
    tokens: AtomicU64,
    end: AtomicBool,
    changed: Arc<watch::Sender<u64>>,
}

impl Persisted for Durable {
    fn tokens_stored(&self, count: u64) {
        self.tokens.fetch_max(count, Ordering::AcqRel);
        self.changed.send_modify(|v| *v += 1);
    }

    fn end_stored(&self) {
        self.end.store(true, Ordering::Release);
        self.changed.send_modify(|v| *v += 1);
    }
}

impl Record {
    /// A record over `store`, with `tokens` (and the end, when `ended`) already stored.
    pub(super) fn new(
        store: Store,
        changed: Arc<watch::Sender<u64>>,
        tokens: u64,
        ended: bool,
    ) -> Self {
        Record {
            store,
            durable: Arc::new(Durable {
                tokens: AtomicU64::new(tokens),
                end: AtomicBool::new(ended),
                changed,
            }),
        }
    }

    /// The tokens readers may see of `total`, and whether they may see the end.
    pub(super) fn visible(&self, total: u64) -> (u64, bool) {
        (
            self.durable.tokens.load(Ordering::Acquire).min(total),
            self.durable.end.load(Ordering::Acquire),
        )
    }
}

impl Outcome {
    /// Its name in metrics and in the database.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Cancelled => "cancelled",
            Outcome::Failed => "failed",
            Outcome::Abandoned => "abandoned",
        }
    }
}

impl Job {
    /// Writes token `index` (waits while the writer is far behind).
    pub(super) async fn record_token(&self, index: u64, content: String, ts: u64) {
        if let Some(r) = &self.record {
            let op = Op::Token {
                job: self.id.clone(),
                index,
                content,
                ts,
                notify: r.durable.clone(),
            };
            r.store.write(op).await;
        }
    }

    /// Writes the job's end (and its receipt, which the returned row describes).
    pub(super) async fn record_end(
        &self,
        outcome: Outcome,
        end: &StreamFrame,
    ) -> Option<ReceiptRow> {
        let envelope = match end {
            StreamFrame::End { receipt, .. } | StreamFrame::Error { receipt, .. } => {
                receipt.clone()
            }
            StreamFrame::Token { .. } => None,
        };
        // Our own receipt, read back for the listing and the earnings.
        let receipt = envelope.and_then(|envelope| {
            let r = fabstir_protocol::receipt::open_base64(&envelope).ok()?;
            Some(ReceiptRow {
                job_id: r.job_id,
                client: r.client,
                model_id: r.model_id,
                completion_tokens: r.completion_tokens,
                cost: r.cost,
                ended_at: r.ended_at,
                envelope,
            })
        });
        if let Some(r) = &self.record {
            let frame = serde_json::to_string(end).unwrap_or_default();
            let op = Op::End {
                job: self.id.clone(),
                outcome: outcome.name(),
                ended_at: super::super::unix_ms(),
                frame,
                receipt: receipt.clone(),
                notify: r.durable.clone(),
            };
            r.store.write(op).await;
        }
        receipt
    }
}

impl Job {
    /// A job read back from the database: its tokens and (if it ended) its end, all stored.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn restored(
        id: String,
        owner: libp2p::PeerId,
        model_id: String,
        terms: super::Terms,
        key: libp2p::identity::Keypair,
        store: Store,
        started_at: u64,
        tokens: Vec<(String, u64)>,
        end: Option<(StreamFrame, u64)>,
    ) -> Job {
        let mut job = Job::new(id, owner, model_id, terms, key, None);
        job.started_at = started_at;
        let now = super::super::unix_ms();
        // Its clocks go on from when it started and ended, not from this start.
        let ago = |t: u64| std::time::Duration::from_millis(now.saturating_sub(t));
        job.started = tokio::time::Instant::now()
            .checked_sub(ago(started_at))
            .unwrap_or_else(tokio::time::Instant::now);
        job.record = Some(Record::new(
            store,
            job.changed.clone(),
            tokens.len() as u64,
            end.is_some(),
        ));
        if end.is_none() {
            // Its client was cut off by the stop: it gets the grace from now to come back.
            job.readers().left_at = Some(tokio::time::Instant::now());
        }
        {
            let mut out = job.output();
            out.tokens = tokens;
            if let Some((frame, ended_at)) = end {
                out.end = Some(frame);
                out.ended_at = Some(
                    tokio::time::Instant::now()
                        .checked_sub(ago(ended_at))
                        .unwrap_or_else(tokio::time::Instant::now),
                );
            }
        }
        job
    }
}
