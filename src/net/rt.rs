//! Runtime shims: spawning, sleeping and timeouts on the browser's event loop or on tokio.

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};

/// Runs `fut` in the background on the current runtime.
#[cfg(target_arch = "wasm32")]
pub fn spawn(fut: impl Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(fut);
}

/// Runs `fut` in the background on the current runtime.
#[cfg(not(target_arch = "wasm32"))]
pub fn spawn(fut: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(fut);
}

/// A WebSocket's or data channel's message as bytes, or `None` for a text message (a string):
/// libp2p's browser transports carry binary messages only, and a string made into a
/// `Uint8Array` is not the remote's bytes (`new Uint8Array("100")` is 100 zero bytes). The
/// socket or channel must have `binaryType = "arraybuffer"`.
#[cfg(target_arch = "wasm32")]
pub fn binary(data: &wasm_bindgen::JsValue) -> Option<js_sys::Uint8Array> {
    use wasm_bindgen::JsCast;
    data.dyn_ref::<js_sys::ArrayBuffer>()
        .map(|buffer| js_sys::Uint8Array::new(buffer))
}

/// A JavaScript value as text for an error message: an `Error`'s (or `DOMException`'s)
/// `toString()` (`name: message`), a string as itself, anything else as JSON. Not `{:?}`:
/// `JsValue`'s `Debug` brings wasm-bindgen's `debugString` helper into the package's JavaScript.
#[cfg(target_arch = "wasm32")]
pub fn js_text(value: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    match value.dyn_ref::<js_sys::Error>() {
        Some(e) => e.to_string().into(),
        None => value
            .as_string()
            .or_else(|| js_sys::JSON::stringify(value).ok()?.as_string())
            .unwrap_or_else(|| "a JavaScript value that cannot be shown".into()),
    }
}

/// Waits for `duration`.
#[cfg(target_arch = "wasm32")]
pub async fn sleep(duration: Duration) {
    gloo_timers::future::sleep(duration).await;
}

/// Waits for `duration`.
#[cfg(not(target_arch = "wasm32"))]
pub async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// A [`sleep`] that can be kept (in a struct) and polled again and again (e.g. in a `select!`).
#[cfg(target_arch = "wasm32")]
pub type Sleep = futures::future::LocalBoxFuture<'static, ()>;

/// A [`sleep`] that can be kept (in a struct) and polled again and again (e.g. in a `select!`).
#[cfg(not(target_arch = "wasm32"))]
pub type Sleep = futures::future::BoxFuture<'static, ()>;

/// A [`Sleep`] of `duration`.
pub fn sleep_boxed(duration: Duration) -> Sleep {
    Box::pin(sleep(duration))
}

/// Lets the page run what this task set going before it goes on: the tasks it woke, and the
/// promise reactions those queue (e.g. a `for await` loop taking its next token), then this
/// task again. It waits on an already resolved promise, whose reaction wakes it behind them:
/// a microtask, no timer, no task of the browser's in between.
#[cfg(target_arch = "wasm32")]
#[inline(never)]
pub fn yield_to_page() -> wasm_bindgen_futures::JsFuture {
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(
        &wasm_bindgen::JsValue::UNDEFINED,
    ))
}

/// Runs `fut` for at most `limit`; `None` when the limit was reached first.
pub async fn timeout<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let timer = std::pin::pin!(sleep(limit));
    match select(fut, timer).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(((), _)) => None,
    }
}

/// Like [`timeout`], but also polls `fut` again every `tick`.
///
/// A libp2p stream on a connection that closed is not always woken (seen with yamux streams
/// after a local `disconnect`: the read only noticed when the stall timeout polled it again,
/// 30 s later). Polling again on a tick bounds how long such a stream goes unnoticed; `fut` is
/// kept across ticks, so no partly read data is lost.
pub async fn timeout_polling<T>(
    limit: Duration,
    tick: Duration,
    fut: impl Future<Output = T>,
) -> Option<T> {
    let mut fut = std::pin::pin!(fut);
    // Most reads of a busy stream complete at once: skip arming a timer for them (in a browser,
    // a timer is a setTimeout and a clearTimeout call into JavaScript).
    if let std::task::Poll::Ready(value) = futures::poll!(fut.as_mut()) {
        return Some(value);
    }
    let started = web_time::Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            return None;
        }
        let timer = std::pin::pin!(sleep(left.min(tick)));
        match select(fut.as_mut(), timer).await {
            Either::Left((value, _)) => return Some(value),
            Either::Right(((), _)) => {}
        }
    }
}

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()` counts them.
pub fn now_ms() -> f64 {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// A random number in [0, 1), for jitter (not for anything secret).
#[cfg(target_arch = "wasm32")]
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// A random number in [0, 1), for jitter (not for anything secret).
#[cfg(not(target_arch = "wasm32"))]
pub fn random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}
