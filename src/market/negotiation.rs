//! `submitJobWithNegotiation`: start the job at once on the best host its records name
//! (`start`: the host's offer is the job's terms, its tokens follow on the same stream); when
//! that host does not, ask several others for offers at once, accept the cheapest acceptable
//! one (ties: more reliable, then lower latency) and decline the rest.

use std::time::Duration;

use fabstir_protocol::frame;
use fabstir_protocol::messages::{JobRequest, JobResponse, RejectReason, JOB_PROTOCOL};
use libp2p::{PeerId, Stream, StreamProtocol};
use serde::Serialize;

use crate::error::SdkError;
use crate::market::decision::{accept, decline};
use crate::market::receipts::request_sha256;
pub use crate::market::spec::JobSpec;

/// Hosts asked for one job at most: the one started on, and the others asked for offers at once.
pub const MAX_CANDIDATES: usize = 5;

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
    /// Its advertised price (for `PRICE_TOO_HIGH`'s lowest price when it declines, and the most
    /// it is asked to start a job at).
    pub advertised_price: u64,
    /// Its advertised price per prompt token.
    pub advertised_prompt_price: u64,
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

pub use crate::market::decision::Opened;

/// Starts the job. On `first` at once when there is one (`start`: the host's offer is the job's
/// terms, its tokens follow: one round trip to the first token); when that host refuses,
/// fails or starts above the maxima, or without a `first`, on the best acceptable offer of the
/// hosts `others` reaches (told why `first` did not start it): asked at once, the cheapest
/// accepted, the rest declined (one alone is started at once too). With the token stream already
/// opened when that worked (`stall` is its stall timeout). When none of the hosts could be
/// reached, the error says why for one of them: `unreachable`, the reason `first` or `others`
/// left a host out for.
pub async fn negotiate<F: std::future::Future<Output = Vec<Candidate>>>(
    control: &libp2p_stream::Control,
    first: Option<Candidate>,
    others: impl FnOnce(Option<String>) -> F,
    unreachable: &std::cell::Cell<Option<String>>,
    request: JobRequest,
    limit: Duration,
    stall: Duration,
) -> Result<(Negotiated, Option<Opened>), SdkError> {
    let max = request.max_price_per_token;
    let max_prompt = request.max_prompt_price_per_token.unwrap_or(u64::MAX);
    let mut answers = Vec::new();
    if let Some(first) = first {
        // Held to its record's prices: it starts the job at them (or less) or refuses with
        // `price_too_low`, whatever it would offer now.
        let start = JobRequest {
            start: true,
            max_price_per_token: max.min(first.advertised_price),
            max_prompt_price_per_token: Some(max_prompt.min(first.advertised_prompt_price)),
            ..request.clone()
        };
        answers = ask_all(control, vec![first], &start, limit).await;
    }
    // Refused at its record's prices while the request allows more: the record is out of date,
    // so the host is asked again like the others, at the request's own maxima.
    let repriced = matches!(
        answers.first(),
        Some((c, _, Ok(Answer::Rejected(RejectReason::PriceTooLow, _))))
            if max > c.advertised_price || max_prompt > c.advertised_prompt_price
    );
    // `Some`: the others are asked, told why the first did not start the job (if there was one).
    let ask_others = match answers.first() {
        None => Some(None),
        Some((_, sent, Ok(Answer::Offer(o)))) if sent.admits(o) => None,
        Some((_, sent, answer)) => Some(Some(not_started(sent, answer, repriced))),
    };
    if let Some(why) = ask_others {
        let mut others = others(why).await;
        if repriced {
            others.extend(answers.pop().map(|a| a.0));
        }
        // One host: nothing to compare, so no accept to wait for. The host starts the job on
        // its offer if within the maxima (else refuses, as it would have).
        let request = JobRequest {
            start: others.len() == 1,
            ..request.clone()
        };
        answers.extend(ask_all(control, others, &request, limit).await);
    }
    if answers.is_empty() {
        return Err(SdkError::NoNodesAvailable {
            model_id: request.model_id,
            reason: unreachable
                .take()
                .unwrap_or_else(|| "no host that advertises it could be reached".into()),
        });
    }
    let asked = answers.len();
    let mut offers = Vec::new();
    let mut rejections = Vec::new();
    let mut failures = Vec::new();
    let tokens = (u64::from(request.max_tokens), stall);
    for (c, sent, answer) in answers {
        match answer {
            Ok(Answer::Offer(offer)) => offers.push((c, (offer, sent))),
            Ok(Answer::Rejected(reason, message)) => rejections.push((c, reason, message)),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let offered = offers.len();
    let lowest_offer = offers.iter().map(|o| o.1 .0.price).min();
    let mut chosen = None;
    // Best first: lowest price, then more reliable, then nearer; equals in the order asked.
    // (Taken one by one rather than sorted: a stable sort of this type cost 3.7 KB of wasm.)
    while let Some(best) = (0..offers.len()).min_by(|&a, &b| {
        let (a, b) = (&offers[a], &offers[b]);
        a.1 .0
            .price
            .cmp(&b.1 .0.price)
            .then(b.0.reliability.total_cmp(&a.0.reliability))
            .then(a.0.latency.total_cmp(&b.0.latency))
    }) {
        let (c, (mut offer, sent)) = offers.remove(best);
        let fits = sent.admits(&offer);
        if !fits {
            // Said when no host takes the job (else "no host answered" would be all it said).
            failures.push(format!("{} {}", c.peer, sent.above(&offer)));
        }
        let (job_id, price, prompt_price) = (offer.job_id, offer.price, offer.prompt_price);
        if chosen.is_some() || !fits {
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
                    request_sha256: sent.sha256,
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

/// Why a host asked (`sent`) to start a job did not (a started job above the maxima is
/// dropped); `again`: it is asked again at the request's own maxima.
fn not_started(sent: &Sent, answer: &Result<Answer, SdkError>, again: bool) -> String {
    let why = match answer {
        Ok(Answer::Offer(o)) => format!("it {}", sent.above(o)),
        Ok(Answer::Rejected(reason, message)) => format!(
            "it rejected it ({}): {message}",
            fabstir_protocol::messages::reject_reason_code(*reason)
        ),
        Err(e) => e.to_string(),
    };
    if again {
        why + "; asked again at the request's maxima"
    } else {
        why
    }
}

/// What a host was asked: the SHA-256 of the request (its receipt names it) and its maxima.
#[derive(Clone)]
struct Sent {
    sha256: String,
    max: u64,
    max_prompt: u64,
}

impl Sent {
    /// Whether `offer` is within the maxima this host was asked with (a host that started a
    /// job above them should have refused: the job is dropped).
    fn admits(&self, offer: &Offer) -> bool {
        offer.price <= self.max && offer.prompt_price <= self.max_prompt
    }

    /// What the host did with an offer [`Sent::admits`] refuses ("started the job at …").
    fn above(&self, offer: &Offer) -> String {
        let did = if offer.started { "started" } else { "offered" };
        let (price, max, what) = if offer.price > self.max {
            (offer.price, self.max, "")
        } else {
            (offer.prompt_price, self.max_prompt, "prompt ")
        };
        format!("{did} the job at {price} per {what}token, above the {max} it was asked for")
    }
}

/// Each candidate's answer to `request` (asked at once, each within `limit` and asked again
/// when the host closed the stream unanswered), with the SHA-256 of the request (its receipt
/// names it).
async fn ask_all(
    control: &libp2p_stream::Control,
    candidates: Vec<Candidate>,
    request: &JobRequest,
    limit: Duration,
) -> Vec<(Candidate, Sent, Result<Answer, SdkError>)> {
    let asked = candidates.iter().map(|c| async move {
        let asked = crate::net::dropped::retry_unanswered(|| {
            let mut control = control.clone();
            async move { ask(&mut control, c.peer, request).await }
        });
        match crate::net::rt::timeout(limit, asked).await {
            Some(r) => r,
            None => Err(SdkError::Timeout {
                operation: format!("job offer from {}", c.peer),
                after_ms: limit.as_millis() as u64,
            }),
        }
    });
    let asked = futures::future::join_all(asked).await;
    let sent = Sent {
        sha256: request_sha256(request),
        max: request.max_price_per_token,
        max_prompt: request.max_prompt_price_per_token.unwrap_or(u64::MAX),
    };
    let mut answers = Vec::with_capacity(asked.len());
    for (c, answer) in candidates.into_iter().zip(asked) {
        answers.push((c, sent.clone(), answer));
    }
    answers
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

#[cfg(test)]
mod tests {
    use super::*;

    /// No host reachable: the error says why one of them was not, instead of only saying that
    /// none could be reached.
    #[test]
    fn an_unreachable_host_is_named_in_the_error() {
        let control = libp2p_stream::Behaviour::new().new_control();
        let request = JobRequest {
            model_id: "m".into(),
            prompt: "p".into(),
            max_tokens: 1,
            max_price_per_token: 5,
            ..JobRequest::default()
        };
        let unreachable = std::cell::Cell::new(Some("b is unreachable: refused".to_string()));
        let result = futures::executor::block_on(negotiate(
            &control,
            None,
            |_| async { Vec::new() },
            &unreachable,
            request,
            Duration::from_secs(1),
            Duration::from_secs(1),
        ));
        match result {
            Err(SdkError::NoNodesAvailable { model_id, reason }) => {
                assert_eq!(model_id, "m");
                assert_eq!(reason, "b is unreachable: refused");
            }
            other => panic!("{:?}", other.map(|r| r.0)),
        }
    }
}
