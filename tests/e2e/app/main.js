// A web app as a user would write it: the SDK comes from the installed npm package. The
// packaging test builds it twice, with Vite and with webpack 5.
import { init, FabstirSDK } from "fabstir-sdk";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const state = (s, text = s) => { $("state").dataset.state = s; $("state").textContent = text; };

try {
  await init();
  // ?persist: the peer id and the receipts are kept in IndexedDB across reloads.
  const identity = params.has("persist") ? { persist: true } : undefined;
  const sdk = new FabstirSDK({ identity, p2pConfig: { bootstrapNodes: [params.get("bootstrap")] } });
  await sdk.start();
  $("peer").textContent = sdk.getPeerId();
  state("connected");
  const modelId = params.get("model");
  const nodes = await sdk.discoverNodes({ modelId });
  $("hosts").textContent = String(nodes.length);
  const job = await sdk.submitJobWithNegotiation({
    modelId,
    prompt: params.get("prompt"),
    maxTokens: Number(params.get("tokens")),
  });
  $("host").textContent = job.nodeId;
  state("streaming");
  let text = "";
  for await (const token of job) {
    text += token.content;
    $("text").textContent = text;
  }
  await sdk.stop();
  $("receipts").textContent = String(sdk.getReceipts().length);
  state("done");
} catch (e) {
  state("error", `${e.code ?? ""} ${e.message}`);
}
