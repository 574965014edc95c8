//! The `openai` backend: streams `POST {base_url}/v1/chat/completions` (`"stream": true`) from
//! any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, exo) and turns its
//! Server-Sent Events into tokens.

use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};

use super::{Backend, BackendError, Generation};

/// The longest SSE line we buffer; a server sending more without a newline is broken.
const MAX_LINE: usize = 1 << 20;

/// A client of one model on one OpenAI-compatible server.
pub struct OpenAiBackend {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
}

impl OpenAiBackend {
    /// A backend for `model` at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        connect_timeout: Duration,
    ) -> Result<Self, BackendError> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(connect_timeout)
            .build()
            .map_err(|e| BackendError::new(format!("cannot build the HTTP client: {e}")))?;
        Ok(OpenAiBackend {
            client,
            url: format!("{}/v1/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_string(),
            api_key,
        })
    }
}

impl Backend for OpenAiBackend {
    fn generate(&self, request: Generation) -> BoxStream<'static, Result<String, BackendError>> {
        // A continuation is sent as the assistant's unfinished answer, which servers such as
        // llama.cpp and vLLM continue.
        let mut messages = vec![serde_json::json!({ "role": "user", "content": request.prompt })];
        if let Some(c) = &request.continuation {
            messages.push(serde_json::json!({ "role": "assistant", "content": c.text }));
        }
        let body = serde_json::json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": true,
        });
        let mut http = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let url = self.url.clone();
        let max_tokens = request.max_tokens as usize;
        let started = async move {
            let response = http
                .send()
                .await
                .map_err(|e| BackendError::new(format!("POST {url}: {e}")))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                return Err(BackendError::new(format!(
                    "POST {url}: HTTP {status}: {}",
                    error_message(&text).unwrap_or_else(|| text.chars().take(200).collect())
                )));
            }
            Ok(response.bytes_stream())
        };
        stream::once(started)
            .flat_map(move |started| match started {
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
                Ok(bytes) => tokens(bytes, max_tokens).boxed(),
            })
            .boxed()
    }
}

/// Turns the response body into tokens: one per non-empty `delta.content`, until `[DONE]`.
fn tokens(
    bytes: impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + 'static,
    max_tokens: usize,
) -> impl futures::Stream<Item = Result<String, BackendError>> + Send {
    let state = (
        Box::pin(bytes),
        SseLines::default(),
        Vec::<String>::new(),
        false,
    );
    stream::unfold(
        state,
        move |(mut bytes, mut lines, mut ready, mut done)| async move {
            loop {
                if !ready.is_empty() {
                    let token = ready.remove(0);
                    return Some((Ok(token), (bytes, lines, ready, done)));
                }
                if done {
                    return None;
                }
                let chunk = match bytes.next().await {
                    Some(Ok(chunk)) => chunk,
                    Some(Err(e)) => {
                        done = true;
                        let e = BackendError::new(format!("reading the event stream: {e}"));
                        return Some((Err(e), (bytes, lines, ready, done)));
                    }
                    None => {
                        done = true;
                        let e = BackendError::new("the event stream ended before [DONE]");
                        return Some((Err(e), (bytes, lines, ready, done)));
                    }
                };
                for line in lines.push(&chunk) {
                    match line.and_then(|l| parse_event(&l)) {
                        Ok(Event::Token(t)) => ready.push(t),
                        Ok(Event::Nothing) => {}
                        Ok(Event::Done) => {
                            done = true;
                            break;
                        }
                        Err(e) => {
                            done = true;
                            ready.clear();
                            return Some((Err(e), (bytes, lines, ready, done)));
                        }
                    }
                }
                // A server that ignores max_tokens must not make us exceed it.
                ready.truncate(max_tokens);
            }
        },
    )
    .take(max_tokens)
}

/// Splits a byte stream into lines (SSE allows `\n` or `\r\n`).
#[derive(Default)]
struct SseLines {
    partial: Vec<u8>,
}

impl SseLines {
    fn push(&mut self, chunk: &[u8]) -> Vec<Result<String, BackendError>> {
        let mut out = Vec::new();
        for &b in chunk {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.partial);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                out.push(
                    String::from_utf8(line)
                        .map_err(|_| BackendError::new("the event stream is not valid UTF-8")),
                );
            } else if self.partial.len() >= MAX_LINE {
                out.push(Err(BackendError::new(format!(
                    "an event stream line exceeds {MAX_LINE} bytes"
                ))));
                self.partial.clear();
                return out;
            } else {
                self.partial.push(b);
            }
        }
        out
    }
}

/// What one SSE line means to us.
#[derive(Debug, PartialEq)]
enum Event {
    Token(String),
    Done,
    Nothing,
}

fn parse_event(line: &str) -> Result<Event, BackendError> {
    // Comments (`:`), blank separators and other fields (`event:`, `id:`) carry no tokens.
    let Some(data) = line.strip_prefix("data:") else {
        return Ok(Event::Nothing);
    };
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(Event::Done);
    }
    let value: serde_json::Value = serde_json::from_str(data)
        .map_err(|e| BackendError::new(format!("malformed event {data:?}: {e}")))?;
    if let Some(message) = error_in(&value) {
        return Err(BackendError::new(format!("the server reported: {message}")));
    }
    let choice = &value["choices"][0];
    // Chat completions stream `delta.content`; plain completions stream `text`.
    let content = choice["delta"]["content"]
        .as_str()
        .or_else(|| choice["text"].as_str())
        .unwrap_or("");
    if content.is_empty() {
        Ok(Event::Nothing)
    } else {
        Ok(Event::Token(content.to_string()))
    }
}

fn error_in(value: &serde_json::Value) -> Option<String> {
    let error = value.get("error")?;
    Some(
        error["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| error.to_string()),
    )
}

fn error_message(body: &str) -> Option<String> {
    error_in(&serde_json::from_str(body).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_parsed() {
        let token = r#"data: {"choices":[{"delta":{"content":" hi"},"index":0}]}"#;
        assert_eq!(parse_event(token).unwrap(), Event::Token(" hi".into()));
        assert_eq!(parse_event("data: [DONE]").unwrap(), Event::Done);
        assert_eq!(parse_event(": keep-alive").unwrap(), Event::Nothing);
        assert_eq!(parse_event("").unwrap(), Event::Nothing);
        let role = r#"data: {"choices":[{"delta":{"role":"assistant"}}]}"#;
        assert_eq!(parse_event(role).unwrap(), Event::Nothing);
        let text = r#"data: {"choices":[{"text":"x"}]}"#;
        assert_eq!(parse_event(text).unwrap(), Event::Token("x".into()));
        let error = r#"data: {"error":{"message":"model crashed"}}"#;
        assert!(parse_event(error)
            .unwrap_err()
            .message
            .contains("model crashed"));
        assert!(parse_event("data: {nope").is_err());
    }

    #[test]
    fn lines_split_across_chunks_and_crlf() {
        let mut lines = SseLines::default();
        assert!(lines.push(b"data: a").is_empty());
        let out: Vec<String> = lines
            .push(b"bc\r\n\ndata: d\n")
            .into_iter()
            .map(|l| l.unwrap())
            .collect();
        assert_eq!(out, vec!["data: abc", "", "data: d"]);
    }
}
