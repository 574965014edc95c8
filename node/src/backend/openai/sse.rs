//! The server's Server-Sent Events: lines, and what each `data:` line of a chat completion
//! stream says (content, finish reason, usage, an error, or `[DONE]`).

use fabstir_protocol::chat::Usage;

use super::super::BackendError;

/// The longest SSE line we buffer; a server sending more without a newline is broken.
const MAX_LINE: usize = 1 << 20;

/// Splits a byte stream into lines (SSE allows `\n` or `\r\n`).
#[derive(Default)]
pub(super) struct SseLines {
    partial: Vec<u8>,
}

impl SseLines {
    pub(super) fn push(&mut self, chunk: &[u8]) -> Vec<Result<String, BackendError>> {
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
#[derive(Debug, PartialEq, Default)]
pub(super) struct Chunk {
    /// `choices[0].delta.content` (or `choices[0].text`), when not empty.
    pub content: Option<String>,
    /// `choices[0].finish_reason`, when set.
    pub finish_reason: Option<String>,
    /// `usage`, when the server reports it (llama-server: a last chunk with `choices: []`).
    pub usage: Option<Usage>,
}

/// One line of the event stream.
#[derive(Debug, PartialEq)]
pub(super) enum Event {
    /// A `data:` chunk.
    Chunk(Chunk),
    /// `data: [DONE]`.
    Done,
    /// A comment, a blank separator or another field.
    Nothing,
}

pub(super) fn parse_event(line: &str) -> Result<Event, BackendError> {
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
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let usage = value.get("usage").filter(|u| u.is_object()).and_then(|u| {
        Some(Usage {
            prompt_tokens: u["prompt_tokens"].as_u64()?,
            completion_tokens: u["completion_tokens"].as_u64()?,
            prompt_estimated: false,
        })
    });
    Ok(Event::Chunk(Chunk {
        content,
        finish_reason: choice["finish_reason"].as_str().map(str::to_string),
        usage,
    }))
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

/// The `error.message` (and `error.type`) of an error answer's body.
pub(super) fn error_message(body: &str) -> Option<(String, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let kind = value["error"]["type"].as_str().map(str::to_string);
    Some((error_in(&value)?, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(line: &str) -> Option<String> {
        match parse_event(line).unwrap() {
            Event::Chunk(c) => c.content,
            _ => None,
        }
    }

    #[test]
    fn events_are_parsed() {
        let token = r#"data: {"choices":[{"delta":{"content":" hi"},"index":0}]}"#;
        assert_eq!(content(token).as_deref(), Some(" hi"));
        assert_eq!(parse_event("data: [DONE]").unwrap(), Event::Done);
        assert_eq!(parse_event(": keep-alive").unwrap(), Event::Nothing);
        assert_eq!(parse_event("").unwrap(), Event::Nothing);
        let role = r#"data: {"choices":[{"delta":{"role":"assistant"}}]}"#;
        assert_eq!(content(role), None);
        let text = r#"data: {"choices":[{"text":"x"}]}"#;
        assert_eq!(content(text).as_deref(), Some("x"));
        let error = r#"data: {"error":{"message":"model crashed"}}"#;
        assert!(parse_event(error)
            .unwrap_err()
            .message
            .contains("model crashed"));
        assert!(parse_event("data: {nope").is_err());
        let last = r#"data: {"choices":[{"delta":{},"finish_reason":"length"}]}"#;
        let Event::Chunk(c) = parse_event(last).unwrap() else {
            panic!()
        };
        assert_eq!(c.finish_reason.as_deref(), Some("length"));
        let usage = r#"data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#;
        let Event::Chunk(c) = parse_event(usage).unwrap() else {
            panic!()
        };
        assert_eq!(
            c.usage.map(|u| (u.prompt_tokens, u.completion_tokens)),
            Some((9, 3))
        );
        let null_usage = r#"data: {"choices":[{"delta":{"content":"a"}}],"usage":null}"#;
        assert_eq!(content(null_usage).as_deref(), Some("a"));
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

    #[test]
    fn error_bodies_give_message_and_type() {
        let body = r#"{"error":{"code":400,"message":"request (9000 tokens) exceeds the available context size (2048 tokens), try increasing it","type":"exceed_context_size_error"}}"#;
        let (message, kind) = error_message(body).unwrap();
        assert!(message.starts_with("request (9000 tokens)"));
        assert_eq!(kind.as_deref(), Some("exceed_context_size_error"));
        assert_eq!(error_message("not json"), None);
    }
}
