//! `FabstirSDK.verifyReceipt`: checks a host's signed receipt from anywhere (issue 14), e.g. one
//! a page handed to its own server.

use super::*;
use crate::market::receipts::verify_envelope;
use crate::wasm::job::receipt_to_js;

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// Verifies a receipt (a `Receipt` object as jobs give them, or its `envelope` string): the
    /// host's signature over it, that the host it names signed it, its own arithmetic, and that
    /// an object's fields are exactly what was signed. Returns the verified receipt; throws
    /// `RECEIPT_INVALID`. It cannot know what the job delivered: a job checks that itself.
    #[wasm_bindgen(js_name = verifyReceipt, unchecked_return_type = "Receipt")]
    pub fn verify_receipt(
        #[wasm_bindgen(unchecked_param_type = "Receipt | string")] receipt: JsValue,
    ) -> Result<JsValue, JsValue> {
        let invalid = |reason: &str| {
            to_js(SdkError::ReceiptInvalid {
                peer_id: String::new(),
                job_id: String::new(),
                reason: reason.into(),
            })
        };
        let envelope = match receipt.as_string() {
            Some(envelope) => envelope,
            None if receipt.is_object() => js_sys::Reflect::get(&receipt, &"envelope".into())
                .ok()
                .and_then(|e| e.as_string())
                .ok_or_else(|| invalid("it has no envelope string"))?,
            None => {
                return Err(to_js(SdkError::argument(
                    "receipt",
                    "expected a Receipt object or its envelope string",
                )))
            }
        };
        let verified = receipt_to_js(&verify_envelope(&envelope).map_err(to_js)?);
        if receipt.is_object() && !same_fields(&receipt, &verified) {
            return Err(invalid("its fields differ from what its host signed"));
        }
        Ok(verified)
    }
}

/// Whether `claimed` has exactly the keys of `signed`, each with the same value.
fn same_fields(claimed: &JsValue, signed: &JsValue) -> bool {
    let keys = js_sys::Object::keys(signed.unchecked_ref());
    let claimed_keys = js_sys::Object::keys(claimed.unchecked_ref());
    keys.length() == claimed_keys.length()
        && keys.iter().all(|key| {
            let (a, b) = (
                js_sys::Reflect::get(claimed, &key).unwrap_or(JsValue::UNDEFINED),
                js_sys::Reflect::get(signed, &key).unwrap_or(JsValue::NULL),
            );
            js_sys::Object::is(&a, &b)
        })
}
