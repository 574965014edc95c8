//! Base64 decoding (RFC 4648, standard and URL-safe alphabets), strict: canonical padding when
//! it is required, none when it is not, and the unused bits of the last symbol zero.
//!
//! The browser's wasm only ever decodes base64 (sealed catalog records, receipts, a page's key,
//! certhashes). The base64 crate's decoder is built for speed on large inputs: 3.8 KB of the
//! wasm for a few short strings per page. This one is a plain loop, checked against the base64
//! crate's `STANDARD`, `STANDARD_NO_PAD`, `URL_SAFE` and `URL_SAFE_NO_PAD` engines in the tests.
//! Encoding (the node's) stays with the base64 crate.

/// Which alphabet, and whether `=` padding is required or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base64 {
    /// `-` and `_` for 62 and 63 instead of `+` and `/`.
    pub url_safe: bool,
    /// Padded to a multiple of 4 characters with `=` (required); else no `=` at all.
    pub padded: bool,
}

/// Standard alphabet, padded (the base64 crate's `STANDARD`).
pub const STANDARD: Base64 = Base64 {
    url_safe: false,
    padded: true,
};
/// Standard alphabet, no padding (`STANDARD_NO_PAD`).
pub const STANDARD_NO_PAD: Base64 = Base64 {
    url_safe: false,
    padded: false,
};
/// URL-safe alphabet, padded (`URL_SAFE`).
pub const URL_SAFE: Base64 = Base64 {
    url_safe: true,
    padded: true,
};
/// URL-safe alphabet, no padding (`URL_SAFE_NO_PAD`).
pub const URL_SAFE_NO_PAD: Base64 = Base64 {
    url_safe: true,
    padded: false,
};

/// Why a text is not base64 of this kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// A character outside the alphabet (or a `=` where none may be).
    #[error("invalid character {0:?} at offset {1}")]
    Symbol(char, usize),
    /// A length no base64 text of this kind has.
    #[error("invalid length {0}")]
    Length(usize),
    /// The last symbol has bits set that encode nothing (another text encodes these bytes).
    #[error("the last symbol has unused bits set")]
    TrailingBits,
}

impl Base64 {
    /// Decodes `text`.
    pub fn decode(self, text: &str) -> Result<Vec<u8>, Base64Error> {
        let bytes = text.as_bytes();
        let mut body = bytes;
        if self.padded {
            if !bytes.len().is_multiple_of(4) {
                return Err(Base64Error::Length(bytes.len()));
            }
            // At most two `=`, and exactly as many as the body's length calls for; a third is
            // left in the body and refused there as a symbol.
            for _ in 0..2 {
                if let [rest @ .., b'='] = body {
                    body = rest;
                }
            }
            if (bytes.len() - body.len()) != (4 - body.len() % 4) % 4 {
                return Err(Base64Error::Length(bytes.len()));
            }
        }
        if body.len() % 4 == 1 {
            return Err(Base64Error::Length(bytes.len()));
        }
        let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
        let (mut bits, mut held) = (0u32, 0u32);
        for (offset, &c) in body.iter().enumerate() {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' if !self.url_safe => 62,
                b'/' if !self.url_safe => 63,
                b'-' if self.url_safe => 62,
                b'_' if self.url_safe => 63,
                _ => {
                    let shown = text.get(offset..).and_then(|s| s.chars().next());
                    let shown = shown.unwrap_or('?');
                    return Err(Base64Error::Symbol(shown, offset));
                }
            };
            bits = (bits << 6) | u32::from(value);
            held += 6;
            if held >= 8 {
                held -= 8;
                out.push((bits >> held) as u8);
                bits &= (1 << held) - 1;
            }
        }
        if bits != 0 {
            return Err(Base64Error::TrailingBits);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// Each of our kinds with the base64 crate's engine of the same kind.
    const KINDS: [(Base64, base64::engine::GeneralPurpose); 4] = [
        (STANDARD, base64::engine::general_purpose::STANDARD),
        (
            STANDARD_NO_PAD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
        ),
        (URL_SAFE, base64::engine::general_purpose::URL_SAFE),
        (
            URL_SAFE_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ),
    ];

    /// Every kind against the base64 crate's engine of the same kind: same bytes for what it
    /// accepts, an error for what it refuses.
    fn agrees(text: &str) {
        for (ours, theirs) in &KINDS {
            assert_eq!(
                ours.decode(text).ok(),
                theirs.decode(text).ok(),
                "{ours:?} on {text:?}"
            );
        }
    }

    #[test]
    fn it_decodes_what_the_base64_crate_encodes() {
        let mut state = 0x9e37_79b9_u32;
        for len in 0..200 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            for (ours, theirs) in &KINDS {
                let text = theirs.encode(&data);
                assert_eq!(ours.decode(&text).unwrap(), data, "{ours:?} on {text:?}");
                agrees(&text);
            }
        }
    }

    #[test]
    fn it_refuses_what_the_base64_crate_refuses() {
        for text in [
            "",
            "=",
            "==",
            "A",
            "A=",
            "A==",
            "A===",
            "AA",
            "AA=",
            "AA==",
            "AA===",
            "AAA",
            "AAA=",
            "AAA==",
            "AAAA",
            "AAAA=",
            "AAAA====",
            "AB==",
            "AAB=",
            "QQ==",
            "QR==",
            "QUI=",
            "QUJ=",
            "Zm9v",
            "Zm9v\n",
            " Zm9v",
            "Zm 9v",
            "Zm9v+/==",
            "Zm9v-_==",
            "Zm9v+/",
            "Zm9v-_",
            "+/+/",
            "-_-_",
            "=AAA",
            "A=AA",
            "AA=A",
            "Zg=",
            "Zg",
            "Zm8",
            "Zm8=",
            "Zm9",
            "é",
            "Zm9é",
            "not base64!",
        ] {
            agrees(text);
        }
        // Every string of up to 3 characters from a small alphabet with the edge cases.
        let alphabet = ['A', 'B', 'Q', 'g', '+', '/', '-', '_', '=', '9', ' '];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for t in &longer {
                agrees(t);
            }
            texts = longer;
        }
    }

    #[test]
    fn its_errors_say_what_is_wrong() {
        assert_eq!(
            STANDARD.decode("Zm9v!A=="),
            Err(Base64Error::Symbol('!', 4))
        );
        assert_eq!(STANDARD.decode("Zm9"), Err(Base64Error::Length(3)));
        assert_eq!(STANDARD.decode("Zh=="), Err(Base64Error::TrailingBits));
        assert_eq!(
            STANDARD_NO_PAD.decode("Zg=="),
            Err(Base64Error::Symbol('=', 2))
        );
    }
}
