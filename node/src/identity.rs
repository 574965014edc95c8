//! The node's persistent identity: an Ed25519 key (peer id) and a WebRTC certificate (certhash).
//!
//! Both files are created with mode 0600 and refused when group or others can read them. Their
//! contents are never logged.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use libp2p_webrtc::tokio::Certificate;

use crate::error::NodeError;

/// The node's key and certificate.
pub struct Identity {
    /// The libp2p keypair; its public half is the peer id.
    pub keypair: Keypair,
    /// The DTLS certificate used by WebRTC-direct.
    pub certificate: Certificate,
}

impl Identity {
    /// Creates a new identity and writes it to `key_file` and `cert_file` (mode 0600).
    /// Existing files are never overwritten.
    pub fn create(key_file: &Path, cert_file: &Path) -> Result<Self, NodeError> {
        for path in [key_file, cert_file] {
            if path.exists() {
                return Err(NodeError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
        }
        let keypair = Keypair::generate_ed25519();
        let certificate = Certificate::generate(&mut rand::rng())
            .map_err(|e| identity_error(cert_file, format!("cannot generate certificate: {e}")))?;
        let key_bytes = keypair
            .to_protobuf_encoding()
            .map_err(|e| identity_error(key_file, format!("cannot encode key: {e}")))?;
        write_private(key_file, &key_bytes)?;
        write_private(cert_file, certificate.serialize_pem().as_bytes())?;
        Ok(Identity {
            keypair,
            certificate,
        })
    }

    /// Loads the identity written by [`Identity::create`].
    pub fn load(key_file: &Path, cert_file: &Path) -> Result<Self, NodeError> {
        let key_bytes = read_private(key_file)?;
        let keypair = Keypair::from_protobuf_encoding(&key_bytes)
            .map_err(|e| identity_error(key_file, format!("not a libp2p key: {e}")))?;
        let pem = String::from_utf8(read_private(cert_file)?)
            .map_err(|_| identity_error(cert_file, "not a PEM file".into()))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| identity_error(cert_file, format!("not a WebRTC certificate: {e}")))?;
        Ok(Identity {
            keypair,
            certificate,
        })
    }

    /// The peer id derived from the key.
    pub fn peer_id(&self) -> libp2p::PeerId {
        self.keypair.public().to_peer_id()
    }

    /// `addr` completed for dialing: `/certhash/..` added to WebRTC-direct addresses that lack
    /// it, and `/p2p/<peer id>` at the end.
    pub fn full_address(&self, addr: &Multiaddr) -> Multiaddr {
        let mut full = addr.clone();
        let is_webrtc = full.iter().any(|p| matches!(p, Protocol::WebRTCDirect));
        let has_certhash = full.iter().any(|p| matches!(p, Protocol::Certhash(_)));
        if is_webrtc && !has_certhash {
            full.push(Protocol::Certhash(
                self.certificate.fingerprint().to_multihash(),
            ));
        }
        if !matches!(full.iter().last(), Some(Protocol::P2p(_))) {
            full.push(Protocol::P2p(self.peer_id()));
        }
        full
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| NodeError::io("create", path, e))?;
    file.write_all(bytes)
        .map_err(|e| NodeError::io("write", path, e))
}

fn read_private(path: &Path) -> Result<Vec<u8>, NodeError> {
    let meta = std::fs::metadata(path).map_err(|e| NodeError::io("read", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(identity_error(
            path,
            format!("mode {mode:o} lets others read a private key; run chmod 600 on it"),
        ));
    }
    std::fs::read(path).map_err(|e| NodeError::io("read", path, e))
}

fn identity_error(path: &Path, message: String) -> NodeError {
    NodeError::Identity {
        path: path.to_path_buf(),
        message,
    }
}

/// The dialable addresses of a node for scripts: configured listen addresses completed with
/// certhash and peer id; unspecified IPs (0.0.0.0, ::) are shown as loopback.
pub fn dialable_addresses(
    config: &crate::config::LoadedConfig,
    identity: &Identity,
) -> Vec<Multiaddr> {
    config
        .listen
        .iter()
        .chain(&config.external_addresses)
        .map(|addr| {
            let local: Multiaddr = addr
                .iter()
                .map(|p| match p {
                    Protocol::Ip4(ip) if ip.is_unspecified() => {
                        Protocol::Ip4(std::net::Ipv4Addr::LOCALHOST)
                    }
                    Protocol::Ip6(ip) if ip.is_unspecified() => {
                        Protocol::Ip6(std::net::Ipv6Addr::LOCALHOST)
                    }
                    p => p,
                })
                .collect();
            identity.full_address(&local)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_then_load_gives_the_same_peer_id_and_certhash() {
        let dir = tempfile::tempdir().unwrap();
        let (k, c) = (dir.path().join("k"), dir.path().join("c"));
        let created = Identity::create(&k, &c).unwrap();
        let loaded = Identity::load(&k, &c).unwrap();
        assert_eq!(created.peer_id(), loaded.peer_id());
        assert_eq!(
            created.certificate.fingerprint(),
            loaded.certificate.fingerprint()
        );
        assert_eq!(
            std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&c).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn refuses_to_overwrite_and_refuses_readable_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (k, c) = (dir.path().join("k"), dir.path().join("c"));
        Identity::create(&k, &c).unwrap();
        assert!(matches!(
            Identity::create(&k, &c),
            Err(NodeError::AlreadyExists { .. })
        ));
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Identity::load(&k, &c).err().unwrap().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn full_address_adds_certhash_and_peer_id() {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::create(&dir.path().join("k"), &dir.path().join("c")).unwrap();
        let ws: Multiaddr = "/ip4/127.0.0.1/tcp/1/ws".parse().unwrap();
        assert_eq!(
            id.full_address(&ws).to_string(),
            format!("{ws}/p2p/{}", id.peer_id())
        );
        let rtc: Multiaddr = "/ip4/127.0.0.1/udp/1/webrtc-direct".parse().unwrap();
        let full = id.full_address(&rtc).to_string();
        assert!(full.contains("/webrtc-direct/certhash/"), "{full}");
        assert_eq!(
            id.full_address(&id.full_address(&rtc)),
            id.full_address(&rtc)
        );
    }
}
