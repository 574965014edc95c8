//! The browser side of [`super`]: one `WebSocket` as a libp2p connection, and the transport
//! that dials it.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::future::{BoxFuture, Ready};
use futures::task::AtomicWaker;
use futures::{AsyncRead, AsyncWrite, Future, FutureExt};
use libp2p::core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::Multiaddr;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// Bytes queued in the browser beyond which `poll_write` takes no more.
pub const MAX_BUFFERED: usize = 1024 * 1024;
/// Received bytes held unread beyond which the remote is overloading us (the connection fails).
const MAX_UNREAD: usize = 4 * 1024 * 1024;
/// How often a writer blocked on a full send queue looks again (the browser has no event for
/// a draining WebSocket queue).
const DRAIN_POLL_MS: u32 = 10;
/// The close code of a close that was not clean (RFC 6455 §7.4.1, "abnormal closure").
const ABNORMAL_CLOSURE: u16 = 1006;

/// Why a WebSocket could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

/// The WebSocket transport; it dials `/ws`, `/wss` and `/tls/ws` addresses.
#[derive(Default)]
pub struct Transport;

impl libp2p::core::Transport for Transport {
    type Output = Connection;
    type Error = Error;
    type ListenerUpgrade = Ready<Result<Connection, Error>>;
    type Dial = BoxFuture<'static, Result<Connection, Error>>;

    fn listen_on(&mut self, _: ListenerId, addr: Multiaddr) -> Result<(), TransportError<Error>> {
        Err(TransportError::MultiaddrNotSupported(addr))
    }

    fn remove_listener(&mut self, _: ListenerId) -> bool {
        false
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Error>> {
        if opts.role.is_listener() {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        let Some(url) = super::websocket_url(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        Ok(SendWrapper::new(async move {
            let socket = WebSocket::new(&url).map_err(|e| {
                let why = crate::net::rt::js_text(&e);
                Error(format!("cannot open a WebSocket to {url}: {why}"))
            })?;
            let connection = Connection::new(socket);
            Opening(&connection)
                .await
                .map_err(|e| Error(format!("the WebSocket to {url} did not open: {e}")))?;
            Ok(connection)
        })
        .boxed())
    }

    fn poll(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Error>> {
        Poll::Pending
    }
}

/// What the socket's event handlers share with the connection.
#[derive(Default)]
struct Shared {
    unread: RefCell<BytesMut>,
    /// Written, to be sent after the executor's turn; not empty while a send of it is queued.
    unsent: RefCell<Vec<u8>>,
    /// The first failure; nothing that arrives after it is read.
    failed: Cell<Option<Failure>>,
    /// The close code once `close` fired.
    closed: Cell<Option<u16>>,
    /// Whoever waits for the socket: the opener, the reader, the closer. Every event wakes it.
    reader: AtomicWaker,
    writer: AtomicWaker,
}

/// Why a socket failed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Failure {
    /// The browser's `error` event (before a close that was not clean), or a send it refused.
    Error,
    /// A text frame: libp2p's WebSocket carries binary frames only, and the bytes a text frame
    /// would read as are not the remote's (a string `"100"` made into a `Uint8Array` is 100 zero
    /// bytes).
    Text,
    /// More than [`MAX_UNREAD`] bytes arrived that the page had not read yet.
    Overrun,
}

impl Shared {
    /// Records `why` unless the socket failed before.
    fn fail(&self, why: Failure) {
        if self.failed.get().is_none() {
            self.failed.set(Some(why));
        }
    }

    fn wake(&self) {
        self.reader.wake();
        self.writer.wake();
    }

    /// Hands what was written to the browser, in one message.
    fn send_unsent(&self, socket: &WebSocket) {
        let mut unsent = self.unsent.borrow_mut();
        if unsent.is_empty() {
            return;
        }
        let sent = socket.send_with_u8_array(&unsent);
        unsent.clear();
        drop(unsent);
        if sent.is_err() {
            self.fail(Failure::Error);
            self.wake();
        }
    }
}

/// Adds `bytes` to `shared.unsent`; the first bytes after a send queue the next one, after the
/// executor's current turn (a task spawned now runs in its next one).
fn write_unsent(shared: &Rc<Shared>, socket: &WebSocket, bytes: &[u8]) {
    let mut unsent = shared.unsent.borrow_mut();
    let queued = !unsent.is_empty();
    unsent.extend_from_slice(bytes);
    if !queued {
        let (shared, socket) = (shared.clone(), socket.clone());
        wasm_bindgen_futures::spawn_local(async move { shared.send_unsent(&socket) });
    }
}

/// The JS handlers; dropping them detaches them from the socket first.
struct Handlers {
    socket: WebSocket,
    _on_event: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Handlers {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onerror(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
    }
}

struct Inner {
    socket: WebSocket,
    shared: Rc<Shared>,
    _handlers: Handlers,
    /// A writer waiting for the send queue to drain looks again when this fires.
    drain: Option<gloo_timers::future::TimeoutFuture>,
}

/// One open WebSocket as a byte pipe.
pub struct Connection(SendWrapper<Inner>);

impl Connection {
    fn new(socket: WebSocket) -> Self {
        socket.set_binary_type(BinaryType::Arraybuffer);
        let shared = Rc::new(Shared::default());
        let on_event = {
            let shared = shared.clone();
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                if event.type_() == "error" {
                    shared.fail(Failure::Error);
                }
                shared.wake();
            })
        };
        let on_message = {
            let shared = shared.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if shared.failed.get().is_some() {
                    return;
                }
                let Some(data) = crate::net::rt::binary(&event.data()) else {
                    shared.fail(Failure::Text);
                    return shared.wake();
                };
                let mut unread = shared.unread.borrow_mut();
                if unread.len() + data.length() as usize > MAX_UNREAD {
                    shared.fail(Failure::Overrun);
                } else {
                    let start = unread.len();
                    unread.resize(start + data.length() as usize, 0);
                    data.copy_to(&mut unread[start..]);
                }
                drop(unread);
                shared.reader.wake();
            })
        };
        let on_close = {
            let shared = shared.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                shared.closed.set(Some(event.code()));
                shared.wake();
            })
        };
        socket.set_onopen(Some(on_event.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_event.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Connection(SendWrapper::new(Inner {
            socket: socket.clone(),
            shared,
            _handlers: Handlers {
                socket,
                _on_event: on_event,
                _on_message: on_message,
                _on_close: on_close,
            },
            drain: None,
        }))
    }
}

impl Inner {
    /// `Ready(Ok)` once the socket is open; an error once it failed or closed.
    fn poll_open(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.failure() {
            return Poll::Ready(Err(e));
        }
        match self.socket.ready_state() {
            WebSocket::CONNECTING => {
                self.shared.reader.register(cx.waker());
                // An event may have fired between the check and the registration.
                if self.socket.ready_state() == WebSocket::CONNECTING {
                    return Poll::Pending;
                }
                self.poll_open(cx)
            }
            WebSocket::OPEN => Poll::Ready(Ok(())),
            _ => Poll::Ready(Err(self.failure().unwrap_or_else(|| closed(None)))),
        }
    }

    /// The error a closed or failed socket reports, if it is one.
    fn failure(&self) -> Option<io::Error> {
        let invalid = |why: String| Some(io::Error::new(io::ErrorKind::InvalidData, why));
        match (self.shared.failed.get(), self.shared.closed.get()) {
            (Some(Failure::Text), _) => invalid(
                "the remote sent a WebSocket text frame (libp2p's WebSocket carries binary frames only)"
                    .into(),
            ),
            (Some(Failure::Overrun), _) => invalid(format!(
                "the remote sent more than the {} MiB a page holds unread",
                MAX_UNREAD >> 20
            )),
            (_, Some(code)) => Some(closed(Some(code))),
            (Some(Failure::Error), None) => Some(closed(Some(ABNORMAL_CLOSURE))),
            (None, None) => None,
        }
    }
}

fn closed(code: Option<u16>) -> io::Error {
    let kind = match code {
        Some(1000) => io::ErrorKind::BrokenPipe,
        _ => io::ErrorKind::ConnectionReset,
    };
    match code {
        Some(code) => io::Error::new(kind, format!("WebSocket closed (code {code})")),
        None => io::Error::new(kind, "WebSocket closed"),
    }
}

/// Waits until a new connection's socket is open.
struct Opening<'a>(&'a Connection);

impl Future for Opening<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0 .0.poll_open(cx)
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &*self.get_mut().0;
        // What arrived before a clean close stays readable; then the close is end of file.
        {
            let mut unread = inner.shared.unread.borrow_mut();
            if !unread.is_empty() && inner.shared.failed.get().is_none() {
                let n = buf.len().min(unread.len());
                buf[..n].copy_from_slice(&unread.split_to(n));
                return Poll::Ready(Ok(n));
            }
        }
        if inner.shared.closed.get() == Some(1000) && inner.shared.failed.get().is_none() {
            return Poll::Ready(Ok(0));
        }
        futures::ready!(inner.poll_open(cx))?;
        inner.shared.reader.register(cx.waker());
        // A message or close may have come between the check and the registration.
        if !inner.shared.unread.borrow().is_empty() || inner.failure().is_some() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &mut *self.get_mut().0;
        futures::ready!(inner.poll_open(cx))?;
        let queued = inner.socket.buffered_amount() as usize + inner.shared.unsent.borrow().len();
        let space = MAX_BUFFERED.saturating_sub(queued);
        if space == 0 {
            inner.shared.writer.register(cx.waker());
            let drain = inner
                .drain
                .get_or_insert_with(|| gloo_timers::future::TimeoutFuture::new(DRAIN_POLL_MS));
            if Pin::new(drain).poll(cx).is_ready() {
                inner.drain = None;
                cx.waker().wake_by_ref();
            }
            return Poll::Pending;
        }
        inner.drain = None;
        let n = buf.len().min(space);
        write_unsent(&inner.shared, &inner.socket, &buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(match self.0.failure() {
            Some(e) => Err(e),
            None => Ok(()),
        })
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let inner = &*self.get_mut().0;
        if inner.shared.closed.get().is_some() || inner.socket.ready_state() == WebSocket::CLOSED {
            return Poll::Ready(Ok(()));
        }
        if inner.socket.ready_state() != WebSocket::CLOSING {
            inner.shared.send_unsent(&inner.socket);
            let _ = inner.socket.close_with_code(1000);
        }
        inner.shared.writer.register(cx.waker());
        if inner.shared.closed.get().is_some() {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = self.socket.ready_state();
        if state == WebSocket::OPEN {
            self.shared.send_unsent(&self.socket);
        }
        if matches!(state, WebSocket::CONNECTING | WebSocket::OPEN) {
            let _ = self.socket.close_with_code(1000);
        }
    }
}
