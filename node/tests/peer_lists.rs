//! The node's `security.blocklist` and `security.allowlist` refuse peers on the connection
//! itself: a refused peer never gets a connection (so no protocol of ours runs for it), while
//! another peer connects as usual.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{free_port, peer_id, Node};

fn init(dir: &Path) {
    common::init(dir, &[format!("/ip4/127.0.0.1/tcp/{}", free_port(false))]);
}

fn configure(dir: &Path, from: &str, to: &str) {
    let path = dir.join("config.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(from, to);
    std::fs::write(path, text).unwrap();
}

/// Starts a node at `dir` whose bootstrap node is `target`.
fn dialer(dir: &Path, target: &str) -> Node {
    configure(
        dir,
        "bootstrap_nodes: []",
        &format!("bootstrap_nodes: [\"{target}\"]"),
    );
    Node::start(&dir.join("config.yaml"))
}

fn check(list: &str, refused_is_listed: bool) {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for d in &dirs {
        init(d.path());
    }
    let (guarded, refused, welcome) = (dirs[0].path(), dirs[1].path(), dirs[2].path());
    let (refused_id, welcome_id) = (peer_id(refused), peer_id(welcome));
    let listed = if refused_is_listed {
        &refused_id
    } else {
        &welcome_id
    };
    configure(
        guarded,
        &format!("  {list}: []"),
        &format!("  {list}: [\"{listed}\"]"),
    );
    let node = Node::start(&guarded.join("config.yaml"));
    let target = node.addrs[0].clone();
    let refused_node = dialer(refused, &target);
    let welcome_node = dialer(welcome, &target);
    let seen = node.log_for(Duration::from_secs(4));
    let established = |id: &str| {
        seen.iter()
            .any(|l| l.contains("connection established") && l.contains(id))
    };
    assert!(established(&welcome_id), "{list}: the other peer connects");
    assert!(
        !established(&refused_id),
        "{list}: the refused peer got a connection"
    );
    for n in [refused_node, welcome_node, node] {
        n.terminate();
    }
}

#[test]
fn a_blocklisted_peer_is_refused() {
    check("blocklist", true);
}

#[test]
fn only_allowlisted_peers_are_admitted() {
    check("allowlist", false);
}
