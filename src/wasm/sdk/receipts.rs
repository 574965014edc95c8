//! `FabstirSDK.verifyReceipt`: checks a host's signed receipt from anywhere (issue 14), e.g. one
//! a page handed to its own server.

use super::*;
use crate::market::receipts::verify_envelope;
use fabstir_protocol::receipt::Receipt;

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// Verifies a receipt (a `Receipt` object as jobs give them, or its `envelope` string): the
    /// host's signature over it, that the host it names signed it, its own arithmetic, and that
    /// an object's fields are what was signed. Returns the verified receipt; throws
    /// `RECEIPT_INVALID`. It cannot know what the job delivered: a job checks that itself.
    #[wasm_bindgen(js_name = verifyReceipt, unchecked_return_type = "Receipt")]
    pub fn verify_receipt(
        #[wasm_bindgen(unchecked_param_type = "Receipt | string")] receipt: JsValue,
    ) -> Result<JsValue, JsValue> {
        let invalid = |reason: String| {
            to_js(SdkError::ReceiptInvalid {
                peer_id: String::new(),
                job_id: String::new(),
                reason,
            })
        };
        let verified = if let Some(envelope) = receipt.as_string() {
            verify_envelope(&envelope, None)
        } else if receipt.is_object() {
            let envelope = js_sys::Reflect::get(&receipt, &"envelope".into())
                .ok()
                .and_then(|e| e.as_string())
                .ok_or_else(|| invalid("it has no envelope string".into()))?;
            // The fields beside the envelope must be exactly a receipt's.
            let fields = js_sys::Object::assign(&js_sys::Object::new(), receipt.unchecked_ref());
            let _ = js_sys::Reflect::delete_property(&fields, &"envelope".into());
            let claimed: Receipt = serde_wasm_bindgen::from_value(fields.into())
                .map_err(|e| invalid(format!("its fields are not a receipt's: {e}")))?;
            verify_envelope(&envelope, Some(&claimed))
        } else {
            return Err(to_js(SdkError::argument(
                "receipt",
                "expected a Receipt object or its envelope string",
            )));
        };
        let verified = verified.map_err(to_js)?;
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        verified
            .serialize(&serializer)
            .map_err(|e| to_js(SdkError::Internal(e.to_string())))
    }
}
