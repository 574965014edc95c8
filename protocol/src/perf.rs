//! `/fabstir/perf/1.0.0`: measuring throughput to a node, with bounded sizes.
//!
//! The client sends a [`PerfRequest`] frame, then exactly `upload` bytes. The node reads them,
//! answers a [`PerfAck`] frame, writes exactly `download` bytes and closes. The client times the
//! upload (request → ack) and the download (ack → last byte).

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use serde::{Deserialize, Serialize};

use crate::frame::{self, FrameError};

/// The protocol id.
pub const PROTOCOL: &str = "/fabstir/perf/1.0.0";

/// The most bytes one direction of one measurement may carry (16 MiB).
pub const MAX_PERF_BYTES: u64 = 16 * 1024 * 1024;

/// Bytes moved per read or write.
const CHUNK: usize = 64 * 1024;

/// What the client will send and wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerfRequest {
    /// Bytes the client sends after this frame.
    pub upload: u64,
    /// Bytes the node sends after its ack.
    pub download: u64,
}

/// The node received the upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerfAck {
    /// Bytes received.
    pub received: u64,
}

impl PerfRequest {
    /// Checks both sizes against [`MAX_PERF_BYTES`].
    pub fn validate(&self) -> Result<(), String> {
        for (name, n) in [("upload", self.upload), ("download", self.download)] {
            if n > MAX_PERF_BYTES {
                return Err(format!(
                    "{name} must be at most {MAX_PERF_BYTES} bytes, got {n}"
                ));
            }
        }
        Ok(())
    }
}

/// Answers one measurement on `stream`.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Result<(), FrameError> {
    let Some(request) = frame::read::<_, PerfRequest>(&mut stream).await? else {
        return Ok(());
    };
    request.validate().map_err(FrameError::Malformed)?;
    let received = drain(&mut stream, request.upload).await?;
    frame::write(&mut stream, &PerfAck { received }).await?;
    fill(&mut stream, request.download).await?;
    stream.close().await?;
    Ok(())
}

/// Client side, phase 1: sends the request and the upload; returns once the node acknowledged.
pub async fn upload<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: PerfRequest,
) -> Result<(), FrameError> {
    request.validate().map_err(FrameError::Malformed)?;
    frame::write(stream, &request).await?;
    fill(stream, request.upload).await?;
    match frame::read::<_, PerfAck>(stream).await? {
        Some(ack) if ack.received == request.upload => Ok(()),
        Some(ack) => Err(FrameError::Malformed(format!(
            "the node received {} of {} bytes",
            ack.received, request.upload
        ))),
        None => Err(FrameError::Truncated),
    }
}

/// Client side, phase 2: reads the download; fails unless exactly `expected` bytes arrive.
pub async fn download<S: AsyncRead + Unpin>(
    stream: &mut S,
    expected: u64,
) -> Result<(), FrameError> {
    let got = drain(stream, expected).await?;
    let mut probe = [0u8; 1];
    if got < expected || stream.read(&mut probe).await? != 0 {
        return Err(FrameError::Malformed(format!(
            "expected exactly {expected} bytes, got {got}{}",
            if got == expected { " and more" } else { "" }
        )));
    }
    Ok(())
}

async fn fill<W: AsyncWrite + Unpin>(w: &mut W, mut n: u64) -> std::io::Result<()> {
    let chunk = vec![0x5au8; CHUNK];
    while n > 0 {
        let k = n.min(CHUNK as u64) as usize;
        w.write_all(&chunk[..k]).await?;
        n -= k as u64;
    }
    w.flush().await
}

/// Reads up to `n` bytes (fewer if the stream ends); returns how many arrived.
async fn drain<R: AsyncRead + Unpin>(r: &mut R, n: u64) -> std::io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0;
    while got < n {
        let want = (n - got).min(CHUNK as u64) as usize;
        match r.read(&mut buf[..want]).await? {
            0 => break,
            k => got += k as u64,
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;

    #[test]
    fn serve_reads_the_upload_then_acks_and_sends_the_download() {
        let request = PerfRequest {
            upload: 100_000,
            download: 70_000,
        };
        let mut input = frame::encode(&request).unwrap();
        input.extend(vec![1u8; 100_000]);
        let mut stream = Cursor::new(input);
        block_on(serve(&mut stream)).unwrap();
        let written = stream.into_inner();
        let prefix_len = frame::encode(&request).unwrap().len();
        let mut reply = Cursor::new(written[prefix_len + 100_000..].to_vec());
        let ack: PerfAck = block_on(frame::read(&mut reply)).unwrap().unwrap();
        assert_eq!(ack.received, 100_000);
        block_on(download(&mut reply, 70_000)).unwrap();
    }

    #[test]
    fn oversized_requests_and_short_downloads_are_refused() {
        let big = PerfRequest {
            upload: MAX_PERF_BYTES + 1,
            download: 0,
        };
        assert!(big.validate().is_err());
        let stream = Cursor::new(frame::encode(&big).unwrap());
        assert_eq!(block_on(serve(stream)).unwrap_err().code(), "MALFORMED");
        assert!(block_on(download(&mut Cursor::new(vec![0u8; 10]), 11)).is_err());
        assert!(block_on(download(&mut Cursor::new(vec![0u8; 12]), 11)).is_err());
    }
}
