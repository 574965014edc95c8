// Our chat types against the `openai` package's own (installed next to this file by
// scripts/check-types.sh, pinned in package-lock.json): what we yield is assignable to its
// ChatCompletionChunk / ChatCompletion, and an object literal of its ChatCompletionCreateParams
// (the supported subset) is accepted by our create().
import type OpenAI from "openai";
import { FabstirSDK, type ChatCompletion, type ChatCompletionChunk, type ModelList } from "./pkg/fabstir_sdk.js";

declare const sdk: FabstirSDK;
declare const ours: ChatCompletionChunk;
declare const done: ChatCompletion;

export const chunk: OpenAI.Chat.Completions.ChatCompletionChunk = ours;
export const completion: OpenAI.Chat.Completions.ChatCompletion = done;
// models.list(): each entry is an openai Model.
declare const models: ModelList;
export const model: OpenAI.Models.Model = models.data[0]!;

const streaming = {
  model: "tiny-llama",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "developer", content: "Answer in English." },
    { role: "user", content: [{ type: "text", text: "Hi" }] },
    { role: "assistant", content: "Hello." },
    { role: "user", content: "More" },
  ],
  max_tokens: 64,
  temperature: 0,
  top_p: 0.9,
  stop: ["\n"],
  seed: 7,
  presence_penalty: 0.1,
  frequency_penalty: 0.1,
  n: 1,
  stream: true,
  stream_options: { include_usage: true },
} satisfies OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;

const whole = {
  model: "tiny-llama",
  messages: [{ role: "user", content: "Hi" }],
  max_completion_tokens: 16,
  stop: "\n",
} satisfies OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

export async function run(): Promise<void> {
  const stream = await sdk.chat.completions.create(streaming);
  for await (const c of stream) {
    const theirs: OpenAI.Chat.Completions.ChatCompletionChunk = c;
    console.log(theirs.choices[0]?.delta.content);
  }
  const answer: OpenAI.Chat.Completions.ChatCompletion = await sdk.chat.completions.create(whole);
  console.log(answer.choices[0].message.content);
}
