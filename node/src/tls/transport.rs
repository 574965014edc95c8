//! `/tls/ws` and `/wss` listeners: TCP, TLS terminated here with a [`super::Reloading`]
//! certificate, then libp2p-websocket's plain WebSocket over the TLS stream. Listen-only: the
//! node never dials a browser.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::FutureExt;
use libp2p::core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::core::Transport;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use super::Reloading;

/// TCP whose accepted streams are TLS server sessions.
pub struct TlsTcp {
    tcp: libp2p::tcp::tokio::Transport,
    acceptor: futures_rustls::TlsAcceptor,
}

impl Transport for TlsTcp {
    type Output = futures_rustls::server::TlsStream<libp2p::tcp::tokio::TcpStream>;
    type Error = io::Error;
    type ListenerUpgrade = BoxFuture<'static, Result<Self::Output, io::Error>>;
    type Dial = BoxFuture<'static, Result<Self::Output, io::Error>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<io::Error>> {
        self.tcp.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.tcp.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _: DialOpts,
    ) -> Result<Self::Dial, TransportError<io::Error>> {
        Err(TransportError::MultiaddrNotSupported(addr))
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, io::Error>> {
        let acceptor = self.acceptor.clone();
        Pin::new(&mut self.tcp).poll(cx).map(|event| {
            event.map_upgrade(move |upgrade| {
                async move {
                    let tcp = upgrade.await?;
                    acceptor.accept(tcp).await
                }
                .boxed()
            })
        })
    }
}

/// The `/tls/ws` (or `/wss`) transport: libp2p-websocket over [`TlsTcp`], with addresses
/// rewritten between `/tls/ws` (ours) and `/ws` (what libp2p-websocket sees).
pub struct TlsWs {
    inner: libp2p::websocket::Config<TlsTcp>,
}

impl TlsWs {
    /// A transport presenting `certificate`'s current certificate to every new connection.
    pub fn new(certificate: Arc<Reloading>) -> Result<TlsWs, String> {
        let mut server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
        // No session resumption: a resumed session skips the certificate, so a browser would go
        // on trusting a replaced one. Browsers connect to a relay once and keep the connection,
        // so a full handshake per connection costs little.
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        let tcp = TlsTcp {
            tcp: libp2p::tcp::tokio::Transport::new(libp2p::tcp::Config::default().nodelay(true)),
            acceptor: futures_rustls::TlsAcceptor::from(Arc::new(server)),
        };
        Ok(TlsWs {
            inner: libp2p::websocket::Config::new(tcp),
        })
    }
}

/// `…/tcp/p/tls/ws` or `…/tcp/p/wss` as `…/tcp/p/ws`, or `None` for any other address.
pub fn to_plain(addr: &Multiaddr) -> Option<Multiaddr> {
    let mut out = Multiaddr::empty();
    let mut tls = false;
    let mut found = false;
    for p in addr.iter() {
        match p {
            Protocol::Tls => tls = true,
            Protocol::Ws(path) if tls => {
                out.push(Protocol::Ws(path));
                found = true;
            }
            Protocol::Wss(path) => {
                out.push(Protocol::Ws(path));
                found = true;
            }
            other => out.push(other),
        }
    }
    found.then_some(out)
}

/// `…/ws` as `…/tls/ws`.
fn to_tls(addr: Multiaddr) -> Multiaddr {
    let mut out = Multiaddr::empty();
    for p in addr.iter() {
        if let Protocol::Ws(_) = p {
            out.push(Protocol::Tls);
        }
        out.push(p);
    }
    out
}

impl Transport for TlsWs {
    type Output = <libp2p::websocket::Config<TlsTcp> as Transport>::Output;
    type Error = <libp2p::websocket::Config<TlsTcp> as Transport>::Error;
    type ListenerUpgrade = <libp2p::websocket::Config<TlsTcp> as Transport>::ListenerUpgrade;
    type Dial = <libp2p::websocket::Config<TlsTcp> as Transport>::Dial;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        match to_plain(&addr) {
            Some(plain) => self.inner.listen_on(id, plain).map_err(|e| match e {
                TransportError::MultiaddrNotSupported(_) => {
                    TransportError::MultiaddrNotSupported(addr)
                }
                other => other,
            }),
            None => Err(TransportError::MultiaddrNotSupported(addr)),
        }
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        Err(TransportError::MultiaddrNotSupported(addr))
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Pin::new(&mut self.inner).poll(cx).map(|event| match event {
            TransportEvent::NewAddress {
                listener_id,
                listen_addr,
            } => TransportEvent::NewAddress {
                listener_id,
                listen_addr: to_tls(listen_addr),
            },
            TransportEvent::AddressExpired {
                listener_id,
                listen_addr,
            } => TransportEvent::AddressExpired {
                listener_id,
                listen_addr: to_tls(listen_addr),
            },
            TransportEvent::Incoming {
                listener_id,
                upgrade,
                local_addr,
                send_back_addr,
            } => TransportEvent::Incoming {
                listener_id,
                upgrade,
                local_addr: to_tls(local_addr),
                send_back_addr,
            },
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_rewritten_both_ways() {
        let tls: Multiaddr = "/ip4/0.0.0.0/tcp/443/tls/ws".parse().unwrap();
        let plain: Multiaddr = "/ip4/0.0.0.0/tcp/443/ws".parse().unwrap();
        assert_eq!(to_plain(&tls), Some(plain.clone()));
        assert_eq!(
            to_plain(&"/ip4/0.0.0.0/tcp/443/wss".parse().unwrap()),
            Some(plain.clone())
        );
        assert_eq!(to_plain(&plain), None, "a plain /ws is not ours");
        assert_eq!(to_tls(plain), tls);
    }
}
