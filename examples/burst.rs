//! Many concurrent jobs from one native SDK client, to see whether a burst loses any (it found
//! the node's accept slot dropping streams; see `src/net/dropped.rs`). With the test network up
//! (`scripts/test-nodes.sh`):
//!
//! ```sh
//! cargo run --example burst -- <relay /ws multiaddr> [model, default direct-1] [jobs, default 50]
//! ```

/// Native only: a browser page is not a command-line program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use fabstir_sdk::{Client, SdkConfig};
    use futures::StreamExt;

    #[tokio::main]
    pub async fn main() {
        let relay = std::env::args().nth(1).unwrap();
        let model = std::env::args().nth(2).unwrap_or("direct-1".into());
        let n: usize = std::env::args()
            .nth(3)
            .map(|s| s.parse().unwrap())
            .unwrap_or(50);
        let config = SdkConfig::from_json(&serde_json::json!({
            "p2pConfig": { "bootstrapNodes": [relay] }
        }))
        .unwrap();
        let (tx, mut rx) = futures::channel::mpsc::channel(1024);
        let (client, event_loop) =
            Client::new(libp2p::identity::Keypair::generate_ed25519(), config, tx)
                .await
                .unwrap();
        tokio::spawn(event_loop.run());
        tokio::spawn(async move {
            while let Some(e) = rx.next().await {
                let s = format!("{e:?}");
                if s.contains("Disconnect") || s.contains("Error") {
                    eprintln!("EVENT {s}");
                }
            }
        });
        client.net().bootstrap().await.unwrap();
        let jobs = (0..n).map(|i| {
            let client = client.clone();
            let model = model.clone();
            async move {
                let spec: fabstir_sdk::market::negotiation::JobSpec =
                    serde_json::from_value(serde_json::json!({
                        "modelId": model, "prompt": format!("burst {i}"), "maxTokens": 2000
                    }))
                    .unwrap();
                let n = client
                    .market()
                    .submit_job(&spec)
                    .await
                    .map_err(|e| format!("{i} submit: {e}"))?;
                let (mut reader, _c, _) = client
                    .market()
                    .open_stream(&n.job_id, Some(0))
                    .await
                    .map_err(|e| format!("{i} open: {e}"))?;
                loop {
                    match reader.next().await {
                        Ok(fabstir_sdk::market::stream::StreamEvent::End(_)) => {
                            return Ok::<_, String>(())
                        }
                        Ok(_) => {}
                        Err(e) => return Err(format!("{i} read: {e}")),
                    }
                }
            }
        });
        let results = futures::future::join_all(jobs).await;
        let failed: Vec<_> = results.into_iter().filter_map(|r| r.err()).collect();
        println!("{n} jobs, {} failed", failed.len());
        for f in failed.iter().take(5) {
            println!("  {f}");
        }
    }
}
