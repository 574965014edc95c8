//! The JavaScript binding: `FabstirSDK` and the conversions between JS values and the core's types.

mod authenticate;
mod catalog_types;
mod chat_types;
mod diagnostics_types;
mod emitter;
mod identity_types;
mod job;
mod js_error;
mod memory;
mod promise;
mod receipt_types;
mod sdk;
mod types;

pub use job::{ChatStream, Job, JobTokens};
pub use sdk::FabstirSdk;

thread_local! {
    /// Every live SDK instance's emitter, told of a panic.
    static EMITTERS: std::cell::RefCell<Vec<std::rc::Weak<emitter::Emitter>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Reports Rust panics instead of an opaque `unreachable` trap: on the browser console, and to
/// every SDK instance's `error:p2p` listeners with code `INTERNAL`. (A panic is a bug: nothing a
/// peer or the page sends should cause one.)
fn install_panic_hook(emitter: &std::rc::Rc<emitter::Emitter>) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = format!("fabstir-sdk panicked: {info}");
            web_sys::console::error_1(&message.as_str().into());
            // The panic may have happened while a list was borrowed: never borrow twice here.
            let emitters: Vec<_> =
                EMITTERS.with(|list| list.try_borrow().map(|l| l.clone()).unwrap_or_default());
            for emitter in emitters.iter().filter_map(std::rc::Weak::upgrade) {
                emitter.emit_panic(&message);
            }
        }));
    });
    EMITTERS.with(|list| {
        if let Ok(mut list) = list.try_borrow_mut() {
            list.retain(|e| e.strong_count() > 0);
            list.push(std::rc::Rc::downgrade(emitter));
        }
    });
}
