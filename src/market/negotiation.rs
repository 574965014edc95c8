//! `submitJobWithNegotiation`: ask several hosts for offers at once, accept the cheapest
//! acceptable one (ties: lower latency), decline the rest. With one host to ask, the job starts
//! at once (`start`: the host's offer is the job's terms, its tokens follow on the same stream).

use std::time::Duration;

use fabstir_protocol::frame;
use fabstir_protocol::messages::{
    JobDecision, JobRequest, JobResponse, RejectReason, JOB_PROTOCOL,
};
use futures::AsyncWriteExt;
use libp2p::{PeerId, Stream, StreamProtocol};
use serde::{Deserialize, Serialize};

use crate::error::SdkError;

/// Hosts asked for an offer at once.
pub const MAX_CANDIDATES: usize = 5;

/// What `submitJobWithNegotiation(request)` asks for (besides `signal`, handled by the binding).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    /// The model.
    pub model_id: String,
    /// The prompt (one user message); exactly one of `prompt` and `messages`.
    #[serde(default)]
    pub prompt: String,
    /// The conversation, oldest first; a last assistant message is a prefix to continue.
    #[serde(default)]
    pub messages: Vec<fabstir_protocol::chat::ChatMessage>,
    /// Tokens to generate. Default 256.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Sampling temperature, 0..2. Default 0.7.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    /// Nucleus sampling, (0, 1]. Default 1.
    #[serde(default = "default_top_p")]
    pub top_p: f32,
    /// The highest price per token accepted; none: any price.
    #[serde(default)]
    pub max_price: Option<u64>,
    /// The highest price per prompt token accepted; none: any price.
    #[serde(default)]
    pub max_prompt_price: Option<u64>,
    /// Generation stops before any of these (up to 4).
    #[serde(default)]
    pub stop: Vec<String>,
    /// A sampling seed (0 to 4294967295), for repeatable answers.
    #[serde(default)]
    pub seed: Option<u32>,
    /// -2..2.
    #[serde(default)]
    pub presence_penalty: Option<f32>,
    /// -2..2.
    #[serde(default)]
    pub frequency_penalty: Option<f32>,
    /// Peer ids asked first when they serve the model.
    #[serde(default)]
    pub preferred_nodes: Vec<String>,
    /// Peer ids never asked.
    #[serde(default)]
    pub exclude_nodes: Vec<String>,
    /// Set by failover (never by the page): output another host already produced.
    #[serde(skip)]
    pub continuation: Option<fabstir_protocol::messages::Continuation>,
}

fn default_max_tokens() -> u32 {
    256
}
fn default_temperature() -> f32 {
    0.7
}
fn default_top_p() -> f32 {
    1.0
}

impl JobSpec {
    /// The request sent to hosts; invalid values are an `INVALID_ARGUMENT` naming the field.
    pub fn request(&self) -> Result<JobRequest, SdkError> {
        let request = JobRequest {
            model_id: self.model_id.clone(),
            prompt: self.prompt.clone(),
            messages: self.messages.clone(),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            max_price_per_token: self.max_price.unwrap_or(u64::MAX),
            max_prompt_price_per_token: self.max_prompt_price,
            stop: self.stop.clone(),
            seed: self.seed,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            continuation: self.continuation.clone(),
            start: false,
        };
        request.validate().map_err(|m| {
            let name = m.split_whitespace().next().unwrap_or("request").to_string();
            SdkError::argument(name, m)
        })?;
        Ok(request)
    }
}

/// A job a host accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Negotiated {
    /// The job id (the host's).
    pub job_id: String,
    /// The host.
    pub node_id: String,
    /// The agreed price per token.
    pub price_per_token: u64,
    /// The agreed price per prompt token.
    pub price_per_prompt_token: u64,
    /// Hosts asked.
    pub candidates: usize,
    /// Offers received.
    pub offers: usize,
    /// SHA-256 (hex) of the job request as sent, which the host's receipt names.
    #[serde(skip)]
    pub request_sha256: String,
}

/// A host to ask, with its measured latency.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The host.
    pub peer: PeerId,
    /// Its round trip in ms.
    pub latency: f64,
    /// How reliable it has been (see [`crate::market::reliability`]): between equal prices, the more
    /// reliable host wins.
    pub reliability: f64,
    /// Its advertised price (for `PRICE_TOO_HIGH`'s lowest price when it declines).
    pub advertised_price: u64,
}

enum Answer {
    Offer(Offer),
    Rejected(RejectReason, String),
}

/// An offer; or, when `started` (a request with `start`), the terms of a job started on it,
/// whose tokens follow on `stream`.
struct Offer {
    stream: Stream,
    job_id: String,
    price: u64,
    prompt_price: u64,
    started: bool,
}

/// The job's token stream, opened from token 0 together with the accept (see [`accept`]);
/// boxed, as it is handed on a few times.
pub type Opened = Box<(
    crate::market::stream::TokenReader,
    crate::market::stream::Canceller,
)>;

/// Asks every candidate at once and starts the job on the best offer; with the token stream
/// already opened when that worked (`stall` is its stall timeout).
pub async fn negotiate(
    control: &libp2p_stream::Control,
    candidates: Vec<Candidate>,
    request: JobRequest,
    max_price: Option<u64>,
    limit: Duration,
    stall: Duration,
) -> Result<(Negotiated, Option<Opened>), SdkError> {
    let asked = candidates.len();
    // One host: nothing to compare, so no accept to wait for. The host starts the job on its
    // offer if within the maxima (else refuses, as it would have), sends the offer as the
    // job's terms and the tokens after it: one round trip less before the first token.
    let mut request = request;
    request.start = asked == 1;
    let answers = futures::future::join_all(candidates.iter().map(|c| {
        let control = control.clone();
        let request = request.clone();
        async move {
            let asked = crate::net::dropped::retry_unanswered(|| {
                let mut control = control.clone();
                let request = request.clone();
                async move { ask(&mut control, c.peer, &request).await }
            });
            match crate::net::rt::timeout(limit, asked).await {
                Some(r) => r,
                None => Err(SdkError::Timeout {
                    operation: format!("job offer from {}", c.peer),
                    after_ms: limit.as_millis() as u64,
                }),
            }
        }
    }))
    .await;
    let mut offers = Vec::new();
    let mut rejections = Vec::new();
    let mut failures = Vec::new();
    let max = max_price.unwrap_or(u64::MAX);
    let max_prompt = request.max_prompt_price_per_token.unwrap_or(u64::MAX);
    let tokens = (u64::from(request.max_tokens), stall);
    for (c, answer) in candidates.iter().zip(answers) {
        match answer {
            Ok(Answer::Offer(offer)) => offers.push((c, offer)),
            Ok(Answer::Rejected(reason, message)) => rejections.push((c, reason, message)),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let offered = offers.len();
    let lowest_offer = offers.iter().map(|o| o.1.price).min();
    let mut chosen = None;
    // Best first: lowest price, then more reliable, then nearer; equals in the order asked.
    // (Taken one by one rather than sorted: a stable sort of this type cost 3.7 KB of wasm.)
    while let Some(best) = (0..offers.len()).min_by(|&a, &b| {
        let (a, b) = (&offers[a], &offers[b]);
        a.1.price
            .cmp(&b.1.price)
            .then(b.0.reliability.total_cmp(&a.0.reliability))
            .then(a.0.latency.total_cmp(&b.0.latency))
    }) {
        let (c, mut offer) = offers.remove(best);
        let (job_id, price, prompt_price) = (offer.job_id, offer.price, offer.prompt_price);
        if chosen.is_some() || price > max || prompt_price > max_prompt {
            // A job a host started above the request's maxima (it should have refused): its
            // stream is dropped, as is the job's only reader.
            if !offer.started {
                decline(offer.stream, job_id).await;
            }
            continue;
        }
        let accepted = if offer.started {
            let opened = crate::market::stream::reading(offer.stream, c.peer, &job_id, 0, tokens);
            Ok(Ok(Some(Box::new(opened))))
        } else {
            accept(&mut offer.stream, control, c.peer, &job_id, tokens).await
        };
        match accepted {
            // An offer is a quote: the host may be full by the time we accept.
            Ok(Err((reason, message))) => {
                rejections.push((c, reason, format!("when accepting: {message}")))
            }
            Ok(Ok(opened)) => {
                let negotiated = Negotiated {
                    job_id,
                    node_id: c.peer.to_string(),
                    price_per_token: price,
                    price_per_prompt_token: prompt_price,
                    candidates: asked,
                    offers: offered,
                    request_sha256: crate::market::receipts::request_sha256(&request),
                };
                chosen = Some((negotiated, opened));
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    if let Some(n) = chosen {
        return Ok(n);
    }
    let price_rejections: Vec<u64> = rejections
        .iter()
        .filter(|r| r.1 == RejectReason::PriceTooLow)
        .map(|r| r.0.advertised_price)
        .collect();
    if lowest_offer.is_some_and(|p| p > max)
        || (!price_rejections.is_empty() && price_rejections.len() == rejections.len())
    {
        let lowest = lowest_offer.into_iter().chain(price_rejections).min();
        return Err(SdkError::PriceTooHigh {
            max_price: max,
            lowest,
        });
    }
    let mut rejections = rejections.into_iter();
    if let Some((c, reason, message)) = rejections.next() {
        // What the other hosts said, or what went wrong with them, belongs in the story too.
        let others: Vec<String> = rejections
            .map(|(c, reason, message)| {
                let code = fabstir_protocol::messages::reject_reason_code(reason);
                format!("{} rejected it ({code}): {message}", c.peer)
            })
            .chain(failures)
            .collect();
        let message = if others.is_empty() {
            message
        } else {
            format!("{message} (other hosts: {})", others.join("; "))
        };
        return Err(SdkError::NodeRejected {
            peer_id: c.peer.to_string(),
            reason: fabstir_protocol::messages::reject_reason_code(reason).into(),
            message,
        });
    }
    Err(SdkError::NoNodesAvailable {
        model_id: request.model_id,
        reason: if failures.is_empty() {
            "no host answered".into()
        } else {
            failures.join("; ")
        },
    })
}

async fn ask(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    request: &JobRequest,
) -> Result<Answer, SdkError> {
    let failed = |reason: String| SdkError::StreamFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let mut stream = control
        .open_stream(peer, StreamProtocol::new(JOB_PROTOCOL))
        .await
        .map_err(|e| failed(e.to_string()))?;
    frame::write(&mut stream, request)
        .await
        .map_err(|e| failed(crate::net::dropped::request_failure(&e)))?;
    match frame::read::<_, JobResponse>(&mut stream).await {
        Ok(Some(JobResponse::Offer {
            job_id,
            price_per_token,
            price_per_prompt_token,
            ..
        })) => Ok(Answer::Offer(Offer {
            stream,
            job_id,
            price: price_per_token,
            prompt_price: price_per_prompt_token,
            started: request.start,
        })),
        Ok(Some(JobResponse::Rejected { reason, message })) => {
            Ok(Answer::Rejected(reason, message))
        }
        Ok(Some(JobResponse::Started { .. })) => Err(failed("started before an offer".into())),
        Ok(None) => Err(failed(crate::net::dropped::UNANSWERED.into())),
        Err(e) => Err(failed(format!("{e} ({})", e.code()))),
    }
}

/// Accepts an offer: `Ok(Ok(..))` when the host started the job, `Ok(Err(..))` when it refused
/// (e.g. `busy`: an offer holds no slot).
///
/// The job's token stream (`tokens`: its most tokens and stall timeout) is opened right after
/// the accept is sent, before `started` comes back, so the first token is one round trip
/// closer; the host holds a stream request for a job it has offered until the offer is settled
/// (docs/PROTOCOL.md, "Job"). When it refuses, that stream is dropped. When the stream could
/// not be opened, `Ok(Ok(None))`: the caller opens it afterwards as before.
async fn accept(
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

async fn decline(mut stream: Stream, job_id: String) {
    let _ = frame::write(&mut stream, &JobDecision::Decline { job_id }).await;
    let _ = stream.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_defaults_and_validation_name_the_field() {
        let spec: JobSpec =
            serde_json::from_value(serde_json::json!({ "modelId": "m", "prompt": "p" })).unwrap();
        let r = spec.request().unwrap();
        assert_eq!((r.max_tokens, r.max_price_per_token), (256, u64::MAX));
        let bad = JobSpec {
            max_tokens: 0,
            ..spec
        };
        match bad.request() {
            Err(SdkError::InvalidArgument { name, .. }) => assert_eq!(name, "maxTokens"),
            other => panic!("{other:?}"),
        }
        let chat: JobSpec = serde_json::from_value(serde_json::json!({
            "modelId": "m",
            "messages": [{ "role": "system", "content": "s" }, { "role": "user", "content": "u" }],
            "stop": ["\n"], "seed": 7, "presencePenalty": 0.5, "maxPromptPrice": 2
        }))
        .unwrap();
        let r = chat.request().unwrap();
        assert_eq!(
            (r.messages.len(), r.seed, r.max_prompt_price_per_token),
            (2, Some(7), Some(2))
        );
        let both = JobSpec {
            prompt: "p".into(),
            ..chat.clone()
        };
        match both.request() {
            Err(SdkError::InvalidArgument { name, message }) => {
                assert_eq!(name, "messages", "{message}")
            }
            other => panic!("{other:?}"),
        }
        let bad_role = serde_json::from_value::<JobSpec>(serde_json::json!({
            "modelId": "m", "messages": [{ "role": "tool", "content": "x" }]
        }));
        assert!(bad_role.is_err());
    }
}
