// Drives tests/e2e/secure/ in headless Chromium (playwright-core, Debian's chromium) as a page of
// https://app.fabstir.test: *.fabstir.test resolves to 127.0.0.1 (--host-resolver-rules), and
// the suite's test CA is trusted through the NSS database in HOME (no blanket
// --ignore-certificate-errors: names and chains are checked). Checks what the page found.
// usage: node drive-secure.mjs URL HOME EXPECTED_JSON_FILE SCREENSHOT
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, home, expectedFile, screenshot] = process.argv.slice(2);
const expectedByHost = JSON.parse(readFileSync(expectedFile, "utf8"));
const { args } = JSON.parse(readFileSync(new URL("./webdriver.json", import.meta.url), "utf8"))["goog:chromeOptions"];
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    ...args.filter((a) => a !== "--headless=new" && a !== "--headless"),
    "--host-resolver-rules=MAP *.fabstir.test 127.0.0.1",
  ],
  env: { ...process.env, HOME: home },
  headless: true,
});
const fail = (why, result) => { console.error(`secure page: ${why}\n${JSON.stringify(result, null, 2)}`); process.exit(1); };
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // The page's console errors and warnings too: a panic in the wasm stops its SDK without a word
  // on the page itself.
  const warnings = [];
  page.on("console", (m) => {
    if (m.text().includes("fabstir-sdk panicked")) errors.push(m.text());
    if (m.type() === "error" || m.type() === "warning") warnings.push(`${m.type()}: ${m.text()}`);
  });
  await page.goto(url);
  try {
    await page.waitForFunction(() => document.getElementById("result").dataset.state !== "running", null, { timeout: 60_000 });
  } catch (e) {
    // Never finished: say where it stopped and what its SDKs said last.
    const [text, debug] = await page.evaluate(() => [document.getElementById("result").textContent, window.lastDebug?.()]);
    console.error(`secure page: not finished in 60 s\n${text}\nlast p2p:debug events:\n${debug}` +
      `\npage errors: ${errors.join("\n") || "none"}\nconsole errors and warnings:\n${warnings.slice(-40).join("\n") || "none"}`);
    throw e;
  }
  const result = JSON.parse(await page.evaluate(() => document.getElementById("result").textContent));
  await page.screenshot({ path: screenshot, fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join("; ")}`, result);
  if (result.failed) fail("the page failed", result);
  if (!result.secureContext || result.protocol !== "https:" || !result.origin.startsWith("https://app.fabstir.test")) {
    fail("not a secure https page on app.fabstir.test", result);
  }
  if (result.rawWebSocket.opened) fail("the browser opened ws:// from an https page", result);
  const b = result.wsBootstrap;
  if (!b.refused || b.code !== "INVALID_CONFIG" || !b.message.includes("bootstrapNodes[0]") || !b.message.includes("/tls/ws")) {
    fail("the SDK did not refuse the /ws bootstrap address as it should", result);
  }
  const d = result.wsDial;
  if (!d.refused || d.code !== "DIAL_FAILED" || !d.message.includes("mixed content")) fail("dial() of /ws was not refused", result);
  if (!result.peers.includes("webrtc-direct")) fail("not connected over WebRTC-direct", result);
  const expected = expectedByHost[result.job.nodeId];
  if (expected === undefined || result.job.text !== expected) fail("the job's text is not its host's", result);
  if (!result.tlsPeers.some((p) => p.startsWith("websocket ") && p.includes("/dns4/relay.fabstir.test/") && p.includes("/tls/ws"))) {
    fail("not connected to the TLS relay by its DNS name", result);
  }
  if (expectedByHost[result.tlsJob.nodeId] !== result.tlsJob.text) fail("the job through the TLS relay is not exact", result);
  const t = result.tlsRelayed;
  if (t.dialed !== expectedByHost["demo-tls"].host) fail("the circuit address through relay-tls's DNS name did not reach its host", result);
  if (t.nodeId !== expectedByHost["demo-tls"].host || t.text !== expectedByHost["demo-tls"].text) {
    fail("the job from the host behind relay-tls is not exact", result);
  }
  if (!t.peer.some((p) => p.includes("/p2p-circuit"))) fail("the host behind relay-tls was not reached through a circuit", result);
  const w = result.wrongName;
  if (!w.started || !w.dial.refused || w.dial.code !== "DIAL_FAILED" || !w.dial.message.includes("wrong.fabstir.test")) {
    fail("a relay with a certificate for another name was not refused by name, or the other bootstrap node was not used", result);
  }
  if (!w.failed.some((f) => f.includes("wrong.fabstir.test"))) fail("no connection:failed for the wrong-name relay", result);
  const r = result.renewal;
  if (typeof r.pingOpen !== "number") fail("the connection opened before the renewal did not stay", result);
  if (!r.newDial.refused || r.newDial.code !== "DIAL_FAILED") fail("a new connection after the renewal did not get the new certificate", result);
  console.log(`secure page ${result.origin}: raw ws:// refused by the browser (${result.rawWebSocket.thrown?.name ?? result.rawWebSocket.error}); ` +
    `/ws bootstrap refused with ${b.code}, dial with ${d.code}; WebRTC-direct connected; a job streamed exactly from ${result.job.nodeId}; ` +
    `/dns4/relay.fabstir.test/…/tls/ws connected and a job streamed exactly from ${result.tlsJob.nodeId}; ` +
    `the host behind it was dialed at its circuit address through the DNS name and streamed exactly (${t.peer[0]}); ` +
    `a certificate for another name: ${w.dial.code}, joined through the other bootstrap node; ` +
    `renewal while connected: the open connection answered a ping (${r.pingOpen.toFixed(1)} ms), a new one got the new certificate (${r.newDial.code})`);
} finally {
  await browser.close();
}
