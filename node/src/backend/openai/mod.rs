//! The `openai` backend: streams `POST {base_url}/v1/chat/completions` (`"stream": true`) from
//! any OpenAI-compatible server (llama.cpp's `llama-server`, llama-cpp-python, vLLM, Ollama) and
//! turns its Server-Sent Events into tokens, a finish reason and usage.
//!
//! What differs between servers and how it is handled (see `docs/PROTOCOL.md`):
//! - usage: asked for with `stream_options.include_usage`; a server that sends none
//!   (llama-cpp-python) gets completion tokens counted as the content chunks it sent and prompt
//!   tokens by [`fabstir_protocol::chat::estimate_prompt_tokens`] (marked `promptEstimated`);
//! - a stream that ends without a `finish_reason` (llama-cpp-python cuts a running answer short
//!   when another request comes) is a failed job, never a complete one;
//! - an echoed assistant prefix (llama-server) is stripped ([`echo`]);
//! - an answer another host began is continued by asking again ([`replay`]), or by sending it
//!   as a last assistant message to continue where the server does that (llama-server,
//!   `continuation: prefill`);
//! - a prompt beyond the context (llama-server: HTTP 400 `exceed_context_size_error`) is
//!   `PROMPT_TOO_LONG`.

mod echo;
mod replay;
mod sse;

use std::collections::VecDeque;
use std::time::Duration;

use fabstir_protocol::chat::{estimate_prompt_tokens, ChatMessage, Role, Usage};
use fabstir_protocol::messages::FinishReason;
use futures::stream::{self, BoxStream, StreamExt};

use super::{Backend, BackendError, Generation, Piece};
use crate::config::host::ContinueBy;
use echo::EchoStrip;
use replay::Replay;
use sse::{Event, SseLines};

/// Why an answer that is an event stream with nothing in it failed. llama-cpp-python 0.3 answers
/// a streamed request whose prompt is longer than its context this way: HTTP 200, the stream's
/// headers, then the end of the body, no event and no `[DONE]` (its generator raised; a request
/// without `stream` gets HTTP 400 `context_length_exceeded` instead).
const EMPTY_STREAM: &str = "the server answered with an empty event stream: no event, no \
    finish_reason (llama-cpp-python does this for a prompt longer than its context)";

/// A client of one model on one OpenAI-compatible server.
pub struct OpenAiBackend {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    timeouts: Timeouts,
    continuation: ContinueBy,
}

/// How long the backend waits, and for what.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For the TCP connection to the server (`connect_timeout_secs`).
    pub connect: Duration,
    /// For the server's answer to start, and then for each next byte of it while it streams
    /// (`idle_timeout_secs`): a server busy with other requests may take long to start.
    pub idle: Duration,
}

impl OpenAiBackend {
    /// A backend for `model` at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        timeouts: Timeouts,
        continuation: ContinueBy,
    ) -> Result<Self, BackendError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .build()
            .map_err(|e| BackendError::new(format!("cannot build the HTTP client: {e}")))?;
        Ok(OpenAiBackend {
            client,
            url: format!("{}/v1/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_string(),
            api_key,
            timeouts,
            continuation,
        })
    }

    /// What is asked for `request`: the conversation, the most tokens and, when it continues
    /// another host's answer by replay ([`replay`]), the text the answer must repeat first; then
    /// the conversation goes without that text, with room to generate it again.
    fn asked(&self, request: &Generation) -> (Vec<ChatMessage>, u32, Option<Replay>) {
        match &request.continuation {
            Some(c) if self.continuation == ContinueBy::Replay => {
                let again = u32::try_from(c.tokens).unwrap_or(u32::MAX);
                (
                    request.messages.clone(),
                    request.max_tokens.saturating_add(again),
                    Some(Replay::new(c.text.clone())),
                )
            }
            _ => (request.to_continue(), request.max_tokens, None),
        }
    }

    /// The request body for `request`, asking `messages` and at most `max_tokens` ([`Self::asked`]).
    fn body(
        &self,
        request: &Generation,
        messages: &[ChatMessage],
        max_tokens: u32,
    ) -> serde_json::Value {
        let messages: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| serde_json::json!({ "role": m.role.as_str(), "content": m.content }))
            .collect();
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if !request.stop.is_empty() {
            body["stop"] = serde_json::json!(request.stop);
        }
        if let Some(seed) = request.seed {
            body["seed"] = seed.into();
        }
        if let Some(p) = request.presence_penalty {
            body["presence_penalty"] = p.into();
        }
        if let Some(p) = request.frequency_penalty {
            body["frequency_penalty"] = p.into();
        }
        body
    }
}

impl Backend for OpenAiBackend {
    fn generate(&self, request: Generation) -> BoxStream<'static, Result<Piece, BackendError>> {
        let (messages, max_tokens, replay) = self.asked(&request);
        let body = self.body(&request, &messages, max_tokens);
        let mut http = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let url = self.url.clone();
        let timeouts = self.timeouts;
        let started = async move {
            let response = match tokio::time::timeout(timeouts.idle, http.send()).await {
                Err(_) => {
                    return Err(BackendError::new(format!(
                        "POST {url}: no answer within idle_timeout_secs ({} s)",
                        timeouts.idle.as_secs()
                    )))
                }
                Ok(Err(e)) if e.is_connect() && e.is_timeout() => {
                    return Err(BackendError::new(format!(
                        "POST {url}: no connection within connect_timeout_secs ({} s)",
                        timeouts.connect.as_secs()
                    )))
                }
                Ok(Err(e)) => return Err(BackendError::new(format!("POST {url}: {e}"))),
                Ok(Ok(response)) => response,
            };
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                let (message, kind) = sse::error_message(&text)
                    .unwrap_or_else(|| (text.chars().take(200).collect(), None));
                let message = format!("POST {url}: HTTP {status}: {message}");
                return Err(if kind.as_deref() == Some("exceed_context_size_error") {
                    BackendError::prompt_too_long(message)
                } else {
                    BackendError::new(message)
                });
            }
            Ok(response.bytes_stream())
        };
        let answer = Answer::new(&request, messages, replay, timeouts.idle);
        stream::once(async move {
            match started.await {
                Err(e) => stream::iter(vec![Err(e)]).boxed(),
                Ok(bytes) => answer.read(bytes).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

/// The state of reading one answer.
struct Answer {
    lines: SseLines,
    echo: EchoStrip,
    /// When continuing another host's answer by asking again: the text to see first.
    replay: Option<Replay>,
    ready: VecDeque<Result<Piece, BackendError>>,
    max_tokens: u64,
    /// Content chunks delivered.
    sent: u64,
    /// Any `data:` chunk seen (an empty event stream is how llama-cpp-python refuses a prompt
    /// beyond its context).
    any_chunk: bool,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    /// The prompt-token count used when the server reports none.
    estimate: u64,
    idle: Duration,
    done: bool,
}

impl Answer {
    /// Reading the answer to `messages` (what was sent for `request`).
    fn new(
        request: &Generation,
        messages: Vec<ChatMessage>,
        replay: Option<Replay>,
        idle: Duration,
    ) -> Self {
        let prefix = match messages.last() {
            Some(last) if last.role == Role::Assistant => last.content.clone(),
            _ => String::new(),
        };
        Answer {
            lines: SseLines::default(),
            echo: EchoStrip::new(prefix),
            replay,
            ready: VecDeque::new(),
            max_tokens: u64::from(request.max_tokens),
            sent: 0,
            any_chunk: false,
            finish: None,
            usage: None,
            estimate: estimate_prompt_tokens(&messages),
            idle,
            done: false,
        }
    }

    /// Turns the response body into pieces: tokens, then the finish (or an error).
    fn read(
        self,
        bytes: impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + 'static,
    ) -> impl futures::Stream<Item = Result<Piece, BackendError>> + Send {
        stream::unfold(
            (Box::pin(bytes), self),
            |(mut bytes, mut answer)| async move {
                loop {
                    if let Some(piece) = answer.ready.pop_front() {
                        return Some((piece, (bytes, answer)));
                    }
                    if answer.done {
                        return None;
                    }
                    match tokio::time::timeout(answer.idle, bytes.next()).await {
                        Err(_) => answer.fail(format!(
                            "the server sent nothing for idle_timeout_secs ({} s) after {} tokens",
                            answer.idle.as_secs(),
                            answer.sent
                        )),
                        Ok(Some(Err(e))) => {
                            answer.fail(format!("reading the event stream: {e}"));
                        }
                        Ok(None) => answer.end_of_body(),
                        Ok(Some(Ok(chunk))) => answer.take(&chunk),
                    }
                }
            },
        )
    }

    fn fail(&mut self, message: String) {
        self.ready.push_back(Err(BackendError::new(message)));
        self.done = true;
    }

    fn take(&mut self, chunk: &[u8]) {
        for line in self.lines.push(chunk) {
            if self.done {
                return;
            }
            match line.and_then(|l| sse::parse_event(&l)) {
                Err(e) => {
                    self.ready.push_back(Err(e));
                    self.done = true;
                }
                Ok(Event::Nothing) => {}
                Ok(Event::Done) => self.finished(),
                Ok(Event::Chunk(c)) => {
                    self.any_chunk = true;
                    let content = c.content.and_then(|t| self.echo.push(t));
                    let content = match (content, self.replay.as_mut()) {
                        (Some(t), Some(replay)) => match replay.push(t) {
                            Ok(rest) => rest,
                            Err(why) => return self.fail(why),
                        },
                        (content, _) => content,
                    };
                    if let Some(content) = content {
                        if self.sent < self.max_tokens {
                            self.sent += 1;
                            self.ready.push_back(Ok(Piece::Token(content)));
                        } else {
                            // A server that ignores max_tokens must not make us exceed it.
                            self.finish = Some(FinishReason::Length);
                            self.finished();
                        }
                    }
                    if let Some(reason) = c.finish_reason {
                        self.finish = Some(match reason.as_str() {
                            "length" => FinishReason::Length,
                            // `stop`, and reasons we do not serve (`tool_calls`,
                            // `content_filter`): the answer is over.
                            _ => FinishReason::Stop,
                        });
                    }
                    if c.usage.is_some() {
                        self.usage = c.usage;
                    }
                }
            }
        }
    }

    /// `[DONE]` (or our own end at `max_tokens`).
    fn finished(&mut self) {
        self.done = true;
        self.echo.finish();
        if let Some(r) = self.replay.as_ref().filter(|r| !r.done()) {
            if self.finish.is_some() {
                let why = r.ended_early();
                return self.fail(why);
            }
        }
        let Some(reason) = self.finish else {
            let message = if self.any_chunk {
                format!(
                    "the server ended its answer after {} tokens with [DONE] but no \
                     finish_reason: it was cut short (llama-cpp-python does this to a running \
                     answer when another request comes)",
                    self.sent
                )
            } else {
                EMPTY_STREAM.to_string()
            };
            self.ready.push_back(Err(BackendError::new(message)));
            return;
        };
        // A replay's tokens that only matched the text received are not this host's.
        let replayed = self.replay.as_ref().map_or(0, |r| r.chunks);
        let usage = self.usage.map(|u| Usage {
            completion_tokens: u.completion_tokens.saturating_sub(replayed),
            ..u
        });
        let usage = usage.unwrap_or(Usage {
            prompt_tokens: self.estimate,
            completion_tokens: self.sent,
            prompt_estimated: true,
        });
        self.ready.push_back(Ok(Piece::Finished { reason, usage }));
    }

    /// The body ended: complete if the finish reason came (only `[DONE]` is missing), an empty
    /// event stream if nothing came (as after a lone `[DONE]`).
    fn end_of_body(&mut self) {
        if self.finish.is_some() || !self.any_chunk {
            self.finished();
        } else {
            self.fail(format!(
                "the event stream ended after {} tokens without a finish_reason or [DONE]",
                self.sent
            ));
        }
    }
}
