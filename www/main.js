// Demo page: connects to the local node(s) listed in nodes.json (written by scripts/demo.sh)
// and shows the connection state, our peer id, connected peers and events.
import init, { FabstirSDK } from "./pkg/fabstir_sdk.js";

const $ = (id) => document.getElementById(id);
const log = (line) => { $("log").textContent += `${new Date().toISOString().slice(11, 23)} ${line}\n`; };
const setStatus = (state, text) => { $("status").dataset.state = state; $("status").textContent = text; };

async function refreshPeers(sdk) {
  const peers = await sdk.getConnectedPeers();
  $("peers").replaceChildren(...peers.map((p) => {
    const row = document.createElement("tr");
    for (const text of [p.peerId, p.transport, p.rtt == null ? "–" : `${p.rtt.toFixed(1)} ms`, p.agentVersion ?? "–"]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
}

try {
  await init();
  const { bootstrapNodes } = await (await fetch("nodes.json")).json();
  const sdk = new FabstirSDK({ p2pConfig: { bootstrapNodes } });
  window.fabstir = sdk;
  $("peer-id").textContent = sdk.getPeerId();
  for (const name of ["p2p:started", "peer:connect", "peer:disconnect", "connection:retry",
                      "connection:failed", "relay:reservation", "error:p2p"]) {
    sdk.on(name, (e) => { log(`${name} ${JSON.stringify(e)}`); refreshPeers(sdk).catch(() => {}); });
  }
  await sdk.start();
  setStatus("connected", "connected");
  setInterval(() => refreshPeers(sdk).catch(() => {}), 2000);
  await refreshPeers(sdk);
} catch (e) {
  setStatus("error", `error ${e.code ?? ""}: ${e.message}`);
  log(`start failed: ${e.code ?? ""} ${e.message}`);
}
