//! `submitJobWithRetry`: which failures are worth another attempt, and how long to wait
//! before it (exponential backoff with jitter).

use std::time::Duration;

use serde::Deserialize;

use crate::error::SdkError;

/// The retry options of `submitJobWithRetry(request, options)`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryOptions {
    /// Attempts after the first, 0..20. Default 3.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Milliseconds before the first retry, 0..60000. Default 500.
    #[serde(default = "default_initial_delay")]
    pub initial_delay: u64,
    /// The longest wait between attempts in ms, at least `initialDelay`, at most 300000.
    /// Default 10000.
    #[serde(default = "default_max_delay")]
    pub max_delay: u64,
    /// Each wait is this many times the one before, 1..10. Default 2.
    #[serde(default = "default_backoff_factor")]
    pub backoff_factor: f64,
}

fn default_max_retries() -> u32 {
    3
}
fn default_initial_delay() -> u64 {
    500
}
fn default_max_delay() -> u64 {
    10_000
}
fn default_backoff_factor() -> f64 {
    2.0
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_retries: default_max_retries(),
            initial_delay: default_initial_delay(),
            max_delay: default_max_delay(),
            backoff_factor: default_backoff_factor(),
        }
    }
}

impl RetryOptions {
    /// Checks the ranges; errors are `INVALID_ARGUMENT` naming the option.
    pub fn validate(self) -> Result<Self, SdkError> {
        let bad = |name: &str, message: String| {
            Err(SdkError::argument(format!("options.{name}"), message))
        };
        if self.max_retries > 20 {
            return bad(
                "maxRetries",
                format!("must be 0 to 20, got {}", self.max_retries),
            );
        }
        if self.initial_delay > 60_000 {
            return bad(
                "initialDelay",
                format!("must be 0 to 60000 ms, got {}", self.initial_delay),
            );
        }
        if self.max_delay < self.initial_delay || self.max_delay > 300_000 {
            return bad(
                "maxDelay",
                format!(
                    "must be from initialDelay ({}) to 300000 ms, got {}",
                    self.initial_delay, self.max_delay
                ),
            );
        }
        if !(1.0..=10.0).contains(&self.backoff_factor) {
            return bad(
                "backoffFactor",
                format!(
                    "must be 1 to 10, got {}",
                    fabstir_protocol::float_text(self.backoff_factor)
                ),
            );
        }
        Ok(self)
    }

    /// The wait before retry `retry` (from 1): `initialDelay · backoffFactor^(retry-1)`, capped
    /// at `maxDelay`, then scaled by a random factor in [0.5, 1) (`random` in [0, 1)).
    pub fn delay(&self, retry: u32, random: f64) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let full = (self.initial_delay as f64 * self.backoff_factor.powi(exponent))
            .min(self.max_delay as f64);
        crate::net::backoff::jitter(Duration::from_secs_f64(full / 1000.0), random)
    }
}

/// Whether another attempt may succeed where this one failed: the network or the hosts, not the
/// request. A host's refusal is retried only when it is about load (`busy`, `peer_limit`,
/// `rate_limited`).
pub fn retryable(error: &SdkError) -> bool {
    match error {
        SdkError::Timeout { .. }
        | SdkError::DialFailed { .. }
        | SdkError::NotConnected { .. }
        | SdkError::StreamFailed { .. }
        | SdkError::NoNodesAvailable { .. }
        | SdkError::CircuitOpen { .. } => true,
        SdkError::NodeRejected { reason, .. } => {
            matches!(reason.as_str(), "busy" | "peer_limit" | "rate_limited")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_factor_are_capped_and_jittered() {
        let o = RetryOptions {
            max_retries: 5,
            initial_delay: 100,
            max_delay: 1000,
            backoff_factor: 3.0,
        };
        let ms = |r, x| o.delay(r, x).as_millis();
        assert_eq!(
            (ms(1, 1.0), ms(2, 1.0), ms(3, 1.0), ms(4, 1.0)),
            (100, 300, 900, 1000)
        );
        assert_eq!(ms(1, 0.0), 50, "jitter takes up to half off");
        assert_eq!(ms(40, 1.0), 1000);
    }

    #[test]
    fn only_failures_of_the_network_or_load_are_retried() {
        assert!(retryable(&SdkError::NoNodesAvailable {
            model_id: "m".into(),
            reason: "r".into()
        }));
        let rejected = |reason: &str| SdkError::NodeRejected {
            peer_id: "n".into(),
            reason: reason.into(),
            message: "m".into(),
        };
        assert!(retryable(&rejected("busy")));
        assert!(!retryable(&rejected("invalid_request")));
        assert!(!retryable(&SdkError::PriceTooHigh {
            max_price: 1,
            lowest: Some(3)
        }));
        assert!(!retryable(&SdkError::Cancelled("c".into())));
    }

    #[test]
    fn options_are_validated_naming_the_option() {
        let e = RetryOptions {
            max_delay: 10,
            ..RetryOptions::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        assert!(e.to_string().contains("options.maxDelay"), "{e}");
        assert!(RetryOptions {
            backoff_factor: 0.5,
            ..RetryOptions::default()
        }
        .validate()
        .is_err());
    }
}
