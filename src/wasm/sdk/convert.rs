//! Page values read as JSON text: options objects deserialized strictly, field paths in errors.

use super::*;

/// Deserializes an options object strictly: unknown keys and bad values are
/// `INVALID_ARGUMENT` naming the field.
pub(super) fn options_from_js<T: serde::de::DeserializeOwned>(
    name: &str,
    value: JsValue,
) -> Result<T, JsValue> {
    let text = pretty_json(&value)
        .map_err(|e| to_js(SdkError::argument(name, format!("not a plain object: {e}"))))?;
    crate::config::strict::from_pretty(&text).map_err(|e| {
        let field = if e.path.is_empty() {
            name.to_string()
        } else {
            format!("{name}.{}", e.path)
        };
        to_js(SdkError::argument(field, e.message))
    })
}

/// A page's value as pretty JSON text, written by the browser's own `JSON.stringify(value, null,
/// 2)` (one key or element per line); `undefined` is `null`. Fails on what JSON cannot hold
/// (a `BigInt`, a cycle).
pub(super) fn pretty_json(value: &JsValue) -> Result<String, String> {
    if value.is_undefined() {
        return Ok("null".into());
    }
    js_sys::JSON::stringify_with_replacer_and_space(value, &JsValue::NULL, &JsValue::from(2))
        .map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map_or("JSON.stringify failed".into(), |e| {
                    String::from(e.message())
                })
        })?
        .as_string()
        .ok_or_else(|| "JSON.stringify gave nothing".into())
}
