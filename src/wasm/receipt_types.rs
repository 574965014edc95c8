//! TypeScript declaration of a host's signed receipt (issue 14), as `Job.receipt`, the end event,
//! the chat shapes' `fabstir.receipts` and `FabstirSDK.verifyReceipt` give it.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const RECEIPT_TYPES: &'static str = r#"
/** A host's signed account of one job (or its part of a failed-over one); docs/PROTOCOL.md, "Receipts". */
export interface Receipt {
  version: number; jobId: string;
  /** The host's peer id; it signed the receipt. */
  host: string;
  /** The client's peer id (this SDK's `getPeerId()`). */
  client: string;
  modelId: string; promptTokens: number; completionTokens: number;
  pricePerToken: number; pricePerPromptToken: number;
  /** completionTokens × pricePerToken + promptTokens × pricePerPromptToken. */
  cost: number;
  /** SHA-256 (hex) of the job request as the client sent it. */
  requestSha256: string;
  /** SHA-256 (hex) of the output text the host sent. */
  outputSha256: string;
  startedAt: number; endedAt: number;
  /** The signed envelope (base64): what a third party verifies. */
  envelope: string;
}
"#;
