//! Stop sequences for backends that do not apply them themselves (the `demo` backend): tokens
//! that might begin a stop sequence are held back until it is clear they do not.

/// Applies stop sequences to a stream of tokens.
#[derive(Debug, Default)]
pub struct StopFilter {
    stops: Vec<String>,
    /// Tokens held back: their text together might be the start of a stop sequence.
    held: Vec<String>,
}

/// What one token let out.
#[derive(Debug, PartialEq)]
pub struct Released {
    /// Tokens to send now, in order (the last one may be cut short before a stop sequence).
    pub tokens: Vec<String>,
    /// A stop sequence was generated: nothing more is to be sent.
    pub stopped: bool,
}

impl StopFilter {
    /// A filter for `stops` (none: every token passes at once).
    pub fn new(stops: Vec<String>) -> Self {
        StopFilter {
            stops: stops.into_iter().filter(|s| !s.is_empty()).collect(),
            held: Vec::new(),
        }
    }

    /// Takes the next token.
    pub fn push(&mut self, token: String) -> Released {
        if self.stops.is_empty() {
            return Released {
                tokens: vec![token],
                stopped: false,
            };
        }
        self.held.push(token);
        let text: String = self.held.concat();
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|s| text.find(s.as_str()))
            .min()
        {
            return Released {
                tokens: self.take_before(at),
                stopped: true,
            };
        }
        // Keep the tokens that overlap the longest tail of the text that begins a stop sequence.
        let tail = (1..=text.len())
            .filter(|&n| text.is_char_boundary(text.len() - n))
            .filter(|&n| {
                let tail = &text[text.len() - n..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .max()
            .unwrap_or(0);
        let whole = self.held.iter().scan(0, |end, t| {
            *end += t.len();
            Some(*end)
        });
        let free = whole.take_while(|&end| end <= text.len() - tail).count();
        Released {
            tokens: self.held.drain(..free).collect(),
            stopped: false,
        }
    }

    /// The generation ended without a stop sequence: what was held back.
    pub fn finish(&mut self) -> Vec<String> {
        std::mem::take(&mut self.held)
    }

    /// Removes and returns the held tokens that lie wholly before byte `at` of their text, and
    /// the part before `at` of a token that spans it (as a token of its own).
    fn take_before(&mut self, at: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(first) = self.held.first() {
            let end = start + first.len();
            if end <= at {
                out.push(self.held.remove(0));
                start = end;
                continue;
            }
            if start < at {
                let cut = at - start;
                let head = first[..cut].to_string();
                self.held[0] = first[cut..].to_string();
                out.push(head);
            }
            break;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], tokens: &[&str]) -> (Vec<String>, bool) {
        let mut f = StopFilter::new(stops.iter().map(|s| s.to_string()).collect());
        let mut out = Vec::new();
        for t in tokens {
            let r = f.push(t.to_string());
            out.extend(r.tokens);
            if r.stopped {
                return (out, true);
            }
        }
        out.extend(f.finish());
        (out, false)
    }

    #[test]
    fn stops_within_and_across_tokens() {
        assert_eq!(
            run(&[], &["a", " b"]),
            (vec!["a".into(), " b".into()], false)
        );
        assert_eq!(
            run(&[" relay"], &["the", " relay", " to"]),
            (vec!["the".into()], true)
        );
        assert_eq!(
            run(&["y to"], &["the", " relay", " to", " you"]),
            (vec!["the".into(), " rela".into()], true)
        );
        assert_eq!(
            run(&["lay x"], &["the", " relay", " to"]),
            (vec!["the".into(), " relay".into(), " to".into()], false),
            "a tail that turns out not to stop is let out whole"
        );
        assert_eq!(run(&["é"], &["caf", "é!"]), (vec!["caf".into()], true));
    }
}
