//! A native client of the host's job and stream protocols, one peer id per `Client`: what the
//! abuse tests use for both the honest side and the attackers.

use std::time::{Duration, Instant};

use fabstir_protocol::frame;
use fabstir_protocol::messages::{
    JobDecision, JobRequest, JobResponse, RejectReason, StreamFrame, StreamRequest, JOB_PROTOCOL,
    STREAM_PROTOCOL,
};
use futures::{AsyncWriteExt, StreamExt};
use libp2p::core::Transport;
use libp2p::{noise, yamux, Multiaddr, PeerId, Stream, StreamProtocol};
use std::net::Ipv4Addr;

/// A peer with its own identity, connected to one host.
pub struct Client {
    pub control: libp2p_stream::Control,
    pub host: PeerId,
    /// This client's own peer id.
    pub me: PeerId,
}

/// The job request the clients send: `max_tokens` of `model` for a fixed prompt.
pub fn job_request(model: &str, max_tokens: u32) -> JobRequest {
    JobRequest {
        model_id: model.into(),
        prompt: "abuse test".into(),
        max_tokens,
        temperature: 0.5,
        top_p: 1.0,
        max_price_per_token: 100,
        ..Default::default()
    }
}

impl Client {
    /// A new identity that dials `addr` (ending in `/p2p/<host>`) from 127.0.0.1 and keeps its
    /// swarm running.
    pub async fn connect(addr: &str) -> Client {
        Client::connect_from(addr, Ipv4Addr::LOCALHOST).await
    }

    /// [`Client::connect`] from the loopback address `from` (e.g. 127.0.0.2).
    pub async fn connect_from(addr: &str, from: Ipv4Addr) -> Client {
        Client::connect_as(addr, from, libp2p::identity::Keypair::generate_ed25519()).await
    }

    /// [`Client::connect_from`] with the identity `key` (e.g. the same client again).
    pub async fn connect_as(addr: &str, from: Ipv4Addr, key: libp2p::identity::Keypair) -> Client {
        let addr: Multiaddr = addr.parse().unwrap();
        let host = match addr.iter().last() {
            Some(libp2p::multiaddr::Protocol::P2p(id)) => id,
            _ => panic!("{addr} has no /p2p/"),
        };
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_other_transport(|key| {
                use libp2p::core::upgrade::Version;
                Ok(super::from_ip::FromIp(from)
                    .upgrade(Version::V1)
                    .authenticate(noise::Config::new(key)?)
                    .multiplex(yamux::Config::default()))
            })
            .unwrap()
            .with_behaviour(|_| libp2p_stream::Behaviour::new())
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
            .build();
        swarm.dial(addr).unwrap();
        let me = *swarm.local_peer_id();
        let control = swarm.behaviour().new_control();
        let (connected, mut is_connected) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Some(event) = swarm.next().await {
                if let libp2p::swarm::SwarmEvent::ConnectionEstablished { .. } = event {
                    connected.send_replace(true);
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), is_connected.wait_for(|c| *c))
            .await
            .expect("no connection to the host in 30 s")
            .unwrap();
        Client { control, host, me }
    }

    /// Opens a stream of `protocol` to the host.
    pub async fn open(&self, protocol: &'static str) -> Stream {
        let mut control = self.control.clone();
        control
            .open_stream(self.host, StreamProtocol::new(protocol))
            .await
            .unwrap()
    }

    /// Opens a stream of `protocol`, or says why not (e.g. the node does not speak it).
    pub async fn try_open(&self, protocol: &'static str) -> Result<Stream, String> {
        let mut control = self.control.clone();
        control
            .open_stream(self.host, StreamProtocol::new(protocol))
            .await
            .map_err(|e| e.to_string())
    }

    /// Asks for an offer: the open negotiation stream and the host's answer. A stream the node
    /// dropped before reading it (libp2p-stream's single hand-over slot; docs/PROTOCOL.md,
    /// "Dropped streams") is asked again, as the SDK does.
    pub async fn ask(&self, model: &str, max_tokens: u32) -> (Stream, JobResponse) {
        let request = job_request(model, max_tokens);
        let mut last = String::new();
        for _ in 0..6 {
            let mut stream = self.open(JOB_PROTOCOL).await;
            if let Err(e) = frame::write(&mut stream, &request).await {
                last = e.to_string();
            } else {
                match frame::read::<_, JobResponse>(&mut stream).await {
                    Ok(Some(answer)) => return (stream, answer),
                    Ok(None) => last = "closed without an answer".into(),
                    Err(e) => last = e.to_string(),
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("no answer to a job request in 6 tries: {last}");
    }

    /// Asks for an offer and accepts it: the job id, or the host's refusal.
    pub async fn start(&self, model: &str, max_tokens: u32) -> Result<String, JobResponse> {
        let (mut stream, answer) = self.ask(model, max_tokens).await;
        let JobResponse::Offer { job_id, .. } = answer else {
            return Err(answer);
        };
        let accept = JobDecision::Accept {
            job_id: job_id.clone(),
        };
        frame::write(&mut stream, &accept).await.unwrap();
        let answer = frame::read::<_, JobResponse>(&mut stream).await.unwrap();
        let _ = stream.close().await;
        match answer {
            Some(JobResponse::Started { .. }) => Ok(job_id),
            Some(other) => Err(other),
            None => panic!("no answer to accept"),
        }
    }

    /// Reads job `job_id`'s whole token stream: the token count and the last frame.
    /// (A stream dropped before it carried anything is opened again from where it got to.)
    pub async fn read(&self, job_id: &str) -> (u64, StreamFrame) {
        let (text, end) = self.read_text(job_id).await;
        (text.len() as u64, end)
    }

    /// [`Client::read`] with every token's content, in order.
    pub async fn read_text(&self, job_id: &str) -> (Vec<String>, StreamFrame) {
        self.read_text_from(job_id, 0, usize::MAX).await
    }

    /// The contents of job `job_id`'s tokens from `from` on, and its last frame; or, once
    /// `stop_after` tokens arrived, those with the last token's frame.
    pub async fn read_text_from(
        &self,
        job_id: &str,
        from: u64,
        stop_after: usize,
    ) -> (Vec<String>, StreamFrame) {
        let mut text = Vec::new();
        for _ in 0..6 {
            let mut stream = self.open(STREAM_PROTOCOL).await;
            let request = StreamRequest {
                job_id: job_id.into(),
                resume_from: from + text.len() as u64,
            };
            if frame::write(&mut stream, &request).await.is_ok() {
                loop {
                    match frame::read::<_, StreamFrame>(&mut stream).await {
                        Ok(Some(t @ StreamFrame::Token { .. })) if text.len() + 1 >= stop_after => {
                            if let StreamFrame::Token { content, .. } = &t {
                                text.push(content.clone());
                            }
                            return (text, t);
                        }
                        Ok(Some(StreamFrame::Token { content, .. })) => text.push(content),
                        Ok(Some(end)) => return (text, end),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!(
            "job {job_id}'s stream failed 6 times ({} tokens read)",
            text.len()
        );
    }
}

/// An honest job from a fresh peer id connected from `from`: connect, negotiate, read
/// `max_tokens` tokens to the end. Its time from the dial, or what went wrong.
pub async fn honest_job(
    addr: &str,
    from: Ipv4Addr,
    model: &str,
    max_tokens: u32,
) -> Result<Duration, String> {
    let started = Instant::now();
    let client = Client::connect_from(addr, from).await;
    // A host that is full right now (`busy`) is asked again, as `submitJobWithRetry` does.
    let job = loop {
        match client.start(model, max_tokens).await {
            Ok(job) => break job,
            Err(JobResponse::Rejected {
                reason: RejectReason::Busy,
                ..
            }) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(refused) => return Err(format!("refused: {refused:?}")),
        }
    };
    match client.read(&job).await {
        (n, StreamFrame::End { .. }) if n == u64::from(max_tokens) => Ok(started.elapsed()),
        (n, end) => Err(format!("{n} tokens, then {end:?}")),
    }
}

/// A value of the host's Prometheus text at `http://<metrics>/metrics`, e.g.
/// `fabstir_jobs_total{outcome="abandoned"}`; 0 when absent.
pub fn metric(metrics: &str, name: &str) -> f64 {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(metrics).unwrap();
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {metrics}\r\n\r\n").unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}
