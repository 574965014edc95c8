//! TypeScript declaration of `identity` (issue 14), the config's key and its persistence.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const IDENTITY_TYPES: &'static str = r#"
/** `identity`: a peer id that lasts, so hosts can allow or block the page by it. */
export interface IdentityConfig {
  /** Keep the key in this origin's IndexedDB (and with it what the SDK learnt of hosts'
   *  reliability and the receipts it received, bounded): the same peer id after a reload.
   *  Loaded by `start()`, which rejects with STORAGE_FAILED when IndexedDB cannot be used.
   *  Every tab of the origin shares it. Default false. */
  persist?: boolean;
  /** A private key to use: base64 of libp2p's protobuf encoding (a `fabstir-node init` key
   *  file, or js-libp2p's `privateKeyToProtobuf`). With `persist` it replaces the stored key. */
  key?: string;
}
"#;
