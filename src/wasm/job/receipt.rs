//! A job's receipts (issue 14): each host's, checked when its part of the job ends, kept on the
//! job and on its end.

use super::*;
use crate::market::receipts::{Part, VerifiedReceipt};

impl JobState {
    /// Checks `sealed`, the receipt of the host streaming the job now, which sent `host_tokens`
    /// tokens.
    fn check_receipt(&self, sealed: &str, host_tokens: u64) -> Result<VerifiedReceipt, SdkError> {
        let part = Part {
            host: self.node.get(),
            job_id: self.host_job_id.borrow().clone(),
            request_sha256: self.request_sha256.borrow().clone(),
            prices: self.prices.get(),
        };
        // The host's text is every token since the last failover; a stream opened from a later
        // token has not seen it all, and does not check its hash.
        let output = (self.resumed_from == 0).then(|| {
            let mut hash = fabstir_protocol::receipt::OutputHash::default();
            for t in self.tokens.borrow().iter().skip(self.offset.get() as usize) {
                hash.update(&t.content);
            }
            hash.hex()
        });
        part.verify(sealed, self.client.net().peer_id(), host_tokens, output)
    }

    /// The job's end with its last host's receipt checked (`RECEIPT_INVALID` when it fails) and
    /// every host's receipt on it.
    pub(super) fn with_receipts(&self, end: StreamEnd) -> Result<StreamEnd, SdkError> {
        match end.sealed_receipt.as_deref() {
            Some(sealed) => {
                let verified = self.check_receipt(sealed, end.total_tokens)?;
                self.keep(verified);
            }
            None => self.client.net().debug("stream", "warn", || {
                format!(
                    "job {}: the host {} sent no receipt",
                    self.job_id,
                    self.node.get()
                )
            }),
        }
        let receipts = self.receipts.borrow().clone();
        Ok(StreamEnd {
            receipt: receipts.last().cloned(),
            receipts,
            ..end
        })
    }

    /// The receipt a host sent with the error that handed the job on (`sealed`, for its
    /// `host_tokens` tokens): kept when it verifies; else the job goes on, and the host's
    /// failure is counted.
    pub(super) fn keep_handover_receipt(&self, sealed: Option<String>, host_tokens: u64) {
        let Some(sealed) = sealed else { return };
        match self.check_receipt(&sealed, host_tokens) {
            Ok(verified) => self.keep(verified),
            Err(e) => {
                self.client.net().debug("stream", "warn", || e.to_string());
                self.client.market().record_host_failure(self.node.get());
            }
        }
    }

    /// Keeps a verified receipt on the job and in the SDK's memory (`getReceipts()`).
    fn keep(&self, verified: VerifiedReceipt) {
        let market = self.client.market();
        market.registry().receipt_received(verified.clone());
        self.receipts.borrow_mut().push(verified);
    }

    /// Every host's verified receipt, as JS values.
    pub(super) fn receipts_js(&self) -> Vec<JsValue> {
        self.receipts.borrow().iter().map(receipt_to_js).collect()
    }
}

/// A verified receipt as JS sees it: the signed fields, with `envelope` beside them.
pub(crate) fn receipt_to_js(r: &VerifiedReceipt) -> JsValue {
    let value = to_plain(&r.receipt);
    let _ = js_sys::Reflect::set(&value, &"envelope".into(), &r.envelope.as_str().into());
    value
}

/// Puts `receipts` on `value` (an end event, a completion's `fabstir`) as `receipts` and, the
/// last, `receipt`; nothing when there are none.
pub(super) fn attach_receipts(value: &JsValue, receipts: &[VerifiedReceipt]) {
    let Some(last) = receipts.last() else { return };
    let all: js_sys::Array = receipts.iter().map(receipt_to_js).collect();
    let _ = js_sys::Reflect::set(value, &"receipts".into(), &all);
    let _ = js_sys::Reflect::set(value, &"receipt".into(), &receipt_to_js(last));
}
