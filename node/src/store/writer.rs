//! The writer thread: takes ops as they queue, commits each batch as one transaction, then tells
//! each job how far it is stored. A write that fails stops the node (exit code 3): it must not
//! go on serving jobs it cannot record.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, Connection};
use tokio::sync::mpsc;

use super::{Op, Persisted};

/// The most ops in one transaction.
const BATCH: usize = 4096;

/// Runs until every sender is gone.
pub(super) fn run(mut conn: Connection, mut queue: mpsc::Receiver<Op>, path: &Path) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if let Err(e) = commit(&mut conn, &batch) {
            tracing::error!(path = %path.display(), "cannot write the database: {e}");
            eprintln!(
                "fabstir-node: database {}: cannot write: {e}; stopping",
                path.display()
            );
            std::process::exit(3);
        }
        tell(batch.drain(..));
    }
}

fn commit(conn: &mut Connection, batch: &[Op]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut token = tx.prepare_cached(
            "INSERT OR REPLACE INTO tokens (job_id, idx, content, ts) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for op in batch {
            match op {
                Op::Job(j) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO jobs (id, owner, model_id, request, price_per_token,
                         price_per_prompt_token, request_sha256, prompt_estimate, started_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            j.id,
                            j.owner,
                            j.model_id,
                            j.request,
                            j.price_per_token as i64,
                            j.price_per_prompt_token as i64,
                            j.request_sha256,
                            j.prompt_estimate as i64,
                            j.started_at as i64
                        ],
                    )?;
                }
                Op::Token {
                    job,
                    index,
                    content,
                    ts,
                    ..
                } => {
                    token.execute(params![job, *index as i64, content, *ts as i64])?;
                }
                Op::End {
                    job,
                    outcome,
                    ended_at,
                    frame,
                    receipt,
                    ..
                } => {
                    tx.execute(
                        "UPDATE jobs SET ended_at = ?2, outcome = ?3, end_frame = ?4 WHERE id = ?1",
                        params![job, *ended_at as i64, outcome, frame],
                    )?;
                    if let Some(r) = receipt {
                        debug_assert_eq!(&r.job_id, job);
                        tx.execute(
                            "INSERT OR REPLACE INTO receipts (job_id, client, model_id,
                             completion_tokens, cost, ended_at, envelope)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            params![
                                job,
                                r.client,
                                r.model_id,
                                r.completion_tokens as i64,
                                r.cost as i64,
                                r.ended_at as i64,
                                r.envelope
                            ],
                        )?;
                    }
                }
                Op::Sweep { ended_before } => {
                    let before = *ended_before as i64;
                    tx.execute(
                        "DELETE FROM tokens WHERE job_id IN
                         (SELECT id FROM jobs WHERE ended_at IS NOT NULL AND ended_at < ?1)",
                        params![before],
                    )?;
                    tx.execute(
                        "DELETE FROM jobs WHERE ended_at IS NOT NULL AND ended_at < ?1",
                        params![before],
                    )?;
                }
            }
        }
    }
    tx.commit()
}

/// Tells each job the furthest token stored for it, and which ends are stored.
fn tell(done: impl Iterator<Item = Op>) {
    let mut stored: HashMap<String, (u64, Arc<dyn Persisted>)> = HashMap::new();
    let mut ended = Vec::new();
    for op in done {
        match op {
            Op::Token {
                job, index, notify, ..
            } => {
                let entry = stored.entry(job).or_insert((0, notify));
                entry.0 = entry.0.max(index + 1);
            }
            Op::End { notify, .. } => ended.push(notify),
            Op::Job(_) | Op::Sweep { .. } => {}
        }
    }
    for (count, notify) in stored.into_values() {
        notify.tokens_stored(count);
    }
    for notify in ended {
        notify.end_stored();
    }
}
