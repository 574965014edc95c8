//! Reading the database: the jobs to bring back at a start, the totals the counters start from,
//! and the receipts `fabstir-node receipts` lists.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, OpenFlags};

use super::{JobRow, ReceiptRow};
use crate::error::NodeError;

/// A job read back at a start: what it was, the tokens it made, and how it ended (if it did).
#[derive(Debug, Clone)]
pub struct StoredJob {
    /// As recorded at its start.
    pub row: JobRow,
    /// Its tokens, in order, with their times.
    pub tokens: Vec<(String, u64)>,
    /// Its last frame (JSON), once it ended.
    pub end_frame: Option<String>,
    /// When it ended.
    pub ended_at: Option<u64>,
}

/// What the host did before this start.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Jobs by outcome (`started` counts every job).
    pub jobs: BTreeMap<String, u64>,
    /// Tokens of every job kept.
    pub tokens: u64,
    /// Receipted tokens.
    pub delivered: u64,
    /// Receipted earnings by model.
    pub earned: BTreeMap<String, u64>,
}

fn failed(path: &Path) -> impl Fn(rusqlite::Error) -> NodeError + '_ {
    move |e| NodeError::Database {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Every job kept, with its tokens.
pub fn load_jobs(conn: &Connection, path: &Path) -> Result<Vec<StoredJob>, NodeError> {
    let err = failed(path);
    let mut jobs = conn
        .prepare(
            "SELECT id, owner, model_id, request, price_per_token, price_per_prompt_token,
             request_sha256, prompt_estimate, started_at, end_frame, ended_at FROM jobs",
        )
        .map_err(&err)?;
    let rows = jobs
        .query_map([], |r| {
            Ok(StoredJob {
                row: JobRow {
                    id: r.get(0)?,
                    owner: r.get(1)?,
                    model_id: r.get(2)?,
                    request: r.get(3)?,
                    price_per_token: r.get::<_, i64>(4)? as u64,
                    price_per_prompt_token: r.get::<_, i64>(5)? as u64,
                    request_sha256: r.get(6)?,
                    prompt_estimate: r.get::<_, i64>(7)? as u64,
                    started_at: r.get::<_, i64>(8)? as u64,
                },
                tokens: Vec::new(),
                end_frame: r.get(9)?,
                ended_at: r.get::<_, Option<i64>>(10)?.map(|t| t as u64),
            })
        })
        .map_err(&err)?;
    let mut out: Vec<StoredJob> = rows.collect::<Result<_, _>>().map_err(&err)?;
    let mut tokens = conn
        .prepare("SELECT content, ts FROM tokens WHERE job_id = ?1 ORDER BY idx")
        .map_err(&err)?;
    for job in &mut out {
        job.tokens = tokens
            .query_map(params![job.row.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(&err)?
            .collect::<Result<_, _>>()
            .map_err(&err)?;
    }
    Ok(out)
}

/// The totals the host's counters start from.
pub fn totals(conn: &Connection, path: &Path) -> Result<Totals, NodeError> {
    let err = failed(path);
    let mut t = Totals::default();
    let mut outcomes = conn
        .prepare("SELECT COALESCE(outcome, 'running'), COUNT(*) FROM jobs GROUP BY 1")
        .map_err(&err)?;
    for row in outcomes
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })
        .map_err(&err)?
    {
        let (outcome, n) = row.map_err(&err)?;
        *t.jobs.entry("started".into()).or_default() += n;
        t.jobs.insert(outcome, n);
    }
    t.tokens = conn
        .query_row("SELECT COUNT(*) FROM tokens", [], |r| r.get::<_, i64>(0))
        .map_err(&err)? as u64;
    let mut earned = conn
        .prepare("SELECT model_id, SUM(cost), SUM(completion_tokens) FROM receipts GROUP BY 1")
        .map_err(&err)?;
    for row in earned
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        })
        .map_err(&err)?
    {
        let (model, cost, tokens) = row.map_err(&err)?;
        t.earned.insert(model, cost);
        t.delivered += tokens;
    }
    Ok(t)
}

/// The receipts of jobs that ended at or after `since` (ms since the Unix epoch), oldest first,
/// read from the database at `path` without writing to it (a running node may hold it).
pub fn list_receipts(path: &Path, since: u64) -> Result<Vec<ReceiptRow>, NodeError> {
    let err = failed(path);
    if !path.exists() {
        return Err(NodeError::Database {
            path: path.to_path_buf(),
            reason: "no such file (the host has recorded no job yet)".into(),
        });
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(&err)?;
    let mut q = conn
        .prepare(
            "SELECT job_id, client, model_id, completion_tokens, cost, ended_at, envelope
             FROM receipts WHERE ended_at >= ?1 ORDER BY ended_at, job_id",
        )
        .map_err(&err)?;
    let rows = q
        .query_map(params![since as i64], |r| {
            Ok(ReceiptRow {
                job_id: r.get(0)?,
                client: r.get(1)?,
                model_id: r.get(2)?,
                completion_tokens: r.get::<_, i64>(3)? as u64,
                cost: r.get::<_, i64>(4)? as u64,
                ended_at: r.get::<_, i64>(5)? as u64,
                envelope: r.get(6)?,
            })
        })
        .map_err(&err)?;
    rows.collect::<Result<_, _>>().map_err(&err)
}
