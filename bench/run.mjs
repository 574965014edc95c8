// The benchmark driver: runs each scenario of bench.js in a fresh page of headless Chromium
// (Debian's, through playwright-core), several times, against the local nodes; serves the
// raw-WebSocket floor; prints medians with their spread and writes a JSON report.
// usage: node run.mjs PAGE_URL ADDRESSES_JSON REPORT_JSON
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { WebSocketServer } from "ws";
import { firefoxDriver } from "./firefox.mjs";

const [pageUrl, addressesFile, reportFile] = process.argv.slice(2);
const a = JSON.parse(readFileSync(addressesFile, "utf8"));
const reps = Number(process.env.BENCH_REPS ?? 5);

// The floor: a plain native WebSocket server that pushes the bytes a page asks for.
const floor = new WebSocketServer({ host: "127.0.0.1", port: 0 });
floor.on("connection", (ws) => {
  ws.on("message", async (m) => {
    const { bytes, chunk } = JSON.parse(m.toString());
    const payload = Buffer.alloc(chunk, 0x5a);
    for (let sent = 0; sent < bytes; sent += chunk) {
      const part = sent + chunk <= bytes ? payload : payload.subarray(0, bytes - sent);
      await new Promise((resolve, reject) => ws.send(part, (e) => (e ? reject(e) : resolve())));
    }
  });
});
await new Promise((r) => floor.once("listening", r));
const floorUrl = `ws://127.0.0.1:${floor.address().port}`;
// An echo server: the plain-WebSocket round trip beside the SDK's ping.
const echo = new WebSocketServer({ host: "127.0.0.1", port: 0 });
echo.on("connection", (ws) => ws.on("message", (m) => ws.send(m)));
await new Promise((r) => echo.once("listening", r));
const echoUrl = `ws://127.0.0.1:${echo.address().port}`;

// BENCH_COMPILE_TRACE=1: V8 prints every wasm function it compiles (--trace-wasm-compilation-times,
// on the renderer's stdout); each run of a scenario that marks its measured window (bench.js:
// compileMark) gets the SDK's functions compiled in it at their first call (compiledFns), their
// code (compiledKB) and V8's own time for it (compileMs).
const compileTrace = Boolean(process.env.BENCH_COMPILE_TRACE);
if (compileTrace && process.env.BENCH_COMPILE_DUMP) mkdirSync(process.env.BENCH_COMPILE_DUMP, { recursive: true });
let traced = [];
const extraArgs = process.env.BENCH_CHROMIUM_ARGS ? process.env.BENCH_CHROMIUM_ARGS.split(" ") : [];
const jsFlags = extraArgs.filter((x) => x.startsWith("--js-flags=")).map((x) => x.slice("--js-flags=".length));
if (compileTrace) jsFlags.push("--trace-wasm-compilation-times");

const { args } = JSON.parse(readFileSync(new URL("./webdriver.json", import.meta.url), "utf8"))["goog:chromeOptions"];
const launchOptions = {
  executablePath: "/usr/bin/chromium",
  // *.fabstir.test is the TLS node's name (scripts/bench.sh), trusted through the test CA in the
  // NSS database of a.chromiumHome.
  args: [...args.filter((x) => !x.startsWith("--headless")), "--enable-precise-memory-info",
    "--host-resolver-rules=MAP *.fabstir.test 127.0.0.1",
    // BENCH_CHROMIUM_ARGS: extra flags for an experiment (e.g. V8's --js-flags), space-separated.
    ...extraArgs.filter((x) => !x.startsWith("--js-flags=")),
    ...(jsFlags.length ? [`--js-flags=${jsFlags.join(" ")}`] : [])],
  env: a.chromiumHome ? { ...process.env, HOME: a.chromiumHome } : process.env,
  headless: true,
};
// A browser server, so that its process's stdout (where V8's trace goes) can be read. Its pages
// are fresh: each opens in a context of its own, with nothing cached.
const server = await chromium.launchServer(launchOptions);
let partial = "";
server.process().stdout.on("data", (chunk) => {
  if (!compileTrace) return;
  const lines = (partial + chunk).split("\n");
  partial = lines.pop();
  traced.push(...lines);
});
const browser = await chromium.connect(server.wsEndpoint());
// Scenarios with `eagerWasm`: another Chromium whose V8 compiles every wasm function when the
// module loads (--no-wasm-lazy-compilation, a flag no page can set), started for the first of
// them; not traced.
let eagerBrowser = null;
const eagerLaunch = () => chromium.launch({
  ...launchOptions,
  args: [...launchOptions.args.filter((x) => !x.startsWith("--js-flags=")),
    `--js-flags=${[...jsFlags.filter((f) => f !== "--trace-wasm-compilation-times"), "--no-wasm-lazy-compilation"].join(" ")}`],
});

/** The SDK's functions compiled at their first call between the page's first two marks in
 *  `lines` (V8's trace; see BENCH_COMPILE_TRACE above): the SDK's module is the one with the
 *  most lines, a mark is a function of another module 3000-3099 bytes long. Nothing when the
 *  page made no two marks. */
function compiledBetweenMarks(lines) {
  const parsed = lines.map((l) => l.match(/Compiled function (0x[0-9a-f]+)#(\d+) using (\w+), took ([\d.]+) (μs|ms).*bodysize (\d+)/))
    .filter(Boolean)
    .map(([, module, index, tier, took, unit, body]) => ({ module, index: Number(index), tier, us: Number(took) * (unit === "ms" ? 1000 : 1), body: Number(body) }));
  const count = new Map();
  for (const p of parsed) count.set(p.module, (count.get(p.module) ?? 0) + 1);
  const sdk = [...count].sort((x, y) => y[1] - x[1])[0]?.[0];
  const marks = parsed.flatMap((p, i) => (p.module !== sdk && p.body >= 3000 && p.body < 3100 ? [i] : []));
  if (marks.length < 2) return {};
  const window = parsed.slice(marks[0] + 1, marks[1]).filter((p) => p.module === sdk && p.tier === "Liftoff");
  if (process.env.BENCH_COMPILE_DUMP) writeFileSync(`${process.env.BENCH_COMPILE_DUMP}/${Date.now()}.json`, JSON.stringify(window));
  return {
    compiledFns: window.length,
    compiledKB: window.reduce((n, p) => n + p.body, 0) / 1024,
    compileMs: window.reduce((n, p) => n + p.us, 0) / 1000,
  };
}

// BENCH_PROFILE=DIR: V8 CPU profiles of each run's measured window (a scenario marks it with
// console.profile/profileEnd), written to DIR/<scenario>-<n>.cpuprofile (DevTools opens them).
const profileDir = process.env.BENCH_PROFILE;
let profiled = 0;

/** A returning visitor's page (`returning`): a browser with a profile of its own, visited once
 *  (the same scenario run there, then 5 s for the browser to keep what it caches: the module's
 *  HTTP response and V8's compiled code), the page closed; the measured page is the second
 *  visit; `done` closes that browser. Its runs are not traced (its browser's stdout is not ours
 *  to read). */
async function returningPage(name, params) {
  const profile = mkdtempSync(join(tmpdir(), "fabstir-bench-profile-"));
  const context = await chromium.launchPersistentContext(profile, launchOptions);
  const close = async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); };
  try {
    const first = await context.newPage();
    await first.goto(pageUrl);
    await first.waitForFunction(() => window.benchReady === true);
    await first.evaluate(([n, p]) => window.bench[n](p), [name, params]);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await first.close();
    return { page: await context.newPage(), done: close };
  } catch (e) {
    await close();
    throw e;
  }
}

// Firefox ESR through geckodriver (bench/firefox.mjs), started for the first scenario run there.
let firefox = null;

async function once(name, { returning, browserName, eagerWasm, ...params }) {
  if (browserName === "firefox") {
    firefox ??= await firefoxDriver(pageUrl, new URL("./webdriver-firefox.json", import.meta.url));
    return firefox.run(name, params);
  }
  if (eagerWasm) eagerBrowser ??= await eagerLaunch();
  const { page, done } = returning
    ? await returningPage(name, params)
    : { page: await (eagerWasm ? eagerBrowser : browser).newPage(), done: async () => {} };
  // Only the main browser's V8 trace is read: returning and eager pages are not traced.
  const traceRun = compileTrace && !returning && !eagerWasm;
  try {
    let cdp = null;
    if (profileDir) {
      cdp = await page.context().newCDPSession(page);
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
      cdp.on("Profiler.consoleProfileFinished", (e) =>
        writeFileSync(`${profileDir}/${name}-${++profiled}.cpuprofile`, JSON.stringify(e.profile)));
    }
    traced = [];
    await page.goto(traceRun ? `${pageUrl}?compileTrace` : pageUrl);
    await page.waitForFunction(() => window.benchReady === true);
    const result = await page.evaluate(([n, p]) => window.bench[n](p), [name, params]);
    if (cdp) await cdp.detach();
    if (traceRun) {
      await page.evaluate(() => window.benchFlushTrace());
      await new Promise((resolve) => setTimeout(resolve, 300));
      Object.assign(result, compiledBetweenMarks(traced));
    }
    return result;
  } finally {
    await page.close();
    await done();
  }
}

const median = (v) => { const s = [...v].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(",") : null;
// BENCH_LABELS: a regular expression; of those, only the scenarios whose label it matches.
const labels = process.env.BENCH_LABELS ? new RegExp(process.env.BENCH_LABELS) : null;

async function scenario(label, name, params, times = reps) {
  if ((only && !only.includes(name)) || (labels && !labels.test(label))) return { label, runs: 0, failed: 0, errors: [], skipped: true };
  const runs = [];
  const errors = [];
  for (let i = 0; i < times; i++) {
    try {
      runs.push(await once(name, params));
    } catch (e) {
      // A failed run is reported, not hidden, and the other scenarios still run.
      errors.push(String(e.message ?? e).split("\n")[0]);
    }
  }
  if (errors.length) console.log(`${label}: ${errors.length} of ${times} runs FAILED: ${errors[0]}`);
  if (!runs.length) return { label, runs: 0, failed: errors.length, errors };
  const summary = {};
  for (const key of Object.keys(runs[0])) {
    const values = runs.map((r) => r[key]);
    if (values.every((v) => typeof v === "number")) {
      summary[key] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
    } else {
      summary[key] = values;
    }
  }
  const line = Object.entries(summary)
    .map(([k, v]) => (v.median === undefined ? `${k}=${JSON.stringify(v)}` : `${k} ${fmt(v.median)} [${fmt(v.min)}–${fmt(v.max)}]`))
    .join(", ");
  console.log(`${label} (${runs.length} runs): ${line}`);
  return { label, runs: runs.length, failed: errors.length, errors, ...summary };
}

function fmt(x) {
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return x < 10 ? x.toFixed(2) : x.toFixed(0);
}

const report = { when: new Date().toISOString(), reps, scenarios: {} };
const s = report.scenarios;
try {
  s.startup = await scenario("2. startup", "startup", { bootstrap: a.relayWs });
  s.connectWs = await scenario("3. connect over WebSocket", "connect", { bootstrap: a.relayWs, target: a.hostAWs });
  if (a.tlsNodeTls) {
    s.connectSameNodeWs = await scenario("3. connect over /ws, the TLS node's plain listener", "connect", { bootstrap: a.relayWs, target: a.tlsNodeWs });
    s.connectTlsWs = await scenario("3. connect over /tls/ws by DNS name, the same node", "connect", { bootstrap: a.relayWs, target: a.tlsNodeTls });
  }
  s.connectWebrtc = await scenario("3. connect over WebRTC-direct", "connect", { bootstrap: a.relayWs, target: a.hostAWebrtc });
  s.firstTokenDirect = await scenario("4. first token, direct host", "firstToken", { bootstrap: a.relayWs, model: "direct-1" });
  s.firstTokenRelayed = await scenario("4. first token, relayed host", "firstToken", { bootstrap: a.relayWs, model: "relayed-1" });
  // Discovery through the DHT instead of the catalog (what the page's Kademlia client buys).
  s.firstTokenDirectDht = await scenario("4. first token, direct host, discovery through the DHT", "firstToken", { bootstrap: a.relayWs, model: "direct-1", source: "dht" });
  s.firstTokenRelayedDht = await scenario("4. first token, relayed host, discovery through the DHT", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", source: "dht" });
  // A page that watches the catalogs: discovery reads its view (no round trip).
  s.firstTokenDirectWatched = await scenario("4. first token, direct host, watching the catalog", "firstToken", { bootstrap: a.relayWs, model: "direct-1", watch: true });
  s.firstTokenRelayedWatched = await scenario("4. first token, relayed host, watching the catalog", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", watch: true });
  // What an app does: submit at once from a fresh page (the lookup is the submit's own).
  s.firstTokenDirectSubmit = await scenario("4. first token, direct host, job submitted at once", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true });
  s.firstTokenRelayedSubmit = await scenario("4. first token, relayed host, job submitted at once", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true });
  s.firstTokenDirectSubmitWatched = await scenario("4. first token, direct host, submitted at once by a watching page", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, watch: true });
  s.firstTokenRelayedSubmitWatched = await scenario("4. first token, relayed host, submitted at once by a watching page", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, watch: true });
  // The same, submitted a second after start() (a user typing the prompt): the page has settled
  // (its connection's opening messages are done); the job's code and its host's connection are new.
  s.firstTokenDirectSettled = await scenario("4. first token, direct host, submitted 1 s after start()", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, settleMs: 1000 });
  s.firstTokenRelayedSettled = await scenario("4. first token, relayed host, submitted 1 s after start()", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, settleMs: 1000 });
  // The same by a chat app's page: it lists the models (its model picker) once started.
  s.firstTokenDirectSettledListed = await scenario("4. first token, direct host, submitted 1 s after start() and listModels()", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, settleMs: 1000, listFirst: true });
  s.firstTokenRelayedSettledListed = await scenario("4. first token, relayed host, submitted 1 s after start() and listModels()", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, settleMs: 1000, listFirst: true });
  // The same by a page that discovered the model's hosts when its model was chosen (it connected
  // to them then).
  s.firstTokenDirectSettledDiscovered = await scenario("4. first token, direct host, submitted 1 s after start() and discoverNodes()", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, settleMs: 1000, discoverFirst: true });
  s.firstTokenRelayedSettledDiscovered = await scenario("4. first token, relayed host, submitted 1 s after start() and discoverNodes()", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, settleMs: 1000, discoverFirst: true });
  // Submitted at once by a page that has run a job before: the code is compiled (the difference
  // to the fresh page above is what V8's lazy compilation and first calls cost), connections are new.
  s.firstTokenDirectSubmitWarm = await scenario("4. first token, direct host, submitted at once by a page that ran a job before (new SDK)", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, warm: true });
  s.firstTokenRelayedSubmitWarm = await scenario("4. first token, relayed host, submitted at once by a page that ran a job before (new SDK)", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, warm: true });
  // Both: settled and compiled (what a page's second job looks like, on new connections).
  s.firstTokenDirectSettledWarm = await scenario("4. first token, direct host, submitted 1 s after start() by a page that ran a job before (new SDK)", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, warm: true, settleMs: 1000 });
  s.firstTokenRelayedSettledWarm = await scenario("4. first token, relayed host, submitted 1 s after start() by a page that ran a job before (new SDK)", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, warm: true, settleMs: 1000 });
  // What V8's lazy compilation costs a fresh page submitting at once, two ways: a Chromium that
  // compiles every function when the module loads (a flag; pages cannot ask for it), and a page
  // whose worker ran the job first (V8 shares compiled code between a page's threads; the page's
  // own SDK, connections and JS are new).
  s.firstTokenDirectSubmitEager = await scenario("4. first token, direct host, job submitted at once, V8 compiling the module up front (--no-wasm-lazy-compilation)", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, eagerWasm: true });
  s.firstTokenRelayedSubmitEager = await scenario("4. first token, relayed host, job submitted at once, V8 compiling the module up front (--no-wasm-lazy-compilation)", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, eagerWasm: true });
  s.firstTokenDirectSubmitWorkerWarm = await scenario("4. first token, direct host, submitted at once by a page whose worker ran the job first", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, workerWarm: true });
  s.firstTokenRelayedSubmitWorkerWarm = await scenario("4. first token, relayed host, submitted at once by a page whose worker ran the job first", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, workerWarm: true });
  // A returning visitor (the browser keeps the module and V8's code for it from a first visit
  // that ran the same job), submitted at once and settled.
  s.firstTokenDirectSubmitReturning = await scenario("4. first token, direct host, submitted at once by a returning visitor's page", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, returning: true });
  s.firstTokenRelayedSubmitReturning = await scenario("4. first token, relayed host, submitted at once by a returning visitor's page", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, returning: true });
  s.firstTokenDirectSettledReturning = await scenario("4. first token, direct host, submitted 1 s after start() by a returning visitor's page", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, settleMs: 1000, returning: true });
  s.firstTokenRelayedSettledReturning = await scenario("4. first token, relayed host, submitted 1 s after start() by a returning visitor's page", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, settleMs: 1000, returning: true });
  if (a.hostASlowWs) {
    // The same host through a proxy adding 20 ms each way: what a real network's round trips cost.
    s.firstTokenSlowLink = await scenario("4. first token, direct host over a 40 ms round trip (connected, submitted at once)", "firstTokenVia", { bootstrap: a.relayWs, model: "direct-1", via: a.hostASlowWs });
    // A model of two hosts (same price), each through such a proxy: the job is started on the
    // one the catalog ranks first, the other is not asked.
    s.firstTokenSlowLinkReplicas = await scenario("4. first token, model of two direct hosts, each over a 40 ms round trip (connected to both, submitted at once)", "firstTokenVia", { bootstrap: a.relayWs, model: "demo-fo", via: a.replicasSlowWs });
    s.discoverSlowLink = await scenario("4. discoverNodes, direct host over a 40 ms round trip (connected; catalog, node info and ping)", "discoverVia", { bootstrap: a.relayWs, model: "direct-1", via: a.hostASlowWs });
  }
  if (only?.includes("trace")) {
    const kinds = [["fresh", {}], ["warm", { warm: true }], ["settled 1 s", { settleMs: 1000 }]];
    for (const model of ["direct-1", "relayed-1"]) for (const [kind, more] of kinds) {
      const r = await once("trace", { bootstrap: a.relayWs, model, ...more, browserName: process.env.BENCH_TRACE_BROWSER });
      console.log(`--- trace ${model} ${kind}\n${r.log}`);
    }
  }
  s.restart = await scenario("4. start() again after stop() in the same page: each WebSocket's close (code/wasClean)", "restart", { bootstrap: a.relayWs });
  s.pingSeries = await scenario("4. round trips after start: SDK ping to the relay vs a plain WebSocket echo", "pingSeries", { bootstrap: a.relayWs, echoUrl, count: 12, gapMs: 100 }, 3);
  s.listModels = await scenario("4. listModels: asked, then from the watched view", "listModels", { bootstrap: a.relayWs });
  s.listModelsEager = await scenario("4. listModels: asked, then from the watched view, V8 compiling the module up front (--no-wasm-lazy-compilation)", "listModels", { bootstrap: a.relayWs, eagerWasm: true });
  // The same at-once first token and listModels in Firefox ESR (another engine: SpiderMonkey
  // compiles a module's functions when it loads them, V8 at each one's first call).
  s.firefoxFirstTokenDirectSubmit = await scenario("9. Firefox: first token, direct host, job submitted at once", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, browserName: "firefox" });
  s.firefoxFirstTokenRelayedSubmit = await scenario("9. Firefox: first token, relayed host, job submitted at once", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, browserName: "firefox" });
  s.firefoxFirstTokenDirectSubmitWarm = await scenario("9. Firefox: first token, direct host, submitted at once by a page that ran a job before (new SDK)", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true, warm: true, browserName: "firefox" });
  s.firefoxFirstTokenRelayedSubmitWarm = await scenario("9. Firefox: first token, relayed host, submitted at once by a page that ran a job before (new SDK)", "firstToken", { bootstrap: a.relayWs, model: "relayed-1", submitOnly: true, warm: true, browserName: "firefox" });
  s.firefoxPingSeries = await scenario("9. Firefox: round trips after start: SDK ping to the relay vs a plain WebSocket echo", "pingSeries", { bootstrap: a.relayWs, echoUrl, count: 12, gapMs: 100, browserName: "firefox" }, 3);
  s.firefoxRestart = await scenario("9. Firefox: start() again after stop() in the same page: each WebSocket's close (code/wasClean)", "restart", { bootstrap: a.relayWs, browserName: "firefox" });
  s.firefoxListModels = await scenario("9. Firefox: listModels: asked, then from the watched view", "listModels", { bootstrap: a.relayWs, browserName: "firefox" });
  const tokens = 20000;
  s.streamDirect = await scenario(`5. stream ${tokens} tokens, direct`, "stream", { bootstrap: a.relayWs, model: "direct-1", tokens }, 3);
  s.streamRelayed = await scenario(`5. stream ${tokens} tokens, relayed`, "stream", { bootstrap: a.relayWs, model: "relayed-1", tokens }, 3);
  const perToken = s.streamRelayed.bytesPerToken?.median ?? 78;
  const bytes = Math.round(perToken * tokens);
  const chunk = Math.round(perToken * 256);
  s.floor = await scenario(`5. floor: ${bytes} bytes over a plain WebSocket`, "floor", { url: floorUrl, bytes, chunk }, 3);
  s.many = await scenario("6. 50 concurrent streams of 2000 tokens", "many", { bootstrap: a.relayWs, model: "direct-1", jobs: 50, tokens: 2000 }, 3);
  s.idle = await scenario(`page idle with ${a.idlePeers.length + 1} peers`, "idle", { bootstrap: a.relayWs, peers: a.idlePeers, settleMs: 3000 }, 3);
} finally {
  firefox?.close();
  await eagerBrowser?.close();
  await browser.close();
  await server.close();
  floor.close();
  echo.close();
}
writeFileSync(reportFile, JSON.stringify(report, null, 2));
