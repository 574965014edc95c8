//! Signed usage receipts and the host's database (issue 14), with real `fabstir-node` hosts and
//! native clients: each job's receipt opens (the host's signature), names its client, and matches
//! the request sent, the text received and the agreed prices; a host SIGKILLed mid-job resumes
//! the job from its database after a restart, exact; 100 concurrent jobs leave 100 verifying
//! receipts in `fabstir-node receipts --json`; an unusable database stops the start, named.

mod common;

use common::client::{job_request, Client};
use common::folder::{self, Folder};
use common::Node;
use fabstir_protocol::frame;
use fabstir_protocol::messages::{
    FinishReason, JobDecision, JobRequest, JobResponse, RejectReason, StreamFrame, JOB_PROTOCOL,
};
use fabstir_protocol::receipt::{self, sha256_hex, Expected};
use futures::AsyncWriteExt;

const MODEL: &str = "priced-1";

/// Negotiates `max_tokens` of [`MODEL`], reads the whole stream and checks the end's receipt;
/// returns it and the tokens read.
async fn job_and_receipt(client: &Client, max_tokens: u32) -> (receipt::Receipt, Vec<String>) {
    let request = job_request(MODEL, max_tokens);
    let request_sha256 = sha256_hex(&frame::encode(&request).unwrap()[4..]);
    let (mut stream, offer) = client.ask(MODEL, max_tokens).await;
    let JobResponse::Offer { job_id, .. } = offer else {
        panic!("{offer:?}")
    };
    let accept = JobDecision::Accept {
        job_id: job_id.clone(),
    };
    frame::write(&mut stream, &accept).await.unwrap();
    let started = frame::read::<_, JobResponse>(&mut stream).await.unwrap();
    assert!(matches!(started, Some(JobResponse::Started { .. })));
    let _ = stream.close().await;
    let (text, end) = client.read_text(&job_id).await;
    let StreamFrame::End {
        finish_reason,
        cost,
        receipt: Some(sealed),
        ..
    } = end
    else {
        panic!("no end with a receipt: {end:?}")
    };
    assert_eq!(finish_reason, FinishReason::Length);
    let opened = receipt::open_base64(&sealed).expect("the host's signature verifies");
    let expected = Expected {
        host: client.host,
        job_id,
        client: client.me,
        completion_tokens: text.len() as u64,
        output_sha256: Some(sha256_hex(text.concat().as_bytes())),
        request_sha256,
        prices: (3, 2),
    };
    receipt::check(&opened, &expected).expect("the receipt says what the client saw");
    assert_eq!(Some(opened.cost), cost, "the end and the receipt agree");
    eprintln!(
        "receipt of {} tokens: {} bytes sealed, {} in base64",
        text.len(),
        receipt::seal(&libp2p::identity::Keypair::generate_ed25519(), &opened)
            .unwrap()
            .len(),
        sealed.len()
    );
    (opened, text)
}

/// A host in a new folder serving [`MODEL`] (demo, seed 9, `tokens_per_second`), with `extra`
/// host settings; its config path, address and metrics address.
struct Host {
    folder: Folder,
    addr: String,
    metrics: String,
}

impl Host {
    fn new(tokens_per_second: u32, extra: &str) -> Host {
        let (metrics_line, metrics) = folder::metrics();
        let folder = Folder::new(&format!(
            "relay: {{ enabled: false }}\nkad: {{ enabled: false }}\n{metrics_line}host:\n{extra}  models:\n    - {{ id: {MODEL}, price_per_token: 3, price_per_prompt_token: 2, max_tokens: 65536, backend: {{ kind: demo, seed: 9, tokens_per_second: {tokens_per_second} }} }}\n"
        ));
        Host {
            addr: folder.addr.clone(),
            folder,
            metrics,
        }
    }

    fn config(&self) -> std::path::PathBuf {
        self.folder.config()
    }

    fn start(&self) -> Node {
        self.folder.start()
    }

    /// `fabstir-node receipts --json`.
    fn receipts(&self) -> Vec<serde_json::Value> {
        let listed = common::cli_json("receipts", &self.config());
        listed.as_array().cloned().unwrap_or_default()
    }

    fn metric(&self, name: &str) -> f64 {
        common::client::metric(&self.metrics, name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_ends_with_a_receipt_the_client_can_check() {
    let host = Host::new(0, "");
    let _node = host.start();
    let client = Client::connect(&host.addr).await;
    let (first, text) = job_and_receipt(&client, 40).await;
    assert_eq!(first.completion_tokens, 40);
    assert_eq!(text.len(), 40);
    assert_eq!(first.model_id, MODEL);
    assert!(first.prompt_tokens > 0, "the prompt is billed too");
    assert_eq!(first.cost, 40 * 3 + first.prompt_tokens * 2);
    let (second, _) = job_and_receipt(&client, 7).await;
    assert_ne!(second.job_id, first.job_id);
    assert!(second.started_at >= first.started_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_started_without_an_offer_streams_on_its_own_stream_with_its_receipt() {
    let host = Host::new(0, "");
    let _node = host.start();
    let client = Client::connect(&host.addr).await;
    // Above the client's maximum: refused as an offer would be, no job started.
    let mut request = job_request(MODEL, 5);
    request.start = true;
    request.max_price_per_token = 2;
    let mut stream = client.open(JOB_PROTOCOL).await;
    frame::write(&mut stream, &request).await.unwrap();
    let refused = frame::read::<_, JobResponse>(&mut stream).await.unwrap();
    assert!(
        matches!(
            refused,
            Some(JobResponse::Rejected {
                reason: RejectReason::PriceTooLow,
                ..
            })
        ),
        "{refused:?}"
    );
    // Within it: the offer it started on, then the tokens and the end on the same stream.
    let request = JobRequest {
        start: true,
        ..job_request(MODEL, 12)
    };
    let request_sha256 = sha256_hex(&frame::encode(&request).unwrap()[4..]);
    let mut stream = client.open(JOB_PROTOCOL).await;
    frame::write(&mut stream, &request).await.unwrap();
    let terms = frame::read::<_, JobResponse>(&mut stream).await.unwrap();
    let Some(JobResponse::Offer {
        job_id,
        price_per_token: 3,
        price_per_prompt_token: 2,
        ..
    }) = terms
    else {
        panic!("{terms:?}")
    };
    let mut text = String::new();
    let end = loop {
        match frame::read::<_, StreamFrame>(&mut stream).await.unwrap() {
            Some(StreamFrame::Token { content, .. }) => text.push_str(&content),
            Some(end) => break end,
            None => panic!("the stream closed before its end ({text:?})"),
        }
    };
    assert_eq!(text, fabstir_protocol::demo::demo_text(9, "abuse test", 12));
    let StreamFrame::End {
        total_tokens: 12,
        receipt: Some(sealed),
        ..
    } = end
    else {
        panic!("{end:?}")
    };
    let expected = Expected {
        host: client.host,
        job_id,
        client: client.me,
        completion_tokens: 12,
        output_sha256: Some(sha256_hex(text.as_bytes())),
        request_sha256,
        prices: (3, 2),
    };
    let opened = receipt::open_base64(&sealed).unwrap();
    receipt::check(&opened, &expected).expect("the receipt says what the client saw");
    assert_eq!(host.metric("fabstir_jobs_total{outcome=\"started\"}"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_killed_mid_job_resumes_it_from_its_database_exact() {
    let host = Host::new(100, "");
    let mut node = host.start();
    let key = libp2p::identity::Keypair::generate_ed25519();
    let me = std::net::Ipv4Addr::LOCALHOST;
    let client = Client::connect_as(&host.addr, me, key.clone()).await;
    let request = job_request(MODEL, 1500);
    let request_sha256 = sha256_hex(&frame::encode(&request).unwrap()[4..]);
    let job_id = client.start(MODEL, 1500).await.unwrap();
    let (mut text, _) = client.read_text_from(&job_id, 0, 300).await;
    assert_eq!(text.len(), 300);
    node.child.kill().unwrap(); // SIGKILL: no shutdown, no last write
    node.child.wait().unwrap();
    let killed_at = std::time::Instant::now();
    let node = host.start();
    let restarted = killed_at.elapsed();
    assert!(
        node.lines.iter().any(|l| l.contains("continuing 1 job(s)")),
        "{:?}",
        node.lines
    );
    // The same client (same peer id) reconnects and resumes from the token it got to.
    let again = Client::connect_as(&host.addr, me, key).await;
    let (rest, end) = again.read_text_from(&job_id, 300, usize::MAX).await;
    text.extend(rest);
    let expected = fabstir_protocol::demo::demo_text(9, "abuse test", 1500);
    assert!(text.concat() == expected, "the resumed text differs");
    let StreamFrame::End {
        total_tokens,
        receipt: Some(sealed),
        ..
    } = end
    else {
        panic!("{end:?}")
    };
    assert_eq!(total_tokens, 1500);
    let opened = receipt::open_base64(&sealed).unwrap();
    let expected_receipt = Expected {
        host: client.host,
        job_id: job_id.clone(),
        client: client.me,
        completion_tokens: 1500,
        output_sha256: Some(sha256_hex(expected.as_bytes())),
        request_sha256,
        prices: (3, 2),
    };
    receipt::check(&opened, &expected_receipt).expect("one receipt covers the whole job");
    // The counters went on from the database.
    assert_eq!(host.metric("fabstir_tokens_generated_total"), 1500.0);
    assert_eq!(host.metric("fabstir_tokens_delivered_total"), 1500.0);
    assert_eq!(
        host.metric(&format!("fabstir_earned_total{{model=\"{MODEL}\"}}")),
        opened.cost as f64
    );
    assert_eq!(host.metric("fabstir_jobs_total{outcome=\"started\"}"), 1.0);
    assert_eq!(
        host.metric("fabstir_jobs_total{outcome=\"completed\"}"),
        1.0
    );
    let listed = host.receipts();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["envelope"], sealed.as_str());
    eprintln!(
        "killed at token 300 of 1500, restarted in {restarted:?}; resumed on the same host, 1500 tokens exact, one receipt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_jobs_leave_a_hundred_verifying_receipts() {
    let host = Host::new(
        0,
        "  max_concurrent_jobs: 100\n  max_jobs_per_peer: 10\n  request_rate: { burst: 0, refill_secs: 1 }\n",
    );
    let _node = host.start();
    let mut clients = Vec::new();
    for i in 0..10u8 {
        clients.push(
            Client::connect_from(&host.addr, std::net::Ipv4Addr::new(127, 0, 0, 20 + i)).await,
        );
    }
    let jobs = clients
        .iter()
        .flat_map(|c| (0..10).map(move |_| c))
        .map(|c| async move {
            let job = c.start(MODEL, 20).await.expect("an offer");
            let (text, end) = c.read_text(&job).await;
            assert_eq!(text.len(), 20);
            assert!(matches!(
                end,
                StreamFrame::End {
                    receipt: Some(_),
                    ..
                }
            ));
            (job, c.me)
        });
    let done: Vec<(String, libp2p::PeerId)> = futures::future::join_all(jobs).await;
    assert_eq!(done.len(), 100);
    // The end reached the client only once stored: all 100 are listed now.
    let listed = host.receipts();
    assert_eq!(listed.len(), 100, "one receipt per job");
    let host_id = client_host(&host.addr);
    for entry in &listed {
        let opened = receipt::open_base64(entry["envelope"].as_str().unwrap()).unwrap();
        assert_eq!(opened.host, host_id);
        assert_eq!(opened.completion_tokens, 20);
        assert!(done
            .iter()
            .any(|(j, c)| *j == opened.job_id && c.to_string() == opened.client));
    }
    assert_eq!(host.metric("fabstir_tokens_delivered_total"), 2000.0);
}

fn client_host(addr: &str) -> String {
    addr.rsplit("/p2p/").next().unwrap().to_string()
}

#[test]
fn an_unusable_database_stops_the_start_naming_the_file() {
    let host = Host::new(0, "");
    let db = host.folder.dir.path().join("host.db");
    let start = || {
        // A start that does not fail is stopped after 30 s (exit 124), failing the test.
        std::process::Command::new("timeout")
            .args(["30", common::BIN, "start", "--config"])
            .arg(host.config())
            .output()
            .unwrap()
    };
    // Truncated: a database whose pages were written back into its file (a checkpoint, as
    // SQLite does as the log grows), then cut to half.
    drop(host.start());
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    let out = start();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains(&db.display().to_string()), "{said}");
    eprintln!("truncated: exit 3, {}", said.trim());
    // Read-only: the folder mounted read-only (root ignores file modes) in a mount namespace.
    std::fs::remove_file(&db).unwrap();
    drop(host.start());
    let dir = host.folder.dir.path().display().to_string();
    let script = format!(
        "mount --bind -o ro {dir} {dir} && exec timeout 30 {} start --config {}",
        common::BIN,
        host.config().display()
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains(&db.display().to_string()), "{said}");
    eprintln!("read-only: exit 3, {}", said.trim());
}

/// For `scripts/bench.sh` (ignored by the suite; it bounds no speed): tokens per second of one
/// 60,000-token job read by a native client, from a host recording it to its database and from
/// one with `database_file: null`, alternating, 3 runs each; prints the medians.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_tokens_per_second_with_and_without_the_database() {
    const TOKENS: u32 = 60_000;
    let hosts = [
        ("with the database", Host::new(0, "")),
        (
            "database_file: null",
            Host::new(0, "  database_file: null\n"),
        ),
    ];
    let nodes: Vec<Node> = hosts.iter().map(|(_, h)| h.start()).collect();
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..3 {
        for (i, (_, host)) in hosts.iter().enumerate() {
            let client = Client::connect(&host.addr).await;
            let began = std::time::Instant::now();
            let job = client.start(MODEL, TOKENS).await.unwrap();
            let (n, end) = client.read(&job).await;
            assert_eq!(n, u64::from(TOKENS), "{end:?}");
            rates[i].push(f64::from(TOKENS) / began.elapsed().as_secs_f64());
        }
    }
    for (i, (what, _)) in hosts.iter().enumerate() {
        rates[i].sort_by(f64::total_cmp);
        println!(
            "BENCH tokens/s {what}: {:.0} (runs {:?})",
            rates[i][1],
            rates[i].iter().map(|r| r.round()).collect::<Vec<_>>()
        );
    }
    drop(nodes);
}
