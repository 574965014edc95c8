//! `/fabstir/catalog/1.0.0`: a client (a page) asks a node for its catalog. One request frame,
//! then one frame per item and an `end` frame. Hosts come as their sealed announcements
//! (base64), so the client checks each host's signature itself.
//!
//! A `watch` request keeps the stream open: the node sends every host it holds, `synced`, then
//! each change as it happens (`host` for a new or newer record, `gone` for a host that expired
//! or stopped serving the model watched); after `reset` the hosts are sent again up to the next
//! `synced` (the node fell behind, or restarted its view). The client ends a watch by closing
//! the stream; a node refusing one (too many watchers) sends `refused` and closes.
//!
//! `providers` and `dhtCheck` are DHT lookups the node does for the client (delegated routing,
//! as IPFS browser nodes use it), so a page needs no Kademlia client of its own: the providers
//! of a model, each with the addresses the DHT gave for it, or how many DHT peers answered a
//! lookup of a random key. Provider hints are not signed: the client proves who a provider is
//! by connecting to it (Noise authenticates the peer id) and asking it.

use futures::{AsyncRead, AsyncWrite};
use serde::{Deserialize, Serialize};

use super::store::{Catalog, ModelSummary};
use super::CatalogError;
use crate::frame::{self, FrameError};

fn is_false(b: &bool) -> bool {
    !b
}

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
    /// The hosts that serve a model (every host when `model_id` is absent), optionally only
    /// those within a price or with a free job slot ([`HostFilter`]).
    Hosts {
        /// The model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model_id: Option<String>,
        /// Only hosts that ask at most this per generated token for `model_id` (with no
        /// `model_id`: for some model they serve).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_price_per_token: Option<u64>,
        /// Only hosts whose record announces a free job slot (`currentLoad` below
        /// `maxConcurrentJobs`).
        #[serde(default, skip_serializing_if = "is_false")]
        free_slots_only: bool,
    },
    /// The hosts (of a model, or every host), then their changes as they happen.
    Watch {
        /// The model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model_id: Option<String>,
    },
    /// The DHT providers of a model, looked up by the node (delegated routing).
    Providers {
        /// The model.
        model_id: String,
    },
    /// A DHT lookup of a random key by the node: how many DHT peers answered.
    DhtCheck,
}

/// A DHT provider of a model as the node's lookup found it: a hint, not a signed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderHint {
    /// The provider's peer id.
    pub peer_id: String,
    /// The addresses the DHT gave for it (at most [`super::MAX_ADDRESSES`]).
    pub addresses: Vec<String>,
}

/// The most providers one `providers` answer carries.
pub const MAX_PROVIDERS: usize = 64;

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
    /// A watch: every host held has been sent (`count` of them since the request or `reset`).
    Synced {
        /// Hosts sent before it.
        count: u32,
    },
    /// A watch: the host (peer id) left the catalog or no longer serves the model watched.
    Gone(String),
    /// A watch: forget the hosts sent so far; they come again, up to the next `synced`.
    Reset,
    /// The request was refused (e.g. `too many watchers`); the node closes the stream.
    Refused(String),
    /// A provider found by a `providers` lookup.
    Provider(ProviderHint),
    /// The answer to `dhtCheck`: DHT peers that answered the node's lookup.
    DhtCheck {
        /// Peers that answered.
        answered: u32,
    },
}

impl CatalogFrame {
    /// The frame's name on the wire (`host`, `synced`, ...), for errors: naming it rather than
    /// `Debug`-printing it keeps that formatting code out of the browser's wasm.
    pub fn name(&self) -> &'static str {
        match self {
            CatalogFrame::Model(_) => "model",
            CatalogFrame::Host(_) => "host",
            CatalogFrame::End { .. } => "end",
            CatalogFrame::Synced { .. } => "synced",
            CatalogFrame::Gone(_) => "gone",
            CatalogFrame::Reset => "reset",
            CatalogFrame::Refused(_) => "refused",
            CatalogFrame::Provider(_) => "provider",
            CatalogFrame::DhtCheck { .. } => "dhtCheck",
        }
    }
}

/// The `host` frame of a sealed announcement.
pub fn host_frame(sealed: &[u8]) -> CatalogFrame {
    use base64::Engine;
    CatalogFrame::Host(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// Which hosts a `hosts` request (or a `watch`) asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostFilter<'a> {
    /// Hosts of this model (every host when `None`).
    pub model_id: Option<&'a str>,
    /// At most this per generated token (for `model_id`, or for some model).
    pub max_price_per_token: Option<u64>,
    /// Only hosts that announce a free job slot.
    pub free_slots_only: bool,
}

impl<'a> HostFilter<'a> {
    /// Every host of `model_id` (every host when `None`).
    pub fn model(model_id: Option<&'a str>) -> Self {
        HostFilter {
            model_id,
            ..HostFilter::default()
        }
    }

    /// Whether `a` is one of the hosts asked for.
    pub fn admits(&self, a: &super::Announcement) -> bool {
        let priced = |m: &crate::messages::ModelInfo| {
            self.model_id.is_none_or(|id| m.id == id)
                && self
                    .max_price_per_token
                    .is_none_or(|max| m.price_per_token <= max)
        };
        a.models.iter().any(priced)
            && (!self.free_slots_only || a.current_load < a.max_concurrent_jobs)
    }
}

/// The `host` frames of the hosts in `catalog` that `filter` admits.
pub fn host_frames(catalog: &Catalog, filter: HostFilter<'_>) -> Vec<CatalogFrame> {
    catalog
        .entries()
        .filter(|e| filter.admits(&e.announcement))
        .map(|e| host_frame(&e.sealed))
        .collect()
}

/// The answer's items to a `models` or `hosts` request from `catalog`; `None` for a `watch` or
/// a DHT lookup, which the server serves itself.
pub fn answer_items(catalog: &Catalog, request: &CatalogRequest) -> Option<Vec<CatalogFrame>> {
    match request {
        CatalogRequest::Models => Some(
            catalog
                .models()
                .into_iter()
                .map(CatalogFrame::Model)
                .collect(),
        ),
        CatalogRequest::Hosts {
            model_id,
            max_price_per_token,
            free_slots_only,
        } => Some(host_frames(
            catalog,
            HostFilter {
                model_id: model_id.as_deref(),
                max_price_per_token: *max_price_per_token,
                free_slots_only: *free_slots_only,
            },
        )),
        CatalogRequest::Watch { .. }
        | CatalogRequest::Providers { .. }
        | CatalogRequest::DhtCheck => None,
    }
}

/// Writes an answer's `items` and its `end` frame.
pub async fn write_answer<S: AsyncWrite + Unpin>(
    stream: &mut S,
    items: &[CatalogFrame],
) -> Result<(), FrameError> {
    let end = CatalogFrame::End {
        count: items.len() as u32,
    };
    frame::write_batch(stream, items.iter().chain([&end])).await
}

/// Asks `request` on `stream` and collects the answer's items until its `end`.
pub async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &CatalogRequest,
) -> Result<Vec<CatalogFrame>, FrameError> {
    frame::write(stream, request).await?;
    let mut items = Vec::new();
    loop {
        match answer_step(frame::read(stream).await?, items.len())? {
            Some(item) => items.push(item),
            None => return Ok(items),
        }
    }
}

/// Asks `request` on `stream` and hands each of the answer's items to `each` as it arrives,
/// until its `end` (one item in memory at a time, for a whole catalog); how many came.
pub async fn ask_each<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &CatalogRequest,
    mut each: impl FnMut(CatalogFrame),
) -> Result<usize, FrameError> {
    frame::write(stream, request).await?;
    let mut n = 0;
    while let Some(item) = answer_step(frame::read(stream).await?, n)? {
        n += 1;
        each(item);
    }
    Ok(n)
}

/// One frame read of an answer after `n` items: the next item, `None` at its `end`, or what
/// is wrong (`None` read: the stream ended).
fn answer_step(read: Option<CatalogFrame>, n: usize) -> Result<Option<CatalogFrame>, FrameError> {
    match read {
        // Not even the end frame: the node closed the stream without reading the request (a
        // node whose queue for the protocol is full does; docs/PROTOCOL.md, "Dropped streams").
        None if n == 0 => Err(FrameError::Unanswered),
        None => Err(FrameError::Truncated),
        Some(CatalogFrame::End { count }) if count as usize == n => Ok(None),
        Some(CatalogFrame::End { count }) => Err(FrameError::Malformed(format!(
            "end says {count} items, {n} came"
        ))),
        Some(CatalogFrame::Refused(reason)) => {
            Err(FrameError::Malformed(format!("refused: {reason}")))
        }
        Some(f @ (CatalogFrame::Synced { .. } | CatalogFrame::Gone(_) | CatalogFrame::Reset)) => {
            Err(FrameError::Malformed(format!(
                "a watch frame in an answer: {}",
                f.name()
            )))
        }
        Some(_) if n >= super::MAX_HOSTS * super::MAX_MODELS => Err(FrameError::Malformed(
            "more items than a catalog holds".into(),
        )),
        Some(item) => Ok(Some(item)),
    }
}

/// Decodes a [`CatalogFrame::Host`]'s text to the sealed announcement.
pub fn sealed_bytes(text: &str) -> Result<Vec<u8>, FrameError> {
    crate::b64::STANDARD
        .decode(text)
        .map_err(|e| FrameError::Malformed(format!("host record: {e}")))
}

/// Opens a [`CatalogFrame::Host`]'s text: the announcement, checked as [`super::open`] checks
/// it at `now`, with its sealed bytes; or why it was refused (text that is not base64 is
/// [`CatalogError::Malformed`]).
pub fn open_host(text: &str, now: u64) -> Result<(super::Announcement, Vec<u8>), CatalogError> {
    let bytes = sealed_bytes(text).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    Ok((super::open(&bytes, now)?, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A stream whose answer is `input`; what is written to it is kept.
    struct Answering {
        input: futures::io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl AsyncRead for Answering {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.input).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Answering {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            self.written.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn asked(answer: Vec<u8>) -> Result<Vec<CatalogFrame>, FrameError> {
        let mut stream = Answering {
            input: futures::io::Cursor::new(answer),
            written: Vec::new(),
        };
        block_on(ask(&mut stream, &CatalogRequest::DhtCheck))
    }

    #[test]
    fn a_hosts_request_filters_by_price_and_free_slots() {
        use crate::catalog::record::tests::announcement;
        use crate::catalog::seal;
        use libp2p::identity::Keypair;
        let mut catalog = Catalog::default();
        // x at 1 with a free slot, x at 5 with none, y at 2.
        for (model, price, load) in [("x", 1, 0), ("x", 5, 4), ("y", 2, 0)] {
            let key = Keypair::generate_ed25519();
            let mut a = announcement(&key, 1, 60_000);
            a.models[0].id = model.into();
            a.models[0].price_per_token = price;
            a.current_load = load;
            catalog.insert(a.clone(), seal(&key, &a).unwrap());
        }
        let count = |json: &str| {
            let request: CatalogRequest = serde_json::from_str(json).unwrap();
            answer_items(&catalog, &request).unwrap().len()
        };
        // Without filters, as clients before them asked.
        assert_eq!(count(r#"{"op":"hosts","modelId":"x"}"#), 2);
        assert_eq!(count(r#"{"op":"hosts"}"#), 3);
        assert_eq!(
            count(r#"{"op":"hosts","modelId":"x","maxPricePerToken":4}"#),
            1
        );
        assert_eq!(
            count(r#"{"op":"hosts","modelId":"x","maxPricePerToken":0}"#),
            0
        );
        assert_eq!(
            count(r#"{"op":"hosts","modelId":"x","freeSlotsOnly":true}"#),
            1
        );
        assert_eq!(count(r#"{"op":"hosts","maxPricePerToken":2}"#), 2);
        assert_eq!(
            count(r#"{"op":"hosts","maxPricePerToken":5,"freeSlotsOnly":true}"#),
            2
        );
        // Unset filters are not written (a node from before them reads the request).
        let plain = CatalogRequest::Hosts {
            model_id: Some("x".into()),
            max_price_per_token: None,
            free_slots_only: false,
        };
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"op":"hosts","modelId":"x"}"#
        );
    }

    #[test]
    fn an_answer_that_never_began_is_told_apart_from_one_cut_short() {
        // Closed unread (what a node's busy stream hand-over does): safe to ask again.
        assert!(matches!(asked(Vec::new()), Err(FrameError::Unanswered)));
        // An item, then the end of the stream without the end frame: cut short.
        let item = frame::encode(&CatalogFrame::DhtCheck { answered: 1 }).unwrap();
        assert!(matches!(asked(item.clone()), Err(FrameError::Truncated)));
        // A whole answer, and an empty one.
        let end = |count| frame::encode(&CatalogFrame::End { count }).unwrap();
        assert_eq!(asked([item, end(1)].concat()).unwrap().len(), 1);
        assert!(asked(end(0)).unwrap().is_empty());
        assert_eq!(FrameError::Unanswered.code(), "UNANSWERED");
    }

    #[test]
    fn delegated_lookups_have_the_documented_shape() {
        let ask = CatalogRequest::Providers {
            model_id: "m".into(),
        };
        let text = serde_json::to_string(&ask).unwrap();
        assert_eq!(text, r#"{"op":"providers","modelId":"m"}"#);
        assert_eq!(serde_json::from_str::<CatalogRequest>(&text).unwrap(), ask);
        let check: CatalogRequest = serde_json::from_str(r#"{"op":"dhtCheck"}"#).unwrap();
        assert_eq!(check, CatalogRequest::DhtCheck);
        assert!(serde_json::from_str::<CatalogRequest>(r#"{"op":"providers"}"#).is_err());

        let hint = CatalogFrame::Provider(ProviderHint {
            peer_id: "12D3KooW".into(),
            addresses: vec!["/ip4/127.0.0.1/tcp/1".into()],
        });
        assert_eq!(
            serde_json::to_string(&hint).unwrap(),
            r#"{"provider":{"peerId":"12D3KooW","addresses":["/ip4/127.0.0.1/tcp/1"]}}"#
        );
        let answered: CatalogFrame =
            serde_json::from_str(r#"{"dhtCheck":{"answered":3}}"#).unwrap();
        assert_eq!(answered, CatalogFrame::DhtCheck { answered: 3 });
        let extra = r#"{"provider":{"peerId":"x","addresses":[],"signed":true}}"#;
        assert!(serde_json::from_str::<CatalogFrame>(extra).is_err());
        assert_eq!(
            answer_items(&Catalog::default(), &CatalogRequest::DhtCheck),
            None
        );
    }
}
