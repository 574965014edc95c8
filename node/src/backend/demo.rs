//! The `demo` backend: the deterministic generator of `fabstir_protocol::demo`, paced at a
//! configured rate. A real backend of the node, labelled `demo` in node info.

use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

use std::collections::VecDeque;

use super::stop::StopFilter;
use super::{Backend, BackendError, Generation, Piece};
use fabstir_protocol::chat::{demo_key, estimate_prompt_tokens, Usage};
use fabstir_protocol::demo::DemoGenerator;
use fabstir_protocol::messages::FinishReason;

/// Generates deterministic text from a seed and the conversation.
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
    fn generate(&self, request: Generation) -> BoxStream<'static, Result<Piece, BackendError>> {
        // The text depends only on the seed and the whole conversation (see
        // `fabstir_protocol::chat::demo_key`), so continuing means going on from the same
        // position (bounded by the protocol's token limit).
        let mut generator = DemoGenerator::new(self.seed, &demo_key(&request.messages));
        let skip = request.continuation.as_ref().map_or(0, |c| c.tokens);
        for _ in 0..skip {
            generator.next_token();
        }
        let prompt_tokens = estimate_prompt_tokens(&request.to_continue());
        let interval = (self.tokens_per_second > 0.0).then(|| {
            let mut i = tokio::time::interval_at(
                Instant::now(),
                Duration::from_secs_f64(1.0 / self.tokens_per_second),
            );
            i.set_missed_tick_behavior(MissedTickBehavior::Burst);
            i
        });
        let run = Run {
            generator,
            interval,
            generated: 0,
            sent: 0,
            stop: StopFilter::new(request.stop.clone()),
            ready: VecDeque::new(),
            ended: None,
            done: false,
        };
        let max_tokens = request.max_tokens;
        stream::unfold(run, move |mut run| async move {
            loop {
                if let Some(token) = run.ready.pop_front() {
                    run.sent += 1;
                    return Some((Ok(Piece::Token(token)), run));
                }
                if let Some(reason) = run.ended.take() {
                    let usage = Usage {
                        prompt_tokens,
                        completion_tokens: run.sent,
                        prompt_estimated: false,
                    };
                    run.done = true;
                    return Some((Ok(Piece::Finished { reason, usage }), run));
                }
                if run.done {
                    return None;
                }
                if run.generated >= max_tokens {
                    run.ready.extend(run.stop.finish());
                    run.ended = Some(FinishReason::Length);
                    continue;
                }
                match run.interval.as_mut() {
                    Some(i) => {
                        i.tick().await;
                    }
                    // Unpaced: still yield to the runtime now and then, so a long job cannot
                    // starve the node's other tasks.
                    None if run.generated % 64 == 63 => tokio::task::yield_now().await,
                    None => {}
                }
                let token = run.generator.next_token();
                run.generated += 1;
                let released = run.stop.push(token);
                run.ready.extend(released.tokens);
                if released.stopped {
                    run.ended = Some(FinishReason::Stop);
                }
            }
        })
        .boxed()
    }
}

/// One generation's progress.
struct Run {
    generator: DemoGenerator,
    interval: Option<tokio::time::Interval>,
    /// Tokens drawn from the generator.
    generated: u32,
    /// Tokens handed out.
    sent: u64,
    stop: StopFilter,
    ready: VecDeque<String>,
    /// Why generation ended, until the finish is handed out.
    ended: Option<FinishReason>,
    /// The finish was handed out: the stream ends.
    done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use fabstir_protocol::chat::{ChatMessage, Role};
    use fabstir_protocol::demo::demo_text;

    fn generation(max_tokens: u32) -> Generation {
        Generation {
            messages: vec![ChatMessage::new(Role::User, "hello")],
            max_tokens,
            temperature: 0.7,
            top_p: 1.0,
            ..Generation::default()
        }
    }

    /// The tokens and the finish of a generation.
    async fn run(backend: &DemoBackend, request: Generation) -> (Vec<String>, Piece) {
        let mut pieces: Vec<Piece> = backend
            .generate(request)
            .map(|t| t.unwrap())
            .collect()
            .await;
        let end = pieces.pop().unwrap();
        let tokens = pieces
            .into_iter()
            .map(|p| match p {
                Piece::Token(t) => t,
                other => panic!("{other:?} before the end"),
            })
            .collect();
        (tokens, end)
    }

    #[tokio::test]
    async fn streams_exactly_the_shared_generators_text() {
        let (tokens, end) = run(&DemoBackend::new(9, 0.0), generation(300)).await;
        assert_eq!(tokens.len(), 300);
        assert_eq!(tokens.concat(), demo_text(9, "hello", 300));
        assert_eq!(
            end,
            Piece::Finished {
                reason: FinishReason::Length,
                usage: Usage {
                    prompt_tokens: 5,
                    completion_tokens: 300,
                    prompt_estimated: false
                }
            }
        );
    }

    #[tokio::test]
    async fn a_conversation_is_its_own_text_and_stop_sequences_end_it() {
        let backend = DemoBackend::new(9, 0.0);
        let chat = Generation {
            messages: vec![
                ChatMessage::new(Role::System, "be brief"),
                ChatMessage::new(Role::User, "hello"),
            ],
            ..generation(40)
        };
        let (tokens, _) = run(&backend, chat.clone()).await;
        let text = tokens.concat();
        assert_ne!(text, demo_text(9, "hello", 40), "the system message counts");
        assert_eq!(text, demo_text(9, &demo_key(&chat.messages), 40));
        // A stop sequence from the middle of that text ends the answer just before it.
        let words: Vec<&str> = text.split(' ').collect();
        let stop = format!(" {} {}", words[10], words[11]);
        let at = text.find(&stop).unwrap();
        let (tokens, end) = run(
            &backend,
            Generation {
                stop: vec![stop],
                ..chat
            },
        )
        .await;
        assert_eq!(tokens.concat(), text[..at]);
        assert!(matches!(
            end,
            Piece::Finished {
                reason: FinishReason::Stop,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_continuation_goes_on_where_the_text_left_off() {
        let full = demo_text(9, "hello", 50);
        let head = demo_text(9, "hello", 20);
        let request = Generation {
            continuation: Some(fabstir_protocol::messages::Continuation {
                text: head.clone(),
                tokens: 20,
            }),
            ..generation(30)
        };
        let (tail, _) = run(&DemoBackend::new(9, 0.0), request).await;
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
        assert_eq!(n, 52, "51 tokens and the end");
        // The first token comes at once, then one every 10 ms.
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }
}
