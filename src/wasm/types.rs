//! TypeScript declarations for the values crossing the binding (config, events, results, errors).
//! They are appended to the generated `.d.ts` and checked by compiling a typed example.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `new FabstirSDK(config)`. Unknown keys are rejected with `INVALID_CONFIG`. */
export interface FabstirConfig {
  /** Only "production": there is no mock mode. */
  mode?: "production";
  /** true: log every event to the console and emit `p2p:debug` events from every subsystem;
   *  { subsystems }: only from those. Default false. */
  debug?: boolean | { subsystems: DebugSubsystem[] };
  /** Which key (peer id) the SDK uses. Default: a new one per instance. */
  identity?: IdentityConfig;
  p2pConfig: P2PConfig;
}

export interface P2PConfig {
  /** Multiaddrs ending in /p2p/<peer id>: /ws, /wss or /webrtc-direct/certhash/…; at least one. */
  bootstrapNodes: string[];
  /** Use DHT lookups, done for the page by its bootstrap nodes (the SDK has no Kademlia client
   * of its own). Default true. */
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
  /** Milliseconds a discoverNodes answer is reused per model, 0..3600000 (0: never). Default 30000. */
  discoveryCacheTtl?: number;
  /** Milliseconds a token stream may stay silent before the job fails with TIMEOUT, 1..600000. Default 30000. */
  streamStallTimeout?: number;
  /** Which hosts may be used for jobs. */
  security?: SecurityConfig;
  /** When a failing host is blacklisted (its circuit opens), and for how long. */
  reliability?: ReliabilityConfig;
  /** How a job whose host fails mid-stream is recovered. */
  failover?: FailoverConfig;
}

export interface FailoverConfig {
  /** Recover failed streams (same host again, then another host of the model). Default true. */
  enabled?: boolean;
  /** Milliseconds to keep trying the same host (at most 3 tries) before another host continues the job, 0..60000. Default 3000. */
  resumeWithin?: number;
  /** Hosts one job may move to, 0..10. Default 2. */
  maxFailovers?: number;
}

export interface ReliabilityConfig {
  /** Failures in a row that blacklist a host, 1..100. Default 3. */
  failureThreshold?: number;
  /** Milliseconds a host stays blacklisted before one more attempt is allowed, 0..3600000. Default 60000. */
  blacklistDuration?: number;
}

/** `getNodeReliability(peerId)`: what this SDK instance saw of a host. */
export interface NodeReliability {
  peerId: string;
  totalJobs: number;
  successfulJobs: number;
  failedJobs: number;
  /** Mean milliseconds from asking to the first token; null before any. */
  averageResponseTime: number | null;
  /** successfulJobs / totalJobs; null before any job. */
  successRate: number | null;
  /** (successfulJobs + 1) / (totalJobs + 2), 0 while blacklisted; used to choose between equal offers. */
  reliability: number;
  circuit: "closed" | "open" | "half-open";
  /** Until when (ms since the epoch) the host is blacklisted; null unless the circuit is open. */
  blacklistedUntil: number | null;
}

export interface SecurityConfig {
  /** When not empty, only these peer ids are used as hosts (discovery, negotiation, streams). */
  allowlist?: string[];
  /** These peer ids are never connected to (refused before any protocol) nor used. */
  blocklist?: string[];
  /** Asked once per host per `discoveryCacheTtl` before the host is probed or given a job;
   *  false, a throw or a rejection (or no answer within `requestTimeout`) means the host is not used. */
  authenticate?: (peerId: string) => boolean | Promise<boolean>;
}

export type DebugSubsystem = "connection" | "relay" | "dht" | "discovery" | "negotiation" | "stream" | "security" | "reliability";

export type FabstirErrorCode =
  | "INVALID_CONFIG" | "INVALID_ARGUMENT" | "NOT_STARTED" | "ALREADY_STARTED" | "STOPPED"
  | "BOOTSTRAP_FAILED" | "DIAL_FAILED" | "TIMEOUT" | "NOT_CONNECTED" | "PING_FAILED" | "STREAM_FAILED"
  | "NO_NODES_AVAILABLE" | "PRICE_TOO_HIGH" | "NODE_REJECTED" | "JOB_NOT_FOUND" | "CANCELLED"
  | "CIRCUIT_OPEN" | "BACKEND_FAILED" | "PROMPT_TOO_LONG" | "HOST_SHUT_DOWN" | "RECEIPT_INVALID"
  | "STORAGE_FAILED"
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

/** A model a host serves; prices are integers in the network's smallest unit per token. */
export interface ModelInfo {
  id: string;
  pricePerToken: number;
  /** Per prompt token; absent means 0. */
  pricePerPromptToken?: number;
  maxTokens: number;
  /** The model's context in tokens (prompt and answer), when the host announces it. */
  contextTokens?: number;
  /** "demo" is the node's built-in deterministic generator. */
  backend: "demo" | "openai";
}

/** A host's job counters since it started. */
export interface HostStats {
  jobsStarted: number;
  jobsCompleted: number;
  jobsCancelled: number;
  jobsFailed: number;
  tokensGenerated: number;
}

/** What `getNodeInfo(peerId)` resolves to. */
export interface NodeInfo {
  version: string;
  models: ModelInfo[];
  maxConcurrentJobs: number;
  /** Jobs running or offered now. */
  currentLoad: number;
  /** What the host computes on, as its operator describes it, e.g. "cpu". */
  computeType: string;
  stats: HostStats;
}

/** `discoverNodes(options)`. Unknown keys are rejected with INVALID_ARGUMENT. */
export interface DiscoverOptions {
  modelId: string;
  /** Only hosts whose price per token is at most this. */
  maxPrice?: number;
  /** Only hosts whose measured round trip (ms) is at most this. */
  maxLatency?: number;
  /** Only hosts whose reputation (0..1) is at least this. */
  minReputation?: number;
  /** Listed first when they qualify. */
  preferredNodes?: string[];
  excludeNodes?: string[];
  /** Ask again even when a cached answer is fresh. */
  forceRefresh?: boolean;
  /** Where to look hosts up: "auto" (default: the bootstrap nodes' catalogs, the DHT when they
   * list none; cached), "catalog" or "dht" (only there; not cached). */
  source?: "auto" | "catalog" | "dht";
}

export interface NodeCapabilities {
  /** Every model the host serves. */
  models: string[];
  /** For the model asked about. */
  maxTokens: number;
  /** For the model asked about. */
  pricePerToken: number;
  /** For the model asked about. */
  pricePerPromptToken: number;
  /** The model's context in tokens, when announced. */
  contextTokens: number | null;
  computeType: string;
  maxConcurrentJobs: number;
  currentLoad: number;
  /** "demo" is the node's built-in deterministic generator, not a language model. */
  backend: "demo" | "openai";
}

/** A host found through the catalog (or the DHT) and probed. */
export interface DiscoveredNode {
  peerId: string;
  /** The addresses we reached it at (/p2p-circuit for a relayed host). */
  multiaddrs: string[];
  capabilities: NodeCapabilities;
  /** Round trip measured with /fabstir/ping/1.0.0, in ms. */
  latency: number;
  /** 0..1 from this SDK's own job outcomes with the host: (successes + 1) / (jobs + 2). */
  reputation: number;
  /** When it was probed, ms since the epoch. */
  lastSeen: number;
}

/** `submitJobWithNegotiation(request)`: a `prompt` (one user message) or `messages`. */
export type JobRequestOptions = JobRequestCommon &
  ({ prompt: string; messages?: undefined } | { messages: ChatMessage[]; prompt?: undefined });

/** A message of a conversation; a last `assistant` message is a prefix the model continues. */
export interface ChatMessage { role: "system" | "user" | "assistant"; content: string }

/** What every job request may say besides its prompt or messages. */
export interface JobRequestCommon {
  modelId: string;
  /** Generation stops before any of these (up to 4, 1..256 bytes each). */
  stop?: string[];
  /** A sampling seed, 0..4294967295, for repeatable answers where the host's server supports it. */
  seed?: number;
  /** -2..2. */
  presencePenalty?: number;
  /** -2..2. */
  frequencyPenalty?: number;
  /** The highest price per prompt token accepted. Default: no limit. */
  maxPromptPrice?: number;
  /** Peer ids tried first (the job starts on the first of them that serves the model within the maxima). */
  preferredNodes?: string[];
  /** Peer ids never asked. */
  excludeNodes?: string[];
  /** 1..65536. Default 256. */
  maxTokens?: number;
  /** 0..2. Default 0.7. */
  temperature?: number;
  /** (0, 1]. Default 1. */
  topP?: number;
  /** The highest price per token accepted. Default: no limit. */
  maxPrice?: number;
  /** Aborting cancels the negotiation, or the job once it runs. */
  signal?: AbortSignal;
}

/** `createResponseStream` / `resumeResponseStream`. */
export interface ResponseStreamOptions {
  jobId: string;
  /** First token index wanted. createResponseStream: default 0; resumeResponseStream: default the tokens received so far. */
  resumeFrom?: number;
}

export interface JobToken { index: number; content: string; timestamp: number }
export type FinishReason = "stop" | "length" | "cancelled";
/** Tokens a job read and generated. `promptEstimated`: the host's model server reported no count, so the host counted by rule (words + 4 per message). */
export interface Usage { promptTokens: number; completionTokens: number; promptEstimated?: boolean }
/** `usage` and `cost` are null from hosts that predate them; `completionTokens` and `cost` cover every host of a failed-over job. */
export interface JobEnd {
  jobId: string; totalTokens: number; duration: number; finishReason: FinishReason; usage: Usage | null; cost: number | null;
  /** The verified receipt of the host that ended the job (absent from hosts that send none). */
  receipt?: Receipt;
  /** Every host's verified receipt, in order (one per host after a failover). */
  receipts?: Receipt[];
}
export type JobEventName = "token" | "end" | "error";

/** Job event name → payload. */
export interface JobEvents { token: JobToken; end: JobEnd; error: FabstirError }

export interface Job {
  /** Calls `callback` for each token, the end, or the error; returns a function that unsubscribes. A listener added late first gets what already arrived. */
  on<K extends JobEventName>(name: K, callback: (event: JobEvents[K]) => void): () => void;
  [Symbol.asyncIterator](): AsyncIterableIterator<JobToken>;
}

export interface JobTokens {
  [Symbol.asyncIterator](): JobTokens;
}

export interface FeatureStatus { enabled: boolean; available: boolean; reason?: string }

/** Event name → payload. Every payload also carries `type`, the event name. */
export interface FabstirEvents {
  "p2p:started": { type: "p2p:started"; peerId: string; startTime: number; dht: FeatureStatus; mdns: FeatureStatus };
  "p2p:stopped": { type: "p2p:stopped"; peerId: string; uptime: number };
  "peer:connect": { type: "peer:connect"; peerId: string; address: string; transport: Transport; direction: "outbound" | "inbound" };
  "peer:disconnect": { type: "peer:disconnect"; peerId: string; reason: string | null };
  /** Asked once the page has been quiet for 250 ms after connecting (a first job's setup goes first). */
  "peer:identify": { type: "peer:identify"; peerId: string; agentVersion: string; protocols: string[]; listenAddrs: string[] };
  "connection:retry": { type: "connection:retry"; address: string; attempt: number; maxRetries: number; delay: number; error: string };
  "connection:failed": { type: "connection:failed"; address: string; attempts: number; error: string };
  "relay:reservation": { type: "relay:reservation"; relayPeerId: string; address: string; renewal: boolean };
  "error:p2p": { type: "error:p2p"; code: string; message: string };
  "p2p:debug": { type: "p2p:debug"; subsystem: DebugSubsystem; level: "debug" | "info" | "warn"; message: string };
  "node:discovered": { type: "node:discovered"; modelId: string; node: DiscoveredNode };
  "job:negotiated": { type: "job:negotiated"; jobId: string; nodeId: string; pricePerToken: number; candidates: number; offers: number };
  "stream:token": { type: "stream:token"; jobId: string; nodeId: string; index: number; content: string };
  "stream:end": { type: "stream:end"; jobId: string; nodeId: string; totalTokens: number; duration: number; finishReason: FinishReason; usage: Usage | null; cost: number | null };
  "node:blacklisted": { type: "node:blacklisted"; peerId: string; until: number; failedJobs: number };
  "job:failover": { type: "job:failover"; jobId: string; fromNode: string; toNode: string; reason: string; resumedAt: number };
  "job:retry": { type: "job:retry"; attempt: number; maxRetries: number; delay: number; code: FabstirErrorCode; error: string };
  "p2p:reconnecting": { type: "p2p:reconnecting"; peerId: string; attempt: number; delay: number };
  "p2p:reconnected": { type: "p2p:reconnected"; peerId: string; attempts: number; downtime: number };
  /** The watched catalogs changed; the first listener starts watching every bootstrap node's. */
  "catalog:update": { type: "catalog:update"; models: CatalogModel[]; hosts: CatalogHost[]; changed: string[]; removed: string[] };
}

export type FabstirEventName = keyof FabstirEvents;
export type FabstirEvent = FabstirEvents[FabstirEventName];

export interface FabstirSDK {
  /** Calls `callback` with each event named `name`; returns a function that unsubscribes. */
  on<K extends FabstirEventName>(name: K, callback: (event: FabstirEvents[K]) => void): () => void;
  /** Removes a callback added with `on`. */
  off<K extends FabstirEventName>(name: K, callback: (event: FabstirEvents[K]) => void): void;
  /** `submitJobWithNegotiation` with retries and backoff (see `RetryOptions`); emits `job:retry`. */
  submitJobWithRetry(request: JobRequestOptions, options?: RetryOptions): Promise<Job>;
}

/** `submitJobWithRetry`'s options. Only failures another attempt may not meet are retried:
 *  TIMEOUT, DIAL_FAILED, NOT_CONNECTED, STREAM_FAILED, NO_NODES_AVAILABLE, CIRCUIT_OPEN, and
 *  NODE_REJECTED for busy, peer_limit or rate_limited. */
export interface RetryOptions {
  /** Attempts after the first, 0..20. Default 3. */
  maxRetries?: number;
  /** Milliseconds before the first retry, 0..60000. Default 500. */
  initialDelay?: number;
  /** The longest wait in ms, initialDelay..300000. Default 10000. */
  maxDelay?: number;
  /** Each wait is this many times the one before (then up to half is taken off at random), 1..10. Default 2. */
  backoffFactor?: number;
}
"#;
