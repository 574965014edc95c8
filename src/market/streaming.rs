//! Opening the token stream of one of our jobs (reconnecting to its host, retrying a stream
//! the host dropped unanswered) and cancelling a job when no stream of it is open.

use crate::error::SdkError;
use crate::market::jobs::JobRecord;
use crate::market::stream::{Canceller, TokenReader};
use crate::market::Market;
use crate::net::rt;

/// Token streams opened with an accept and not yet asked for, kept at most.
pub const MAX_OPENED: usize = 64;

impl Market {
    /// Opens the token stream of one of our jobs from `resume_from` (default: the tokens
    /// received so far), reconnecting to its host when needed. From token 0 of a job just
    /// negotiated, this is the stream opened together with the accept.
    pub async fn open_stream(
        &self,
        job_id: &str,
        resume_from: Option<u64>,
    ) -> Result<(TokenReader, Canceller, JobRecord), SdkError> {
        let record = self.job(job_id)?;
        let from = resume_from.unwrap_or(record.received);
        if from == 0 {
            if let Some(opened) = self.take_opened(job_id) {
                let (reader, canceller) = *opened;
                return Ok((reader, canceller, record));
            }
        }
        self.connect(record.node).await?;
        // Streams open lazily (net/transport.rs): a stream the host drops unread is noticed at
        // its first read, where the job's reader opens it again (wasm/job/state.rs `drive`).
        let limit = self.net.config().request_timeout;
        let mut control = self.net.control();
        let opening = crate::market::stream::open(
            &mut control,
            record.node,
            job_id,
            from,
            u64::from(record.max_tokens),
            self.net.config().stream_stall_timeout,
        );
        let (reader, canceller) =
            rt::timeout(limit, opening)
                .await
                .unwrap_or(Err(SdkError::Timeout {
                    operation: format!("open the stream of job {job_id}"),
                    after_ms: limit.as_millis() as u64,
                }))?;
        Ok((reader, canceller, record))
    }

    /// Keeps the token stream opened with `job_id`'s accept until the job's stream is asked
    /// for. At most [`MAX_OPENED`] are kept: beyond that (streams nobody asked for) the new one
    /// is dropped, and its job's stream is opened when asked, as before.
    pub(crate) fn keep_opened(&self, job_id: &str, opened: crate::market::negotiation::Opened) {
        let mut kept = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < MAX_OPENED {
            kept.push((job_id.to_string(), opened));
        }
    }

    fn take_opened(&self, job_id: &str) -> Option<crate::market::negotiation::Opened> {
        let mut kept = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        let at = kept.iter().position(|(id, _)| id == job_id)?;
        Some(kept.swap_remove(at).1)
    }

    /// Cancels one of our jobs when no stream of it is open: opens one and sends `cancel`,
    /// then reads until the host's end.
    pub async fn cancel_job(&self, job_id: &str) -> Result<(), SdkError> {
        let (mut reader, canceller, _) = self.open_stream(job_id, None).await?;
        canceller.cancel().await?;
        loop {
            if let crate::market::stream::StreamEvent::End(_) = reader.next().await? {
                return Ok(());
            }
        }
    }
}
