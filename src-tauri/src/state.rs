//! What the shell holds for the life of the app: the open desk and its puller, or the
//! reason the desk could not be opened (shown in the window instead of a crash).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{DataDir, Language};
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

pub enum Shell {
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
        let locale = tsunagi_core::config::os_locale();
        let opened = launch
            .data_dir
            .clone()
            .map(|d| Ok(DataDir::at(d)))
            .unwrap_or_else(DataDir::os_default)
            .and_then(|data_dir| {
                Desk::open(DeskOptions {
                    data_dir,
                    keychain: Arc::new(Keychain::os()),
                    clock: Arc::new(SystemClock),
                    locale: locale.clone(),
                })
            });
        match opened {
            Ok(desk) => {
                let desk = Arc::new(desk);
                let runtime = tauri::async_runtime::handle();
                let puller = Puller::spawn(desk.clone(), PULL_EVERY, runtime.inner());
                let sync_back = SyncBack::spawn(desk.clone(), SEND_EVERY, runtime.inner());
                // Back online: send what was done offline, then refresh the mirror.
                let on_recovery: RecoveryHook = {
                    let (puller, sync_back) = (puller.clone(), sync_back.clone());
                    Arc::new(move |_incident| {
                        let (puller, sync_back) = (puller.clone(), sync_back.clone());
                        tauri::async_runtime::spawn(
                            async move { sync_now(&sync_back, &puller).await },
                        );
                    })
                };
                let monitor = Monitor::spawn(
                    desk.monitor_options(Some(on_recovery), true),
                    runtime.inner(),
                );
                Shell::Ready {
                    desk,
                    puller,
                    sync_back,
                    monitor,
                }
            }
            Err(e) => {
                tracing::error!(code = e.code(), "cannot open the desk: {e}");
                Shell::Unavailable {
                    error: e.payload(),
                    language: Language::from_locale(locale.as_deref()),
                }
            }
        }
    }

    pub fn desk(&self) -> Option<&Arc<Desk>> {
        match self {
            Shell::Ready { desk, .. } => Some(desk),
            Shell::Unavailable { .. } => None,
        }
    }

    /// The desk and puller, or the error that keeps them from being there.
    pub fn ready(&self) -> Result<(&Arc<Desk>, &Puller), ErrorPayload> {
        match self {
            Shell::Ready { desk, puller, .. } => Ok((desk, puller)),
            Shell::Unavailable { error, .. } => Err(error.clone()),
        }
    }

    /// 今すぐ同期: send what waits, then refresh the mirror.
    pub async fn sync_now(&self) -> Result<MirrorStatus, ErrorPayload> {
        match self {
            Shell::Ready {
                puller, sync_back, ..
            } => Ok(sync_now(sync_back, puller).await?),
            Shell::Unavailable { error, .. } => Err(error.clone()),
        }
    }

    /// Ask the sender for a round without waiting (a person just resolved an op).
    pub fn nudge_sync_back(&self) {
        if let Shell::Ready { sync_back, .. } = self {
            sync_back.nudge();
        }
    }

    pub fn monitor(&self) -> Result<&Monitor, ErrorPayload> {
        match self {
            Shell::Ready { monitor, .. } => Ok(monitor),
            Shell::Unavailable { error, .. } => Err(error.clone()),
        }
    }

    pub fn language(&self) -> Language {
        match self {
            Shell::Ready { desk, .. } => desk.config().language,
            Shell::Unavailable { language, .. } => *language,
        }
    }

    pub async fn shutdown(&self) {
        if let Shell::Ready {
            puller,
            sync_back,
            monitor,
            ..
        } = self
        {
            // The monitor marks this run as cleanly ended.
            tokio::join!(puller.shutdown(), sync_back.shutdown(), monitor.shutdown());
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
