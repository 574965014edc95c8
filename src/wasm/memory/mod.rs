//! `identity.persist` (issue 14): the SDK's key, and its memory of hosts and receipts
//! ([`crate::market::memory`]), kept in the page origin's IndexedDB (`idb.js`) across reloads.
//! The key is kept as its protobuf bytes under `identity`; the memory as text under
//! `memory/<peer id>`, written after each change (at most one write waiting).

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Promise, Uint8Array};
use libp2p::identity::Keypair;
use libp2p::PeerId;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::config::identity::encode_key;
use crate::error::SdkError;
use crate::market::Market;

#[wasm_bindgen(module = "/src/wasm/memory/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = keepKey)]
    fn keep_key(name: &str, fresh: &Uint8Array, replace: bool) -> Promise;
    #[wasm_bindgen(js_name = readKept)]
    fn read_kept(name: &str) -> Promise;
    #[wasm_bindgen(js_name = writeKept)]
    fn write_kept(name: &str, value: &JsValue) -> Promise;
}

/// What the page's IndexedDB said, as `STORAGE_FAILED`.
fn storage_error(e: JsValue) -> SdkError {
    let message = js_sys::Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "IndexedDB refused".into());
    SdkError::StorageFailed(message)
}

/// The origin's kept key: `given` stored in its place when the page gave one, else the kept one,
/// else a new one, kept from now on.
pub async fn kept_key(given: Option<Keypair>) -> Result<Keypair, SdkError> {
    let replace = given.is_some();
    let fresh = given.unwrap_or_else(Keypair::generate_ed25519);
    let bytes = Uint8Array::from(encode_key(&fresh).as_slice());
    let kept = JsFuture::from(keep_key("identity", &bytes, replace))
        .await
        .map_err(storage_error)?;
    let kept = Uint8Array::new(&kept).to_vec();
    Keypair::from_protobuf_encoding(&kept)
        .map_err(|e| SdkError::StorageFailed(format!("the kept identity is not a libp2p key: {e}")))
}

fn memory_name(me: PeerId) -> String {
    format!("memory/{me}")
}

/// The memory text kept for `me`, if any.
pub async fn kept_memory(me: PeerId) -> Result<Option<String>, SdkError> {
    let value = JsFuture::from(read_kept(&memory_name(me)))
        .await
        .map_err(storage_error)?;
    Ok(value.as_string())
}

/// Keeps `text` as the memory of `me`.
pub async fn keep_memory(me: PeerId, text: String) -> Result<(), SdkError> {
    JsFuture::from(write_kept(&memory_name(me), &text.into()))
        .await
        .map(drop)
        .map_err(storage_error)
}

/// Writes the market's memory for `me` after each poke on `changed`, until its sender is
/// dropped; a failed write is told as a `p2p:debug` event and tried again with the next change.
pub async fn keep_saving(market: Market, me: PeerId, mut changed: mpsc::Receiver<()>) {
    while changed.next().await.is_some() {
        let text = market.registry().memory().to_text();
        if let Err(e) = keep_memory(me, text).await {
            market
                .net()
                .debug("reliability", "warn", || format!("memory not kept: {e}"));
        }
    }
}
