//! One link between two paired desks, over TLS: each says what it holds, sends what the
//! other lacks in batches (the next batch after the other says it took the last), and
//! pushes what it records (or receives from a third desk) as it comes. A link that hears
//! nothing for a while is dropped; the dialing desk connects again.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::wire::{self, Msg};
use super::{PeerError, Vector};
use crate::desk::Desk;
use crate::error::Result;

/// At most this many records per batch.
const BATCH: usize = 200;
/// Say something this often while idle…
const PING: Duration = Duration::from_secs(3);
/// …and drop a link that said nothing for this long.
const SILENT: Duration = Duration::from_secs(10);

/// Records `mine` holds that `theirs` lacks.
pub fn behind(mine: &Vector, theirs: &Vector) -> u64 {
    mine.iter()
        .map(|(desk, n)| n.saturating_sub(theirs.get(desk).copied().unwrap_or(0)))
        .sum()
}

/// Run the link with `peer` until it breaks or `stop` says so.
pub async fn run<S>(
    stream: S,
    peer: &str,
    desk: &Desk,
    mut recorded: watch::Receiver<u64>,
    mut stop: watch::Receiver<bool>,
    paired: &(dyn Fn() -> bool + Send + Sync),
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    // Reading a frame is not cancel-safe: a task reads, the loop takes whole messages.
    let (frames_tx, mut frames) = mpsc::channel::<std::result::Result<Msg, PeerError>>(4);
    let reader = tokio::spawn(async move {
        loop {
            let msg = wire::read::<_, Msg>(&mut rd).await;
            let end = msg.is_err();
            if frames_tx.send(msg).await.is_err() || end {
                break;
            }
        }
    });
    let _reader = AbortOnDrop(reader);

    let me = desk.desk_id().await?;
    recorded.mark_unchanged();
    wire::write(
        &mut wr,
        &Msg::Hello {
            desk: me,
            vector: desk.vector().await?,
            now: Some(desk.now()),
        },
    )
    .await?;
    let hello = tokio::time::timeout(SILENT, frames.recv())
        .await
        .map_err(|_| PeerError::Protocol("no hello".into()))?;
    let mut theirs = match hello {
        Some(Ok(Msg::Hello {
            desk: d,
            vector,
            now,
        })) if d == peer => {
            if let Some(now) = now {
                desk.peer_clock(peer, now).await?;
            }
            vector
        }
        Some(Ok(_)) => return Err(PeerError::Protocol("no hello".into()).into()),
        Some(Err(e)) => return Err(e.into()),
        None => return Err(PeerError::Protocol("closed".into()).into()),
    };
    let mut in_flight = false;
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(PING);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    desk.peer_seen(peer, Some(behind(&desk.vector().await?, &theirs)))
        .await?;

    loop {
        if !in_flight {
            let records = desk.records_after(&theirs, BATCH).await?;
            if !records.is_empty() {
                wire::write(&mut wr, &Msg::Records { records }).await?;
                in_flight = true;
            }
        }
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            msg = frames.recv() => {
                let msg = msg.ok_or_else(|| PeerError::Protocol("closed".into()))??;
                if !paired() {
                    return Err(PeerError::NotPaired(peer.to_owned()).into());
                }
                last_heard = Instant::now();
                match msg {
                    Msg::Records { records } => {
                        desk.accept_records(records).await?;
                        let vector = desk.vector().await?;
                        wire::write(&mut wr, &Msg::Held { vector }).await?;
                    }
                    Msg::Held { vector } => {
                        theirs = vector;
                        in_flight = false;
                        let behind = behind(&desk.vector().await?, &theirs);
                        desk.peer_seen(peer, Some(behind)).await?;
                    }
                    Msg::Ping => desk.peer_seen(peer, None).await?,
                    Msg::Hello { .. } => {
                        return Err(PeerError::Protocol("a second hello".into()).into())
                    }
                }
            }
            // Something new here (recorded, or taken from a third desk): the next turn
            // of the loop sends it, unless a batch is on its way.
            changed = recorded.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
            }
            _ = ping.tick() => {
                if !paired() {
                    return Err(PeerError::NotPaired(peer.to_owned()).into());
                }
                if last_heard.elapsed() > SILENT {
                    return Err(PeerError::Unreachable {
                        address: peer.to_owned(),
                        reason: "it stopped answering".into(),
                    }
                    .into());
                }
                wire::write(&mut wr, &Msg::Ping).await?;
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
