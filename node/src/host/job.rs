//! One accepted job: its generation task's output, kept for streaming and resuming.

use std::sync::Mutex;
use std::time::Duration;

use fabstir_protocol::messages::{FinishReason, StreamFrame};
use futures::stream::BoxStream;
use futures::StreamExt;
use libp2p::PeerId;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::backend::BackendError;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All tokens were generated (or the model stopped).
    Completed,
    /// Its client cancelled it.
    Cancelled,
    /// The backend failed.
    Failed,
}

/// A running or finished job.
pub struct Job {
    /// Its id.
    pub id: String,
    /// The peer that accepted it; only it may stream or cancel.
    pub owner: PeerId,
    /// The model it runs on.
    pub model_id: String,
    started: Instant,
    output: Mutex<Output>,
    /// Bumped whenever the output grows or ends.
    changed: watch::Sender<u64>,
    cancel: watch::Sender<bool>,
}

#[derive(Default)]
struct Output {
    tokens: Vec<(String, u64)>,
    end: Option<StreamFrame>,
    ended_at: Option<Instant>,
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
    pub(crate) fn new(id: String, owner: PeerId, model_id: String) -> Self {
        Job {
            id,
            owner,
            model_id,
            started: Instant::now(),
            output: Mutex::new(Output::default()),
            changed: watch::channel(0).0,
            cancel: watch::channel(false).0,
        }
    }

    fn output(&self) -> std::sync::MutexGuard<'_, Output> {
        self.output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drives `tokens` into the job's output until they end, fail or the job is cancelled;
    /// `on_token` is called per token generated with the count so far and the time since start.
    pub(crate) async fn run(
        &self,
        mut tokens: BoxStream<'static, Result<String, BackendError>>,
        max_tokens: u32,
        on_token: impl Fn(usize, Duration),
    ) -> Outcome {
        let mut cancel = self.cancel.subscribe();
        let (end, outcome) = loop {
            let next = tokio::select! {
                biased;
                _ = cancel.wait_for(|c| *c) => None,
                t = tokens.next() => Some(t),
            };
            match next {
                None => break (self.end_frame(FinishReason::Cancelled), Outcome::Cancelled),
                Some(Some(Ok(token))) => {
                    let n = {
                        let mut out = self.output();
                        out.tokens.push((token, super::unix_ms()));
                        out.tokens.len()
                    };
                    on_token(n, self.started.elapsed());
                    self.changed.send_modify(|v| *v += 1);
                }
                Some(Some(Err(e))) => {
                    let frame = StreamFrame::Error {
                        code: "BACKEND_FAILED".into(),
                        message: e.message,
                        recoverable: false,
                    };
                    break (frame, Outcome::Failed);
                }
                Some(None) => {
                    let n = self.output().tokens.len() as u64;
                    let reason = if n >= u64::from(max_tokens) {
                        FinishReason::Length
                    } else {
                        FinishReason::Stop
                    };
                    break (self.end_frame(reason), Outcome::Completed);
                }
            }
        };
        // Stop the backend (e.g. close the HTTP request) before announcing the end.
        drop(tokens);
        {
            let mut out = self.output();
            out.end = Some(end);
            out.ended_at = Some(Instant::now());
        }
        self.changed.send_modify(|v| *v += 1);
        outcome
    }

    fn end_frame(&self, finish_reason: FinishReason) -> StreamFrame {
        StreamFrame::End {
            total_tokens: self.output().tokens.len() as u64,
            duration: self.started.elapsed().as_millis() as u64,
            finish_reason,
        }
    }

    /// Asks the generation to stop; the job then ends with `finishReason: "cancelled"`.
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    /// A receiver that changes whenever the output grows or ends.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The output from token `from` on (at most `limit` tokens).
    pub fn snapshot(&self, from: u64, limit: usize) -> Snapshot {
        let out = self.output();
        let total = out.tokens.len() as u64;
        let tokens = out
            .tokens
            .iter()
            .enumerate()
            .skip(from.min(total) as usize)
            .take(limit)
            .map(|(i, (content, timestamp))| StreamFrame::Token {
                index: i as u64,
                content: content.clone(),
                timestamp: *timestamp,
            })
            .collect();
        Snapshot {
            tokens,
            total,
            end: out.end.clone(),
        }
    }

    /// Whether the job ended longer than `retention` ago.
    pub fn ended_before(&self, retention: Duration) -> bool {
        self.output()
            .ended_at
            .is_some_and(|t| t.elapsed() > retention)
    }
}
