//! Making an offer: the checks a job request passes (rate, size, limits, model, prices) before a
//! slot is held for it.

use fabstir_protocol::messages::{JobRequest, RejectReason};
use libp2p::PeerId;

use super::{unix_ms, Host, Offer};

impl Host {
    /// Checks `request` from `peer` and makes an offer holding a slot, or says why not.
    pub(super) fn make_offer(
        &self,
        peer: PeerId,
        request: JobRequest,
    ) -> Result<Offer, (RejectReason, String)> {
        self.refuse_while_draining()?;
        let h = &self.inner.config.host;
        if !self
            .state()
            .requests
            .allow(peer, h.request_rate, std::time::Instant::now())
        {
            return Err((
                RejectReason::RateLimited,
                format!(
                    "more than {} requests at once, then one every {} s, from one peer",
                    h.request_rate.burst, h.request_rate.refill_secs
                ),
            ));
        }
        if request.context_len() > h.max_prompt_bytes {
            return Err((
                RejectReason::PromptTooLarge,
                format!(
                    "the prompt (with any continuation) is {} bytes; this host accepts at most {}",
                    request.context_len(),
                    h.max_prompt_bytes
                ),
            ));
        }
        request
            .validate()
            .map_err(|m| (RejectReason::InvalidRequest, m))?;
        let Some(model) = self.inner.models.get(&request.model_id) else {
            return Err((
                RejectReason::UnsupportedModel,
                format!("this host does not serve {:?}", request.model_id),
            ));
        };
        if request.max_tokens > model.max_tokens {
            return Err((
                RejectReason::InvalidRequest,
                format!(
                    "maxTokens {} exceeds this model's limit of {}",
                    request.max_tokens, model.max_tokens
                ),
            ));
        }
        if model.price_per_token > request.max_price_per_token {
            return Err((
                RejectReason::PriceTooLow,
                format!(
                    "the price is {} per token, above the maximum {}",
                    model.price_per_token, request.max_price_per_token
                ),
            ));
        }
        if let Some(max) = request.max_prompt_price_per_token {
            if model.price_per_prompt_token > max {
                return Err((
                    RejectReason::PriceTooLow,
                    format!(
                        "the price is {} per prompt token, above the maximum {max}",
                        model.price_per_prompt_token
                    ),
                ));
            }
        }
        let hold = Some(self.take_slot(peer, (model.index, model.parallel))?);
        let job_id = format!("{:032x}", rand::random::<u128>());
        Ok(Offer {
            _pending: self.inner.pending.register(&job_id, peer),
            job_id,
            price_per_token: model.price_per_token,
            price_per_prompt_token: model.price_per_prompt_token,
            expires_at: unix_ms() + self.inner.offer_ttl.as_millis() as u64,
            request_sha256: fabstir_protocol::receipt::sha256_hex(
                &serde_json::to_vec(&request).unwrap_or_default(),
            ),
            peer,
            request,
            hold,
        })
    }
}
