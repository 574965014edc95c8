//! `/fabstir/ping/1.0.0`: one on-demand ping per stream.
//!
//! The dialer sends [`PAYLOAD_LEN`] bytes, the listener echoes them and closes. It is separate from
//! libp2p's `/ipfs/ping/1.0.0` because libp2p's ping handler keeps a single inbound stream per
//! connection: a second, on-demand ping stream would displace the keep-alive one.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol id.
pub const PROTOCOL: &str = "/fabstir/ping/1.0.0";

/// Size of one ping payload.
pub const PAYLOAD_LEN: usize = 32;

/// Sends `payload` and waits for the echo; an echo that differs is an `InvalidData` error.
pub async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    payload: &[u8; PAYLOAD_LEN],
) -> std::io::Result<()> {
    stream.write_all(payload).await?;
    stream.flush().await?;
    let mut echo = [0u8; PAYLOAD_LEN];
    stream.read_exact(&mut echo).await?;
    if &echo != payload {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the echo differs from the payload sent",
        ));
    }
    let _ = stream.close().await;
    Ok(())
}

/// Answers one ping: reads a payload, echoes it and closes the stream.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> std::io::Result<()> {
    let mut payload = [0u8; PAYLOAD_LEN];
    stream.read_exact(&mut payload).await?;
    stream.write_all(&payload).await?;
    stream.flush().await?;
    stream.close().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    #[test]
    fn serve_echoes_exactly_one_payload() {
        let mut input = vec![7u8; PAYLOAD_LEN];
        input.extend_from_slice(b"trailing bytes are not echoed");
        let mut stream = Cursor::new(input);
        futures::executor::block_on(serve(&mut stream)).unwrap();
        let written = stream.into_inner();
        assert_eq!(&written[PAYLOAD_LEN..2 * PAYLOAD_LEN], &[7u8; PAYLOAD_LEN]);
    }

    #[test]
    fn serve_fails_on_a_short_payload() {
        let stream = Cursor::new(vec![1u8; PAYLOAD_LEN - 1]);
        assert!(futures::executor::block_on(serve(stream)).is_err());
    }
}
