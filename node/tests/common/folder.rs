//! A node's folder for a test: `fabstir-node init` in a new temporary directory, listening on
//! one free TCP port, then a `config.yaml` the test writes. The one way node tests make a node
//! with settings of their own.

use std::path::PathBuf;

use super::{free_port, init, peer_id, Node};

/// A node's folder (removed when dropped) whose config is its TCP listen address, mDNS off,
/// then the test's settings.
pub struct Folder {
    /// The folder (its identity key, config and database).
    pub dir: tempfile::TempDir,
    /// The node's TCP port.
    pub port: u16,
    /// The node's address: `/ip4/127.0.0.1/tcp/<port>/p2p/<peer id>`.
    pub addr: String,
}

impl Folder {
    /// A new folder whose `config.yaml` is `listen`, `mdns: { enabled: false }`, then
    /// `settings` (YAML lines, each ending in a newline).
    pub fn new(settings: &str) -> Folder {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port(false);
        init(dir.path(), &[format!("/ip4/127.0.0.1/tcp/{port}")]);
        std::fs::write(
            dir.path().join("config.yaml"),
            format!("listen: [/ip4/127.0.0.1/tcp/{port}]\nmdns: {{ enabled: false }}\n{settings}"),
        )
        .unwrap();
        let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", peer_id(dir.path()));
        Folder { dir, port, addr }
    }

    /// The node's peer id (the end of [`Folder::addr`]).
    pub fn peer(&self) -> &str {
        self.addr.rsplit("/p2p/").next().unwrap()
    }

    /// Its `config.yaml`.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.yaml")
    }

    /// Its node, started (logging at `fabstir_node=info`).
    pub fn start(&self) -> Node {
        Node::start(&self.config())
    }

    /// Its node, started from the node binary `bin` (e.g. the test suite's `fabstir-hostile`).
    pub fn start_bin(&self, bin: &str) -> Node {
        Node::start_bin(bin, &self.config(), "fabstir_node=info")
    }
}

/// A metrics setting on a free port: the YAML line and the address it listens on.
pub fn metrics() -> (String, String) {
    let listen = format!("127.0.0.1:{}", free_port(false));
    (
        format!("metrics: {{ enabled: true, listen: \"{listen}\" }}\n"),
        listen,
    )
}
