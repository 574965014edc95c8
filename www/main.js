// Demo page: a chat. Connects to the local relay listed in nodes.json (written by scripts/demo.sh),
// finds hosts of a model through the network catalog (the DHT when no catalog lists one), and
// holds a conversation (system prompt and turns) with
// sdk.chat.completions.create, streaming each answer with its host, price, usage and cost; shows
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
    CANCELLED: "Stopped.",
    BACKEND_FAILED: "The host's model server failed.",
    PROMPT_TOO_LONG: "The conversation is too long for this model; start a new one.",
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
    row(["Catalog records refused (of them forged)", `${m.catalogRecordsRefused} (${m.catalogRecordsForged})`]),
    row(["Jobs (ok / failed / cancelled)", `${h.jobs.succeeded} / ${h.jobs.failed} / ${h.jobs.cancelled}`]),
    row(["Tokens / token-stream bytes received", `${h.jobs.tokensReceived} / ${h.jobs.bytesReceived}`]),
    row(["Average time to first token", ms(perf.averageTimeToFirstToken)]),
    row(["Average tokens/s", perf.averageTokensPerSecond == null ? "–" : perf.averageTokensPerSecond.toFixed(1)]),
  );
}

/** The network's models from the bootstrap nodes' catalogs: the model field's choices. */
function showModels(models) {
  $("models").replaceChildren(...models.map((m) => Object.assign(document.createElement("option"), { value: m.id })));
  $("network-models").textContent = models.length === 0 ? "none listed yet" : models
    .map((m) => `${m.id} (${m.hosts} host${m.hosts === 1 ? "" : "s"}, ${m.minPricePerToken === m.maxPricePerToken ? m.minPricePerToken : `${m.minPricePerToken}–${m.maxPricePerToken}`} per token, ${m.freeSlots} free)`)
    .join(" · ");
}

/** A `catalog:update`: the model choices and the table of hosts, live. */
function showCatalog(update) {
  showModels(update.models);
  $("catalog-hosts").replaceChildren(...update.hosts.map((h) => row([
    h.peerId,
    h.models.map((m) => `${m.id} (${m.pricePerToken}${m.backend === "demo" ? ", demo generator" : ""})`).join(", "),
    `${h.currentLoad} / ${h.maxConcurrentJobs}`,
    h.addresses.some((a) => a.includes("/p2p-circuit")) ? "relay circuit" : "direct",
    h.version,
  ])));
  $("catalog-state").textContent = `${update.hosts.length} host(s); last change ${new Date().toLocaleTimeString()}` +
    (update.removed.length ? ` (${update.removed.length} gone)` : "");
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
/** The conversation so far: { role, content } in the openai package's shape. */
let turns = [];

/** Adds a turn to the transcript and returns the element its text goes into. */
function showTurn(role, text) {
  const div = document.createElement("div");
  div.className = `turn ${role}`;
  const who = document.createElement("b");
  who.textContent = role === "user" ? "You" : "Assistant";
  const body = document.createElement("span");
  body.textContent = text;
  div.append(who, body);
  $("output").append(div);
  return { div, body };
}

/** Sends the typed message with the whole conversation and streams the answer into it. */
async function send(sdk) {
  const text = $("prompt").value.trim();
  if (!text) return;
  $("job-error").textContent = "";
  $("job-stats").textContent = "";
  setState("job-state", "negotiating", "negotiating…");
  showTurn("user", text);
  const system = $("system").value.trim();
  const messages = [...(system ? [{ role: "system", content: system }] : []), ...turns, { role: "user", content: text }];
  const controller = new AbortController();
  const started = performance.now();
  let first = 0;
  let count = 0;
  let answer = "";
  let usage = null;
  running = controller;
  const shown = showTurn("assistant", "");
  try {
    const stream = await sdk.chat.completions.create({
      model: $("model").value,
      messages,
      max_tokens: Number($("max-tokens").value),
      stream: true,
      stream_options: { include_usage: true },
      fabstir: { maxPrice: Number($("max-price").value) },
    }, { signal: controller.signal });
    const job = stream.job;
    $("job-host").textContent = `${job.nodeId} at ${job.pricePerToken} per token, ${job.pricePerPromptToken} per prompt token (job ${job.jobId})`;
    setState("job-state", "streaming", "streaming…");
    let finish = null;
    let cost = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.finish_reason) { finish = choice.finish_reason; cost = chunk.fabstir?.cost ?? null; }
      const piece = choice.delta.content;
      if (!piece) continue;
      if (count === 0) first = performance.now();
      count += 1;
      answer += piece;
      shown.body.textContent = answer;
    }
    turns.push({ role: "user", content: text }, { role: "assistant", content: answer });
    $("prompt").value = "";
    const end = performance.now();
    const rate = count > 1 ? ((count - 1) / ((end - first) / 1000)).toFixed(1) : "–";
    const used = usage ? `; usage ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens` : "";
    $("job-stats").textContent =
      `${count} tokens; first token ${(first - started).toFixed(0)} ms after asking; ${rate} tokens/s${used}; cost ${cost ?? "–"}; finish ${finish}`;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `host ${job.nodeId.slice(-8)} · ${job.pricePerToken}/token · ${usage ? usage.total_tokens : "?"} tokens · cost ${cost ?? "–"}`;
    shown.div.append(meta);
    setState("job-state", "done", "done");
  } catch (e) {
    // An answer stopped or failed part-way is not kept in the conversation.
    shown.div.remove();
    setState("job-state", "error", e.code === "CANCELLED" ? "stopped" : "error");
    $("job-error").textContent = explain(e);
    log(`answer failed: ${e.code ?? ""} ${e.message}`);
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
  const { bootstrapNodes, note } = await (await fetch("nodes.json")).json();
  if (note) $("note").textContent = note;
  // identity.persist: this browser keeps its peer id (and its receipts) across reloads.
  const sdk = new FabstirSDK({ identity: { persist: true }, p2pConfig: { bootstrapNodes } });
  window.fabstir = sdk;
  for (const name of ["p2p:started", "peer:connect", "peer:disconnect", "connection:retry",
                      "connection:failed", "relay:reservation", "error:p2p", "node:discovered",
                      "job:negotiated", "stream:end"]) {
    sdk.on(name, (e) => { log(`${name} ${JSON.stringify(e)}`); refreshPeers(sdk).catch(() => {}); });
  }
  sdk.on("catalog:update", showCatalog);
  await sdk.start();
  $("peer-id").textContent = `${sdk.getPeerId()} (kept in this browser; ${sdk.getReceipts().length} receipts)`;
  setState("status", "connected", "connected");
  setInterval(() => { refreshPeers(sdk).catch(() => {}); refreshMetrics(sdk).catch(() => {}); }, 2000);
  await Promise.all([refreshPeers(sdk), refreshMetrics(sdk)]);
  const report = (p) => p.catch((e) => { $("diagnostics").textContent = explain(e); });
  $("find").onclick = () => report(findHosts(sdk));
  $("ask").onclick = () => { if (!running) send(sdk); };
  $("cancel").onclick = () => running?.abort();
  $("clear").onclick = () => { if (!running) { turns = []; $("output").replaceChildren(); } };
  $("check").onclick = () => report(checkConnectivity(sdk));
  $("speed").onclick = () => report(measureSpeed(sdk));
  for (const id of ["find", "ask", "cancel", "clear", "check", "speed"]) $(id).disabled = false;
  // The chosen model's hosts are found, and connected to, before the first question: its job then
  // starts on those connections (bench: first token ~20 ms instead of ~55 ms on loopback).
  const prepare = () => sdk.discoverNodes({ modelId: $("model").value }).catch(() => {});
  $("model").onchange = prepare;
  if (new URLSearchParams(location.search).has("autorun")) {
    await findHosts(sdk);
    await send(sdk);
    await refreshMetrics(sdk);
  } else {
    prepare();
  }
} catch (e) {
  setState("status", "error", "error");
  $("job-error").textContent = explain(e);
  log(`start failed: ${e.code ?? ""} ${e.message}`);
}
