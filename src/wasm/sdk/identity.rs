//! The SDK's identity and memory (issue 14): `getPeerId`, `getReceipts`, and what `start()` and
//! `stop()` do with the kept key and memory (`identity.persist`, see [`crate::wasm::memory`]).

use super::*;
use crate::market::memory::Memory;
use crate::wasm::job::receipt_to_js;
use crate::wasm::memory;

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// Our peer id (stable for the lifetime of this object; with `identity.persist`, for the
    /// origin). With `persist` and no `identity.key` it is known once `start()` read it: before
    /// that this throws `NOT_STARTED`.
    #[wasm_bindgen(js_name = getPeerId)]
    pub fn get_peer_id(&self) -> Result<String, JsValue> {
        match &*self.inner.key.borrow() {
            Some(key) => Ok(key.public().to_peer_id().to_string()),
            None => Err(to_js(SdkError::NotStarted)),
        }
    }

    /// The receipts this SDK received and verified, oldest first: this object's (and, with
    /// `identity.persist`, earlier pages' of this origin), the newest 256.
    #[wasm_bindgen(js_name = getReceipts, unchecked_return_type = "Receipt[]")]
    pub fn get_receipts(&self) -> js_sys::Array {
        let to_js =
            |receipts: &std::collections::VecDeque<_>| receipts.iter().map(receipt_to_js).collect();
        match self.inner.client() {
            Ok(client) => to_js(client.market().registry().receipts()),
            Err(_) => to_js(&self.inner.memory.borrow().receipts),
        }
    }
}

impl Shared {
    /// The key to start with: with `identity.persist`, read from (or made and kept in) the
    /// origin's IndexedDB on the first start, with the memory kept for it. `Err` is what the
    /// memory's text could not be read for (it is then dropped), to tell once the client runs.
    pub(super) async fn key_for_start(&self) -> Result<(Keypair, Option<String>), SdkError> {
        if self.loaded.get() {
            if let Some(key) = self.key.borrow().clone() {
                return Ok((key, None));
            }
        }
        let key = memory::kept_key(self.config.identity.key.clone()).await?;
        let me = key.public().to_peer_id();
        let mut unread = None;
        if let Some(text) = memory::kept_memory(me).await? {
            match Memory::from_text(&text, me) {
                Ok(kept) => *self.memory.borrow_mut() = kept,
                Err(e) => unread = Some(format!("the kept memory of {me} was dropped: {e}")),
            }
        }
        *self.key.borrow_mut() = Some(key.clone());
        self.loaded.set(true);
        Ok((key, unread))
    }

    /// Hands the memory to a new client and, with `identity.persist`, keeps it saved.
    pub(super) fn recall(&self, client: &Client, unread: Option<String>) {
        if let Some(message) = unread {
            client.net().debug("reliability", "warn", || message);
        }
        let mut registry = client.market().registry();
        registry.recall(self.memory.borrow().clone());
        if self.config.identity.persist {
            let (changed, saves) = mpsc::channel(1);
            registry.on_change(changed);
            let me = client.net().peer_id();
            rt::spawn(memory::keep_saving(client.market().clone(), me, saves));
        }
    }

    /// Takes the memory back from a stopping client (its saver, if any, ends) and, with
    /// `identity.persist`, keeps it; a failure is told as a `p2p:debug` event.
    pub(super) async fn remember(&self, client: &Client) {
        let memory = {
            let mut registry = client.market().registry();
            registry.stop_telling();
            registry.memory()
        };
        let text = self.config.identity.persist.then(|| memory.to_text());
        *self.memory.borrow_mut() = memory;
        if let Some(text) = text {
            if let Err(e) = memory::keep_memory(client.net().peer_id(), text).await {
                client
                    .net()
                    .debug("reliability", "warn", || format!("memory not kept: {e}"));
            }
        }
    }
}
