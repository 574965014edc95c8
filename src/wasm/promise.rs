//! Promises of async methods, through one copy of wasm-bindgen's code.

use futures::future::LocalBoxFuture;
use js_sys::Promise;
use wasm_bindgen::JsValue;

/// `wasm_bindgen_futures::future_to_promise` for `future` boxed: its task and promise code is
/// generic over the future's type, and every method's future is a type of its own, so without
/// the box the wasm held a copy of that code per method (27 of them: 18.7 KB raw, 5.3 KB gzip
/// more than with it).
pub fn future_to_promise(
    future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
) -> Promise {
    let future: LocalBoxFuture<'static, Result<JsValue, JsValue>> = Box::pin(future);
    wasm_bindgen_futures::future_to_promise(future)
}
