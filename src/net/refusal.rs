//! Saying why a dial failed when a relay refused it: libp2p-relay reports only "Remote reported
//! resource limit exceeded." (`RESOURCE_LIMIT_EXCEEDED` on the wire) for every relay limit.

/// A dial error's text, with what a relay's "resource limit exceeded" means added to it.
pub fn dial_reason(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
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
    }
}
