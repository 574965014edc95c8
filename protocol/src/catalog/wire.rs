//! `/fabstir/catalog/1.0.0`: a client (a page) asks a node for its catalog. One request frame,
//! then one frame per item and an `end` frame. Hosts come as their sealed announcements
//! (base64), so the client checks each host's signature itself.

use futures::{AsyncRead, AsyncWrite};
use serde::{Deserialize, Serialize};

use super::store::{Catalog, ModelSummary};
use crate::frame::{self, FrameError};

/// The catalog protocol's name.
pub const PROTOCOL: &str = "/fabstir/catalog/1.0.0";

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "op",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum CatalogRequest {
    /// Every model served, with host counts, price ranges and free slots.
    Models,
    /// The hosts that serve a model (every host when `model_id` is absent).
    Hosts {
        /// The model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model_id: Option<String>,
    },
}

/// One frame of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum CatalogFrame {
    /// A model's summary.
    Model(ModelSummary),
    /// A host's sealed announcement, base64 (standard alphabet, padded).
    Host(String),
    /// The end of the answer, with the number of items sent.
    End {
        /// Items sent before it.
        count: u32,
    },
}

/// Answers one request on `stream` from `catalog` (read under its lock, written after).
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    catalog: &std::sync::Mutex<Catalog>,
) -> Result<(), FrameError> {
    use base64::Engine;
    let Some(request) = frame::read::<_, CatalogRequest>(stream).await? else {
        return Ok(());
    };
    let items: Vec<CatalogFrame> = {
        let c = catalog.lock().unwrap_or_else(|p| p.into_inner());
        match &request {
            CatalogRequest::Models => c.models().into_iter().map(CatalogFrame::Model).collect(),
            CatalogRequest::Hosts { model_id } => {
                let host = |e: &super::Entry| {
                    CatalogFrame::Host(base64::engine::general_purpose::STANDARD.encode(&e.sealed))
                };
                match model_id {
                    Some(m) => c.hosts_for(m).map(host).collect(),
                    None => c.entries().map(host).collect(),
                }
            }
        }
    };
    let count = items.len() as u32;
    for item in &items {
        frame::write(stream, item).await?;
    }
    frame::write(stream, &CatalogFrame::End { count }).await
}

/// Asks `request` on `stream` and collects the answer's items until its `end`.
pub async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &CatalogRequest,
) -> Result<Vec<CatalogFrame>, FrameError> {
    frame::write(stream, request).await?;
    let mut items = Vec::new();
    loop {
        match frame::read::<_, CatalogFrame>(stream).await? {
            None => return Err(FrameError::Truncated),
            Some(CatalogFrame::End { count }) if count as usize == items.len() => return Ok(items),
            Some(CatalogFrame::End { count }) => {
                return Err(FrameError::Malformed(format!(
                    "end says {count} items, {} came",
                    items.len()
                )))
            }
            Some(item) => {
                if items.len() >= super::MAX_HOSTS * super::MAX_MODELS {
                    return Err(FrameError::Malformed(
                        "more items than a catalog holds".into(),
                    ));
                }
                items.push(item);
            }
        }
    }
}

/// Decodes a [`CatalogFrame::Host`]'s text to the sealed announcement.
pub fn sealed_bytes(text: &str) -> Result<Vec<u8>, FrameError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| FrameError::Malformed(format!("host record: {e}")))
}
