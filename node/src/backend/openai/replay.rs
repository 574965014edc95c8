//! Continuing an answer by asking again. Not every OpenAI-compatible server continues a last
//! assistant message (llama.cpp's `llama-server` does): llama-cpp-python 0.3.36, given one,
//! starts a new answer, and a job that failed over to it read as the first host's text followed
//! by an unrelated one. Instead the conversation is asked again without the text already received;
//! the server's answer must begin with exactly that text (it does when its answers repeat:
//! greedy or seeded sampling on the same model), which is held back, and only what follows it is
//! delivered. An answer that differs is a failure that says so, never a seam in the text.

/// Matches the start of a replayed answer against the text received before.
#[derive(Debug)]
pub(super) struct Replay {
    /// The text received before (from the first host).
    prefix: String,
    /// Bytes of `prefix` the replayed answer has matched so far.
    matched: usize,
    /// Content chunks that went into matching `prefix` (the server counts them as generated).
    pub(super) chunks: u64,
}

impl Replay {
    /// A replay that must reproduce `prefix` before anything is delivered.
    pub(super) fn new(prefix: String) -> Self {
        Replay {
            prefix,
            matched: 0,
            chunks: 0,
        }
    }

    /// Whether the whole prefix has been matched (from then on everything passes).
    pub(super) fn done(&self) -> bool {
        self.matched == self.prefix.len()
    }

    /// The next content chunk of the replayed answer: what to deliver now (possibly nothing), or
    /// why the answer is not a replay of the text received.
    pub(super) fn push(&mut self, content: String) -> Result<Option<String>, String> {
        if self.done() {
            return Ok(Some(content));
        }
        if content.is_empty() {
            return Ok(None);
        }
        self.chunks += 1;
        let rest = &self.prefix[self.matched..];
        if rest.starts_with(content.as_str()) {
            self.matched += content.len();
            return Ok(None);
        }
        if let Some(after) = content.strip_prefix(rest) {
            self.matched = self.prefix.len();
            return Ok((!after.is_empty()).then(|| after.to_string()));
        }
        Err(self.diverged())
    }

    /// Why an answer that ended before matching the whole prefix failed.
    pub(super) fn ended_early(&self) -> String {
        format!(
            "asked again to continue an answer, the server's answer ended after {} of the {} \
             bytes already received (its answers do not repeat: sampling without a seed, or \
             another model?)",
            self.matched,
            self.prefix.len()
        )
    }

    fn diverged(&self) -> String {
        format!(
            "asked again to continue an answer, the server answered differently from the text \
             already received after {} of its {} bytes (its answers do not repeat: sampling \
             without a seed, or another model?); nothing of it was delivered",
            self.matched,
            self.prefix.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Replay;

    fn replay(prefix: &str, chunks: &[&str]) -> (Vec<String>, Option<String>, u64) {
        let mut r = Replay::new(prefix.into());
        let mut out = Vec::new();
        for c in chunks {
            match r.push(c.to_string()) {
                Ok(Some(x)) => out.push(x),
                Ok(None) => {}
                Err(e) => return (out, Some(e), r.chunks),
            }
        }
        (out, None, r.chunks)
    }

    #[test]
    fn the_prefix_is_held_back_and_the_rest_delivered() {
        let (out, err, chunks) = replay(" a b", &[" a", " b", " c", " d"]);
        assert_eq!(out, [" c", " d"]);
        assert_eq!((err, chunks), (None, 2));
    }

    #[test]
    fn a_chunk_across_the_end_of_the_prefix_delivers_its_tail() {
        let (out, err, _) = replay(" a b", &[" a", " b c", " d"]);
        assert_eq!(out, [" c", " d"]);
        assert!(err.is_none());
    }

    #[test]
    fn a_different_answer_fails_and_delivers_nothing() {
        let (out, err, _) = replay(" a b", &[" a", " x", " c"]);
        assert!(out.is_empty());
        assert!(err.unwrap().contains("after 2 of its 4 bytes"));
    }

    #[test]
    fn an_answer_shorter_than_the_prefix_is_not_done() {
        let mut r = Replay::new(" a b".into());
        assert_eq!(r.push(" a".into()), Ok(None));
        assert!(!r.done());
        assert!(r.ended_early().contains("after 2 of the 4 bytes"));
    }

    #[test]
    fn an_empty_prefix_passes_everything() {
        let (out, err, chunks) = replay("", &[" a"]);
        assert_eq!((out, err, chunks), (vec![" a".to_string()], None, 0));
    }
}
