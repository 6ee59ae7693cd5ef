//! The background puller: refreshes the mirror on a timer and on demand while the app runs.
//! An owned task behind a command channel; `shutdown` waits for a pull in flight to finish
//! writing, so quitting never cuts a transaction short.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

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
    pub fn spawn(desk: Arc<Desk>, every: Duration, runtime: &tokio::runtime::Handle) -> Puller {
        let (commands, receiver) = mpsc::channel(8);
        runtime.spawn(run(desk, every, receiver));
        Puller { commands }
    }

    /// Pull right away (tray 今すぐ同期) and return the fresh status.
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

async fn run(desk: Arc<Desk>, every: Duration, mut commands: mpsc::Receiver<Command>) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                // Errors are already logged, stored and announced by the desk.
                let _ = desk.pull().await;
            }
            command = commands.recv() => match command {
                Some(Command::PullNow(reply)) => {
                    let _ = reply.send(desk.pull().await);
                    ticks.reset();
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
