//! The event loop's Kademlia side: provider lookups (walked to their end, each provider dialed
//! while the lookup still knows its addresses) and DHT checks.

use crate::error::SdkError;
use futures::channel::oneshot;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{kad, PeerId};

use super::*;

impl EventLoop {
    pub(super) fn find_providers(
        &mut self,
        key: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<PeerId>, SdkError>>,
    ) {
        let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() else {
            let _ = reply.send(Err(SdkError::NoNodesAvailable {
                model_id: String::from_utf8_lossy(&key).into_owned(),
                reason: "the DHT is disabled (p2pConfig.enableDHT is false)".into(),
            }));
            return;
        };
        let query = kad.get_providers(kad::RecordKey::new(&key));
        self.provider_queries.insert(
            query,
            ProviderQuery {
                providers: Vec::new(),
                reply,
            },
        );
    }

    pub(super) fn dht_peers(&mut self) -> u32 {
        self.swarm
            .behaviour_mut()
            .kad
            .as_mut()
            .map(|k| k.kbuckets().map(|b| b.num_entries() as u32).sum())
            .unwrap_or(0)
    }

    pub(super) fn on_kad_event(&mut self, event: kad::Event) {
        if let kad::Event::OutboundQueryProgressed {
            id,
            result: kad::QueryResult::GetClosestPeers(result),
            stats,
            ..
        } = &event
        {
            if let Some(reply) = self.dht_checks.remove(id) {
                let answered = stats.num_successes();
                let _ = reply.send(match result {
                    Ok(_) => Ok(answered),
                    Err(e) if answered > 0 => {
                        tracing::debug!(error = %e, "DHT check ended early");
                        Ok(answered)
                    }
                    Err(e) => Err(SdkError::Timeout {
                        operation: format!("DHT lookup ({e})"),
                        after_ms: self.config.request_timeout.as_millis() as u64,
                    }),
                });
            }
            return;
        }
        let kad::Event::OutboundQueryProgressed {
            id,
            result: kad::QueryResult::GetProviders(result),
            step,
            ..
        } = event
        else {
            return;
        };
        let me = *self.swarm.local_peer_id();
        self.debug("dht", "debug", || {
            format!("provider lookup progressed: {result:?}")
        });
        let finished = match result {
            Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) => {
                for peer in providers {
                    if peer == me {
                        continue;
                    }
                    if let Some(q) = self.provider_queries.get_mut(&id) {
                        if !q.providers.contains(&peer) {
                            q.providers.push(peer);
                        }
                    }
                    // Dial now: Kademlia hands out a provider's addresses only while its
                    // query runs. A failure here is retried by `Connect` with what we learned.
                    let opts = DialOpts::peer_id(peer)
                        .condition(PeerCondition::DisconnectedAndNotDialing)
                        .build();
                    if let Err(e) = self.swarm.dial(opts) {
                        tracing::debug!(%peer, error = %e, "cannot dial provider");
                    }
                }
                // The walk goes on to every server close to the key: one server may hold only
                // some of the providers (each provider announces to the servers its own lookup
                // found), so ending at the first answers can miss a live host.
                step.last
            }
            Ok(kad::GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => true,
            Err(e) => {
                tracing::debug!(error = %e, "provider lookup ended with an error");
                true
            }
        };
        if finished {
            if let Some(q) = self.provider_queries.remove(&id) {
                let _ = q.reply.send(Ok(q.providers));
            }
        }
    }
}
