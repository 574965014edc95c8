//! The `fabstir-node` binary end to end: init, start, info, restart, bad configs.

mod common;

use std::path::Path;
use std::process::Command;

use common::{free_port, Node, BIN};

fn init(dir: &Path) {
    common::init(
        dir,
        &[
            format!("/ip4/127.0.0.1/tcp/{}", free_port(false)),
            format!("/ip4/127.0.0.1/tcp/{}/ws", free_port(false)),
            format!("/ip4/127.0.0.1/udp/{}/webrtc-direct", free_port(true)),
        ],
    );
}

fn info_json(config: &Path) -> serde_json::Value {
    common::cli_json("info", config)
}

#[test]
fn init_start_info_and_restart_keep_identity_and_certhash() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let config = dir.path().join("config.yaml");
    for (file, mode) in [("identity.key", 0o600), ("webrtc.pem", 0o600)] {
        use std::os::unix::fs::PermissionsExt;
        let actual = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(actual, mode, "{file}");
    }

    let node = Node::start(&config);
    let first = node.addrs.clone();
    let info = info_json(&config);
    let peer = info["peerId"].as_str().unwrap().to_string();
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(
        first.iter().all(|a| a.ends_with(&format!("/p2p/{peer}"))),
        "{first:?}"
    );
    assert!(
        first.iter().any(|a| a.contains("/webrtc-direct/certhash/")),
        "{first:?}"
    );
    let mut from_info: Vec<String> = info["multiaddrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    from_info.sort();
    assert_eq!(from_info, first, "info prints what start listens on");
    node.terminate();

    let node = Node::start(&config);
    assert_eq!(node.addrs, first, "peer id and certhash survive a restart");
    node.terminate();
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let out = Command::new(BIN)
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite"));
}

#[test]
fn bad_configs_are_rejected_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let good = std::fs::read_to_string(dir.path().join("config.yaml")).unwrap();
    let cases = [
        ("missing.yaml", None, "file"),
        ("bad-yaml.yaml", Some("relay: [\n".to_string()), "relay"),
        (
            "bad-addr.yaml",
            Some(good.replace("/ip4/127.0.0.1/tcp/", "/ip4/127.0.0.1/tcpx/")),
            "listen[0]",
        ),
        (
            "unknown.yaml",
            Some(format!("{good}\nrelays: {{}}\n")),
            "relays",
        ),
        (
            "bad-limit.yaml",
            Some(good.replace("max_circuits: 256", "max_circuits: 0")),
            "relay.max_circuits",
        ),
    ];
    for (name, text, field) in cases {
        let path = dir.path().join(name);
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        for command in ["start", "info"] {
            let out = Command::new(BIN)
                .args([command, "--config"])
                .arg(&path)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {name}: {stderr}");
            assert!(
                stderr.contains(&format!(": {field}: ")),
                "{command} {name}: {stderr:?} does not name {field}"
            );
            assert_eq!(
                stderr.lines().count(),
                1,
                "one clear error line: {stderr:?}"
            );
        }
    }
}

/// A supervisor that stops reading stdout must not bring the node down: its next status line
/// ("shutting down") goes to a closed pipe, which used to panic and exit with 101.
#[test]
fn closed_stdout_does_not_crash_the_node() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let mut child = Command::new(BIN)
        .args(["start", "--config"])
        .arg(dir.path().join("config.yaml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l == "ready");
    assert!(ready, "node never printed ready");
    // The reader (and with it the pipe's read end) is gone now.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "node exited with {status} when stdout was closed"
    );
}
