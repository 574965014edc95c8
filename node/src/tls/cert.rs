//! The listener's certificate: loaded and checked from PEM files (the layout certbot writes,
//! `fullchain.pem` and `privkey.pem`), and read again when either file changes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Why a certificate cannot be used: the field (`tls.cert` or `tls.key`) and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CertError {
    /// `tls.cert` or `tls.key`.
    pub field: &'static str,
    /// What is wrong, with the file.
    pub reason: String,
}

fn err(field: &'static str, reason: String) -> CertError {
    CertError { field, reason }
}

/// A loaded certificate chain and key.
pub struct Loaded {
    /// What rustls serves.
    pub key: Arc<CertifiedKey>,
    /// The end-entity certificate's serial number (hex), for logs.
    pub serial: String,
    /// When it expires.
    pub not_after: SystemTime,
}

/// Reads and checks `cert` (PEM chain, end entity first) and `key` (PEM private key): both
/// readable and parseable, the key matching the certificate, the certificate not expired.
pub fn load(cert: &Path, key: &Path) -> Result<Loaded, CertError> {
    let cert_pem = std::fs::read(cert)
        .map_err(|e| err("tls.cert", format!("cannot read {}: {e}", cert.display())))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            err(
                "tls.cert",
                format!("{} is not PEM certificates: {e}", cert.display()),
            )
        })?;
    let Some(end_entity) = chain.first() else {
        return Err(err(
            "tls.cert",
            format!("{} holds no certificate", cert.display()),
        ));
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(end_entity).map_err(|e| {
        err(
            "tls.cert",
            format!("{}: not an X.509 certificate: {e}", cert.display()),
        )
    })?;
    let not_after = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(parsed.validity().not_after.timestamp()).unwrap_or(0));
    if not_after <= SystemTime::now() {
        return Err(err(
            "tls.cert",
            format!(
                "{} expired on {}",
                cert.display(),
                parsed.validity().not_after
            ),
        ));
    }
    let serial = parsed.raw_serial_as_string();
    let key_pem = std::fs::read(key)
        .map_err(|e| err("tls.key", format!("cannot read {}: {e}", key.display())))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        err(
            "tls.key",
            format!("{} is not a PEM private key: {e}", key.display()),
        )
    })?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = CertifiedKey::from_der(chain, private, &provider).map_err(|e| {
        err(
            "tls.key",
            format!(
                "{} does not match the certificate in {}: {e}",
                key.display(),
                cert.display()
            ),
        )
    })?;
    Ok(Loaded {
        key: Arc::new(certified),
        serial,
        not_after,
    })
}

/// How often the files' modification times are looked at (on a new connection, at most this
/// often).
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// A certificate resolver that reads the files again when they change; a renewal that cannot be
/// loaded (e.g. half written) keeps the certificate in use and is tried again later.
#[derive(Debug)]
pub struct Reloading {
    cert: PathBuf,
    key: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    current: Arc<CertifiedKey>,
    stamp: Option<(SystemTime, SystemTime)>,
    checked: Instant,
}

fn stamp(cert: &Path, key: &Path) -> Option<(SystemTime, SystemTime)> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((modified(cert)?, modified(key)?))
}

impl Reloading {
    /// Loads the files once (an error names the field and the reason).
    pub fn new(cert: &Path, key: &Path) -> Result<Reloading, CertError> {
        let loaded = load(cert, key)?;
        tracing::info!(serial = %loaded.serial, "TLS certificate loaded");
        Ok(Reloading {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            state: Mutex::new(State {
                current: loaded.key,
                stamp: stamp(cert, key),
                checked: Instant::now(),
            }),
        })
    }

    /// The certificate to present now (reloaded first if the files changed).
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.checked.elapsed() >= CHECK_EVERY {
            state.checked = Instant::now();
            let now = stamp(&self.cert, &self.key);
            if now.is_some() && now != state.stamp {
                match load(&self.cert, &self.key) {
                    Ok(loaded) => {
                        tracing::info!(serial = %loaded.serial, "TLS certificate reloaded");
                        state.current = loaded.key;
                        state.stamp = now;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS certificate changed but cannot be loaded; keeping the old one")
                    }
                }
            }
        }
        state.current.clone()
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}
