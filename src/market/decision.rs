//! Deciding on a host's offer: accepting it (with the job's token stream opened at once) or
//! declining it.

use std::time::Duration;

use fabstir_protocol::frame;
use fabstir_protocol::messages::{JobDecision, JobResponse, RejectReason};
use futures::AsyncWriteExt;
use libp2p::{PeerId, Stream};

use crate::error::SdkError;

/// The job's token stream, opened from token 0 together with the accept (see [`accept`]);
/// boxed, as it is handed on a few times.
pub type Opened = Box<(
    crate::market::stream::TokenReader,
    crate::market::stream::Canceller,
)>;

/// Accepts an offer: `Ok(Ok(..))` when the host started the job, `Ok(Err(..))` when it refused
/// (e.g. `busy`: an offer holds no slot).
///
/// The job's token stream (`tokens`: its most tokens and stall timeout) is opened right after
/// the accept is sent, before `started` comes back, so the first token is one round trip
/// closer; the host holds a stream request for a job it has offered until the offer is settled
/// (docs/PROTOCOL.md, "Job"). When it refuses, that stream is dropped. When the stream could
/// not be opened, `Ok(Ok(None))`: the caller opens it afterwards as before.
pub async fn accept(
    stream: &mut Stream,
    control: &libp2p_stream::Control,
    peer: PeerId,
    job_id: &str,
    tokens: (u64, Duration),
) -> Result<Result<Option<Opened>, (RejectReason, String)>, SdkError> {
    let failed = |reason: String| SdkError::StreamFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let decision = JobDecision::Accept {
        job_id: job_id.to_string(),
    };
    frame::write(stream, &decision)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let (max_tokens, stall) = tokens;
    let opened =
        crate::market::stream::open(&mut control.clone(), peer, job_id, 0, max_tokens, stall)
            .await
            .ok()
            .map(Box::new);
    let answer = frame::read::<_, JobResponse>(stream).await;
    let _ = stream.close().await;
    match answer {
        Ok(Some(JobResponse::Started { job_id: started })) if started == job_id => Ok(Ok(opened)),
        Ok(Some(JobResponse::Rejected { reason, message })) => Ok(Err((reason, message))),
        // Named, not `Debug`-printed: that formatting code is not worth its bytes in the wasm.
        Ok(other) => Err(failed(format!(
            "unexpected answer to accept: {}",
            match other {
                None => "none",
                Some(JobResponse::Offer { .. }) => "an offer",
                Some(JobResponse::Started { .. }) => "started for another job",
                Some(JobResponse::Rejected { .. }) => "rejected",
            }
        ))),
        Err(e) => Err(failed(format!("{e} ({})", e.code()))),
    }
}

/// Declines an offer (the host frees what it held for it) and closes its stream.
pub async fn decline(mut stream: Stream, job_id: String) {
    let _ = frame::write(&mut stream, &JobDecision::Decline { job_id }).await;
    let _ = stream.close().await;
}
