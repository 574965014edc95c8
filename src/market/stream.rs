//! Reading a job's token stream (`/fabstir/stream/1.0.0`): checked, in order, with a stall limit;
//! and cancelling the job over the same stream.

use std::sync::Arc;
use std::time::Duration;

use fabstir_protocol::frame;
use fabstir_protocol::messages::{
    FinishReason, StreamControl, StreamFrame, StreamRequest, STREAM_PROTOCOL,
};
use futures::io::{ReadHalf, WriteHalf};
use futures::lock::Mutex;
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use serde::Serialize;

use crate::error::SdkError;

/// How often a silent stream is polled again (see [`crate::net::rt::timeout_polling`]).
const REPOLL: Duration = Duration::from_millis(500);

/// One generated token.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    /// Its position in the job's output, from 0.
    pub index: u64,
    /// Its text.
    pub content: String,
    /// When the host generated it (ms since the Unix epoch).
    pub timestamp: u64,
}

/// How a job's stream ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEnd {
    /// Tokens the job generated in all.
    pub total_tokens: u64,
    /// Milliseconds from the job's start to its end, on the host.
    pub duration: u64,
    /// `stop`, `length` or `cancelled`.
    pub finish_reason: FinishReason,
    /// Tokens read and generated, as the host reports them (none from hosts before
    /// conversations).
    pub usage: Option<fabstir_protocol::chat::Usage>,
    /// What the host charges for the job at the agreed prices.
    pub cost: Option<u64>,
    /// The host's sealed receipt as it came (base64), before it is checked.
    #[serde(skip)]
    pub sealed_receipt: Option<String>,
    /// The verified receipt of every host that served the job, in order (filled in by the job
    /// once each verified; empty from hosts before receipts). The binding adds them to JS values.
    #[serde(skip)]
    pub receipts: Vec<crate::market::receipts::VerifiedReceipt>,
    /// The last of `receipts`: the receipt of the host that ended the job.
    #[serde(skip)]
    pub receipt: Option<crate::market::receipts::VerifiedReceipt>,
}

/// What reading a stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The next token.
    Token(Token),
    /// The end; nothing follows.
    End(Box<StreamEnd>),
}

/// Reads a job's frames and checks that indexes run on without gap or repeat.
pub struct TokenReader<R = ReadHalf<Stream>> {
    reader: Counted<R>,
    peer: PeerId,
    job_id: String,
    next_index: u64,
    stall: Duration,
    done: bool,
    /// No token may have this index or a higher one (the job's `maxTokens`).
    limit: u64,
    /// The receipt an error frame carried (a host handing the job on), until taken.
    error_receipt: Option<String>,
}

/// Sends `cancel` on an open token stream; cheap to clone.
#[derive(Clone)]
pub struct Canceller {
    writer: Arc<Mutex<WriteHalf<Stream>>>,
    peer: PeerId,
}

/// Opens the token stream of `job_id` on `peer` from token `resume_from`.
pub async fn open(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    job_id: &str,
    resume_from: u64,
    max_tokens: u64,
    stall: Duration,
) -> Result<(TokenReader, Canceller), SdkError> {
    let failed = |reason: String| SdkError::StreamFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let mut stream = control
        .open_stream(peer, StreamProtocol::new(STREAM_PROTOCOL))
        .await
        .map_err(|e| failed(e.to_string()))?;
    let request = StreamRequest {
        job_id: job_id.to_string(),
        resume_from,
    };
    frame::write(&mut stream, &request)
        .await
        .map_err(|e| failed(crate::net::dropped::request_failure(&e)))?;
    Ok(reading(
        stream,
        peer,
        job_id,
        resume_from,
        (max_tokens, stall),
    ))
}

/// The reader and canceller of `job_id`'s frames on `stream` (a token stream after its request,
/// or a job stream after `started` for a request with `start`), from token `next_index`;
/// `tokens`: the job's most tokens and the stall timeout.
pub fn reading(
    stream: Stream,
    peer: PeerId,
    job_id: &str,
    next_index: u64,
    tokens: (u64, Duration),
) -> (TokenReader, Canceller) {
    let (max_tokens, stall) = tokens;
    let (reader, writer) = stream.split();
    (
        TokenReader::new(reader, peer, job_id, next_index, stall).with_limit(max_tokens),
        Canceller {
            writer: Arc::new(Mutex::new(writer)),
            peer,
        },
    )
}

impl<R: futures::AsyncRead + Unpin> TokenReader<R> {
    /// A reader of `job_id`'s frames from `reader`, expecting token `next_index` first.
    pub fn new(reader: R, peer: PeerId, job_id: &str, next_index: u64, stall: Duration) -> Self {
        TokenReader {
            reader: Counted {
                inner: reader,
                bytes: 0,
            },
            peer,
            job_id: job_id.to_string(),
            next_index,
            stall,
            done: false,
            limit: u64::MAX,
            error_receipt: None,
        }
    }

    /// Fails the stream when a token beyond the first `max_tokens` arrives (a host that never
    /// ends).
    pub fn with_limit(mut self, max_tokens: u64) -> Self {
        self.limit = max_tokens;
        self
    }

    /// The index of the next token expected.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// The receipt of the tokens sent before the host's error frame, when it carried one.
    pub fn take_error_receipt(&mut self) -> Option<String> {
        self.error_receipt.take()
    }

    /// Bytes read from the stream so far (frames with their length prefixes).
    pub fn bytes_read(&self) -> u64 {
        self.reader.bytes
    }

    /// The next token or the end. Fails on a stall longer than the limit, a frame out of order,
    /// a malformed or oversized frame, the host's error frame, or a stream that ends early.
    pub async fn next(&mut self) -> Result<StreamEvent, SdkError> {
        if self.done {
            return Err(self.failed("the stream already ended".into()));
        }
        let read = crate::net::rt::timeout_polling(
            self.stall,
            REPOLL,
            frame::read::<_, StreamFrame>(&mut self.reader),
        );
        let result = match read.await {
            None => Err(SdkError::Timeout {
                operation: format!("token stream of job {} (no frame)", self.job_id),
                after_ms: self.stall.as_millis() as u64,
            }),
            Some(Ok(Some(frame))) => self.check(frame),
            Some(Ok(None)) => Err(self.failed(format!(
                "the host closed the stream after token {} without an end",
                self.next_index
            ))),
            Some(Err(e)) => Err(self.failed(format!("{e} ({})", e.code()))),
        };
        if !matches!(result, Ok(StreamEvent::Token(_))) {
            self.done = true;
        }
        result
    }

    fn check(&mut self, frame: StreamFrame) -> Result<StreamEvent, SdkError> {
        match frame {
            StreamFrame::Token {
                index,
                content,
                timestamp,
            } => {
                if index != self.next_index {
                    return Err(self.failed(format!(
                        "token index {index} arrived where {} was expected",
                        self.next_index
                    )));
                }
                if index >= self.limit {
                    return Err(self.failed(format!(
                        "token index {index} is beyond the {} tokens asked for",
                        self.limit
                    )));
                }
                self.next_index += 1;
                Ok(StreamEvent::Token(Token {
                    index,
                    content,
                    timestamp,
                }))
            }
            StreamFrame::End {
                total_tokens,
                duration,
                finish_reason,
                usage,
                cost,
                receipt,
            } => {
                if total_tokens != self.next_index {
                    return Err(self.failed(format!(
                        "the end reports {total_tokens} tokens but the stream carried {}",
                        self.next_index
                    )));
                }
                Ok(StreamEvent::End(Box::new(StreamEnd {
                    total_tokens,
                    duration,
                    finish_reason,
                    usage,
                    cost,
                    sealed_receipt: receipt,
                    receipts: Vec::new(),
                    receipt: None,
                })))
            }
            StreamFrame::Error {
                code,
                message,
                recoverable,
                receipt: Some(receipt),
            } => {
                self.error_receipt = Some(receipt);
                self.check(StreamFrame::Error {
                    code,
                    message,
                    recoverable,
                    receipt: None,
                })
            }
            StreamFrame::Error { code, message, .. } if code == "JOB_NOT_FOUND" => {
                Err(SdkError::JobNotFound {
                    job_id: self.job_id.clone(),
                    message,
                })
            }
            StreamFrame::Error { code, message, .. } if code == "BACKEND_FAILED" => {
                Err(SdkError::BackendFailed {
                    peer_id: self.peer.to_string(),
                    message,
                })
            }
            StreamFrame::Error { code, message, .. } if code == "SHUTTING_DOWN" => {
                Err(SdkError::HostShutDown {
                    peer_id: self.peer.to_string(),
                    message,
                })
            }
            StreamFrame::Error { code, message, .. } if code == "PROMPT_TOO_LONG" => {
                Err(SdkError::PromptTooLong {
                    message: format!("job {} on {}: {message}", self.job_id, self.peer),
                })
            }
            StreamFrame::Error { code, message, .. } => {
                Err(self.failed(format!("the host reported {code}: {message}")))
            }
        }
    }

    fn failed(&self, reason: String) -> SdkError {
        SdkError::StreamFailed {
            peer_id: self.peer.to_string(),
            reason,
        }
    }
}

/// An `AsyncRead` that counts the bytes it hands out.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: futures::AsyncRead + Unpin> futures::AsyncRead for Counted<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &polled {
            self.bytes += *n as u64;
        }
        polled
    }
}

impl Canceller {
    /// Asks the host to stop generating; the stream then ends with `finishReason: "cancelled"`.
    pub async fn cancel(&self) -> Result<(), SdkError> {
        let mut writer = self.writer.lock().await;
        let sent = async {
            frame::write(&mut *writer, &StreamControl::Cancel).await?;
            writer.close().await?;
            Ok::<_, frame::FrameError>(())
        };
        sent.await.map_err(|e| SdkError::StreamFailed {
            peer_id: self.peer.to_string(),
            reason: format!("cannot send cancel: {e}"),
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use fabstir_protocol::frame::encode;

    fn token(index: u64) -> StreamFrame {
        StreamFrame::Token {
            index,
            content: format!(" t{index}"),
            timestamp: 1,
        }
    }

    fn end(total_tokens: u64) -> StreamFrame {
        StreamFrame::End {
            total_tokens,
            duration: 5,
            finish_reason: FinishReason::Length,
            usage: None,
            cost: None,
            receipt: None,
        }
    }

    fn reader(frames: &[StreamFrame], from: u64) -> TokenReader<futures::io::Cursor<Vec<u8>>> {
        let bytes: Vec<u8> = frames.iter().flat_map(|f| encode(f).unwrap()).collect();
        TokenReader::new(
            futures::io::Cursor::new(bytes),
            PeerId::random(),
            "j",
            from,
            Duration::from_secs(5),
        )
    }

    async fn read_all<R: futures::AsyncRead + Unpin>(
        mut r: TokenReader<R>,
    ) -> (u64, Result<StreamEnd, SdkError>) {
        let mut tokens = 0;
        loop {
            match r.next().await {
                Ok(StreamEvent::Token(_)) => tokens += 1,
                Ok(StreamEvent::End(e)) => return (tokens, Ok(*e)),
                Err(e) => return (tokens, Err(e)),
            }
        }
    }

    #[tokio::test]
    async fn a_well_formed_stream_ends_with_its_end() {
        let frames = [token(3), token(4), end(5)];
        let size: usize = frames.iter().map(|f| encode(f).unwrap().len()).sum();
        let mut r = reader(&frames, 3);
        while !matches!(r.next().await.unwrap(), StreamEvent::End(_)) {}
        assert_eq!(r.bytes_read(), size as u64);
        let (n, end) = read_all(reader(&frames, 3)).await;
        assert_eq!(n, 2);
        assert_eq!(end.unwrap().total_tokens, 5);
    }

    #[tokio::test]
    async fn gaps_repeats_and_wrong_totals_fail_the_stream() {
        for frames in [
            vec![token(0), token(2), end(3)],
            vec![token(0), token(0), end(2)],
            vec![token(0), token(1), end(3)],
        ] {
            let (_, result) = read_all(reader(&frames, 0)).await;
            assert_eq!(result.unwrap_err().code(), "STREAM_FAILED", "{frames:?}");
        }
    }

    #[tokio::test]
    async fn error_frames_and_early_ends_are_typed() {
        let not_found = StreamFrame::Error {
            code: "JOB_NOT_FOUND".into(),
            message: "gone".into(),
            recoverable: false,
            receipt: None,
        };
        let (_, r) = read_all(reader(&[not_found], 0)).await;
        assert_eq!(r.unwrap_err().code(), "JOB_NOT_FOUND");
        let failed = StreamFrame::Error {
            code: "BACKEND_FAILED".into(),
            message: "oom".into(),
            recoverable: false,
            receipt: None,
        };
        let (_, r) = read_all(reader(&[token(0), failed], 0)).await;
        let e = r.unwrap_err();
        assert_eq!(e.code(), "BACKEND_FAILED");
        assert!(e.to_string().contains("oom"));
        let too_long = StreamFrame::Error {
            code: "PROMPT_TOO_LONG".into(),
            message: "9000 tokens".into(),
            recoverable: false,
            receipt: None,
        };
        let (_, r) = read_all(reader(&[too_long], 0)).await;
        assert_eq!(r.unwrap_err().code(), "PROMPT_TOO_LONG");
        let shut_down = StreamFrame::Error {
            code: "SHUTTING_DOWN".into(),
            message: "grace over".into(),
            recoverable: true,
            receipt: None,
        };
        let (_, r) = read_all(reader(&[token(0), shut_down], 0)).await;
        let e = r.unwrap_err();
        assert_eq!(e.code(), "HOST_SHUT_DOWN");
        assert!(crate::market::failover::recoverable(&e));
        let (n, r) = read_all(reader(&[token(0)], 0)).await;
        assert_eq!((n, r.unwrap_err().code()), (1, "STREAM_FAILED"));
        let mut bytes = encode(&token(0)).unwrap();
        bytes.truncate(bytes.len() - 3);
        let r = TokenReader::new(
            futures::io::Cursor::new(bytes),
            PeerId::random(),
            "j",
            0,
            Duration::from_secs(1),
        );
        assert!(read_all(r)
            .await
            .1
            .unwrap_err()
            .to_string()
            .contains("TRUNCATED"));
    }

    #[tokio::test]
    async fn a_host_that_never_ends_fails_at_the_token_limit() {
        let frames: Vec<StreamFrame> = (0..6).map(token).collect();
        let (n, r) = read_all(reader(&frames, 0).with_limit(4)).await;
        assert_eq!(n, 4, "the tokens within the limit arrive");
        let e = r.unwrap_err();
        assert_eq!(e.code(), "STREAM_FAILED");
        assert!(e.to_string().contains("beyond the 4 tokens"), "{e}");
    }

    /// A reader that never yields a byte.
    struct Silent;

    impl futures::AsyncRead for Silent {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_silent_stream_times_out() {
        let r = TokenReader::new(
            Silent,
            PeerId::random(),
            "j",
            0,
            Duration::from_millis(1200),
        );
        let started = std::time::Instant::now();
        let (_, result) = read_all(r).await;
        assert_eq!(result.unwrap_err().code(), "TIMEOUT");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(1200) && waited < Duration::from_millis(1900),
            "{waited:?}"
        );
    }
}
