//! Submitting a job and opening a job's token stream from JS, as a `Job`.

use super::*;

impl FabstirSdk {
    pub(super) fn open_stream(&self, options: JsValue, default_from: Option<u64>) -> Promise {
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
pub(super) async fn submit(
    inner: Rc<Shared>,
    request: JsValue,
    retry: Option<crate::market::retry::RetryOptions>,
) -> Result<JsValue, JsValue> {
    let (request, signal) = split_signal(request)?;
    let spec: JobSpec = options_from_js("request", request)?;
    submit_spec(inner, spec, signal, retry)
        .await
        .map(|(job, _)| job)
}

/// [`submit`] of a checked job: the `Job` object and its state.
pub(crate) async fn submit_spec(
    inner: Rc<Shared>,
    spec: JobSpec,
    signal: Option<web_sys::AbortSignal>,
    retry: Option<crate::market::retry::RetryOptions>,
) -> Result<(JsValue, Rc<crate::wasm::job::JobState>), JsValue> {
    let requested_at = rt::now_ms();
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
    Ok((job, state))
}

/// `createResponseStream` / `resumeResponseStream` options.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct StreamOptions {
    job_id: String,
    #[serde(default)]
    resume_from: Option<u64>,
}
