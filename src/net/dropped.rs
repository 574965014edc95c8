//! Retrying a request whose stream the peer dropped unanswered.
//!
//! A node closes a request stream before reading it when its queue for the protocol is full or
//! the page holds its share of places (fabstir-node's limits, docs/PROTOCOL.md), and a node built
//! on libp2p-stream 0.5.0-alpha (fabstir-node was, until `node/src/inbound.rs`) whenever a stream
//! arrives while its single hand-over slot is taken: under a burst (many requests from one page,
//! or many pages at once) it closed most of them. Such a stream carried nothing, so asking again
//! is safe.

use std::future::Future;
use std::time::Duration;

use crate::error::SdkError;

/// The reason a request fails with when the peer closed the stream without any answer.
pub const UNANSWERED: &str = "the peer closed the stream without an answer";

/// Delays before each retry (about 2 s in all: a burst of hundreds of streams keeps a node's
/// queue full for a while), each less up to half at random (see [`backoff`]).
const BACKOFF_MS: [u64; 6] = [10, 40, 120, 250, 500, 1000];

/// How many times a dropped stream is opened again.
pub const RETRIES: usize = BACKOFF_MS.len();

/// The pause before retry number `attempt` (from 0) of a dropped stream, `None` after the last.
/// Jittered: streams dropped in one burst must not all come back in the next one together.
pub fn backoff(attempt: usize) -> Option<Duration> {
    BACKOFF_MS
        .get(attempt)
        .map(|ms| crate::net::backoff::jitter(Duration::from_millis(*ms), crate::net::rt::random()))
}

/// Why a request failed, for the caller's error, with the frame error's code: a stream the peer
/// closed or reset before answering (a dropped stream, as above:
/// `FrameError::unanswered`) is [`UNANSWERED`].
pub fn request_failure(e: &fabstir_protocol::frame::FrameError) -> String {
    if e.unanswered() {
        UNANSWERED.into()
    } else {
        format!("{e} ({})", e.code())
    }
}

/// Whether `e` is a stream the peer closed unanswered.
pub fn is_unanswered(e: &SdkError) -> bool {
    matches!(e, SdkError::StreamFailed { reason, .. } if reason == UNANSWERED)
}

/// Runs `attempt`, again after a short pause (up to 6 times) while the peer drops the stream
/// unanswered.
pub async fn retry_unanswered<T, F, Fut>(mut attempt: F) -> Result<T, SdkError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError>>,
{
    let mut retries = 0;
    loop {
        match (attempt().await, backoff(retries)) {
            (Err(e), Some(delay)) if is_unanswered(&e) => crate::net::rt::sleep(delay).await,
            (other, _) => return other,
        }
        retries += 1;
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn unanswered() -> SdkError {
        SdkError::StreamFailed {
            peer_id: "p".into(),
            reason: UNANSWERED.into(),
        }
    }

    #[test]
    fn a_reset_write_and_an_answer_that_never_began_count_as_unanswered() {
        use fabstir_protocol::frame::FrameError;
        let reset = FrameError::Io(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            "00000002/131: connection is closed",
        ));
        assert_eq!(request_failure(&reset), UNANSWERED);
        assert_eq!(request_failure(&FrameError::Unanswered), UNANSWERED);
        let other = FrameError::Io(std::io::Error::other("boom"));
        assert_eq!(request_failure(&other), "i/o: boom (IO)");
        assert_eq!(
            request_failure(&FrameError::Truncated),
            "the stream ended inside a frame (TRUNCATED)"
        );
    }

    #[test]
    fn pauses_are_jittered_within_half_of_each_step() {
        for (attempt, ms) in BACKOFF_MS.iter().enumerate() {
            let pause = backoff(attempt).unwrap().as_secs_f64() * 1000.0;
            assert!(
                pause >= *ms as f64 / 2.0 && pause <= *ms as f64,
                "{pause} of {ms}"
            );
        }
        assert!(backoff(RETRIES).is_none());
    }

    #[tokio::test]
    async fn retries_only_unanswered_streams() {
        let mut calls = 0;
        let r = retry_unanswered(|| {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(unanswered())
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<(), _> = retry_unanswered(|| {
            calls += 1;
            async { Err(SdkError::Stopped) }
        })
        .await;
        assert_eq!((r.unwrap_err().code(), calls), ("STOPPED", 1));
        let mut calls = 0;
        let r: Result<(), _> = retry_unanswered(|| {
            calls += 1;
            async { Err(unanswered()) }
        })
        .await;
        assert!(is_unanswered(&r.unwrap_err()));
        assert_eq!(calls, 7);
    }
}
