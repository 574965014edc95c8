//! The stream protocol's messages (`/fabstir/stream/1.0.0`): the request, the client's control
//! frame, and the frames of tokens, end and error.

use serde::{Deserialize, Serialize};

use crate::chat::Usage;

/// Opens (or resumes) the token stream of an accepted job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamRequest {
    /// The job.
    pub job_id: String,
    /// The first token index wanted; 0 for the whole stream.
    pub resume_from: u64,
}

/// What the client may send on a token stream after its [`StreamRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum StreamControl {
    /// Stop generating; the host ends the stream with `finishReason: "cancelled"`.
    Cancel,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished, or generated a stop sequence.
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
        /// Milliseconds from the job's start to its end.
        duration: u64,
        /// Why it ended.
        finish_reason: FinishReason,
        /// Tokens read and generated (absent from hosts before conversations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        /// What the job cost at the agreed prices, from `usage`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<u64>,
        /// The host's signed receipt of the job ([`crate::receipt`]): the sealed envelope in
        /// standard base64 (absent from hosts before receipts).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt: Option<String>,
    },
    /// The job failed; no frame follows.
    Error {
        /// A stable code, e.g. `JOB_NOT_FOUND`, `BACKEND_FAILED`.
        code: String,
        /// Details for people.
        message: String,
        /// Whether resuming the stream later may succeed.
        recoverable: bool,
        /// The host's signed receipt of the tokens it sent before the error, when it hands the
        /// job on (`SHUTTING_DOWN`); base64 as on `end`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt: Option<String>,
    },
}
