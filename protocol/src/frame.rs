//! Length-prefixed frames: a 4-byte big-endian length, then that many bytes of JSON.
//!
//! Every frame is at most [`MAX_FRAME_LEN`] bytes; a longer length prefix is refused before any
//! payload is read, so a peer cannot make us allocate more than that.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest payload a frame may carry (64 KiB).
pub const MAX_FRAME_LEN: usize = 64 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The length prefix (or the message to write) exceeds [`MAX_FRAME_LEN`].
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The announced or encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("the stream ended inside a frame")]
    Truncated,
    /// The stream ended before the first frame of an answer: the peer closed it without reading
    /// the question (see `catalog::wire::ask`), so asking again is safe.
    #[error("the peer closed the stream without an answer")]
    Unanswered,
    /// The payload is not a valid message.
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl FrameError {
    /// A stable code for the error, as used on the wire and in SDK errors.
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::Io(_) => "IO",
            FrameError::TooLarge { .. } => "FRAME_TOO_LARGE",
            FrameError::Truncated => "TRUNCATED",
            FrameError::Unanswered => "UNANSWERED",
            FrameError::Malformed(_) => "MALFORMED",
        }
    }

    /// Whether the peer closed or reset the stream before it answered (a dropped stream: the
    /// request carried nothing yet, so asking again is safe; docs/PROTOCOL.md, "Dropped
    /// streams"). An answer that ended before its first frame is [`FrameError::Unanswered`];
    /// yamux reports writing to a reset stream as a `WriteZero` "connection is closed" while the
    /// connection itself is fine.
    pub fn unanswered(&self) -> bool {
        match self {
            FrameError::Unanswered => true,
            FrameError::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::WriteZero
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
            ),
            _ => false,
        }
    }
}

/// Encodes `message` as one frame (length prefix included).
pub fn encode<M: Serialize>(message: &M) -> Result<Vec<u8>, FrameError> {
    let payload = serde_json::to_vec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if payload.len() > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max: MAX_FRAME_LEN,
        });
    }
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Decodes one frame's payload (without the prefix).
pub fn decode<M: DeserializeOwned>(payload: &[u8]) -> Result<M, FrameError> {
    serde_json::from_slice(payload).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Writes `message` as one frame and flushes.
pub async fn write<W: AsyncWrite + Unpin, M: Serialize>(
    w: &mut W,
    message: &M,
) -> Result<(), FrameError> {
    w.write_all(&encode(message)?).await?;
    w.flush().await?;
    Ok(())
}

/// How many bytes of frames [`write_batch`] hands to the stream at a time.
pub const BATCH_LEN: usize = 64 * 1024;

/// Encodes `messages` as frames joined into writes of about [`BATCH_LEN`] bytes (a longer frame
/// is a write of its own), in order.
pub fn encode_batch<'a, M: Serialize + 'a>(
    messages: impl IntoIterator<Item = &'a M>,
) -> Result<Vec<Vec<u8>>, FrameError> {
    let mut batches = Vec::new();
    let mut batch = Vec::new();
    for message in messages {
        let frame = encode(message)?;
        if !batch.is_empty() && batch.len() + frame.len() > BATCH_LEN {
            batches.push(std::mem::take(&mut batch));
        }
        batch.extend_from_slice(&frame);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    Ok(batches)
}

/// Writes `messages` as frames and flushes once at the end, so that many small frames (a
/// catalog answer, one per host) travel in a few transport messages instead of one each.
pub async fn write_batch<'a, W: AsyncWrite + Unpin, M: Serialize + 'a>(
    w: &mut W,
    messages: impl IntoIterator<Item = &'a M>,
) -> Result<(), FrameError> {
    for batch in encode_batch(messages)? {
        w.write_all(&batch).await?;
    }
    w.flush().await?;
    Ok(())
}

/// Reads one frame. `Ok(None)` when the stream ended cleanly between frames.
pub async fn read<R: AsyncRead + Unpin, M: DeserializeOwned>(
    r: &mut R,
) -> Result<Option<M>, FrameError> {
    match read_payload(r).await? {
        Some(payload) => decode(&payload).map(Some),
        None => Ok(None),
    }
}

/// Reads one frame's payload bytes, undecoded (e.g. to hash them as sent).
pub async fn read_payload<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, FrameError> {
    let mut prefix = [0u8; 4];
    let mut got = 0;
    while got < prefix.len() {
        let read = match r.read(&mut prefix[got..]).await {
            // A stream opened lazily (its protocol confirmed with the first answer, as the SDK
            // opens them) that the peer closed unanswered says so here: an end before any frame.
            Err(e) if got == 0 && e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            other => other?,
        };
        match read {
            0 if got == 0 => return Ok(None),
            0 => return Err(FrameError::Truncated),
            n => got += n,
        }
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_FRAME_LEN,
        });
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => FrameError::Truncated,
            _ => FrameError::Io(e),
        })?;
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;

    #[test]
    fn round_trips_and_ends_cleanly() {
        let bytes = [encode(&"one").unwrap(), encode(&vec![1u32, 2]).unwrap()].concat();
        let mut r = Cursor::new(bytes);
        assert_eq!(
            block_on(read::<_, String>(&mut r)).unwrap().as_deref(),
            Some("one")
        );
        assert_eq!(
            block_on(read::<_, Vec<u32>>(&mut r)).unwrap(),
            Some(vec![1, 2])
        );
        assert!(block_on(read::<_, String>(&mut r)).unwrap().is_none());
    }

    #[test]
    fn batches_join_frames_in_order_up_to_the_batch_length() {
        let small: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let batches = encode_batch(&small).unwrap();
        assert_eq!(batches.len(), 1);
        let mut r = Cursor::new(batches.concat());
        for want in &small {
            assert_eq!(&block_on(read::<_, String>(&mut r)).unwrap().unwrap(), want);
        }
        // Frames of ~40 KB: two do not fit one batch, one never splits.
        let big: Vec<String> = (0..3).map(|i| i.to_string().repeat(40_000)).collect();
        let batches = encode_batch(&big).unwrap();
        assert_eq!(batches.len(), 3);
        assert!(batches.iter().all(|b| b.len() <= BATCH_LEN));
        let mut written = Vec::new();
        block_on(write_batch(&mut Cursor::new(&mut written), &big)).unwrap();
        assert_eq!(written, batches.concat());
        assert!(encode_batch::<String>(&[]).unwrap().is_empty());
    }

    #[test]
    fn refuses_oversized_prefix_before_reading_the_payload() {
        let mut bytes = ((MAX_FRAME_LEN + 1) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"xx");
        let err = block_on(read::<_, String>(&mut Cursor::new(bytes))).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len, .. } if len == MAX_FRAME_LEN + 1));
        assert!(matches!(
            encode(&"x".repeat(MAX_FRAME_LEN)),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_stream_that_ends_in_error_before_any_frame_ends_cleanly() {
        struct Eof;
        impl AsyncRead for Eof {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::task::Poll::Ready(Err(std::io::ErrorKind::UnexpectedEof.into()))
            }
        }
        assert!(block_on(read::<_, String>(&mut Eof)).unwrap().is_none());
    }

    #[test]
    fn truncated_and_malformed_frames_are_typed_errors() {
        let mut frame = encode(&"hello").unwrap();
        frame.pop();
        assert!(matches!(
            block_on(read::<_, String>(&mut Cursor::new(frame))),
            Err(FrameError::Truncated)
        ));
        assert!(matches!(
            block_on(read::<_, String>(&mut Cursor::new(vec![0, 0]))),
            Err(FrameError::Truncated)
        ));
        let mut bad = 3u32.to_be_bytes().to_vec();
        bad.extend_from_slice(b"{{{");
        let err = block_on(read::<_, String>(&mut Cursor::new(bad))).unwrap_err();
        assert_eq!(err.code(), "MALFORMED");
    }
}
