//! The `Job` JavaScript class: one token stream of a job, as events (`on`), an async iterator,
//! `text()`, and `cancel()`.
//!
//! A driver task reads the stream from the moment the `Job` exists and keeps every token, so
//! nothing is lost whichever way (or however late) the page consumes them.

mod chat;
mod receipt;
mod state;
mod tokens;

use receipt::attach_receipts;
pub(crate) use receipt::receipt_to_js;

pub(crate) use chat::completion;
pub use chat::ChatStream;
pub(crate) use state::JobState;
use state::{drive, EndEvent};
pub use tokens::JobTokens;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Function, Promise};
use libp2p::PeerId;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::client::Client;
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::market::stream::{Canceller, StreamEnd, StreamEvent, Token, TokenReader};
use crate::wasm::emitter::{Emitter, Listeners};
use crate::wasm::js_error::to_js;
use crate::wasm::promise::future_to_promise;

#[wasm_bindgen(inline_js = "
export function makeAsyncIterable(object, method) {
  const proto = Object.getPrototypeOf(object);
  if (!Object.prototype.hasOwnProperty.call(proto, Symbol.asyncIterator)) {
    Object.defineProperty(proto, Symbol.asyncIterator, {
      value: function () { return method == null ? this : this[method](); },
    });
  }
  return object;
}
")]
extern "C" {
    /// Gives `object`'s class a `[Symbol.asyncIterator]` that calls `method` (or returns the
    /// object itself when `method` is none: wasm-bindgen passes it as `undefined`).
    #[wasm_bindgen(js_name = makeAsyncIterable)]
    fn make_async_iterable(object: JsValue, method: Option<String>) -> JsValue;
}

/// How long `cancel()` waits for the host to confirm with its end frame.
const CANCEL_CONFIRM_MS: u64 = 10_000;

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
            prices: Cell::new((record.price_per_token, record.price_per_prompt_token)),
            request_sha256: RefCell::new(record.request_sha256.clone()),
            receipts: RefCell::new(Vec::new()),
            billed: Cell::new(0),
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
        self.state.prices.get().0 as f64
    }

    /// The agreed price per prompt token (of the host streaming it now).
    #[wasm_bindgen(getter, js_name = pricePerPromptToken)]
    pub fn price_per_prompt_token(&self) -> f64 {
        self.state.prices.get().1 as f64
    }

    /// Tokens read and generated, once the job ended (`null` before, and from hosts that do not
    /// report it); `completionTokens` counts every token this stream received.
    #[wasm_bindgen(getter, unchecked_return_type = "Usage | null")]
    pub fn usage(&self) -> JsValue {
        match &*self.state.outcome.borrow() {
            Some(Ok(StreamEnd {
                usage: Some(usage), ..
            })) => to_plain(usage),
            _ => JsValue::NULL,
        }
    }

    /// What the job cost once it ended, every host's part together (`null` before).
    #[wasm_bindgen(getter, unchecked_return_type = "number | null")]
    pub fn cost(&self) -> JsValue {
        match &*self.state.outcome.borrow() {
            Some(Ok(StreamEnd { cost: Some(c), .. })) => JsValue::from(*c as f64),
            _ => JsValue::NULL,
        }
    }

    /// The signed receipt of the host that ended the job, verified (`null` before the end, and
    /// from hosts that send none). A receipt that fails fails the job with `RECEIPT_INVALID`.
    #[wasm_bindgen(getter, unchecked_return_type = "Receipt | null")]
    pub fn receipt(&self) -> JsValue {
        if !matches!(&*self.state.outcome.borrow(), Some(Ok(_))) {
            return JsValue::NULL;
        }
        self.state
            .receipts
            .borrow()
            .last()
            .map_or(JsValue::NULL, receipt_to_js)
    }

    /// Every host's verified receipt so far, in order (one per host after a failover).
    #[wasm_bindgen(getter, unchecked_return_type = "Receipt[]")]
    pub fn receipts(&self) -> js_sys::Array {
        self.state.receipts_js().into_iter().collect()
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
                    attach_receipts(&value, &end.receipts);
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
        let iterator = JobTokens::over(self.state.clone());
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

fn to_plain<T: Serialize>(value: &T) -> JsValue {
    // Objects, not `Map`s, for flattened structs (the end event).
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}
