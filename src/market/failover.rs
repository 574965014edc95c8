//! Recovering a job whose host failed mid-stream: first the same host again (a brief cut), then
//! another host of the same model, asked to continue from the tokens already received, so the
//! caller's token sequence has no gap and no repeat.

use std::time::Duration;

use libp2p::PeerId;

use crate::error::SdkError;
use crate::market::negotiation::{JobSpec, Negotiated};
use crate::market::stream::{Canceller, TokenReader};
use crate::market::Market;
use crate::net::rt;

/// Tries per host before failing over.
const RESUME_TRIES: u32 = 3;
/// Pause between tries.
const RESUME_PAUSE: Duration = Duration::from_millis(250);

/// Whether a stream failure is worth recovering from (not the caller's own doing).
pub fn recoverable(error: &SdkError) -> bool {
    !matches!(
        error,
        SdkError::Cancelled(_)
            | SdkError::InvalidArgument { .. }
            | SdkError::Stopped
            | SdkError::PromptTooLong { .. }
    )
}

impl Market {
    /// Opens job `job_id`'s stream again from `from`, up to 3 tries within `within`. A host
    /// that says the job is gone (`JOB_NOT_FOUND`) is not asked again.
    pub async fn resume_within(
        &self,
        job_id: &str,
        from: u64,
        within: Duration,
    ) -> Result<(TokenReader, Canceller), SdkError> {
        let deadline = rt::now_ms() + within.as_secs_f64() * 1000.0;
        let mut last = SdkError::Internal("no resume was tried".into());
        for _ in 0..RESUME_TRIES {
            let left = deadline - rt::now_ms();
            if left <= 0.0 {
                break;
            }
            // Each try gets only what is left of the bound (a dial may take far longer).
            let tried = rt::timeout(
                Duration::from_millis(left as u64),
                self.open_stream(job_id, Some(from)),
            )
            .await;
            match tried {
                Some(Ok((reader, canceller, _))) => return Ok((reader, canceller)),
                Some(Err(e @ SdkError::JobNotFound { .. })) => return Err(e),
                Some(Err(e)) => last = e,
                None => {
                    last = SdkError::Timeout {
                        operation: format!("resume job {job_id}"),
                        after_ms: within.as_millis() as u64,
                    };
                    break;
                }
            }
            rt::sleep(RESUME_PAUSE).await;
        }
        Err(last)
    }

    /// Has another host continue `spec` after `text` (`tokens` tokens), leaving out `exclude`;
    /// returns the new job and its stream, whose first token is the job's token `tokens`.
    pub async fn fail_over(
        &self,
        spec: &JobSpec,
        text: String,
        tokens: u64,
        exclude: &[PeerId],
    ) -> Result<(Negotiated, TokenReader, Canceller), SdkError> {
        let remaining = u64::from(spec.max_tokens).saturating_sub(tokens);
        let max_tokens = u32::try_from(remaining).unwrap_or(u32::MAX);
        if max_tokens == 0 {
            return Err(SdkError::Internal(
                "a job with all its tokens cannot fail over".into(),
            ));
        }
        let continued = JobSpec {
            max_tokens,
            continuation: Some(fabstir_protocol::messages::Continuation { text, tokens }),
            ..spec.clone()
        };
        let negotiated = self.submit_job_excluding(&continued, exclude).await?;
        let (reader, canceller, _) = self.open_stream(&negotiated.job_id, Some(0)).await?;
        Ok((negotiated, reader, canceller))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_errors_are_not_recovered() {
        assert!(!recoverable(&SdkError::Cancelled("x".into())));
        assert!(recoverable(&SdkError::StreamFailed {
            peer_id: "p".into(),
            reason: "cut".into()
        }));
    }
}
