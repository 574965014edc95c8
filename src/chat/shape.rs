//! A job's output in the shapes of the `openai` package: `ChatCompletionChunk`s while it
//! streams and one `ChatCompletion` at its end, each with our own `fabstir` figures.

use fabstir_protocol::chat::Usage;
use fabstir_protocol::messages::FinishReason;
use serde::Serialize;

/// Which host served a completion, at what prices and cost (the `fabstir` field).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatServed {
    /// The job's id.
    pub job_id: String,
    /// The host that finished it.
    pub node_id: String,
    /// Its price per generated token.
    pub price_per_token: u64,
    /// Its price per prompt token.
    pub price_per_prompt_token: u64,
    /// What the job cost, every host's part together (known at the end).
    pub cost: Option<u64>,
    /// The host counted prompt tokens by rule: its model server reported none.
    pub prompt_estimated: bool,
    /// Hosts it moved to after a failure.
    pub failovers: u32,
    /// Every host's verified receipt, once the job ended (see `Job.receipts`); the binding adds
    /// them to the JS value.
    #[serde(skip)]
    pub receipts: Vec<crate::market::receipts::VerifiedReceipt>,
}

/// OpenAI's `CompletionUsage`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompletionUsage {
    /// Tokens of the conversation.
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// The two together.
    pub total_tokens: u64,
}

impl From<Usage> for CompletionUsage {
    fn from(u: Usage) -> Self {
        CompletionUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.prompt_tokens + u.completion_tokens,
        }
    }
}

/// `choices[0].delta` of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    /// `assistant`, in the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// The next text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// One choice of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkChoice {
    /// Always 0: one choice per request.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Always null: not supported.
    pub logprobs: Option<()>,
    /// `stop` or `length` in the last chunk, else null.
    pub finish_reason: Option<&'static str>,
}

/// OpenAI's `ChatCompletionChunk`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatCompletionChunk {
    /// `chatcmpl-` and the job id, the same in every chunk of a completion.
    pub id: String,
    /// `chat.completion.chunk`.
    pub object: &'static str,
    /// Unix seconds when the request was made.
    pub created: u64,
    /// The model id.
    pub model: String,
    /// One choice; none in the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// In the usage chunk only (`stream_options.include_usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    /// In the first and the last chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fabstir: Option<ChatServed>,
}

/// The answer of a `ChatCompletion`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssistantMessage {
    /// `assistant`.
    pub role: &'static str,
    /// The whole text.
    pub content: String,
    /// Always null: hosts do not refuse by message.
    pub refusal: Option<String>,
}

/// One choice of a completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// Always 0.
    pub index: u32,
    /// The answer.
    pub message: AssistantMessage,
    /// Always null.
    pub logprobs: Option<()>,
    /// `stop` or `length`.
    pub finish_reason: &'static str,
}

/// OpenAI's `ChatCompletion`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatCompletion {
    /// `chatcmpl-` and the job id.
    pub id: String,
    /// `chat.completion`.
    pub object: &'static str,
    /// Unix seconds when the request was made.
    pub created: u64,
    /// The model id.
    pub model: String,
    /// One choice.
    pub choices: Vec<Choice>,
    /// Tokens read and generated, when the host reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    /// Who served it and what it cost.
    pub fabstir: ChatServed,
}

/// OpenAI's name of a finish reason; `None` for `cancelled`, which OpenAI reports as an abort
/// error rather than a reason.
pub fn finish_reason(reason: FinishReason) -> Option<&'static str> {
    match reason {
        FinishReason::Stop => Some("stop"),
        FinishReason::Length => Some("length"),
        FinishReason::Cancelled => None,
    }
}

/// Makes the chunks and the completion of one job.
#[derive(Debug, Clone)]
pub struct ChatShaper {
    id: String,
    created: u64,
    model: String,
}

impl ChatShaper {
    /// For job `job_id` of `model`, requested at `created_ms` (ms since the epoch).
    pub fn new(job_id: &str, model: &str, created_ms: f64) -> Self {
        ChatShaper {
            id: format!("chatcmpl-{job_id}"),
            created: (created_ms / 1000.0) as u64,
            model: model.to_string(),
        }
    }

    fn chunk(
        &self,
        delta: Delta,
        finish: Option<&'static str>,
        served: Option<ChatServed>,
    ) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk",
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                logprobs: None,
                finish_reason: finish,
            }],
            usage: None,
            fabstir: served,
        }
    }

    /// The first chunk: the role, empty content.
    pub fn role(&self, served: ChatServed) -> ChatCompletionChunk {
        let delta = Delta {
            role: Some("assistant"),
            content: Some(String::new()),
        };
        self.chunk(delta, None, Some(served))
    }

    /// A chunk of text.
    pub fn content(&self, text: String) -> ChatCompletionChunk {
        let delta = Delta {
            role: None,
            content: Some(text),
        };
        self.chunk(delta, None, None)
    }

    /// The last chunk with a choice: the finish reason and, under `fabstir`, the cost.
    pub fn finish(&self, reason: &'static str, served: ChatServed) -> ChatCompletionChunk {
        let delta = Delta {
            role: None,
            content: None,
        };
        self.chunk(delta, Some(reason), Some(served))
    }

    /// The usage chunk: no choices.
    pub fn usage(&self, usage: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk",
            created: self.created,
            model: self.model.clone(),
            choices: Vec::new(),
            usage: Some(usage.into()),
            fabstir: None,
        }
    }

    /// The whole completion.
    pub fn completion(
        &self,
        text: String,
        reason: &'static str,
        usage: Option<Usage>,
        served: ChatServed,
    ) -> ChatCompletion {
        ChatCompletion {
            id: self.id.clone(),
            object: "chat.completion",
            created: self.created,
            model: self.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: "assistant",
                    content: text,
                    refusal: None,
                },
                logprobs: None,
                finish_reason: reason,
            }],
            usage: usage.map(CompletionUsage::from),
            fabstir: served,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> ChatServed {
        ChatServed {
            job_id: "j".into(),
            node_id: "n".into(),
            price_per_token: 2,
            price_per_prompt_token: 1,
            cost: Some(9),
            prompt_estimated: false,
            failovers: 0,
            receipts: Vec::new(),
        }
    }

    #[test]
    fn chunks_and_completions_have_the_openai_shape() {
        let s = ChatShaper::new("j", "m", 1_700_000_000_500.0);
        let role = serde_json::to_value(s.role(served())).unwrap();
        assert_eq!(role["id"], "chatcmpl-j");
        assert_eq!(role["created"], 1_700_000_000u64);
        assert_eq!(role["object"], "chat.completion.chunk");
        assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
        assert!(role["choices"][0]["finish_reason"].is_null());
        let text = serde_json::to_value(s.content("hi".into())).unwrap();
        assert_eq!(text["choices"][0]["delta"]["content"], "hi");
        assert!(text["choices"][0]["delta"].get("role").is_none());
        assert!(text.get("fabstir").is_none());
        let last = serde_json::to_value(s.finish("length", served())).unwrap();
        assert_eq!(last["choices"][0]["finish_reason"], "length");
        assert_eq!(last["fabstir"]["cost"], 9);
        let usage = Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
            prompt_estimated: false,
        };
        let u = serde_json::to_value(s.usage(usage)).unwrap();
        assert_eq!(u["choices"].as_array().unwrap().len(), 0);
        assert_eq!(u["usage"]["total_tokens"], 7);
        let c =
            serde_json::to_value(s.completion("hi".into(), "stop", Some(usage), served())).unwrap();
        assert_eq!(c["object"], "chat.completion");
        assert_eq!(c["choices"][0]["message"]["content"], "hi");
        assert!(c["choices"][0]["message"]["refusal"].is_null());
        assert_eq!(c["usage"]["prompt_tokens"], 3);
        assert_eq!(finish_reason(FinishReason::Cancelled), None);
    }
}
