//! One host's announcement, sealed in a signed envelope and opened with every check a receiver
//! makes: size, signature, payload type, that the signer is the host it names, expiry bounds
//! and field limits.

use libp2p::core::SignedEnvelope;
use libp2p::identity::{Keypair, PeerId};
use serde::{Deserialize, Serialize};

use super::{
    ENVELOPE_DOMAIN, MAX_ADDRESSES, MAX_ADDRESS_LEN, MAX_ANNOUNCEMENT_BYTES, MAX_MODELS,
    MAX_TTL_MS, PAYLOAD_TYPE,
};
use crate::messages::{ModelInfo, MAX_MODEL_ID_LEN};

/// What a host tells the network about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Announcement {
    /// The host's peer id; the envelope must be signed by this peer's key.
    pub peer_id: String,
    /// The addresses a client should dial (`/p2p-circuit` ones for a relayed host).
    pub addresses: Vec<String>,
    /// The models it serves, with their prices and limits.
    pub models: Vec<ModelInfo>,
    /// Jobs it runs at once.
    pub max_concurrent_jobs: u32,
    /// Jobs running now.
    pub current_load: u32,
    /// The host's software version.
    pub version: String,
    /// Grows with every announcement of this host; an older one never replaces a newer one.
    pub seq: u64,
    /// When it stops counting, in ms since the Unix epoch.
    pub expires_at: u64,
}

/// Why an announcement was refused; [`CatalogError::code`] is a stable name for metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Larger than [`MAX_ANNOUNCEMENT_BYTES`].
    #[error("announcement of {0} bytes is larger than {MAX_ANNOUNCEMENT_BYTES}")]
    TooLarge(usize),
    /// Not a signed envelope, or not one of ours.
    #[error("not a signed host announcement: {0}")]
    Malformed(String),
    /// The signature does not verify.
    #[error("the announcement's signature does not verify")]
    BadSignature,
    /// Signed by another key than the host it names.
    #[error("the announcement names {named} but is signed by {signer}")]
    WrongSigner {
        /// The peer id in the announcement.
        named: String,
        /// The peer id of the signing key.
        signer: String,
    },
    /// Expired, or expiring further ahead than [`MAX_TTL_MS`].
    #[error("the announcement expires at {expires_at}, outside ({now}, {now} + {MAX_TTL_MS}]")]
    Expiry {
        /// Its expiry.
        expires_at: u64,
        /// The receiver's clock.
        now: u64,
    },
    /// A field over its limit.
    #[error("announcement field {0}")]
    Field(String),
}

impl CatalogError {
    /// Every value [`CatalogError::code`] returns (so metrics can show each from the start).
    pub const CODES: [&'static str; 6] = [
        "too_large",
        "malformed",
        "bad_signature",
        "wrong_signer",
        "expiry",
        "field",
    ];

    /// A stable short name (metrics label, debug events).
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::TooLarge(_) => "too_large",
            CatalogError::Malformed(_) => "malformed",
            CatalogError::BadSignature => "bad_signature",
            CatalogError::WrongSigner { .. } => "wrong_signer",
            CatalogError::Expiry { .. } => "expiry",
            CatalogError::Field(_) => "field",
        }
    }
}

/// Seals `announcement` in an envelope signed with `key` (the host's identity key).
pub fn seal(key: &Keypair, announcement: &Announcement) -> Result<Vec<u8>, CatalogError> {
    let payload =
        serde_json::to_vec(announcement).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let envelope = SignedEnvelope::new(key, ENVELOPE_DOMAIN.into(), PAYLOAD_TYPE.to_vec(), payload)
        .map_err(|e| CatalogError::Malformed(e.to_string()))?;
    Ok(envelope.into_protobuf_encoding())
}

/// Opens a sealed announcement and checks everything a receiver must, with `now` in ms since the
/// Unix epoch.
pub fn open(bytes: &[u8], now: u64) -> Result<Announcement, CatalogError> {
    if bytes.len() > MAX_ANNOUNCEMENT_BYTES {
        return Err(CatalogError::TooLarge(bytes.len()));
    }
    let envelope = SignedEnvelope::from_protobuf_encoding(bytes)
        .map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let (payload, key) = envelope
        .payload_and_signing_key(ENVELOPE_DOMAIN.into(), PAYLOAD_TYPE)
        .map_err(|e| match e {
            libp2p::core::signed_envelope::ReadPayloadError::InvalidSignature => {
                CatalogError::BadSignature
            }
            other => CatalogError::Malformed(other.to_string()),
        })?;
    let announcement: Announcement =
        serde_json::from_slice(payload).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let signer = key.to_peer_id();
    let named: PeerId = announcement.peer_id.parse().map_err(|_| {
        CatalogError::Field(format!("peerId {:?} is no peer id", announcement.peer_id))
    })?;
    if named != signer {
        return Err(CatalogError::WrongSigner {
            named: named.to_string(),
            signer: signer.to_string(),
        });
    }
    check_expiry(&announcement, now)?;
    check_fields(&announcement)?;
    Ok(announcement)
}

/// Whether an opened announcement is in force at `now`: not expired, and not expiring further
/// ahead than [`MAX_TTL_MS`].
pub fn check_expiry(announcement: &Announcement, now: u64) -> Result<(), CatalogError> {
    if announcement.expires_at <= now || announcement.expires_at > now.saturating_add(MAX_TTL_MS) {
        return Err(CatalogError::Expiry {
            expires_at: announcement.expires_at,
            now,
        });
    }
    Ok(())
}

fn check_fields(a: &Announcement) -> Result<(), CatalogError> {
    let field = |what: String| Err(CatalogError::Field(what));
    if a.models.is_empty() || a.models.len() > MAX_MODELS {
        return field(format!("models: {} (1..={MAX_MODELS})", a.models.len()));
    }
    if a.addresses.len() > MAX_ADDRESSES {
        return field(format!(
            "addresses: {} (at most {MAX_ADDRESSES})",
            a.addresses.len()
        ));
    }
    if let Some(long) = a.addresses.iter().find(|x| x.len() > MAX_ADDRESS_LEN) {
        return field(format!("addresses: one of {} bytes", long.len()));
    }
    if let Some(m) = a
        .models
        .iter()
        .find(|m| m.id.is_empty() || m.id.len() > MAX_MODEL_ID_LEN)
    {
        return field(format!("models: id of {} bytes", m.id.len()));
    }
    if a.version.len() > 64 {
        return field("version: longer than 64 bytes".into());
    }
    if a.current_load > a.max_concurrent_jobs {
        return field(format!(
            "currentLoad {} > maxConcurrentJobs {}",
            a.current_load, a.max_concurrent_jobs
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::messages::BackendKind;

    pub(crate) fn announcement(key: &Keypair, seq: u64, expires_at: u64) -> Announcement {
        Announcement {
            peer_id: key.public().to_peer_id().to_string(),
            addresses: vec!["/ip4/127.0.0.1/tcp/1/ws".into()],
            models: vec![ModelInfo {
                id: "m".into(),
                price_per_token: 2,
                price_per_prompt_token: 0,
                max_tokens: 100,
                context_tokens: None,
                backend: BackendKind::Demo,
            }],
            max_concurrent_jobs: 4,
            current_load: 1,
            version: "0.1.0".into(),
            seq,
            expires_at,
        }
    }

    #[test]
    fn codes_lists_every_code() {
        let all = [
            CatalogError::TooLarge(0),
            CatalogError::Malformed(String::new()),
            CatalogError::BadSignature,
            CatalogError::WrongSigner {
                named: String::new(),
                signer: String::new(),
            },
            CatalogError::Expiry {
                expires_at: 0,
                now: 0,
            },
            CatalogError::Field(String::new()),
        ];
        assert_eq!(all.map(|e| e.code()), CatalogError::CODES);
    }

    #[test]
    fn a_sealed_announcement_opens_to_itself() {
        let key = Keypair::generate_ed25519();
        let a = announcement(&key, 1, 60_000);
        assert_eq!(open(&seal(&key, &a).unwrap(), 1_000), Ok(a));
    }

    #[test]
    fn every_forgery_is_refused_with_its_reason() {
        let key = Keypair::generate_ed25519();
        let other = Keypair::generate_ed25519();
        let now = 1_000;
        let code = |bytes: &[u8]| open(bytes, now).unwrap_err().code();
        // Another host's peer id, signed with our key.
        let mut a = announcement(&key, 1, 60_000);
        a.peer_id = other.public().to_peer_id().to_string();
        assert_eq!(code(&seal(&key, &a).unwrap()), "wrong_signer");
        // A payload altered after signing.
        let mut sealed = seal(&key, &announcement(&key, 1, 60_000)).unwrap();
        let at = sealed.windows(3).position(|w| w == b"0.1").unwrap();
        sealed[at] = b'9';
        assert_eq!(code(&sealed), "bad_signature");
        // Expired, and too far ahead.
        assert_eq!(
            code(&seal(&key, &announcement(&key, 1, now)).unwrap()),
            "expiry"
        );
        let far = now + MAX_TTL_MS + 1;
        assert_eq!(
            code(&seal(&key, &announcement(&key, 1, far)).unwrap()),
            "expiry"
        );
        // Oversized, and not an envelope.
        let mut big = announcement(&key, 1, 60_000);
        big.addresses = vec!["x".repeat(400); 60];
        assert_eq!(code(&seal(&key, &big).unwrap()), "too_large");
        assert_eq!(code(b"not an envelope"), "malformed");
        // Field limits.
        let mut none = announcement(&key, 1, 60_000);
        none.models.clear();
        assert_eq!(code(&seal(&key, &none).unwrap()), "field");
        let mut over = announcement(&key, 1, 60_000);
        over.current_load = 5;
        assert_eq!(code(&seal(&key, &over).unwrap()), "field");
    }
}
