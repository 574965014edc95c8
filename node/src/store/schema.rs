//! The database's schema, by version (`PRAGMA user_version`), and opening a database with every
//! check a start makes: writable, not corrupt, not from a newer node.

use std::path::Path;

use rusqlite::Connection;

use crate::error::NodeError;

/// Each migration takes the schema from its index to the next version; never edit one that
/// shipped, add another.
const MIGRATIONS: &[&str] = &[
    // 1: jobs, their tokens, and the receipts the host signed.
    "CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        model_id TEXT NOT NULL,
        request TEXT NOT NULL,
        price_per_token INTEGER NOT NULL,
        price_per_prompt_token INTEGER NOT NULL,
        request_sha256 TEXT NOT NULL,
        prompt_estimate INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        outcome TEXT,
        end_frame TEXT
    );
    CREATE TABLE tokens (
        job_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        content TEXT NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (job_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE receipts (
        job_id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        model_id TEXT NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        envelope TEXT NOT NULL
    );
    CREATE INDEX receipts_by_end ON receipts (ended_at);",
];

/// The schema version this node writes.
pub const VERSION: usize = MIGRATIONS.len();

/// Opens (or creates) the database at `path`, in WAL mode, migrated to [`VERSION`]. Fails,
/// naming the file, when it cannot be written, is not a database or is corrupt, or was written by
/// a newer node.
pub fn open(path: &Path) -> Result<Connection, NodeError> {
    let bad = |reason: String| NodeError::Database {
        path: path.to_path_buf(),
        reason,
    };
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(bad(
            "the file is empty (truncated?); move it away to start with a new database".into(),
        ));
    }
    let conn = Connection::open(path).map_err(|e| bad(e.to_string()))?;
    if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
        return Err(bad("it cannot be written".into()));
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| bad(format!("not a usable database: {e}")))?;
    if check != "ok" {
        return Err(bad(format!("corrupt: {check}")));
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| bad(format!("cannot switch to WAL: {e}")))?;
    if mode != "wal" {
        return Err(bad(format!("journal mode is {mode}, not wal")));
    }
    // WAL with NORMAL survives a killed process (each commit is in the log before it returns).
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(|e| bad(e.to_string()))?;
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| bad(e.to_string()))?;
    if version > VERSION {
        return Err(bad(format!(
            "schema version {version} is from a newer fabstir-node (this one knows {VERSION})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let step = format!("{sql}; PRAGMA user_version = {};", i + 1);
        conn.execute_batch(&format!("BEGIN; {step} COMMIT;"))
            .map_err(|e| bad(format!("migration to version {}: {e}", i + 1)))?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_migrated_and_opens_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.db");
        drop(open(&path).unwrap());
        let conn = open(&path).unwrap();
        let v: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
    }

    #[test]
    fn a_bad_database_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.db");
        std::fs::write(&path, b"").unwrap();
        let e = open(&path).unwrap_err().to_string();
        assert!(e.contains("host.db") && e.contains("empty"), "{e}");
        std::fs::write(&path, vec![7u8; 4096]).unwrap();
        let e = open(&path).unwrap_err().to_string();
        assert!(e.contains("host.db") && e.contains("not a"), "{e}");
        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99;")
            .unwrap();
        let e = open(&newer).unwrap_err().to_string();
        assert!(e.contains("newer fabstir-node"), "{e}");
    }
}
