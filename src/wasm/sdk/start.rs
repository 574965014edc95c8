//! Starting an SDK instance: its key (the kept one with `identity.persist`), the network stack
//! built, the event loop and the event dispatch spawned, the bootstrap nodes joined (a
//! concurrent `stop()` wins).

use super::*;

pub(super) async fn start(inner: Rc<Shared>) -> Result<(), SdkError> {
    if !matches!(*inner.state.borrow(), State::Stopped) {
        return Err(SdkError::AlreadyStarted);
    }
    let (key, unread) = inner.key_for_start().await?;
    let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
    let (mut client, event_loop) = Client::new(key, inner.config.clone(), events_tx).await?;
    if let Some(callback) = inner.authenticate.clone() {
        let questions = client.ask_before_using_hosts();
        rt::spawn(crate::wasm::authenticate::answer(callback, questions));
    }
    // Checked again: another start() may have run while the swarm was being built.
    {
        let mut state = inner.state.borrow_mut();
        if !matches!(*state, State::Stopped) {
            return Err(SdkError::AlreadyStarted);
        }
        *state = State::Starting(client.clone());
    }
    inner.recall(&client, unread);
    let generation = inner.generation.get() + 1;
    inner.generation.set(generation);
    rt::spawn(event_loop.run());
    rt::spawn(dispatch(inner.emitter.clone(), events_rx));
    let result = client.net().bootstrap().await;
    if inner.generation.get() != generation {
        // stop() (and maybe another start()) ran while we were bootstrapping; stop() took the
        // memory back.
        let _ = client.net().stop().await;
        return Err(SdkError::Stopped);
    }
    match result {
        Ok(()) => {
            rt::spawn(client.net().clone().keep_bootstrap_connected());
            *inner.state.borrow_mut() = State::Running(client);
            super::listeners::watch_if_listened(&inner);
            Ok(())
        }
        Err(e) => {
            *inner.state.borrow_mut() = State::Stopped;
            inner.remember(&client).await;
            let _ = client.net().stop().await;
            Err(e)
        }
    }
}

/// Hands core events to the page's listeners until the core's event senders are gone.
pub(super) async fn dispatch(emitter: Rc<Emitter>, mut events: mpsc::Receiver<SdkEvent>) {
    while let Some(event) = events.next().await {
        emitter.emit(&event);
    }
}
