//! Running `fabstir-node` processes in tests: init, start until ready, signals, logs.
#![allow(dead_code)] // each test file uses its own subset

pub mod client;
pub mod folder;
pub mod from_ip;
pub mod memory;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_fabstir-node");

/// A port that was free a moment ago.
pub fn free_port(udp: bool) -> u16 {
    if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

/// `fabstir-node init` in `dir` listening on the given addresses (mDNS off).
pub fn init(dir: &Path, listen: &[String]) {
    let mut cmd = Command::new(BIN);
    cmd.args(["init", "--no-mdns", "--dir"]).arg(dir);
    for addr in listen {
        cmd.args(["--listen", addr]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `fabstir-node <command> --json --config <config>`'s JSON (the command must succeed).
pub fn cli_json(command: &str, config: &Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .args([command, "--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A started node.
pub struct Node {
    pub child: Child,
    /// The addresses printed before `ready`, sorted.
    pub addrs: Vec<String>,
    /// Every line printed before `ready`.
    pub lines: Vec<String>,
    /// Its log (stderr), line by line.
    pub log: mpsc::Receiver<String>,
}

/// A node still running when its test ends (e.g. a test that panicked) is killed, not left behind.
impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Node {
    /// Starts the node of `config` and waits until it prints `ready`.
    pub fn start(config: &Path) -> Node {
        Node::start_logging(config, "fabstir_node=info")
    }

    /// [`Node::start`] with `filter` as `RUST_LOG`.
    pub fn start_logging(config: &Path, filter: &str) -> Node {
        Node::start_bin(BIN, config, filter)
    }

    /// [`Node::start_logging`] of the node binary `bin` (e.g. the test suite's `fabstir-hostile`).
    pub fn start_bin(bin: &str, config: &Path, filter: &str) -> Node {
        let mut child = Command::new(bin)
            .args(["start", "--config"])
            .arg(config)
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, log) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut addrs = Vec::new();
        let mut printed = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line == "ready" {
                break;
            }
            printed.push(line.clone());
            if let Some(addr) = line.strip_prefix("listening ") {
                addrs.push(addr.to_string());
            }
            assert!(Instant::now() < deadline, "node not ready in time");
        }
        std::thread::spawn(move || lines.for_each(drop));
        addrs.sort();
        Node {
            child,
            addrs,
            lines: printed,
            log,
        }
    }

    /// Sends a signal, e.g. `-STOP`.
    pub fn signal(&self, sig: &str) {
        Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
    }

    /// SIGTERM, then asserts a clean exit.
    pub fn terminate(mut self) {
        self.signal("-TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "node exited with {status} after SIGTERM");
    }

    /// Waits for a log line containing every one of `needles`.
    pub fn wait_for_log(&self, needles: &[&str], limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            match self
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if needles.iter().all(|n| line.contains(n)) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needles:?} within {limit:?}"),
            }
        }
    }

    /// Every log line that arrives within `limit`.
    pub fn log_for(&self, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        let mut out = Vec::new();
        while let Ok(line) = self
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            out.push(line);
        }
        out
    }
}

/// The peer id of the node whose files are in `dir` (`fabstir-node info --json`).
pub fn peer_id(dir: &Path) -> String {
    let out = Command::new(BIN)
        .args(["info", "--json", "--config"])
        .arg(dir.join("config.yaml"))
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    info["peerId"].as_str().unwrap().to_string()
}
