//! An echoed assistant prefix, stripped. Asked to continue a last assistant message, llama.cpp's
//! `llama-server` repeats that message's text at the start of its answer, while
//! llama-cpp-python, vLLM and OpenAI send only what follows. The host must deliver exactly the
//! continuation, so text that repeats the prefix from its start is held back until it either
//! completes the prefix (and is dropped) or turns out to be something else (and is let out).

/// Strips an echo of `prefix` from the start of a stream of content chunks.
#[derive(Debug)]
pub(super) struct EchoStrip {
    prefix: String,
    /// Content held back while it could still be the echo.
    held: String,
    /// Decided: everything passes from now on.
    settled: bool,
}

impl EchoStrip {
    /// A stripper for an answer continuing `prefix` (empty: nothing to strip).
    pub(super) fn new(prefix: String) -> Self {
        let settled = prefix.is_empty();
        EchoStrip {
            prefix,
            held: String::new(),
            settled,
        }
    }

    /// The next content chunk; returns what to deliver now (possibly nothing).
    pub(super) fn push(&mut self, content: String) -> Option<String> {
        if self.settled {
            return Some(content);
        }
        self.held.push_str(&content);
        if self.held.len() < self.prefix.len() && self.prefix.starts_with(&self.held) {
            return None;
        }
        self.settled = true;
        let held = std::mem::take(&mut self.held);
        let rest = match held.strip_prefix(self.prefix.as_str()) {
            Some(after) => after.to_string(),
            None => held,
        };
        (!rest.is_empty()).then_some(rest)
    }

    /// The answer ended; text still held back could only be the echo's start, and is dropped
    /// (a model whose whole answer is a prefix of the text it continues is indistinguishable from
    /// a server that echoes it and stops).
    pub(super) fn finish(&mut self) -> bool {
        !std::mem::take(&mut self.held).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(prefix: &str, chunks: &[&str]) -> Vec<String> {
        let mut e = EchoStrip::new(prefix.into());
        chunks
            .iter()
            .filter_map(|c| e.push(c.to_string()))
            .collect()
    }

    #[test]
    fn echoes_are_stripped_and_answers_kept() {
        assert_eq!(strip("", &["a", "b"]), ["a", "b"]);
        assert_eq!(
            strip(" one two", &[" one two three", " four"]),
            [" three", " four"]
        );
        assert_eq!(strip(" one two", &[" one", " two", " x"]), [" x"]);
        assert_eq!(
            strip(" one two", &[" three", " four"]),
            [" three", " four"],
            "no echo: the answer passes"
        );
        assert_eq!(
            strip(" one two", &[" one", " four"]),
            [" one four"],
            "a false start is let out"
        );
    }
}
