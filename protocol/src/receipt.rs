//! Usage receipts (issue 14): what a host delivered for one job, signed with the host's identity
//! key, so the client, a payment contract or an auditor can check it with no code of ours.
//!
//! A receipt travels as a libp2p signed envelope (domain [`RECEIPT_DOMAIN`], payload type
//! [`RECEIPT_PAYLOAD_TYPE`]) whose payload is the [`Receipt`] as compact JSON, keys in the order
//! of the struct's fields; on a stream's last frame it is the envelope in base64. `docs/PROTOCOL.md`
//! ("Receipts") gives the signed bytes exactly.

use libp2p::core::SignedEnvelope;
use libp2p::identity::{Keypair, PeerId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::messages::MAX_MODEL_ID_LEN;

/// The signed envelope's domain separation string for receipts.
pub const RECEIPT_DOMAIN: &str = "fabstir-receipt";
/// The signed envelope's payload type for receipts.
pub const RECEIPT_PAYLOAD_TYPE: &[u8] = b"/fabstir/receipt/1";
/// The receipt format's version.
pub const RECEIPT_VERSION: u32 = 1;
/// The largest sealed receipt accepted, in bytes.
pub const MAX_RECEIPT_BYTES: usize = 2048;
/// The longest job id in a receipt, in bytes.
pub const MAX_JOB_ID_LEN: usize = 128;

/// What a host delivered for one job (or for its part of a failed-over one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receipt {
    /// [`RECEIPT_VERSION`].
    pub version: u32,
    /// The job's id on the host.
    pub job_id: String,
    /// The host's peer id; the envelope must be signed by this peer's key.
    pub host: String,
    /// The peer id of the client that accepted the job.
    pub client: String,
    /// The model that generated the output.
    pub model_id: String,
    /// Prompt tokens billed (as the backend counted them, or the host's estimate).
    pub prompt_tokens: u64,
    /// Tokens generated and sent.
    pub completion_tokens: u64,
    /// The agreed price per generated token.
    pub price_per_token: u64,
    /// The agreed price per prompt token.
    pub price_per_prompt_token: u64,
    /// `completionTokens × pricePerToken + promptTokens × pricePerPromptToken`.
    pub cost: u64,
    /// SHA-256 (lowercase hex) of the job request's frame payload exactly as the client sent it.
    pub request_sha256: String,
    /// SHA-256 (lowercase hex) of the output text: every token's content, in order, as UTF-8.
    pub output_sha256: String,
    /// When the job started (ms since the Unix epoch).
    pub started_at: u64,
    /// When it ended.
    pub ended_at: u64,
}

/// What the receiver of a receipt knows and checks it against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The host that streamed the job.
    pub host: PeerId,
    /// Its job id there.
    pub job_id: String,
    /// The receiver itself.
    pub client: PeerId,
    /// Tokens received from that host.
    pub completion_tokens: u64,
    /// [`sha256_hex`] of the text received from it; `None` when the receiver did not see the
    /// whole text (a stream it opened from a later token), which is then not checked.
    pub output_sha256: Option<String>,
    /// [`sha256_hex`] of the job request sent to it.
    pub request_sha256: String,
    /// The prices agreed with it, per generated and per prompt token.
    pub prices: (u64, u64),
}

/// Why a receipt was refused; [`ReceiptError::code`] is a stable short name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not a signed envelope of a receipt, or its payload is not a receipt.
    #[error("not a signed receipt: {0}")]
    Malformed(String),
    /// The signature does not verify.
    #[error("the receipt's signature does not verify")]
    BadSignature,
    /// Signed by another key than the host it names.
    #[error("the receipt names host {named} but is signed by {signer}")]
    WrongSigner {
        /// The host in the receipt.
        named: String,
        /// The peer id of the signing key.
        signer: String,
    },
    /// A field differs from what the receiver knows, or breaks a limit.
    #[error("the receipt's {field} is {got}, expected {expected}")]
    Mismatch {
        /// Which field.
        field: &'static str,
        /// What the receipt says.
        got: String,
        /// What it should say.
        expected: String,
    },
}

impl ReceiptError {
    /// A stable short name (debug events, metrics).
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptError::Malformed(_) => "malformed",
            ReceiptError::BadSignature => "bad_signature",
            ReceiptError::WrongSigner { .. } => "wrong_signer",
            ReceiptError::Mismatch { .. } => "mismatch",
        }
    }
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(2 * digest.len());
    for b in digest {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    hex
}

/// An incremental [`sha256_hex`] over an output's tokens.
#[derive(Clone, Default)]
pub struct OutputHash(Sha256);

impl OutputHash {
    /// Adds a token's content.
    pub fn update(&mut self, content: &str) {
        self.0.update(content.as_bytes());
    }

    /// The hash as lowercase hex.
    pub fn hex(&self) -> String {
        hex(&self.0.clone().finalize())
    }
}

/// Seals `receipt` in an envelope signed with `key` (the host's identity key).
pub fn seal(key: &Keypair, receipt: &Receipt) -> Result<Vec<u8>, ReceiptError> {
    let payload =
        serde_json::to_vec(receipt).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let envelope = SignedEnvelope::new(
        key,
        RECEIPT_DOMAIN.into(),
        RECEIPT_PAYLOAD_TYPE.to_vec(),
        payload,
    )
    .map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    Ok(envelope.into_protobuf_encoding())
}

/// [`seal`], in standard base64 as a stream's last frame carries it.
pub fn seal_base64(key: &Keypair, receipt: &Receipt) -> Result<String, ReceiptError> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.encode(seal(key, receipt)?))
}

/// [`open`] for a receipt in standard base64.
pub fn open_base64(text: &str) -> Result<Receipt, ReceiptError> {
    if text.len() > MAX_RECEIPT_BYTES * 4 / 3 + 4 {
        return Err(ReceiptError::Malformed(format!(
            "{} base64 characters, more than a receipt of {MAX_RECEIPT_BYTES} bytes",
            text.len()
        )));
    }
    let bytes = crate::b64::STANDARD
        .decode(text)
        .map_err(|e| ReceiptError::Malformed(format!("not base64: {e}")))?;
    open(&bytes)
}

/// Opens a sealed receipt: its size, signature, payload type, that the signer is the host it
/// names, its version, field limits, and that its cost is what its own counts and prices make.
/// What it says of the job is checked by [`check`].
pub fn open(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
    if bytes.len() > MAX_RECEIPT_BYTES {
        return Err(ReceiptError::Malformed(format!(
            "{} bytes, more than {MAX_RECEIPT_BYTES}",
            bytes.len()
        )));
    }
    let envelope = SignedEnvelope::from_protobuf_encoding(bytes)
        .map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let (payload, key) = envelope
        .payload_and_signing_key(RECEIPT_DOMAIN.into(), RECEIPT_PAYLOAD_TYPE)
        .map_err(|e| match e {
            libp2p::core::signed_envelope::ReadPayloadError::InvalidSignature => {
                ReceiptError::BadSignature
            }
            other => ReceiptError::Malformed(other.to_string()),
        })?;
    let receipt: Receipt =
        serde_json::from_slice(payload).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let signer = key.to_peer_id().to_string();
    if signer != receipt.host {
        return Err(ReceiptError::WrongSigner {
            named: receipt.host,
            signer,
        });
    }
    if receipt.version != RECEIPT_VERSION {
        return Err(mismatch("version", receipt.version, RECEIPT_VERSION));
    }
    if receipt.job_id.len() > MAX_JOB_ID_LEN || receipt.model_id.len() > MAX_MODEL_ID_LEN {
        return Err(ReceiptError::Malformed("jobId or modelId too long".into()));
    }
    let cost = receipt
        .completion_tokens
        .saturating_mul(receipt.price_per_token)
        .saturating_add(
            receipt
                .prompt_tokens
                .saturating_mul(receipt.price_per_prompt_token),
        );
    if receipt.cost != cost {
        return Err(mismatch("cost", receipt.cost, cost));
    }
    if receipt.ended_at < receipt.started_at {
        return Err(mismatch("endedAt", receipt.ended_at, receipt.started_at));
    }
    Ok(receipt)
}

/// Checks what an opened receipt says against what its receiver knows: host, job, client,
/// token count, hashes and prices.
pub fn check(receipt: &Receipt, expected: &Expected) -> Result<(), ReceiptError> {
    let host = expected.host.to_string();
    let client = expected.client.to_string();
    let output = expected.output_sha256.as_deref();
    let pairs: [(&'static str, &str, &str); 5] = [
        ("host", &receipt.host, &host),
        ("jobId", &receipt.job_id, &expected.job_id),
        ("client", &receipt.client, &client),
        (
            "outputSha256",
            &receipt.output_sha256,
            output.unwrap_or(&receipt.output_sha256),
        ),
        (
            "requestSha256",
            &receipt.request_sha256,
            &expected.request_sha256,
        ),
    ];
    for (field, got, want) in pairs {
        if got != want {
            return Err(mismatch(field, got, want));
        }
    }
    let numbers: [(&'static str, u64, u64); 3] = [
        (
            "completionTokens",
            receipt.completion_tokens,
            expected.completion_tokens,
        ),
        ("pricePerToken", receipt.price_per_token, expected.prices.0),
        (
            "pricePerPromptToken",
            receipt.price_per_prompt_token,
            expected.prices.1,
        ),
    ];
    for (field, got, want) in numbers {
        if got != want {
            return Err(mismatch(field, got, want));
        }
    }
    Ok(())
}

fn mismatch(field: &'static str, got: impl ToString, expected: impl ToString) -> ReceiptError {
    ReceiptError::Mismatch {
        field,
        got: got.to_string(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(host: &Keypair, client: PeerId) -> Receipt {
        Receipt {
            version: RECEIPT_VERSION,
            job_id: "job-1".into(),
            host: host.public().to_peer_id().to_string(),
            client: client.to_string(),
            model_id: "demo-1".into(),
            prompt_tokens: 7,
            completion_tokens: 3,
            price_per_token: 5,
            price_per_prompt_token: 1,
            cost: 22,
            request_sha256: sha256_hex(b"{}"),
            output_sha256: sha256_hex(b"a b c"),
            started_at: 10,
            ended_at: 20,
        }
    }

    fn expected(host: &Keypair, client: PeerId) -> Expected {
        Expected {
            host: host.public().to_peer_id(),
            job_id: "job-1".into(),
            client,
            completion_tokens: 3,
            output_sha256: Some(sha256_hex(b"a b c")),
            request_sha256: sha256_hex(b"{}"),
            prices: (5, 1),
        }
    }

    #[test]
    fn a_sealed_receipt_opens_and_checks() {
        let key = Keypair::generate_ed25519();
        let client = PeerId::random();
        let sealed = seal(&key, &receipt(&key, client)).unwrap();
        let opened = open(&sealed).unwrap();
        let text = seal_base64(&key, &receipt(&key, client)).unwrap();
        assert_eq!(open_base64(&text).unwrap(), opened);
        assert_eq!(open_base64("not base64!").unwrap_err().code(), "malformed");
        assert_eq!(opened, receipt(&key, client));
        check(&opened, &expected(&key, client)).unwrap();
        assert!(sealed.len() < MAX_RECEIPT_BYTES);
    }

    /// The receipt of docs/PROTOCOL.md's example, signed by the key from bytes 1..=32.
    fn documented() -> (Keypair, Receipt) {
        let key = Keypair::ed25519_from_bytes((1..=32).collect::<Vec<u8>>()).unwrap();
        let client = Keypair::ed25519_from_bytes((33..=64).collect::<Vec<u8>>()).unwrap();
        let request = br#"{"modelId":"demo-1","prompt":"Hello","maxTokens":3,"temperature":0.0,"topP":1.0,"maxPricePerToken":5}"#;
        let receipt = Receipt {
            version: RECEIPT_VERSION,
            job_id: "5fe54a665056d10ac4b01e58b4e93ad2".into(),
            host: key.public().to_peer_id().to_string(),
            client: client.public().to_peer_id().to_string(),
            model_id: "demo-1".into(),
            prompt_tokens: 5,
            completion_tokens: 3,
            price_per_token: 5,
            price_per_prompt_token: 1,
            cost: 20,
            request_sha256: sha256_hex(request),
            output_sha256: sha256_hex("Hi there!".as_bytes()),
            started_at: 1_796_000_000_000,
            ended_at: 1_796_000_000_812,
        };
        (key, receipt)
    }

    #[test]
    fn the_documented_example() {
        let (key, receipt) = documented();
        let sealed = seal_base64(&key, &receipt).unwrap();
        let payload = String::from_utf8(serde_json::to_vec(&receipt).unwrap()).unwrap();
        let docs = include_str!("../../docs/PROTOCOL.md");
        assert!(
            docs.contains(&sealed) && docs.contains(&payload),
            "docs/PROTOCOL.md must show the example's payload and envelope:\n{payload}\n{sealed}"
        );
        assert_eq!(open_base64(&sealed).unwrap(), receipt);
    }

    #[test]
    fn the_documented_hashes() {
        // docs/PROTOCOL.md's example: SHA-256 of the empty string and of "abc".
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut h = OutputHash::default();
        h.update("a");
        h.update("bc");
        assert_eq!(h.hex(), sha256_hex(b"abc"));
    }

    #[test]
    fn every_lie_is_refused_with_what_it_got_wrong() {
        let key = Keypair::generate_ed25519();
        let client = PeerId::random();
        let good = receipt(&key, client);
        let lies: [(&str, Receipt); 5] = [
            (
                "completionTokens",
                Receipt {
                    completion_tokens: 4,
                    cost: 27,
                    ..good.clone()
                },
            ),
            (
                "outputSha256",
                Receipt {
                    output_sha256: sha256_hex(b"x"),
                    ..good.clone()
                },
            ),
            (
                "client",
                Receipt {
                    client: PeerId::random().to_string(),
                    ..good.clone()
                },
            ),
            (
                "pricePerToken",
                Receipt {
                    price_per_token: 6,
                    cost: 25,
                    ..good.clone()
                },
            ),
            (
                "requestSha256",
                Receipt {
                    request_sha256: sha256_hex(b"[]"),
                    ..good.clone()
                },
            ),
        ];
        for (field, lie) in lies {
            let opened = open(&seal(&key, &lie).unwrap()).unwrap();
            match check(&opened, &expected(&key, client)) {
                Err(ReceiptError::Mismatch { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        // A cost its own numbers do not make.
        let wrong_cost = Receipt {
            cost: 1,
            ..good.clone()
        };
        let err = open(&seal(&key, &wrong_cost).unwrap()).unwrap_err();
        assert!(matches!(err, ReceiptError::Mismatch { field: "cost", .. }));
        // Not having seen the whole text, a receiver does not check its hash.
        let unseen = Expected {
            output_sha256: None,
            ..expected(&key, client)
        };
        let other_text = Receipt {
            output_sha256: sha256_hex(b"x"),
            ..good.clone()
        };
        check(&other_text, &unseen).unwrap();
        // Signed with a key that is not the named host's.
        let other = Keypair::generate_ed25519();
        let err = open(&seal(&other, &good).unwrap()).unwrap_err();
        assert_eq!(err.code(), "wrong_signer");
        // Altered after signing.
        let mut sealed = seal(&key, &good).unwrap();
        let at = sealed.windows(7).position(|w| w == b"\"cost\":").unwrap();
        sealed[at + 7] = b'3';
        assert_eq!(open(&sealed).unwrap_err().code(), "bad_signature");
        assert_eq!(open(b"\x00\x01").unwrap_err().code(), "malformed");
        assert_eq!(
            open(&vec![0; MAX_RECEIPT_BYTES + 1]).unwrap_err().code(),
            "malformed"
        );
    }
}
