//! The `openai` backend against a small local HTTP server that speaks the OpenAI streaming
//! format (Server-Sent Events), including its error and `[DONE]` cases.

use std::time::Duration;

use fabstir_node::backend::openai::{OpenAiBackend, Timeouts};
use fabstir_node::backend::{Backend, BackendError, Generation, Piece};
use fabstir_node::config::host::ContinueBy;
use fabstir_protocol::chat::{ChatMessage, Role, Usage};
use fabstir_protocol::messages::{Continuation, FinishReason};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the fake server answers: a status line and body pieces written one by one.
struct Reply {
    status: &'static str,
    pieces: Vec<String>,
}

/// Serves one request with `reply`; returns the base URL and a handle yielding the request text.
async fn serve_once(reply: Reply) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        // Read the head, then the body by Content-Length.
        let (head_end, length) = loop {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some(i) = text.find("\r\n\r\n") {
                let length: usize = text[..i]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                break (i + 4, length);
            }
        };
        while request.len() < head_end + length {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 {}\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
            reply.status
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        for piece in reply.pieces {
            socket.write_all(piece.as_bytes()).await.unwrap();
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        socket.shutdown().await.unwrap();
        String::from_utf8(request).unwrap()
    });
    (url, handle)
}

fn event(content: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({ "choices": [{ "index": 0, "delta": { "content": content }, "finish_reason": null }] })
    )
}

fn finish(reason: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": reason }] })
    )
}

const DONE: &str = "data: [DONE]\n\n";

fn generation(max_tokens: u32) -> Generation {
    Generation {
        messages: vec![ChatMessage::new(Role::User, "Say hi")],
        max_tokens,
        temperature: 0.5,
        top_p: 0.9,
        ..Generation::default()
    }
}

/// What a generation yielded: its tokens, its finish, or the error it ended with.
struct Ran {
    tokens: Vec<String>,
    finished: Option<(FinishReason, Usage)>,
    error: Option<BackendError>,
}

async fn run(url: &str, key: Option<&str>, max_tokens: u32) -> Ran {
    run_with(url, key, generation(max_tokens), 5).await
}

async fn run_with(url: &str, key: Option<&str>, request: Generation, idle_secs: u64) -> Ran {
    run_by(url, key, request, idle_secs, ContinueBy::Prefill).await
}

async fn run_by(
    url: &str,
    key: Option<&str>,
    request: Generation,
    idle_secs: u64,
    continuation: ContinueBy,
) -> Ran {
    let backend = OpenAiBackend::new(
        url,
        "llama-test",
        key.map(str::to_string),
        Timeouts {
            connect: Duration::from_secs(5),
            idle: Duration::from_secs(idle_secs),
        },
        continuation,
    )
    .unwrap();
    let mut ran = Ran {
        tokens: Vec::new(),
        finished: None,
        error: None,
    };
    let mut stream = backend.generate(request);
    while let Some(item) = stream.next().await {
        assert!(ran.finished.is_none(), "nothing may follow the finish");
        match item {
            Ok(Piece::Token(t)) => ran.tokens.push(t),
            Ok(Piece::Finished { reason, usage }) => ran.finished = Some((reason, usage)),
            Err(e) => {
                ran.error = Some(e);
                assert!(stream.next().await.is_none(), "nothing may follow an error");
                break;
            }
        }
    }
    ran
}

#[tokio::test]
async fn streams_deltas_until_done_and_sends_the_openai_request() {
    let mut pieces = vec![
        ": keep-alive comment\n\n".to_string(),
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n".to_string(),
    ];
    pieces.extend(["Hel", "lo", ",", " world"].map(event));
    // An event split across two writes, with CRLF line ends.
    let split = event("!").replace('\n', "\r\n");
    pieces.push(split[..10].to_string());
    pieces.push(split[10..].to_string());
    pieces.push(finish("stop"));
    // llama-server's usage chunk: no choices.
    pieces.push(
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5}}\n\n"
            .into(),
    );
    pieces.push(DONE.into());
    let (url, request) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let conversation = Generation {
        messages: vec![
            ChatMessage::new(Role::System, "be brief"),
            ChatMessage::new(Role::User, "Say hi"),
        ],
        stop: vec!["\n\n".into()],
        seed: Some(42),
        presence_penalty: Some(0.5),
        frequency_penalty: Some(-0.5),
        ..generation(100)
    };
    let ran = run_with(&url, Some("sk-test"), conversation, 5).await;
    assert_eq!(ran.error, None);
    assert_eq!(ran.tokens, ["Hel", "lo", ",", " world", "!"]);
    let (reason, usage) = ran.finished.unwrap();
    assert_eq!(reason, FinishReason::Stop);
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (12, 5));
    assert!(!usage.prompt_estimated);
    let request = request.await.unwrap();
    assert!(
        request.starts_with("POST /v1/chat/completions HTTP/1.1"),
        "{request}"
    );
    assert!(request
        .to_ascii_lowercase()
        .contains("authorization: bearer sk-test"));
    let body: serde_json::Value =
        serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["model"], "llama-test");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "Say hi");
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(body["stop"][0], "\n\n");
    assert_eq!(body["seed"], 42);
    assert_eq!(body["presence_penalty"], 0.5);
    assert_eq!(body["frequency_penalty"], -0.5);
}

#[tokio::test]
async fn without_usage_in_the_stream_the_host_counts() {
    // llama-cpp-python: no usage chunk even when asked for one.
    let pieces = vec![event("a"), event(" b"), finish("length"), DONE.into()];
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let ran = run(&url, None, 2).await;
    let (reason, usage) = ran.finished.unwrap();
    assert_eq!(reason, FinishReason::Length);
    assert_eq!(
        usage,
        Usage {
            prompt_tokens: 6,
            completion_tokens: 2,
            prompt_estimated: true
        },
        "completion: the chunks sent; prompt: 4 + 2 words"
    );
}

#[tokio::test]
async fn an_answer_cut_short_or_empty_is_a_failure_not_a_finish() {
    // llama-cpp-python with --interrupt_requests True, when a second request comes.
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces: vec![event("a"), event(" b"), DONE.into()],
    })
    .await;
    let ran = run(&url, None, 10).await;
    assert_eq!(ran.tokens, ["a", " b"]);
    let error = ran.error.unwrap();
    assert!(error.message.contains("no finish_reason"), "{error}");
    assert!(error.recoverable());
    // llama-cpp-python 0.3's answer to a streamed prompt beyond its context: 200, the stream's
    // headers and no event at all, not even [DONE] (seen from the real server in the browser
    // test llama_cpp_pythons_empty_answer_to_a_long_prompt_is_a_typed_error); and the same
    // with only [DONE].
    for pieces in [vec![], vec![DONE.to_string()]] {
        let (url, _) = serve_once(Reply {
            status: "200 OK",
            pieces,
        })
        .await;
        let error = run(&url, None, 10).await.error.unwrap();
        assert!(error.message.contains("empty event stream"), "{error}");
    }
}

#[tokio::test]
async fn a_prompt_beyond_the_context_is_its_own_error() {
    // llama-server's answer.
    let body = r#"{"error":{"code":400,"message":"request (9000 tokens) exceeds the available context size (2048 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":2048}}"#;
    let (url, _) = serve_once(Reply {
        status: "400 Bad Request",
        pieces: vec![body.into()],
    })
    .await;
    let error = run(&url, None, 10).await.error.unwrap();
    assert_eq!(error.code(), "PROMPT_TOO_LONG");
    assert!(!error.recoverable());
    assert!(error.message.contains("exceeds the available context"));
}

#[tokio::test]
async fn an_echoed_assistant_prefix_is_stripped() {
    // llama-server repeats the assistant message it continues at the start of its answer.
    let pieces = vec![
        event(" one two three"),
        event(" four"),
        finish("stop"),
        DONE.into(),
    ];
    let (url, request) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let continued = Generation {
        messages: vec![
            ChatMessage::new(Role::User, "count"),
            ChatMessage::new(Role::Assistant, " one"),
        ],
        continuation: Some(Continuation {
            text: " two".into(),
            tokens: 1,
        }),
        ..generation(10)
    };
    let ran = run_with(&url, None, continued, 5).await;
    assert_eq!(ran.tokens, [" three", " four"]);
    let body = request.await.unwrap();
    let body: serde_json::Value =
        serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body["messages"][1]["content"], " one two",
        "prefix and continuation"
    );
}

#[tokio::test]
async fn a_silent_server_fails_on_the_idle_timeout_and_says_so() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and never answers.
    let held = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let error = run_with(&url, None, generation(3), 1).await.error.unwrap();
    assert!(error.message.contains("idle_timeout_secs (1 s)"), "{error}");
    held.abort();
}

#[tokio::test]
async fn an_http_error_names_the_status_and_the_servers_message() {
    let body =
        r#"{"error":{"message":"model llama-test not loaded","type":"invalid_request_error"}}"#;
    let (url, _) = serve_once(Reply {
        status: "404 Not Found",
        pieces: vec![body.into()],
    })
    .await;
    let ran = run(&url, None, 10).await;
    assert!(ran.tokens.is_empty());
    let message = ran.error.unwrap().message;
    assert!(
        message.contains("404") && message.contains("not loaded"),
        "{message}"
    );
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_with_that_error() {
    let pieces = vec![
        event("a"),
        event("b"),
        "data: {\"error\":{\"message\":\"out of memory\"}}\n\n".into(),
        event("c"),
    ];
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let ran = run(&url, None, 10).await;
    assert_eq!(ran.tokens, ["a", "b"]);
    assert!(ran.error.unwrap().message.contains("out of memory"));
}

#[tokio::test]
async fn a_stream_that_ends_without_done_is_an_error() {
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces: vec![event("a")],
    })
    .await;
    let ran = run(&url, None, 10).await;
    assert_eq!(ran.tokens, ["a"]);
    assert!(ran.error.unwrap().message.contains("[DONE]"));
}

#[tokio::test]
async fn malformed_events_and_ignored_limits_are_handled() {
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces: vec![event("a"), "data: {not json\n\n".into()],
    })
    .await;
    let ran = run(&url, None, 10).await;
    assert_eq!(ran.tokens, ["a"]);
    assert!(ran.error.unwrap().message.contains("malformed"));
    // A server that ignores max_tokens cannot make the host exceed it.
    let pieces: Vec<String> = (0..10)
        .map(|i| event(&i.to_string()))
        .chain(["data: [DONE]\n\n".to_string()])
        .collect();
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let ran = run(&url, None, 3).await;
    assert_eq!((ran.tokens.len(), ran.error), (3, None));
    assert_eq!(ran.finished.unwrap().0, FinishReason::Length);
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let ran = run(&url, None, 3).await;
    assert!(ran.tokens.is_empty());
    assert!(ran.error.unwrap().message.contains("POST"));
}

/// A conversation and the text another host generated for it (two tokens), to continue.
fn to_continue() -> Generation {
    Generation {
        messages: vec![ChatMessage::new(Role::User, "count")],
        continuation: Some(Continuation {
            text: " one two".into(),
            tokens: 2,
        }),
        ..generation(2)
    }
}

#[tokio::test]
async fn a_replayed_answer_delivers_only_what_follows_the_text_received() {
    // llama-cpp-python starts a new answer after a last assistant message; asked the
    // conversation again, its (repeating) answer begins with the text received.
    let pieces = vec![
        event(" one"),
        event(" two"),
        event(" three"),
        event(" four"),
        finish("length"),
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4}}\n\n".into(),
        DONE.into(),
    ];
    let (url, request) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let ran = run_by(&url, None, to_continue(), 5, ContinueBy::Replay).await;
    assert_eq!(ran.tokens, [" three", " four"]);
    let (reason, usage) = ran.finished.unwrap();
    assert_eq!(reason, FinishReason::Length);
    assert_eq!(
        usage.completion_tokens, 2,
        "the replayed two are not this host's"
    );
    let body = request.await.unwrap();
    let body: serde_json::Value =
        serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body["messages"].as_array().unwrap().len(),
        1,
        "the conversation alone"
    );
    assert_eq!(
        body["max_tokens"], 4,
        "room for the text again and the rest"
    );
}

#[tokio::test]
async fn a_replay_that_differs_or_falls_short_fails_delivering_nothing() {
    for (pieces, says) in [
        (
            vec![event(" one"), event(" six"), event(" seven")],
            "answered differently",
        ),
        (vec![event(" one")], "ended after 4 of the 8 bytes"),
    ] {
        let mut pieces = pieces;
        pieces.extend([finish("length"), DONE.to_string()]);
        let (url, _) = serve_once(Reply {
            status: "200 OK",
            pieces,
        })
        .await;
        let ran = run_by(&url, None, to_continue(), 5, ContinueBy::Replay).await;
        assert!(ran.tokens.is_empty(), "{:?}", ran.tokens);
        let error = ran.error.unwrap();
        assert!(error.message.contains(says), "{error}");
        assert!(error.recoverable(), "another host may still continue it");
    }
}
