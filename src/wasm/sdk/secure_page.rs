//! A page served over `https:` may not open plain `ws://` to any host but loopback (mixed
//! content): such addresses are refused up front with an error that says what to use instead,
//! rather than failing later with the browser's opaque error.

use libp2p::Multiaddr;

use crate::config::addresses::mixed_content;
use crate::config::ValidConfig;
use crate::error::SdkError;

/// Whether the page (or worker) was served over `https:`.
fn page_is_https() -> bool {
    let location = js_sys::Reflect::get(&js_sys::global(), &"location".into());
    location
        .and_then(|l| js_sys::Reflect::get(&l, &"protocol".into()))
        .ok()
        .and_then(|p| p.as_string())
        .is_some_and(|p| p == "https:")
}

/// `INVALID_CONFIG` naming the first bootstrap node a secure page may not use.
pub(super) fn check_bootstrap_nodes(config: &ValidConfig) -> Result<(), SdkError> {
    if !page_is_https() {
        return Ok(());
    }
    for (i, node) in config.bootstrap_nodes.iter().enumerate() {
        if let Some(why) = mixed_content(&node.address) {
            return Err(SdkError::config(
                format!("p2pConfig.bootstrapNodes[{i}]"),
                why,
            ));
        }
    }
    Ok(())
}

/// `DIAL_FAILED` for an address a secure page may not dial.
pub(super) fn check_dial(address: &Multiaddr) -> Result<(), SdkError> {
    match page_is_https().then(|| mixed_content(address)).flatten() {
        Some(why) => Err(SdkError::DialFailed {
            address: address.to_string(),
            reason: why,
        }),
        None => Ok(()),
    }
}
