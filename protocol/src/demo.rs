//! The demo backend's deterministic text generator.
//!
//! A real backend of `fabstir-node` (labelled `demo` in node info) for demos and tests on machines
//! without a model server. It lives in the shared crate so that a client, given the seed and the
//! prompt, can compute exactly the text a host must stream.

/// Words the generator draws from.
const WORDS: &[&str] = &[
    "the",
    "network",
    "streams",
    "tokens",
    "through",
    "a",
    "relay",
    "to",
    "your",
    "browser",
    "peer",
    "model",
    "answers",
    "quickly",
    "and",
    "every",
    "word",
    "arrives",
    "in",
    "order",
    "without",
    "gaps",
    "or",
    "repeats",
    "while",
    "hosts",
    "share",
    "load",
    "across",
    "nodes",
    "that",
    "agree",
    "on",
    "fair",
    "prices",
    "for",
    "each",
    "job",
    "they",
    "run",
    "with",
    "care",
    "so",
    "people",
    "can",
    "build",
    "open",
    "tools",
    "atop",
    "libp2p",
    "from",
    "any",
    "page",
    "today",
    "at",
    "low",
    "cost",
    "as",
    "data",
    "moves",
    "point",
    "toward",
    "destination",
    "securely",
];

/// Generates the demo backend's tokens for one job.
#[derive(Debug, Clone)]
pub struct DemoGenerator {
    state: u64,
    emitted: u64,
}

impl DemoGenerator {
    /// A generator for `prompt` under the host's `seed`; the same pair always gives the same text.
    pub fn new(seed: u64, prompt: &str) -> Self {
        // FNV-1a over the prompt, mixed with the seed; never zero (xorshift would stick at zero).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in prompt.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        DemoGenerator {
            state: (hash ^ seed.rotate_left(17)) | 1,
            emitted: 0,
        }
    }

    /// The next token: a word, preceded by a space after the first.
    pub fn next_token(&mut self) -> String {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let word = WORDS[(self.state % WORDS.len() as u64) as usize];
        self.emitted += 1;
        if self.emitted == 1 {
            word.to_string()
        } else {
            format!(" {word}")
        }
    }
}

/// The first `tokens` tokens for `seed` and `prompt`, joined: what a demo host streams.
pub fn demo_text(seed: u64, prompt: &str, tokens: u64) -> String {
    let mut generator = DemoGenerator::new(seed, prompt);
    (0..tokens).map(|_| generator.next_token()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_per_seed_and_prompt() {
        assert_eq!(demo_text(7, "hello", 50), demo_text(7, "hello", 50));
        assert_ne!(demo_text(7, "hello", 50), demo_text(8, "hello", 50));
        assert_ne!(demo_text(7, "hello", 50), demo_text(7, "hellp", 50));
    }

    #[test]
    fn prefixes_agree_and_tokens_are_words() {
        let long = demo_text(1, "p", 2000);
        assert!(long.starts_with(&demo_text(1, "p", 100)));
        assert_eq!(long.split(' ').count(), 2000);
        assert!(long.split(' ').all(|w| WORDS.contains(&w)));
        assert_eq!(demo_text(1, "p", 0), "");
    }

    #[test]
    fn vocabulary_has_no_repeats() {
        let distinct: std::collections::HashSet<&&str> = WORDS.iter().collect();
        assert_eq!(distinct.len(), WORDS.len());
    }

    #[test]
    fn uses_much_of_the_vocabulary() {
        let text = demo_text(3, "variety", 2000);
        let distinct: std::collections::HashSet<&str> = text.split(' ').collect();
        assert!(
            distinct.len() > WORDS.len() / 2,
            "only {} distinct words",
            distinct.len()
        );
    }
}
