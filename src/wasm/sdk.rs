//! The `FabstirSDK` JavaScript class: a thin newtype over the client core.
//!
//! Promise-returning methods clone the shared handle before their future starts, so a JS call
//! to `.free()` while a promise is pending cannot pull the state out from under it.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Function, Promise};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::emitter::Emitter;
use super::job::{Job, Opened};
use super::js_error::to_js;
use crate::client::{Client, EVENT_BUFFER};
use crate::config::{SdkConfig, ValidConfig};
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::market::discovery::DiscoverOptions;
use crate::market::negotiation::JobSpec;
use crate::net::rt;

enum State {
    Stopped,
    Starting(Client),
    Running(Client),
}

struct Shared {
    config: ValidConfig,
    /// The page's `p2pConfig.security.authenticate`, when given.
    authenticate: Option<Function>,
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
        // serde-wasm-bindgen reads a struct field by field and never sees extra keys, so go
        // through a self-describing value: unknown keys are then rejected by name.
        let (config, authenticate) =
            super::authenticate::take_authenticate(&config).map_err(to_js)?;
        let value: serde_json::Value = serde_wasm_bindgen::from_value(config).map_err(|e| {
            to_js(SdkError::config(
                "config",
                format!("not a plain object: {e}"),
            ))
        })?;
        let config = SdkConfig::from_deserializer(value).map_err(to_js)?;
        let emitter = Rc::new(Emitter::new(config.debug));
        super::install_panic_hook(&emitter);
        let inner = Shared {
            config,
            authenticate,
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

    /// Connection counters.
    #[wasm_bindgen(js_name = getP2PMetrics, unchecked_return_type = "Promise<P2PMetrics>")]
    pub fn get_p2p_metrics(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(
            async move { to_value(inner.client().map_err(to_js)?.net().metrics().await) },
        )
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
                .net()
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

    /// Finds hosts of a model through the DHT (cached for `p2pConfig.discoveryCacheTtl`),
    /// probes each for its capabilities and round trip, and filters and orders them.
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

    /// Asks several hosts of the model for offers at once, starts the job on the cheapest
    /// acceptable one (ties: lower latency) and resolves to its `Job`. `request.signal`
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

    /// A report on the SDK's state: connections, discovery, jobs, measured performance, and
    /// issues with recommendations. Works before `start()` too (then `unhealthy`).
    #[wasm_bindgen(js_name = getSystemHealthReport, unchecked_return_type = "Promise<HealthReport>")]
    pub fn get_system_health_report(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let client = match &*inner.state.borrow() {
                State::Running(c) => Some(c.clone()),
                _ => None,
            };
            let report = match client {
                Some(c) => crate::diagnostics::health::health_report(c.market()).await,
                None => Ok(crate::diagnostics::health::stopped_report(
                    inner.key.public().to_peer_id().to_string(),
                    inner.config.enable_dht,
                )),
            };
            to_value(report)
        })
    }

    /// Live checks: each bootstrap node dialed and pinged, a DHT lookup, and how this browser is
    /// reachable.
    #[wasm_bindgen(js_name = testP2PConnectivity, unchecked_return_type = "Promise<ConnectivityReport>")]
    pub fn test_p2p_connectivity(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let client = inner.client().map_err(to_js)?;
            to_value(crate::diagnostics::health::connectivity(client.net()).await)
        })
    }

    /// Round trip and throughput to a connected node over `/fabstir/perf/1.0.0` (default 1 MiB
    /// each way, at most 16 MiB).
    #[wasm_bindgen(js_name = testNetworkPerformance, unchecked_return_type = "Promise<PerfReport>")]
    pub fn test_network_performance(
        &self,
        #[wasm_bindgen(js_name = peerId)] peer_id: String,
        #[wasm_bindgen(unchecked_param_type = "PerfOptions | undefined")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let peer = parse_peer_id(&peer_id)?;
            let options: crate::diagnostics::perf::PerfOptions =
                if options.is_undefined() || options.is_null() {
                    crate::diagnostics::perf::PerfOptions::default()
                } else {
                    options_from_js("options", options)?
                };
            let client = inner.client().map_err(to_js)?;
            to_value(
                crate::diagnostics::perf::network_performance(client.net(), peer, options).await,
            )
        })
    }

    /// Calls `callback` with each event named `name`; returns a function that unsubscribes.
    /// (Typed generically per event name in the `FabstirSDK` interface of `types.rs`.)
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, name: String, callback: Function) -> Result<JsValue, JsValue> {
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
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, name: String, callback: Function) -> Result<(), JsValue> {
        self.inner.emitter.off(&name, &callback).map_err(to_js)
    }
}

impl FabstirSdk {
    fn open_stream(&self, options: JsValue, default_from: Option<u64>) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let requested_at = rt::now_ms();
            let options: StreamOptions = options_from_js("options", options)?;
            let client = inner.client().map_err(to_js)?;
            let from = options.resume_from.or(default_from);
            let (reader, canceller, record) = client
                .market()
                .open_stream(&options.job_id, from)
                .await
                .map_err(to_js)?;
            let opened = Opened {
                job_id: options.job_id,
                record,
                reader,
                canceller,
                requested_at,
                spec: None,
            };
            Ok(Job::start(client, inner.emitter.clone(), opened).0)
        })
    }
}

/// Negotiates a job and opens its stream (with retries when `retry` is given), then starts its
/// `Job`; `request.signal` aborts all of it.
async fn submit(
    inner: Rc<Shared>,
    request: JsValue,
    retry: Option<crate::market::retry::RetryOptions>,
) -> Result<JsValue, JsValue> {
    let requested_at = rt::now_ms();
    let (request, signal) = split_signal(request)?;
    let spec: JobSpec = options_from_js("request", request)?;
    let client = inner.client().map_err(to_js)?;
    let abort = Abort::watch(signal.as_ref());
    if abort.aborted() {
        return Err(to_js(SdkError::Cancelled(
            "the signal was already aborted".into(),
        )));
    }
    let mut attempt = 0;
    let (negotiated, reader, canceller, record) = loop {
        attempt += 1;
        let attempted = async {
            let negotiated = client.market().submit_job(&spec).await?;
            // The host runs the job now: a connection lost before its stream opened is not
            // the end of it (3 tries within failover.resumeWithin, as for a cut stream).
            let within =
                std::time::Duration::from_millis(client.net().config().failover.resume_within);
            let (reader, canceller) = match client
                .market()
                .open_stream(&negotiated.job_id, Some(0))
                .await
            {
                Ok((reader, canceller, _)) => (reader, canceller),
                Err(first) => client
                    .market()
                    .resume_within(&negotiated.job_id, 0, within)
                    .await
                    .map_err(|_| first)?,
            };
            let record = client.market().job(&negotiated.job_id)?;
            Ok::<_, SdkError>((negotiated, reader, canceller, record))
        };
        let error = match abort.race(attempted).await {
            None => {
                return Err(to_js(SdkError::Cancelled(
                    "aborted during negotiation".into(),
                )))
            }
            Some(Ok(done)) => break done,
            Some(Err(e)) => e,
        };
        let Some(options) =
            retry.filter(|o| attempt <= o.max_retries && crate::market::retry::retryable(&error))
        else {
            return Err(to_js(error));
        };
        let delay = options.delay(attempt, rt::random());
        client.net().emit(SdkEvent::JobRetry {
            attempt,
            max_retries: options.max_retries,
            delay: delay.as_secs_f64() * 1000.0,
            code: error.code(),
            error: error.to_string(),
        });
        if abort.race(rt::sleep(delay)).await.is_none() {
            return Err(to_js(SdkError::Cancelled(
                "aborted while waiting to retry".into(),
            )));
        }
    };
    let opened = Opened {
        job_id: negotiated.job_id,
        record,
        reader,
        canceller,
        requested_at,
        spec: Some(spec),
    };
    let (job, state) = Job::start(client, inner.emitter.clone(), opened);
    abort.cancel_job_on_abort(&state);
    Ok(job)
}

/// `createResponseStream` / `resumeResponseStream` options.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StreamOptions {
    job_id: String,
    #[serde(default)]
    resume_from: Option<u64>,
}

/// Deserializes an options object strictly: unknown keys and bad values are
/// `INVALID_ARGUMENT` naming the field.
fn options_from_js<T: serde::de::DeserializeOwned>(
    name: &str,
    value: JsValue,
) -> Result<T, JsValue> {
    let value: serde_json::Value = serde_wasm_bindgen::from_value(value)
        .map_err(|e| to_js(SdkError::argument(name, format!("not a plain object: {e}"))))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            name.to_string()
        } else {
            format!("{name}.{path}")
        };
        to_js(SdkError::argument(field, e.into_inner().to_string()))
    })
}

/// Takes `signal` off a request object (it is not data) and returns both.
fn split_signal(request: JsValue) -> Result<(JsValue, Option<web_sys::AbortSignal>), JsValue> {
    if !request.is_object() {
        return Err(to_js(SdkError::argument("request", "must be an object")));
    }
    let signal = js_sys::Reflect::get(&request, &"signal".into()).unwrap_or(JsValue::UNDEFINED);
    if signal.is_undefined() || signal.is_null() {
        return Ok((request, None));
    }
    let signal: web_sys::AbortSignal = signal.dyn_into().map_err(|_| {
        to_js(SdkError::argument(
            "request.signal",
            "must be an AbortSignal",
        ))
    })?;
    let copy = js_sys::Object::assign(&js_sys::Object::new(), request.unchecked_ref());
    let _ = js_sys::Reflect::delete_property(&copy, &"signal".into());
    Ok((copy.into(), Some(signal)))
}

/// An `AbortSignal` seen from Rust: whether it fired, a future for when it does, and
/// cancelling a job when it does.
struct Abort {
    signal: Option<web_sys::AbortSignal>,
    receiver: futures::future::Shared<futures::channel::oneshot::Receiver<()>>,
    job: Rc<RefCell<Weak<super::job::JobState>>>,
    listener: Option<Closure<dyn FnMut()>>,
}

impl Abort {
    fn watch(signal: Option<&web_sys::AbortSignal>) -> Abort {
        let (tx, rx) = futures::channel::oneshot::channel();
        let mut fired = Some(tx);
        let job: Rc<RefCell<Weak<super::job::JobState>>> = Rc::default();
        let listener = signal.map(|signal| {
            let job = job.clone();
            let closure = Closure::<dyn FnMut()>::new(move || {
                if let Some(tx) = fired.take() {
                    let _ = tx.send(());
                }
                if let Some(state) = job.borrow().upgrade() {
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(e) = super::job::cancel(state).await {
                            web_sys::console::warn_1(&format!("fabstir-sdk: abort: {e}").into());
                        }
                    });
                }
            });
            let _ =
                signal.add_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
            closure
        });
        Abort {
            signal: signal.cloned(),
            receiver: futures::FutureExt::shared(rx),
            job,
            listener,
        }
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(|s| s.aborted())
    }

    /// Resolves when the signal fires (never without a signal).
    async fn wait(&self) {
        if self.signal.is_none() || self.receiver.clone().await.is_err() {
            futures::future::pending::<()>().await;
        }
    }

    /// Runs `work` unless the signal fires first (`None`).
    async fn race<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let aborted = self.wait();
        futures::pin_mut!(work, aborted);
        match futures::future::select(work, aborted).await {
            futures::future::Either::Left((done, _)) => Some(done),
            futures::future::Either::Right(_) => None,
        }
    }

    /// From now on the signal cancels the job; the job owns the listener and removes it from
    /// the signal when it ends.
    fn cancel_job_on_abort(mut self, job: &Rc<super::job::JobState>) {
        let (Some(signal), Some(listener)) = (self.signal.take(), self.listener.take()) else {
            return;
        };
        *self.job.borrow_mut() = Rc::downgrade(job);
        job.own_abort_listener(signal, listener);
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        if let (Some(signal), Some(listener)) = (&self.signal, &self.listener) {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

async fn start(inner: Rc<Shared>) -> Result<(), SdkError> {
    if !matches!(*inner.state.borrow(), State::Stopped) {
        return Err(SdkError::AlreadyStarted);
    }
    let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
    let (mut client, event_loop) =
        Client::new(inner.key.clone(), inner.config.clone(), events_tx).await?;
    if let Some(callback) = inner.authenticate.clone() {
        let questions = client.ask_before_using_hosts();
        rt::spawn(super::authenticate::answer(callback, questions));
    }
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
    let result = client.net().bootstrap().await;
    if inner.generation.get() != generation {
        // stop() (and maybe another start()) ran while we were bootstrapping.
        let _ = client.net().stop().await;
        return Err(SdkError::Stopped);
    }
    match result {
        Ok(()) => {
            rt::spawn(client.net().clone().keep_bootstrap_connected());
            *inner.state.borrow_mut() = State::Running(client);
            Ok(())
        }
        Err(e) => {
            *inner.state.borrow_mut() = State::Stopped;
            let _ = client.net().stop().await;
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
