//! A peer that stops answering (its process frozen with SIGSTOP, its TCP socket still open) has
//! its connection closed by the node after `max_ping_failures` failed pings.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fabstir-node");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn init(dir: &Path, bootstrap: Option<&str>) {
    let tcp = free_port();
    let out = Command::new(BIN)
        .args(["init", "--no-mdns", "--dir"])
        .arg(dir)
        .args(["--listen", &format!("/ip4/127.0.0.1/tcp/{tcp}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Starts a node; returns it, its first listen address and a channel of its stderr lines.
fn start(dir: &Path) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(["start", "--config"])
        .arg(dir.join("config.yaml"))
        .env("RUST_LOG", "fabstir_node=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = stdout
        .by_ref()
        .map(|l| l.unwrap())
        .find_map(|l| l.strip_prefix("listening ").map(str::to_string))
        .expect("a listen address");
    std::thread::spawn(move || stdout.for_each(drop));
    let (tx, rx) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, addr, rx)
}

fn wait_for(lines: &mpsc::Receiver<String>, needles: &[&str], limit: Duration) -> String {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if needles.iter().all(|n| line.contains(n)) => return line,
            Ok(_) => {}
            Err(_) => panic!("no log line with {needles:?} within {limit:?}"),
        }
    }
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
}

#[test]
fn frozen_peer_connection_is_closed() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    init(a_dir.path(), None);
    let (mut a, a_addr, a_log) = start(a_dir.path());
    init(b_dir.path(), Some(&a_addr));
    let (mut b, b_addr, _b_log) = start(b_dir.path());
    let b_peer = b_addr.rsplit("/p2p/").next().unwrap().to_string();

    wait_for(
        &a_log,
        &["connection established", &b_peer],
        Duration::from_secs(20),
    );
    signal(&b, "-STOP");
    let closing = wait_for(
        &a_log,
        &["stopped answering pings", &b_peer],
        Duration::from_secs(30),
    );
    wait_for(
        &a_log,
        &["connection closed", &b_peer],
        Duration::from_secs(10),
    );
    assert!(closing.contains("failures=2"), "{closing}");

    signal(&b, "-CONT");
    for child in [&mut a, &mut b] {
        signal(child, "-TERM");
        let _ = child.wait();
    }
}
