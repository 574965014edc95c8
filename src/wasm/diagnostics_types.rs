//! TypeScript declarations of what the SDK says about itself: `getP2PMetrics()`,
//! `getSystemHealthReport()`, `testP2PConnectivity()` and `testNetworkPerformance()`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const DIAGNOSTICS_TYPES: &'static str = r#"
export interface P2PMetrics {
  totalPeers: number;
  connectedPeers: number;
  listenAddresses: string[];
  startTime: number;
  uptime: number;
  failedConnections: number;
  successfulConnections: number;
  droppedEvents: number;
  /** Relays holding a reservation for us now. */
  relayReservations: number;
  /** Bootstrap nodes connected now. */
  bootstrapConnected: number;
  /** Connected bootstrap nodes that do DHT lookups for this page. */
  dhtPeers: number;
  /** Host records from the bootstrap nodes' catalogs that this SDK checked and refused
   *  (each told, with its reason, in a `p2p:debug` event of subsystem "discovery"). */
  catalogRecordsRefused: number;
  /** Of those, the ones altered or forged on the way (a bad signature, or signed by another key
   *  than the host named): a bootstrap node that hands them out lies. */
  catalogRecordsForged: number;
}

/** `getSystemHealthReport()`: built from the SDK's real state. */
export interface HealthReport {
  status: "healthy" | "degraded" | "unhealthy";
  timestamp: number;
  p2p: {
    started: boolean; peerId: string; connectedPeers: number; bootstrapNodes: number;
    bootstrapConnected: number; relayReservations: number; uptime: number; failedConnections: number;
  };
  discovery: {
    dhtEnabled: boolean; dhtPeers: number; cachedModels: number;
    /** Host records refused as altered or forged (`catalogRecordsForged`). */
    forgedRecords: number;
  };
  jobs: {
    streams: number; succeeded: number; failed: number; cancelled: number;
    tokensReceived: number; bytesReceived: number;
  };
  performance: {
    /** Mean ms from a job request to its first token, over recent jobs. */
    averageTimeToFirstToken: number | null;
    averageTokensPerSecond: number | null;
    averagePeerRtt: number | null;
  };
  /** What is wrong, in words. */
  issues: string[];
  /** What to do about it, one per issue. */
  recommendations: string[];
}

/** `testP2PConnectivity()`: live checks. */
export interface ConnectivityReport {
  bootstrap: { address: string; peerId: string; reachable: boolean; latency: number | null; error: string | null }[];
  discovery: { working: boolean; peersAnswered: number; error: string | null };
  /** A browser can never be dialed directly: "relayed" once a relay holds a reservation. */
  reachability: { mode: "relayed" | "unreachable"; addresses: string[] };
}

/** `testNetworkPerformance(peerId, options)`. At most 16 MiB each way. */
export interface PerfOptions { uploadBytes?: number; downloadBytes?: number }

export interface PerfReport {
  peerId: string;
  /** Median of three pings, ms. */
  latency: number;
  pings: number[];
  uploadBytes: number;
  uploadMbps: number;
  downloadBytes: number;
  downloadMbps: number;
  duration: number;
}
"#;
