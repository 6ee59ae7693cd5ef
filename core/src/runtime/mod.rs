//! The desk's background work, in one place: the monitor, the puller, the sender, the
//! schedules (retention, downtime sheet, morning summary) and the hub that ties them
//! together. The desktop app runs it under its window, `tsunagi-cli run` runs it headless;
//! both only show what it says (`RuntimeEvent`).
//!
//! One runtime per install (a lock file, released by the OS with its process). Every
//! component has the same life: started by `Runtime::start`, driven by its command channel
//! and by events, stopped by `Runtime::shutdown` in order: schedules and hub first (no new
//! work), then the sender and the puller (after the op or pull in flight), last the
//! monitor (it marks the run as cleanly ended). See docs/runtime.md.

pub mod local;
mod notice;
mod schedule;
mod tray;

pub use notice::Notice;
pub use tray::{Health, TrayMenu, TrayView};

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::desk::{Desk, Round};
use crate::error::{CoreError, ErrorPayload, Result};
use crate::monitor::advice::LineView;
use crate::monitor::{Monitor, MonitorEvent, MonitorStatus, NetState, RecoveryHook};
use crate::outbox::task::SyncBack;
use crate::puller::Puller;
use crate::report::DrillEnd;
use crate::view::{DeskEvent, MirrorStatus};
use tray::TrayInputs;

/// How often the parts of the runtime act while nothing prompts them.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Refresh the mirror this often (longer after failures: the pull backs off).
    pub pull_every: Duration,
    /// Look for queued changes this often (a queued change wakes the sender at once).
    pub send_every: Duration,
    /// Record this run's start, liveness and clean end, so the next start can tell an
    /// unclean stop.
    pub track_run: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            pull_every: Duration::from_secs(60),
            send_every: Duration::from_secs(30),
            track_run: true,
        }
    }
}

/// What the runtime tells whoever shows it (the window and tray, or a terminal).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeEvent {
    /// The desk's own events (pulls, sends, drills, settings), as they happen.
    Desk { event: DeskEvent },
    /// The line: a change of state (`notice` set, with what to try first) or of route.
    Line {
        view: LineView,
        notice: Option<Notice>,
        /// The line went down: bring the window to the front.
        raise_window: bool,
    },
    /// The line came back and the recovery ran: what was sent, then the pull.
    Recovered {
        incident: Option<i64>,
        delivered: u32,
        parked: u32,
        /// The mirror after the pull; `None` when the pull failed (`error` says why).
        mirror: Option<MirrorStatus>,
        error: Option<ErrorPayload>,
        /// Web booking is still stopped from the desk: a reminder to reopen it.
        booking: Option<Notice>,
    },
    /// The downtime sheet was written to this file.
    SheetWritten { path: String },
    /// The morning summary is due: show it, and reload the signals list.
    MorningSummary { notice: Notice },
    /// What the tray shows changed.
    Tray { tray: TrayView },
    /// The watched export folder refused a file: tell the desk even with the window shut.
    FolderRefused { notice: Notice },
}

impl RuntimeEvent {
    /// What the desk is told by the OS even with the window shut, if anything: a change of
    /// the line's state, the morning summary, web booking still stopped after a recovery,
    /// a file the export folder refused.
    pub fn notice(&self) -> Option<&Notice> {
        match self {
            RuntimeEvent::Line { notice, .. } => notice.as_ref(),
            RuntimeEvent::Recovered { booking, .. } => booking.as_ref(),
            RuntimeEvent::MorningSummary { notice } | RuntimeEvent::FolderRefused { notice } => {
                Some(notice)
            }
            RuntimeEvent::Desk { .. }
            | RuntimeEvent::SheetWritten { .. }
            | RuntimeEvent::Tray { .. } => None,
        }
    }

    /// Whether the desk needs the window in front now, also when it was hidden or not
    /// there at all: the line went down.
    pub fn raises_window(&self) -> bool {
        matches!(
            self,
            RuntimeEvent::Line {
                raise_window: true,
                ..
            }
        )
    }
}

/// The lock that keeps one runtime per install.
const LOCK_FILE: &str = "runtime.lock";

/// The handle to a running runtime; clones share it. `shutdown` stops it for all.
#[derive(Clone)]
pub struct Runtime {
    desk: Arc<Desk>,
    puller: Puller,
    sender: SyncBack,
    monitor: Monitor,
    events: broadcast::Sender<RuntimeEvent>,
    tray: Arc<RwLock<TrayInputs>>,
    commands: mpsc::Sender<Command>,
}

enum Command {
    Shutdown(oneshot::Sender<()>),
}

/// What only the supervising task holds: the parts it stops, and the install's lock.
struct Owned {
    stop: watch::Sender<bool>,
    hub: JoinHandle<JoinSet<Option<RuntimeEvent>>>,
    schedules: Vec<JoinHandle<()>>,
    /// The links to the clinic's other desks (issue 16).
    peers: JoinHandle<()>,
    lock: std::fs::File,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// Start every background component of this install on `handle`. Refused while
    /// another process (the desktop app, `tsunagi-cli run`) runs one for the same folder.
    pub fn start(
        desk: Arc<Desk>,
        options: RuntimeOptions,
        handle: &tokio::runtime::Handle,
    ) -> Result<Runtime> {
        let lock_path = desk.data_dir().root().join(LOCK_FILE);
        let lock = crate::lockfile::try_take(&lock_path)?.ok_or(CoreError::AlreadyRunning {
            what: "Tsunagi (the desktop app or `tsunagi-cli run`)".into(),
            path: lock_path,
        })?;
        let (events, _) = broadcast::channel(256);
        // Subscribed before anything runs, so the first pull's events are not missed.
        let desk_events = desk.subscribe();
        let (recovered, recoveries) = mpsc::unbounded_channel();
        let on_recovery: RecoveryHook = Arc::new(move |incident| {
            let _ = recovered.send(incident);
        });
        let monitor = Monitor::spawn(
            desk.monitor_options(Some(on_recovery), options.track_run),
            handle,
        );
        // On a backup or metered line the mirror is refreshed less often (issue 17).
        let frugal: crate::puller::Frugal = {
            let monitor = monitor.clone();
            Arc::new(move || monitor.status().frugal)
        };
        let puller = Puller::spawn(desk.clone(), options.pull_every, frugal, handle);
        let sender = SyncBack::spawn(desk.clone(), options.send_every, handle);
        let tray = Arc::new(RwLock::new(TrayInputs::default()));
        let (stop, stopped) = watch::channel(false);
        let (commands, received) = mpsc::channel(4);
        let runtime = Runtime {
            desk,
            puller,
            sender,
            monitor,
            events,
            tray,
            commands,
        };
        let line_events = runtime.monitor.subscribe();
        let hub = Hub {
            parts: runtime.clone(),
            handle: handle.clone(),
        };
        let hub = handle.spawn(hub.run(desk_events, line_events, recoveries, stopped.clone()));
        let schedules = schedule::spawn_all(&runtime.desk, &runtime.events, &stopped, handle);
        let peers = handle.spawn(crate::peers::service::run(
            runtime.desk.clone(),
            stopped.clone(),
        ));
        let owned = Owned {
            stop,
            hub,
            schedules,
            peers,
            lock,
        };
        handle.spawn(runtime.clone().supervise(owned, received));
        Ok(runtime)
    }

    pub fn desk(&self) -> &Arc<Desk> {
        &self.desk
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.events.subscribe()
    }

    /// The line as the monitor last saw it.
    pub fn line(&self) -> MonitorStatus {
        self.monitor.status()
    }

    /// What the tray shows now.
    pub fn tray(&self) -> TrayView {
        let inputs = self.tray.read().unwrap_or_else(|e| e.into_inner()).clone();
        inputs.view(self.desk.config().language)
    }

    /// 最新に更新: send what waits, then refresh the mirror (the fresh mirror already has
    /// what was sent). A failed send is not the pull's business: it shows in the 同期 tab.
    pub async fn sync_now(&self) -> Result<MirrorStatus> {
        let _ = self.sender.drain_now().await;
        self.puller.pull_now().await
    }

    /// Run a probe round now (the diagnosis panel's "check again").
    pub async fn probe_now(&self) {
        self.monitor.probe_now().await;
    }

    /// Stop everything in order and wait for each part; returns once all stopped and the
    /// install's lock is released.
    pub async fn shutdown(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }

    /// Waits for the shutdown command (dropping the handles does not stop the runtime: the
    /// process ending does), then stops the parts in order: schedules and hub (no new work), the sender and the puller (after
    /// the op or the pull in flight), a recovery in flight, last the monitor (it marks the
    /// run as cleanly ended).
    async fn supervise(self, owned: Owned, mut commands: mpsc::Receiver<Command>) {
        let Some(Command::Shutdown(reply)) = commands.recv().await else {
            return;
        };
        let _ = owned.stop.send(true);
        for schedule in owned.schedules {
            let _ = schedule.await;
        }
        let _ = owned.peers.await;
        let recoveries = owned.hub.await.unwrap_or_default();
        tokio::join!(self.sender.shutdown(), self.puller.shutdown());
        // A recovery in flight ends with the sender and the puller (they answer Stopped).
        let _ = recoveries.join_all().await;
        self.monitor.shutdown().await;
        drop(owned.lock);
        tracing::info!("runtime stopped");
        let _ = reply.send(());
    }
}

/// Ties the components together: the desk's and the monitor's events become the runtime's
/// (with the tray's state and the notices decided here), a recovery sends then pulls, a
/// queued change wakes the sender, a settings change reaches the monitor.
struct Hub {
    parts: Runtime,
    handle: tokio::runtime::Handle,
}

impl Hub {
    async fn run(
        self,
        mut desk_events: broadcast::Receiver<DeskEvent>,
        mut line_events: broadcast::Receiver<MonitorEvent>,
        mut recoveries: mpsc::UnboundedReceiver<Option<i64>>,
        mut stop: watch::Receiver<bool>,
    ) -> JoinSet<Option<RuntimeEvent>> {
        use broadcast::error::RecvError;
        let queued = self.parts.desk.changes_queued();
        let mut running = JoinSet::new();
        // A drill left running by the last start still shows in the tray.
        if let Ok(drill @ 1..) = self.parts.desk.active_drill().await {
            self.update_tray(|t| t.drill = drill != 0);
        }
        loop {
            // In this order: what the desk said before a recovery finished is told first.
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                event = desk_events.recv() => match event {
                    Ok(event) => self.desk_event(event).await,
                    // A slow reader missed some; the next event carries the whole status.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                },
                event = line_events.recv() => match event {
                    Ok(event) => self.line_event(event),
                    Err(RecvError::Lagged(_)) => self.line_view(self.parts.monitor.status(), None),
                    Err(RecvError::Closed) => break,
                },
                Some(incident) = recoveries.recv() => {
                    running.spawn_on(self.recover(incident), &self.handle);
                }
                _ = queued.notified() => self.parts.sender.nudge(),
                Some(done) = running.join_next(), if !running.is_empty() => {
                    if let Ok(Some(event)) = done {
                        self.emit(event);
                    }
                }
            }
        }
        running
    }

    async fn desk_event(&self, event: DeskEvent) {
        match &event {
            DeskEvent::MirrorUpdated { status } => {
                let pull = (status.clone(), false);
                self.update_tray(|t| t.pull = Some(pull));
            }
            DeskEvent::PullFailed { status, .. } => {
                let pull = (status.clone(), true);
                self.update_tray(|t| t.pull = Some(pull));
            }
            DeskEvent::DrillChanged { drill, .. } => {
                let running = *drill != 0;
                self.update_tray(|t| t.drill = running);
            }
            DeskEvent::ConfigChanged {} => {
                // A source changed here or from the terminal: the monitor watches the new
                // upstream from its next round; the tray speaks the language now set.
                let (config, upstream) = self.parts.desk.monitor_targets();
                self.parts.monitor.reconfigure(config, upstream).await;
                self.update_tray(|_| {});
            }
            DeskEvent::FolderRead { view, status } => {
                let pull = (status.clone(), false);
                self.update_tray(|t| t.pull = Some(pull));
                if view.imported.is_none() {
                    let language = self.parts.desk.config().language;
                    let notice = notice::folder_refused(language, view);
                    self.emit(RuntimeEvent::FolderRefused { notice });
                }
            }
            DeskEvent::OutboxChanged { .. }
            | DeskEvent::SharedWork {}
            | DeskEvent::PairingEnded { .. } => {}
        }
        self.emit(RuntimeEvent::Desk { event });
    }

    fn line_event(&self, event: MonitorEvent) {
        match event {
            MonitorEvent::Transition {
                transition,
                status,
                ended_drill,
                ..
            } => {
                if let Some(drill) = ended_drill {
                    // The window and the tray say it: from now on the work is real.
                    self.parts.desk.drill_ended(drill, DrillEnd::Outage);
                }
                // Down: connections kept over the lost line only wait out their timeouts.
                // Back: the way out may not be the one they took.
                self.parts.desk.renew_connections();
                self.line_view(status, Some(transition.from));
            }
            MonitorEvent::PathChanged { status } => {
                // Another line carries the desk now (a backup line, a tethered phone).
                self.parts.desk.renew_connections();
                self.line_view(status, None)
            }
            MonitorEvent::Settled { status } => self.line_view(status, None),
        }
    }

    /// Tell the line's state; `from` is set for a change of state, which is announced.
    fn line_view(&self, status: MonitorStatus, from: Option<NetState>) {
        let config = self.parts.desk.config();
        let view = LineView::new(status, from, &config);
        let notice = from.map(|_| notice::line(config.language, &view));
        let raise_window = from.is_some() && view.status.state == NetState::Offline;
        let line = view.clone();
        self.update_tray(|t| t.line = Some(line));
        self.emit(RuntimeEvent::Line {
            view,
            notice,
            raise_window,
        });
    }

    /// Back online: send what was done offline, then refresh the mirror. The hub tells the
    /// outcome once the desk's own events about it are told.
    fn recover(
        &self,
        incident: Option<i64>,
    ) -> impl std::future::Future<Output = Option<RuntimeEvent>> {
        let (sender, puller) = (self.parts.sender.clone(), self.parts.puller.clone());
        let desk = self.parts.desk.clone();
        async move {
            // Everything the outage left goes now, held or not: the pull that follows is
            // to find it on the server (元に戻す then says it was sent).
            let (delivered, parked) = match sender.drain_now().await {
                Ok(Round {
                    delivered, parked, ..
                }) => (delivered, parked),
                Err(_) => (0, 0),
            };
            let pulled = puller.pull_now().await;
            let (mirror, error) = match pulled {
                Ok(status) => (Some(status), None),
                Err(CoreError::Stopped) => return None,
                Err(e) => (None, Some(e.payload())),
            };
            let booking = match desk.booking_view().await {
                Ok(view) => notice::booking_reminder(desk.config().language, &view),
                Err(_) => None,
            };
            Some(RuntimeEvent::Recovered {
                incident,
                delivered,
                parked,
                mirror,
                error,
                booking,
            })
        }
    }

    fn update_tray(&self, change: impl FnOnce(&mut TrayInputs)) {
        let language = self.parts.desk.config().language;
        let (before, after) = {
            let mut inputs = self.parts.tray.write().unwrap_or_else(|e| e.into_inner());
            let before = inputs.view(language);
            change(&mut inputs);
            (before, inputs.view(language))
        };
        if before != after {
            self.emit(RuntimeEvent::Tray { tray: after });
        }
    }

    fn emit(&self, event: RuntimeEvent) {
        // Nobody listening (a test that only looks at the store) is fine.
        let _ = self.parts.events.send(event);
    }
}

/// What the OS or a person sends to ask this process to stop: Ctrl-C, SIGTERM (what a
/// logout, an OS shutdown or `systemctl stop` sends) or SIGHUP on Unix; Ctrl-C, close,
/// logoff and shutdown on Windows consoles. Asked this way, the stop is clean: the
/// runtime's ordered shutdown runs and the next start does not report a power cut.
pub struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
    #[cfg(windows)]
    close: tokio::signal::windows::CtrlClose,
    #[cfg(windows)]
    logoff: tokio::signal::windows::CtrlLogoff,
    #[cfg(windows)]
    shutdown: tokio::signal::windows::CtrlShutdown,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl StopSignals {
    /// Take over the signals now (from inside a tokio runtime): from here on they no longer
    /// end the process at once.
    pub fn listen() -> std::io::Result<StopSignals> {
        // Every one of them now, Ctrl+C too: one taken only when `recv` is first polled
        // was lost (or ended the process) when it came during start.
        Ok(StopSignals {
            #[cfg(unix)]
            int: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?,
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
            #[cfg(unix)]
            hup: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?,
            #[cfg(windows)]
            close: tokio::signal::windows::ctrl_close()?,
            #[cfg(windows)]
            logoff: tokio::signal::windows::ctrl_logoff()?,
            #[cfg(windows)]
            shutdown: tokio::signal::windows::ctrl_shutdown()?,
            #[cfg(windows)]
            ctrl_c: tokio::signal::windows::ctrl_c()?,
        })
    }

    /// Resolves at the first request to stop.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(windows)]
        tokio::select! {
            _ = self.ctrl_c.recv() => {}
            _ = self.close.recv() => {}
            _ = self.logoff.recv() => {}
            _ = self.shutdown.recv() => {}
        }
        #[cfg(not(any(unix, windows)))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Resolves when the OS or a person asks this process to stop ([`StopSignals`]).
pub async fn stop_requested() {
    match StopSignals::listen() {
        Ok(mut signals) => signals.recv().await,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
