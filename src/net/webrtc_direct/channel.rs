//! One `RTCDataChannel` as an `AsyncRead + AsyncWrite` byte pipe (framing is added on top).
//!
//! Handlers are installed in [`DataChannel::new`], which the inbound path calls synchronously in
//! the `ondatachannel` callback; they are removed when the last clone is dropped.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::task::AtomicWaker;
use futures::{AsyncRead, AsyncWrite};
use libp2p_webrtc_utils::MAX_MSG_LEN;
use wasm_bindgen::prelude::*;
use web_sys::{Event, MessageEvent, RtcDataChannel, RtcDataChannelState, RtcDataChannelType};

/// State shared between the channel and its JS event handlers.
#[derive(Default)]
struct Shared {
    read_buffer: RefCell<BytesMut>,
    /// The remote sent more than one message's worth without us reading: a protocol violation.
    overloaded: Cell<bool>,
    readable: AtomicWaker,
    opened: AtomicWaker,
    writable: AtomicWaker,
    closed: AtomicWaker,
}

/// The JS closures; dropping them detaches the handlers first.
struct Handlers {
    channel: RtcDataChannel,
    _closures: [Closure<dyn FnMut(Event)>; 4],
}

impl Drop for Handlers {
    fn drop(&mut self) {
        self.channel.set_onopen(None);
        self.channel.set_onmessage(None);
        self.channel.set_onbufferedamountlow(None);
        self.channel.set_onclose(None);
    }
}

/// A data channel with its handlers installed.
#[derive(Clone)]
pub(crate) struct DataChannel {
    inner: RtcDataChannel,
    shared: Rc<Shared>,
    _handlers: Rc<Handlers>,
}

impl DataChannel {
    /// Takes over `inner` and installs its handlers now.
    pub(crate) fn new(inner: RtcDataChannel) -> Self {
        inner.set_binary_type(RtcDataChannelType::Arraybuffer);
        inner.set_buffered_amount_low_threshold(0);
        let shared = Rc::new(Shared::default());
        let waker = |pick: fn(&Shared) -> &AtomicWaker| {
            let shared = shared.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| pick(&shared).wake())
        };
        let on_open = waker(|s| &s.opened);
        let on_low = waker(|s| &s.writable);
        // A closed channel fails its pending reads and writes too: wake them all, or a reader
        // waiting for data would sleep until something else polls the connection.
        let on_close = {
            let shared = shared.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                for waker in [
                    &shared.closed,
                    &shared.readable,
                    &shared.writable,
                    &shared.opened,
                ] {
                    waker.wake();
                }
            })
        };
        let on_message = {
            let shared = shared.clone();
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                let Some(message) = event.dyn_ref::<MessageEvent>() else {
                    return;
                };
                let data = js_sys::Uint8Array::new(&message.data());
                let mut buffer = shared.read_buffer.borrow_mut();
                if buffer.len() + data.length() as usize > MAX_MSG_LEN {
                    shared.overloaded.set(true);
                } else {
                    buffer.extend_from_slice(&data.to_vec());
                }
                drop(buffer);
                shared.readable.wake();
            })
        };
        inner.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        inner.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        inner.set_onbufferedamountlow(Some(on_low.as_ref().unchecked_ref()));
        inner.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let handlers = Handlers {
            channel: inner.clone(),
            _closures: [on_open, on_message, on_low, on_close],
        };
        DataChannel {
            inner,
            shared,
            _handlers: Rc::new(handlers),
        }
    }

    /// Closes the channel (used when the remote opens more channels than we queue).
    pub(crate) fn close(&self) {
        self.inner.close();
    }

    fn poll_open(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.inner.ready_state() {
            RtcDataChannelState::Connecting => {
                self.shared.opened.register(cx.waker());
                // Re-check: the open event may have fired between the read and the register.
                if self.inner.ready_state() == RtcDataChannelState::Connecting {
                    return Poll::Pending;
                }
            }
            RtcDataChannelState::Closing | RtcDataChannelState::Closed => {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            _ => {}
        }
        if self.shared.overloaded.get() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "remote overran the read buffer",
            )));
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for DataChannel {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut buffer = this.shared.read_buffer.borrow_mut();
        if buffer.is_empty() {
            // Buffered bytes stay readable after the channel closed; only then report its state.
            drop(buffer);
            futures::ready!(this.poll_open(cx))?;
            this.shared.readable.register(cx.waker());
            buffer = this.shared.read_buffer.borrow_mut();
            if buffer.is_empty() {
                return Poll::Pending;
            }
        }
        let n = buf.len().min(buffer.len());
        buf[..n].copy_from_slice(&buffer.split_to(n));
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for DataChannel {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        futures::ready!(this.poll_open(cx))?;
        let space = MAX_MSG_LEN.saturating_sub(this.inner.buffered_amount() as usize);
        if space == 0 {
            this.shared.writable.register(cx.waker());
            return Poll::Pending;
        }
        let n = buf.len().min(space);
        this.inner
            .send_with_u8_array(&buf[..n])
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.inner.buffered_amount() == 0 {
            return Poll::Ready(Ok(()));
        }
        self.shared.writable.register(cx.waker());
        if self.inner.buffered_amount() == 0 {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.inner.ready_state() {
            RtcDataChannelState::Closed => return Poll::Ready(Ok(())),
            RtcDataChannelState::Closing => {}
            _ => self.inner.close(),
        }
        self.shared.closed.register(cx.waker());
        if self.inner.ready_state() == RtcDataChannelState::Closed {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }
}
