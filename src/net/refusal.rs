//! Saying why a dial failed: libp2p-swarm's words for a dial error, with its addresses written
//! by `config::multiaddr_text` (see there why not by `Multiaddr`'s own `Display`), and what a
//! relay's refusal means: libp2p-relay reports only "Remote reported resource limit exceeded."
//! (`RESOURCE_LIMIT_EXCEEDED` on the wire) for every relay limit.

use std::error::Error;
use std::fmt::Write;

use libp2p::core::transport::TransportError;
use libp2p::swarm::dial_opts::PeerCondition;
use libp2p::swarm::DialError;

use crate::config::multiaddr_text::Text;

/// `error` as libp2p-swarm 0.48 writes it, each error followed by its sources.
pub fn dial_text(error: &DialError) -> String {
    let mut out = String::from("Dial error: ");
    let _ = match error {
        DialError::NoAddresses => write!(out, "no addresses for peer."),
        DialError::LocalPeerId { address } => {
            write!(out, "tried to dial local peer id at {}.", Text(address))
        }
        DialError::DialPeerConditionFalse(condition) => {
            let busy = match condition {
                PeerCondition::Disconnected => "already connected",
                PeerCondition::NotDialing => "already being dialed",
                _ => "already connected or being dialed",
            };
            write!(out, "the peer is {busy}; the new dial is cancelled.")
        }
        DialError::Aborted => write!(out, "Pending connection attempt has been aborted."),
        DialError::WrongPeerId { obtained, address } => {
            write!(out, "Unexpected peer ID {obtained} at {}.", Text(address))
        }
        DialError::Denied { cause } => write!(out, "denied: {cause}"),
        DialError::Transport(tried) => {
            out = String::from("Failed to negotiate transport protocol(s): [");
            for (address, error) in tried {
                let _ = write!(out, "({}: {})", Text(address), transport_text(error));
            }
            write!(out, "]")
        }
    };
    out
}

/// A transport's error (a dial's, a listen's), followed by its sources.
pub fn transport_text(error: &TransportError<std::io::Error>) -> String {
    match error {
        TransportError::MultiaddrNotSupported(a) => {
            format!("Multiaddr is not supported: {}", Text(a))
        }
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

/// A dial error's text ([`dial_text`]), with what a relay's "resource limit exceeded" means added
/// to it.
pub fn dial_reason(error: &DialError) -> String {
    explained(dial_text(error))
}

fn explained(text: String) -> String {
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
        let refused =
            explained("Failed to negotiate: Remote reported resource limit exceeded.".into());
        assert!(
            refused.contains("the relay refused the circuit"),
            "{refused}"
        );
        assert_eq!(explained("connection refused".into()), "connection refused");
    }
}
