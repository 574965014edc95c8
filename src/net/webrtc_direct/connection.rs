//! A WebRTC-direct connection as a libp2p stream muxer: one data channel per stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures::channel::mpsc;
use futures::stream::FuturesUnordered;
use futures::{AsyncRead, AsyncWrite, StreamExt};
use libp2p::core::muxing::{StreamMuxer, StreamMuxerEvent};
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use web_sys::{RtcDataChannelEvent, RtcPeerConnection};

use super::channel::DataChannel;
use super::error::Error;
use super::node_ready::{NodeReady, WAIT_LIMIT};

type DropListener = SendWrapper<libp2p_webrtc_utils::DropListener<DataChannel>>;

/// Inbound channels queued before the swarm picks them up; beyond this the remote is opening
/// channels faster than we accept streams, and new ones are closed (the remote sees a reset).
const MAX_PENDING_INBOUND: usize = 32;

/// One stream: a framed data channel.
pub struct Stream(SendWrapper<libp2p_webrtc_utils::Stream<DataChannel>>);

impl Stream {
    pub(crate) fn new(channel: DataChannel) -> (Stream, DropListener) {
        let (stream, drop_listener) = libp2p_webrtc_utils::Stream::new(channel);
        (
            Stream(SendWrapper::new(stream)),
            SendWrapper::new(drop_listener),
        )
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_close(cx)
    }
}

/// The peer connection and its inbound-channel queue, set up before any negotiation so that
/// no channel the remote opens can arrive without a handler. Closes the connection when dropped.
pub(crate) struct PeerConnection {
    pub(crate) inner: RtcPeerConnection,
    inbound: mpsc::Receiver<DataChannel>,
    _on_data_channel: Closure<dyn FnMut(RtcDataChannelEvent)>,
}

impl PeerConnection {
    pub(crate) fn new(inner: RtcPeerConnection) -> Self {
        let (mut tx, inbound) = mpsc::channel(MAX_PENDING_INBOUND);
        let on_data_channel =
            Closure::<dyn FnMut(RtcDataChannelEvent)>::new(move |event: RtcDataChannelEvent| {
                // Wrap now: this installs the message handler before any message can be dispatched.
                let channel = DataChannel::new(event.channel());
                if let Err(e) = tx.try_send(channel) {
                    tracing::warn!(
                        "inbound data channel refused: {}",
                        if e.is_full() {
                            "too many pending"
                        } else {
                            "connection closed"
                        }
                    );
                    e.into_inner().close();
                }
            });
        inner.set_ondatachannel(Some(on_data_channel.as_ref().unchecked_ref()));
        PeerConnection {
            inner,
            inbound,
            _on_data_channel: on_data_channel,
        }
    }
}

impl Drop for PeerConnection {
    fn drop(&mut self) {
        self.inner.set_ondatachannel(None);
        self.inner.close();
    }
}

/// The peer connection of an established connection, with the gate its outbound streams pass.
struct Live {
    pc: PeerConnection,
    /// Outbound streams wait here until the node takes them ([`super::node_ready`]).
    node_ready: NodeReady<gloo_timers::future::TimeoutFuture>,
    /// The node's first channel, when the gate took it from the inbound queue.
    first_inbound: Option<DataChannel>,
}

/// An established, authenticated WebRTC-direct connection.
pub struct Connection {
    pc: SendWrapper<Live>,
    drop_listeners: FuturesUnordered<DropListener>,
    no_drop_listeners_waker: Option<Waker>,
}

impl Connection {
    /// Takes over `pc` once Noise is done; outbound streams may wait for the node from now.
    pub(crate) fn new(pc: PeerConnection) -> Self {
        let deadline = gloo_timers::future::TimeoutFuture::new(WAIT_LIMIT.as_millis() as u32);
        Connection {
            pc: SendWrapper::new(Live {
                pc,
                node_ready: NodeReady::new(deadline),
                first_inbound: None,
            }),
            drop_listeners: FuturesUnordered::new(),
            no_drop_listeners_waker: None,
        }
    }

    fn track(&mut self, channel: DataChannel) -> Stream {
        let (stream, drop_listener) = Stream::new(channel);
        self.drop_listeners.push(drop_listener);
        if let Some(waker) = self.no_drop_listeners_waker.take() {
            waker.wake();
        }
        stream
    }
}

impl StreamMuxer for Connection {
    type Substream = Stream;
    type Error = Error;

    fn poll_inbound(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Stream, Error>> {
        if let Some(channel) = self.pc.first_inbound.take() {
            return Poll::Ready(Ok(self.track(channel)));
        }
        match futures::ready!(self.pc.pc.inbound.poll_next_unpin(cx)) {
            Some(channel) => {
                self.pc.node_ready.open();
                Poll::Ready(Ok(self.track(channel)))
            }
            None => Poll::Ready(Err(Error::Closed)),
        }
    }

    fn poll_outbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Stream, Error>> {
        // Polled on the connection's task, as poll_inbound is: the inbound queue's one waker
        // stays that task's.
        let Live {
            pc,
            node_ready,
            first_inbound,
        } = &mut *self.pc;
        // Asked only while the gate is closed, so no channel is kept yet.
        futures::ready!(node_ready.poll_open(cx, |cx| {
            match pc.inbound.poll_next_unpin(cx) {
                Poll::Ready(Some(channel)) => {
                    *first_inbound = Some(channel);
                    true
                }
                // Closed: the connection is going, and our stream's open will say so.
                Poll::Ready(None) => true,
                Poll::Pending => false,
            }
        }));
        let channel = DataChannel::new(self.pc.pc.inner.create_data_channel(""));
        Poll::Ready(Ok(self.track(channel)))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.pc.pc.inner.close();
        Poll::Ready(Ok(()))
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Error>> {
        loop {
            match futures::ready!(self.drop_listeners.poll_next_unpin(cx)) {
                Some(Ok(())) => {}
                Some(Err(e)) => tracing::debug!("a stream's drop listener failed: {e}"),
                None => {
                    self.no_drop_listeners_waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}
