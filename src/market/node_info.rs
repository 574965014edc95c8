//! `getNodeInfo(peerId)`: a host's capabilities over `/fabstir/info/1.0.0`.

use fabstir_protocol::messages::{NodeInfo, INFO_PROTOCOL};
use libp2p::{PeerId, StreamProtocol};

use crate::error::SdkError;

/// Opens an info stream to `peer` and reads its one `NodeInfo` frame.
pub async fn node_info(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
) -> Result<NodeInfo, SdkError> {
    let failed = |reason: String| SdkError::StreamFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let mut stream = control
        .open_stream(peer, StreamProtocol::new(INFO_PROTOCOL))
        .await
        .map_err(|e| failed(e.to_string()))?;
    match fabstir_protocol::frame::read::<_, NodeInfo>(&mut stream).await {
        Ok(Some(info)) => Ok(info),
        Ok(None) => Err(failed(crate::net::dropped::UNANSWERED.into())),
        Err(e) => Err(failed(format!("{} ({})", e, e.code()))),
    }
}
