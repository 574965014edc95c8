//! `p2pConfig.reliability` (the circuit breaker's threshold and duration) and
//! `p2pConfig.failover` (how a failed stream is recovered), with their range checks.

use serde::Deserialize;

use crate::error::SdkError;

/// `p2pConfig.reliability`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReliabilityConfig {
    /// Failures in a row that open a host's circuit, 1..100. Default 3.
    #[serde(default = "default_threshold")]
    pub failure_threshold: u32,
    /// Milliseconds a host stays blacklisted before it half-opens, 0..3600000. Default 60000.
    #[serde(default = "default_duration")]
    pub blacklist_duration: u64,
}

fn default_threshold() -> u32 {
    3
}
fn default_duration() -> u64 {
    60_000
}

impl Default for ReliabilityConfig {
    fn default() -> Self {
        ReliabilityConfig {
            failure_threshold: default_threshold(),
            blacklist_duration: default_duration(),
        }
    }
}

impl ReliabilityConfig {
    /// Checks the ranges; errors name the field.
    pub fn validate(self) -> Result<Self, crate::SdkError> {
        if !(1..=100).contains(&self.failure_threshold) {
            return Err(crate::SdkError::config(
                "p2pConfig.reliability.failureThreshold",
                format!("must be 1 to 100, got {}", self.failure_threshold),
            ));
        }
        if self.blacklist_duration > 3_600_000 {
            return Err(crate::SdkError::config(
                "p2pConfig.reliability.blacklistDuration",
                format!("must be 0 to 3600000 ms, got {}", self.blacklist_duration),
            ));
        }
        Ok(self)
    }
}

/// `p2pConfig.failover`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailoverConfig {
    /// Recover failed streams at all. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Milliseconds to keep trying the same host (at most 3 tries) before moving on,
    /// 0..60000. Default 3000.
    #[serde(default = "default_resume_within")]
    pub resume_within: u64,
    /// Hosts one job may move to, 0..10. Default 2.
    #[serde(default = "default_max_failovers")]
    pub max_failovers: u32,
}

fn yes() -> bool {
    true
}
fn default_resume_within() -> u64 {
    3000
}
fn default_max_failovers() -> u32 {
    2
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            enabled: true,
            resume_within: default_resume_within(),
            max_failovers: default_max_failovers(),
        }
    }
}

impl FailoverConfig {
    /// Checks the ranges; errors name the field.
    pub fn validate(self) -> Result<Self, SdkError> {
        if self.resume_within > 60_000 {
            return Err(SdkError::config(
                "p2pConfig.failover.resumeWithin",
                format!("must be 0 to 60000 ms, got {}", self.resume_within),
            ));
        }
        if self.max_failovers > 10 {
            return Err(SdkError::config(
                "p2pConfig.failover.maxFailovers",
                format!("must be 0 to 10, got {}", self.max_failovers),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_ranges_name_the_field() {
        let bad = FailoverConfig {
            resume_within: 60_001,
            ..FailoverConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("p2pConfig.failover.resumeWithin"));
        let bad = FailoverConfig {
            max_failovers: 11,
            ..FailoverConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("p2pConfig.failover.maxFailovers"));
    }
}
