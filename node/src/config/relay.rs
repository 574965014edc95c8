//! The `relay` section: the circuit relay v2 server's limits and rate buckets.

use super::*;

/// Circuit relay v2 server limits.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// Whether this node relays for others.
    pub enabled: bool,
    /// Reservations held at once, all peers together.
    pub max_reservations: usize,
    /// Reservations held at once by one peer.
    pub max_reservations_per_peer: usize,
    /// How long a reservation lasts before the client must renew it.
    pub reservation_duration_secs: u64,
    /// Circuits relayed at once, all peers together.
    pub max_circuits: usize,
    /// Circuits relayed at once for one peer.
    pub max_circuits_per_peer: usize,
    /// How long one circuit may stay open.
    pub max_circuit_duration_secs: u64,
    /// How many bytes one circuit may carry, each direction.
    pub max_circuit_bytes: u64,
    /// Rate limits on reservations (token buckets per peer and per IP address).
    pub reservation_rate: RateLimits,
    /// Rate limits on circuits opened, by their source (per peer and per IP address).
    pub circuit_rate: RateLimits,
}

/// Token-bucket rate limits, per peer and per IP address (libp2p's defaults when omitted).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Per peer id.
    pub per_peer: RateLimit,
    /// Per IP address (all peers behind one NAT share it).
    pub per_ip: RateLimit,
}

/// A token bucket: `burst` at once, then one more every `refill_secs`. `burst: 0` turns it off.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed at once.
    pub burst: u32,
    /// Seconds until one more is allowed.
    pub refill_secs: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::libp2p_default()
    }
}

impl RateLimits {
    /// libp2p's defaults: per peer 30, then one every 2 minutes; per IP 60, then one a minute.
    fn libp2p_default() -> Self {
        RateLimits {
            per_peer: RateLimit {
                burst: 30,
                refill_secs: 120,
            },
            per_ip: RateLimit {
                burst: 60,
                refill_secs: 60,
            },
        }
    }
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            enabled: true,
            max_reservations: 1024,
            max_reservations_per_peer: 4,
            reservation_duration_secs: 3600,
            max_circuits: 256,
            max_circuits_per_peer: 16,
            max_circuit_duration_secs: 24 * 3600,
            max_circuit_bytes: 16 << 30,
            reservation_rate: RateLimits::libp2p_default(),
            circuit_rate: RateLimits::libp2p_default(),
        }
    }
}
