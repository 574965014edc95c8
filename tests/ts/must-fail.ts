// Each line must be a type error; scripts/check-types.sh fails if tsc accepts any of them, so the
// public types stay precise (a wrong event payload or name is caught at compile time).
import { FabstirSDK, type Job } from "./pkg/fabstir_sdk.js";

declare const sdk: FabstirSDK;
declare const job: Job;
sdk.on("peer:connect", (e) => e.relayPeerId); // @expect-error peer:connect has no relayPeerId
sdk.on("peer:conect", () => {}); // @expect-error misspelt event name
sdk.on("stream:token", (e) => e.finishReason); // @expect-error stream:token has no finishReason
job.on("token", (t) => t.totalTokens); // @expect-error a token has no totalTokens
job.on("end", (e) => e.code); // @expect-error the end has no code
job.on("progress", () => {}); // @expect-error unknown job event
sdk.submitJobWithNegotiation({ modelId: "m", prompt: "p", maxTokenz: 3 }); // @expect-error unknown option
new FabstirSDK({ mode: "mock", p2pConfig: { bootstrapNodes: [] } }); // @expect-error no mock mode
new FabstirSDK({ debug: { subsystems: ["gossip"] }, p2pConfig: { bootstrapNodes: [] } }); // @expect-error unknown subsystem
sdk.submitJobWithRetry({ modelId: "m", prompt: "p" }, { retries: 3 }); // @expect-error unknown retry option
sdk.on("job:failover", (e) => e.nodeId); // @expect-error job:failover has fromNode/toNode, no nodeId
new FabstirSDK({ p2pConfig: { bootstrapNodes: [], security: { authenticate: "yes" } } }); // @expect-error authenticate is a function
sdk.getNodeReliability("p").circuit === "broken"; // @expect-error circuit is closed | open | half-open
sdk.chat.completions.create({ model: "m", messages: [{ role: "tool", content: "x" }] }); // @expect-error no tool messages
sdk.chat.completions.create({ model: "m", messages: [], tools: [] }); // @expect-error tools are not supported
sdk.submitJobWithNegotiation({ modelId: "m", prompt: "p", messages: [] }); // @expect-error prompt or messages, not both
sdk.chat.completions.create({ model: "m", messages: [], stream: true }).then((s) => s.choices); // @expect-error a stream is no completion
