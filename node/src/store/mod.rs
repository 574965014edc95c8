//! Host state that survives a restart (issue 14): every job (its request, terms, tokens, end)
//! and every receipt the host signed, in a SQLite database in WAL mode.
//!
//! One writer thread owns the connection and takes [`Op`]s over a bounded channel; it commits
//! whatever has queued up as one transaction (a group commit), then tells each job how far it is
//! stored. A job hands a token to its readers only once it is stored, so a host killed at any
//! moment has on disk every token any client saw.

mod load;
pub mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::error::NodeError;

pub use load::{list_receipts, load_jobs, totals, StoredJob, Totals};

/// Ops queued for the writer before a sender waits (backpressure on generation, never loss).
const QUEUE: usize = 8192;

/// What a job is told once its writes are committed.
pub trait Persisted: Send + Sync {
    /// Tokens `0..count` are stored.
    fn tokens_stored(&self, count: u64);
    /// Its end is stored.
    fn end_stored(&self);
}

/// A job as first recorded, at its start.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// The job id.
    pub id: String,
    /// The client's peer id.
    pub owner: String,
    /// The model.
    pub model_id: String,
    /// The job request (JSON), to continue it after a restart.
    pub request: String,
    /// Agreed price per generated token.
    pub price_per_token: u64,
    /// Agreed price per prompt token.
    pub price_per_prompt_token: u64,
    /// SHA-256 (hex) of the request as the client sent it.
    pub request_sha256: String,
    /// Prompt tokens by estimate.
    pub prompt_estimate: u64,
    /// Start, ms since the Unix epoch.
    pub started_at: u64,
}

/// A job's receipt as stored and as `fabstir-node receipts --json` lists it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRow {
    /// The job.
    pub job_id: String,
    /// The client's peer id.
    pub client: String,
    /// The model.
    pub model_id: String,
    /// Tokens delivered.
    pub completion_tokens: u64,
    /// What the job earned.
    pub cost: u64,
    /// When it ended.
    pub ended_at: u64,
    /// The sealed receipt (base64): verifiable by anyone (docs/PROTOCOL.md, "Receipts").
    pub envelope: String,
}

/// One write for the writer thread.
pub enum Op {
    /// A job started.
    Job(JobRow),
    /// Token `index` of job `job`.
    Token {
        /// The job.
        job: String,
        /// Its index.
        index: u64,
        /// Its text.
        content: String,
        /// When it was generated.
        ts: u64,
        /// Told once it is stored.
        notify: Arc<dyn Persisted>,
    },
    /// A job ended: its outcome, its last frame (JSON) and its receipt.
    End {
        /// The job.
        job: String,
        /// `completed`, `cancelled`, `failed` or `abandoned`.
        outcome: &'static str,
        /// When.
        ended_at: u64,
        /// The `end` or `error` frame, as sent.
        frame: String,
        /// Its receipt, when signed.
        receipt: Option<ReceiptRow>,
        /// Told once it is stored.
        notify: Arc<dyn Persisted>,
    },
    /// Forget the tokens and records of jobs that ended before this time (receipts stay).
    Sweep {
        /// ms since the Unix epoch.
        ended_before: u64,
    },
}

/// The handle to the host's database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    ops: mpsc::Sender<Op>,
    path: Arc<PathBuf>,
}

impl Store {
    /// Opens the database at `path` (see [`schema::open`]), reads back its jobs and totals, and
    /// starts its writer thread.
    pub fn open(path: &Path) -> Result<(Store, Vec<StoredJob>, Totals), NodeError> {
        let conn = schema::open(path)?;
        let jobs = load_jobs(&conn, path)?;
        let totals = totals(&conn, path)?;
        let (ops, queue) = mpsc::channel(QUEUE);
        let file = path.to_path_buf();
        std::thread::Builder::new()
            .name("fabstir-store".into())
            .spawn(move || writer::run(conn, queue, &file))
            .map_err(|e| NodeError::Database {
                path: path.to_path_buf(),
                reason: format!("cannot start its writer: {e}"),
            })?;
        let store = Store {
            ops,
            path: Arc::new(path.to_path_buf()),
        };
        Ok((store, jobs, totals))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `op`, waiting while the writer is [`QUEUE`] ops behind. A writer that stopped (a
    /// failed write: the node stops, see `writer`) drops it.
    pub async fn write(&self, op: Op) {
        let _ = self.ops.send(op).await;
    }

    /// Queues `op` from outside the runtime's async code (e.g. a periodic sweep).
    pub fn try_write(&self, op: Op) {
        let _ = self.ops.try_send(op);
    }
}
