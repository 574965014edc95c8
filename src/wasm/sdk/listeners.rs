//! `on(name, cb)` / `off(name, cb)`; a `catalog:update` listener also starts watching the
//! bootstrap nodes' catalogs (now if the SDK runs, else when it has started).

use super::*;

/// The event whose first listener starts the catalog watch.
pub(super) const CATALOG_UPDATE: &str = "catalog:update";

/// Starts the catalog watch when the SDK runs and someone listens to `catalog:update`.
pub(super) fn watch_if_listened(inner: &Shared) {
    if !inner.emitter.listens(CATALOG_UPDATE) {
        return;
    }
    if let State::Running(client) = &*inner.state.borrow() {
        client.market().watch_catalog();
    }
}

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// Calls `callback` with each event named `name`; returns a function that unsubscribes.
    /// (Typed generically per event name in the `FabstirSDK` interface of `types.rs`.)
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, name: String, callback: Function) -> Result<JsValue, JsValue> {
        self.inner
            .emitter
            .on(&name, callback.clone())
            .map_err(to_js)?;
        if name == CATALOG_UPDATE {
            watch_if_listened(&self.inner);
        }
        let emitter = self.inner.emitter.clone();
        let unsubscribe = Closure::once_into_js(move || {
            let _ = emitter.off(&name, &callback);
        });
        Ok(unsubscribe)
    }

    /// Removes a callback added with `on`.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, name: String, callback: Function) -> Result<(), JsValue> {
        self.inner.emitter.off(&name, &callback).map_err(to_js)
    }
}
