//! What the shell holds for the life of the app: the open desk and its runtime (all the
//! background work lives in core's `Runtime`), or the reason the desk could not be opened
//! (shown in the window instead of a crash).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{DataDir, Language};
use tsunagi_core::desk::FreshStart;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::monitor::MonitorStatus;
use tsunagi_core::runtime::{Runtime, RuntimeOptions};
use tsunagi_core::view::MirrorStatus;
use tsunagi_core::{Desk, DeskOptions, ErrorCode, ErrorPayload};

use crate::launch::LaunchArgs;

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
        runtime: Runtime,
    },
    /// The desk could not be opened (missing key, damaged file, …): the window explains.
    Unavailable {
        error: ErrorPayload,
        language: Language,
    },
}

impl Shell {
    pub fn open(launch: &LaunchArgs) -> Shell {
        let state = match options(launch).and_then(Desk::open).and_then(State::ready) {
            Ok(state) => state,
            Err(e) => {
                tracing::error!(code = %e.code(), "cannot open the desk: {e}");
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

    /// The desk, or the error that keeps it from being there.
    pub fn ready(&self) -> Result<Arc<Desk>, ErrorPayload> {
        match self.state() {
            State::Ready { desk, .. } => Ok(desk),
            State::Unavailable { error, .. } => Err(error),
        }
    }

    /// The background work, or the error that keeps it from running.
    pub fn runtime(&self) -> Result<Runtime, ErrorPayload> {
        match self.state() {
            State::Ready { runtime, .. } => Ok(runtime),
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
                return Err(ErrorPayload::new(
                    ErrorCode::InputInvalid,
                    "the database is open; there is nothing to start over from",
                ))
            }
        }
        let (desk, fresh) = Desk::start_fresh(options(&self.launch)?)?;
        *state = State::ready(desk)?;
        Ok(fresh)
    }

    /// 最新に更新: send what waits, then refresh the mirror.
    pub async fn sync_now(&self) -> Result<MirrorStatus, ErrorPayload> {
        Ok(self.runtime()?.sync_now().await?)
    }

    pub fn line(&self) -> Result<MonitorStatus, ErrorPayload> {
        Ok(self.runtime()?.line())
    }

    pub fn language(&self) -> Language {
        match self.state() {
            State::Ready { desk, .. } => desk.config().language,
            State::Unavailable { language, .. } => language,
        }
    }

    /// Stop the background work in order (the monitor marks this run as cleanly ended).
    pub async fn shutdown(&self) {
        if let State::Ready { runtime, .. } = self.state() {
            runtime.shutdown().await;
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
    /// Start the desk's background work (refused while `tsunagi-cli run` runs it).
    fn ready(desk: Desk) -> tsunagi_core::Result<State> {
        let desk = Arc::new(desk);
        let handle = tauri::async_runtime::handle();
        let runtime = Runtime::start(desk.clone(), RuntimeOptions::default(), handle.inner())?;
        Ok(State::Ready { desk, runtime })
    }
}

/// When the window was asked for (the process start, or a window built again after it was
/// given up), to report how long it took to show appointments.
pub struct Startup {
    at: std::sync::Mutex<Instant>,
    reported: AtomicBool,
    windows: std::sync::atomic::AtomicU32,
}

impl Startup {
    pub fn new(at: Instant) -> Self {
        Startup {
            at: std::sync::Mutex::new(at),
            reported: AtomicBool::new(false),
            windows: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// A new window is being built: its page reports again.
    pub fn window_built(&self, at: Instant) {
        if self.windows.fetch_add(1, Ordering::SeqCst) == 0 {
            // The first window is timed from the process start.
            return;
        }
        *self.at.lock().unwrap_or_else(|e| e.into_inner()) = at;
        self.reported.store(false, Ordering::SeqCst);
    }

    /// The time from the window being asked for to now, once per window.
    pub fn first_report(&self) -> Option<Duration> {
        (!self.reported.swap(true, Ordering::SeqCst))
            .then(|| self.at.lock().unwrap_or_else(|e| e.into_inner()).elapsed())
    }
}
