//! Checking the hosts' signed receipts (issue 14): each host's part of a job ends with a receipt
//! that must verify against the host's key and say what this SDK saw: its own peer id as client,
//! the tokens and text it received from that host, the request it sent, the agreed prices.

use crate::error::SdkError;
use fabstir_protocol::receipt::{self, Expected, Receipt};
use libp2p::PeerId;

/// A receipt that verified: what it says, and the sealed envelope (base64) that proves it to a
/// third party. (JS sees the receipt's fields with `envelope` beside them.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// What the host signed.
    pub receipt: Receipt,
    /// The signed envelope (libp2p signed envelope, protobuf) in standard base64.
    pub envelope: String,
}

/// What the SDK knows of one host's part of a job, to check that host's receipt against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The host.
    pub host: PeerId,
    /// The job's id there.
    pub job_id: String,
    /// SHA-256 (hex) of the job request sent to it; empty when not known (then not checked).
    pub request_sha256: String,
    /// The prices agreed with it.
    pub prices: (u64, u64),
}

impl Part {
    /// Checks `sealed` (the host's receipt, base64) against this part, received by `client`:
    /// `tokens` from the host, whose text hashes to `output_sha256` (`None`: the text was not
    /// all seen here).
    pub fn verify(
        &self,
        sealed: &str,
        client: PeerId,
        tokens: u64,
        output_sha256: Option<String>,
    ) -> Result<VerifiedReceipt, SdkError> {
        let invalid = |e: receipt::ReceiptError| SdkError::ReceiptInvalid {
            peer_id: self.host.to_string(),
            job_id: self.job_id.clone(),
            reason: e.to_string(),
        };
        let opened = receipt::open_base64(sealed).map_err(invalid)?;
        let expected = Expected {
            host: self.host,
            job_id: self.job_id.clone(),
            client,
            completion_tokens: tokens,
            output_sha256,
            request_sha256: if self.request_sha256.is_empty() {
                opened.request_sha256.clone()
            } else {
                self.request_sha256.clone()
            },
            prices: self.prices,
        };
        receipt::check(&opened, &expected).map_err(invalid)?;
        Ok(VerifiedReceipt {
            receipt: opened,
            envelope: sealed.to_string(),
        })
    }
}

/// Verifies a receipt from anywhere (`FabstirSDK.verifyReceipt`): the envelope's signature by
/// the host it names and its own arithmetic.
pub fn verify_envelope(envelope: &str) -> Result<VerifiedReceipt, SdkError> {
    let opened = receipt::open_base64(envelope).map_err(|e| SdkError::ReceiptInvalid {
        peer_id: String::new(),
        job_id: String::new(),
        reason: e.to_string(),
    })?;
    Ok(VerifiedReceipt {
        receipt: opened,
        envelope: envelope.to_string(),
    })
}

/// The SHA-256 (hex) that receipts name a job request by: of its frame payload as sent.
pub fn request_sha256(request: &fabstir_protocol::messages::JobRequest) -> String {
    match fabstir_protocol::frame::encode(request) {
        Ok(frame) => receipt::sha256_hex(frame.get(4..).unwrap_or_default()),
        // Too large to send anyway.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::identity::Keypair;

    #[test]
    fn a_hosts_receipt_verifies_and_every_lie_is_receipt_invalid() {
        let host = Keypair::generate_ed25519();
        let client = PeerId::random();
        let part = Part {
            host: host.public().to_peer_id(),
            job_id: "j".into(),
            request_sha256: receipt::sha256_hex(b"req"),
            prices: (2, 0),
        };
        let signed = Receipt {
            version: receipt::RECEIPT_VERSION,
            job_id: "j".into(),
            host: part.host.to_string(),
            client: client.to_string(),
            model_id: "m".into(),
            prompt_tokens: 4,
            completion_tokens: 2,
            price_per_token: 2,
            price_per_prompt_token: 0,
            cost: 4,
            request_sha256: part.request_sha256.clone(),
            output_sha256: receipt::sha256_hex(b"ab"),
            started_at: 1,
            ended_at: 2,
        };
        let sealed = receipt::seal_base64(&host, &signed).unwrap();
        let output = Some(receipt::sha256_hex(b"ab"));
        let ok = part.verify(&sealed, client, 2, output.clone()).unwrap();
        assert_eq!(ok.receipt, signed);
        let err = part.verify(&sealed, client, 3, output.clone()).unwrap_err();
        assert_eq!(err.code(), "RECEIPT_INVALID");
        assert!(err.to_string().contains("completionTokens"), "{err}");
        let err = part
            .verify(&sealed, PeerId::random(), 2, output)
            .unwrap_err();
        assert!(err.to_string().contains("client"), "{err}");

        assert_eq!(verify_envelope(&sealed).unwrap(), ok);
        assert_eq!(
            verify_envelope("AAAA").unwrap_err().code(),
            "RECEIPT_INVALID"
        );
    }
}
