// Demo page: connects to the local relay listed in nodes.json (written by scripts/demo.sh), finds
// hosts of a model through the DHT, negotiates a price and streams the generated tokens; shows
// peers, hosts, metrics and diagnostics. With ?autorun=1 it asks once on load (the demo check).
import init, { FabstirSDK } from "./pkg/fabstir_sdk.js";

const $ = (id) => document.getElementById(id);
const log = (line) => { $("log").textContent += `${new Date().toISOString().slice(11, 23)} ${line}\n`; };
const setState = (id, state, text) => { $(id).dataset.state = state; $(id).textContent = text; };
const row = (texts) => {
  const tr = document.createElement("tr");
  tr.append(...texts.map((t) => { const td = document.createElement("td"); td.textContent = t; return td; }));
  return tr;
};
const ms = (v) => (v == null ? "–" : `${v.toFixed(v < 10 ? 1 : 0)} ms`);

/** An SDK error in words a person can act on. */
function explain(e) {
  const words = {
    NO_NODES_AVAILABLE: "No host serves this model right now.",
    PRICE_TOO_HIGH: "Every host asks more per token than your maximum price.",
    NODE_REJECTED: "The hosts declined the job.",
    TIMEOUT: "The network did not answer in time.",
    STREAM_FAILED: "The connection to the host broke while streaming.",
    BOOTSTRAP_FAILED: "Could not reach the relay node; is the demo command still running?",
    INVALID_ARGUMENT: "One of the inputs is not valid.",
    CANCELLED: "Cancelled.",
  };
  return `${words[e.code] ?? "Something went wrong."} (${e.code ?? "error"}: ${e.message})`;
}

async function refreshPeers(sdk) {
  const peers = await sdk.getConnectedPeers();
  $("peers").replaceChildren(...peers.map((p) => row([p.peerId, p.transport, ms(p.rtt), p.agentVersion ?? "–"])));
}

async function refreshMetrics(sdk) {
  const [m, h] = await Promise.all([sdk.getP2PMetrics(), sdk.getSystemHealthReport()]);
  const perf = h.performance;
  $("metrics").replaceChildren(
    row(["Health", `${h.status}${h.issues.length ? ` — ${h.issues.join("; ")}` : ""}`]),
    row(["Peers connected / ever", `${m.connectedPeers} / ${m.totalPeers}`]),
    row(["Relay reservations", String(m.relayReservations)]),
    row(["DHT routing table", `${m.dhtPeers} peer(s)`]),
    row(["Jobs (ok / failed / cancelled)", `${h.jobs.succeeded} / ${h.jobs.failed} / ${h.jobs.cancelled}`]),
    row(["Tokens / token-stream bytes received", `${h.jobs.tokensReceived} / ${h.jobs.bytesReceived}`]),
    row(["Average time to first token", ms(perf.averageTimeToFirstToken)]),
    row(["Average tokens/s", perf.averageTokensPerSecond == null ? "–" : perf.averageTokensPerSecond.toFixed(1)]),
  );
}

async function findHosts(sdk) {
  const modelId = $("model").value;
  const nodes = await sdk.discoverNodes({ modelId, forceRefresh: true });
  $("hosts").replaceChildren(...nodes.map((n) => {
    const via = n.multiaddrs.some((a) => a.includes("/p2p-circuit")) ? "relay circuit" : "direct";
    const backend = n.capabilities.backend === "demo" ? "demo (built-in text generator, not a model)" : n.capabilities.backend;
    return row([n.peerId, modelId, String(n.capabilities.pricePerToken), `${n.latency.toFixed(1)} ms`,
      `${Math.round(n.reputation * 100)}%`, via, backend]);
  }));
  log(`discoverNodes: ${nodes.length} host(s) of ${modelId}`);
  if (nodes.length === 0) $("job-error").textContent = explain({ code: "NO_NODES_AVAILABLE", message: modelId });
  return nodes;
}

let running = null;

async function generate(sdk) {
  $("output").textContent = "";
  $("job-error").textContent = "";
  setState("job-state", "negotiating", "negotiating…");
  const controller = new AbortController();
  const started = performance.now();
  let first = 0;
  let count = 0;
  running = controller;
  try {
    const job = await sdk.submitJobWithNegotiation({
      modelId: $("model").value,
      prompt: $("prompt").value,
      maxTokens: Number($("max-tokens").value),
      maxPrice: Number($("max-price").value),
      signal: controller.signal,
    });
    $("job-host").textContent = `${job.nodeId} at ${job.pricePerToken} per token (job ${job.jobId})`;
    setState("job-state", "streaming", "streaming…");
    for await (const token of job) {
      if (count === 0) first = performance.now();
      count += 1;
      $("output").textContent += token.content;
    }
    const end = performance.now();
    const rate = count > 1 ? ((count - 1) / ((end - first) / 1000)).toFixed(1) : "–";
    $("job-stats").textContent =
      `${count} tokens; first token ${(first - started).toFixed(0)} ms after asking; ${rate} tokens/s`;
    setState("job-state", "done", "done");
  } catch (e) {
    setState("job-state", "error", "error");
    $("job-error").textContent = explain(e);
    log(`job failed: ${e.code ?? ""} ${e.message}`);
  } finally {
    running = null;
    refreshMetrics(sdk).catch(() => {});
  }
}

async function checkConnectivity(sdk) {
  $("diagnostics").textContent = "checking…";
  const c = await sdk.testP2PConnectivity();
  const lines = c.bootstrap.map((b) => `bootstrap ${b.address}: ${b.reachable ? `reachable, ${ms(b.latency)}` : `unreachable (${b.error})`}`);
  lines.push(`DHT: ${c.discovery.working ? `working, ${c.discovery.peersAnswered} peer(s) answered` : `not working (${c.discovery.error})`}`);
  lines.push(`this page is ${c.reachability.mode}${c.reachability.addresses.length ? ` at ${c.reachability.addresses[0]}` : ""}`);
  $("diagnostics").textContent = lines.join("\n");
}

async function measureSpeed(sdk) {
  $("diagnostics").textContent = "measuring…";
  const relay = (await sdk.getConnectedPeers()).find((p) => p.transport !== "relayed");
  if (!relay) { $("diagnostics").textContent = "not connected to the relay"; return; }
  const r = await sdk.testNetworkPerformance(relay.peerId, { uploadBytes: 4 << 20, downloadBytes: 4 << 20 });
  $("diagnostics").textContent =
    `to ${r.peerId} (${relay.transport}): round trip ${ms(r.latency)}, upload ${r.uploadMbps.toFixed(0)} Mbit/s, download ${r.downloadMbps.toFixed(0)} Mbit/s (4 MiB each way)`;
}

try {
  await init();
  const { bootstrapNodes } = await (await fetch("nodes.json")).json();
  const sdk = new FabstirSDK({ p2pConfig: { bootstrapNodes } });
  window.fabstir = sdk;
  $("peer-id").textContent = sdk.getPeerId();
  for (const name of ["p2p:started", "peer:connect", "peer:disconnect", "connection:retry",
                      "connection:failed", "relay:reservation", "error:p2p", "node:discovered",
                      "job:negotiated", "stream:end"]) {
    sdk.on(name, (e) => { log(`${name} ${JSON.stringify(e)}`); refreshPeers(sdk).catch(() => {}); });
  }
  await sdk.start();
  setState("status", "connected", "connected");
  setInterval(() => { refreshPeers(sdk).catch(() => {}); refreshMetrics(sdk).catch(() => {}); }, 2000);
  await Promise.all([refreshPeers(sdk), refreshMetrics(sdk)]);
  const report = (p) => p.catch((e) => { $("diagnostics").textContent = explain(e); });
  $("find").onclick = () => report(findHosts(sdk));
  $("ask").onclick = () => { if (!running) generate(sdk); };
  $("cancel").onclick = () => running?.abort();
  $("check").onclick = () => report(checkConnectivity(sdk));
  $("speed").onclick = () => report(measureSpeed(sdk));
  for (const id of ["find", "ask", "cancel", "check", "speed"]) $(id).disabled = false;
  if (new URLSearchParams(location.search).has("autorun")) {
    await findHosts(sdk);
    await generate(sdk);
    await refreshMetrics(sdk);
  }
} catch (e) {
  setState("status", "error", "error");
  $("job-error").textContent = explain(e);
  log(`start failed: ${e.code ?? ""} ${e.message}`);
}
