//! Signed usage receipts (issue 14) from a real `fabstir-node` host, read by a native client:
//! each job's receipt opens (the host's signature), names this client, and matches the request it
//! sent, the text it got and the agreed prices.

mod common;

use common::client::{job_request, Client};
use common::{free_port, init, peer_id, Node};
use fabstir_protocol::frame;
use fabstir_protocol::messages::{FinishReason, JobDecision, JobResponse, StreamFrame};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_ends_with_a_receipt_the_client_can_check() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(false);
    init(dir.path(), &[format!("/ip4/127.0.0.1/tcp/{port}")]);
    let config = format!(
        "listen: [/ip4/127.0.0.1/tcp/{port}]\nmdns: {{ enabled: false }}\nrelay: {{ enabled: false }}\nkad: {{ enabled: false }}\nhost:\n  models:\n    - {{ id: {MODEL}, price_per_token: 3, price_per_prompt_token: 2, backend: {{ kind: demo, seed: 9, tokens_per_second: 0 }} }}\n"
    );
    std::fs::write(dir.path().join("config.yaml"), config).unwrap();
    let _node = Node::start(&dir.path().join("config.yaml"));
    let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", peer_id(dir.path()));
    let client = Client::connect(&addr).await;
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
