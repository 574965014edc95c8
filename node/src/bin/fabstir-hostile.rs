//! `fabstir-hostile`: a test peer that speaks the token-stream protocol badly, for the SDK's
//! hostile-host tests. It is a real `fabstir-node` (discovery, info, negotiation, jobs) whose token
//! streams misbehave by model id:
//!
//! | model | what its stream does |
//! |---|---|
//! | `hostile-malformed` | one good token, then a frame that is not JSON |
//! | `hostile-oversized` | one good token, then a length prefix of 1 MiB |
//! | `hostile-order` | tokens 0, 1, then 3 |
//! | `hostile-endless` | tokens without end, far past the job's `maxTokens` |
//! | `hostile-stall` | two tokens, then silence with the stream held open |
//! | `hostile-slowloris` | a frame's prefix and a few bytes of it, then silence |
//! | `hostile-total` | three tokens, then an end claiming 99 |
//! | `hostile-garbage` | random bytes |
//! | `hostile-receipt-tokens` | three tokens and an end whose signed receipt claims four |
//! | `hostile-receipt-output` | the same, the receipt's output hash of another text |
//! | `hostile-receipt-client` | the same, the receipt names another client |
//! | `hostile-receipt-key` | the same, the receipt signed with a key that is not the host's |
//!
//! And its job negotiation lies about two models' price: `hostile-overprice` and
//! `hostile-overprice-shared` (which host-b of the test network serves honestly at 2) are priced
//! at 1 in its configuration and its catalog record, and a job of one is started at that, but
//! the terms sent say 5 per token, whatever maxima the request set (an honest host refuses a request
//! whose maxima are below its price).
//!
//! Its catalog protocol (`/fabstir/catalog/1.0.0`) hands out the records of its catalog, but
//! alters every one that prices a model at 5 per token (host-a's demo-1 in the test network) to 1
//! without signing it again, as a catalog server that lies would. And it closes each peer's first
//! catalog stream unread, as a busy node may (docs/PROTOCOL.md, "Dropped streams"), so a page's
//! first question is answered only if the page asks again.
//!
//! Never run it outside tests. Usage: `fabstir-hostile start --config <file>`.

use std::process::ExitCode;
use std::time::Duration;

use fabstir_protocol::frame;
use fabstir_protocol::messages::{FinishReason, StreamFrame, StreamRequest};
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{PeerId, Stream};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let config = match args.as_slice() {
        [_, start, flag, path] if start == "start" && flag == "--config" => path.clone(),
        _ => {
            eprintln!("usage: fabstir-hostile start --config <file>");
            return ExitCode::from(2);
        }
    };
    match run(std::path::Path::new(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fabstir-hostile: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &std::path::Path) -> Result<(), fabstir_node::NodeError> {
    let config = fabstir_node::config::load(path)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.raw.log.level))
        .with_writer(std::io::stderr)
        .init();
    let identity =
        fabstir_node::identity::Identity::load(&config.key_file, &config.webrtc_cert_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fabstir_node::NodeError::Network(e.to_string()))?;
    runtime.block_on(fabstir_node::run::run_serving(
        config,
        identity,
        |host, peer, stream, known| Box::pin(serve_badly(host, peer, stream, known)),
        |served, peer, stream| Box::pin(serve_altered_catalog(served.hub, peer, stream)),
        overprice,
    ))
}

/// The price `hostile-overprice`'s (and `-overprice-shared`'s) terms claim, above the record's (1).
const OVERPRICE: u64 = 5;

/// Says [`OVERPRICE`] per token in the terms of `hostile-overprice` and
/// `hostile-overprice-shared` (which an honest host of the test network serves too).
fn overprice(model: &str, terms: &mut fabstir_protocol::messages::JobResponse) {
    if let fabstir_protocol::messages::JobResponse::Offer {
        price_per_token, ..
    } = terms
    {
        if model.starts_with("hostile-overprice") {
            tracing::warn!(model, "claiming a price above the record's on purpose");
            *price_per_token = OVERPRICE;
        }
    }
}

/// Answers catalog requests (once, not watches) from a copy of the catalog whose records
/// pricing something at 5 per token now say 1 (the same length, so the envelope still parses;
/// its signature fails). Each peer's first stream is closed unread.
async fn serve_altered_catalog(
    catalog: fabstir_node::catalog::SharedCatalog,
    peer: PeerId,
    mut stream: libp2p::Stream,
) -> std::io::Result<()> {
    use fabstir_protocol::catalog::wire;
    use futures::AsyncWriteExt;
    static ASKED: std::sync::Mutex<Vec<PeerId>> = std::sync::Mutex::new(Vec::new());
    {
        let mut asked = ASKED.lock().unwrap_or_else(|p| p.into_inner());
        if !asked.contains(&peer) {
            asked.push(peer);
            tracing::warn!(%peer, "closing a peer's first catalog stream unread on purpose");
            return Ok(());
        }
    }
    let read = fabstir_protocol::frame::read(&mut stream);
    let Ok(request) = tokio::time::timeout(std::time::Duration::from_secs(10), read).await else {
        return Ok(());
    };
    let Some(request) = request.map_err(std::io::Error::other)? else {
        return Ok(());
    };
    let altered = {
        let held = catalog.lock();
        let mut copy = fabstir_protocol::catalog::Catalog::default();
        for entry in held.entries() {
            let mut sealed = entry.sealed.clone();
            let from = b"\"pricePerToken\":5,";
            if let Some(at) = sealed.windows(from.len()).position(|w| w == from) {
                sealed[at + from.len() - 2] = b'1';
                tracing::warn!(host = %entry.announcement.peer_id, "handing out an altered catalog record on purpose");
            }
            copy.insert(entry.announcement.clone(), sealed);
        }
        copy
    };
    let items = wire::answer_items(&altered, &request).unwrap_or_else(|| {
        vec![wire::CatalogFrame::Refused(
            "only one-shot requests here".into(),
        )]
    });
    wire::write_answer(&mut stream, &items)
        .await
        .map_err(std::io::Error::other)?;
    stream.close().await
}

fn token(index: u64) -> StreamFrame {
    StreamFrame::Token {
        index,
        content: format!("t{index} "),
        timestamp: 0,
    }
}

async fn send(w: &mut Stream, frames: &[StreamFrame]) -> std::io::Result<()> {
    for f in frames {
        frame::write(w, f).await.map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Holds the stream open, silent, until the client gives up (or 10 minutes pass).
async fn hold(mut stream: Stream) -> std::io::Result<()> {
    let mut buf = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(600), async {
        while stream.read(&mut buf).await.unwrap_or(0) > 0 {}
    })
    .await;
    Ok(())
}

/// An end after `tokens` whose receipt, signed, lies in the way `lie` names.
fn end_with_false_receipt(
    host: &fabstir_node::host::Host,
    job: &fabstir_node::host::Job,
    tokens: &[StreamFrame],
    lie: &str,
) -> StreamFrame {
    use fabstir_protocol::receipt::{self, Receipt};
    let mut output = receipt::OutputHash::default();
    for t in tokens {
        if let StreamFrame::Token { content, .. } = t {
            output.update(content);
        }
    }
    let sent = tokens.len() as u64;
    let mut claim = Receipt {
        version: receipt::RECEIPT_VERSION,
        job_id: job.id.clone(),
        host: host.key().public().to_peer_id().to_string(),
        client: job.owner.to_string(),
        model_id: job.model_id.clone(),
        prompt_tokens: 0,
        completion_tokens: sent,
        price_per_token: job.terms.price_per_token,
        price_per_prompt_token: job.terms.price_per_prompt_token,
        cost: sent * job.terms.price_per_token,
        request_sha256: job.terms.request_sha256.clone(),
        output_sha256: output.hex(),
        started_at: job.started_at,
        ended_at: job.started_at,
    };
    let mut key = host.key().clone();
    match lie {
        "receipt-tokens" => {
            claim.completion_tokens += 1;
            claim.cost = claim.completion_tokens * claim.price_per_token;
        }
        "receipt-output" => claim.output_sha256 = receipt::sha256_hex(b"another text"),
        "receipt-client" => claim.client = PeerId::random().to_string(),
        _ => key = libp2p::identity::Keypair::generate_ed25519(),
    }
    StreamFrame::End {
        total_tokens: sent,
        duration: 1,
        finish_reason: FinishReason::Length,
        usage: None,
        cost: Some(sent * job.terms.price_per_token),
        receipt: receipt::seal_base64(&key, &claim).ok(),
    }
}

async fn serve_badly(
    host: fabstir_node::host::Host,
    peer: PeerId,
    mut stream: Stream,
    known: Option<StreamRequest>,
) -> std::io::Result<()> {
    let request = match known {
        Some(request) => request,
        None => match frame::read::<_, StreamRequest>(&mut stream).await {
            Ok(Some(request)) => request,
            _ => return Ok(()),
        },
    };
    let Some(job) = host.job(&request.job_id, &peer) else {
        return stream.close().await;
    };
    tracing::warn!(%peer, model = %job.model_id, "serving a token stream badly on purpose");
    let mode = job.model_id.trim_start_matches("hostile-").to_string();
    match mode.as_str() {
        "malformed" => {
            send(&mut stream, &[token(0)]).await?;
            stream.write_all(&9u32.to_be_bytes()).await?;
            stream.write_all(b"{\"type\":!").await?;
        }
        "oversized" => {
            send(&mut stream, &[token(0)]).await?;
            stream.write_all(&(1u32 << 20).to_be_bytes()).await?;
            stream.write_all(&[b'x'; 4096]).await?;
        }
        "order" => send(&mut stream, &[token(0), token(1), token(3)]).await?,
        "endless" => {
            for i in 0.. {
                send(&mut stream, &[token(i)]).await?;
                if i % 64 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
        "stall" => {
            send(&mut stream, &[token(0), token(1)]).await?;
            return hold(stream).await;
        }
        "slowloris" => {
            stream.write_all(&100u32.to_be_bytes()).await?;
            stream.write_all(b"{\"type\":\"tok").await?;
            stream.flush().await?;
            return hold(stream).await;
        }
        "total" => {
            let end = StreamFrame::End {
                total_tokens: 99,
                duration: 1,
                finish_reason: FinishReason::Stop,
                usage: None,
                cost: None,
                receipt: None,
            };
            send(&mut stream, &[token(0), token(1), token(2), end]).await?;
        }
        lie if lie.starts_with("receipt-") => {
            let tokens = [token(0), token(1), token(2)];
            let end = end_with_false_receipt(&host, &job, &tokens, lie);
            send(&mut stream, &tokens).await?;
            send(&mut stream, &[end]).await?;
        }
        _ => {
            let garbage: Vec<u8> = (0..2048).map(|_| rand::random::<u8>()).collect();
            stream.write_all(&garbage).await?;
        }
    }
    stream.flush().await?;
    stream.close().await
}
