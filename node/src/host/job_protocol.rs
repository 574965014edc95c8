//! Serving `/fabstir/job/1.0.0`: request → offer or rejection → accept/decline → started; or,
//! for a request with `start`, request → offer (the terms the job started on) or rejection, and
//! the job's tokens on the same stream.

use fabstir_protocol::frame;
use fabstir_protocol::messages::{
    JobDecision, JobRequest, JobResponse, RejectReason, StreamRequest,
};
use fabstir_protocol::receipt::sha256_hex;
use futures::AsyncWriteExt;
use libp2p::{PeerId, Stream};

use super::{Host, Offer};

/// Handles one job negotiation stream from `peer`; the tokens of a job started at once
/// (`start`) are served on it by `serve_tokens`; `terms` sees the terms before they are sent.
pub async fn serve(
    host: Host,
    peer: PeerId,
    mut stream: Stream,
    serve_tokens: crate::serve::StreamServer,
    terms: crate::serve::TermsHook,
) -> std::io::Result<()> {
    let payload = super::read_request_payload(&mut stream, "job request").await?;
    // The receipt names the request by the hash of its bytes as the client sent them.
    let hash = payload
        .as_ref()
        .and_then(|p| p.as_deref().ok())
        .map(sha256_hex);
    let decoded = payload.map(|p| p.and_then(|p| frame::decode::<JobRequest>(&p)));
    let request = match decoded {
        None => return Ok(()),
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            // Tell the client why (it may be a size or format mistake), then hang up.
            let reject = rejected(RejectReason::InvalidRequest, format!("{e} ({})", e.code()));
            let _ = frame::write(&mut stream, &reject).await;
            return stream.close().await;
        }
    };
    let start = request.start;
    let offer = match host.offer(peer, request) {
        Ok(offer) => Offer {
            request_sha256: hash.unwrap_or_default(),
            ..offer
        },
        Err((reason, message)) => {
            tracing::debug!(%peer, ?reason, %message, "job request rejected");
            return refuse(stream, reason, message).await;
        }
    };
    let mut response = JobResponse::Offer {
        job_id: offer.job_id.clone(),
        price_per_token: offer.price_per_token,
        price_per_prompt_token: offer.price_per_prompt_token,
        expires_at: offer.expires_at,
    };
    terms(&offer.request.model_id, &mut response);
    if start {
        return start_at_once(host, peer, stream, offer, response, serve_tokens).await;
    }
    frame::write(&mut stream, &response)
        .await
        .map_err(std::io::Error::other)?;
    // The offer holds its slot for `offer_hold`, then stays open as a quote until its lifetime
    // ends. Dropping `offer` on any early return frees a slot it still holds.
    let mut offer = offer;
    let decision = {
        let read = frame::read::<_, JobDecision>(&mut stream);
        futures::pin_mut!(read);
        match tokio::time::timeout(host.offer_hold(), &mut read).await {
            Ok(decision) => Ok(decision),
            Err(_) => {
                offer.release();
                let rest = host.offer_ttl().saturating_sub(host.offer_hold());
                tokio::time::timeout(rest, &mut read).await
            }
        }
    };
    let answer = match decision {
        Ok(Ok(Some(JobDecision::Accept { job_id }))) if job_id == offer.job_id => {
            match host.start(offer) {
                Ok(job) => {
                    tracing::info!(%peer, job = %job.id, "job started");
                    JobResponse::Started {
                        job_id: job.id.clone(),
                    }
                }
                Err((reason, message)) => rejected(reason, message),
            }
        }
        Ok(Ok(Some(JobDecision::Accept { job_id } | JobDecision::Decline { job_id })))
            if job_id != offer.job_id =>
        {
            rejected(
                RejectReason::InvalidRequest,
                format!("the offer was for job {}, not {job_id}", offer.job_id),
            )
        }
        Ok(Ok(Some(JobDecision::Decline { .. }))) | Ok(Ok(None)) => return stream.close().await,
        Ok(Ok(Some(JobDecision::Accept { .. }))) => return stream.close().await,
        Ok(Err(e)) => rejected(RejectReason::InvalidRequest, format!("{e} ({})", e.code())),
        Err(_) => rejected(RejectReason::InvalidRequest, "the offer expired".into()),
    };
    frame::write(&mut stream, &answer)
        .await
        .map_err(std::io::Error::other)?;
    stream.close().await
}

/// A request with `start`: the job starts on `offer` at once, the offer is sent as the terms it
/// started on, and the job's tokens follow on this stream, served as a token stream from token
/// 0 in a task of its own (out of this protocol's queue and its time limit: it lasts as long as
/// the job; the job limits bound how many there are).
async fn start_at_once(
    host: Host,
    peer: PeerId,
    mut stream: Stream,
    offer: Offer,
    terms: JobResponse,
    serve_tokens: crate::serve::StreamServer,
) -> std::io::Result<()> {
    let job = match host.start(offer) {
        Ok(job) => job,
        Err((reason, message)) => {
            tracing::debug!(%peer, ?reason, %message, "job refused at start");
            return refuse(stream, reason, message).await;
        }
    };
    tracing::info!(%peer, job = %job.id, "job started without waiting for an accept");
    frame::write(&mut stream, &terms)
        .await
        .map_err(std::io::Error::other)?;
    let request = StreamRequest {
        job_id: job.id.clone(),
        resume_from: 0,
    };
    tokio::spawn(async move {
        if let Err(e) = serve_tokens(host, peer, stream, Some(request)).await {
            tracing::debug!(%peer, error = %e, "token stream of a job started at once failed");
        }
    });
    Ok(())
}

/// Answers `rejected` with `reason` and `message`, then closes the stream.
async fn refuse(mut stream: Stream, reason: RejectReason, message: String) -> std::io::Result<()> {
    frame::write(&mut stream, &rejected(reason, message))
        .await
        .map_err(std::io::Error::other)?;
    stream.close().await
}

fn rejected(reason: RejectReason, message: String) -> JobResponse {
    JobResponse::Rejected { reason, message }
}
