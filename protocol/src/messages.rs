//! The typed messages of the info, job and stream protocols (see `docs/PROTOCOL.md`).
//!
//! Prices are integers in the network's smallest price unit per token, so comparing offers is
//! exact. Times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

/// `/fabstir/info/1.0.0`: the dialer opens the stream, the host writes one [`NodeInfo`] and closes.
pub const INFO_PROTOCOL: &str = "/fabstir/info/1.0.0";
/// `/fabstir/job/1.0.0`: [`JobRequest`] → [`JobResponse`] → (on an offer) [`JobDecision`].
pub const JOB_PROTOCOL: &str = "/fabstir/job/1.0.0";
/// `/fabstir/stream/1.0.0`: [`StreamRequest`] → [`StreamFrame`]s until `end` or `error`.
pub const STREAM_PROTOCOL: &str = "/fabstir/stream/1.0.0";

/// The longest prompt a host accepts, in bytes (the frame limit bounds it too).
pub const MAX_PROMPT_LEN: usize = 32 * 1024;
/// The most tokens one job may ask for.
pub const MAX_TOKENS_LIMIT: u32 = 65_536;
/// The longest model id, in bytes.
pub const MAX_MODEL_ID_LEN: usize = 256;

/// Which kind of backend generates a host's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The node's built-in deterministic generator (for demos and tests; labelled as such).
    Demo,
    /// An OpenAI-compatible streaming server.
    Openai,
}

/// One model a host serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelInfo {
    /// The model id, e.g. `llama-3-8b`.
    pub id: String,
    /// Price per generated token.
    pub price_per_token: u64,
    /// The most tokens one job may generate.
    pub max_tokens: u32,
    /// The backend that serves it.
    pub backend: BackendKind,
}

/// A host's capabilities and load (the info protocol's answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeInfo {
    /// The node's software version.
    pub version: String,
    /// The models it serves.
    pub models: Vec<ModelInfo>,
    /// Jobs it runs at once.
    pub max_concurrent_jobs: u32,
    /// Jobs running now.
    pub current_load: u32,
}

/// A request for an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobRequest {
    /// Which model.
    pub model_id: String,
    /// The prompt, at most [`MAX_PROMPT_LEN`] bytes.
    pub prompt: String,
    /// Tokens to generate, 1..=[`MAX_TOKENS_LIMIT`].
    pub max_tokens: u32,
    /// Sampling temperature, 0..=2.
    pub temperature: f32,
    /// Nucleus sampling, (0, 1].
    pub top_p: f32,
    /// The highest price per token the client accepts.
    pub max_price_per_token: u64,
}

impl JobRequest {
    /// Checks the limits every host enforces; the error says which field and value.
    pub fn validate(&self) -> Result<(), String> {
        if self.model_id.is_empty() || self.model_id.len() > MAX_MODEL_ID_LEN {
            return Err(format!(
                "modelId must be 1 to {MAX_MODEL_ID_LEN} bytes, got {}",
                self.model_id.len()
            ));
        }
        if self.prompt.len() > MAX_PROMPT_LEN {
            return Err(format!(
                "prompt must be at most {MAX_PROMPT_LEN} bytes, got {}",
                self.prompt.len()
            ));
        }
        if !(1..=MAX_TOKENS_LIMIT).contains(&self.max_tokens) {
            return Err(format!(
                "maxTokens must be 1 to {MAX_TOKENS_LIMIT}, got {}",
                self.max_tokens
            ));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(format!(
                "temperature must be 0 to 2, got {}",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(format!(
                "topP must be above 0 and at most 1, got {}",
                self.top_p
            ));
        }
        Ok(())
    }
}

/// Why a host declined a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// It runs its maximum number of jobs.
    Busy,
    /// Its price is above the client's `maxPricePerToken`.
    PriceTooLow,
    /// It does not serve the model.
    UnsupportedModel,
    /// The request broke a limit (see the message).
    InvalidRequest,
}

/// The host's answer to a [`JobRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum JobResponse {
    /// The host will run the job at this price if accepted before `expires_at`.
    #[serde(rename_all = "camelCase")]
    Offer {
        /// The job's id (opaque, unique per host).
        job_id: String,
        /// The price per token.
        price_per_token: u64,
        /// When the offer lapses.
        expires_at: u64,
    },
    /// The host declines.
    Rejected {
        /// Why.
        reason: RejectReason,
        /// Details for people.
        message: String,
    },
}

/// The client's answer to an offer, on the same stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum JobDecision {
    /// Start the job.
    #[serde(rename_all = "camelCase")]
    Accept {
        /// The offered job.
        job_id: String,
    },
    /// Forget the offer.
    #[serde(rename_all = "camelCase")]
    Decline {
        /// The offered job.
        job_id: String,
    },
}

/// Opens (or resumes) the token stream of an accepted job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamRequest {
    /// The job.
    pub job_id: String,
    /// The first token index wanted; 0 for the whole stream.
    pub resume_from: u64,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished.
    Stop,
    /// `maxTokens` was reached.
    Length,
    /// The client cancelled.
    Cancelled,
}

/// One frame of a token stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum StreamFrame {
    /// A generated token; indexes start at 0 and increase by 1.
    Token {
        /// Its position in the job's output.
        index: u64,
        /// Its text.
        content: String,
        /// When the host produced it.
        timestamp: u64,
    },
    /// The job finished; no frame follows.
    #[serde(rename_all = "camelCase")]
    End {
        /// Tokens generated in all.
        total_tokens: u64,
        /// Milliseconds from start to end.
        duration_ms: u64,
        /// Why it ended.
        finish_reason: FinishReason,
    },
    /// The job failed; no frame follows.
    Error {
        /// A stable code, e.g. `JOB_NOT_FOUND`, `BACKEND_FAILED`.
        code: String,
        /// Details for people.
        message: String,
        /// Whether resuming the stream later may succeed.
        recoverable: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{decode, encode};

    fn round_trip<M: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
        m: M,
    ) -> serde_json::Value {
        let frame = encode(&m).unwrap();
        assert_eq!(decode::<M>(&frame[4..]).unwrap(), m);
        serde_json::from_slice(&frame[4..]).unwrap()
    }

    fn request() -> JobRequest {
        JobRequest {
            model_id: "demo-1".into(),
            prompt: "hi".into(),
            max_tokens: 10,
            temperature: 0.7,
            top_p: 1.0,
            max_price_per_token: 5,
        }
    }

    #[test]
    fn every_message_round_trips_in_its_documented_shape() {
        let info = NodeInfo {
            version: "0.1.0".into(),
            models: vec![ModelInfo {
                id: "demo-1".into(),
                price_per_token: 3,
                max_tokens: 4096,
                backend: BackendKind::Demo,
            }],
            max_concurrent_jobs: 4,
            current_load: 1,
        };
        assert_eq!(round_trip(info)["models"][0]["backend"], "demo");
        assert_eq!(round_trip(request())["maxPricePerToken"], 5);
        let offer = JobResponse::Offer {
            job_id: "j1".into(),
            price_per_token: 3,
            expires_at: 9,
        };
        assert_eq!(round_trip(offer)["type"], "offer");
        let rejected = JobResponse::Rejected {
            reason: RejectReason::PriceTooLow,
            message: "x".into(),
        };
        assert_eq!(round_trip(rejected)["reason"], "price_too_low");
        assert_eq!(
            round_trip(JobDecision::Accept {
                job_id: "j1".into()
            })["jobId"],
            "j1"
        );
        round_trip(JobDecision::Decline {
            job_id: "j1".into(),
        });
        assert_eq!(
            round_trip(StreamRequest {
                job_id: "j1".into(),
                resume_from: 300
            })["resumeFrom"],
            300
        );
        let token = StreamFrame::Token {
            index: 0,
            content: "Hello".into(),
            timestamp: 1,
        };
        assert_eq!(round_trip(token)["type"], "token");
        let end = StreamFrame::End {
            total_tokens: 2,
            duration_ms: 5,
            finish_reason: FinishReason::Length,
        };
        assert_eq!(round_trip(end)["finishReason"], "length");
        let error = StreamFrame::Error {
            code: "JOB_NOT_FOUND".into(),
            message: "x".into(),
            recoverable: false,
        };
        assert_eq!(round_trip(error)["recoverable"], false);
    }

    #[test]
    fn unknown_fields_and_types_are_malformed() {
        assert!(decode::<StreamFrame>(
            br#"{"type":"token","index":0,"content":"a","timestamp":1,"x":1}"#
        )
        .is_err());
        assert!(decode::<StreamFrame>(br#"{"type":"confetti"}"#).is_err());
        assert!(decode::<StreamRequest>(br#"{"jobId":"j","resumeFrom":-1}"#).is_err());
    }

    #[test]
    fn job_request_limits() {
        assert!(request().validate().is_ok());
        let bad = [
            JobRequest {
                model_id: String::new(),
                ..request()
            },
            JobRequest {
                prompt: "x".repeat(MAX_PROMPT_LEN + 1),
                ..request()
            },
            JobRequest {
                max_tokens: 0,
                ..request()
            },
            JobRequest {
                max_tokens: MAX_TOKENS_LIMIT + 1,
                ..request()
            },
            JobRequest {
                temperature: -0.1,
                ..request()
            },
            JobRequest {
                temperature: f32::NAN,
                ..request()
            },
            JobRequest {
                top_p: 0.0,
                ..request()
            },
            JobRequest {
                top_p: f32::NAN,
                ..request()
            },
        ];
        for r in bad {
            assert!(r.validate().is_err(), "{r:?} passed validation");
        }
    }
}
