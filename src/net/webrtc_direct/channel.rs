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
    /// The remote broke the channel's rules; reads fail with this once the buffer is read.
    violation: Cell<Option<Violation>>,
    readable: AtomicWaker,
    opened: AtomicWaker,
    writable: AtomicWaker,
    closed: AtomicWaker,
}

/// How a remote broke a data channel's rules (libp2p's WebRTC spec).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Violation {
    /// More than one message's worth arrived without us reading.
    Overrun,
    /// A text message: libp2p's data channels carry binary messages only, and the bytes a string
    /// would read as are not the remote's (`new Uint8Array("100")` is 100 zero bytes).
    Text,
}

impl Violation {
    fn error(self) -> io::Error {
        let why = match self {
            Violation::Overrun => "remote overran the read buffer",
            Violation::Text => {
                "the remote sent a text message on a data channel (libp2p's WebRTC carries binary messages only)"
            }
        };
        io::Error::new(io::ErrorKind::InvalidData, why)
    }
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
                // The first violation is the one reported; nothing after it is the remote's
                // stream any more.
                if shared.violation.get().is_some() {
                    return;
                }
                let Some(data) = crate::net::rt::binary(&message.data()) else {
                    shared.violation.set(Some(Violation::Text));
                    return shared.readable.wake();
                };
                let mut buffer = shared.read_buffer.borrow_mut();
                if buffer.len() + data.length() as usize > MAX_MSG_LEN {
                    shared.violation.set(Some(Violation::Overrun));
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
        if let Some(violation) = self.shared.violation.get() {
            return Poll::Ready(Err(violation.error()));
        }
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

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use futures::AsyncReadExt;
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::*;

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen(inline_js = r#"
export async function channelPair() {
  // Two peer connections in this page, their offer and answer handed over here: a real browser
  // data channel ("ours") whose far end ("theirs") the test drives.
  const gathered = (pc) => new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
  });
  const near = new RTCPeerConnection();
  const far = new RTCPeerConnection();
  const ours = near.createDataChannel("t", { negotiated: true, id: 0 });
  const theirs = far.createDataChannel("t", { negotiated: true, id: 0 });
  await near.setLocalDescription(await near.createOffer());
  await gathered(near);
  await far.setRemoteDescription(near.localDescription);
  await far.setLocalDescription(await far.createAnswer());
  await gathered(far);
  await near.setRemoteDescription(far.localDescription);
  await new Promise((open) => theirs.readyState === "open" ? open() : theirs.addEventListener("open", open));
  return { ours, theirs, close() { near.close(); far.close(); } };
}
"#)]
    extern "C" {
        #[wasm_bindgen(js_name = channelPair)]
        fn channel_pair() -> js_sys::Promise;
    }

    /// Whether this browser has WebRTC (Debian's WebKitGTK has none; the tests then say they
    /// did not run).
    fn has_webrtc() -> bool {
        let has = super::super::dial::has_webrtc();
        if !has {
            console_log!("not run: this browser has no WebRTC (RTCPeerConnection is not defined)");
        }
        has
    }

    /// Our `DataChannel` on one end of a connected in-page pair, the far end as a plain channel.
    async fn pair() -> (DataChannel, RtcDataChannel, JsValue) {
        let pair = JsFuture::from(channel_pair())
            .await
            .expect("an in-page pair connects");
        let field = |name: &str| js_sys::Reflect::get(&pair, &name.into()).unwrap();
        let ours = DataChannel::new(field("ours").unchecked_into());
        (ours, field("theirs").unchecked_into(), pair)
    }

    fn close(pair: &JsValue) {
        let close = js_sys::Reflect::get(pair, &"close".into()).unwrap();
        close
            .unchecked_into::<js_sys::Function>()
            .call0(pair)
            .unwrap();
    }

    #[wasm_bindgen_test]
    async fn binary_messages_are_read_as_sent() {
        if !has_webrtc() {
            return;
        }
        let (mut ours, theirs, pair) = pair().await;
        theirs.send_with_u8_array(&[1, 2, 3]).unwrap();
        theirs.send_with_u8_array(&[4]).unwrap();
        let mut read = [0u8; 4];
        ours.read_exact(&mut read).await.unwrap();
        assert_eq!(read, [1, 2, 3, 4]);
        close(&pair);
    }

    #[wasm_bindgen_test]
    async fn a_text_message_is_refused_saying_so() {
        if !has_webrtc() {
            return;
        }
        let (mut ours, theirs, pair) = pair().await;
        theirs.send_with_u8_array(&[1, 2]).unwrap();
        // As bytes, the old reading made this 100 zero bytes of stream.
        theirs.send_with_str("100").unwrap();
        theirs.send_with_u8_array(&[9]).unwrap();
        let mut read = [0u8; 2];
        ours.read_exact(&mut read).await.unwrap();
        assert_eq!(
            read,
            [1, 2],
            "what came before the text message stays readable"
        );
        let mut rest = [0u8; 200];
        for _ in 0..2 {
            let error = ours.read(&mut rest).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert!(
                error
                    .to_string()
                    .contains("sent a text message on a data channel"),
                "{error}"
            );
        }
        close(&pair);
    }
}
