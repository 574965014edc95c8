// A web app as a user would write it: the SDK comes from the installed npm package. The
// packaging test builds it twice, with Vite and with webpack 5.
import { init, FabstirSDK } from "fabstir-sdk";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const state = (s, text = s) => { $("state").dataset.state = s; $("state").textContent = text; };

try {
  await init();
  const sdk = new FabstirSDK({ p2pConfig: { bootstrapNodes: [params.get("bootstrap")] } });
  await sdk.start();
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
  state("done");
  await sdk.stop();
} catch (e) {
  state("error", `${e.code ?? ""} ${e.message}`);
}
