//! Validating a parsed configuration: every bad value is one error naming its field.

use super::*;
use crate::config::host::BackendConfig;

pub(super) fn validate(path: &Path, raw: NodeConfig) -> Result<LoadedConfig, NodeError> {
    let err = |field: &str, message: String| config_error(path, field, message);
    if raw.listen.is_empty() {
        return Err(err(
            "listen",
            "at least one listen address is required".into(),
        ));
    }
    let listen = parse_addrs(path, "listen", &raw.listen)?;
    let external_addresses = parse_addrs(path, "external_addresses", &raw.external_addresses)?;
    let mut bootstrap_nodes = Vec::new();
    for (i, addr) in parse_addrs(path, "bootstrap_nodes", &raw.bootstrap_nodes)?
        .into_iter()
        .enumerate()
    {
        let Some(peer) = peer_id_of(&addr) else {
            return Err(err(
                &format!("bootstrap_nodes[{i}]"),
                format!("{addr} must end with /p2p/<peer id>"),
            ));
        };
        bootstrap_nodes.push((peer, addr));
    }
    let c = &raw.connection;
    for (field, value) in [
        ("connection.ping_interval_secs", c.ping_interval_secs),
        ("connection.ping_timeout_secs", c.ping_timeout_secs),
        ("connection.idle_timeout_secs", c.idle_timeout_secs),
        (
            "connection.max_ping_failures",
            u64::from(c.max_ping_failures),
        ),
    ] {
        if value == 0 {
            return Err(err(field, "must be greater than 0".into()));
        }
    }
    let r = &raw.relay;
    for (field, value) in [
        ("relay.max_reservations", r.max_reservations as u64),
        (
            "relay.max_reservations_per_peer",
            r.max_reservations_per_peer as u64,
        ),
        (
            "relay.reservation_duration_secs",
            r.reservation_duration_secs,
        ),
        ("relay.max_circuits", r.max_circuits as u64),
        (
            "relay.max_circuits_per_peer",
            r.max_circuits_per_peer as u64,
        ),
        (
            "relay.max_circuit_duration_secs",
            r.max_circuit_duration_secs,
        ),
        ("relay.max_circuit_bytes", r.max_circuit_bytes),
    ] {
        if value == 0 {
            return Err(err(field, "must be greater than 0".into()));
        }
    }
    for (field, limit) in [
        (
            "relay.reservation_rate.per_peer",
            r.reservation_rate.per_peer,
        ),
        ("relay.reservation_rate.per_ip", r.reservation_rate.per_ip),
        ("relay.circuit_rate.per_peer", r.circuit_rate.per_peer),
        ("relay.circuit_rate.per_ip", r.circuit_rate.per_ip),
        ("host.request_rate", raw.host.request_rate),
    ] {
        if limit.burst > 0 && limit.refill_secs == 0 {
            return Err(err(
                &format!("{field}.refill_secs"),
                "must be greater than 0 when burst is set".into(),
            ));
        }
    }
    // libp2p-relay's reservation rate limiters count every renewal like a new reservation, and
    // a reserving peer renews after 3/4 of the duration: a bucket that refills more slowly drains,
    // and then the relay refuses that peer's renewals (ResourceLimitExceeded) and it drops off.
    let renews_every = r.reservation_duration_secs - r.reservation_duration_secs / 4;
    for (field, limit) in [
        (
            "relay.reservation_rate.per_peer",
            r.reservation_rate.per_peer,
        ),
        ("relay.reservation_rate.per_ip", r.reservation_rate.per_ip),
    ] {
        if r.enabled && limit.burst > 0 && limit.refill_secs > renews_every {
            return Err(err(
                &format!("{field}.refill_secs"),
                format!(
                    "{} s is longer than the {renews_every} s between renewals of one \
                     reservation (3/4 of relay.reservation_duration_secs {}): every renewal \
                     counts against this bucket, so a relayed peer would be refused once its \
                     burst of {} is used up; make it at most {renews_every}, raise the duration, \
                     or turn the bucket off with burst 0",
                    limit.refill_secs, r.reservation_duration_secs, limit.burst
                ),
            ));
        }
    }
    let h = &raw.host;
    if !(1..=fabstir_protocol::messages::MAX_PROMPT_LEN).contains(&h.max_prompt_bytes) {
        return Err(err(
            "host.max_prompt_bytes",
            format!(
                "must be 1 to {}, got {}",
                fabstir_protocol::messages::MAX_PROMPT_LEN,
                h.max_prompt_bytes
            ),
        ));
    }
    for (field, value) in [
        ("host.max_jobs_per_peer", h.max_jobs_per_peer),
        ("host.max_jobs_per_ip", h.max_jobs_per_ip),
    ] {
        if let Some(n) = value {
            if n == 0 || n > h.max_concurrent_jobs {
                return Err(err(
                    field,
                    format!(
                        "must be 1 to max_concurrent_jobs ({}), got {n}",
                        h.max_concurrent_jobs
                    ),
                ));
            }
        }
    }
    let security = crate::security::PeerLists::parse(path, &raw.security)?;
    for (i, model) in raw.host.models.iter().enumerate() {
        use fabstir_protocol::messages::{MAX_MODEL_ID_LEN, MAX_TOKENS_LIMIT};
        let field = |name: &str| format!("host.models[{i}].{name}");
        if model.id.is_empty() || model.id.len() > MAX_MODEL_ID_LEN {
            return Err(err(
                &field("id"),
                format!("must be 1 to {MAX_MODEL_ID_LEN} bytes"),
            ));
        }
        if !(1..=MAX_TOKENS_LIMIT).contains(&model.max_tokens) {
            return Err(err(
                &field("max_tokens"),
                format!("must be 1 to {MAX_TOKENS_LIMIT}, got {}", model.max_tokens),
            ));
        }
        if raw.host.models[..i].iter().any(|m| m.id == model.id) {
            return Err(err(&field("id"), format!("{:?} is listed twice", model.id)));
        }
        match &model.backend {
            BackendConfig::Demo {
                tokens_per_second, ..
            } => {
                if !(tokens_per_second.is_finite() && *tokens_per_second >= 0.0) {
                    return Err(err(
                        &field("backend.tokens_per_second"),
                        format!("must be 0 (unlimited) or more, got {tokens_per_second}"),
                    ));
                }
            }
            BackendConfig::Openai {
                base_url,
                connect_timeout_secs,
                idle_timeout_secs,
                parallel,
                ..
            } => {
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(err(
                        &field("backend.base_url"),
                        format!("must start with http:// or https://, got {base_url:?}"),
                    ));
                }
                if *connect_timeout_secs == 0 {
                    return Err(err(
                        &field("backend.connect_timeout_secs"),
                        "must be greater than 0".into(),
                    ));
                }
                if *idle_timeout_secs == 0 {
                    return Err(err(
                        &field("backend.idle_timeout_secs"),
                        "must be greater than 0".into(),
                    ));
                }
                if *parallel == Some(0) {
                    return Err(err(
                        &field("backend.parallel"),
                        "must be at least 1 (or unset)".into(),
                    ));
                }
            }
        }
    }
    let h = &raw.host;
    for (field, value) in [
        ("host.token_retention_secs", h.token_retention_secs),
        ("host.offer_ttl_secs", h.offer_ttl_secs),
        ("host.offer_hold_secs", h.offer_hold_secs),
        ("host.stream_open_secs", h.stream_open_secs),
        ("host.client_grace_secs", h.client_grace_secs),
        ("host.max_tokens_ahead", u64::from(h.max_tokens_ahead)),
        ("host.max_job_secs", h.max_job_secs),
        ("host.advertise_interval_secs", h.advertise_interval_secs),
        (
            "kad.provider_record_ttl_secs",
            raw.kad.provider_record_ttl_secs,
        ),
    ] {
        if value == 0 {
            return Err(err(field, "must be greater than 0".into()));
        }
    }
    if !(1..=fabstir_protocol::catalog::MAX_TTL_MS / 1000).contains(&h.announce_ttl_secs) {
        return Err(err(
            "host.announce_ttl_secs",
            format!(
                "{} is outside 1..={}",
                h.announce_ttl_secs,
                fabstir_protocol::catalog::MAX_TTL_MS / 1000
            ),
        ));
    }
    if let Err(e) = raw.metrics.listen.parse::<std::net::SocketAddr>() {
        return Err(err(
            "metrics.listen",
            format!("{:?} is not an ip:port address: {e}", raw.metrics.listen),
        ));
    }
    if h.reachability == Reachability::Relayed && raw.bootstrap_nodes.is_empty() {
        return Err(err(
            "host.reachability",
            "relayed needs at least one bootstrap node to reserve on".into(),
        ));
    }
    if raw.host.max_concurrent_jobs == 0 {
        return Err(err(
            "host.max_concurrent_jobs",
            "must be greater than 0".into(),
        ));
    }
    if raw
        .log
        .level
        .parse::<tracing_subscriber::EnvFilter>()
        .is_err()
    {
        return Err(err(
            "log.level",
            format!("{:?} is not a valid log filter", raw.log.level),
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    if raw.tls.is_none() {
        if let Some(i) = listen
            .iter()
            .position(|a| crate::tls::transport::to_plain(a).is_some())
        {
            return Err(err(
                &format!("listen[{i}]"),
                format!("{} is a TLS WebSocket: set tls.cert and tls.key", listen[i]),
            ));
        }
    }
    let tls = raw
        .tls
        .as_ref()
        .map(|t| (dir.join(&t.cert), dir.join(&t.key)));
    Ok(LoadedConfig {
        tls,
        key_file: dir.join(&raw.identity.key_file),
        webrtc_cert_file: dir.join(&raw.identity.webrtc_cert_file),
        database_file: raw.host.database_file.as_ref().map(|f| dir.join(f)),
        listen,
        external_addresses,
        bootstrap_nodes,
        security,
        raw,
    })
}
