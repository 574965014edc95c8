//! `chat.completions.create(params)`: the OpenAI parameters we support, checked and turned into
//! a [`JobSpec`]. Every parameter we do not support is an `INVALID_ARGUMENT` naming it, never
//! silently ignored.

use fabstir_protocol::chat::{ChatMessage, Role};
use serde_json::{Map, Value};

use crate::error::SdkError;
use crate::market::negotiation::JobSpec;
use crate::market::retry::RetryOptions;

/// OpenAI parameters we know and do not serve, with why (for the error).
const UNSUPPORTED: &[(&str, &str)] = &[
    ("tools", "tool calling is not supported"),
    ("tool_choice", "tool calling is not supported"),
    ("parallel_tool_calls", "tool calling is not supported"),
    ("functions", "function calling is not supported"),
    ("function_call", "function calling is not supported"),
    ("response_format", "structured output is not supported"),
    ("logprobs", "log probabilities are not supported"),
    ("top_logprobs", "log probabilities are not supported"),
    ("logit_bias", "logit bias is not supported"),
    ("modalities", "only text is supported"),
    ("audio", "only text is supported"),
    ("prediction", "predicted outputs are not supported"),
    ("reasoning_effort", "reasoning settings are not supported"),
    ("web_search_options", "web search is not supported"),
    ("service_tier", "service tiers do not exist on this network"),
    ("store", "nothing is stored by this network"),
    ("metadata", "nothing is stored by this network"),
    ("user", "end-user ids are not sent to hosts"),
];

/// Our own choices, under `fabstir` in the parameters.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FabstirOptions {
    /// The highest price per generated token accepted.
    #[serde(default)]
    pub max_price: Option<u64>,
    /// The highest price per prompt token accepted.
    #[serde(default)]
    pub max_prompt_price: Option<u64>,
    /// Peer ids asked first.
    #[serde(default)]
    pub preferred_nodes: Vec<String>,
    /// Peer ids never asked.
    #[serde(default)]
    pub exclude_nodes: Vec<String>,
    /// Retry negotiation as `submitJobWithRetry` does (`true`: its defaults).
    #[serde(default)]
    pub retry: Option<RetryChoice>,
}

/// `fabstir.retry`: `true`, `false` or retry options.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum RetryChoice {
    /// `true`: the defaults; `false`: no retries.
    On(bool),
    /// As `submitJobWithRetry`'s options.
    Options(RetryOptions),
}

/// A checked `chat.completions.create` request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The job to run.
    pub spec: JobSpec,
    /// `stream: true`: chunks; else one completion.
    pub stream: bool,
    /// `stream_options.include_usage`: a last chunk with usage and no choices.
    pub include_usage: bool,
    /// How to retry negotiation, if at all.
    pub retry: Option<RetryOptions>,
}

fn bad(name: impl Into<String>, message: impl Into<String>) -> SdkError {
    SdkError::argument(name, message)
}

fn number(params: &Map<String, Value>, name: &str) -> Result<Option<f64>, SdkError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(bad(name, format!("must be a number, got {other}"))),
    }
}

fn whole(params: &Map<String, Value>, name: &str, max: u64) -> Result<Option<u64>, SdkError> {
    match number(params, name)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=max as f64).contains(&n) => Ok(Some(n as u64)),
        Some(n) => Err(bad(
            name,
            format!(
                "must be a whole number 0 to {max}, got {}",
                fabstir_protocol::float_text(n)
            ),
        )),
    }
}

/// The text of a message's `content`: a string, or an array of `{ type: "text", text }` parts.
fn content(value: &Value, at: &str) -> Result<String, SdkError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => parts
            .iter()
            .enumerate()
            .map(|(i, part)| match (part["type"].as_str(), part["text"].as_str()) {
                (Some("text"), Some(text)) => Ok(text),
                _ => Err(bad(
                    format!("{at}.content[{i}]"),
                    format!("only text parts ({{ type: \"text\", text }}) are supported, got {part}"),
                )),
            })
            .collect(),
        other => Err(bad(
            format!("{at}.content"),
            format!("must be a string or an array of text parts, got {other}"),
        )),
    }
}

fn messages(value: Option<&Value>) -> Result<Vec<ChatMessage>, SdkError> {
    let Some(Value::Array(items)) = value else {
        return Err(bad(
            "messages",
            "is required: an array of { role, content }",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let at = format!("messages[{i}]");
            let Value::Object(m) = m else {
                return Err(bad(at, "must be an object { role, content }"));
            };
            if let Some(key) = m.keys().find(|k| !matches!(k.as_str(), "role" | "content")) {
                return Err(bad(format!("{at}.{key}"), "is not supported"));
            }
            let role = match m.get("role").and_then(Value::as_str) {
                Some("system") | Some("developer") => Role::System,
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                other => {
                    return Err(bad(
                        format!("{at}.role"),
                        format!(
                            "must be system, developer, user or assistant, got {}",
                            other.map_or("nothing".into(), |r| format!("{r:?}"))
                        ),
                    ))
                }
            };
            let text = content(m.get("content").unwrap_or(&Value::Null), &at)?;
            Ok(ChatMessage::new(role, text))
        })
        .collect()
}

impl ChatRequest {
    /// Checks `params` (the object given to `create`, as JSON).
    pub fn parse(params: &Value) -> Result<ChatRequest, SdkError> {
        let Value::Object(p) = params else {
            return Err(bad("params", "must be an object"));
        };
        for key in p.keys() {
            if let Some((_, why)) = UNSUPPORTED.iter().find(|(k, _)| k == key) {
                return Err(bad(key.as_str(), format!("is not supported: {why}")));
            }
            let known = [
                "model",
                "messages",
                "max_tokens",
                "max_completion_tokens",
                "temperature",
                "top_p",
                "stop",
                "seed",
                "presence_penalty",
                "frequency_penalty",
                "stream",
                "stream_options",
                "n",
                "fabstir",
            ];
            if !known.contains(&key.as_str()) {
                return Err(bad(
                    key.as_str(),
                    "is not a chat completion parameter we know",
                ));
            }
        }
        let model = match p.get("model") {
            Some(Value::String(m)) if !m.is_empty() => m.clone(),
            _ => return Err(bad("model", "is required: the model id")),
        };
        if let Some(n) = whole(p, "n", u64::MAX)? {
            if n != 1 {
                return Err(bad("n", format!("only 1 choice is supported, got {n}")));
            }
        }
        let max_tokens = match (
            whole(p, "max_tokens", u64::from(u32::MAX))?,
            whole(p, "max_completion_tokens", u64::from(u32::MAX))?,
        ) {
            (Some(a), Some(b)) if a != b => {
                return Err(bad(
                    "max_completion_tokens",
                    format!("differs from max_tokens ({b} vs {a}); give one of them"),
                ))
            }
            (a, b) => b.or(a).map_or(256, |n| n as u32),
        };
        let stop = match p.get("stop") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad(format!("stop[{i}]"), "must be a string"))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(bad(
                    "stop",
                    format!("must be a string or an array of strings, got {other}"),
                ))
            }
        };
        let stream = match p.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(bad("stream", format!("must be true or false, got {other}")))
            }
        };
        let include_usage = match p.get("stream_options") {
            None | Some(Value::Null) => false,
            Some(Value::Object(o)) => {
                if let Some(key) = o.keys().find(|k| k.as_str() != "include_usage") {
                    return Err(bad(format!("stream_options.{key}"), "is not supported"));
                }
                o.get("include_usage")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            }
            Some(other) => {
                return Err(bad(
                    "stream_options",
                    format!("must be an object, got {other}"),
                ))
            }
        };
        if include_usage && !stream {
            return Err(bad("stream_options", "is only allowed with stream: true"));
        }
        let fabstir: FabstirOptions = match p.get("fabstir") {
            None | Some(Value::Null) => FabstirOptions::default(),
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|e| bad("fabstir", e.to_string()))?
            }
        };
        let retry = match fabstir.retry {
            None | Some(RetryChoice::On(false)) => None,
            Some(RetryChoice::On(true)) => Some(RetryOptions::default()),
            Some(RetryChoice::Options(o)) => Some(o),
        };
        let float = |name: &str| number(p, name).map(|v| v.map(|v| v as f32));
        let spec = JobSpec {
            model_id: model,
            prompt: String::new(),
            messages: messages(p.get("messages"))?,
            max_tokens,
            // OpenAI's defaults.
            temperature: float("temperature")?.unwrap_or(1.0),
            top_p: float("top_p")?.unwrap_or(1.0),
            max_price: fabstir.max_price,
            max_prompt_price: fabstir.max_prompt_price,
            stop,
            seed: whole(p, "seed", u64::from(u32::MAX))?.map(|s| s as u32),
            presence_penalty: float("presence_penalty")?,
            frequency_penalty: float("frequency_penalty")?,
            preferred_nodes: fabstir.preferred_nodes,
            exclude_nodes: fabstir.exclude_nodes,
            continuation: None,
        };
        // The wire limits (message count, stop sequences, ranges), named as OpenAI names them.
        spec.request().map_err(|e| match e {
            SdkError::InvalidArgument { name, message } => bad(openai_name(&name), message),
            other => other,
        })?;
        Ok(ChatRequest {
            spec,
            stream,
            include_usage,
            retry,
        })
    }
}

/// Our field name in a validation message as the OpenAI parameter it came from.
fn openai_name(name: &str) -> String {
    match name {
        "maxTokens" => "max_tokens".into(),
        "topP" => "top_p".into(),
        "presencePenalty" => "presence_penalty".into(),
        "frequencyPenalty" => "frequency_penalty".into(),
        other => other.trim_end_matches(':').into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ChatRequest, SdkError> {
        ChatRequest::parse(&v)
    }

    fn error_name(v: Value) -> String {
        match parse(v) {
            Err(SdkError::InvalidArgument { name, .. }) => name,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_openai_shape_becomes_a_job() {
        let r = parse(json!({
            "model": "tiny-llama",
            "messages": [
                { "role": "system", "content": "be brief" },
                { "role": "user", "content": [{ "type": "text", "text": "hi" }, { "type": "text", "text": "!" }] },
                { "role": "assistant", "content": "hello" },
                { "role": "user", "content": "more" }
            ],
            "max_completion_tokens": 20, "temperature": 0, "seed": 7, "stop": "\n",
            "presence_penalty": 0.5, "stream": true, "stream_options": { "include_usage": true },
            "n": 1, "fabstir": { "maxPrice": 5, "excludeNodes": ["x"], "retry": true }
        }))
        .unwrap();
        assert!(r.stream && r.include_usage && r.retry.is_some());
        let s = &r.spec;
        assert_eq!(s.messages.len(), 4);
        assert_eq!(s.messages[1].content, "hi!");
        assert_eq!((s.max_tokens, s.temperature, s.seed), (20, 0.0, Some(7)));
        assert_eq!(s.stop, ["\n"]);
        assert_eq!((s.max_price, s.exclude_nodes.len()), (Some(5), 1));
        let plain =
            parse(json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }] }))
                .unwrap();
        assert!(!plain.stream);
        assert_eq!((plain.spec.max_tokens, plain.spec.temperature), (256, 1.0));
    }

    #[test]
    fn what_we_do_not_serve_is_named() {
        let base = || json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }] });
        for (key, value) in [
            ("tools", json!([])),
            ("response_format", json!({ "type": "json_object" })),
            ("logprobs", json!(true)),
            ("n", json!(2)),
            ("frobnicate", json!(1)),
            ("temperature", json!("hot")),
            ("temperature", json!(3)),
            ("seed", json!(-1)),
            ("stop", json!(["a", "b", "c", "d", "e"])),
            ("stream_options", json!({ "include_usage": true })),
            ("fabstir", json!({ "maxPrize": 1 })),
        ] {
            let mut p = base();
            p[key] = value;
            assert_eq!(error_name(p), key);
        }
        let mut p = base();
        p["messages"] = json!([{ "role": "tool", "content": "x", "tool_call_id": "1" }]);
        assert_eq!(error_name(p.clone()), "messages[0].tool_call_id");
        p["messages"] = json!([{ "role": "tool", "content": "x" }]);
        assert_eq!(error_name(p.clone()), "messages[0].role");
        p["messages"] = json!([{ "role": "user", "content": [{ "type": "image_url" }] }]);
        assert_eq!(error_name(p), "messages[0].content[0]");
        assert_eq!(error_name(json!({ "messages": [] })), "model");
        assert_eq!(error_name(json!({ "model": "m" })), "messages");
    }
}
