//! A request's `AbortSignal`: taken out of the request object, watched while the call runs, and
//! cancelling the job on its host once it started.

use super::*;

/// Takes `signal` off a request object (it is not data) and returns both.
pub(super) fn split_signal(
    request: JsValue,
) -> Result<(JsValue, Option<web_sys::AbortSignal>), JsValue> {
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
pub(super) struct Abort {
    signal: Option<web_sys::AbortSignal>,
    receiver: futures::future::Shared<futures::channel::oneshot::Receiver<()>>,
    job: Rc<RefCell<Weak<crate::wasm::job::JobState>>>,
    listener: Option<Closure<dyn FnMut()>>,
}

impl Abort {
    pub(super) fn watch(signal: Option<&web_sys::AbortSignal>) -> Abort {
        let (tx, rx) = futures::channel::oneshot::channel();
        let mut fired = Some(tx);
        let job: Rc<RefCell<Weak<crate::wasm::job::JobState>>> = Rc::default();
        let listener = signal.map(|signal| {
            let job = job.clone();
            let closure = Closure::<dyn FnMut()>::new(move || {
                if let Some(tx) = fired.take() {
                    let _ = tx.send(());
                }
                if let Some(state) = job.borrow().upgrade() {
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(e) = crate::wasm::job::cancel(state).await {
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

    pub(super) fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(|s| s.aborted())
    }

    /// Resolves when the signal fires (never without a signal).
    pub(super) async fn wait(&self) {
        if self.signal.is_none() || self.receiver.clone().await.is_err() {
            futures::future::pending::<()>().await;
        }
    }

    /// Runs `work` unless the signal fires first (`None`).
    pub(super) async fn race<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let aborted = self.wait();
        futures::pin_mut!(work, aborted);
        match futures::future::select(work, aborted).await {
            futures::future::Either::Left((done, _)) => Some(done),
            futures::future::Either::Right(_) => None,
        }
    }

    /// From now on the signal cancels the job; the job owns the listener and removes it from
    /// the signal when it ends.
    pub(super) fn cancel_job_on_abort(mut self, job: &Rc<crate::wasm::job::JobState>) {
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
