//! One accepted job: its generation task's output, kept for streaming and resuming.

use std::sync::Mutex;
use std::time::Duration;

use fabstir_protocol::messages::{FinishReason, StreamFrame};
use futures::stream::BoxStream;
use futures::StreamExt;
use libp2p::PeerId;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::backend::{BackendError, Piece};

mod end;
mod reader;
mod record;

pub use reader::Reader;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All tokens were generated (or the model stopped).
    Completed,
    /// Its client cancelled it.
    Cancelled,
    /// The backend failed.
    Failed,
    /// Nobody read it: no stream opened in time, or its client gone past the grace period.
    Abandoned,
}

/// What bounds a job's run besides its `max_tokens`.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Generation waits while this many tokens ahead of the furthest a client read.
    pub ahead: u64,
    /// Stopped when no stream opened this long after the start.
    pub open_within: Duration,
    /// Stopped when no stream was open for this long.
    pub grace: Duration,
    /// Ended (`length`) after running this long.
    pub max_duration: Duration,
}

/// What a job was agreed at: its prices and the request they answer, for its end and receipt.
#[derive(Debug, Clone)]
pub struct Terms {
    /// Per generated token.
    pub price_per_token: u64,
    /// Per prompt token.
    pub price_per_prompt_token: u64,
    /// SHA-256 (hex) of the job request's frame payload as the client sent it.
    pub request_sha256: String,
    /// The prompt tokens to bill when the backend reports none (a job cancelled or cut short),
    /// by `fabstir_protocol::chat::estimate_prompt_tokens`.
    pub prompt_estimate: u64,
}

/// Why a job stops before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    /// Its client cancelled it.
    Cancel,
    /// The node shuts down: the job ends with the recoverable error `SHUTTING_DOWN`.
    Shutdown,
}

/// A running or finished job.
pub struct Job {
    /// Its id.
    pub id: String,
    /// The peer that accepted it; only it may stream or cancel.
    pub owner: PeerId,
    /// The model it runs on.
    pub model_id: String,
    /// Its prices and request.
    pub terms: Terms,
    /// When it started (ms since the Unix epoch).
    pub started_at: u64,
    /// The host's identity key, which signs the job's receipt.
    key: libp2p::identity::Keypair,
    started: Instant,
    output: Mutex<Output>,
    /// Bumped whenever the output grows or ends.
    changed: std::sync::Arc<watch::Sender<u64>>,
    /// Its record in the host's database, when the host keeps one.
    record: Option<record::Record>,
    /// Why the job is to stop early, once it is.
    stop: watch::Sender<Option<StopReason>>,
    readers: Mutex<Readers>,
    /// Bumped whenever a reader comes, goes or reads further.
    progress: watch::Sender<u64>,
}

/// Who is reading a job.
#[derive(Default)]
struct Readers {
    /// Token streams open now.
    open: usize,
    /// When the last one closed (`None`: none ever opened).
    left_at: Option<Instant>,
    /// The furthest token index a client was sent.
    delivered: u64,
}

#[derive(Default)]
struct Output {
    tokens: Vec<(String, u64)>,
    end: Option<StreamFrame>,
    ended_at: Option<Instant>,
}

/// One turn of a job's run loop.
enum Step {
    Cancelled,
    ShutDown,
    TimeUp,
    Abandoned,
    Token(Option<Result<Piece, BackendError>>),
}

/// A view of a job's output from some index on.
pub struct Snapshot {
    /// Tokens from the index asked for, as stream frames.
    pub tokens: Vec<StreamFrame>,
    /// Tokens generated so far.
    pub total: u64,
    /// The final frame, once the job ended.
    pub end: Option<StreamFrame>,
}

impl Job {
    pub(crate) fn new(
        id: String,
        owner: PeerId,
        model_id: String,
        terms: Terms,
        key: libp2p::identity::Keypair,
        store: Option<crate::store::Store>,
    ) -> Self {
        let changed = std::sync::Arc::new(watch::channel(0).0);
        Job {
            id,
            owner,
            model_id,
            terms,
            started_at: super::unix_ms(),
            key,
            started: Instant::now(),
            output: Mutex::new(Output::default()),
            record: store.map(|s| record::Record::new(s, changed.clone(), 0, false)),
            changed,
            stop: watch::channel(None).0,
            readers: Mutex::new(Readers::default()),
            progress: watch::channel(0).0,
        }
    }

    fn readers(&self) -> std::sync::MutexGuard<'_, Readers> {
        self.readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a token stream as reading this job until the returned guard is dropped.
    pub fn attach(self: &std::sync::Arc<Self>) -> Reader {
        self.readers().open += 1;
        self.progress.send_modify(|v| *v += 1);
        Reader(self.clone())
    }

    /// When the job is to stop for want of a reader (`None` while one reads), and whether it
    /// is too far ahead of the furthest one to generate more.
    fn attendance(&self, limits: &RunLimits, generated: u64) -> (Option<Instant>, bool) {
        let r = self.readers();
        let deadline = match (r.open, r.left_at) {
            (0, None) => Some(self.started + limits.open_within),
            (0, Some(left)) => Some(left + limits.grace),
            _ => None,
        };
        (deadline, generated >= r.delivered + limits.ahead)
    }

    fn output(&self) -> std::sync::MutexGuard<'_, Output> {
        self.output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drives `tokens` into the job's output until they end, fail, the job is cancelled or
    /// abandoned, or it reaches `limits.max_duration`; waits while too far ahead of its readers.
    /// `on_token` is called per token generated with the count so far and the time since start;
    /// `on_receipt` with the receipt of its end once that is stored.
    pub(crate) async fn run(
        &self,
        mut tokens: BoxStream<'static, Result<Piece, BackendError>>,
        max_tokens: u32,
        limits: RunLimits,
        on_token: impl Fn(usize, Duration),
        on_receipt: impl Fn(&crate::store::ReceiptRow),
    ) -> Outcome {
        let mut stop = self.stop.subscribe();
        let mut progress = self.progress.subscribe();
        let stop_at = self.started + limits.max_duration;
        let (end, outcome) = loop {
            progress.borrow_and_update();
            let generated = self.output().tokens.len() as u64;
            let (abandon_at, ahead) = self.attendance(&limits, generated);
            let abandoned = async {
                match abandon_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => futures::future::pending().await,
                }
            };
            let next = tokio::select! {
                biased;
                reason = stop.wait_for(Option::is_some) => match reason.map(|r| *r) {
                    Ok(Some(StopReason::Shutdown)) => Step::ShutDown,
                    _ => Step::Cancelled,
                },
                _ = tokio::time::sleep_until(stop_at) => Step::TimeUp,
                _ = abandoned => Step::Abandoned,
                _ = progress.changed() => continue,
                t = tokens.next(), if !ahead => Step::Token(t),
            };
            match next {
                Step::Cancelled => {
                    let end = self.end_frame(FinishReason::Cancelled, None);
                    break (end, Outcome::Cancelled);
                }
                Step::ShutDown => {
                    let frame = self.error_frame(
                        "SHUTTING_DOWN",
                        format!(
                            "the host shut down after {generated} tokens; another host may \
                             continue the job"
                        ),
                        true,
                    );
                    break (frame, Outcome::Failed);
                }
                Step::TimeUp => {
                    let end = self.end_frame(FinishReason::Length, None);
                    break (end, Outcome::Completed);
                }
                Step::Abandoned => {
                    let frame = self.error_frame(
                        "ABANDONED",
                        format!(
                            "stopped after {generated} tokens: no client read the job (a stream \
                             must open within {} s of the start and may be away {} s)",
                            limits.open_within.as_secs(),
                            limits.grace.as_secs()
                        ),
                        false,
                    );
                    break (frame, Outcome::Abandoned);
                }
                Step::Token(Some(Ok(Piece::Finished { reason, usage }))) => {
                    let end = self.end_frame(reason, Some(usage));
                    break (end, Outcome::Completed);
                }
                Step::Token(Some(Ok(Piece::Token(token)))) => {
                    let ts = super::unix_ms();
                    let n = {
                        let mut out = self.output();
                        out.tokens.push((token.clone(), ts));
                        out.tokens.len()
                    };
                    on_token(n, self.started.elapsed());
                    self.record_token(n as u64 - 1, token, ts).await;
                    self.changed.send_modify(|v| *v += 1);
                }
                Step::Token(Some(Err(e))) => {
                    let (code, recoverable) = (e.code(), e.recoverable());
                    let frame = self.error_frame(code, e.message, recoverable);
                    break (frame, Outcome::Failed);
                }
                Step::Token(None) => {
                    let n = self.output().tokens.len() as u64;
                    let reason = if n >= u64::from(max_tokens) {
                        FinishReason::Length
                    } else {
                        FinishReason::Stop
                    };
                    break (self.end_frame(reason, None), Outcome::Completed);
                }
            }
        };
        // Stop the backend (e.g. close the HTTP request) before announcing the end.
        drop(tokens);
        if let Some(receipt) = self.record_end(outcome, &end).await {
            on_receipt(&receipt);
        }
        {
            let mut out = self.output();
            out.end = Some(end);
            out.ended_at = Some(Instant::now());
        }
        self.changed.send_modify(|v| *v += 1);
        outcome
    }

    /// Asks the generation to stop; the job then ends with `finishReason: "cancelled"`.
    pub fn cancel(&self) {
        self.stop_for(StopReason::Cancel);
    }

    /// Ends the job now because the node shuts down (`SHUTTING_DOWN`, recoverable).
    pub fn shut_down(&self) {
        self.stop_for(StopReason::Shutdown);
    }

    /// Asks the run loop to stop for `reason`, unless it was already asked.
    fn stop_for(&self, reason: StopReason) {
        self.stop.send_if_modified(|s| {
            let first = s.is_none();
            if first {
                *s = Some(reason);
            }
            first
        });
    }

    /// Whether the job has ended.
    pub fn ended(&self) -> bool {
        self.output().end.is_some()
    }

    /// A receiver that changes whenever the output grows or ends.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The output from token `from` on (at most `limit` tokens).
    /// With a database, only what is stored is shown: a reader never sees a token (or the end)
    /// a restart could lose.
    pub fn snapshot(&self, from: u64, limit: usize) -> Snapshot {
        let out = self.output();
        let generated = out.tokens.len() as u64;
        let (total, end_visible) = self
            .record
            .as_ref()
            .map_or((generated, true), |r| r.visible(generated));
        let tokens = out
            .tokens
            .iter()
            .enumerate()
            .skip(from.min(total) as usize)
            .take(total.saturating_sub(from).min(limit as u64) as usize)
            .map(|(i, (content, timestamp))| StreamFrame::Token {
                index: i as u64,
                content: content.clone(),
                timestamp: *timestamp,
            })
            .collect();
        Snapshot {
            tokens,
            total,
            end: out
                .end
                .clone()
                .filter(|_| end_visible && total == generated),
        }
    }

    /// Whether the job ended longer than `retention` ago.
    pub fn ended_before(&self, retention: Duration) -> bool {
        self.output()
            .ended_at
            .is_some_and(|t| t.elapsed() > retention)
    }
}
