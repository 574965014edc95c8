//! Fuzzes the wire codec: any bytes read as a sequence of frames of every message type must give
//! messages or typed errors, never a panic, and a decoded message must encode back to a frame
//! that decodes to the same message; a host's receipt and a host's catalog record (each sealed, or
//! as the base64 a frame carries) open or are refused.
#![no_main]

use fabstir_protocol::catalog::{self, CatalogFrame, CatalogRequest};
use fabstir_protocol::messages::{
    JobDecision, JobRequest, JobResponse, NodeInfo, StreamControl, StreamFrame, StreamRequest,
};
use fabstir_protocol::{frame, receipt};
use futures::executor::block_on;
use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;

/// The clock records are checked against (fixed, so a run can be reproduced).
const NOW_MS: u64 = 1_800_000_000_000;

fn read_all<M>(data: &[u8])
where
    M: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let mut reader = Cursor::new(data);
    // At most a few frames per input: every path is reached within them.
    for _ in 0..8 {
        match block_on(frame::read::<_, M>(&mut reader)) {
            Ok(Some(message)) => {
                let bytes = frame::encode(&message).expect("a decoded message encodes");
                let again: M = frame::decode(&bytes[4..]).expect("an encoded message decodes");
                assert_eq!(again, message);
            }
            Ok(None) | Err(_) => return,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 10 {
        0 => read_all::<StreamFrame>(rest),
        1 => read_all::<JobRequest>(rest),
        2 => read_all::<JobResponse>(rest),
        3 => read_all::<JobDecision>(rest),
        4 => read_all::<StreamRequest>(rest),
        5 => read_all::<StreamControl>(rest),
        6 => read_all::<CatalogRequest>(rest),
        7 => read_all::<CatalogFrame>(rest),
        8 => read_all::<NodeInfo>(rest),
        // A host's receipt (issue 14) and a host's catalog record (issue 12), both signed
        // envelopes: raw, and as the base64 an end frame or a catalog `host` frame carries.
        _ => {
            let _ = receipt::open(rest);
            let _ = catalog::open(rest, NOW_MS);
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = receipt::open_base64(text);
                let _ = catalog::wire::open_host(text, NOW_MS);
            }
        }
    }
});
