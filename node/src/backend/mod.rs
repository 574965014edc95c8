//! Token generators behind one trait: the built-in `demo` generator and `openai` (any
//! OpenAI-compatible streaming server).

use std::sync::Arc;

use futures::stream::BoxStream;

use crate::config::host::BackendConfig;
use crate::error::NodeError;

pub mod demo;
pub mod openai;

/// Why a backend could not produce (more) tokens.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    /// What went wrong, for people (and the client's error frame).
    pub message: String,
}

impl BackendError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        BackendError {
            message: message.into(),
        }
    }
}

/// What one generation request asks for (already validated against the host's limits).
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The prompt.
    pub prompt: String,
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus sampling.
    pub top_p: f32,
    /// Output produced elsewhere that this generation continues (failover).
    pub continuation: Option<fabstir_protocol::messages::Continuation>,
}

/// Generates tokens for one model.
pub trait Backend: Send + Sync {
    /// Starts generating; the stream yields tokens in order and ends when the model is done or
    /// `max_tokens` is reached. Dropping the stream stops the generation.
    fn generate(&self, request: Generation) -> BoxStream<'static, Result<String, BackendError>>;
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
                    std::time::Duration::from_secs(*connect_timeout_secs),
                )
                .map_err(|e| NodeError::Startup {
                    field: field.to_string(),
                    message: e.message,
                })?,
            )
        }
    })
}
