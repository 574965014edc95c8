//! `JobTokens`: the async iterator over a job's tokens (`for await (const t of job)`).

use super::*;

/// The async iterator returned by `job.tokens()` (and by `job[Symbol.asyncIterator]()`).
#[wasm_bindgen]
pub struct JobTokens {
    state: Rc<JobState>,
    position: Rc<Cell<usize>>,
}

impl JobTokens {
    /// An iterator over `state`'s tokens from the first.
    pub(super) fn over(state: Rc<JobState>) -> JobTokens {
        JobTokens {
            state,
            position: Rc::new(Cell::new(0)),
        }
    }
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

pub(super) fn iterator_result(value: JsValue, done: bool) -> JsValue {
    let result = js_sys::Object::new();
    // Setting properties on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&result, &"value".into(), &value);
    let _ = js_sys::Reflect::set(&result, &"done".into(), &done.into());
    result.into()
}
