//! The background puller: refreshes the mirror on a timer and on demand while the runtime
//! runs, waiting longer after each failure.
//! An owned task behind a command channel; `shutdown` waits for a pull in flight to finish
//! writing, so quitting never cuts a transaction short.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::outbox::backoff::{os_jitter, Backoff};

use crate::desk::Desk;
use crate::error::{CoreError, Result};
use crate::view::MirrorStatus;

enum Command {
    PullNow(oneshot::Sender<Result<MirrorStatus>>),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub struct Puller {
    commands: mpsc::Sender<Command>,
}

impl Puller {
    /// Start pulling now and every `every` after that, on the given runtime. A failed pull
    /// is recorded and announced by the desk; the next tick is the retry.
    ///
    /// While `frugal` says so (a backup or metered line), pulls are [`FRUGAL_PULL_FACTOR`]
    /// times further apart: changes still go out at once, freshness waits. A pull skipped
    /// so is made within `every` once the line is no longer frugal.
    pub fn spawn(
        desk: Arc<Desk>,
        every: Duration,
        frugal: Frugal,
        runtime: &tokio::runtime::Handle,
    ) -> Puller {
        let (commands, receiver) = mpsc::channel(8);
        runtime.spawn(run(desk, every, frugal, receiver));
        Puller { commands }
    }

    /// Pull right away (tray 最新に更新) and return the fresh status.
    pub async fn pull_now(&self) -> Result<MirrorStatus> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::PullNow(reply))
            .await
            .map_err(|_| CoreError::Stopped)?;
        answer.await.map_err(|_| CoreError::Stopped)?
    }

    /// Stop the loop after any pull in flight; returns once it has stopped.
    pub async fn shutdown(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }
}

/// Whether the line is one to spend little on (the monitor's status says).
pub type Frugal = Arc<dyn Fn() -> bool + Send + Sync>;

/// How much longer pulls wait on a backup or metered line (every 10 minutes by default).
pub const FRUGAL_PULL_FACTOR: u32 = 10;

async fn run(
    desk: Arc<Desk>,
    every: Duration,
    frugal: Frugal,
    mut commands: mpsc::Receiver<Command>,
) {
    // The loop still wakes every `every`: a pull skipped while frugal is made at once when
    // the primary line is back.
    let mut last_pull: Option<Instant> = None;
    // After a failure the next pull waits longer each time (from `every` up to BACKOFF_CAP,
    // jittered): a server that struggles is not pulled every minute by every desk.
    let mut backoff = Backoff::new(every, BACKOFF_CAP.max(every), os_jitter());
    let mut next = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {
                if frugal() && last_pull.is_some_and(|t| t.elapsed() < every * FRUGAL_PULL_FACTOR) {
                    next = Instant::now() + every;
                    continue;
                }
                // Errors are already logged, stored and announced by the desk.
                let pulled = desk.pull().await;
                last_pull = Some(Instant::now());
                next = Instant::now() + after(&pulled, every, &mut backoff);
            }
            command = commands.recv() => match command {
                Some(Command::PullNow(reply)) => {
                    // A person asked: try now, and start the backoff over.
                    backoff.reset();
                    let pulled = desk.pull().await;
                    last_pull = Some(Instant::now());
                    next = Instant::now() + after(&pulled, every, &mut backoff);
                    let _ = reply.send(pulled);
                }
                Some(Command::Shutdown(done)) => {
                    let _ = done.send(());
                    break;
                }
                None => break,
            },
        }
    }
    tracing::debug!("puller stopped");
}

/// The longest wait between two pulls while they fail.
const BACKOFF_CAP: Duration = Duration::from_secs(15 * 60);

/// When to pull next after this one.
fn after<T>(pulled: &Result<T>, every: Duration, backoff: &mut Backoff) -> Duration {
    match pulled {
        Ok(_) => {
            backoff.reset();
            every
        }
        Err(_) => backoff.next(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_pulls_wait_longer_each_time_and_a_success_starts_over() {
        let every = Duration::from_secs(60);
        // Jitter pinned at its top: each step is the whole exponential step.
        let mut backoff = Backoff::new(every, BACKOFF_CAP, Box::new(|| 1.0));
        let failed: Result<()> = Err(CoreError::Stopped);
        let waits: Vec<u64> = (0..6)
            .map(|_| after(&failed, every, &mut backoff).as_secs())
            .collect();
        assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
        let ok: Result<()> = Ok(());
        assert_eq!(after(&ok, every, &mut backoff), every);
        assert_eq!(after(&failed, every, &mut backoff), every);
    }
}
