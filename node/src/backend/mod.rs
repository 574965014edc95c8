//! Token generators behind one trait: the built-in `demo` generator and `openai` (any
//! OpenAI-compatible streaming server).

use std::sync::Arc;

use fabstir_protocol::chat::{ChatMessage, Usage};
use fabstir_protocol::messages::FinishReason;
use futures::stream::BoxStream;

use crate::config::host::BackendConfig;
use crate::error::NodeError;

pub mod demo;
pub mod openai;
pub mod stop;

/// Why a backend could not produce (more) tokens.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    /// What went wrong, for people (and the client's error frame).
    pub message: String,
    /// Whether the request itself is at fault (another try with the same request fails too).
    pub kind: BackendErrorKind,
}

/// What kind of failure a [`BackendError`] is; each has its own stream error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendErrorKind {
    /// The backend failed (down, an HTTP error, a broken or cut-short stream): `BACKEND_FAILED`,
    /// recoverable (another host may serve the job).
    Failed,
    /// The prompt does not fit the model's context: `PROMPT_TOO_LONG`, not recoverable.
    PromptTooLong,
}

impl BackendError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        BackendError {
            message: message.into(),
            kind: BackendErrorKind::Failed,
        }
    }

    pub(crate) fn prompt_too_long(message: impl Into<String>) -> Self {
        BackendError {
            message: message.into(),
            kind: BackendErrorKind::PromptTooLong,
        }
    }

    /// The stream error code clients see.
    pub fn code(&self) -> &'static str {
        match self.kind {
            BackendErrorKind::Failed => "BACKEND_FAILED",
            BackendErrorKind::PromptTooLong => "PROMPT_TOO_LONG",
        }
    }

    /// Whether another try (on another host) may succeed.
    pub fn recoverable(&self) -> bool {
        self.kind == BackendErrorKind::Failed
    }
}

/// What one generation request asks for (already validated against the host's limits).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Generation {
    /// The conversation, as the client gave it (a `prompt` is one user message).
    pub messages: Vec<ChatMessage>,
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus sampling.
    pub top_p: f32,
    /// Generation ends before any of these.
    pub stop: Vec<String>,
    /// A sampling seed.
    pub seed: Option<u32>,
    /// Presence penalty, -2..=2.
    pub presence_penalty: Option<f32>,
    /// Frequency penalty, -2..=2.
    pub frequency_penalty: Option<f32>,
    /// Output produced elsewhere that this generation continues (failover).
    pub continuation: Option<fabstir_protocol::messages::Continuation>,
}

impl Generation {
    /// What a job request asks the backend for.
    pub fn of(request: &fabstir_protocol::messages::JobRequest) -> Self {
        Generation {
            messages: request.conversation(),
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            top_p: request.top_p,
            stop: request.stop.clone(),
            seed: request.seed,
            presence_penalty: request.presence_penalty,
            frequency_penalty: request.frequency_penalty,
            continuation: request.continuation.clone(),
        }
    }

    /// The conversation the model continues: the messages with any continuation text appended
    /// to a last assistant message (or added as one).
    pub fn to_continue(&self) -> Vec<ChatMessage> {
        fabstir_protocol::chat::continued(
            self.messages.clone(),
            self.continuation.as_ref().map(|c| c.text.as_str()),
        )
    }
}

/// What a backend's stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// The next token's text.
    Token(String),
    /// Generation ended; nothing follows.
    Finished {
        /// `stop` (the model's end or a stop sequence) or `length`.
        reason: FinishReason,
        /// Tokens read and generated.
        usage: Usage,
    },
}

/// Generates tokens for one model.
pub trait Backend: Send + Sync {
    /// Starts generating; the stream yields tokens in order, then [`Piece::Finished`] (or an
    /// error). Dropping the stream stops the generation.
    fn generate(&self, request: Generation) -> BoxStream<'static, Result<Piece, BackendError>>;
}

/// Builds the backend a model's configuration describes; `field` names it in errors.
pub fn build(config: &BackendConfig, field: &str) -> Result<Arc<dyn Backend>, NodeError> {
    Ok(match config {
        BackendConfig::Demo {
            seed,
            tokens_per_second,
        } => Arc::new(demo::DemoBackend::new(*seed, *tokens_per_second)),
        BackendConfig::Openai {
            base_url,
            model,
            api_key_env,
            connect_timeout_secs,
            idle_timeout_secs,
            parallel: _,
            continuation,
        } => {
            let api_key = match api_key_env {
                None => None,
                Some(var) => Some(std::env::var(var).map_err(|_| NodeError::Startup {
                    field: format!("{field}.api_key_env"),
                    message: format!("the environment variable {var} is not set"),
                })?),
            };
            Arc::new(
                openai::OpenAiBackend::new(
                    base_url,
                    model,
                    api_key,
                    openai::Timeouts {
                        connect: std::time::Duration::from_secs(*connect_timeout_secs),
                        idle: std::time::Duration::from_secs(*idle_timeout_secs),
                    },
                    *continuation,
                )
                .map_err(|e| NodeError::Startup {
                    field: field.to_string(),
                    message: e.message,
                })?,
            )
        }
    })
}
