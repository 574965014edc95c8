// Interop: a stock js-libp2p peer (Node.js, TCP) dials a relayed fabstir host through the relay
// circuit and must complete identify with it: learn its agent and protocols, and get an observed
// address js-libp2p accepts (a relayed host used to send `/p2p/<client>`, which it rejects).
// usage: node identify.mjs RELAY_TCP_MULTIADDR HOST_PEER_ID
import "./node20.mjs";
const { createLibp2p } = await import("libp2p");
const { tcp } = await import("@libp2p/tcp");
const { noise } = await import("@chainsafe/libp2p-noise");
const { yamux } = await import("@chainsafe/libp2p-yamux");
const { identify } = await import("@libp2p/identify");
const { circuitRelayTransport } = await import("@libp2p/circuit-relay-v2");
const { multiaddr } = await import("@multiformats/multiaddr");

const [relay, host] = process.argv.slice(2);
const node = await createLibp2p({
  transports: [tcp(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() },
});
const fail = (message) => { console.error(`js-libp2p interop: ${message}`); process.exitCode = 1; };
try {
  const started = Date.now();
  // js-libp2p identifies every new connection by itself (one outbound identify stream at a
  // time): wait for that result.
  const identified = new Promise((resolve) => {
    node.addEventListener("peer:identify", (e) => {
      if (e.detail.peerId.toString() === host) resolve(e.detail);
    });
  });
  const circuit = multiaddr(`${relay}/p2p-circuit/p2p/${host}`);
  const connection = await node.dial(circuit, { signal: AbortSignal.timeout(20_000) });
  let result = await Promise.race([
    identified,
    new Promise((resolve) => setTimeout(() => resolve(null), 20_000)),
  ]);
  if (result === null) {
    // It never completed: ask once more, explicitly, so that the reason surfaces as an error
    // (js-libp2p only logs it) instead of a bare time-out.
    result = await node.services.identify.identify(connection, {
      signal: AbortSignal.timeout(20_000),
      runOnLimitedConnection: true,
    });
  }
  const ms = Date.now() - started;
  const observed = result.observedAddr?.toString() ?? "(none)";
  if (!result.agentVersion?.startsWith("fabstir-node/")) fail(`agent is ${result.agentVersion}`);
  for (const p of ["/fabstir/info/1.0.0", "/fabstir/job/1.0.0", "/fabstir/stream/1.0.0"]) {
    if (!result.protocols.includes(p)) fail(`the host does not list ${p}: ${result.protocols.join(" ")}`);
  }
  if (!observed.includes("/p2p-circuit/p2p/")) fail(`observed address ${observed} is not a circuit address`);
  if (!process.exitCode) {
    console.log(
      `js-libp2p interop: identified ${host} through the relay in ${ms} ms ` +
      `(limited circuit: ${connection.limits ? "yes" : "no"}); agent ${result.agentVersion}; ` +
      `${result.protocols.length} protocols; observed ${observed}`,
    );
  }
} catch (e) {
  fail(`identify through the circuit failed: ${e.message}`);
} finally {
  await node.stop();
}
