//! Typed errors of the node, each with a process exit code.

use std::path::PathBuf;

/// Everything that can stop the node from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration file is missing, unreadable or invalid; `field` names the culprit.
    #[error("invalid config {path}: {field}: {message}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// The dotted path of the offending field (or `file` for the file itself).
        field: String,
        /// What was wrong, with the value.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we tried to do, e.g. `read`.
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The identity key or the WebRTC certificate could not be created or loaded.
    #[error("identity {path}: {message}")]
    Identity {
        /// The key or certificate file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// `init` refused to overwrite an existing file.
    #[error("{path} already exists; refusing to overwrite it")]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A setting was valid in the file but cannot be used on this machine at start, e.g. an API
    /// key's environment variable is unset.
    #[error("cannot start: {field}: {message}")]
    Startup {
        /// The dotted path of the setting.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// The host's database cannot be used (unwritable, not a database, corrupt, or from a newer
    /// node); the node does not run without recording its jobs.
    #[error("database {path}: {reason}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The libp2p swarm could not be built or could not listen.
    #[error("network: {0}")]
    Network(String),
}

impl NodeError {
    /// The process exit code for this error: 2 for configuration problems, 3 for an unusable
    /// database, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            NodeError::Config { .. }
            | NodeError::Startup { .. }
            | NodeError::AlreadyExists { .. } => 2,
            NodeError::Database { .. } => 3,
            _ => 1,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        NodeError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
