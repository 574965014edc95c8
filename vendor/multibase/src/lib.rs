//! The multibase bases libp2p multiaddrs use, with multibase 0.9's API (see `Cargo.toml` for
//! why this crate replaces it): base16, base32 (RFC 4648, lower and upper, unpadded),
//! base58btc, and base64 and base64url, unpadded and padded. Any other base is
//! [`Error::UnknownBase`].

use data_encoding::{
    Encoding, BASE32_NOPAD, BASE64, BASE64URL, BASE64URL_NOPAD, BASE64_NOPAD, HEXLOWER, HEXUPPER,
};

/// A `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// Why a multibase string could not be decoded.
#[derive(PartialEq, Eq, Clone, Debug)]
pub enum Error {
    /// A base this crate does not have (or not a multibase code at all).
    UnknownBase(char),
    /// Not a valid string of its base.
    InvalidBaseString,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Error::UnknownBase(code) => write!(f, "Unknown base code: {code}"),
            Error::InvalidBaseString => f.write_str("Invalid base string"),
        }
    }
}

impl std::error::Error for Error {}

/// A multibase base, by the name multibase 0.9 gives it.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum Base {
    /// `f`: hexadecimal, lower case.
    Base16Lower,
    /// `F`: hexadecimal, upper case.
    Base16Upper,
    /// `b`: RFC 4648 base32, lower case, no padding.
    Base32Lower,
    /// `B`: RFC 4648 base32, upper case, no padding.
    Base32Upper,
    /// `z`: base58 with Bitcoin's alphabet.
    Base58Btc,
    /// `m`: RFC 4648 base64, no padding.
    Base64,
    /// `M`: RFC 4648 base64, padded.
    Base64Pad,
    /// `u`: RFC 4648 base64url, no padding.
    Base64Url,
    /// `U`: RFC 4648 base64url, padded.
    Base64UrlPad,
}

const BASES: [(char, Base); 9] = [
    ('f', Base::Base16Lower),
    ('F', Base::Base16Upper),
    ('b', Base::Base32Lower),
    ('B', Base::Base32Upper),
    ('z', Base::Base58Btc),
    ('m', Base::Base64),
    ('M', Base::Base64Pad),
    ('u', Base::Base64Url),
    ('U', Base::Base64UrlPad),
];

impl Base {
    /// The base of a multibase code character.
    pub fn from_code(code: char) -> Result<Self> {
        BASES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, b)| *b)
            .ok_or(Error::UnknownBase(code))
    }

    /// The base's multibase code character.
    pub fn code(&self) -> char {
        BASES
            .iter()
            .find(|(_, b)| b == self)
            .map_or('?', |(c, _)| *c)
    }

    /// `input` in this base (without the code character).
    pub fn encode<I: AsRef<[u8]>>(&self, input: I) -> String {
        match self.encoding() {
            Some(encoding) => {
                let out = encoding.encode(input.as_ref());
                match self {
                    Base::Base32Lower => out.to_ascii_lowercase(),
                    _ => out,
                }
            }
            None => bs58::encode(input).into_string(),
        }
    }

    /// Decodes `input`, a string of this base (without the code character).
    pub fn decode<I: AsRef<str>>(&self, input: I) -> Result<Vec<u8>> {
        let input = input.as_ref();
        let decoded = match self.encoding() {
            None => bs58::decode(input).into_vec().ok(),
            // Each case is its own base: a lower-case base32 string has no upper-case letter.
            Some(_)
                if *self == Base::Base32Lower && input.bytes().any(|c| c.is_ascii_uppercase()) =>
            {
                None
            }
            Some(encoding) if *self == Base::Base32Lower => {
                encoding.decode(input.to_ascii_uppercase().as_bytes()).ok()
            }
            Some(encoding) => encoding.decode(input.as_bytes()).ok(),
        };
        decoded.ok_or(Error::InvalidBaseString)
    }

    /// The RFC 4648 encoding of the base (data-encoding's, which multiaddr links anyway);
    /// `None` for base58btc.
    fn encoding(&self) -> Option<Encoding> {
        Some(match self {
            Base::Base16Lower => HEXLOWER,
            Base::Base16Upper => HEXUPPER,
            Base::Base32Lower | Base::Base32Upper => BASE32_NOPAD,
            Base::Base58Btc => return None,
            Base::Base64 => BASE64_NOPAD,
            Base::Base64Pad => BASE64,
            Base::Base64Url => BASE64URL_NOPAD,
            Base::Base64UrlPad => BASE64URL,
        })
    }
}

/// Decodes a multibase string: its base from its first character, then the rest.
pub fn decode<T: AsRef<str>>(input: T) -> Result<(Base, Vec<u8>)> {
    let input = input.as_ref();
    let code = input.chars().next().ok_or(Error::InvalidBaseString)?;
    let base = Base::from_code(code)?;
    Ok((base, base.decode(&input[code.len_utf8()..])?))
}

/// `input` as a multibase string of `base` (its code character first).
pub fn encode<T: AsRef<[u8]>>(base: Base, input: T) -> String {
    let mut out = String::from(base.code());
    out.push_str(&base.encode(input));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multibase_specs_vectors_round_trip() {
        // "hello world" in each base, from the multibase spec's test vectors.
        let vectors = [
            "f68656c6c6f20776f726c64",
            "F68656C6C6F20776F726C64",
            "bnbswy3dpeb3w64tmmq",
            "BNBSWY3DPEB3W64TMMQ",
            "zStV1DL6CwTryKyV",
            "maGVsbG8gd29ybGQ",
            "MaGVsbG8gd29ybGQ=",
            "uaGVsbG8gd29ybGQ",
            "UaGVsbG8gd29ybGQ=",
        ];
        for v in vectors {
            let (base, bytes) = decode(v).unwrap();
            assert_eq!(bytes, b"hello world", "{v}");
            assert_eq!(encode(base, &bytes), v);
        }
        for len in 0..12 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            for (_, base) in BASES {
                assert_eq!(decode(encode(base, &bytes)).unwrap(), (base, bytes.clone()));
            }
        }
    }

    #[test]
    fn bad_strings_and_other_bases_are_errors() {
        assert_eq!(decode(""), Err(Error::InvalidBaseString));
        assert_eq!(decode("k2lcpzo5yikidynfl"), Err(Error::UnknownBase('k')));
        for bad in [
            "f6",
            "fzz",
            "F6a",
            "bNBSW",
            "b1",
            "bnbswy3dpeb3w64tmmr",
            "z0OIl",
            "u!!",
        ] {
            assert_eq!(
                decode(bad).map(|_| ()),
                Err(Error::InvalidBaseString),
                "{bad}"
            );
        }
    }
}
