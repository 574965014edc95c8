//! Opening the token stream of one of our jobs (reconnecting to its host, retrying a stream
//! the host dropped unanswered) and cancelling a job when no stream of it is open.

use crate::error::SdkError;
use crate::market::jobs::JobRecord;
use crate::market::stream::{Canceller, TokenReader};
use crate::market::Market;
use crate::net::rt;

impl Market {
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
        let control = self.net.control();
        let limit = self.net.config().request_timeout;
        let opening = crate::net::dropped::retry_unanswered(|| {
            let mut control = control.clone();
            let record = record.clone();
            async move {
                crate::market::stream::open(
                    &mut control,
                    record.node,
                    job_id,
                    from,
                    u64::from(record.max_tokens),
                    self.net.config().stream_stall_timeout,
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
