// The browser's rules for a page served over https: from a host that is not localhost (a secure
// context that gets none of localhost's exemptions): a plain ws:// WebSocket to another host is
// refused by the browser itself, the SDK refuses such an address up front with a typed error
// saying what to use instead, and WebRTC-direct works alongside. scripts/check-secure-page.sh
// serves this page at https://app.fabstir.test and drives it (tests/e2e/drive-secure.mjs).
import { init, FabstirSDK } from "./pkg/index.js";

const params = new URLSearchParams(location.search);
const result = { secureContext: window.isSecureContext, protocol: location.protocol, origin: location.origin };
const show = (state) => {
  const el = document.getElementById("result");
  el.textContent = JSON.stringify(result, null, 2);
  el.dataset.state = state;
};
const code = (e) => ({ name: e?.name ?? null, code: e?.code ?? null, message: String(e?.message ?? e) });
// Where the page is and what its SDKs said last: the driver prints these if the page never
// finishes, so a hang names its step.
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);
result.steps = [];
const step = (name) => { result.steps.push(`${ms()} ms: ${name}`); show("running"); };
const said = [];
const sdkOf = (config) => {
  const sdk = new FabstirSDK({ ...config, debug: true });
  sdk.on("p2p:debug", (e) => { said.push(`${ms()} ${e.subsystem}: ${e.message}`); said.splice(0, said.length - 40); });
  return sdk;
};
window.lastDebug = () => said.join("\n");

try {
  // 1. The browser itself: a raw ws:// to relay.fabstir.test.
  try {
    const socket = new WebSocket(params.get("rawWs"));
    result.rawWebSocket = await new Promise((resolve) => {
      socket.onopen = () => resolve({ opened: true });
      socket.onerror = () => resolve({ opened: false, error: "error event" });
    });
  } catch (e) {
    result.rawWebSocket = { opened: false, thrown: code(e) };
  }
  await init();
  // 2. The SDK refuses the plain /ws bootstrap address at once.
  try {
    new FabstirSDK({ p2pConfig: { bootstrapNodes: [params.get("ws")] } });
    result.wsBootstrap = { refused: false };
  } catch (e) {
    result.wsBootstrap = { refused: true, ...code(e) };
  }
  // 3. WebRTC-direct to the relay works alongside, and a job streams through it.
  step("3. WebRTC-direct");
  const sdk = sdkOf({ p2pConfig: { bootstrapNodes: [params.get("webrtc")] } });
  await sdk.start();
  result.peers = (await sdk.getConnectedPeers()).map((p) => p.transport);
  try {
    await sdk.dial(params.get("ws"));
    result.wsDial = { refused: false };
  } catch (e) {
    result.wsDial = { refused: true, ...code(e) };
  }
  const job = await sdk.submitJobWithNegotiation({ modelId: "demo-1", prompt: params.get("prompt"), maxTokens: 32 });
  result.job = { nodeId: job.nodeId, text: await job.text() };
  await sdk.stop();
  // 4. A relay behind a DNS name with TLS (/dns4/relay.fabstir.test/…/tls/ws): the way a page on
  //    the real web joins, and a job through it.
  step("4. relay-tls");
  const secure = sdkOf({ p2pConfig: { bootstrapNodes: [params.get("tlsWs")] } });
  await secure.start();
  result.tlsPeers = (await secure.getConnectedPeers()).map((p) => `${p.transport} ${p.address}`);
  const tlsJob = await secure.submitJobWithNegotiation({ modelId: "demo-1", prompt: params.get("prompt"), maxTokens: 32 });
  result.tlsJob = { nodeId: tlsJob.nodeId, text: await tlsJob.text() };
  //    host-t is reachable only through relay-tls: its circuit addresses go through the relay's
  //    DNS name, which is the only way this page can reach it.
  //    (The address it printed as reachable, dialed as it is; then found through the DHT.)
  step("4. host-t through relay-tls");
  result.tlsRelayed = { dialed: await secure.dial(params.get("dnsCircuit")) };
  const relayedJob = await secure.submitJobWithNegotiation({ modelId: "demo-tls", prompt: params.get("prompt"), maxTokens: 32 });
  result.tlsRelayed.nodeId = relayedJob.nodeId;
  result.tlsRelayed.text = await relayedJob.text();
  result.tlsRelayed.peer = (await secure.getConnectedPeers())
    .filter((p) => p.peerId === relayedJob.nodeId)
    .map((p) => `${p.transport} ${p.address}`);
  await secure.stop();
  // (A connection to relay-tls kept open across the renewal below.)
  const secure2 = sdkOf({ p2pConfig: { bootstrapNodes: [params.get("tlsWs")] } });
  await secure2.start();
  // 5. A relay whose certificate is for another name: refused by the browser (DIAL_FAILED naming
  //    it), while the SDK joins through its other bootstrap node.
  step("5. a certificate for another name");
  const both = sdkOf({
    p2pConfig: { bootstrapNodes: [params.get("wrongTls"), params.get("tlsWs")], maxRetries: 1, retryDelay: 100 },
  });
  const failed = [];
  both.on("connection:failed", (e) => failed.push(`${e.address}: ${e.error}`));
  await both.start();
  let dial;
  try {
    await both.dial(params.get("wrongTls"));
    dial = { refused: false };
  } catch (e) {
    dial = { refused: true, ...code(e) };
  }
  // Its bootstrap dial gives up after its retry (connection:failed); wait for that, 5 s at most.
  for (let i = 0; i < 50 && failed.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  result.wrongName = { started: both.isStarted(), failed, dial };
  await both.stop();
  // 6. Renewal while connected: relay-tls's files are replaced (here with the other name's
  //    certificate, so the page can tell which one a connection gets). The open connection
  //    stays; a new one gets the new certificate (and so fails on its name).
  const relayTls = params.get("tlsWs").split("/p2p/").pop();
  await fetch("/renew", { method: "POST" });
  await new Promise((r) => setTimeout(r, 3000)); // the relay looks at the files every 2 s
  const renewed = { pingOpen: null, newDial: null };
  try { renewed.pingOpen = await secure2.ping(relayTls); } catch (e) { renewed.pingOpen = code(e); }
  step("6. renewal");
  const fresh = sdkOf({ p2pConfig: { bootstrapNodes: [params.get("webrtc")] } });
  await fresh.start();
  try { await fresh.dial(params.get("tlsWs")); renewed.newDial = { refused: false }; }
  catch (e) { renewed.newDial = { refused: true, ...code(e) }; }
  result.renewal = renewed;
  await fresh.stop();
  await secure2.stop();
  show("done");
} catch (e) {
  result.failed = code(e);
  show("error");
}
