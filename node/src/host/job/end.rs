//! How a job ends: its end frame (or an error frame), its usage as billed, and the receipt the host signs of it
//! (docs/PROTOCOL.md, "Receipts").

use fabstir_protocol::chat::Usage;
use fabstir_protocol::messages::{FinishReason, StreamFrame};
use fabstir_protocol::receipt::{self, OutputHash, Receipt};

use super::Job;

impl Job {
    /// The end frame: `usage` as the backend reported it, else the tokens sent and the
    /// estimated prompt; the cost from that usage; the signed receipt.
    pub(super) fn end_frame(
        &self,
        finish_reason: FinishReason,
        usage: Option<Usage>,
    ) -> StreamFrame {
        let usage = self.usage(usage);
        let t = &self.terms;
        StreamFrame::End {
            total_tokens: usage.completion_tokens,
            duration: self.started.elapsed().as_millis() as u64,
            finish_reason,
            usage: Some(usage),
            cost: Some(usage.cost(t.price_per_token, t.price_per_prompt_token)),
            receipt: self.receipt(Some(usage)),
        }
    }

    /// An error frame that ends the started job, with the signed receipt of the tokens sent.
    pub(super) fn error_frame(
        &self,
        code: &str,
        message: String,
        recoverable: bool,
    ) -> StreamFrame {
        StreamFrame::Error {
            code: code.into(),
            message,
            recoverable,
            receipt: self.receipt(None),
        }
    }

    /// `usage` as the backend reported it, else the tokens generated and the estimated prompt.
    fn usage(&self, usage: Option<Usage>) -> Usage {
        let generated = self.output().tokens.len() as u64;
        match usage {
            // The tokens sent are what the client counts, whatever the backend says.
            Some(u) => Usage {
                completion_tokens: generated,
                ..u
            },
            None => Usage {
                prompt_tokens: self.terms.prompt_estimate,
                completion_tokens: generated,
                prompt_estimated: true,
            },
        }
    }

    /// The job's receipt for the tokens generated so far, sealed and in base64; `None` only
    /// if signing failed (logged).
    pub(super) fn receipt(&self, usage: Option<Usage>) -> Option<String> {
        let usage = self.usage(usage);
        let mut output = OutputHash::default();
        for (content, _) in &self.output().tokens {
            output.update(content);
        }
        let t = &self.terms;
        let signed = Receipt {
            version: receipt::RECEIPT_VERSION,
            job_id: self.id.clone(),
            host: self.key.public().to_peer_id().to_string(),
            client: self.owner.to_string(),
            model_id: self.model_id.clone(),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            price_per_token: t.price_per_token,
            price_per_prompt_token: t.price_per_prompt_token,
            cost: usage.cost(t.price_per_token, t.price_per_prompt_token),
            request_sha256: t.request_sha256.clone(),
            output_sha256: output.hex(),
            started_at: self.started_at,
            ended_at: crate::host::unix_ms().max(self.started_at),
        };
        receipt::seal_base64(&self.key, &signed)
            .inspect_err(|e| tracing::error!(job = %self.id, "cannot sign the receipt: {e}"))
            .ok()
    }
}
