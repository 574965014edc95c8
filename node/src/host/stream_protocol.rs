//! Serving `/fabstir/stream/1.0.0`: replays a job's tokens from `resumeFrom`, follows it live,
//! ends with its `end` or `error` frame, and takes a `cancel` from the client meanwhile.

use std::time::Duration;

use fabstir_protocol::frame::{self, FrameError};
use fabstir_protocol::messages::{StreamControl, StreamFrame, StreamRequest};
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt};
use libp2p::{PeerId, Stream};

use super::Host;

/// How long a batch of frames may take to be written (a client that stops reading is dropped).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Tokens written per batch before one flush.
const BATCH: usize = 256;

/// Handles one token stream from `peer`: its request read first, or `known` (a job stream
/// whose request had `start`, after its `started`: the job's frames from token 0 follow on it).
pub async fn serve(
    host: Host,
    peer: PeerId,
    stream: Stream,
    known: Option<StreamRequest>,
) -> std::io::Result<()> {
    let (mut reader, mut writer) = stream.split();
    let request = match known {
        Some(request) => request,
        None => match super::read_request::<_, StreamRequest>(&mut reader, "stream request").await?
        {
            None => return Ok(()),
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                let frame = error("INVALID_REQUEST", format!("{e} ({})", e.code()));
                let _ = frame::write(&mut writer, &frame).await;
                return writer.close().await;
            }
        },
    };
    // A client may ask for the stream right after its accept, before `started`: an offer of the
    // job to this peer still open is waited for.
    let job = host
        .job_once_settled(&request.job_id, &peer, host.offer_ttl())
        .await;
    let Some(job) = job else {
        let frame = error(
            "JOB_NOT_FOUND",
            format!(
                "no job {} for this peer (it may have expired)",
                request.job_id
            ),
        );
        frame::write(&mut writer, &frame)
            .await
            .map_err(std::io::Error::other)?;
        return writer.close().await;
    };
    let mut changed = job.subscribe();
    // The job counts this stream as its reader (it keeps generating) until it ends.
    let reader_guard = job.attach();
    let mut cursor = request.resume_from;
    // The client's control frames; reading continues across loop turns, so no frame is torn.
    let mut control = Box::pin(read_control(reader)).fuse();
    loop {
        changed.borrow_and_update();
        let snapshot = job.snapshot(cursor, BATCH);
        if cursor > snapshot.total && snapshot.end.is_some() {
            let frame = error(
                "INVALID_REQUEST",
                format!(
                    "resumeFrom {cursor} is beyond the job's {} tokens",
                    snapshot.total
                ),
            );
            write_all(&mut writer, &[frame]).await?;
            return writer.close().await;
        }
        let sent = snapshot.tokens.len() as u64;
        let mut frames = snapshot.tokens;
        let finished = cursor + sent == snapshot.total && snapshot.end.is_some();
        if finished {
            frames.extend(snapshot.end);
        }
        if !frames.is_empty() {
            write_all(&mut writer, &frames).await?;
        }
        cursor += sent;
        reader_guard.delivered(cursor);
        if finished {
            return writer.close().await;
        }
        if sent as usize == BATCH {
            continue;
        }
        tokio::select! {
            result = changed.changed() => {
                if result.is_err() {
                    return Err(std::io::Error::other("the job went away"));
                }
            }
            c = &mut control => match c {
                Ok(Some(StreamControl::Cancel)) => {
                    tracing::info!(%peer, job = %job.id, "job cancelled by its client");
                    job.cancel();
                }
                // The client closed its side or sent garbage: keep streaming what it asked for.
                Ok(None) | Err(_) => {}
            },
        }
    }
}

/// Reads one control frame; `Ok(None)` when the client closed its writing side.
async fn read_control(
    mut reader: futures::io::ReadHalf<Stream>,
) -> Result<Option<StreamControl>, FrameError> {
    let control = frame::read::<_, StreamControl>(&mut reader).await?;
    if control.is_none() {
        // Nothing more can come; never resolve again.
        futures::future::pending::<()>().await;
    }
    Ok(control)
}

async fn write_all(
    writer: &mut futures::io::WriteHalf<Stream>,
    frames: &[StreamFrame],
) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    for f in frames {
        bytes.extend(frame::encode(f).map_err(std::io::Error::other)?);
    }
    tokio::time::timeout(WRITE_TIMEOUT, async {
        writer.write_all(&bytes).await?;
        writer.flush().await
    })
    .await
    .map_err(|_| std::io::Error::other("the client stopped reading"))?
}

fn error(code: &str, message: String) -> StreamFrame {
    StreamFrame::Error {
        code: code.into(),
        message,
        recoverable: false,
        receipt: None,
    }
}
