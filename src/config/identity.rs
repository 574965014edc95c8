//! `identity`: which key (peer id) the SDK uses — a new one per instance (the default), one kept
//! in the page origin's IndexedDB across reloads (`persist: true`), or one the page gives (`key`).

use libp2p::identity::Keypair;
use serde::Deserialize;

use crate::error::SdkError;

/// `identity` as JavaScript writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityConfig {
    /// Keep the key (and what the SDK learnt about hosts, and the receipts it received) in the
    /// origin's IndexedDB, so the page has the same peer id after a reload.
    #[serde(default)]
    pub persist: bool,
    /// A private key to use: base64 of libp2p's protobuf encoding (what `fabstir-node init`
    /// writes to its key file, and js-libp2p's `privateKeyToProtobuf`). With `persist` it
    /// replaces the stored key.
    #[serde(default)]
    pub key: Option<String>,
}

/// A validated `identity`.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// Keep the key and the SDK's memory in IndexedDB.
    pub persist: bool,
    /// The page's own key, when it gave one.
    pub key: Option<Keypair>,
}

/// Keys longer than this are no libp2p key of a kind the SDK supports (an Ed25519 key's
/// encoding is 68 bytes; ECDSA and secp256k1 ones are smaller).
const MAX_KEY_CHARS: usize = 4096;

impl IdentityConfig {
    /// Decodes the key, if given; errors name `identity.key`.
    pub fn validate(self) -> Result<Identity, SdkError> {
        let key = match self.key {
            None => None,
            Some(text) => Some(decode_key(&text)?),
        };
        Ok(Identity {
            persist: self.persist,
            key,
        })
    }
}

/// A key from base64 (standard, padding optional) of its protobuf encoding.
pub fn decode_key(text: &str) -> Result<Keypair, SdkError> {
    let bad = |why: String| SdkError::config("identity.key", why);
    if text.len() > MAX_KEY_CHARS {
        return Err(bad(format!("{} characters is no key", text.len())));
    }
    let bytes = fabstir_protocol::b64::STANDARD_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .map_err(|e| bad(format!("not base64: {e}")))?;
    Keypair::from_protobuf_encoding(&bytes)
        .map_err(|e| bad(format!("not a libp2p private key (protobuf encoding): {e}")))
}

/// The key's protobuf encoding (what [`decode_key`] reads, without base64).
pub fn encode_key(key: &Keypair) -> Vec<u8> {
    // Only RSA keys cannot be encoded, and the SDK makes and reads Ed25519 ones.
    key.to_protobuf_encoding().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn a_key_round_trips_with_or_without_padding_and_bad_ones_name_the_field() {
        let key = Keypair::generate_ed25519();
        let text = base64::engine::general_purpose::STANDARD.encode(encode_key(&key));
        assert!(text.ends_with('='), "68 bytes pad: {text}");
        for t in [text.clone(), text.trim_end_matches('=').to_string()] {
            let id = IdentityConfig {
                persist: false,
                key: Some(t),
            };
            let got = id.validate().unwrap().key.unwrap();
            assert_eq!(got.public().to_peer_id(), key.public().to_peer_id());
        }
        for bad in ["", "not base64!", "AAAA", &"A".repeat(5000)] {
            let err = decode_key(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(err.to_string().contains("identity.key"), "{err}");
        }
    }
}
