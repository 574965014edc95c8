//! `/tls/ws` listeners on a real process: bad certificate files stop the start with exit 2
//! naming the field; a good one serves TLS WebSockets; renewed files are served to new
//! connections while an open one stays.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{free_port, init, Node, BIN};
use rustls::pki_types::{CertificateDer, ServerName};

/// A self-signed certificate for 127.0.0.1 and relay.fabstir.test: (cert PEM, key PEM, DER).
fn certificate(not_after_year: Option<i32>) -> (String, String, CertificateDer<'static>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "relay.fabstir.test".into()])
            .unwrap();
    if let Some(year) = not_after_year {
        params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
        params.not_after = rcgen::date_time_ymd(year, 1, 1);
    }
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().clone())
}

/// A node folder listening on TCP and `/tls/ws` at `port`, with `fullchain.pem` and
/// `privkey.pem` as given; the config's path.
fn node_dir(dir: &Path, port: u16, cert: &str, key: &str) -> std::path::PathBuf {
    let tcp = free_port(false);
    init(dir, &[format!("/ip4/127.0.0.1/tcp/{tcp}")]);
    std::fs::write(dir.join("fullchain.pem"), cert).unwrap();
    std::fs::write(dir.join("privkey.pem"), key).unwrap();
    let config = dir.join("config.yaml");
    let text = format!(
        "listen: [/ip4/127.0.0.1/tcp/{tcp}, /ip4/127.0.0.1/tcp/{port}/tls/ws]\nexternal_addresses: [/dns4/relay.fabstir.test/tcp/443/tls/ws]\nmdns: {{ enabled: false }}\ntls: {{ cert: fullchain.pem, key: privkey.pem }}\n"
    );
    std::fs::write(&config, text).unwrap();
    config
}

/// `fabstir-node start` that must fail: its exit code and stderr.
fn start_fails(config: &Path) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["start", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A TLS session to 127.0.0.1:`port` trusting only `trusted`; `Err` when the handshake fails.
fn tls_to(
    port: u16,
    trusted: &CertificateDer<'static>,
) -> Result<(rustls::ClientConnection, TcpStream), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok((conn, sock))
}

/// A WebSocket upgrade over an open TLS session: the status line of the answer.
fn websocket_upgrade(
    conn: &mut rustls::ClientConnection,
    sock: &mut TcpStream,
    port: u16,
) -> String {
    let mut tls = rustls::Stream::new(conn, sock);
    write!(
        tls,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut buf = [0u8; 256];
    let n = tls.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn bad_certificates_stop_the_start_naming_the_field() {
    let port = free_port(false);
    let (cert, key, _) = certificate(None);
    let (_, other_key, _) = certificate(None);
    let (expired, expired_key, _) = certificate(Some(2020));
    for (cert, key, field, words) in [
        (
            "not a certificate",
            key.as_str(),
            "tls.cert",
            "holds no certificate",
        ),
        (
            cert.as_str(),
            other_key.as_str(),
            "tls.key",
            "does not match",
        ),
        (
            expired.as_str(),
            expired_key.as_str(),
            "tls.cert",
            "expired",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = node_dir(dir.path(), port, cert, key);
        let (code, stderr) = start_fails(&config);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(field) && stderr.contains(words), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    // A /tls/ws listener without certificate files is a config error naming the listener.
    let dir = tempfile::tempdir().unwrap();
    let config = node_dir(dir.path(), port, &cert, &key);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("tls: { cert: fullchain.pem, key: privkey.pem }\n", "");
    std::fs::write(&config, text).unwrap();
    let (code, stderr) = start_fails(&config);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("listen[1]") && stderr.contains("tls.cert"),
        "{stderr}"
    );
}

#[test]
fn renewed_certificates_reach_new_connections_and_open_ones_stay() {
    let port = free_port(false);
    let (cert1, key1, der1) = certificate(None);
    let (cert2, key2, der2) = certificate(None);
    let dir = tempfile::tempdir().unwrap();
    let config = node_dir(dir.path(), port, &cert1, &key1);
    let node = Node::start(&config);
    assert!(
        node.addrs
            .iter()
            .any(|a| a.starts_with(&format!("/ip4/127.0.0.1/tcp/{port}/tls/ws/p2p/"))),
        "{:?}",
        node.addrs
    );
    // Its DNS name is announced: printed by `start` and listed by `info`.
    let id = common::peer_id(dir.path());
    let announced = format!("/dns4/relay.fabstir.test/tcp/443/tls/ws/p2p/{id}");
    assert!(
        node.lines.contains(&format!("announcing {announced}")),
        "{:?}",
        node.lines
    );
    let info = Command::new(BIN)
        .args(["info", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains(&announced));
    assert!(
        tls_to(port, &der2).is_err(),
        "only the first certificate is served yet"
    );
    let (mut open, mut open_sock) = tls_to(port, &der1).expect("TLS with the first certificate");
    // Renewal: the files are replaced (as certbot does) while a connection is open.
    std::fs::write(dir.path().join("privkey.pem"), &key2).unwrap();
    std::fs::write(dir.path().join("fullchain.pem"), &cert2).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while tls_to(port, &der2).is_err() {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served within 15 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        tls_to(port, &der1).is_err(),
        "new connections get the new certificate only"
    );
    // The connection opened before the renewal still works: its WebSocket upgrade is answered.
    let status = websocket_upgrade(&mut open, &mut open_sock, port);
    assert!(status.starts_with("HTTP/1.1 101"), "{status}");
    node.terminate();
}
