// Side by side with js-libp2p (issue 15): the same scenarios for our SDK ("ours") and for the
// JavaScript libp2p stack ("js", bench/js-libp2p/entry.js bundled by esbuild), each in a fresh
// page that has loaded neither; bench/side.mjs alternates the two and takes medians.
const now = () => performance.now();

/** Imports and instantiates a stack: the module fetch, and for ours the wasm's streaming compile. */
async function load(stack) {
  if (stack === "ours") {
    const mod = await import("./pkg/index.js");
    const wasm = await mod.init();
    return { mod, wasm };
  }
  return { js: await import("./jslibp2p.js") };
}

/** A started node of the stack; ours joins `bootstrap` in start(), js-libp2p joins nothing. */
async function started(loaded, bootstrap) {
  if (loaded.mod) {
    const sdk = new loaded.mod.FabstirSDK({ p2pConfig: { bootstrapNodes: [bootstrap], maxRetries: 0 } });
    const ready = now();
    await sdk.start();
    return { sdk, ready };
  }
  const node = await loaded.js.node();
  const ready = now();
  await node.dial(loaded.js.multiaddr(bootstrap));
  return { node, ready };
}

async function stop(n) {
  await (n.sdk ? n.sdk.stop() : n.node.stop());
}

function identified(loaded, n, peer) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${peer} not identified within 20 s`)), 20000);
    const done = () => { clearTimeout(timer); resolve(); };
    if (n.sdk) {
      const off = n.sdk.on("peer:identify", (e) => { if (e.peerId === peer) { off(); done(); } });
    } else {
      n.node.addEventListener("peer:identify", (e) => { if (e.detail.peerId.toString() === peer) done(); });
    }
  });
}

window.side = {
  /** Load (module fetch + compile/instantiate), ready to dial (+ construct/create and start),
   *  joined (+ connected to the relay: ours in start(), js-libp2p by dialing it). */
  async startup({ stack, bootstrap }) {
    const t0 = now();
    const loaded = await load(stack);
    const t1 = now();
    const n = await started(loaded, bootstrap);
    const t2 = now();
    await stop(n);
    return { loadMs: t1 - t0, readyMs: n.ready - t0, joinedMs: t2 - t0 };
  },

  /** Dial → secured and multiplexed (the dial resolves) → identified; a ping on it; the page's
   *  memory (JS heap + wasm memory, after a GC) with that connection and the relay's. */
  async connect({ stack, bootstrap, target }) {
    const loaded = await load(stack);
    const n = await started(loaded, bootstrap);
    const peer = target.split("/p2p/").pop();
    const identify = identified(loaded, n, peer);
    const t0 = now();
    if (n.sdk) await n.sdk.dial(target);
    else await n.node.dial(loaded.js.multiaddr(target));
    const t1 = now();
    await identify;
    const t2 = now();
    const pingMs = n.sdk ? await n.sdk.ping(peer) : await n.node.services.ping.ping(loaded.js.multiaddr(target));
    if (window.gc) window.gc();
    const jsHeapBytes = performance.memory?.usedJSHeapSize ?? NaN;
    const wasmBytes = loaded.wasm ? loaded.wasm.memory.buffer.byteLength : 0;
    await stop(n);
    return { dialMs: t1 - t0, identifiedMs: t2 - t0, pingMs, jsHeapBytes, wasmBytes, memoryBytes: jsHeapBytes + wasmBytes };
  },
};
window.sideReady = true;
