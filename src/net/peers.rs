//! What the SDK knows about connected peers, and its connection counters.

use serde::Serialize;

/// One connected peer, as returned by `getConnectedPeers()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// The peer.
    pub peer_id: String,
    /// Remote address of the first open connection.
    pub address: String,
    /// `websocket`, `webrtc-direct`, `relayed`, `tcp` or `other`.
    pub transport: &'static str,
    /// `outbound` (we dialed) or `inbound`.
    pub direction: &'static str,
    /// When the first connection opened (ms since the epoch).
    pub connected_at: f64,
    /// Open connections to this peer.
    pub connections: u32,
    /// Last keep-alive ping round trip in ms, once one has completed.
    pub rtt: Option<f64>,
    /// The peer's agent version, once identify completed.
    pub agent_version: Option<String>,
    /// The protocols the peer speaks, once identify completed.
    pub protocols: Vec<String>,
    /// The peer opened an identify stream to us and we answered it: proof that streams the
    /// remote side opens on this connection reach us.
    pub identify_served: bool,
}

/// Connection counters, as returned by `getP2PMetrics()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct P2pMetrics {
    /// Distinct peers connected since start.
    pub total_peers: u32,
    /// Peers connected now.
    pub connected_peers: u32,
    /// Our listen addresses (relay circuit addresses once reserved).
    pub listen_addresses: Vec<String>,
    /// When the SDK started (ms since the epoch).
    pub start_time: f64,
    /// Milliseconds since start.
    pub uptime: f64,
    /// Outbound connection attempts that failed.
    pub failed_connections: u32,
    /// Connections established, both directions.
    pub successful_connections: u32,
    /// Events not delivered because the page did not keep up.
    pub dropped_events: u32,
    /// Relays holding a reservation for us now.
    pub relay_reservations: u32,
    /// Bootstrap nodes we are connected to now.
    pub bootstrap_connected: u32,
    /// Connected bootstrap nodes that look the DHT up for this page (they serve the catalog
    /// protocol and run the Fabstir DHT).
    pub dht_peers: u32,
    /// Host records from the bootstrap nodes' catalogs that this SDK checked and refused (each
    /// told, with its reason, in a `p2p:debug` event). The marketplace checks the records and
    /// fills this in (`Market::with_refused_records`); the network's own counters leave it at zero.
    pub catalog_records_refused: u32,
    /// Of those, the ones altered or forged on the way: a bad signature, or a signer that is
    /// not the host the record names. A bootstrap node that hands them out lies.
    pub catalog_records_forged: u32,
}
