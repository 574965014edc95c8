// Side by side with js-libp2p (issue 15), in the same headless Chromium against the same nodes:
// startup and connect (WebSocket, WebRTC-direct) for our SDK and for js-libp2p, alternating runs,
// each in a fresh page (a new browser context: nothing cached); startup also with the CPU
// throttled 4x (DevTools' Emulation.setCPUThrottlingRate, a phone-class CPU), and our first
// token from a fresh page throttled. Prints medians beside the targets and writes a report.
// usage: node side.mjs SITE_URL ADDRESSES_JSON REPORT_JSON   (SITE_URL serves side.html, index.html)
import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [site, addressesFile, reportFile] = process.argv.slice(2);
const a = JSON.parse(readFileSync(addressesFile, "utf8"));
const reps = Number(process.env.BENCH_SIDE_REPS ?? 10);
const { args } = JSON.parse(readFileSync(new URL("./webdriver.json", import.meta.url), "utf8"))["goog:chromeOptions"];
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [...args.filter((x) => !x.startsWith("--headless")), "--enable-precise-memory-info", "--js-flags=--expose-gc"],
  headless: true,
});

/** One run of `fn` (a function of window.side or, for index.html, window.bench) in a fresh page. */
async function once(page, global, fn, params, throttle) {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    if (throttle) {
      const cdp = await context.newCDPSession(tab);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
    }
    await tab.goto(`${site}/${page}`);
    await tab.waitForFunction((g) => window[`${g}Ready`] === true, global);
    return await tab.evaluate(([g, f, p]) => window[g][f](p), [global, fn, params]);
  } finally {
    await context.close();
  }
}

const median = (v) => { const s = [...v].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x) => (Number.isNaN(x) ? "n/a" : x >= 1e5 ? `${(x / 1048576).toFixed(1)} MiB` : x < 10 ? x.toFixed(2) : x.toFixed(0));

/** Runs `fn` for ours and for js alternately, `reps` times each; medians per stack and key. */
async function pair(label, fn, params, throttle = 0) {
  const runs = { ours: [], js: [] };
  const errors = { ours: [], js: [] };
  for (let i = 0; i < reps; i++) {
    for (const stack of i % 2 ? ["js", "ours"] : ["ours", "js"]) {
      try {
        runs[stack].push(await once("side.html", "side", fn, { ...params, stack }, throttle));
      } catch (e) {
        errors[stack].push(String(e.message ?? e).split("\n")[0]);
      }
    }
  }
  const out = { label, throttle };
  for (const stack of ["ours", "js"]) {
    const r = runs[stack];
    out[stack] = { runs: r.length, failed: errors[stack].length, errors: errors[stack].slice(0, 3) };
    for (const key of Object.keys(r[0] ?? {})) out[stack][key] = median(r.map((x) => x[key]));
  }
  const keys = Object.keys(runs.ours[0] ?? runs.js[0] ?? {});
  console.log(`${label} (medians of ${reps} alternating runs each; ours / js-libp2p):`);
  for (const key of keys) console.log(`  ${key}: ${fmt(out.ours[key])} / ${fmt(out.js[key])}`);
  for (const stack of ["ours", "js"]) {
    if (errors[stack].length) console.log(`  ${stack}: ${errors[stack].length} of ${reps} runs FAILED: ${errors[stack][0]}`);
  }
  return out;
}

const report = { when: new Date().toISOString(), reps };
try {
  report.startup = await pair("10. startup", "startup", { bootstrap: a.relayWs });
  report.startupThrottled = await pair("10. startup, CPU throttled 4x", "startup", { bootstrap: a.relayWs }, 4);
  report.connectWs = await pair("10. connect over WebSocket (host-a)", "connect", { bootstrap: a.relayWs, target: a.hostAWs });
  report.connectWebrtc = await pair("10. connect over WebRTC-direct (host-a)", "connect", { bootstrap: a.relayWs, target: a.hostAWebrtc });
  // Our first token from a fresh page, throttled (js-libp2p has no fabstir job protocol).
  const first = [];
  for (let i = 0; i < reps; i++) {
    try {
      first.push(await once("index.html", "bench", "firstToken", { bootstrap: a.relayWs, model: "direct-1", submitOnly: true }, 4));
    } catch (e) {
      console.log(`  first token throttled: FAILED: ${String(e.message ?? e).split("\n")[0]}`);
    }
  }
  report.firstTokenThrottled = Object.fromEntries(Object.keys(first[0] ?? {}).map((k) => [k, median(first.map((r) => r[k]))]));
  console.log(`10. our first token from a fresh page, CPU throttled 4x (${first.length} runs): ${JSON.stringify(report.firstTokenThrottled)}`);
} finally {
  await browser.close();
}

// The targets beside the figures.
const ratio = (x, y) => (x / y).toFixed(2);
const t = report;
console.log("targets (issue 15):");
console.log(`  connect over WebSocket ≤ 0.8x js-libp2p's: ${ratio(t.connectWs.ours.identifiedMs, t.connectWs.js.identifiedMs)}x (identified), ${ratio(t.connectWs.ours.dialMs, t.connectWs.js.dialMs)}x (dial)`);
console.log(`  connect over WebRTC-direct ≤ 0.8x js-libp2p's: ${ratio(t.connectWebrtc.ours.identifiedMs, t.connectWebrtc.js.identifiedMs)}x (identified), ${ratio(t.connectWebrtc.ours.dialMs, t.connectWebrtc.js.dialMs)}x (dial)`);
console.log(`  startup ≤ js-libp2p's: ${ratio(t.startup.ours.readyMs, t.startup.js.readyMs)}x to ready, ${ratio(t.startup.ours.joinedMs, t.startup.js.joinedMs)}x to joined`);
console.log(`  startup ≤ 250 ms throttled 4x: ours ${fmt(t.startupThrottled.ours.joinedMs)} ms to joined (${fmt(t.startupThrottled.ours.readyMs)} to ready), js-libp2p ${fmt(t.startupThrottled.js.joinedMs)} ms`);
writeFileSync(reportFile, JSON.stringify(report, null, 2));
