//! What the shell holds for the life of the app: the open desk and its puller, or the
//! reason the desk could not be opened (shown in the window instead of a crash).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{DataDir, Language};
use tsunagi_core::desk::FreshStart;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::monitor::{Monitor, RecoveryHook};
use tsunagi_core::outbox::task::SyncBack;
use tsunagi_core::puller::Puller;
use tsunagi_core::view::MirrorStatus;
use tsunagi_core::{Desk, DeskOptions, ErrorPayload};

use crate::launch::LaunchArgs;

/// How often the mirror is refreshed while the app runs.
const PULL_EVERY: Duration = Duration::from_secs(60);

/// How often the sync-back looks for queued changes while nothing prompts it (it is also
/// prompted by the line coming back and by 今すぐ同期).
const SEND_EVERY: Duration = Duration::from_secs(30);

/// The shell's state. It changes once at most: from unavailable (key lost) to ready when
/// staff start over with a fresh mirror.
pub struct Shell {
    state: RwLock<State>,
    launch: LaunchArgs,
}

#[derive(Clone)]
enum State {
    Ready {
        desk: Arc<Desk>,
        puller: Puller,
        sync_back: SyncBack,
        monitor: Monitor,
    },
    /// The desk could not be opened (missing key, damaged file, …): the window explains.
    Unavailable {
        error: ErrorPayload,
        language: Language,
    },
}

impl Shell {
    pub fn open(launch: &LaunchArgs) -> Shell {
        let state = match options(launch).and_then(Desk::open) {
            Ok(desk) => State::ready(desk),
            Err(e) => {
                tracing::error!(code = e.code(), "cannot open the desk: {e}");
                State::Unavailable {
                    error: e.payload(),
                    language: Language::from_locale(tsunagi_core::config::os_locale().as_deref()),
                }
            }
        };
        Shell {
            state: RwLock::new(state),
            launch: launch.clone(),
        }
    }

    fn state(&self) -> State {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn desk(&self) -> Option<Arc<Desk>> {
        match self.state() {
            State::Ready { desk, .. } => Some(desk),
            State::Unavailable { .. } => None,
        }
    }

    /// The desk and puller, or the error that keeps them from being there.
    pub fn ready(&self) -> Result<(Arc<Desk>, Puller), ErrorPayload> {
        match self.state() {
            State::Ready { desk, puller, .. } => Ok((desk, puller)),
            State::Unavailable { error, .. } => Err(error),
        }
    }

    /// Key lost: move the unreadable database aside and open a fresh one (core refuses
    /// every other reason the desk could not open).
    pub fn start_fresh(&self) -> Result<FreshStart, ErrorPayload> {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        match &*state {
            State::Unavailable { .. } => {}
            State::Ready { .. } => {
                return Err(ErrorPayload {
                    code: "input.invalid".into(),
                    message: "the database is open; there is nothing to start over from".into(),
                })
            }
        }
        let (desk, fresh) = Desk::start_fresh(options(&self.launch)?)?;
        *state = State::ready(desk);
        Ok(fresh)
    }

    /// 今すぐ同期: send what waits, then refresh the mirror.
    pub async fn sync_now(&self) -> Result<MirrorStatus, ErrorPayload> {
        match self.state() {
            State::Ready {
                puller, sync_back, ..
            } => Ok(sync_now(&sync_back, &puller).await?),
            State::Unavailable { error, .. } => Err(error),
        }
    }

    /// Ask the sender for a round without waiting (a person just resolved an op).
    pub fn nudge_sync_back(&self) {
        if let State::Ready { sync_back, .. } = self.state() {
            sync_back.nudge();
        }
    }

    pub fn monitor(&self) -> Result<Monitor, ErrorPayload> {
        match self.state() {
            State::Ready { monitor, .. } => Ok(monitor),
            State::Unavailable { error, .. } => Err(error),
        }
    }

    pub fn language(&self) -> Language {
        match self.state() {
            State::Ready { desk, .. } => desk.config().language,
            State::Unavailable { language, .. } => language,
        }
    }

    pub async fn shutdown(&self) {
        if let State::Ready {
            puller,
            sync_back,
            monitor,
            ..
        } = self.state()
        {
            // The monitor marks this run as cleanly ended.
            tokio::join!(puller.shutdown(), sync_back.shutdown(), monitor.shutdown());
        }
    }
}

fn options(launch: &LaunchArgs) -> tsunagi_core::Result<DeskOptions> {
    let data_dir = match &launch.data_dir {
        Some(dir) => DataDir::at(dir),
        None => DataDir::os_default()?,
    };
    Ok(DeskOptions {
        data_dir,
        keychain: Arc::new(Keychain::os()),
        clock: Arc::new(SystemClock),
        locale: tsunagi_core::config::os_locale(),
    })
}

impl State {
    /// Start the desk's background work: puller, sender, monitor.
    fn ready(desk: Desk) -> State {
        let desk = Arc::new(desk);
        let runtime = tauri::async_runtime::handle();
        let puller = Puller::spawn(desk.clone(), PULL_EVERY, runtime.inner());
        let sync_back = SyncBack::spawn(desk.clone(), SEND_EVERY, runtime.inner());
        // Back online: send what was done offline, then refresh the mirror.
        let on_recovery: RecoveryHook = {
            let (puller, sync_back) = (puller.clone(), sync_back.clone());
            Arc::new(move |_incident: Option<i64>| {
                let (puller, sync_back) = (puller.clone(), sync_back.clone());
                tauri::async_runtime::spawn(async move { sync_now(&sync_back, &puller).await });
            })
        };
        let monitor = Monitor::spawn(
            desk.monitor_options(Some(on_recovery), true),
            runtime.inner(),
        );
        State::Ready {
            desk,
            puller,
            sync_back,
            monitor,
        }
    }
}

/// When the process started, to report how long the first populated window took.
pub struct Startup {
    at: Instant,
    reported: AtomicBool,
}

impl Startup {
    pub fn new(at: Instant) -> Self {
        Startup {
            at,
            reported: AtomicBool::new(false),
        }
    }

    /// The time from process start to now, the first time only.
    pub fn first_report(&self) -> Option<Duration> {
        (!self.reported.swap(true, Ordering::SeqCst)).then(|| self.at.elapsed())
    }
}

/// Changes go up before the mirror is pulled down, so the fresh mirror already has them.
/// A failed send is not the pull's business: it shows in the 同期 tab.
async fn sync_now(sync_back: &SyncBack, puller: &Puller) -> tsunagi_core::Result<MirrorStatus> {
    let _ = sync_back.drain_now().await;
    puller.pull_now().await
}
