//! A job read as chat completion chunks (`ChatStream`, `for await (const chunk of stream)`) or as
//! one `ChatCompletion`, in the shapes of the `openai` package.

use super::*;
use crate::chat::shape::{finish_reason, ChatShaper};
use crate::chat::ChatServed;

impl JobState {
    /// Who serves the job now, at what prices, and (once it ended) its cost.
    pub(crate) fn served(&self) -> ChatServed {
        let (price_per_token, price_per_prompt_token) = self.prices.get();
        let end = match &*self.outcome.borrow() {
            Some(Ok(end)) => Some(end.clone()),
            _ => None,
        };
        ChatServed {
            job_id: self.job_id.clone(),
            node_id: self.node.get().to_string(),
            price_per_token,
            price_per_prompt_token,
            cost: end.as_ref().and_then(|e| e.cost),
            prompt_estimated: end
                .as_ref()
                .and_then(|e| e.usage)
                .is_some_and(|u| u.prompt_estimated),
            failovers: self.failovers.get(),
            receipts: end.map(|e| e.receipts).unwrap_or_default(),
        }
    }

    /// The end once the job ended well, or its error; a cancelled job is the error `CANCELLED`
    /// (as the `openai` package throws on an abort).
    async fn settled(&self) -> Result<StreamEnd, SdkError> {
        loop {
            let outcome = self.outcome.borrow().clone();
            match outcome {
                Some(Ok(end)) if finish_reason(end.finish_reason).is_none() => {
                    return Err(SdkError::Cancelled(format!(
                        "job {} was cancelled after {} tokens",
                        self.job_id, end.total_tokens
                    )))
                }
                Some(outcome) => return outcome,
                None => self.changed().await,
            }
        }
    }
}

/// The whole `ChatCompletion` of a job, once it ends.
pub(crate) async fn completion(
    state: Rc<JobState>,
    shaper: ChatShaper,
) -> Result<JsValue, JsValue> {
    let end = state.settled().await.map_err(to_js)?;
    let reason = finish_reason(end.finish_reason).unwrap_or("stop");
    let done = shaper.completion(state.text(), reason, end.usage, state.served());
    Ok(with_receipts(to_plain(&done), &end.receipts))
}

/// `value` with the job's receipts under its `fabstir` (`receipts`, and the last as `receipt`).
fn with_receipts(value: JsValue, receipts: &[crate::market::receipts::VerifiedReceipt]) -> JsValue {
    if let Ok(fabstir) = js_sys::Reflect::get(&value, &"fabstir".into()) {
        if fabstir.is_object() {
            super::attach_receipts(&fabstir, receipts);
        }
    }
    value
}

/// A job's answer as `ChatCompletionChunk`s: an async iterable (`for await`), like the stream the
/// `openai` package returns for `stream: true`. First a chunk with the role, then one per token,
/// then one with the finish reason, then (with `stream_options.include_usage`) one with usage
/// and no choices. It throws the job's error after the tokens that arrived.
#[wasm_bindgen]
pub struct ChatStream {
    state: Rc<JobState>,
    shaper: ChatShaper,
    include_usage: bool,
    /// The next chunk: 0 the role, 1 + i token i, then the finish and the usage.
    position: Rc<Cell<usize>>,
    /// Set by `return()`: the iteration ended early.
    closed: Rc<Cell<bool>>,
    job: JsValue,
}

impl ChatStream {
    /// The chunks of the job of `state` (its `Job` object is `job`).
    pub(crate) fn over(
        state: Rc<JobState>,
        job: JsValue,
        shaper: ChatShaper,
        include_usage: bool,
    ) -> JsValue {
        let stream = ChatStream {
            state,
            shaper,
            include_usage,
            position: Rc::new(Cell::new(0)),
            closed: Rc::new(Cell::new(false)),
            job,
        };
        make_async_iterable(stream.into(), None)
    }
}

/// The chunk at `position`, `Ok(None)` when there are no more, or the job's error; waits for
/// tokens not yet arrived.
async fn chunk_at(
    state: &JobState,
    shaper: &ChatShaper,
    include_usage: bool,
    position: usize,
) -> Result<Option<JsValue>, SdkError> {
    if position == 0 {
        return Ok(Some(to_plain(&shaper.role(state.served()))));
    }
    loop {
        let token = state
            .tokens
            .borrow()
            .get(position - 1)
            .map(|t| t.content.clone());
        if let Some(text) = token {
            return Ok(Some(to_plain(&shaper.content(text))));
        }
        if state.outcome.borrow().is_some() {
            break;
        }
        state.changed().await;
    }
    let end = state.settled().await?;
    let after = position - 1 - state.tokens.borrow().len();
    let reason = finish_reason(end.finish_reason).unwrap_or("stop");
    Ok(match after {
        0 => Some(with_receipts(
            to_plain(&shaper.finish(reason, state.served())),
            &end.receipts,
        )),
        // A host that predates usage reports none: no usage chunk rather than made-up counts.
        1 if include_usage => end.usage.map(|u| to_plain(&shaper.usage(u))),
        _ => None,
    })
}

#[wasm_bindgen]
impl ChatStream {
    /// The next chunk as `{ value, done }`.
    #[wasm_bindgen(
        unchecked_return_type = "Promise<IteratorResult<ChatCompletionChunk, undefined>>"
    )]
    pub fn next(&self) -> Promise {
        let state = self.state.clone();
        let shaper = self.shaper.clone();
        let include_usage = self.include_usage;
        let position = self.position.clone();
        let closed = self.closed.clone();
        future_to_promise(async move {
            if closed.get() {
                return Ok(tokens::iterator_result(JsValue::UNDEFINED, true));
            }
            let at = position.get();
            match chunk_at(&state, &shaper, include_usage, at).await {
                Ok(Some(chunk)) => {
                    position.set(at + 1);
                    Ok(tokens::iterator_result(chunk, false))
                }
                Ok(None) => Ok(tokens::iterator_result(JsValue::UNDEFINED, true)),
                Err(e) => {
                    closed.set(true);
                    Err(to_js(e))
                }
            }
        })
    }

    /// Ends the iteration early (`break` in `for await`); the job goes on unless cancelled.
    #[wasm_bindgen(
        js_name = "return",
        unchecked_return_type = "Promise<IteratorResult<ChatCompletionChunk, undefined>>"
    )]
    pub fn finish(&self) -> Promise {
        self.closed.set(true);
        Promise::resolve(&tokens::iterator_result(JsValue::UNDEFINED, true))
    }

    /// The `Job` behind the chunks (its host, usage, cost, `cancel()`).
    #[wasm_bindgen(getter, unchecked_return_type = "Job")]
    pub fn job(&self) -> JsValue {
        self.job.clone()
    }
}
