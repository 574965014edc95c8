// Interop: a stock js-libp2p peer (Node.js, TCP, @libp2p/kad-dht in client mode) looks up the
// provider record of a model served by a relayed fabstir host, as docs/PROTOCOL.md tells a third
// party to: the key is the raw UTF-8 bytes of `/fabstir/model/1/<modelId>` and loopback
// addresses need a pass-through peerInfoMapper. Every DHT server that answers with the host
// must list exactly one `<relay address>/p2p/<relay>/p2p-circuit/p2p/<host>` per address of the
// relay and nothing else (a relay with three addresses once gave the TCP circuit twice).
// usage: node providers.mjs MODEL_ID HOST_PEER_ID RELAY_MULTIADDR...  (the relay's full addresses)
import "./node20.mjs";
const { createLibp2p } = await import("libp2p");
const { tcp } = await import("@libp2p/tcp");
const { noise } = await import("@chainsafe/libp2p-noise");
const { yamux } = await import("@chainsafe/libp2p-yamux");
const { identify } = await import("@libp2p/identify");
const { ping } = await import("@libp2p/ping");
const { kadDHT } = await import("@libp2p/kad-dht");
const { multiaddr } = await import("@multiformats/multiaddr");

const [model, host, ...relayAddrs] = process.argv.slice(2);
const relayTcp = relayAddrs.find((a) => a.includes("/tcp/") && !a.includes("/ws"));
const relayId = relayTcp.split("/p2p/").pop();
// What the record must hold: each relay address without its /p2p/<relay>, then the circuit.
const expected = relayAddrs
  .map((a) => `${a.replace(`/p2p/${relayId}`, "")}/p2p/${relayId}/p2p-circuit/p2p/${host}`)
  .sort();
const node = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol: "/fabstir/kad/1.0.0",
      clientMode: true,
      peerInfoMapper: (peer) => peer,
    }),
  },
});
const fail = (message) => { console.error(`js-libp2p interop: ${message}`); process.exitCode = 1; };
try {
  await node.dial(multiaddr(relayTcp), { signal: AbortSignal.timeout(20_000) });
  // The DHT adds a peer to its routing table once identify says it speaks the DHT protocol.
  for (let i = 0; i < 200 && node.services.dht.routingTable.size === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const key = new TextEncoder().encode(`/fabstir/model/1/${model}`);
  const answers = [];
  for await (const event of node.services.dht.findProviders(
    { multihash: { bytes: key }, toString: () => `/fabstir/model/1/${model}` },
    { signal: AbortSignal.timeout(30_000) },
  )) {
    if (event.name !== "PEER_RESPONSE") continue;
    for (const p of event.providers) {
      if (p.id.toString() === host) {
        answers.push({ from: event.from.toString(), addrs: p.multiaddrs.map((m) => m.toString()) });
      }
    }
  }
  if (answers.length === 0) fail(`no DHT server listed ${host} as a provider of ${model}`);
  for (const { from, addrs } of answers) {
    const got = [...addrs].sort();
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      fail(`${from} gave ${host}'s addresses as\n  ${got.join("\n  ")}\nexpected\n  ${expected.join("\n  ")}`);
    }
  }
  if (!process.exitCode) {
    console.log(
      `js-libp2p interop: ${answers.length} DHT server(s) gave ${host} as a provider of ${model}, ` +
      `each with exactly its ${expected.length} circuit addresses`,
    );
  }
} catch (e) {
  fail(`provider lookup failed: ${e.message}`);
} finally {
  await node.stop();
}
