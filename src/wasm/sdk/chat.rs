//! `sdk.chat.completions.create(params, { signal })`: a chat completion in the shape of the
//! `openai` package, run as a job on the network.

use super::*;
use crate::chat::{ChatRequest, ChatShaper};
use crate::wasm::job::{completion, ChatStream};

/// `sdk.chat`: chat completions, as in the `openai` package.
#[wasm_bindgen]
pub struct Chat {
    inner: Rc<Shared>,
}

/// `sdk.chat.completions`.
#[wasm_bindgen]
pub struct Completions {
    inner: Rc<Shared>,
}

#[wasm_bindgen(js_class = FabstirSDK)]
impl FabstirSdk {
    /// Chat completions in the shape of the `openai` package (`sdk.chat.completions.create`).
    #[wasm_bindgen(getter)]
    pub fn chat(&self) -> Chat {
        Chat {
            inner: self.inner.clone(),
        }
    }
}

#[wasm_bindgen]
impl Chat {
    /// `create(params, { signal })`.
    #[wasm_bindgen(getter)]
    pub fn completions(&self) -> Completions {
        Completions {
            inner: self.inner.clone(),
        }
    }
}

#[wasm_bindgen]
impl Completions {
    /// Runs `params` (the `openai` package's `ChatCompletionCreateParams`, the supported subset,
    /// plus `fabstir` options) as a job: with `stream: true` resolves to a `ChatStream` of
    /// `ChatCompletionChunk`s, else to a `ChatCompletion` once the answer is complete.
    /// `options.signal` aborts it (the job is cancelled on its host; the call or the stream
    /// rejects with `CANCELLED`). An unsupported parameter is `INVALID_ARGUMENT` naming it.
    /// (Typed with overloads in `chat_types.rs`.)
    #[wasm_bindgen(skip_typescript)]
    pub fn create(&self, params: JsValue, options: JsValue) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let requested_at = rt::now_ms();
            let json: serde_json::Value = super::pretty_json(&params)
                .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
                .map_err(|e| to_js(SdkError::argument("params", e)))?;
            let request = ChatRequest::parse(&json).map_err(to_js)?;
            let signal = if options.is_undefined() || options.is_null() {
                None
            } else {
                let (rest, signal) = split_signal(options)?;
                // Only `signal` is served (the openai package's timeout, maxRetries, headers …
                // are not): say so rather than ignore them.
                if let Some(key) = js_sys::Object::keys(rest.unchecked_ref())
                    .get(0)
                    .as_string()
                {
                    return Err(to_js(SdkError::argument(
                        format!("options.{key}"),
                        "is not supported (only signal is); retries are fabstir.retry",
                    )));
                }
                signal
            };
            let retry = match request.retry {
                Some(r) => Some(r.validate().map_err(to_js)?),
                None => None,
            };
            let model = request.spec.model_id.clone();
            let (job, state) = submit::submit_spec(inner, request.spec, signal, retry).await?;
            let shaper = ChatShaper::new(&state.job_id(), &model, requested_at);
            if request.stream {
                Ok(ChatStream::over(state, job, shaper, request.include_usage))
            } else {
                completion(state, shaper).await
            }
        })
    }
}
