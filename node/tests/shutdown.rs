//! Graceful shutdown and the health endpoints, on real processes: `/healthz` and `/readyz`
//! (listening, bootstrap node connected, models announced); on SIGTERM the host turns not-ready,
//! takes no new jobs, lets running ones finish within `host.shutdown_grace_secs`, ends the rest
//! with the recoverable `SHUTTING_DOWN`, and exits 0; a second signal exits at once.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::client::Client;
use common::folder::{self, Folder};
use common::Node;
use fabstir_protocol::messages::{JobResponse, RejectReason, StreamFrame};

const MODEL: &str = "slow-1";

/// `GET path` on the metrics listener: (status code, body).
fn get(metrics: &str, path: &str) -> (u16, String) {
    let mut conn = std::net::TcpStream::connect(metrics).unwrap();
    write!(conn, "GET {path} HTTP/1.0\r\nHost: {metrics}\r\n\r\n").unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

/// Polls `/readyz` until it answers `status` (within 20 s); its body.
fn wait_ready(metrics: &str, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (got, body) = get(metrics, "/readyz");
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz still {got}: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Network {
    _relay: Node,
    host: Node,
    addr: String,
    metrics: String,
    _dirs: Vec<Folder>,
}

/// A relay/bootstrap node and a host of `slow-1` (20 tokens/s) bootstrapped from it, with
/// `grace` seconds of shutdown grace.
fn network(grace: u64) -> Network {
    let relay_dir = Folder::new("");
    let relay = relay_dir.start();
    let (metrics_line, metrics) = folder::metrics();
    let dir = Folder::new(&format!(
        "bootstrap_nodes: [{}]\nrelay: {{ enabled: false }}\n{metrics_line}host:\n  shutdown_grace_secs: {grace}\n  request_rate: {{ burst: 0, refill_secs: 1 }}\n  models:\n    - {{ id: {MODEL}, price_per_token: 1, backend: {{ kind: demo, seed: 3, tokens_per_second: 20 }} }}\n",
        relay_dir.addr
    ));
    let host = dir.start();
    Network {
        _relay: relay,
        host,
        addr: dir.addr.clone(),
        metrics,
        _dirs: vec![relay_dir, dir],
    }
}

/// Waits (up to 30 s) for the process to exit; its exit status and how long it took.
fn exit_of(node: &mut Node) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = node.child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no exit within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_running_jobs_finish_and_turns_not_ready_first() {
    let mut net = network(20);
    assert_eq!(get(&net.metrics, "/healthz"), (200, "ok\n".into()));
    // Ready once it listens, its bootstrap node is connected and slow-1 is announced.
    wait_ready(&net.metrics, 200);
    let client = Client::connect(&net.addr).await;
    // 40 tokens at 20 per second: about 2 s.
    let job = client.start(MODEL, 40).await.unwrap();
    net.host.signal("-TERM");
    let why = wait_ready(&net.metrics, 503);
    assert!(why.contains("shutting down"), "{why}");
    match client.ask(MODEL, 5).await.1 {
        JobResponse::Rejected { reason, message } => {
            assert_eq!(reason, RejectReason::Busy);
            assert!(message.contains("shutting down"), "{message}");
        }
        other => panic!("a new job while draining: {other:?}"),
    }
    let (tokens, end) = client.read(&job).await;
    assert_eq!(tokens, 40, "the running job finished");
    assert!(matches!(end, StreamFrame::End { .. }), "{end:?}");
    let (status, took) = exit_of(&mut net.host);
    assert!(status.success(), "exit {status}");
    assert!(
        took < Duration::from_secs(15),
        "exited {took:?} after the job, not at the grace's end"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_left_at_the_end_of_the_grace_end_recoverably() {
    let mut net = network(1);
    wait_ready(&net.metrics, 200);
    let client = Client::connect(&net.addr).await;
    // 1,000 tokens at 20 per second would take 50 s.
    let job = client.start(MODEL, 1000).await.unwrap();
    net.host.signal("-TERM");
    let (tokens, end) = client.read(&job).await;
    match end {
        StreamFrame::Error {
            code, recoverable, ..
        } => {
            assert_eq!(code, "SHUTTING_DOWN");
            assert!(recoverable, "its client may fail over");
        }
        other => panic!("{other:?}"),
    }
    assert!(tokens < 1000, "{tokens} tokens");
    let (status, _) = exit_of(&mut net.host);
    assert!(status.success(), "exit {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_exits_at_once() {
    let mut net = network(60);
    wait_ready(&net.metrics, 200);
    let client = Client::connect(&net.addr).await;
    let _job = client.start(MODEL, 1000).await.unwrap();
    net.host.signal("-TERM");
    wait_ready(&net.metrics, 503);
    net.host.signal("-INT");
    let (status, took) = exit_of(&mut net.host);
    assert!(status.success(), "exit {status}");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}; the grace is 60 s"
    );
}
