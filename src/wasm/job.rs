//! The `Job` JavaScript class: one token stream of a job, as events (`on`), an async iterator,
//! `text()`, and `cancel()`.
//!
//! A driver task reads the stream from the moment the `Job` exists and keeps every token, so
//! nothing is lost whichever way (or however late) the page consumes them.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Function, Promise};
use libp2p::PeerId;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::emitter::{Emitter, Listeners};
use super::js_error::to_js;
use crate::client::Client;
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::market::stream::{Canceller, StreamEnd, StreamEvent, Token, TokenReader};

#[wasm_bindgen(inline_js = "
export function makeAsyncIterable(object, method) {
  const proto = Object.getPrototypeOf(object);
  if (!Object.prototype.hasOwnProperty.call(proto, Symbol.asyncIterator)) {
    Object.defineProperty(proto, Symbol.asyncIterator, {
      value: function () { return method === null ? this : this[method](); },
    });
  }
  return object;
}
")]
extern "C" {
    /// Gives `object`'s class a `[Symbol.asyncIterator]` that calls `method` (or returns the
    /// object itself when `method` is null).
    #[wasm_bindgen(js_name = makeAsyncIterable)]
    fn make_async_iterable(object: JsValue, method: Option<String>) -> JsValue;
}

/// How long `cancel()` waits for the host to confirm with its end frame.
const CANCEL_CONFIRM_MS: u64 = 10_000;

/// Everything a job's stream has delivered, and who is waiting for more.
pub(super) struct JobState {
    job_id: String,
    /// The host streaming it now (another one after a failover).
    node: Cell<PeerId>,
    /// The job's id on that host (a failover starts a new job there).
    host_job_id: RefCell<String>,
    /// Added to the host's token indexes (the tokens received before a failover).
    offset: Cell<u64>,
    /// What was asked, for a failover; none for a stream opened by job id.
    spec: Option<crate::market::negotiation::JobSpec>,
    failovers: Cell<u32>,
    price_per_token: u64,
    resumed_from: u64,
    client: Client,
    emitter: Rc<Emitter>,
    tokens: RefCell<Vec<Token>>,
    outcome: RefCell<Option<Result<StreamEnd, SdkError>>>,
    listeners: Listeners,
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
    canceller: RefCell<Option<Canceller>>,
    cancelling: Cell<bool>,
    /// When the page asked for this stream (ms since the epoch), for time to first token.
    requested_at: f64,
    first_token_at: Cell<Option<f64>>,
    /// An `AbortSignal` listener that cancels this job; removed when the job ends.
    abort: RefCell<Option<AbortListener>>,
}

/// A listener registered on an `AbortSignal`.
type AbortListener = (web_sys::AbortSignal, Closure<dyn FnMut()>);

impl JobState {
    /// Keeps `listener` (registered on `signal`) until the job ends.
    pub(super) fn own_abort_listener(
        &self,
        signal: web_sys::AbortSignal,
        listener: Closure<dyn FnMut()>,
    ) {
        if self.outcome.borrow().is_some() {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
            return;
        }
        *self.abort.borrow_mut() = Some((signal, listener));
    }

    /// The text of the tokens received so far.
    fn text(&self) -> String {
        self.tokens
            .borrow()
            .iter()
            .map(|t| t.content.as_str())
            .collect()
    }

    fn wake(&self) {
        for w in self.waiters.borrow_mut().drain(..) {
            let _ = w.send(());
        }
    }

    /// Resolves at the next token or at the end.
    async fn changed(&self) {
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push(tx);
        let _ = rx.await;
    }

    fn on_token(&self, mut token: Token) {
        token.index += self.offset.get();
        if self.first_token_at.get().is_none() {
            self.first_token_at.set(Some(crate::net::rt::now_ms()));
        }
        self.client
            .market()
            .record_progress(&self.job_id, token.index + 1);
        if self.emitter.has_listeners("stream:token") {
            self.emitter.emit(&SdkEvent::StreamToken {
                job_id: self.job_id.clone(),
                node_id: self.node.get().to_string(),
                index: token.index,
                content: token.content.clone(),
            });
        }
        // Build the JS object only for listeners (the iterator makes its own when asked).
        let listened = self.listeners.has("token");
        let value = listened.then(|| to_plain(&token));
        self.tokens.borrow_mut().push(token);
        if let Some(value) = value {
            self.listeners.call("token", &value);
        }
        self.wake();
    }

    /// What this stream delivered, for the SDK's totals and the host's reputation.
    fn summary(&self, success: Option<bool>, bytes: u64) -> crate::market::jobs::StreamSummary {
        let tokens = self.tokens.borrow().len() as u64;
        let first = self.first_token_at.get();
        let now = crate::net::rt::now_ms();
        crate::market::jobs::StreamSummary {
            node: self.node.get(),
            success,
            tokens,
            bytes,
            time_to_first_token: first.map(|f| f - self.requested_at),
            tokens_per_second: first
                .filter(|f| tokens > 1 && now > *f)
                .map(|f| (tokens - 1) as f64 / ((now - f) / 1000.0)),
        }
    }

    fn finish(&self, outcome: Result<StreamEnd, SdkError>, bytes: u64) {
        let outcome = outcome.map(|mut end| {
            end.total_tokens += self.offset.get();
            end
        });
        let cancelled = self.cancelling.get()
            || matches!(&outcome, Ok(end) if end.finish_reason == fabstir_protocol::messages::FinishReason::Cancelled);
        let success = (!cancelled).then_some(outcome.is_ok());
        self.client
            .market()
            .record_stream(&self.summary(success, bytes));
        self.client.net().debug(
            "stream",
            if outcome.is_ok() { "info" } else { "warn" },
            || match &outcome {
                Ok(end) => format!(
                    "job {} stream ended: {} tokens, {:?}",
                    self.job_id, end.total_tokens, end.finish_reason
                ),
                Err(e) => format!("job {} stream failed: {e}", self.job_id),
            },
        );
        self.canceller.borrow_mut().take();
        if let Some((signal, listener)) = self.abort.borrow_mut().take() {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
        match &outcome {
            Ok(end) => {
                self.emitter.emit(&SdkEvent::StreamEnd {
                    job_id: self.job_id.clone(),
                    node_id: self.node.get().to_string(),
                    total_tokens: end.total_tokens,
                    duration: end.duration,
                    finish_reason: end.finish_reason,
                });
                let value = to_plain(&EndEvent {
                    job_id: &self.job_id,
                    end,
                });
                *self.outcome.borrow_mut() = Some(outcome.clone());
                self.listeners.call("end", &value);
            }
            Err(e) => {
                *self.outcome.borrow_mut() = Some(outcome.clone());
                self.listeners.call("error", &to_js(e.clone()));
            }
        }
        self.wake();
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndEvent<'a> {
    job_id: &'a str,
    #[serde(flatten)]
    end: &'a StreamEnd,
}

/// Reads the stream into the state until it ends.
///
/// A stream that the host closed before sending a single byte was dropped by the host's accept
/// queue (see `crate::net::dropped`); it is opened again, up to 3 times, from the same token. Any
/// other failure is recovered by [`recover`] when `p2pConfig.failover` allows.
async fn drive(state: Rc<JobState>, mut reader: TokenReader) {
    let mut bytes = 0;
    let mut reopened = 0;
    loop {
        match reader.next().await {
            Ok(StreamEvent::Token(token)) => state.on_token(token),
            Ok(StreamEvent::End(end)) => return state.finish(Ok(end), bytes + reader.bytes_read()),
            Err(SdkError::StreamFailed { .. })
                if reader.bytes_read() == 0 && reopened < 3 && !state.cancelling.get() =>
            {
                reopened += 1;
                crate::net::rt::sleep(std::time::Duration::from_millis(10 << (2 * reopened))).await;
                let host_job = state.host_job_id.borrow().clone();
                match state
                    .client
                    .market()
                    .open_stream(&host_job, Some(reader.next_index()))
                    .await
                {
                    Ok((again, canceller, _)) => {
                        bytes += reader.bytes_read();
                        *state.canceller.borrow_mut() = Some(canceller);
                        reader = again;
                    }
                    Err(e) => return state.finish(Err(e), bytes),
                }
            }
            Err(e) => {
                bytes += reader.bytes_read();
                match recover(&state, reader.next_index(), e).await {
                    Ok(again) => reader = again,
                    Err(e) => return state.finish(Err(e), bytes),
                }
            }
        }
    }
}

/// After `error` at host index `next`: the same host again within `failover.resumeWithin`,
/// then another host continuing from the tokens received (`job:failover`). The error returned
/// is the first one, with what recovery found appended.
async fn recover(state: &JobState, next: u64, error: SdkError) -> Result<TokenReader, SdkError> {
    let config = state.client.net().config().failover;
    if !config.enabled || state.cancelling.get() || !crate::market::failover::recoverable(&error) {
        return Err(error);
    }
    let within = std::time::Duration::from_millis(config.resume_within);
    let host_job = state.host_job_id.borrow().clone();
    let resumed = state
        .client
        .market()
        .resume_within(&host_job, next, within)
        .await;
    let resume_error = match resumed {
        Ok((reader, canceller)) => {
            *state.canceller.borrow_mut() = Some(canceller);
            state.client.net().debug("stream", "info", || {
                format!(
                    "job {} resumed on the same host at token {next}",
                    state.job_id
                )
            });
            return Ok(reader);
        }
        Err(e) => e,
    };
    let (Some(spec), 0) = (&state.spec, state.resumed_from) else {
        return Err(error);
    };
    if state.failovers.get() >= config.max_failovers {
        return Err(error);
    }
    let from = state.node.get();
    state.client.market().record_host_failure(from);
    let received = state.tokens.borrow().len() as u64;
    let moved = state
        .client
        .market()
        .fail_over(spec, state.text(), received, &[from])
        .await;
    let (negotiated, reader, canceller) =
        moved.map_err(|e| with_note(error.clone(), &resume_error, &e))?;
    let to: PeerId = negotiated
        .node_id
        .parse()
        .map_err(|e| SdkError::Internal(format!("negotiated with a bad peer id: {e}")))?;
    state.failovers.set(state.failovers.get() + 1);
    state.node.set(to);
    state.offset.set(received);
    *state.host_job_id.borrow_mut() = negotiated.job_id;
    *state.canceller.borrow_mut() = Some(canceller);
    state.emitter.emit(&SdkEvent::JobFailover {
        job_id: state.job_id.clone(),
        from_node: from.to_string(),
        to_node: to.to_string(),
        reason: error.to_string(),
        resumed_at: received,
    });
    Ok(reader)
}

/// `error`, with why neither resuming nor failing over helped.
fn with_note(error: SdkError, resume: &SdkError, failover: &SdkError) -> SdkError {
    let note = format!("; resuming failed ({resume}) and no other host took over ({failover})");
    match error {
        SdkError::StreamFailed { peer_id, reason } => SdkError::StreamFailed {
            peer_id,
            reason: reason + &note,
        },
        other => other,
    }
}

/// A job's token stream. Returned by `submitJobWithNegotiation`, `createResponseStream` and
/// `resumeResponseStream`; also an async iterable of tokens (`for await (const t of job)`).
#[wasm_bindgen]
pub struct Job {
    state: Rc<JobState>,
}

/// An opened token stream of a job, ready to become a `Job`.
pub(super) struct Opened {
    /// The job.
    pub job_id: String,
    /// What the SDK knows about it.
    pub record: crate::market::jobs::JobRecord,
    /// The stream.
    pub reader: TokenReader,
    /// Cancels over the stream.
    pub canceller: Canceller,
    /// When the page asked (ms since the epoch).
    pub requested_at: f64,
    /// What was asked (lets the job fail over to another host); none when opened by job id.
    pub spec: Option<crate::market::negotiation::JobSpec>,
}

impl Job {
    /// Starts reading the opened stream and returns the JS object.
    pub(super) fn start(
        client: Client,
        emitter: Rc<Emitter>,
        opened: Opened,
    ) -> (JsValue, Rc<JobState>) {
        let Opened {
            job_id,
            record,
            reader,
            canceller,
            requested_at,
            spec,
        } = opened;
        let state = Rc::new(JobState {
            host_job_id: RefCell::new(job_id.clone()),
            job_id,
            node: Cell::new(record.node),
            offset: Cell::new(0),
            spec,
            failovers: Cell::new(0),
            price_per_token: record.price_per_token,
            resumed_from: reader.next_index(),
            client,
            emitter,
            tokens: RefCell::new(Vec::new()),
            outcome: RefCell::new(None),
            listeners: Listeners::new("a job listener"),
            waiters: RefCell::new(Vec::new()),
            canceller: RefCell::new(Some(canceller)),
            cancelling: Cell::new(false),
            requested_at,
            first_token_at: Cell::new(None),
            abort: RefCell::new(None),
        });
        wasm_bindgen_futures::spawn_local(drive(state.clone(), reader));
        let job = Job {
            state: state.clone(),
        };
        (
            make_async_iterable(job.into(), Some("tokens".into())),
            state,
        )
    }
}

#[wasm_bindgen]
impl Job {
    /// The job's id (the host's).
    #[wasm_bindgen(getter, js_name = jobId)]
    pub fn job_id(&self) -> String {
        self.state.job_id.clone()
    }

    /// The host's peer id.
    #[wasm_bindgen(getter, js_name = nodeId)]
    pub fn node_id(&self) -> String {
        self.state.node.get().to_string()
    }

    /// The agreed price per token.
    #[wasm_bindgen(getter, js_name = pricePerToken)]
    pub fn price_per_token(&self) -> f64 {
        self.state.price_per_token as f64
    }

    /// The index of this stream's first token (0 unless resumed).
    #[wasm_bindgen(getter, js_name = resumedFrom)]
    pub fn resumed_from(&self) -> f64 {
        self.state.resumed_from as f64
    }

    /// Tokens this stream has delivered so far.
    #[wasm_bindgen(getter, js_name = tokenCount)]
    pub fn token_count(&self) -> u32 {
        self.state.tokens.borrow().len() as u32
    }

    /// Calls `callback` for `"token"` (each token), `"end"` or `"error"`; returns a function that
    /// unsubscribes. A listener added late is first called, at once, with what already arrived,
    /// so no token is missed.
    /// (Typed per event name in the `Job` interface of `types.rs`.)
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, name: String, callback: Function) -> Result<JsValue, JsValue> {
        let name: &'static str = match name.as_str() {
            "token" => "token",
            "end" => "end",
            "error" => "error",
            other => {
                return Err(to_js(SdkError::argument(
                    "name",
                    format!("unknown job event {other:?}; known: token, end, error"),
                )))
            }
        };
        let s = &self.state;
        match name {
            "token" => {
                for t in s.tokens.borrow().iter() {
                    s.listeners.call_one(&callback, name, &to_plain(t));
                }
            }
            "end" => {
                if let Some(Ok(end)) = &*s.outcome.borrow() {
                    let value = to_plain(&EndEvent {
                        job_id: &s.job_id,
                        end,
                    });
                    s.listeners.call_one(&callback, name, &value);
                }
            }
            _ => {
                if let Some(Err(e)) = &*s.outcome.borrow() {
                    s.listeners.call_one(&callback, name, &to_js(e.clone()));
                }
            }
        }
        s.listeners.add(name, callback.clone());
        let state = Rc::downgrade(&self.state);
        Ok(Closure::once_into_js(move || {
            if let Some(state) = state.upgrade() {
                state.listeners.remove(name, &callback);
            }
        }))
    }

    /// An async iterator over this stream's tokens, from its first; it throws the job's error
    /// after the last token that arrived.
    #[wasm_bindgen(unchecked_return_type = "AsyncIterableIterator<JobToken>")]
    pub fn tokens(&self) -> JsValue {
        let iterator = JobTokens {
            state: self.state.clone(),
            position: Rc::new(Cell::new(0)),
        };
        make_async_iterable(iterator.into(), None)
    }

    /// Resolves to the stream's whole text once it ends; rejects with the job's error.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn text(&self) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            loop {
                let outcome = state.outcome.borrow().clone();
                match outcome {
                    Some(Ok(_)) => return Ok(state.text().into()),
                    Some(Err(e)) => return Err(to_js(e)),
                    None => state.changed().await,
                }
            }
        })
    }

    /// Stops the job on its host; resolves once the host confirms (the stream ends with
    /// `finishReason: "cancelled"`), or at once if the job already ended.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn cancel(&self) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            cancel(state)
                .await
                .map(|()| JsValue::UNDEFINED)
                .map_err(to_js)
        })
    }
}

/// Cancels the job of `state` (shared by `cancel()` and an `AbortSignal`).
pub(super) async fn cancel(state: Rc<JobState>) -> Result<(), SdkError> {
    if state.outcome.borrow().is_some() {
        return Ok(());
    }
    state.cancelling.set(true);
    let canceller = state.canceller.borrow().clone();
    match canceller {
        Some(c) => c.cancel().await?,
        // The stream already failed: ask over a fresh one.
        None => {
            let host_job = state.host_job_id.borrow().clone();
            return state.client.market().cancel_job(&host_job).await;
        }
    }
    let confirmed =
        crate::net::rt::timeout(std::time::Duration::from_millis(CANCEL_CONFIRM_MS), async {
            while state.outcome.borrow().is_none() {
                state.changed().await;
            }
        });
    confirmed.await.ok_or_else(|| SdkError::Timeout {
        operation: format!("cancel job {}", state.job_id),
        after_ms: CANCEL_CONFIRM_MS,
    })
}

/// The async iterator returned by `job.tokens()` (and by `job[Symbol.asyncIterator]()`).
#[wasm_bindgen]
pub struct JobTokens {
    state: Rc<JobState>,
    position: Rc<Cell<usize>>,
}

#[wasm_bindgen]
impl JobTokens {
    /// The next token as `{ value, done }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<JobToken, undefined>>")]
    pub fn next(&self) -> Promise {
        // A token that already arrived is handed over at once, without a task round trip.
        let i = self.position.get();
        if i != usize::MAX {
            let token = self.state.tokens.borrow().get(i).map(to_plain);
            if let Some(token) = token {
                self.position.set(i + 1);
                return Promise::resolve(&iterator_result(token, false));
            }
        }
        let state = self.state.clone();
        let position = self.position.clone();
        future_to_promise(async move {
            loop {
                let i = position.get();
                if i == usize::MAX {
                    return Ok(iterator_result(JsValue::UNDEFINED, true));
                }
                let token = state.tokens.borrow().get(i).cloned();
                if let Some(token) = token {
                    position.set(i + 1);
                    return Ok(iterator_result(to_plain(&token), false));
                }
                let outcome = state.outcome.borrow().clone();
                match outcome {
                    Some(Ok(_)) => return Ok(iterator_result(JsValue::UNDEFINED, true)),
                    Some(Err(e)) => return Err(to_js(e)),
                    None => state.changed().await,
                }
            }
        })
    }

    /// Ends the iteration early (`break` in `for await`); the job itself goes on.
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<JobToken, undefined>>"
    )]
    pub fn finish(&self) -> Promise {
        self.position.set(usize::MAX);
        Promise::resolve(&iterator_result(JsValue::UNDEFINED, true))
    }
}

fn iterator_result(value: JsValue, done: bool) -> JsValue {
    let result = js_sys::Object::new();
    // Setting properties on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&result, &"value".into(), &value);
    let _ = js_sys::Reflect::set(&result, &"done".into(), &done.into());
    result.into()
}

fn to_plain<T: Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
