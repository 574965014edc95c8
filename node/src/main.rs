//! Command-line entry point of `fabstir-node`: `init`, `start`, `info`, `receipts` and `demo-text`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fabstir_node::config::{self, NodeConfig};
use fabstir_node::identity::Identity;
use fabstir_node::{say, NodeError};

#[derive(Parser)]
#[command(
    name = "fabstir-node",
    version,
    about = "Fabstir relay, bootstrap and DHT node"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an identity key, a WebRTC certificate and a commented config.yaml.
    Init {
        /// Folder to create the files in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Listen address for the generated config (repeat for several); default TCP 4001, WS 4002, WebRTC-direct 4003.
        #[arg(long = "listen")]
        listen: Vec<String>,
        /// Write `mdns: enabled: false` into the generated config.
        #[arg(long)]
        no_mdns: bool,
    },
    /// Run the node.
    Start {
        /// The configuration file.
        #[arg(long, default_value = "config.yaml")]
        config: PathBuf,
    },
    /// Print the peer id and dialable multiaddrs.
    Info {
        /// The configuration file.
        #[arg(long, default_value = "config.yaml")]
        config: PathBuf,
        /// Print JSON: {"peerId": "...", "multiaddrs": ["..."]}.
        #[arg(long)]
        json: bool,
    },
    /// List the receipts this host signed (what it delivered and earned), oldest first.
    Receipts {
        /// The configuration file (its `host.database_file` is read).
        #[arg(long, default_value = "config.yaml")]
        config: PathBuf,
        /// Only jobs that ended since: ms since the Unix epoch, or an age such as 90s, 30m, 12h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// Print JSON: [{"jobId", "client", "modelId", "completionTokens", "cost", "endedAt", "envelope"}].
        #[arg(long)]
        json: bool,
    },
    /// Print the text the demo backend generates for a seed and a prompt (for checking a stream).
    DemoText {
        /// The model's `backend.seed`.
        #[arg(long)]
        seed: u64,
        /// The prompt.
        #[arg(long)]
        prompt: String,
        /// How many tokens.
        #[arg(long)]
        tokens: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init {
            dir,
            listen,
            no_mdns,
        } => init(&dir, listen, !no_mdns),
        Command::Start { config } => start(&config),
        Command::Info { config, json } => info(&config, json),
        Command::Receipts {
            config,
            since,
            json,
        } => receipts(&config, since.as_deref(), json),
        Command::DemoText {
            seed,
            prompt,
            tokens,
        } => {
            say(fabstir_protocol::demo::demo_text(seed, &prompt, tokens));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("fabstir-node: {e}\n"),
            );
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

fn init(dir: &Path, listen: Vec<String>, mdns: bool) -> Result<(), NodeError> {
    std::fs::create_dir_all(dir).map_err(|e| NodeError::Io {
        action: "create",
        path: dir.into(),
        source: e,
    })?;
    let config_path = dir.join("config.yaml");
    if config_path.exists() {
        return Err(NodeError::AlreadyExists { path: config_path });
    }
    let listen = if listen.is_empty() {
        NodeConfig::default().listen
    } else {
        listen
    };
    let text = config::template::default_yaml(&listen, mdns);
    // Validate before writing anything, so a bad --listen leaves no files behind.
    let loaded = config::parse(&config_path, &text)?;
    let identity = Identity::create(&loaded.key_file, &loaded.webrtc_cert_file)?;
    std::fs::write(&config_path, text).map_err(|e| NodeError::Io {
        action: "write",
        path: config_path.clone(),
        source: e,
    })?;
    say(format_args!("peer id {}", identity.peer_id()));
    say(format_args!("created {}", config_path.display()));
    Ok(())
}

fn start(config_path: &Path) -> Result<(), NodeError> {
    let config = config::load(config_path)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.raw.log.level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let identity = Identity::load(&config.key_file, &config.webrtc_cert_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| NodeError::Network(format!("cannot start runtime: {e}")))?;
    runtime.block_on(fabstir_node::run::run(config, identity))
}

fn receipts(config_path: &Path, since: Option<&str>, json: bool) -> Result<(), NodeError> {
    let config = config::load(config_path)?;
    let since = match since {
        None => 0,
        Some(text) => parse_since(text).ok_or_else(|| NodeError::Startup {
            field: "--since".into(),
            message: format!("{text:?} is neither ms since the epoch nor an age like 30m"),
        })?,
    };
    let Some(file) = &config.database_file else {
        return Err(NodeError::Startup {
            field: "host.database_file".into(),
            message: "is null: this node records no jobs".into(),
        });
    };
    let list = fabstir_node::store::list_receipts(file, since)?;
    if json {
        say(format_args!(
            "{}",
            serde_json::to_string(&list).unwrap_or_default()
        ));
        return Ok(());
    }
    let mut earned = std::collections::BTreeMap::<&str, (u64, u64, u64)>::new();
    for r in &list {
        say(format_args!(
            "{}  {}  {}  {}  {} tokens  cost {}",
            r.ended_at, r.job_id, r.client, r.model_id, r.completion_tokens, r.cost
        ));
        let e = earned.entry(&r.model_id).or_default();
        *e = (e.0 + 1, e.1 + r.completion_tokens, e.2 + r.cost);
    }
    for (model, (jobs, tokens, cost)) in earned {
        say(format_args!(
            "{model}: {jobs} job(s), {tokens} tokens delivered, earned {cost}"
        ));
    }
    Ok(())
}

/// `--since`: ms since the Unix epoch, or an age (`90s`, `30m`, `12h`, `7d`) before now.
fn parse_since(text: &str) -> Option<u64> {
    if let Ok(ms) = text.parse::<u64>() {
        return Some(ms);
    }
    let (n, unit) = text.split_at(text.len().checked_sub(1)?);
    let seconds = n.parse::<u64>().ok()?
        * match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return None,
        };
    Some(fabstir_node::host::unix_ms().saturating_sub(seconds.saturating_mul(1000)))
}

fn info(config_path: &Path, json: bool) -> Result<(), NodeError> {
    let config = config::load(config_path)?;
    let identity = Identity::load(&config.key_file, &config.webrtc_cert_file)?;
    let addrs = fabstir_node::identity::dialable_addresses(&config, &identity);
    if json {
        let value = serde_json::json!({
            "peerId": identity.peer_id().to_string(),
            "multiaddrs": addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        });
        say(format_args!("{value}"));
    } else {
        say(format_args!("peer id {}", identity.peer_id()));
        for addr in addrs {
            say(format_args!("{addr}"));
        }
    }
    Ok(())
}
