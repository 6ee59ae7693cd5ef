//! What the shell holds for the life of the app: the open desk and its puller, or the
//! reason the desk could not be opened (shown in the window instead of a crash).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{DataDir, Language};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::monitor::{Monitor, RecoveryHook};
use tsunagi_core::puller::Puller;
use tsunagi_core::{Desk, DeskOptions, ErrorPayload};

use crate::launch::LaunchArgs;

/// How often the mirror is refreshed while the app runs.
const PULL_EVERY: Duration = Duration::from_secs(60);

pub enum Shell {
    Ready {
        desk: Arc<Desk>,
        puller: Puller,
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
                // Back online: refresh the mirror at once (the sync-back will drain here too).
                let on_recovery: RecoveryHook = {
                    let puller = puller.clone();
                    Arc::new(move |_incident| {
                        let puller = puller.clone();
                        tauri::async_runtime::spawn(async move {
                            let _ = puller.pull_now().await;
                        });
                    })
                };
                let monitor = Monitor::spawn(
                    desk.monitor_options(Some(on_recovery), true),
                    runtime.inner(),
                );
                Shell::Ready {
                    desk,
                    puller,
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
            puller, monitor, ..
        } = self
        {
            // The monitor marks this run as cleanly ended.
            tokio::join!(puller.shutdown(), monitor.shutdown());
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
