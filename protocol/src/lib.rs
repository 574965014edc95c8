//! Fabstir wire protocol: protocol identifiers and constants shared by the SDK and the node.
//!
//! Everything a browser and a native node must agree on byte-for-byte lives here, so the two
//! sides cannot drift apart.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::time::Duration;

/// Kademlia protocol name of the Fabstir DHT.
///
/// A private name keeps our DHT separate from the public IPFS DHT: peers that speak only
/// `/ipfs/kad/1.0.0` never enter our routing tables and we never enter theirs.
pub const KAD_PROTOCOL: &str = "/fabstir/kad/1.0.0";

/// Identify protocol version string announced by every Fabstir peer.
pub const IDENTIFY_PROTOCOL_VERSION: &str = "/fabstir/1.0.0";

pub mod b64;
pub mod catalog;
pub mod chat;
pub mod coalesce;
pub mod demo;
pub mod frame;
pub mod messages;
pub mod perf;
pub mod ping;
pub mod receipt;

/// The circuit relay v2 hop protocol; a peer that lists it in identify can hold reservations.
pub const RELAY_HOP_PROTOCOL: &str = "/libp2p/circuit/relay/0.2.0/hop";

/// How often both sides ping an open connection to check that the peer still answers.
pub const KEEPALIVE_PING_INTERVAL: Duration = Duration::from_secs(15);

/// How long one keep-alive ping may take before it counts as a failure.
pub const KEEPALIVE_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// A float as text for a message, written by serde_json (`2.0`, `0.1`; `not a finite number`
/// for NaN and the infinities). `core`'s `Display` for floats would do, but it brings its own
/// float printer (Grisu and Dragon4, ~18 KB) into the browser's wasm, which has serde_json's.
pub fn float_text<T: serde::Serialize>(value: T) -> String {
    match serde_json::to_string(&value) {
        Ok(text) if text != "null" => text,
        _ => "not a finite number".into(),
    }
}

/// The agent version string for a component of the given name, e.g. `fabstir-node/0.1.0`.
pub fn agent_version(component: &str, version: &str) -> String {
    format!("{component}/{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_json_writes_them() {
        assert_eq!(float_text(2.0f64), "2.0");
        assert_eq!(float_text(0.1f32), "0.1");
        assert_eq!(float_text(-2.5f32), "-2.5");
        assert_eq!(float_text(f32::NAN), "not a finite number");
        assert_eq!(float_text(f64::INFINITY), "not a finite number");
    }

    #[test]
    fn protocol_names_are_valid_libp2p_protocol_ids() {
        for name in [
            KAD_PROTOCOL,
            ping::PROTOCOL,
            perf::PROTOCOL,
            messages::INFO_PROTOCOL,
            messages::JOB_PROTOCOL,
            messages::STREAM_PROTOCOL,
            RELAY_HOP_PROTOCOL,
            IDENTIFY_PROTOCOL_VERSION,
        ] {
            assert!(name.starts_with('/'), "{name} must start with a slash");
            assert!(
                !name.contains(char::is_whitespace),
                "{name} must not contain spaces"
            );
        }
    }

    #[test]
    fn agent_version_joins_name_and_version() {
        assert_eq!(agent_version("fabstir-node", "0.1.0"), "fabstir-node/0.1.0");
    }
}
