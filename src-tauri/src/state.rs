//! What the shell holds for the life of the app: the open desk and its runtime (all the
//! background work lives in core's `Runtime`), or the reason the desk could not be opened
//! (shown in the window instead of a crash).
//!
//! The runtime runs in the tray process (`tsunagi-tray`, issue 18): this process is only
//! the window, follows the runtime over the local channel, and exits a while after the
//! window was hidden. Launched by hand with no tray running, it starts the tray first.
//! Where `tsunagi-tray` is not installed beside the app (or with `--no-tray`), the runtime
//! runs in this process, with the tray icon.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{DataDir, Language};
use tsunagi_core::desk::FreshStart;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::monitor::advice::LineView;
use tsunagi_core::runtime::local::{self, Ask, LocalClient};
use tsunagi_core::runtime::{Runtime, RuntimeOptions};
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
        background: Background,
    },
    /// The desk could not be opened (missing key, damaged file, …): the window explains.
    Unavailable {
        error: ErrorPayload,
        language: Language,
    },
}

impl Shell {
    pub fn open(launch: &LaunchArgs) -> Shell {
        let state = match options(launch)
            .and_then(Desk::open)
            .and_then(|desk| State::ready(desk, launch))
        {
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

    /// Where the background work runs, or the error that keeps it from running.
    pub fn background(&self) -> Result<Background, ErrorPayload> {
        match self.state() {
            State::Ready { background, .. } => Ok(background),
            State::Unavailable { error, .. } => Err(error),
        }
    }

    /// Whether this process is only the window of a tray process's runtime.
    pub fn is_window_only(&self) -> bool {
        matches!(
            self.state(),
            State::Ready {
                background: Background::Tray(_),
                ..
            }
        )
    }

    /// Follow `tray`, a tray process started again after the one followed so far ended
    /// without stopping (see `events::follow`).
    pub fn follow_again(&self, tray: LocalClient) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if let State::Ready { background, .. } = &mut *state {
            *background = Background::Tray(tray);
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
        *state = State::ready(desk, &self.launch)?;
        Ok(fresh)
    }

    /// 最新に更新: send what waits, then refresh the mirror. Answers a `MirrorStatus`.
    pub async fn sync_now(&self) -> Result<Value, ErrorPayload> {
        match self.background()? {
            Background::Here(runtime) => json(runtime.sync_now().await?),
            Background::Tray(tray) => tray.ask(Ask::SyncNow).await,
        }
    }

    /// The line as screens show it (a `LineView`).
    pub async fn line(&self) -> Result<Value, ErrorPayload> {
        match self.background()? {
            Background::Here(runtime) => {
                let desk = runtime.desk();
                json(LineView::new(runtime.line(), None, &desk.config()))
            }
            Background::Tray(tray) => tray.ask(Ask::Line).await,
        }
    }

    /// Check the line again now.
    pub async fn probe_now(&self) -> Result<(), ErrorPayload> {
        match self.background()? {
            Background::Here(runtime) => runtime.probe_now().await,
            Background::Tray(tray) => {
                tray.ask(Ask::ProbeNow).await?;
            }
        }
        Ok(())
    }

    pub fn language(&self) -> Language {
        match self.state() {
            State::Ready { desk, .. } => desk.config().language,
            State::Unavailable { language, .. } => language,
        }
    }

    /// Stop the background work in order (the monitor marks this run as cleanly ended).
    /// A window of the tray's runtime leaves it running.
    pub async fn shutdown(&self) {
        if let State::Ready {
            background: Background::Here(runtime),
            ..
        } = self.state()
        {
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

/// Where the desk's background work runs.
#[derive(Clone)]
pub enum Background {
    /// In this process.
    Here(Runtime),
    /// In the tray process, reached over the local channel.
    Tray(LocalClient),
}

fn json(value: impl serde::Serialize) -> Result<Value, ErrorPayload> {
    serde_json::to_value(value)
        .map_err(|e| ErrorPayload::new(ErrorCode::InternalStopped, e.to_string()))
}

impl State {
    /// Follow the tray process that runs the desk (starting it when none runs), or start
    /// the desk's background work here (refused while `tsunagi-cli run` runs it: the
    /// terminal's runtime serves no window).
    fn ready(desk: Desk, launch: &LaunchArgs) -> tsunagi_core::Result<State> {
        let desk = Arc::new(desk);
        if let Some(tray) = follow_tray(desk.data_dir(), launch) {
            return Ok(State::Ready {
                desk,
                background: Background::Tray(tray),
            });
        }
        let handle = tauri::async_runtime::handle();
        let background =
            match Runtime::start(desk.clone(), RuntimeOptions::default(), handle.inner()) {
                Ok(runtime) => Background::Here(runtime),
                Err(e) if e.code() == ErrorCode::StoreAlreadyRunning => {
                    let data_dir = desk.data_dir().clone();
                    match tauri::async_runtime::block_on(LocalClient::connect(&data_dir)) {
                        Ok(tray) => {
                            tracing::info!(
                                "the runtime runs in the tray process; this is its window"
                            );
                            Background::Tray(tray)
                        }
                        Err(_) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
        Ok(State::Ready { desk, background })
    }
}

/// How long a tray started here may take to answer on the local channel (it opens the
/// desk and starts the runtime first).
const TRAY_START: Duration = Duration::from_secs(20);

/// The tray process running this desk: the one already there, or one started now. `None`:
/// the desk runs in this process (`--no-tray`, no `tsunagi-tray` installed beside the app,
/// or it could not start).
fn follow_tray(data_dir: &DataDir, launch: &LaunchArgs) -> Option<LocalClient> {
    let tray = match tauri::async_runtime::block_on(LocalClient::connect(data_dir)) {
        Ok(tray) => tray,
        Err(_) if launch.no_tray => return None,
        Err(_) => start_and_follow(data_dir)?,
    };
    tracing::info!("the runtime runs in the tray process; this is its window");
    Some(tray)
}

/// Start the tray process (hidden; this process is its window) and follow it once it
/// answers on the channel. `None`: it is not installed beside the app, or did not start.
/// Blocks while the tray starts (up to [`TRAY_START`]).
pub fn start_and_follow(data_dir: &DataDir) -> Option<LocalClient> {
    let connect = || tauri::async_runtime::block_on(LocalClient::connect(data_dir)).ok();
    let program = tray_program()?;
    let mut child = match start_tray(&program, data_dir) {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(program = %program.display(), "could not start the tray process ({e}); the desk runs in this process");
            return None;
        }
    };
    tracing::info!(pid = child.id(), "started the tray process");
    let started = Instant::now();
    let tray = loop {
        if let Some(tray) = connect() {
            break Some(tray);
        }
        if let Ok(Some(status)) = child.try_wait() {
            tracing::warn!(
                "the tray process stopped as it started ({status}); the desk runs in this process"
            );
            return None;
        }
        if started.elapsed() > TRAY_START {
            tracing::warn!("the tray process did not answer; the desk runs in this process");
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Waited for, so it leaves no zombie behind if it ends before this window.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    tray
}

/// `tsunagi-tray` beside this program (`TSUNAGI_TRAY_PROGRAM`: another build), if it is
/// there.
fn tray_program() -> Option<PathBuf> {
    let program = local::program_beside_me("tsunagi-tray", "TSUNAGI_TRAY_PROGRAM");
    program.is_file().then_some(program)
}

/// The tray, hidden (this process is its window). It runs on when this window leaves; it
/// stays in this process's group, so a terminal's Ctrl-C (and a test's cleanup) stops both.
fn start_tray(program: &Path, data_dir: &DataDir) -> std::io::Result<std::process::Child> {
    let mut command = std::process::Command::new(program);
    command
        .arg(crate::launch::HIDDEN_FLAG)
        .arg("--data-dir")
        .arg(data_dir.root())
        .stdin(std::process::Stdio::null());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        // DETACHED_PROCESS: no console window for it.
        command.creation_flags(0x0000_0008);
    }
    command.spawn()
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
