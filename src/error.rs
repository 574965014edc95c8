//! Typed SDK errors; each has a stable `code` that JavaScript callers can branch on.

/// Every failure the SDK reports. [`SdkError::code`] is the stable part; messages may change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SdkError {
    /// The configuration object is invalid; `field` is the dotted path of the culprit.
    #[error("invalid config: {field}: {message}")]
    InvalidConfig {
        /// e.g. `p2pConfig.dialTimeout`.
        field: String,
        /// What was wrong, with the value.
        message: String,
    },
    /// A method argument is invalid.
    #[error("invalid argument {name}: {message}")]
    InvalidArgument {
        /// The parameter's name.
        name: String,
        /// What was wrong, with the value.
        message: String,
    },
    /// The method needs `start()` first.
    #[error("the SDK is not started; call start() first")]
    NotStarted,
    /// `start()` was called while the SDK was already started or starting.
    #[error("the SDK is already started")]
    AlreadyStarted,
    /// The SDK was stopped while the operation was pending.
    #[error("the SDK was stopped")]
    Stopped,
    /// No bootstrap node could be reached; one line per node says why.
    #[error("no bootstrap node could be reached: {}", .failures.join("; "))]
    BootstrapFailed {
        /// `<address>: <last error>` for each bootstrap node.
        failures: Vec<String>,
    },
    /// Dialing an address failed.
    #[error("dial {address} failed: {reason}")]
    DialFailed {
        /// The address dialed.
        address: String,
        /// Why it failed.
        reason: String,
    },
    /// An operation took longer than its configured limit.
    #[error("{operation} timed out after {after_ms} ms")]
    Timeout {
        /// What timed out, e.g. `dial /ip4/...`.
        operation: String,
        /// The limit that was exceeded.
        after_ms: u64,
    },
    /// The operation needs a connection to a peer we are not connected to.
    #[error("not connected to peer {peer_id}")]
    NotConnected {
        /// The peer.
        peer_id: String,
    },
    /// A ping was sent but not answered correctly.
    #[error("ping {peer_id} failed: {reason}")]
    PingFailed {
        /// The peer.
        peer_id: String,
        /// Why it failed.
        reason: String,
    },
    /// A protocol stream to a peer failed or carried something invalid.
    #[error("stream to {peer_id} failed: {reason}")]
    StreamFailed {
        /// The peer.
        peer_id: String,
        /// Why it failed.
        reason: String,
    },
    /// No host for the model could be found (or every one found was filtered out).
    #[error("no nodes available for model {model_id}: {reason}")]
    NoNodesAvailable {
        /// The model asked for.
        model_id: String,
        /// Why none qualified.
        reason: String,
    },
    /// Every host that answered asks more per token than `maxPrice`.
    #[error("every offer is above the maximum price {max_price}{}", .lowest.map(|l| format!(" (lowest {l})")).unwrap_or_default())]
    PriceTooHigh {
        /// The caller's maximum price per token.
        max_price: u64,
        /// The lowest price seen, when a host told it.
        lowest: Option<u64>,
    },
    /// The hosts asked declined the job; `reason` is the first host's reason code.
    #[error("node {peer_id} rejected the job ({reason}): {message}")]
    NodeRejected {
        /// The host.
        peer_id: String,
        /// `busy`, `price_too_low`, `unsupported_model`, `invalid_request`, `prompt_too_large`,
        /// `peer_limit` or `rate_limited`.
        reason: String,
        /// The host's explanation.
        message: String,
    },
    /// The host's model server failed the job (down, an error, an answer cut short); the SDK
    /// fails over to another host when `failover` allows.
    #[error("the model server of {peer_id} failed: {message}")]
    BackendFailed {
        /// The host.
        peer_id: String,
        /// The host's explanation.
        message: String,
    },
    /// The host shut down (gracefully) before the job ended; the SDK fails over to another host
    /// when `failover` allows.
    #[error("{peer_id} shut down during the job: {message}")]
    HostShutDown {
        /// The host.
        peer_id: String,
        /// The host's explanation.
        message: String,
    },
    /// The conversation does not fit the model's context on that host.
    #[error("the prompt is too long for the model: {message}")]
    PromptTooLong {
        /// Which model and host, and the sizes.
        message: String,
    },
    /// The job is unknown (to this SDK instance, or to its host, e.g. after its retention).
    #[error("job {job_id} not found: {message}")]
    JobNotFound {
        /// The job id.
        job_id: String,
        /// Details.
        message: String,
    },
    /// A host's signed receipt of the job does not verify or says what did not happen (see
    /// `docs/PROTOCOL.md`, "Receipts"); the text already received stays on the job.
    #[error("the receipt of job {job_id} from {peer_id} is invalid: {reason}")]
    ReceiptInvalid {
        /// The host.
        peer_id: String,
        /// Its job id.
        job_id: String,
        /// What was wrong.
        reason: String,
    },
    /// `identity.persist`: the origin's IndexedDB could not be read or written (private
    /// browsing that refuses it, storage full, a page with no IndexedDB).
    #[error("the browser's storage (IndexedDB) failed: {0}")]
    StorageFailed(String),
    /// The operation was cancelled (`cancel()` or an `AbortSignal`).
    #[error("cancelled: {0}")]
    Cancelled(String),
    /// The host failed too often in a row and is blacklisted for a while (its circuit is open).
    #[error(
        "{peer_id} is blacklisted after repeated failures; it is tried again in {retry_in_ms} ms"
    )]
    CircuitOpen {
        /// The host.
        peer_id: String,
        /// When its circuit half-opens.
        retry_in_ms: u64,
    },
    /// A bug or an unexpected state inside the SDK.
    #[error("internal error: {0}")]
    Internal(String),
}

impl SdkError {
    /// The stable error code, e.g. `INVALID_CONFIG`.
    pub fn code(&self) -> &'static str {
        match self {
            SdkError::InvalidConfig { .. } => "INVALID_CONFIG",
            SdkError::InvalidArgument { .. } => "INVALID_ARGUMENT",
            SdkError::NotStarted => "NOT_STARTED",
            SdkError::AlreadyStarted => "ALREADY_STARTED",
            SdkError::Stopped => "STOPPED",
            SdkError::BootstrapFailed { .. } => "BOOTSTRAP_FAILED",
            SdkError::DialFailed { .. } => "DIAL_FAILED",
            SdkError::Timeout { .. } => "TIMEOUT",
            SdkError::NotConnected { .. } => "NOT_CONNECTED",
            SdkError::PingFailed { .. } => "PING_FAILED",
            SdkError::StreamFailed { .. } => "STREAM_FAILED",
            SdkError::NoNodesAvailable { .. } => "NO_NODES_AVAILABLE",
            SdkError::PriceTooHigh { .. } => "PRICE_TOO_HIGH",
            SdkError::NodeRejected { .. } => "NODE_REJECTED",
            SdkError::BackendFailed { .. } => "BACKEND_FAILED",
            SdkError::PromptTooLong { .. } => "PROMPT_TOO_LONG",
            SdkError::HostShutDown { .. } => "HOST_SHUT_DOWN",
            SdkError::JobNotFound { .. } => "JOB_NOT_FOUND",
            SdkError::ReceiptInvalid { .. } => "RECEIPT_INVALID",
            SdkError::StorageFailed(_) => "STORAGE_FAILED",
            SdkError::Cancelled(_) => "CANCELLED",
            SdkError::CircuitOpen { .. } => "CIRCUIT_OPEN",
            SdkError::Internal(_) => "INTERNAL",
        }
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        SdkError::InvalidConfig {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn argument(name: impl Into<String>, message: impl Into<String>) -> Self {
        SdkError::InvalidArgument {
            name: name.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_name_the_value() {
        let e = SdkError::config("p2pConfig.dialTimeout", "must be at least 1, got 0");
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert_eq!(
            e.to_string(),
            "invalid config: p2pConfig.dialTimeout: must be at least 1, got 0"
        );
        let e = SdkError::BootstrapFailed {
            failures: vec!["a: x".into(), "b: y".into()],
        };
        assert_eq!(
            e.to_string(),
            "no bootstrap node could be reached: a: x; b: y"
        );
    }
}
