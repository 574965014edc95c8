//! A chain of the cryptography a page runs on every connection, in a plain wasm module with one
//! export: an Ed25519 identity key built, encoded and parsed back (libp2p-identity checks that
//! the public half matches the secret), a signature made and checked, two X25519 products, a
//! ChaCha20-Poly1305 seal and open, and SHA-256 over all of it as the next step's input.
//!
//! Every step is deterministic, so `stress(n)` knows its answer (`EXPECTED`, checked natively by
//! the test below). scripts/jsc-wasm-check.sh runs it in many freshly compiled modules in
//! WebKitGTK, where some answers come out wrong.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use libp2p_identity::Keypair;
use sha2::{Digest, Sha256};

/// The final state after 1, 3 and 20 steps from `[7; 32]`, as computed natively.
const EXPECTED: [(u32, &str); 3] = [
    (
        1,
        "d372a4048b908ab5e431f8d8324ad3c43f807284847dd7d473b7c6eb17d98586",
    ),
    (
        3,
        "5f90c353c2947528dcda88c2652ee26a46de06624347ab9be4783a67fdd0d4e6",
    ),
    (
        20,
        "a1c965fa9ce431df05687767bf7bf775ee8b0522e874252cc7c4241ac4222c8a",
    ),
];

/// How a chain went wrong: which check failed (the codes `stress` returns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wrong {
    /// The final state differs from the native one.
    State = 1,
    /// The encoded key did not parse back (its public half did not match its secret).
    Parse = 2,
    /// The key's own signature did not verify.
    Verify = 3,
    /// The sealed message did not open.
    Open = 4,
    /// Anything else that failed on the way.
    Other = 5,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `steps` chained steps from `state`; the final state, or the first check that failed.
pub fn chain(mut state: [u8; 32], steps: u32) -> Result<[u8; 32], Wrong> {
    for _ in 0..steps {
        let key = Keypair::ed25519_from_bytes(state).map_err(|_| Wrong::Other)?;
        let encoded = key.to_protobuf_encoding().map_err(|_| Wrong::Other)?;
        let parsed = Keypair::from_protobuf_encoding(&encoded).map_err(|_| Wrong::Parse)?;
        let signature = key.sign(&state).map_err(|_| Wrong::Other)?;
        if !parsed.public().verify(&state, &signature) {
            return Err(Wrong::Verify);
        }
        let x = x25519_dalek::x25519(state, x25519_dalek::X25519_BASEPOINT_BYTES);
        let y = x25519_dalek::x25519(x, state);
        let cipher = ChaCha20Poly1305::new(&x.into());
        let nonce = Nonce::from_slice(&y[..12]);
        let sealed = cipher
            .encrypt(nonce, &signature[..])
            .map_err(|_| Wrong::Other)?;
        if cipher.decrypt(nonce, &sealed[..]).ok().as_deref() != Some(&signature[..]) {
            return Err(Wrong::Open);
        }
        let mut hash = Sha256::new();
        for part in [
            &signature[..],
            &x,
            &y,
            &sealed,
            &key.public().to_peer_id().to_bytes(),
        ] {
            hash.update(part);
        }
        state = hash.finalize().into();
    }
    Ok(state)
}

/// The page's one call: 0 when `steps` (1, 3 or 20) steps from `[7; 32]` end in the native
/// answer, else the `Wrong` code.
#[no_mangle]
pub extern "C" fn stress(steps: u32) -> u32 {
    let want = EXPECTED.iter().find(|(n, _)| *n == steps).map(|(_, h)| *h);
    match chain([7; 32], steps) {
        Ok(state) if Some(hex(&state).as_str()) == want => 0,
        Ok(_) => Wrong::State as u32,
        Err(wrong) => wrong as u32,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_expected_states_are_the_native_ones() {
        for (steps, want) in super::EXPECTED {
            assert_eq!(super::hex(&super::chain([7; 32], steps).unwrap()), want);
            assert_eq!(super::stress(steps), 0);
        }
    }
}
