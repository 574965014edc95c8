//! The `FabstirSDK` JavaScript class: a thin newtype over the client core.
//!
//! Promise-returning methods clone the shared handle before their future starts, so a JS call
//! to `.free()` while a promise is pending cannot pull the state out from under it.

mod abort;
mod chat;
mod convert;
mod diagnostics;
mod identity;
mod listeners;
mod models;
mod receipts;
mod secure_page;
mod start;
mod submit;

use abort::{split_signal, Abort};
use convert::{options_from_js, pretty_json};
use start::start;
use submit::submit;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Function, Promise};
use libp2p::identity::Keypair;
use libp2p::PeerId;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::client::{Client, EVENT_BUFFER};
use crate::config::{SdkConfig, ValidConfig};
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::market::discovery::DiscoverOptions;
use crate::market::negotiation::JobSpec;
use crate::net::rt;
use crate::wasm::emitter::Emitter;
use crate::wasm::job::{Job, Opened};
use crate::wasm::js_error::to_js;
use crate::wasm::promise::future_to_promise;

pub(super) enum State {
    Stopped,
    Starting(Client),
    Running(Client),
}

pub(super) struct Shared {
    config: ValidConfig,
    /// The page's `p2pConfig.security.authenticate`, when given.
    authenticate: Option<Function>,
    /// The key; `None` until the first `start()` reads it from IndexedDB (`identity.persist`).
    key: RefCell<Option<Keypair>>,
    /// `identity.persist`'s key and memory were read (always true without it).
    loaded: Cell<bool>,
    /// What earlier clients of this object (or, persisted, of this origin) learnt of hosts and
    /// the receipts they received; the running client's registry holds it while started.
    memory: RefCell<crate::market::memory::Memory>,
    state: RefCell<State>,
    /// Bumped by every start() and stop(): a start() whose bootstrap finishes after another
    /// start()/stop() must not install its client.
    generation: Cell<u64>,
    emitter: Rc<Emitter>,
}

impl Shared {
    /// The running (or starting) client, or `NOT_STARTED`.
    fn client(&self) -> Result<Client, SdkError> {
        match &*self.state.borrow() {
            State::Starting(c) | State::Running(c) => Ok(c.clone()),
            State::Stopped => Err(SdkError::NotStarted),
        }
    }
}

/// A peer-to-peer LLM client. Create it with a config object, then `await sdk.start()`.
#[wasm_bindgen(js_name = FabstirSDK)]
pub struct FabstirSdk {
    inner: Rc<Shared>,
}

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// Validates `config` and creates an identity (or, with `identity.persist`, leaves it to
    /// `start()` to read the kept one); throws a `FabstirError` with
    /// `code === "INVALID_CONFIG"` naming the field when the config is invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "FabstirConfig")] config: JsValue,
    ) -> Result<FabstirSdk, JsValue> {
        // serde-wasm-bindgen reads a struct field by field and never sees extra keys, so go
        // through a self-describing value: unknown keys are then rejected by name.
        let (config, authenticate) =
            crate::wasm::authenticate::take_authenticate(&config).map_err(to_js)?;
        let text = pretty_json(&config).map_err(|e| {
            to_js(SdkError::config(
                "config",
                format!("not a plain object: {e}"),
            ))
        })?;
        let config = SdkConfig::from_pretty_json(&text).map_err(to_js)?;
        secure_page::check_bootstrap_nodes(&config).map_err(to_js)?;
        let emitter = Rc::new(Emitter::new(config.debug));
        super::install_panic_hook(&emitter);
        let persist = config.identity.persist;
        let key = match &config.identity.key {
            Some(key) => Some(key.clone()),
            None => (!persist).then(Keypair::generate_ed25519),
        };
        let inner = Shared {
            config,
            authenticate,
            key: RefCell::new(key),
            loaded: Cell::new(!persist),
            memory: RefCell::default(),
            state: RefCell::new(State::Stopped),
            generation: Cell::new(0),
            emitter,
        };
        Ok(FabstirSdk {
            inner: Rc::new(inner),
        })
    }

    /// Connects to the network: dials the bootstrap nodes with retries and resolves once one is
    /// connected; rejects with `BOOTSTRAP_FAILED` when none can be reached.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn start(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            start(inner)
                .await
                .map(|()| JsValue::UNDEFINED)
                .map_err(to_js)
        })
    }

    /// Closes every connection; resolves once stopped (also when not started).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn stop(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            inner.generation.set(inner.generation.get() + 1);
            let previous = std::mem::replace(&mut *inner.state.borrow_mut(), State::Stopped);
            if let State::Starting(client) | State::Running(client) = previous {
                inner.remember(&client).await;
                // Already stopped is fine: the loop may have ended on its own.
                let _ = client.net().stop().await;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Whether `start()` has completed and `stop()` has not been called since.
    #[wasm_bindgen(js_name = isStarted)]
    pub fn is_started(&self) -> bool {
        matches!(*self.inner.state.borrow(), State::Running(_))
    }

    /// The connected peers.
    #[wasm_bindgen(js_name = getConnectedPeers, unchecked_return_type = "Promise<PeerInfo[]>")]
    pub fn get_connected_peers(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            to_value(inner.client().map_err(to_js)?.net().connected_peers().await)
        })
    }

    /// Our listen addresses: `/p2p-circuit` addresses once a relay accepted our reservation.
    #[wasm_bindgen(js_name = getListenAddresses, unchecked_return_type = "Promise<string[]>")]
    pub fn get_listen_addresses(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            to_value(
                inner
                    .client()
                    .map_err(to_js)?
                    .net()
                    .listen_addresses()
                    .await,
            )
        })
    }

    /// Connection counters, and the catalogs' host records this SDK refused.
    #[wasm_bindgen(js_name = getP2PMetrics, unchecked_return_type = "Promise<P2PMetrics>")]
    pub fn get_p2p_metrics(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let client = inner.client().map_err(to_js)?;
            let metrics = client.net().metrics().await;
            to_value(metrics.map(|m| client.market().with_refused_records(m)))
        })
    }

    /// Dials a multiaddr (WebSocket, WebRTC-direct or `/p2p-circuit`); resolves to the peer id.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn dial(&self, multiaddr: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let address = crate::config::multiaddr_text::parse(&multiaddr).map_err(|e| {
                to_js(SdkError::argument(
                    "multiaddr",
                    format!("{multiaddr:?} is not a multiaddr: {e}"),
                ))
            })?;
            secure_page::check_dial(&address).map_err(to_js)?;
            let peer = inner
                .client()
                .map_err(to_js)?
                .net()
                .dial(address)
                .await
                .map_err(to_js)?;
            Ok(peer.to_string().into())
        })
    }

    /// Pings a connected peer; resolves to the round-trip time in milliseconds (each ping is a
    /// new stream, whose protocol the peer confirms within that same round trip).
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn ping(&self, #[wasm_bindgen(js_name = peerId)] peer_id: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let peer = parse_peer_id(&peer_id)?;
            let rtt = inner
                .client()
                .map_err(to_js)?
                .net()
                .ping(peer)
                .await
                .map_err(to_js)?;
            Ok(rtt.into())
        })
    }

    /// Asks a connected node for its capabilities: models, prices, limits, load.
    #[wasm_bindgen(js_name = getNodeInfo, unchecked_return_type = "Promise<NodeInfo>")]
    pub fn get_node_info(&self, #[wasm_bindgen(js_name = peerId)] peer_id: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let peer = parse_peer_id(&peer_id)?;
            to_value(
                inner
                    .client()
                    .map_err(to_js)?
                    .market()
                    .node_info(peer)
                    .await,
            )
        })
    }

    /// How reliable a host has been for this SDK instance: job counts, mean time to first token,
    /// success rate, the reliability host selection uses, and its circuit (blacklist) state.
    #[wasm_bindgen(js_name = getNodeReliability, unchecked_return_type = "NodeReliability")]
    pub fn get_node_reliability(
        &self,
        #[wasm_bindgen(js_name = peerId)] peer_id: String,
    ) -> Result<JsValue, JsValue> {
        let peer = parse_peer_id(&peer_id)?;
        let client = self.inner.client().map_err(to_js)?;
        to_value(Ok(client.market().node_reliability(peer)))
    }

    /// Closes every connection to a peer; resolves to false when there was none.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn disconnect(&self, #[wasm_bindgen(js_name = peerId)] peer_id: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let peer = parse_peer_id(&peer_id)?;
            let was = inner
                .client()
                .map_err(to_js)?
                .net()
                .disconnect(peer)
                .await
                .map_err(to_js)?;
            Ok(was.into())
        })
    }

    /// Finds hosts of a model in the bootstrap nodes' catalogs (through the DHT, looked up by
    /// them, when none lists one; cached for `p2pConfig.discoveryCacheTtl`), connects to each and
    /// probes it for its capabilities and round trip, and filters and orders them. The
    /// connections stay open (a node closes one idle for its `idle_timeout_secs`, 10 minutes by
    /// default): a job submitted meanwhile starts on them, so calling this when the page's model
    /// is chosen brings its first token sooner.
    #[wasm_bindgen(js_name = discoverNodes, unchecked_return_type = "Promise<DiscoveredNode[]>")]
    pub fn discover_nodes(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DiscoverOptions")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let options: DiscoverOptions = options_from_js("options", options)?;
            to_value(
                inner
                    .client()
                    .map_err(to_js)?
                    .market()
                    .discover_nodes(&options)
                    .await,
            )
        })
    }

    /// Starts the job at once on the model's best host (cheapest by its signed record, then
    /// nearest) that has a free slot at prices within the request's maxima; when that host does
    /// not start it, asks the next few for offers at once and starts it on the cheapest
    /// acceptable one (ties: more reliable, then lower latency). Resolves to its `Job`. `request.signal`
    /// (an `AbortSignal`) cancels the negotiation or, later, the job.
    #[wasm_bindgen(js_name = submitJobWithNegotiation, unchecked_return_type = "Promise<Job>")]
    pub fn submit_job_with_negotiation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JobRequestOptions")] request: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(submit(inner, request, None))
    }

    /// `submitJobWithNegotiation` that tries again when negotiating or opening the stream fails
    /// for a reason another attempt may not meet (network, timeouts, no or busy hosts), waiting
    /// `initialDelay · backoffFactor^n` ms (capped at `maxDelay`, with jitter) before each retry
    /// and emitting `job:retry`. A failure in the request itself is not retried. Once streaming,
    /// the job recovers by failover (`p2pConfig.failover`).
    /// (Typed in the `FabstirSDK` interface of `types.rs`, where `options` is optional.)
    #[wasm_bindgen(js_name = submitJobWithRetry, skip_typescript)]
    pub fn submit_job_with_retry(&self, request: JsValue, options: JsValue) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let options: crate::market::retry::RetryOptions = if options.is_undefined() {
                crate::market::retry::RetryOptions::default()
            } else {
                options_from_js("options", options)?
            };
            let options = options.validate().map_err(to_js)?;
            submit(inner, request, Some(options)).await
        })
    }

    /// Opens a job's token stream from `resumeFrom` (default 0) as a new `Job` object.
    #[wasm_bindgen(js_name = createResponseStream, unchecked_return_type = "Promise<Job>")]
    pub fn create_response_stream(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ResponseStreamOptions")] options: JsValue,
    ) -> Promise {
        self.open_stream(options, Some(0))
    }

    /// Continues a job's token stream, by default right after the last token this SDK received
    /// for it; the host replays from `resumeFrom` what it kept.
    #[wasm_bindgen(js_name = resumeResponseStream, unchecked_return_type = "Promise<Job>")]
    pub fn resume_response_stream(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ResponseStreamOptions")] options: JsValue,
    ) -> Promise {
        self.open_stream(options, None)
    }
}

pub(super) fn parse_peer_id(text: &str) -> Result<PeerId, JsValue> {
    text.parse().map_err(|e| {
        to_js(SdkError::argument(
            "peerId",
            format!("{text:?} is not a peer id: {e}"),
        ))
    })
}

pub(super) fn to_value<T: Serialize>(value: Result<T, SdkError>) -> Result<JsValue, JsValue> {
    let value = value.map_err(to_js)?;
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value.serialize(&serializer).map_err(|e| {
        to_js(SdkError::Internal(format!(
            "cannot convert a result for JavaScript: {e}"
        )))
    })
}
