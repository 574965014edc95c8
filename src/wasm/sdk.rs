//! The `FabstirSDK` JavaScript class: a thin newtype over the client core.
//!
//! Promise-returning methods clone the shared handle before their future starts, so a JS call
//! to `.free()` while a promise is pending cannot pull the state out from under it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Function, Promise};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::emitter::Emitter;
use super::js_error::to_js;
use crate::client::{Client, EVENT_BUFFER};
use crate::config::{SdkConfig, ValidConfig};
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::rt;

enum State {
    Stopped,
    Starting(Client),
    Running(Client),
}

struct Shared {
    config: ValidConfig,
    key: Keypair,
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
    /// Validates `config` and creates an identity; throws a `FabstirError` with
    /// `code === "INVALID_CONFIG"` naming the field when the config is invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "FabstirConfig")] config: JsValue,
    ) -> Result<FabstirSdk, JsValue> {
        super::install_panic_hook();
        // serde-wasm-bindgen reads a struct field by field and never sees extra keys, so go
        // through a self-describing value: unknown keys are then rejected by name.
        let value: serde_json::Value = serde_wasm_bindgen::from_value(config).map_err(|e| {
            to_js(SdkError::config(
                "config",
                format!("not a plain object: {e}"),
            ))
        })?;
        let config = SdkConfig::from_deserializer(value).map_err(to_js)?;
        let emitter = Rc::new(Emitter::new(config.debug));
        let inner = Shared {
            config,
            key: Keypair::generate_ed25519(),
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
                // Already stopped is fine: the loop may have ended on its own.
                let _ = client.stop().await;
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Whether `start()` has completed and `stop()` has not been called since.
    #[wasm_bindgen(js_name = isStarted)]
    pub fn is_started(&self) -> bool {
        matches!(*self.inner.state.borrow(), State::Running(_))
    }

    /// Our peer id (stable for the lifetime of this object).
    #[wasm_bindgen(js_name = getPeerId)]
    pub fn get_peer_id(&self) -> String {
        self.inner.key.public().to_peer_id().to_string()
    }

    /// The connected peers.
    #[wasm_bindgen(js_name = getConnectedPeers, unchecked_return_type = "Promise<PeerInfo[]>")]
    pub fn get_connected_peers(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            to_value(inner.client().map_err(to_js)?.connected_peers().await)
        })
    }

    /// Our listen addresses: `/p2p-circuit` addresses once a relay accepted our reservation.
    #[wasm_bindgen(js_name = getListenAddresses, unchecked_return_type = "Promise<string[]>")]
    pub fn get_listen_addresses(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            to_value(inner.client().map_err(to_js)?.listen_addresses().await)
        })
    }

    /// Connection counters.
    #[wasm_bindgen(js_name = getP2PMetrics, unchecked_return_type = "Promise<P2PMetrics>")]
    pub fn get_p2p_metrics(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { to_value(inner.client().map_err(to_js)?.metrics().await) })
    }

    /// Dials a multiaddr (WebSocket, WebRTC-direct or `/p2p-circuit`); resolves to the peer id.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn dial(&self, multiaddr: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let address: Multiaddr = multiaddr.parse().map_err(|e| {
                to_js(SdkError::argument(
                    "multiaddr",
                    format!("{multiaddr:?} is not a multiaddr: {e}"),
                ))
            })?;
            let peer = inner
                .client()
                .map_err(to_js)?
                .dial(address)
                .await
                .map_err(to_js)?;
            Ok(peer.to_string().into())
        })
    }

    /// Pings a connected peer; resolves to the round-trip time in milliseconds.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn ping(&self, #[wasm_bindgen(js_name = peerId)] peer_id: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let peer = parse_peer_id(&peer_id)?;
            let rtt = inner
                .client()
                .map_err(to_js)?
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
            to_value(inner.client().map_err(to_js)?.node_info(peer).await)
        })
    }

    /// Calls `callback` with each event named `name`; returns a function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "FabstirEventName")] name: String,
        #[wasm_bindgen(unchecked_param_type = "(event: FabstirEvent) => void")] callback: Function,
    ) -> Result<JsValue, JsValue> {
        self.inner
            .emitter
            .on(&name, callback.clone())
            .map_err(to_js)?;
        let emitter = self.inner.emitter.clone();
        let unsubscribe = Closure::once_into_js(move || {
            let _ = emitter.off(&name, &callback);
        });
        Ok(unsubscribe)
    }

    /// Removes a callback added with `on`.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "FabstirEventName")] name: String,
        #[wasm_bindgen(unchecked_param_type = "(event: FabstirEvent) => void")] callback: Function,
    ) -> Result<(), JsValue> {
        self.inner.emitter.off(&name, &callback).map_err(to_js)
    }
}

async fn start(inner: Rc<Shared>) -> Result<(), SdkError> {
    if !matches!(*inner.state.borrow(), State::Stopped) {
        return Err(SdkError::AlreadyStarted);
    }
    let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
    let (client, event_loop) =
        Client::new(inner.key.clone(), inner.config.clone(), events_tx).await?;
    // Checked again: another start() may have run while the swarm was being built.
    {
        let mut state = inner.state.borrow_mut();
        if !matches!(*state, State::Stopped) {
            return Err(SdkError::AlreadyStarted);
        }
        *state = State::Starting(client.clone());
    }
    let generation = inner.generation.get() + 1;
    inner.generation.set(generation);
    rt::spawn(event_loop.run());
    rt::spawn(dispatch(inner.emitter.clone(), events_rx));
    let result = client.bootstrap().await;
    if inner.generation.get() != generation {
        // stop() (and maybe another start()) ran while we were bootstrapping.
        let _ = client.stop().await;
        return Err(SdkError::Stopped);
    }
    match result {
        Ok(()) => {
            *inner.state.borrow_mut() = State::Running(client);
            Ok(())
        }
        Err(e) => {
            *inner.state.borrow_mut() = State::Stopped;
            let _ = client.stop().await;
            Err(e)
        }
    }
}

/// Hands core events to the page's listeners until the core's event senders are gone.
async fn dispatch(emitter: Rc<Emitter>, mut events: mpsc::Receiver<SdkEvent>) {
    while let Some(event) = events.next().await {
        emitter.emit(&event);
    }
}

fn parse_peer_id(text: &str) -> Result<PeerId, JsValue> {
    text.parse().map_err(|e| {
        to_js(SdkError::argument(
            "peerId",
            format!("{text:?} is not a peer id: {e}"),
        ))
    })
}

fn to_value<T: Serialize>(value: Result<T, SdkError>) -> Result<JsValue, JsValue> {
    let value = value.map_err(to_js)?;
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value.serialize(&serializer).map_err(|e| {
        to_js(SdkError::Internal(format!(
            "cannot convert a result for JavaScript: {e}"
        )))
    })
}
