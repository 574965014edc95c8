//! TypeScript declarations for the values crossing the binding (config, events, results, errors).
//! They are appended to the generated `.d.ts` and checked by compiling a typed example.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `new FabstirSDK(config)`. Unknown keys are rejected with `INVALID_CONFIG`. */
export interface FabstirConfig {
  /** Only "production": there is no mock mode. */
  mode?: "production";
  /** Log every event to the console. Default false. */
  debug?: boolean;
  p2pConfig: P2PConfig;
}

export interface P2PConfig {
  /** Multiaddrs ending in /p2p/<peer id>: /ws, /wss or /webrtc-direct/certhash/…; at least one. */
  bootstrapNodes: string[];
  /** Join the Kademlia DHT as a client. Default true. */
  enableDHT?: boolean;
  /** Accepted, but a browser cannot multicast: reported as unavailable in `p2p:started`. Default true. */
  enableMDNS?: boolean;
  /** Extra /p2p-circuit addresses to listen on. */
  listenAddresses?: string[];
  /** Milliseconds per dial attempt, 1..600000. Default 30000. */
  dialTimeout?: number;
  /** Milliseconds per request (e.g. ping), 1..600000. Default 60000. */
  requestTimeout?: number;
  /** Retries after a failed bootstrap dial, 0..20. Default 3. */
  maxRetries?: number;
  /** Milliseconds before the first retry, doubling after each, 0..60000. Default 1000. */
  retryDelay?: number;
}

export type FabstirErrorCode =
  | "INVALID_CONFIG" | "INVALID_ARGUMENT" | "NOT_STARTED" | "ALREADY_STARTED" | "STOPPED"
  | "BOOTSTRAP_FAILED" | "DIAL_FAILED" | "TIMEOUT" | "NOT_CONNECTED" | "PING_FAILED" | "STREAM_FAILED"
  | "INTERNAL";

/** Every error the SDK throws or rejects with. */
export interface FabstirError extends Error {
  name: "FabstirError";
  code: FabstirErrorCode;
}

export type Transport = "websocket" | "webrtc-direct" | "relayed" | "tcp" | "other";

export interface PeerInfo {
  peerId: string;
  address: string;
  transport: Transport;
  direction: "outbound" | "inbound";
  connectedAt: number;
  connections: number;
  /** Last keep-alive round trip in ms, once measured. */
  rtt: number | null;
  agentVersion: string | null;
  protocols: string[];
  /** The peer opened an identify stream to us and we answered it. */
  identifyServed: boolean;
}

export interface P2PMetrics {
  totalPeers: number;
  connectedPeers: number;
  listenAddresses: string[];
  startTime: number;
  uptime: number;
  failedConnections: number;
  successfulConnections: number;
  droppedEvents: number;
}

/** A model a host serves; prices are integers in the network's smallest unit per token. */
export interface ModelInfo {
  id: string;
  pricePerToken: number;
  maxTokens: number;
  /** "demo" is the node's built-in deterministic generator. */
  backend: "demo" | "openai";
}

/** What `getNodeInfo(peerId)` resolves to. */
export interface NodeInfo {
  version: string;
  models: ModelInfo[];
  maxConcurrentJobs: number;
  currentLoad: number;
}

export interface FeatureStatus { enabled: boolean; available: boolean; reason?: string }

/** Event name → payload. Every payload also carries `type`, the event name. */
export interface FabstirEvents {
  "p2p:started": { type: "p2p:started"; peerId: string; startTime: number; dht: FeatureStatus; mdns: FeatureStatus };
  "p2p:stopped": { type: "p2p:stopped"; peerId: string; uptime: number };
  "peer:connect": { type: "peer:connect"; peerId: string; address: string; transport: Transport; direction: "outbound" | "inbound" };
  "peer:disconnect": { type: "peer:disconnect"; peerId: string; reason: string | null };
  "peer:identify": { type: "peer:identify"; peerId: string; agentVersion: string; protocols: string[]; listenAddrs: string[] };
  "connection:retry": { type: "connection:retry"; address: string; attempt: number; maxRetries: number; delay: number; error: string };
  "connection:failed": { type: "connection:failed"; address: string; attempts: number; error: string };
  "relay:reservation": { type: "relay:reservation"; relayPeerId: string; address: string; renewal: boolean };
  "error:p2p": { type: "error:p2p"; code: string; message: string };
}

export type FabstirEventName = keyof FabstirEvents;
export type FabstirEvent = FabstirEvents[FabstirEventName];
"#;
