//! The `openai` backend against a small local HTTP server that speaks the OpenAI streaming
//! format (Server-Sent Events), including its error and `[DONE]` cases.

use std::time::Duration;

use fabstir_node::backend::openai::OpenAiBackend;
use fabstir_node::backend::{Backend, BackendError, Generation};
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

fn generation(max_tokens: u32) -> Generation {
    Generation {
        prompt: "Say hi".into(),
        max_tokens,
        temperature: 0.5,
        top_p: 0.9,
        continuation: None,
    }
}

async fn run(url: &str, key: Option<&str>, max_tokens: u32) -> (Vec<String>, Option<BackendError>) {
    let backend = OpenAiBackend::new(
        url,
        "llama-test",
        key.map(str::to_string),
        Duration::from_secs(5),
    )
    .unwrap();
    let mut tokens = Vec::new();
    let mut stream = backend.generate(generation(max_tokens));
    while let Some(item) = stream.next().await {
        match item {
            Ok(t) => tokens.push(t),
            Err(e) => return (tokens, Some(e)),
        }
    }
    (tokens, None)
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
    pieces.push("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n".into());
    pieces.push("data: [DONE]\n\n".into());
    let (url, request) = serve_once(Reply {
        status: "200 OK",
        pieces,
    })
    .await;
    let (tokens, error) = run(&url, Some("sk-test"), 100).await;
    assert_eq!(error, None);
    assert_eq!(tokens, ["Hel", "lo", ",", " world", "!"]);
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
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["messages"][0]["content"], "Say hi");
    assert_eq!(body["messages"][0]["role"], "user");
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
    let (tokens, error) = run(&url, None, 10).await;
    assert!(tokens.is_empty());
    let message = error.unwrap().message;
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
    let (tokens, error) = run(&url, None, 10).await;
    assert_eq!(tokens, ["a", "b"]);
    assert!(error.unwrap().message.contains("out of memory"));
}

#[tokio::test]
async fn a_stream_that_ends_without_done_is_an_error() {
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces: vec![event("a")],
    })
    .await;
    let (tokens, error) = run(&url, None, 10).await;
    assert_eq!(tokens, ["a"]);
    assert!(error.unwrap().message.contains("[DONE]"));
}

#[tokio::test]
async fn malformed_events_and_ignored_limits_are_handled() {
    let (url, _) = serve_once(Reply {
        status: "200 OK",
        pieces: vec![event("a"), "data: {not json\n\n".into()],
    })
    .await;
    let (tokens, error) = run(&url, None, 10).await;
    assert_eq!(tokens, ["a"]);
    assert!(error.unwrap().message.contains("malformed"));
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
    let (tokens, error) = run(&url, None, 3).await;
    assert_eq!((tokens.len(), error), (3, None));
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (tokens, error) = run(&url, None, 3).await;
    assert!(tokens.is_empty());
    assert!(error.unwrap().message.contains("POST"));
}
