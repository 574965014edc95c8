//! Saying why a dial or a listen failed: libp2p-relay reports only "Remote reported resource
//! limit exceeded." (`RESOURCE_LIMIT_EXCEEDED` on the wire) for every relay limit, and
//! libp2p-core's `TransportError` writes nothing of its own for an error of the transport (so
//! libp2p-swarm's dial errors read `<address>: : <cause>`), and a failed upgrade is written
//! twice by libp2p-core (`Handshake failed: Handshake failed: <cause>`).

use std::error::Error;
use std::fmt::Write;

use libp2p::core::transport::TransportError;

/// A transport's error (a listen's, a relay reservation's), followed by its sources: the
/// `TransportError::Other` itself writes nothing, so its cause was missing from the message.
pub fn transport_text(error: &TransportError<std::io::Error>) -> String {
    match error {
        TransportError::MultiaddrNotSupported(_) => error.to_string(),
        TransportError::Other(e) => {
            let mut out = e.to_string();
            let mut source = e.source();
            while let Some(e) = source {
                let _ = write!(out, ": {e}");
                source = e.source();
            }
            out
        }
    }
}

/// A dial error's text, with what a relay's "resource limit exceeded" means added to it.
/// libp2p-swarm writes each failed address as `<address>: <error>: <its sources>`, and a
/// transport's error writes nothing itself, which left `<address>: : <cause>`; the empty part
/// goes, and so does a part that repeats the one before it (`Handshake failed: Handshake
/// failed: <cause>`, libp2p-core's upgrade error and its source).
pub fn dial_reason(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if !part.is_empty() && parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    let text = parts.join(": ");
    if text
        .to_ascii_lowercase()
        .contains("resource limit exceeded")
    {
        format!(
            "{text} — the relay refused the circuit: one of its limits is used up (its circuit \
             rate per peer or per IP address, circuits per peer, or reservations); it refills \
             with time (by default one circuit every 2 minutes per peer, one a minute per IP)"
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_limit_is_named_and_other_errors_are_kept() {
        let refused = dial_reason(&"Failed to negotiate: Remote reported resource limit exceeded.");
        assert!(
            refused.contains("the relay refused the circuit"),
            "{refused}"
        );
        assert_eq!(dial_reason(&"connection refused"), "connection refused");
        assert_eq!(
            dial_reason(&"[(/ip4/127.0.0.1/tcp/1/ws: : the WebSocket did not open)]"),
            "[(/ip4/127.0.0.1/tcp/1/ws: the WebSocket did not open)]"
        );
        assert_eq!(
            dial_reason(&"[(/ip4/127.0.0.1/tcp/1/ws: Handshake failed: Handshake failed: the remote sent a WebSocket text frame)]"),
            "[(/ip4/127.0.0.1/tcp/1/ws: Handshake failed: the remote sent a WebSocket text frame)]"
        );
    }

    #[test]
    fn a_transport_error_gives_its_cause() {
        #[derive(Debug, thiserror::Error)]
        #[error("no reservation: {0}")]
        struct Refused(&'static str);
        let inner = std::io::Error::other(Refused("limit"));
        let text = transport_text(&TransportError::Other(inner));
        assert_eq!(text, "no reservation: limit");
        let what: libp2p::Multiaddr = "/ip4/1.2.3.4/tcp/1".parse().unwrap();
        let text = transport_text(&TransportError::MultiaddrNotSupported(what));
        assert!(text.contains("/ip4/1.2.3.4/tcp/1"), "{text}");
    }
}
