//! The `host` section: the models a node serves, their backends and the host's limits.

use super::*;
use crate::config::relay::RateLimit;

/// The LLM host role. With no models the node is a relay/bootstrap node only.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// Models served.
    pub models: Vec<HostedModel>,
    /// Jobs run (or held for a fresh offer) at once.
    pub max_concurrent_jobs: u32,
    /// `direct` (peers dial our own addresses) or `relayed` (only through our bootstrap relays).
    pub reachability: Reachability,
    /// What we compute on, reported in node info (e.g. `cpu`, `gpu`).
    pub compute_type: String,
    /// How long a finished job's tokens are kept for clients that resume its stream (in memory
    /// and in the database; receipts stay).
    pub token_retention_secs: u64,
    /// The SQLite database of jobs, tokens and receipts, relative to the configuration's
    /// folder; a restarted host resumes from it. `null`: no database (jobs are not recorded, not
    /// resumed after a restart, not listed; for measuring what recording costs).
    pub database_file: Option<std::path::PathBuf>,
    /// How long an offer stays open for the client to accept it.
    pub offer_ttl_secs: u64,
    /// How long a new offer holds a job slot; after that it is a quote whose accept takes a slot
    /// only if one is free then (else `busy`).
    pub offer_hold_secs: u64,
    /// How often our models are announced again as DHT provider records.
    pub advertise_interval_secs: u64,
    /// How long our catalog announcement (gossipsub) counts; we announce again after a third of
    /// it, and on every change. 1..=600.
    pub announce_ttl_secs: u64,
    /// Whether this node subscribes to the catalog topic and keeps the network's catalog (to
    /// serve it to pages). Unset: yes on a relay or a node without models; no on a node that
    /// only hosts (it publishes its own announcement without receiving every other host's: see
    /// [`HostConfig::keeps_catalog`]).
    pub keep_catalog: Option<bool>,
    /// The longest prompt accepted, in bytes (at most the protocol's 32 KiB).
    pub max_prompt_bytes: usize,
    /// Jobs one peer may run (or hold offers for) at once; unset: half of `max_concurrent_jobs`, at least 1 (see
    /// [`HostConfig::jobs_per_peer`]), so one peer id cannot take every slot.
    pub max_jobs_per_peer: Option<u32>,
    /// Jobs (and fresh offers) the peers connected directly from one IP address may hold at once;
    /// unset: as many as one peer may (see [`HostConfig::jobs_per_ip`]). Peers that come through
    /// a relay have no address of their own here and are not counted.
    pub max_jobs_per_ip: Option<u32>,
    /// A started job whose client opens no token stream within this long is stopped.
    pub stream_open_secs: u64,
    /// A started job with no client reading it for this long (after its last stream closed) is
    /// stopped; a client that comes back sooner resumes it.
    pub client_grace_secs: u64,
    /// Generation pauses while it is this many tokens ahead of the furthest a client has read.
    pub max_tokens_ahead: u32,
    /// The longest one job may run; then it ends with `finishReason: "length"`.
    pub max_job_secs: u64,
    /// On SIGTERM/SIGINT, how long running jobs may go on finishing; then the rest end with the
    /// recoverable error `SHUTTING_DOWN` (their clients fail over) and the node exits.
    pub shutdown_grace_secs: u64,
    /// How fast one peer may ask for offers (a token bucket; `burst: 0` turns it off).
    pub request_rate: RateLimit,
}

/// How clients reach a host.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    /// Clients dial our listen (or external) addresses.
    Direct,
    /// We reserve on our bootstrap relays and advertise only `/p2p-circuit` addresses.
    Relayed,
}

/// One served model.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostedModel {
    /// The model id clients ask for.
    pub id: String,
    /// Price per generated token, in the network's smallest price unit.
    pub price_per_token: u64,
    /// Price per prompt token (read, not generated); default 0.
    #[serde(default)]
    pub price_per_prompt_token: u64,
    /// The most tokens one job may generate (default 4,096).
    #[serde(default = "default_model_max_tokens")]
    pub max_tokens: u32,
    /// The model's context in tokens (prompt and answer together), announced to clients so they
    /// can keep a conversation that cannot fit away from this host; unset: not announced.
    #[serde(default)]
    pub context_tokens: Option<u32>,
    /// What generates the tokens.
    pub backend: BackendConfig,
}

/// What generates a model's tokens.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// The built-in deterministic generator (`fabstir_protocol::demo`), for demos and tests.
    Demo {
        /// Mixed with each prompt; the same seed and prompt always give the same text.
        #[serde(default)]
        seed: u64,
        /// Tokens generated per second; 0 means as fast as possible.
        #[serde(default = "default_tokens_per_second")]
        tokens_per_second: f64,
    },
    /// An OpenAI-compatible server's streaming `POST {base_url}/v1/chat/completions`.
    Openai {
        /// e.g. `http://127.0.0.1:8080` (llama.cpp server), `http://127.0.0.1:11434` (Ollama).
        base_url: String,
        /// The model name the server knows.
        model: String,
        /// The environment variable holding the API key, sent as a bearer token; none when unset.
        #[serde(default)]
        api_key_env: Option<String>,
        /// Seconds to wait for a TCP connection to the server.
        #[serde(default = "default_connect_timeout")]
        connect_timeout_secs: u64,
        /// Seconds to wait for the server's answer to start, and then for each next part of it.
        #[serde(default = "default_idle_timeout")]
        idle_timeout_secs: u64,
        /// Generations the server runs at once (llama-server's `-np`; 1 for llama-cpp-python);
        /// the host answers `busy` for this model while they are all taken. Unset: only
        /// `max_concurrent_jobs` bounds it.
        #[serde(default)]
        parallel: Option<u32>,
        /// How the server continues an answer another host began (failover): `replay`
        /// (default: the conversation is asked again and the text already received must come
        /// out first, exactly; any server whose answers repeat, e.g. greedy or seeded) or
        /// `prefill` (the text is sent as a last assistant message that the server continues:
        /// llama.cpp's `llama-server`; llama-cpp-python 0.3.36 starts a new answer instead).
        #[serde(default)]
        continuation: ContinueBy,
    },
}

/// How an `openai` backend continues an answer another host began.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContinueBy {
    /// Ask the conversation again; deliver only what follows the text received, which the
    /// server's answer must begin with (else the job fails on this host, saying so).
    #[default]
    Replay,
    /// Send the text received as a last assistant message for the server to continue.
    Prefill,
}

fn default_model_max_tokens() -> u32 {
    4096
}

fn default_tokens_per_second() -> f64 {
    20.0
}

fn default_connect_timeout() -> u64 {
    5
}

fn default_idle_timeout() -> u64 {
    120
}

impl BackendConfig {
    /// The kind reported in node info.
    pub fn kind(&self) -> fabstir_protocol::messages::BackendKind {
        use fabstir_protocol::messages::BackendKind;
        match self {
            BackendConfig::Demo { .. } => BackendKind::Demo,
            BackendConfig::Openai { .. } => BackendKind::Openai,
        }
    }

    /// Generations the backend runs at once, when it is bounded.
    pub fn parallel(&self) -> Option<u32> {
        match self {
            BackendConfig::Demo { .. } => None,
            BackendConfig::Openai { parallel, .. } => *parallel,
        }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            models: Vec::new(),
            max_concurrent_jobs: 4,
            reachability: Reachability::Direct,
            compute_type: "cpu".into(),
            token_retention_secs: 600,
            database_file: Some("host.db".into()),
            offer_ttl_secs: 30,
            offer_hold_secs: 2,
            advertise_interval_secs: 300,
            announce_ttl_secs: 120,
            keep_catalog: None,
            max_prompt_bytes: fabstir_protocol::messages::MAX_PROMPT_LEN,
            max_jobs_per_peer: None,
            max_jobs_per_ip: None,
            stream_open_secs: 10,
            client_grace_secs: 30,
            max_tokens_ahead: 256,
            max_job_secs: 600,
            shutdown_grace_secs: 30,
            request_rate: RateLimit {
                burst: 20,
                refill_secs: 1,
            },
        }
    }
}

impl HostConfig {
    /// The jobs one peer may run at once: `max_jobs_per_peer`, or half of `max_concurrent_jobs`
    /// (rounded down, at least 1) when it is unset.
    pub fn jobs_per_peer(&self) -> u32 {
        self.max_jobs_per_peer
            .unwrap_or((self.max_concurrent_jobs / 2).max(1))
    }

    /// Whether the node keeps the catalog (`keep_catalog`; unset: when it relays or hosts no
    /// model). A host that only hosts publishes its announcement without subscribing: measured
    /// with 1,000 hosts on 3 relays (`fabstir-catalog-scale`), subscribed hosts made each relay
    /// send 250 KiB per host per minute (every host receives every announcement: quadratic in
    /// all), publishing-only hosts 5.5 KiB.
    pub fn keeps_catalog(&self, relay: bool) -> bool {
        self.keep_catalog.unwrap_or(relay || self.models.is_empty())
    }

    /// The jobs the direct peers of one IP address may run at once: `max_jobs_per_ip`, or
    /// [`HostConfig::jobs_per_peer`] when it is unset (20 peer ids from one machine get what one
    /// would).
    pub fn jobs_per_ip(&self) -> u32 {
        self.max_jobs_per_ip.unwrap_or(self.jobs_per_peer())
    }
}
