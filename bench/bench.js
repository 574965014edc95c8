// In-page scenarios of the benchmark. Each returns plain numbers; bench/run.mjs repeats them and
// takes medians. The SDK comes from the built package (pkg/index.js), as a page would load it.
import { init, FabstirSDK } from "./pkg/index.js";

const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let wasm = null;

async function loaded() {
  if (!wasm) wasm = await init();
  return wasm;
}

function sdkFor(bootstrap) {
  return new FabstirSDK({ p2pConfig: { bootstrapNodes: [bootstrap], maxRetries: 0 } });
}

/** Waits for `name` events until `pred` holds for one; resolves to the event. */
function waitEvent(sdk, name, pred, ms = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${name} within ${ms} ms`)); }, ms);
    const off = sdk.on(name, (e) => { if (pred(e)) { clearTimeout(timer); off(); resolve(e); } });
  });
}

/** Reads a job to its end; per-token latency = arrival − the host's timestamp (same machine).
 *  `onFirst` runs once the first token's time is taken. */
async function drain(job, onFirst = () => {}) {
  const lat = [];
  let first = 0;
  let last = 0;
  let n = 0;
  for await (const t of job) {
    const at = Date.now();
    if (n === 0) {
      first = now();
      onFirst();
    }
    last = now();
    lat.push(at - t.timestamp);
    n += 1;
  }
  return { n, first, last, lat };
}

/** A started SDK also connected to a host through `via` (a delaying proxy,
 *  scripts/delay-proxy.py; or to each of a list of hosts), the connections settled (identify
 *  and the first ping answered), as a page's would be. */
async function connectedVia(bootstrap, via) {
  await loaded();
  const sdk = sdkFor(bootstrap);
  await sdk.start();
  for (const address of [via].flat()) await sdk.dial(address);
  await sleep(300);
  return sdk;
}

/** One whole job with an SDK of its own, stopped after: the page has run the job's code. */
async function oneJob(bootstrap, model) {
  const sdk = sdkFor(bootstrap);
  await sdk.start();
  await drain(await sdk.submitJobWithNegotiation({ modelId: model, prompt: "bench", maxTokens: 1 }));
  await sdk.stop();
}

/** One job run by a worker of this page (bench/warm-worker.js), before the page loads the SDK;
 *  resolves to the worker, which the caller ends once the page has loaded the module (the
 *  worker's module, with the code it compiled, would go with it). */
async function jobInWorker(bootstrap, model) {
  const worker = new Worker("./warm-worker.js", { type: "module" });
  try {
    const done = await new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(`warm-up worker: ${e.message}`));
      worker.postMessage({ bootstrap, model });
    });
    if (!done.ok) throw new Error(`warm-up worker: ${done.error}`);
    return worker;
  } catch (e) {
    worker.terminate();
    throw e;
  }
}

// BENCH_COMPILE_TRACE (bench/run.mjs opens the page with ?compileTrace): V8 prints a line for
// every wasm function it compiles on the renderer's stdout, which carries no time. A scenario
// marks its measured window in that stream itself: each mark is a module of its own whose one
// function (nops, 3000 + n bytes long, n counting the page's marks) V8 compiles at its call;
// run.mjs counts the SDK's functions compiled between two marks.
const compileTrace = new URLSearchParams(location.search).has("compileTrace");
let marks = 0;

/** `n` as an unsigned LEB128 (wasm's integers). */
const leb = (n) => { const b = []; do { let x = n & 0x7f; n >>>= 7; if (n) x |= 0x80; b.push(x); } while (n); return b; };

/** A module of `bodies.length` functions of no arguments, the first exported as `m`; each body
 *  is the function's code without its locals (which are none) and its closing `end`. */
function wasmModule(bodies) {
  const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
  const code = bodies.flatMap((b) => { const body = [0x00, ...b, 0x0b]; return [...leb(body.length), ...body]; });
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x00, 0x00]),
    ...section(3, [...leb(bodies.length), ...bodies.map(() => 0x00)]),
    ...section(7, [0x01, 0x01, 0x6d, 0x00, 0x00]),
    ...section(10, [...leb(bodies.length), ...code])]);
}

const run = (bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.m();

/** Marks the compile trace here (nothing without ?compileTrace). */
function compileMark() {
  if (compileTrace) run(wasmModule([new Array(3000 + marks++ - 2).fill(0x01)]));
}

/** Pushes the renderer's buffered stdout out (its trace lines): 256 more functions compiled. */
window.benchFlushTrace = () => {
  const callees = Array.from({ length: 256 }, () => []);
  run(wasmModule([callees.flatMap((_, i) => [0x10, ...leb(i + 1)]), ...callees]));
};

/** Calls `seen(socket, bytes, ms)` after every WebSocket send of the page (ms: the send's own
 *  time); returns the function that puts `send` back. */
function watchSends(seen) {
  const real = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) {
    const t = now();
    try { return real.call(this, d); } finally { seen(this, d.byteLength ?? d.length, now() - t); }
  };
  return () => { WebSocket.prototype.send = real; };
}

function pct(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))] : NaN;
}

/** Swaps the page's WebSocket constructor for one that hands each new socket (and its URL) to
 *  `onNew`; returns the function that puts the browser's own back. */
function watchSockets(onNew) {
  const Real = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = new Real(url, protocols);
    onNew(ws, url);
    return ws;
  };
  Object.assign(window.WebSocket, Real); window.WebSocket.prototype = Real.prototype;
  return () => { window.WebSocket = Real; };
}

window.bench = {
  /** start(), stop(), and a new SDK's start() in the same page 300 ms later: both start()
   *  times and each WebSocket's close (code/wasClean; a close without a closing handshake is
   *  1006/false, and Firefox then holds its next WebSocket to that address back 200-400 ms). */
  async restart({ bootstrap }) {
    await loaded();
    const seen = [];
    const unwatch = watchSockets((ws, url) => {
      const rec = { url, close: null };
      seen.push(rec);
      ws.addEventListener("close", (e) => { rec.close = `${e.code}/${e.wasClean}`; });
      ws.addEventListener("error", () => { rec.error = true; });
    });
    try {
      const sdk = sdkFor(bootstrap);
      const t0 = now();
      await sdk.start();
      const first = now() - t0;
      await sdk.stop();
      await sleep(300);
      const t1 = now();
      const again = sdkFor(bootstrap);
      await again.start();
      const second = now() - t1;
      await again.stop();
      await sleep(300);
      return { firstStartMs: first, secondStartMs: second, closes: seen.map((r) => `${r.close}${r.error ? "/error" : ""}`).join(" ") };
    } finally {
      unwatch();
    }
  },

  /** 2. module instantiate + new FabstirSDK + start() to the first connected bootstrap. */
  async startup({ bootstrap }) {
    const t0 = now();
    await loaded();
    const t1 = now();
    const sdk = sdkFor(bootstrap);
    const t2 = now();
    await sdk.start();
    const t3 = now();
    await sdk.stop();
    return { instantiateMs: t1 - t0, constructMs: t2 - t1, startMs: t3 - t2, totalMs: t3 - t0 };
  },

  /** 3. dial → secured and multiplexed (dial resolves) → identified (peer:identify, asked once the
   *  page has been quiet for 250 ms after the dial: src/net/later.rs). */
  async connect({ bootstrap, target }) {
    await loaded();
    const sdk = sdkFor(bootstrap);
    await sdk.start();
    const peer = target.split("/p2p/").pop();
    const identified = waitEvent(sdk, "peer:identify", (e) => e.peerId === peer);
    const t0 = now();
    await sdk.dial(target);
    const t1 = now();
    await identified;
    const t2 = now();
    await sdk.stop();
    return { dialMs: t1 - t0, identifiedMs: t2 - t0 };
  },

  /** 4. time to first token: discovery (fresh) + negotiation + stream open + first token. With
   *  `watch`, the page first watches the catalogs (a `catalog:update` listener) and discovery
   *  reads its view instead of asking; with `submitOnly`, no separate discovery: the job is
   *  submitted at once (negotiationMs then includes its lookup). With `workerWarm`, a worker of
   *  the page ran one job first (jobInWorker). With `warm`, the page first
   *  runs one whole job with another SDK instance (stopped before the measured one starts):
   *  the measured SDK has new connections, but the browser has compiled the code it runs (V8
   *  compiles a wasm function lazily, at its first call). With `settleMs`, the page waits that
   *  long after start() before it begins (a user typing a prompt): the connection's opening
   *  messages are done, the job's code is still to be compiled. With `listFirst`, the page lists
   *  the models first (a chat app's model picker), which checks every host's record once. With
   *  `discoverFirst`, it discovers the model's hosts first (`discoverNodes`: connects to them and
   *  probes them), as a page can when its model is chosen. */
  async firstToken({ bootstrap, model, source, watch, submitOnly, warm, workerWarm, settleMs, listFirst, discoverFirst }) {
    const worker = workerWarm ? await jobInWorker(bootstrap, model) : null;
    await loaded();
    worker?.terminate();
    if (warm) await oneJob(bootstrap, model);
    const sdk = sdkFor(bootstrap);
    await sdk.start();
    if (watch) await waitEvent(sdk, "catalog:update", (e) => e.models.some((m) => m.id === model));
    if (listFirst) await sdk.listModels();
    if (discoverFirst) await sdk.discoverNodes({ modelId: model });
    if (settleMs) await sleep(settleMs);
    compileMark();
    console.profile("firstToken");
    const sends = { n: 0, ms: 0, bytes: 0 };
    const unwatch = watchSends((_, bytes, ms) => { sends.n++; sends.ms += ms; sends.bytes += bytes; });
    const t0 = now();
    // submitOnly: what an app does, the job submitted straight away (its own lookup inside).
    if (!submitOnly) {
      await sdk.discoverNodes({ modelId: model, forceRefresh: true, ...(source ? { source } : {}) });
    }
    const t1 = now();
    const job = await sdk.submitJobWithNegotiation({ modelId: model, prompt: "bench", maxTokens: 1 });
    const t2 = now();
    const { first } = await drain(job, compileMark);
    console.profileEnd("firstToken");
    unwatch();
    await sdk.stop();
    return { sends: sends.n, sendMs: sends.ms, sendBytes: sends.bytes, discoveryMs: t1 - t0, negotiationMs: t2 - t1, streamToFirstTokenMs: first - t2, totalMs: first - t0 };
  },

  /** 4. first token over a slower link: the page is connected to the host through `via` (a
   *  delaying proxy, scripts/delay-proxy.py; or to the model's hosts, each through its own),
   *  then submits at once; every round trip of the negotiation and the stream crosses the
   *  delay. */
  async firstTokenVia({ bootstrap, model, via }) {
    const sdk = await connectedVia(bootstrap, via);
    const t0 = now();
    const job = await sdk.submitJobWithNegotiation({ modelId: model, prompt: "bench", maxTokens: 1 });
    const t1 = now();
    const { first } = await drain(job);
    await sdk.stop();
    return { negotiationMs: t1 - t0, totalMs: first - t0 };
  },

  /** 4. discovery over a slower link: the page is connected to the host through `via` (as in
   *  firstTokenVia), then discovers the model's hosts afresh (`discoverNodes` with
   *  `forceRefresh`: the catalog from the relay, then the host's node info and a ping over the
   *  delayed link). */
  async discoverVia({ bootstrap, model, via }) {
    const sdk = await connectedVia(bootstrap, via);
    const t0 = now();
    const nodes = await sdk.discoverNodes({ modelId: model, forceRefresh: true });
    const discoveryMs = now() - t0;
    await sdk.stop();
    return { discoveryMs, hosts: nodes.length, latencyMs: nodes[0]?.latency ?? -1 };
  },

  /** 4. listModels: asked of the catalogs by a fresh page, then answered from the watched view
   *  (after the first `catalog:update`). */
  async listModels({ bootstrap }) {
    await loaded();
    const sdk = sdkFor(bootstrap);
    await sdk.start();
    const relay = bootstrap.split("/p2p/").pop();
    const p0 = now();
    const pingRttMs = await sdk.ping(relay);
    const pingMs = now() - p0;
    // A second ping: what the first paid once. (ping() itself times only the round trip after
    // its stream is open.)
    const p1 = now();
    await sdk.ping(relay);
    const pingAgainMs = now() - p1;
    compileMark();
    console.profile("listModels");
    const t0 = now();
    const models = await sdk.listModels();
    const t1 = now();
    console.profileEnd("listModels");
    compileMark();
    // The same question again: what the first ask paid once (code run for the first time).
    await sdk.listModels();
    const askedAgainMs = now() - t1;
    const t2a = now();
    await waitEvent(sdk, "catalog:update", () => true);
    const t2 = now();
    await sdk.listModels();
    const t3 = now();
    await sdk.stop();
    return { pingMs, pingRttMs, pingAgainMs, askedMs: t1 - t0, askedAgainMs, watchSyncedMs: t2 - t2a, watchedMs: t3 - t2, models: models.length };
  },

  /** Round trips over time: pings to the relay right after start and then every `gapMs`, and the
   *  same count of echoes over a plain WebSocket (the floor of a round trip in this browser). */
  async pingSeries({ bootstrap, echoUrl, count, gapMs }) {
    await loaded();
    const sdk = sdkFor(bootstrap);
    const relay = bootstrap.split("/p2p/").pop();
    await sdk.start();
    const pings = [];
    for (let i = 0; i < count; i++) {
      const t = now();
      await sdk.ping(relay);
      pings.push(+(now() - t).toFixed(1));
      await sleep(gapMs);
    }
    await sdk.stop();
    // A plain WebSocket to a plain server, opened three times (new WebSocket() to its open
    // event): the browser's own cost of a connection, which the SDK pays once per node.
    const opens = [];
    let ws;
    for (let i = 0; i < 3; i++) {
      ws?.close();
      const t = now();
      ws = new WebSocket(echoUrl);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
      opens.push(+(now() - t).toFixed(1));
    }
    const echoes = [];
    for (let i = 0; i < count; i++) {
      const t = now();
      await new Promise((resolve) => { ws.onmessage = resolve; ws.send(new Uint8Array(32)); });
      echoes.push(+(now() - t).toFixed(1));
      await sleep(gapMs);
    }
    ws.close();
    return { pings: pings.join(" "), echoes: echoes.join(" "), echoOpens: opens.join(" ") };
  },

  /** A timeline of one job submitted at once: every WebSocket open/send/receive and SDK event. */
  async trace({ bootstrap, model, warm, settleMs }) {
    await loaded();
    if (warm) await oneJob(bootstrap, model);
    const log = [];
    let t0 = now();
    const mark = (s) => log.push(`${(now() - t0).toFixed(1).padStart(7)} ${s}`);
    let ids = 0;
    const unwatch = watchSends((ws, bytes, ms) => mark(`ws${ws.__id} send ${bytes} (${ms.toFixed(2)} ms)`));
    const unwatchSockets = watchSockets((ws, url) => {
      ws.__id = ++ids; mark(`ws${ws.__id} new ${url}`);
      ws.addEventListener("open", () => mark(`ws${ws.__id} open`));
      ws.addEventListener("message", (m) => mark(`ws${ws.__id} recv ${m.data.byteLength ?? m.data.size}`));
    });
    const sdk = new FabstirSDK({ debug: true, p2pConfig: { bootstrapNodes: [bootstrap], maxRetries: 0 } });
    for (const ev of ["peer:connect", "peer:identify", "job:negotiated", "p2p:started"]) sdk.on(ev, (e) => mark(`EVENT ${ev} ${e.peerId ?? ""}`));
    sdk.on("p2p:debug", (e) => mark(`debug ${e.subsystem}: ${e.message.slice(0, 140)}`));
    const origLog = console.log; console.log = () => {};
    await sdk.start();
    if (settleMs) await sleep(settleMs);
    t0 = now();
    mark(`SUBMIT at epoch ${Date.now()}`);
    const job = await sdk.submitJobWithNegotiation({ modelId: model, prompt: "bench", maxTokens: 1 });
    mark("submit resolved");
    const { first } = await drain(job);
    mark(`first token at ${(first - t0).toFixed(1)}`);
    await sdk.stop();
    console.log = origLog;
    unwatchSockets(); unwatch();
    return { log: log.join("\n") };
  },

  /** 5. one long job: tokens/s and per-token latency; bytes/s from the SDK's stream counter. */
  async stream({ bootstrap, model, tokens }) {
    await loaded();
    const sdk = sdkFor(bootstrap);
    await sdk.start();
    await sdk.discoverNodes({ modelId: model });
    const job = await sdk.submitJobWithNegotiation({ modelId: model, prompt: "bench", maxTokens: tokens });
    const { n, first, last, lat } = await drain(job);
    const health = await sdk.getSystemHealthReport();
    await sdk.stop();
    const seconds = (last - first) / 1000;
    return {
      tokens: n,
      tokensPerSecond: (n - 1) / seconds,
      bytesPerSecond: health.jobs.bytesReceived / seconds,
      bytesPerToken: health.jobs.bytesReceived / n,
      latencyMedianMs: pct(lat, 50),
      latencyP99Ms: pct(lat, 99),
    };
  },

  /** 5. the floor: the same bytes over a plain browser WebSocket from a plain native server. */
  async floor({ url, bytes, chunk }) {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    let got = 0;
    let first = 0;
    const done = new Promise((resolve) => {
      ws.onmessage = (m) => {
        if (got === 0) first = now();
        got += m.data.byteLength;
        if (got >= bytes) resolve(now());
      };
    });
    ws.send(JSON.stringify({ bytes, chunk }));
    const last = await done;
    ws.close();
    return { bytes: got, bytesPerSecond: got / ((last - first) / 1000) };
  },

  /** 6. many concurrent streams in one page: total tokens/s and memory. */
  async many({ bootstrap, model, jobs, tokens }) {
    const exports = await loaded();
    const sdk = sdkFor(bootstrap);
    await sdk.start();
    await sdk.discoverNodes({ modelId: model });
    const t0 = now();
    const started = await Promise.all(
      Array.from({ length: jobs }, (_, i) =>
        sdk.submitJobWithNegotiation({ modelId: model, prompt: `many ${i}`, maxTokens: tokens })),
    );
    const results = await Promise.all(started.map((job) => drain(job)));
    const t1 = now();
    const total = results.reduce((s, r) => s + r.n, 0);
    const memory = { wasmBytes: exports.memory.buffer.byteLength, jsHeapBytes: performance.memory?.usedJSHeapSize ?? null };
    await sdk.stop();
    return { jobs, tokens: total, complete: results.every((r) => r.n === tokens), tokensPerSecond: total / ((t1 - t0) / 1000), ...memory };
  },

  /** Page: wasm memory and JS heap with `peers` connections held, idle. */
  async idle({ bootstrap, peers, settleMs }) {
    const exports = await loaded();
    const sdk = sdkFor(bootstrap);
    await sdk.start();
    for (const p of peers) await sdk.dial(p);
    await sleep(settleMs);
    const connected = (await sdk.getConnectedPeers()).length;
    const memory = { wasmBytes: exports.memory.buffer.byteLength, jsHeapBytes: performance.memory?.usedJSHeapSize ?? null };
    await sdk.stop();
    return { connected, ...memory };
  },
};
window.benchReady = true;
