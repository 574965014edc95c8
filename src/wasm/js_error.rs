//! `SdkError` → a JavaScript `Error` named `FabstirError` with a stable `code` property.

use wasm_bindgen::JsValue;

use crate::error::SdkError;

/// Builds the `Error` a rejected promise or a throwing method hands to JavaScript.
pub fn to_js(error: SdkError) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("FabstirError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
    js.into()
}
