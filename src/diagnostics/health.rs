//! `getSystemHealthReport()` and `testP2PConnectivity()`: what the SDK can say about itself,
//! from its real state and from live checks.

use serde::Serialize;

use crate::error::SdkError;
use crate::market::jobs::JobTotals;
use crate::market::Market;
use crate::net::rt;

/// `getSystemHealthReport()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: &'static str,
    /// When the report was made (ms since the epoch).
    pub timestamp: f64,
    /// Connections.
    pub p2p: P2pHealth,
    /// Discovery.
    pub discovery: DiscoveryHealth,
    /// This SDK's job streams.
    pub jobs: JobTotals,
    /// Measured averages.
    pub performance: Performance,
    /// What is wrong, in words.
    pub issues: Vec<String>,
    /// What to do about it.
    pub recommendations: Vec<String>,
}

/// Connection state in a health report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct P2pHealth {
    /// `start()` completed.
    pub started: bool,
    /// Our peer id.
    pub peer_id: String,
    /// Peers connected now.
    pub connected_peers: u32,
    /// Bootstrap nodes configured.
    pub bootstrap_nodes: u32,
    /// Bootstrap nodes connected now.
    pub bootstrap_connected: u32,
    /// Relays holding a reservation for us.
    pub relay_reservations: u32,
    /// Milliseconds since start.
    pub uptime: f64,
    /// Outbound connection attempts that failed since start.
    pub failed_connections: u32,
}

/// Discovery state in a health report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryHealth {
    /// `p2pConfig.enableDHT`.
    pub dht_enabled: bool,
    /// Connected bootstrap nodes that look the DHT up for this page.
    pub dht_peers: u32,
    /// Models with a cached discovery answer.
    pub cached_models: u32,
    /// Host records from the catalogs refused as altered or forged
    /// (`getP2PMetrics().catalogRecordsForged`).
    pub forged_records: u32,
}

/// Averages in a health report (null until measured).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    /// Mean ms from a job request to its first token, over recent jobs.
    pub average_time_to_first_token: Option<f64>,
    /// Mean tokens per second over recent jobs.
    pub average_tokens_per_second: Option<f64>,
    /// Mean keep-alive round trip to connected peers, ms.
    pub average_peer_rtt: Option<f64>,
}

/// Judges the state: the status and, for each problem, an issue and a recommendation.
pub fn assess(
    p2p: &P2pHealth,
    discovery: &DiscoveryHealth,
    jobs: &JobTotals,
) -> (&'static str, Vec<String>, Vec<String>) {
    let mut issues = Vec::new();
    let mut advice = Vec::new();
    let mut unhealthy = false;
    if !p2p.started {
        unhealthy = true;
        issues.push("the SDK is not started".to_string());
        advice.push("call start()".to_string());
    } else if p2p.connected_peers == 0 {
        unhealthy = true;
        issues.push("no peer is connected".to_string());
        advice.push("check that the bootstrap nodes run and are reachable from this page; run testP2PConnectivity()".to_string());
    } else if p2p.bootstrap_connected == 0 {
        issues.push(format!(
            "none of the {} bootstrap nodes is connected",
            p2p.bootstrap_nodes
        ));
        advice.push("restart the SDK or add reachable bootstrap nodes".to_string());
    }
    if p2p.started && p2p.bootstrap_connected > 0 && p2p.relay_reservations == 0 {
        issues.push("no relay holds a reservation: other peers cannot dial this page".to_string());
        advice.push("use a bootstrap node that runs a circuit relay".to_string());
    }
    if p2p.started && !discovery.dht_enabled {
        issues.push(
            "the DHT is disabled: discoverNodes and negotiation cannot find hosts".to_string(),
        );
        advice.push("set p2pConfig.enableDHT to true".to_string());
    } else if p2p.started && discovery.dht_peers == 0 {
        issues.push("no connected bootstrap node looks the DHT up for this page".to_string());
        advice.push("connect to a bootstrap node that runs the Fabstir DHT".to_string());
    }
    if discovery.forged_records > 0 {
        issues.push(format!(
            "a bootstrap node altered or forged {} host record(s)",
            discovery.forged_records
        ));
        advice.push("ask each bootstrap node alone (catalogRecordsForged in getP2PMetrics()) and drop the one that lies".to_string());
    }
    if jobs.failed > 0 && jobs.failed >= jobs.succeeded {
        issues.push(format!(
            "{} of {} job streams failed",
            jobs.failed, jobs.streams
        ));
        advice.push("resume failed jobs with resumeResponseStream(), or exclude unreliable hosts with excludeNodes".to_string());
    }
    let status = match (unhealthy, issues.is_empty()) {
        (true, _) => "unhealthy",
        (false, true) => "healthy",
        (false, false) => "degraded",
    };
    (status, issues, advice)
}

/// The health report of a running SDK.
pub async fn health_report(market: &Market) -> Result<HealthReport, SdkError> {
    let metrics = market.net().metrics().await?;
    let peers = market.net().connected_peers().await?;
    let rtts: Vec<f64> = peers.iter().filter_map(|p| p.rtt).collect();
    let p2p = P2pHealth {
        started: true,
        peer_id: market.net().peer_id().to_string(),
        connected_peers: metrics.connected_peers,
        bootstrap_nodes: market.net().config().bootstrap_nodes.len() as u32,
        bootstrap_connected: metrics.bootstrap_connected,
        relay_reservations: metrics.relay_reservations,
        uptime: metrics.uptime,
        failed_connections: metrics.failed_connections,
    };
    let discovery = DiscoveryHealth {
        dht_enabled: market.net().config().enable_dht,
        dht_peers: metrics.dht_peers,
        cached_models: market.cached_models() as u32,
        forged_records: market.records_refused().forged,
    };
    let (jobs, ttft, rate) = market.job_statistics();
    let (status, issues, recommendations) = assess(&p2p, &discovery, &jobs);
    Ok(HealthReport {
        status,
        timestamp: rt::now_ms(),
        p2p,
        discovery,
        jobs,
        performance: Performance {
            average_time_to_first_token: ttft,
            average_tokens_per_second: rate,
            average_peer_rtt: (!rtts.is_empty())
                .then(|| rtts.iter().sum::<f64>() / rtts.len() as f64),
        },
        issues,
        recommendations,
    })
}

/// The health report of an SDK that is not started.
pub fn stopped_report(peer_id: String, dht_enabled: bool) -> HealthReport {
    let p2p = P2pHealth {
        peer_id,
        ..Default::default()
    };
    let discovery = DiscoveryHealth {
        dht_enabled,
        ..Default::default()
    };
    let jobs = JobTotals::default();
    let (status, issues, recommendations) = assess(&p2p, &discovery, &jobs);
    HealthReport {
        status,
        timestamp: rt::now_ms(),
        p2p,
        discovery,
        jobs,
        performance: Performance::default(),
        issues,
        recommendations,
    }
}

/// `testP2PConnectivity()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectivityReport {
    /// Each bootstrap node: dialed (or already connected) and pinged.
    pub bootstrap: Vec<BootstrapCheck>,
    /// Whether a DHT lookup gets answers.
    pub discovery: DiscoveryCheck,
    /// How other peers can reach this browser.
    pub reachability: Reachability,
}

/// One bootstrap node's check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapCheck {
    /// Its address.
    pub address: String,
    /// Its peer id.
    pub peer_id: String,
    /// It answered a ping.
    pub reachable: bool,
    /// The ping's round trip, ms.
    pub latency: Option<f64>,
    /// Why not, when not.
    pub error: Option<String>,
}

/// The DHT check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryCheck {
    /// A lookup got at least one answer.
    pub working: bool,
    /// Peers that answered the lookup.
    pub peers_answered: u32,
    /// Why not, when not.
    pub error: Option<String>,
}

/// How this browser is reachable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reachability {
    /// `relayed` (through relay reservations) or `unreachable` (only outbound connections); a
    /// browser can never be dialed directly.
    pub mode: &'static str,
    /// Our `/p2p-circuit` addresses.
    pub addresses: Vec<String>,
}

/// Runs the live checks.
pub async fn connectivity(market: &Market) -> Result<ConnectivityReport, SdkError> {
    let net = market.net();
    let checks = net.config().bootstrap_nodes.iter().map(|b| async move {
        let result = async {
            net.dial_fresh(b.address.clone()).await?;
            net.ping(b.peer_id).await
        };
        let limit = net.config().dial_timeout;
        let outcome = rt::timeout(limit, result)
            .await
            .unwrap_or(Err(SdkError::Timeout {
                operation: format!("reach {}", b.address),
                after_ms: limit.as_millis() as u64,
            }));
        BootstrapCheck {
            address: b.address.to_string(),
            peer_id: b.peer_id.to_string(),
            reachable: outcome.is_ok(),
            latency: outcome.as_ref().ok().copied(),
            error: outcome.err().map(|e| e.to_string()),
        }
    });
    let bootstrap = futures::future::join_all(checks).await;
    let discovery = match market.dht_check().await {
        Ok(n) => DiscoveryCheck {
            working: n > 0,
            peers_answered: n,
            error: (n == 0).then(|| "no DHT peer answered".to_string()),
        },
        Err(e) => DiscoveryCheck {
            working: false,
            peers_answered: 0,
            error: Some(e.to_string()),
        },
    };
    let addresses: Vec<String> = net
        .listen_addresses()
        .await?
        .into_iter()
        .filter(|a| a.contains("/p2p-circuit"))
        .collect();
    Ok(ConnectivityReport {
        bootstrap,
        discovery,
        reachability: Reachability {
            mode: if addresses.is_empty() {
                "unreachable"
            } else {
                "relayed"
            },
            addresses,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> (P2pHealth, DiscoveryHealth) {
        (
            P2pHealth {
                started: true,
                connected_peers: 2,
                bootstrap_nodes: 1,
                bootstrap_connected: 1,
                relay_reservations: 1,
                ..Default::default()
            },
            DiscoveryHealth {
                dht_enabled: true,
                dht_peers: 1,
                cached_models: 0,
                forged_records: 0,
            },
        )
    }

    #[test]
    fn a_connected_sdk_is_healthy() {
        let (p, d) = running();
        assert_eq!(assess(&p, &d, &JobTotals::default()).0, "healthy");
    }

    #[test]
    fn problems_are_named_with_advice() {
        let (p, d) = running();
        let no_relay = P2pHealth {
            relay_reservations: 0,
            ..p.clone()
        };
        let (status, issues, advice) = assess(&no_relay, &d, &JobTotals::default());
        assert_eq!(status, "degraded");
        assert!(issues[0].contains("relay"));
        assert_eq!(issues.len(), advice.len());
        let failing = JobTotals {
            streams: 3,
            succeeded: 1,
            failed: 2,
            ..Default::default()
        };
        assert!(assess(&p, &d, &failing).1[0].contains("2 of 3"));
        let lied_to = DiscoveryHealth {
            forged_records: 2,
            ..d.clone()
        };
        let (status, issues, advice) = assess(&p, &lied_to, &JobTotals::default());
        assert_eq!(status, "degraded");
        assert!(issues[0].ends_with("forged 2 host record(s)"), "{issues:?}");
        assert!(advice[0].contains("catalogRecordsForged"));
        let alone = P2pHealth {
            connected_peers: 0,
            ..p
        };
        assert_eq!(assess(&alone, &d, &JobTotals::default()).0, "unhealthy");
        let stopped = stopped_report("x".into(), true);
        assert_eq!(stopped.status, "unhealthy");
        assert_eq!(stopped.issues, ["the SDK is not started"]);
    }
}
