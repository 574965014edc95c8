//! The façade the JavaScript binding talks to: one SDK instance's network handle and
//! marketplace, started together, with the calls that tie the rooms together.

use futures::channel::mpsc;
use libp2p::identity::Keypair;

use crate::config::ValidConfig;
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::market::Market;
use crate::net::event_loop::EventLoop;
use crate::net::handle::Network;

/// Events waiting for the page; beyond this they are counted as dropped, never block the loop.
pub const EVENT_BUFFER: usize = 1024;

/// A cheap, cloneable handle to a running SDK instance.
#[derive(Clone)]
pub struct Client {
    market: Market,
}

impl Client {
    /// Builds the network stack and returns the handle and the event loop; the caller runs the
    /// loop (e.g. with [`crate::net::rt::spawn`]) before using the handle.
    pub async fn new(
        key: Keypair,
        config: ValidConfig,
        events: mpsc::Sender<SdkEvent>,
    ) -> Result<(Client, EventLoop), SdkError> {
        let (net, event_loop) = Network::start(key, config, events).await?;
        Ok((
            Client {
                market: Market::new(net),
            },
            event_loop,
        ))
    }

    /// Routes every host through an `authenticate` decision: the returned receiver gets one
    /// question per host (per `discoveryCacheTtl`), which its owner answers.
    pub fn ask_before_using_hosts(&mut self) -> mpsc::Receiver<crate::market::security::Approval> {
        self.market.ask_before_using_hosts()
    }

    /// The network: peers, dials, pings, counters, stopping.
    pub fn net(&self) -> &Network {
        self.market.net()
    }

    /// The marketplace: discovery, jobs, streams, reliability.
    pub fn market(&self) -> &Market {
        &self.market
    }
}
