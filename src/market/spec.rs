//! What a page asks of `submitJobWithNegotiation`, and the job request it becomes.

use fabstir_protocol::messages::JobRequest;
use serde::Deserialize;

use crate::error::SdkError;

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
