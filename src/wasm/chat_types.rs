//! TypeScript declarations of `sdk.chat.completions`: the `openai` package's chat shapes (the
//! subset we serve) and our `fabstir` additions. `scripts/check-types.sh` proves them assignable
//! to and from the `openai` package's own types.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CHAT_TYPES: &'static str = r#"
/** A message of `chat.completions.create`: text content (a string or text parts). `developer` is taken as `system`. */
export type ChatCompletionMessageParam =
  | { role: "system" | "developer" | "user" | "assistant"; content: string | readonly ChatCompletionContentPartText[] };

export interface ChatCompletionContentPartText { type: "text"; text: string }

/** Our own choices for one completion. */
export interface FabstirChatOptions {
  /** The highest price per generated token accepted. */
  maxPrice?: number;
  /** The highest price per prompt token accepted. */
  maxPromptPrice?: number;
  preferredNodes?: string[];
  excludeNodes?: string[];
  /** Retry negotiation as `submitJobWithRetry` does: true (its defaults) or its options. */
  retry?: boolean | RetryOptions;
}

/** The `openai` package's `ChatCompletionCreateParams`, the subset we serve. Any other parameter is INVALID_ARGUMENT. */
export interface ChatCompletionCreateParamsBase {
  model: string;
  messages: readonly ChatCompletionMessageParam[];
  /** Default 256; at most the host's limit for the model. */
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  /** 0..2. Default 1. */
  temperature?: number | null;
  /** (0, 1]. Default 1. */
  top_p?: number | null;
  /** Up to 4. */
  stop?: string | string[] | null;
  /** 0..4294967295. */
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  /** Only 1; another number is INVALID_ARGUMENT. */
  n?: number | null;
  fabstir?: FabstirChatOptions;
}

export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
  stream_options?: { include_usage?: boolean } | null;
}

export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}

/** `create`'s second argument. */
export interface ChatRequestOptions {
  /** Aborting cancels the job on its host; the call or the stream rejects with CANCELLED. */
  signal?: AbortSignal;
}

/** Which host served a completion, at what prices; `cost` (every host's part together) once it ended. */
export interface FabstirServed {
  jobId: string;
  nodeId: string;
  pricePerToken: number;
  pricePerPromptToken: number;
  cost: number | null;
  /** The host's model server reported no prompt-token count; the host counted by rule. */
  promptEstimated: boolean;
  /** Hosts the job moved to after a failure. */
  failovers: number;
  /** Every host's verified receipt, on the last chunk and the completion. */
  receipts?: Receipt[];
}

export interface CompletionUsage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

/** The `openai` package's `ChatCompletionChunk`. `fabstir` is on the first and last chunks with a choice. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: "assistant"; content?: string };
    logprobs: null;
    finish_reason: "stop" | "length" | null;
  }>;
  /** Only in the last chunk, with `stream_options.include_usage` (then `choices` is empty); absent when the host reported no usage. */
  usage?: CompletionUsage;
  fabstir?: FabstirServed;
}

/** The `openai` package's `ChatCompletion`. */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string; refusal: null };
    logprobs: null;
    finish_reason: "stop" | "length";
  }>;
  /** Absent when the host reported no usage. */
  usage?: CompletionUsage;
  fabstir: FabstirServed;
}

export interface Completions {
  /** A streamed answer: `for await (const chunk of stream)`. */
  create(params: ChatCompletionCreateParamsStreaming, options?: ChatRequestOptions): Promise<ChatStream>;
  /** The whole answer once it is complete. */
  create(params: ChatCompletionCreateParamsNonStreaming, options?: ChatRequestOptions): Promise<ChatCompletion>;
}

export interface ChatStream {
  [Symbol.asyncIterator](): AsyncIterableIterator<ChatCompletionChunk>;
}
"#;
