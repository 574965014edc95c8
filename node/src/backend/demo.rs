//! The `demo` backend: the deterministic generator of `fabstir_protocol::demo`, paced at a
//! configured rate. A real backend of the node, labelled `demo` in node info.

use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Backend, BackendError, Generation};
use fabstir_protocol::demo::DemoGenerator;

/// Generates deterministic text from a seed and the prompt.
#[derive(Debug, Clone)]
pub struct DemoBackend {
    seed: u64,
    tokens_per_second: f64,
}

impl DemoBackend {
    /// A generator with this seed, producing `tokens_per_second` tokens per second (0: no pause).
    pub fn new(seed: u64, tokens_per_second: f64) -> Self {
        DemoBackend {
            seed,
            tokens_per_second,
        }
    }
}

impl Backend for DemoBackend {
    fn generate(&self, request: Generation) -> BoxStream<'static, Result<String, BackendError>> {
        let mut generator = DemoGenerator::new(self.seed, &request.prompt);
        // The demo generator's output depends only on the seed and the prompt, so continuing
        // means going on from the same position (bounded by the protocol's token limit).
        let skip = request.continuation.as_ref().map_or(0, |c| c.tokens);
        for _ in 0..skip {
            generator.next_token();
        }
        let interval = (self.tokens_per_second > 0.0).then(|| {
            let mut i = tokio::time::interval_at(
                Instant::now(),
                Duration::from_secs_f64(1.0 / self.tokens_per_second),
            );
            i.set_missed_tick_behavior(MissedTickBehavior::Burst);
            i
        });
        stream::unfold(
            (generator, interval, 0u32),
            move |(mut generator, mut interval, n)| async move {
                if n >= request.max_tokens {
                    return None;
                }
                match interval.as_mut() {
                    Some(i) => {
                        i.tick().await;
                    }
                    // Unpaced: still yield to the runtime now and then, so a long job cannot
                    // starve the node's other tasks.
                    None if n % 64 == 63 => tokio::task::yield_now().await,
                    None => {}
                }
                let token = generator.next_token();
                Some((Ok(token), (generator, interval, n + 1)))
            },
        )
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generation(max_tokens: u32) -> Generation {
        Generation {
            prompt: "hello".into(),
            max_tokens,
            temperature: 0.7,
            top_p: 1.0,
            continuation: None,
        }
    }

    #[tokio::test]
    async fn streams_exactly_the_shared_generators_text() {
        let tokens: Vec<String> = DemoBackend::new(9, 0.0)
            .generate(generation(300))
            .map(|t| t.unwrap())
            .collect()
            .await;
        assert_eq!(tokens.len(), 300);
        assert_eq!(
            tokens.concat(),
            fabstir_protocol::demo::demo_text(9, "hello", 300)
        );
    }

    #[tokio::test]
    async fn a_continuation_goes_on_where_the_text_left_off() {
        let full = fabstir_protocol::demo::demo_text(9, "hello", 50);
        let head = fabstir_protocol::demo::demo_text(9, "hello", 20);
        let request = Generation {
            continuation: Some(fabstir_protocol::messages::Continuation {
                text: head.clone(),
                tokens: 20,
            }),
            ..generation(30)
        };
        let tail: Vec<String> = DemoBackend::new(9, 0.0)
            .generate(request)
            .map(|t| t.unwrap())
            .collect()
            .await;
        assert_eq!(tail.len(), 30);
        assert_eq!(head + &tail.concat(), full, "no token lost or repeated");
    }

    #[tokio::test(start_paused = true)]
    async fn paces_tokens_at_the_configured_rate() {
        let started = Instant::now();
        let n = DemoBackend::new(1, 100.0)
            .generate(generation(51))
            .count()
            .await;
        assert_eq!(n, 51);
        // The first token comes at once, then one every 10 ms.
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }
}
