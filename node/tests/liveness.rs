//! A peer that stops answering (its process frozen with SIGSTOP, its TCP socket still open) has
//! its connection closed by the node after `max_ping_failures` failed pings.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{free_port, Node};

/// A node on one TCP port with 1 s pings, optionally dialing `bootstrap` at start.
fn init(dir: &Path, bootstrap: Option<&str>) {
    common::init(dir, &[format!("/ip4/127.0.0.1/tcp/{}", free_port(false))]);
    let path = dir.join("config.yaml");
    let mut text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("ping_interval_secs: 15", "ping_interval_secs: 1")
        .replace("ping_timeout_secs: 10", "ping_timeout_secs: 1");
    if let Some(addr) = bootstrap {
        text = text.replace(
            "bootstrap_nodes: []",
            &format!("bootstrap_nodes: [\"{addr}\"]"),
        );
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn frozen_peer_connection_is_closed() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    init(a_dir.path(), None);
    let a = Node::start(&a_dir.path().join("config.yaml"));
    init(b_dir.path(), Some(&a.addrs[0]));
    let b = Node::start(&b_dir.path().join("config.yaml"));
    let b_peer = b.addrs[0].rsplit("/p2p/").next().unwrap().to_string();

    a.wait_for_log(
        &["connection established", &b_peer],
        Duration::from_secs(20),
    );
    b.signal("-STOP");
    let frozen = std::time::Instant::now();
    let closing = a.wait_for_log(
        &["stopped answering pings", &b_peer],
        Duration::from_secs(40),
    );
    a.wait_for_log(&["connection closed", &b_peer], Duration::from_secs(10));
    assert!(closing.contains("failures=2"), "{closing}");
    eprintln!(
        "connection to the frozen peer closed {:.1} s after SIGSTOP",
        frozen.elapsed().as_secs_f64()
    );

    b.signal("-CONT");
    b.terminate();
    a.terminate();
}
