// Demo page: connects to the local relay listed in nodes.json (written by scripts/demo.sh), finds
// hosts of a model through the DHT, negotiates a price and streams the generated tokens.
// With ?autorun=1 it asks once on load (scripts/check-demo.sh uses that).
import init, { FabstirSDK } from "./pkg/fabstir_sdk.js";

const $ = (id) => document.getElementById(id);
const log = (line) => { $("log").textContent += `${new Date().toISOString().slice(11, 23)} ${line}\n`; };
const setState = (id, state, text) => { $(id).dataset.state = state; $(id).textContent = text; };
const cells = (row, texts) => row.append(...texts.map((t) => { const td = document.createElement("td"); td.textContent = t; return td; }));

async function refreshPeers(sdk) {
  const peers = await sdk.getConnectedPeers();
  $("peers").replaceChildren(...peers.map((p) => {
    const row = document.createElement("tr");
    cells(row, [p.peerId, p.transport, p.rtt == null ? "–" : `${p.rtt.toFixed(1)} ms`, p.agentVersion ?? "–"]);
    return row;
  }));
}

async function findHosts(sdk) {
  const nodes = await sdk.discoverNodes({ modelId: $("model").value, forceRefresh: true });
  $("hosts").replaceChildren(...nodes.map((n) => {
    const row = document.createElement("tr");
    const via = n.multiaddrs.some((a) => a.includes("/p2p-circuit")) ? "relay circuit" : "direct";
    const backend = n.capabilities.backend === "demo" ? "demo (built-in text generator, not a model)" : n.capabilities.backend;
    cells(row, [n.peerId, String(n.capabilities.pricePerToken), `${n.latency.toFixed(1)} ms`, via, backend]);
    return row;
  }));
  log(`discoverNodes: ${nodes.length} host(s) of ${$("model").value}`);
  return nodes;
}

let running = null;

async function generate(sdk) {
  $("output").textContent = "";
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
    setState("job-state", "error", `error ${e.code ?? ""}: ${e.message}`);
    log(`job failed: ${e.code ?? ""} ${e.message}`);
  } finally {
    running = null;
  }
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
  setInterval(() => refreshPeers(sdk).catch(() => {}), 2000);
  await refreshPeers(sdk);
  $("find").onclick = () => findHosts(sdk).catch((e) => log(`discoverNodes failed: ${e.code} ${e.message}`));
  $("ask").onclick = () => { if (!running) generate(sdk); };
  $("cancel").onclick = () => running?.abort();
  for (const id of ["find", "ask", "cancel"]) $(id).disabled = false;
  if (new URLSearchParams(location.search).has("autorun")) {
    await findHosts(sdk);
    await generate(sdk);
  }
} catch (e) {
  setState("status", "error", `error ${e.code ?? ""}: ${e.message}`);
  log(`start failed: ${e.code ?? ""} ${e.message}`);
}
