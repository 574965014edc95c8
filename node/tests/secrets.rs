//! The node's private keys never reach its output: at the most verbose log level, neither the
//! identity key (in hex or base64) nor any line of the WebRTC certificate's private key appears
//! on stdout or stderr, while the node starts, serves a peer and stops.

mod common;

use std::time::Duration;

use common::{free_port, Node};

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn private_keys_are_never_printed() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&a, &b] {
        common::init(
            d.path(),
            &[format!("/ip4/127.0.0.1/tcp/{}", free_port(false))],
        );
    }
    let key = std::fs::read(a.path().join("identity.key")).unwrap();
    let pem = std::fs::read_to_string(a.path().join("webrtc.pem")).unwrap();
    let mut secrets: Vec<String> = vec![
        key.iter().map(|b| format!("{b:02x}")).collect(),
        base64(&key),
    ];
    // The key bytes alone (the protobuf wrapper's last 64 bytes hold the ed25519 keypair).
    let raw = &key[key.len().saturating_sub(64)..];
    secrets.push(raw.iter().map(|b| format!("{b:02x}")).collect());
    secrets.push(base64(raw)[..40].to_string());
    let in_private = pem
        .split("-----BEGIN PRIVATE_KEY-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END").next())
        .unwrap_or_default();
    secrets.extend(
        in_private
            .lines()
            .filter(|l| l.len() > 16)
            .map(str::to_string),
    );
    assert!(secrets.len() > 4, "the PEM has a private key block");

    let node = Node::start_logging(&a.path().join("config.yaml"), "trace");
    let path = b.path().join("config.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "bootstrap_nodes: []",
        &format!("bootstrap_nodes: [\"{}\"]", node.addrs[0]),
    );
    std::fs::write(&path, text).unwrap();
    let peer = Node::start(&path);
    let mut lines = node.log_for(Duration::from_secs(3));
    lines.extend(node.addrs.iter().cloned());
    peer.terminate();
    node.terminate();
    assert!(
        lines.len() > 20,
        "trace logging is on ({} lines)",
        lines.len()
    );
    for line in &lines {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a private key appears in: {line}"
            );
        }
    }
    eprintln!(
        "{} log lines at trace level, none with key material",
        lines.len()
    );
}
