//! The JavaScript binding: `FabstirSDK` and the conversions between JS values and the core's types.

mod emitter;
mod job;
mod js_error;
mod sdk;
mod types;

pub use job::{Job, JobTokens};
pub use sdk::FabstirSdk;

/// Reports Rust panics on the browser console instead of an opaque `unreachable` trap.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            web_sys::console::error_1(&format!("fabstir-sdk panicked: {info}").into());
        }));
    });
}
