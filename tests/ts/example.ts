// A typed use of the SDK's public surface. Compiled with `tsc --strict --noEmit` by
// scripts/check-types.sh against the generated fabstir_sdk.d.ts: a wrong name or type fails it.
import init, {
  FabstirSDK,
  type FabstirConfig,
  type FabstirError,
  type FabstirErrorCode,
  type Receipt,
  type FabstirEvent,
  type ConnectivityReport,
  type DiscoveredNode,
  type CatalogModel,
  type CatalogHost,
  type ModelList,
  type NodeReliability,
  type HealthReport,
  type PerfReport,
  type Job,
  type JobEnd,
  type JobToken,
  type NodeInfo,
  type P2PMetrics,
  type PeerInfo,
  type ChatCompletion,
  type ChatCompletionChunk,
  type Usage,
} from "./pkg/fabstir_sdk.js";

const config: FabstirConfig = {
  mode: "production",
  debug: false,
  p2pConfig: {
    bootstrapNodes: ["/ip4/127.0.0.1/tcp/4002/ws/p2p/12D3KooWGEi7W5k2iNKu2zGVAaeJsV5SwcriWyVm8MUwpva74p11"],
    enableDHT: true,
    enableMDNS: false,
    listenAddresses: [],
    dialTimeout: 30000,
    requestTimeout: 60000,
    maxRetries: 3,
    retryDelay: 1000,
    discoveryCacheTtl: 30000,
    streamStallTimeout: 30000,
  },
};

function describe(event: FabstirEvent): string {
  switch (event.type) {
    case "peer:connect":
      return `${event.peerId} over ${event.transport}`;
    case "connection:retry":
      return `retry ${event.attempt}/${event.maxRetries} in ${event.delay} ms`;
    case "relay:reservation":
      return `reachable at ${event.address}`;
    case "p2p:started":
      return `mDNS available: ${event.mdns.available}`;
    case "node:discovered":
      return `${event.node.peerId} serves ${event.modelId} at ${event.node.capabilities.pricePerToken}`;
    case "job:negotiated":
      return `job ${event.jobId} on ${event.nodeId} (${event.offers} offers)`;
    case "stream:token":
      return `${event.index}: ${event.content}`;
    case "stream:end":
      return `${event.totalTokens} tokens, ${event.finishReason}`;
    default:
      return event.type;
  }
}

function isFabstirError(e: unknown): e is FabstirError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string";
}

export async function main(): Promise<void> {
  await init();
  const sdk = new FabstirSDK(config);
  const off: () => void = sdk.on("peer:connect", (e) => console.log(describe(e), e.transport));
  sdk.on("relay:reservation", (e) => console.log(e.relayPeerId, e.renewal));
  sdk.on("stream:end", (e) => console.log(e.finishReason === "cancelled"));
  try {
    await sdk.start();
  } catch (e) {
    if (isFabstirError(e)) {
      const code: FabstirErrorCode = e.code;
      console.error(code, e.message);
    }
    return;
  }
  const peers: PeerInfo[] = await sdk.getConnectedPeers();
  const rtt: number = await sdk.ping(peers[0]?.peerId ?? "");
  const metrics: P2PMetrics = await sdk.getP2PMetrics();
  const addresses: string[] = await sdk.getListenAddresses();
  const peer: string = await sdk.dial(addresses[0] ?? "");
  const info: NodeInfo = await sdk.getNodeInfo(peer);
  const prices: number[] = info.models.map((m) => m.pricePerToken);
  console.log(info.version, prices, info.models[0]?.backend === "demo");
  console.log(rtt, metrics.connectedPeers, peer, sdk.getPeerId(), sdk.isStarted());

  const nodes: DiscoveredNode[] = await sdk.discoverNodes({ modelId: "demo-1", maxPrice: 10, forceRefresh: true });
  console.log(nodes.map((n) => `${n.peerId} ${n.latency} ms ${n.capabilities.backend} ${n.reputation}`));
  const viaDht: DiscoveredNode[] = await sdk.discoverNodes({ modelId: "demo-1", source: "dht" });
  const catalog: CatalogModel[] = await sdk.listModels();
  const list: ModelList = await sdk.models.list();
  console.log(viaDht.length, catalog.map((m) => `${m.id} ${m.hosts} ${m.minPricePerToken}..${m.maxPricePerToken} ${m.freeSlots}`),
    list.object, list.data.map((m) => `${m.id} ${m.owned_by} ${m.fabstir.hosts}`));
  const unwatch: () => void = sdk.on("catalog:update", (e) => {
    const hosts: CatalogHost[] = e.hosts;
    const load: number[] = hosts.map((h) => h.currentLoad / h.maxConcurrentJobs);
    console.log(e.models.length, load, e.changed.length, e.removed.length, hosts[0]?.models[0]?.pricePerToken);
  });
  unwatch();
  const controller = new AbortController();
  const job: Job = await sdk.submitJobWithNegotiation({
    modelId: "demo-1",
    prompt: "Hello",
    maxTokens: 100,
    temperature: 0.7,
    maxPrice: 10,
    signal: controller.signal,
  });
  const stop: () => void = job.on("token", (t: JobToken) => console.log(t.index, t.content));
  job.on("token", (t) => console.log(t.timestamp));
  job.on("end", (e: JobEnd) => console.log(e.totalTokens, e.finishReason));
  job.on("error", (e: FabstirError) => console.log(e.code));
  for await (const token of job) {
    console.log(token.content);
    if (token.index > 10) break;
  }
  stop();
  const resumed: Job = await sdk.resumeResponseStream({ jobId: job.jobId });
  const text: string = await resumed.text();
  console.log(text, job.nodeId, job.pricePerToken, resumed.resumedFrom, resumed.tokenCount);
  // Receipts: the job's own (verified by the SDK), and one checked again from anywhere.
  const receipt: Receipt | null = job.receipt;
  const all: Receipt[] = job.receipts;
  job.on("end", (e: JobEnd) => console.log(e.receipt?.outputSha256, e.receipts?.length));
  if (receipt) {
    const again: Receipt = FabstirSDK.verifyReceipt(receipt);
    const fromEnvelope: Receipt = FabstirSDK.verifyReceipt(receipt.envelope);
    console.log(again.cost, fromEnvelope.completionTokens, all.length);
  }
  await job.cancel();
  const again: Job = await sdk.createResponseStream({ jobId: job.jobId, resumeFrom: 0 });
  for await (const t of again.tokens()) console.log(t.timestamp);
  const wasConnected: boolean = await sdk.disconnect(job.nodeId);
  console.log(wasConnected);

  const health: HealthReport = await sdk.getSystemHealthReport();
  console.log(health.status, health.issues.join("; "), health.performance.averageTimeToFirstToken ?? "n/a");
  const forged: number = metrics.catalogRecordsForged;
  console.log(forged === health.discovery.forgedRecords, metrics.catalogRecordsRefused);
  const connectivity: ConnectivityReport = await sdk.testP2PConnectivity();
  console.log(connectivity.bootstrap.every((b) => b.reachable), connectivity.reachability.mode);
  const perf: PerfReport = await sdk.testNetworkPerformance(peer, { uploadBytes: 1 << 20, downloadBytes: 1 << 20 });
  console.log(perf.latency, perf.downloadMbps);
  const verbose = new FabstirSDK({ debug: { subsystems: ["discovery", "stream"] }, p2pConfig: config.p2pConfig });
  verbose.on("p2p:debug", (e) => console.log(e.subsystem, e.level, e.message));

  // A peer id that survives reloads, with the receipts received
  const kept = new FabstirSDK({ identity: { persist: true }, p2pConfig: config.p2pConfig });
  await kept.start();
  const keptReceipts: Receipt[] = kept.getReceipts();
  const imported = new FabstirSDK({ identity: { key: "CAESQ…", persist: false }, p2pConfig: config.p2pConfig });
  console.log(kept.getPeerId(), keptReceipts.length, imported.getPeerId());

  // Reliability and security
  const retried: Job = await sdk.submitJobWithRetry(
    { modelId: "demo-1", prompt: "Hello" },
    { maxRetries: 3, initialDelay: 500, maxDelay: 10000, backoffFactor: 2 },
  );
  const plain: Job = await sdk.submitJobWithRetry({ modelId: "demo-1", prompt: "Hello" });
  console.log(retried.jobId, plain.jobId);
  sdk.on("job:retry", (e) => console.log(e.attempt, e.delay, e.code));
  sdk.on("job:failover", (e) => console.log(e.jobId, e.fromNode, e.toNode, e.resumedAt));
  sdk.on("node:blacklisted", (e) => console.log(e.peerId, e.until, e.failedJobs));
  sdk.on("p2p:reconnected", (e) => console.log(e.peerId, e.attempts, e.downtime));
  const reliability: NodeReliability = sdk.getNodeReliability(job.nodeId);
  console.log(reliability.successRate ?? "none yet", reliability.circuit, reliability.blacklistedUntil);
  const guarded = new FabstirSDK({
    p2pConfig: {
      ...config.p2pConfig,
      security: {
        allowlist: [job.nodeId],
        blocklist: [],
        authenticate: async (peerId: string) => peerId.startsWith("12D3"),
      },
      reliability: { failureThreshold: 3, blacklistDuration: 60000 },
      failover: { enabled: true, resumeWithin: 3000, maxFailovers: 2 },
    },
  });
  console.log(guarded.isStarted());

  // Conversations, in the openai package's shape and as jobs
  const messages = [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello." },
    { role: "user", content: [{ type: "text", text: "More" }] },
  ] as const;
  const stream = await sdk.chat.completions.create(
    {
      model: "tiny-llama",
      messages,
      max_tokens: 64,
      temperature: 0,
      seed: 7,
      stop: ["\n\n"],
      stream: true,
      stream_options: { include_usage: true },
      fabstir: { maxPrice: 10, maxPromptPrice: 1, retry: { maxRetries: 2 } },
    },
    { signal: controller.signal },
  );
  for await (const chunk of stream) {
    const c: ChatCompletionChunk = chunk;
    console.log(c.choices[0]?.delta.content ?? "", c.choices[0]?.finish_reason, c.usage?.total_tokens, c.fabstir?.cost);
  }
  console.log(stream.job.usage?.completionTokens, stream.job.cost, stream.job.pricePerPromptToken);
  const completion: ChatCompletion = await sdk.chat.completions.create({
    model: "tiny-llama",
    messages: [{ role: "user", content: "Hi" }],
    max_completion_tokens: 16,
  });
  console.log(completion.choices[0].message.content, completion.usage?.prompt_tokens, completion.fabstir.nodeId);
  const chat: Job = await sdk.submitJobWithNegotiation({
    modelId: "tiny-llama",
    messages: [{ role: "user", content: "Hi" }],
    stop: ["."],
    seed: 1,
    presencePenalty: 0.5,
    frequencyPenalty: 0.5,
    maxPromptPrice: 2,
  });
  chat.on("end", (e: JobEnd) => console.log(e.usage?.promptTokens, e.cost));
  const usage: Usage | null = chat.usage;
  console.log(usage?.promptEstimated);
  off();
  await sdk.stop();
}
