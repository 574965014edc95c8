//! What a job's stream has delivered and who waits for more, and the driver task that reads
//! the stream, resumes it on the same host or fails it over to another one.

use super::*;

/// Everything a job's stream has delivered, and who is waiting for more.
pub(crate) struct JobState {
    pub(super) job_id: String,
    /// The host streaming it now (another one after a failover).
    pub(super) node: Cell<PeerId>,
    /// The job's id on that host (a failover starts a new job there).
    pub(super) host_job_id: RefCell<String>,
    /// Added to the host's token indexes (the tokens received before a failover).
    pub(super) offset: Cell<u64>,
    /// What was asked, for a failover; none for a stream opened by job id.
    pub(super) spec: Option<crate::market::negotiation::JobSpec>,
    pub(super) failovers: Cell<u32>,
    /// The prices agreed with the host streaming it now.
    pub(super) prices: Cell<(u64, u64)>,
    /// SHA-256 (hex) of the job request sent to that host, which its receipt names.
    pub(super) request_sha256: RefCell<String>,
    /// Every host's verified receipt so far, in order.
    pub(super) receipts: RefCell<Vec<crate::market::receipts::VerifiedReceipt>>,
    /// What the hosts before a failover delivered, at their prices (they sent no end).
    pub(super) billed: Cell<u64>,
    pub(super) resumed_from: u64,
    pub(super) client: Client,
    pub(super) emitter: Rc<Emitter>,
    pub(super) tokens: RefCell<Vec<Token>>,
    pub(super) outcome: RefCell<Option<Result<StreamEnd, SdkError>>>,
    pub(super) listeners: Listeners,
    pub(super) waiters: RefCell<Vec<oneshot::Sender<()>>>,
    pub(super) canceller: RefCell<Option<Canceller>>,
    pub(super) cancelling: Cell<bool>,
    /// When the page asked for this stream (ms since the epoch), for time to first token.
    pub(super) requested_at: f64,
    pub(super) first_token_at: Cell<Option<f64>>,
    /// An `AbortSignal` listener that cancels this job; removed when the job ends.
    pub(super) abort: RefCell<Option<AbortListener>>,
}

/// A listener registered on an `AbortSignal`.
pub(super) type AbortListener = (web_sys::AbortSignal, Closure<dyn FnMut()>);

impl JobState {
    /// The job's id.
    pub(crate) fn job_id(&self) -> String {
        self.job_id.clone()
    }

    /// Keeps `listener` (registered on `signal`) until the job ends.
    pub(crate) fn own_abort_listener(
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
    pub(super) fn text(&self) -> String {
        self.tokens
            .borrow()
            .iter()
            .map(|t| t.content.as_str())
            .collect()
    }

    /// Wakes every waiter; whether there was one.
    pub(super) fn wake(&self) -> bool {
        let mut waiters = self.waiters.borrow_mut();
        let woke = !waiters.is_empty();
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
        woke
    }

    /// Resolves at the next token or at the end.
    pub(crate) async fn changed(&self) {
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push(tx);
        let _ = rx.await;
    }

    /// Takes a token in: progress, `stream:token`, `token` listeners and the waiters. Whether
    /// someone (an iterator's `next()`, a `chat` reply) was waiting for it.
    pub(super) fn on_token(&self, mut token: Token) -> bool {
        token.index += self.offset.get();
        if self.first_token_at.get().is_none() {
            self.first_token_at.set(Some(crate::net::rt::now_ms()));
        }
        self.client
            .market()
            .record_progress(&self.job_id, token.index + 1);
        // Asked here as well as in emit: the event is built of copies of the token.
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
        self.wake()
    }

    /// What this stream delivered, for the SDK's totals and the host's reputation.
    pub(super) fn summary(
        &self,
        success: Option<bool>,
        bytes: u64,
    ) -> crate::market::jobs::StreamSummary {
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

    pub(super) fn finish(&self, outcome: Result<StreamEnd, SdkError>, bytes: u64) {
        // The whole job's figures: every token the page received, every host's part of the cost.
        let outcome = outcome.map(|mut end| {
            end.total_tokens += self.offset.get();
            if let Some(usage) = end.usage.as_mut() {
                usage.completion_tokens += self.offset.get();
            }
            let (price, _) = self.prices.get();
            let this_host = end
                .cost
                .unwrap_or_else(|| (end.total_tokens - self.offset.get()).saturating_mul(price));
            end.cost = Some(self.billed.get().saturating_add(this_host));
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
                    "job {} stream ended: {} tokens, {}",
                    self.job_id,
                    end.total_tokens,
                    crate::chat::shape::finish_reason(end.finish_reason).unwrap_or("cancelled")
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
                    usage: end.usage,
                    cost: end.cost,
                });
                let value = to_plain(&EndEvent {
                    job_id: &self.job_id,
                    end,
                });
                attach_receipts(&value, &end.receipts);
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
pub(super) struct EndEvent<'a> {
    pub(super) job_id: &'a str,
    #[serde(flatten)]
    pub(super) end: &'a StreamEnd,
}

/// Reads the stream into the state until it ends.
///
/// A stream that the host closed before sending a single byte was dropped by the host's accept
/// queue (see `crate::net::dropped`); it is opened again from the same token, with that
/// module's pauses (about 2 s in all). Any other failure is recovered by [`recover`] when
/// `p2pConfig.failover` allows.
pub(super) async fn drive(state: Rc<JobState>, mut reader: TokenReader) {
    let mut bytes = 0;
    let mut reopened = 0;
    loop {
        match reader.next().await {
            Ok(StreamEvent::Token(token)) => {
                // A waiter resolves its promise in a later microtask; the next frame may be in
                // the same message (the end and its receipt, with a job's last token) and take
                // milliseconds to check. Yield first, so the page has the token before that.
                if state.on_token(token) {
                    let _ = crate::net::rt::yield_to_page().await;
                }
            }
            Ok(StreamEvent::End(end)) => {
                let end = state.with_receipts(*end);
                return state.finish(end, bytes + reader.bytes_read());
            }
            Err(SdkError::StreamFailed { .. })
                if reader.bytes_read() == 0
                    && reopened < crate::net::dropped::RETRIES
                    && !state.cancelling.get() =>
            {
                let pause = crate::net::dropped::backoff(reopened).unwrap_or_default();
                reopened += 1;
                crate::net::rt::sleep(pause).await;
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
                state.keep_handover_receipt(reader.take_error_receipt(), reader.next_index());
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
pub(super) async fn recover(
    state: &JobState,
    next: u64,
    error: SdkError,
) -> Result<TokenReader, SdkError> {
    let config = state.client.net().config().failover;
    if !config.enabled || state.cancelling.get() || !crate::market::failover::recoverable(&error) {
        return Err(error);
    }
    let within = std::time::Duration::from_millis(config.resume_within);
    let host_job = state.host_job_id.borrow().clone();
    // A job its host failed (its model server did, or it shut down) ends the same way on every
    // resume there.
    let resumed = match &error {
        SdkError::BackendFailed { .. } | SdkError::HostShutDown { .. } => Err(error.clone()),
        _ => {
            state
                .client
                .market()
                .resume_within(&host_job, next, within)
                .await
        }
    };
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
    let (price, _) = state.prices.get();
    let delivered = received - state.offset.get();
    state.billed.set(
        state
            .billed
            .get()
            .saturating_add(delivered.saturating_mul(price)),
    );
    state.prices.set((
        negotiated.price_per_token,
        negotiated.price_per_prompt_token,
    ));
    state.node.set(to);
    state.offset.set(received);
    *state.request_sha256.borrow_mut() = negotiated.request_sha256;
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
pub(super) fn with_note(error: SdkError, resume: &SdkError, failover: &SdkError) -> SdkError {
    let note = format!("; resuming failed ({resume}) and no other host took over ({failover})");
    match error {
        SdkError::StreamFailed { peer_id, reason } => SdkError::StreamFailed {
            peer_id,
            reason: reason + &note,
        },
        SdkError::BackendFailed { peer_id, message } => SdkError::BackendFailed {
            peer_id,
            message: message + &note,
        },
        other => other,
    }
}
