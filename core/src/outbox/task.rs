//! The background sender while the app runs: it drains at start (ops left by an earlier
//! run), on the monitor's recovery, on a timer while anything waits, and on demand (tray
//! 最新に更新). Failures back off with jitter; commands are answered while it waits, and
//! shutdown stops it between two ops (never between a request and recording its answer).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::backoff::Backoff;
use crate::desk::{Desk, Round, RoundEnd};
use crate::error::{CoreError, Result};

enum Command {
    /// A round now; `hold`: ops a person may still take back wait (see `UNDO_HOLD`).
    DrainNow {
        reply: Option<oneshot::Sender<Result<Round>>>,
        hold: bool,
    },
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub struct SyncBack {
    commands: mpsc::Sender<Command>,
    stop: Arc<AtomicBool>,
}

impl SyncBack {
    /// Start sending now, then every `every` while ops wait (sooner after a failure, as
    /// the backoff says).
    pub fn spawn(desk: Arc<Desk>, every: Duration, runtime: &tokio::runtime::Handle) -> SyncBack {
        let (commands, receiver) = mpsc::channel(8);
        let stop = Arc::new(AtomicBool::new(false));
        runtime.spawn(run(
            desk,
            every,
            receiver,
            stop.clone(),
            Backoff::standard(),
        ));
        SyncBack { commands, stop }
    }

    /// Send what waits now (the backoff starts over) and say how the round ended. A person
    /// asked (最新に更新) or the line came back: nothing is held back.
    pub async fn drain_now(&self) -> Result<Round> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::DrainNow {
                reply: Some(reply),
                hold: false,
            })
            .await
            .map_err(|_| CoreError::Stopped)?;
        answer.await.map_err(|_| CoreError::Stopped)?
    }

    /// Ask for a round without waiting for it (a change was queued).
    pub fn nudge(&self) {
        let _ = self.commands.try_send(Command::DrainNow {
            reply: None,
            hold: true,
        });
    }

    /// Stop after the op in flight; returns once stopped.
    pub async fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }
}

/// When to run the next round after this one: sooner when ops are held for 元に戻す.
fn after(round: &Result<Round>, every: Duration, backoff: &mut Backoff) -> Duration {
    let next = next_after(round, every, backoff);
    match round {
        Ok(Round {
            held_for: Some(held),
            ..
        }) => next.min(*held),
        _ => next,
    }
}

fn next_after(round: &Result<Round>, every: Duration, backoff: &mut Backoff) -> Duration {
    match round {
        Ok(Round {
            end:
                RoundEnd::Failed {
                    retryable: true,
                    retry_after,
                    ..
                },
            ..
        }) => backoff.next(*retry_after),
        Ok(Round {
            end: RoundEnd::Busy,
            ..
        }) => Duration::from_secs(2),
        Err(e) if e.is_retryable() => backoff.next(None),
        _ => {
            backoff.reset();
            every
        }
    }
}

async fn run(
    desk: Arc<Desk>,
    every: Duration,
    mut commands: mpsc::Receiver<Command>,
    stop: Arc<AtomicBool>,
    mut backoff: Backoff,
) {
    let mut next = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {
                let round = desk.drain_round_until(&stop, true).await;
                next = Instant::now() + after(&round, every, &mut backoff);
            }
            command = commands.recv() => match command {
                Some(Command::DrainNow { reply, hold }) => {
                    backoff.reset();
                    let round = desk.drain_round_until(&stop, hold).await;
                    next = Instant::now() + after(&round, every, &mut backoff);
                    if let Some(reply) = reply {
                        let _ = reply.send(round);
                    }
                }
                Some(Command::Shutdown(done)) => {
                    let _ = done.send(());
                    break;
                }
                None => break,
            },
        }
    }
    tracing::debug!("sync-back sender stopped");
}
