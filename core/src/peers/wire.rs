//! Frames between desks: a 4-byte big-endian length, then one JSON message.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{PeerError, Record, Vector};

/// No message is larger (a batch of records is cut well below it).
pub const MAX_FRAME: usize = 4 << 20;

/// What two paired desks say to each other over TLS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Msg {
    /// First, each way: who I am, what I hold, and what my clock reads (a desk learns how
    /// far the other's clock is from its own; absent from a desk before that was said).
    Hello {
        desk: String,
        vector: Vector,
        #[serde(default)]
        now: Option<DateTime<Utc>>,
    },
    /// Records the other lacks, oldest first.
    Records { records: Vec<Record> },
    /// After taking records: what I hold now (the other sends the next batch on it).
    Held { vector: Vector },
    /// Still here (every few seconds while nothing else is said).
    Ping,
}

pub async fn write<W: AsyncWrite + Unpin>(
    w: &mut W,
    msg: &impl Serialize,
) -> Result<(), PeerError> {
    let body = serde_json::to_vec(msg).map_err(|e| PeerError::Protocol(e.to_string()))?;
    if body.len() > MAX_FRAME {
        return Err(PeerError::Protocol("a message too large to send".into()));
    }
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame).await.map_err(io)?;
    w.flush().await.map_err(io)
}

pub async fn read<R: AsyncRead + Unpin, T: DeserializeOwned>(r: &mut R) -> Result<T, PeerError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.map_err(io)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(PeerError::Protocol(format!("a message of {len} bytes")));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await.map_err(io)?;
    serde_json::from_slice(&body).map_err(|e| PeerError::Protocol(e.to_string()))
}

fn io(e: std::io::Error) -> PeerError {
    PeerError::Unreachable {
        address: "the other desk".into(),
        reason: e.to_string(),
    }
}
