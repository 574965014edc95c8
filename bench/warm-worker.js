// A dedicated worker of the bench page (bench.js, firstToken's `workerWarm`): it loads the same
// package and module URL, runs one job with an SDK of its own, and says when it is done. V8
// shares a module's compiled code between the threads of a page's process, so what the worker's
// job compiled at its first calls is compiled for the page too: the difference to a fresh page is
// what a warm-up in a worker could buy. The page's own SDK, connections and JS stay new.
import { init, FabstirSDK } from "./pkg/index.js";

onmessage = async ({ data: { bootstrap, model } }) => {
  try {
    await init();
    const sdk = new FabstirSDK({ p2pConfig: { bootstrapNodes: [bootstrap], maxRetries: 0 } });
    await sdk.start();
    const job = await sdk.submitJobWithNegotiation({ modelId: model, prompt: "bench", maxTokens: 1 });
    for await (const _ of job) {
      // Read to its end.
    }
    await sdk.stop();
    postMessage({ ok: true });
  } catch (e) {
    postMessage({ ok: false, error: String(e?.message ?? e) });
  }
};
