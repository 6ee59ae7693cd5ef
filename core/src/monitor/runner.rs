//! The monitor as an owned task: probe rounds at the machine's pace, an immediate round on
//! any link event, every transition stored with its incident before it is announced, and
//! a clean stop that never cuts a write short.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use ts_rs::TS;

use super::machine::{Machine, Thresholds};
use super::metered::Metered;
use super::probe::{Plan, Prober};
use super::{millis_ts, Cause, MonitorConfig, NetPath, NetState, ProbeResult, Round, Transition};
use crate::clock::Clock;
use crate::store::{CarriedIncident, Store};

/// Called once per recovery (back online), after the incident is closed (its id, when this
/// monitor records them): the sync-back drains its outbox from here. Must not block; spawn
/// if it has work to do.
pub type RecoveryHook = Arc<dyn Fn(Option<i64>) + Send + Sync>;

/// How the line is, as screens and the tray show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MonitorStatus {
    pub state: NetState,
    pub cause: Option<Cause>,
    /// When the current outage started (RFC 3339, UTC); null while online.
    pub since: Option<String>,
    /// The open incident, if any.
    pub incident_id: Option<i64>,
    /// When the last round finished.
    pub checked_at: Option<String>,
    /// What the last round found (for the diagnosis panel).
    pub probes: Vec<ProbeResult>,
    /// Connectivity came back through another route than the one at start.
    pub backup_line: bool,
    pub path: Option<NetPath>,
    /// This monitor records the install's incidents (one recorder per install; another
    /// process that watches the same install only watches).
    pub recording: bool,
    /// What the OS says of the connection in use (a tethered phone is metered).
    pub metered: Metered,
    /// Spending little now: the line is up on a backup or metered route, and frugal mode
    /// is on (`monitor.frugal`).
    pub frugal: bool,
    /// Bytes through the route's adapter since frugal began: everything on it, not only
    /// Tsunagi's (what the data plan counts). `None` when not frugal, or the OS does not
    /// say.
    #[ts(type = "number | null")]
    pub frugal_bytes: Option<u64>,
}

impl MonitorStatus {
    /// Before the first round: assumed online (an alarm at every start would be worse).
    pub fn starting() -> MonitorStatus {
        MonitorStatus {
            state: NetState::Online,
            cause: None,
            since: None,
            incident_id: None,
            checked_at: None,
            probes: Vec::new(),
            backup_line: false,
            path: None,
            recording: false,
            metered: Metered::Unknown,
            frugal: false,
            frugal_bytes: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MonitorEvent {
    /// The state or its cause changed.
    Transition {
        transition: Transition,
        /// The incident it opened, extended or (on recovery) closed.
        incident_id: Option<i64>,
        /// The drill this real outage ended: what the desk records from now on is real.
        ended_drill: Option<i64>,
        status: MonitorStatus,
    },
    /// Nothing changed state, but the route out did (e.g. the backup line).
    PathChanged { status: MonitorStatus },
    /// Once per start: the state the line was found in, as soon as the first rounds settle
    /// it (at once on a good line; after the confirming rounds on a bad one). A transition
    /// that settles it comes just before.
    Settled { status: MonitorStatus },
}

pub struct MonitorOptions {
    pub config: MonitorConfig,
    /// The FHIR server's base URL when that is the source.
    pub upstream: Option<reqwest::Url>,
    pub clock: Arc<dyn Clock>,
    /// Where incidents are recorded; `None` runs without a record.
    pub store: Option<Store>,
    /// The lock file that makes one monitor per install the recorder (the others watch).
    pub recorder_lock: Option<std::path::PathBuf>,
    pub on_recovery: Option<RecoveryHook>,
    /// Record this run's start, liveness and clean end (the desktop app), so the next start
    /// can tell an unclean shutdown.
    pub track_run: bool,
}

enum Command {
    ProbeNow,
    Reconfigure(Box<(MonitorConfig, Option<reqwest::Url>)>),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Monitor {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<MonitorEvent>,
    status: Arc<RwLock<MonitorStatus>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

/// How often a running app marks itself alive (the bound on an unclean stop's time).
const ALIVE_EVERY: Duration = Duration::from_secs(60);

/// How often the route out is looked at between transitions (local only: no traffic).
const PATH_EVERY: Duration = Duration::from_secs(5);

/// How often a heartbeat reads the adapters while link events are watched (a lost event
/// is noticed within this; a heartbeat that fails brings a full round, which reads them).
const LINK_EVERY: Duration = Duration::from_secs(30);

impl Monitor {
    pub fn spawn(options: MonitorOptions, runtime: &tokio::runtime::Handle) -> Monitor {
        let (commands, receiver) = mpsc::channel(8);
        let (events, _) = broadcast::channel(64);
        let mut recorder = Recorder::new(options.recorder_lock);
        let mut starting = MonitorStatus::starting();
        starting.recording = options.store.is_some() && recorder.try_hold();
        let status = Arc::new(RwLock::new(starting));
        let task = Task {
            machine: Machine::new(Thresholds::from(&options.config)),
            upstream_every: Duration::from_secs(options.config.upstream_every_secs),
            enabled: options.config.enabled,
            frugal: Frugal::new(&options.config),
            prober: Prober::new(options.config, options.upstream),
            clock: options.clock,
            store: options.store,
            recorder,
            on_recovery: options.on_recovery,
            track_run: options.track_run,
            events: events.clone(),
            status: status.clone(),
        };
        runtime.spawn(task.run(receiver));
        Monitor {
            commands,
            events,
            status,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MonitorEvent> {
        self.events.subscribe()
    }

    pub fn status(&self) -> MonitorStatus {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Run a round now (e.g. the diagnosis panel's "check again").
    pub async fn probe_now(&self) {
        let _ = self.commands.send(Command::ProbeNow).await;
    }

    /// Probe other targets from the next round on (the settings or the source changed).
    pub async fn reconfigure(&self, config: MonitorConfig, upstream: Option<reqwest::Url>) {
        let _ = self
            .commands
            .send(Command::Reconfigure(Box::new((config, upstream))))
            .await;
    }

    /// Stop after the round in flight; returns once stopped and the run is marked clean.
    pub async fn shutdown(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }
}

struct Task {
    machine: Machine,
    prober: Prober,
    upstream_every: Duration,
    enabled: bool,
    frugal: Frugal,
    clock: Arc<dyn Clock>,
    store: Option<Store>,
    recorder: Recorder,
    on_recovery: Option<RecoveryHook>,
    track_run: bool,
    events: broadcast::Sender<MonitorEvent>,
    status: Arc<RwLock<MonitorStatus>>,
}

/// One recorder per install: the monitor that holds the lock file records incidents; any
/// other (`tsunagi-cli monitor` beside the app) only watches, so one outage is one
/// incident and the app's recovery hook is not suppressed. The OS drops the lock with the
/// process; a watcher takes over at its next transition.
struct Recorder {
    path: Option<std::path::PathBuf>,
    held: Option<std::fs::File>,
}

impl Recorder {
    fn new(path: Option<std::path::PathBuf>) -> Recorder {
        let mut r = Recorder { path, held: None };
        r.try_hold();
        r
    }

    /// Whether this monitor records (taking the lock if it is free now).
    fn try_hold(&mut self) -> bool {
        if self.held.is_some() {
            return true;
        }
        let Some(path) = &self.path else {
            // No lock asked for (tests with a store of their own): record.
            return true;
        };
        match crate::lockfile::try_take(path) {
            Ok(held) => {
                self.held = held;
                self.held.is_some()
            }
            Err(e) => {
                tracing::warn!(code = %e.code(), "cannot use the monitor's lock file: {e}");
                false
            }
        }
    }
}

/// How often the OS is asked again whether the route is metered (and at every new route).
const METERED_EVERY: Duration = Duration::from_secs(60);

/// Spending little on a backup or metered line (issue 17).
struct Frugal {
    /// `monitor.frugal`: the owner may switch it off.
    enabled: bool,
    /// Spending little now.
    on: bool,
    /// The ordinary heartbeat interval (the machine's steady pace), and the frugal one.
    interval: Duration,
    frugal_interval: Duration,
    upstream_every: Duration,
    /// The D-Bus address to ask instead of the system bus (tests).
    bus: Option<String>,
    /// The route last asked about, and when.
    metered_asked: Option<(NetPath, Instant)>,
    /// The adapter that carries the route, and its byte count when frugal began.
    since: Option<(String, u64)>,
}

impl Frugal {
    fn new(config: &super::MonitorConfig) -> Frugal {
        let mut f = Frugal {
            enabled: true,
            on: false,
            interval: Duration::ZERO,
            frugal_interval: Duration::ZERO,
            upstream_every: Duration::ZERO,
            bus: None,
            metered_asked: None,
            since: None,
        };
        f.reconfigure(config);
        f
    }

    fn reconfigure(&mut self, config: &super::MonitorConfig) {
        self.enabled = config.frugal;
        self.interval = Duration::from_millis(config.interval_ms);
        self.frugal_interval = Duration::from_millis(config.frugal_interval_ms).max(self.interval);
        self.upstream_every = Duration::from_secs(config.frugal_upstream_every_secs);
        self.bus = config.metered_dbus.clone();
        self.metered_asked = None;
    }
}

/// The adapter whose address the route leaves from, and the bytes it carried so far.
fn adapter_bytes(path: &NetPath) -> Option<(String, u64)> {
    let text = path.local_address.as_deref()?;
    let local: IpAddr = text
        .parse()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))?;
    let adapter = netdev::get_interfaces().into_iter().find(|i| {
        i.ipv4.iter().any(|n| IpAddr::V4(n.addr()) == local)
            || i.ipv6.iter().any(|n| IpAddr::V6(n.addr()) == local)
    })?;
    let name = adapter.name.clone();
    let bytes = bytes_of(&name)?;
    Some((name, bytes))
}

/// Bytes received and sent so far on adapter `name`, as the OS counts them.
fn bytes_of(name: &str) -> Option<u64> {
    let mut adapter = netdev::get_interfaces()
        .into_iter()
        .find(|i| i.name == name)?;
    adapter.update_stats().ok()?;
    let stats = adapter.stats?;
    Some(stats.rx_bytes + stats.tx_bytes)
}

/// Quiet time that ends a burst of link events, and the longest a burst may delay its round.
const LINK_SETTLE: Duration = Duration::from_millis(100);
const LINK_SETTLE_MAX: Duration = Duration::from_millis(400);

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let link_changed = Arc::new(Notify::new());
        let watch = super::link::watch(link_changed.clone());
        let mut last_link: Option<Instant> = None;
        let (run_id, mut carried) = self.start_run().await;
        let mut primary = self.prober.path();
        let recording = self.store.is_some() && self.recorder.try_hold();
        self.update_status(|s| {
            s.path = Some(primary.clone());
            s.recording = recording;
        });
        // Whether the OS calls this line metered, before the first word on it.
        self.spend(&primary.clone()).await;
        let mut last_upstream: Option<Instant> = None;
        let mut last_alive = Instant::now();
        let mut last_path = Instant::now();
        let mut wait = Duration::ZERO;
        let mut settled = false;
        // A link event that came while a heartbeat was waiting: the next round is at once.
        let mut link_event_pending = false;

        loop {
            // A link event asks everything at once: the gateway tells a lost adapter from a
            // lost line.
            let mut link_event = std::mem::take(&mut link_event_pending);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = link_changed.notified() => link_event = true,
                command = commands.recv() => match command {
                    Some(Command::ProbeNow) => {}
                    Some(Command::Reconfigure(new)) => {
                        let (config, upstream) = *new;
                        self.machine.set_thresholds(Thresholds::from(&config));
                        self.upstream_every = Duration::from_secs(config.upstream_every_secs);
                        self.enabled = config.enabled;
                        self.frugal.reconfigure(&config);
                        self.prober = Prober::new(config, upstream);
                        last_upstream = None;
                    }
                    Some(Command::Shutdown(done)) => {
                        self.end_run(run_id).await;
                        let _ = done.send(());
                        break;
                    }
                    None => {
                        self.end_run(run_id).await;
                        break;
                    }
                },
            }
            if !self.enabled {
                // Switched off in config.toml: nothing is probed, the state stays as is.
                self.settle_carried(&mut carried).await;
                self.tell_settled(&mut settled);
                wait = Duration::from_secs(3600);
                continue;
            }
            let full = link_event || self.machine.wants_full_round();
            let link =
                full || watch.is_none() || last_link.is_none_or(|t| t.elapsed() >= LINK_EVERY);
            if link {
                last_link = Some(Instant::now());
            }
            let plan = Plan {
                endpoint: self.machine.wants_endpoint(),
                full,
                link,
                upstream: self.prober.has_upstream()
                    && (self.machine.upstream_failing()
                        || last_upstream.is_none_or(|t| t.elapsed() >= self.upstream_pace())),
            };
            if link_event {
                // A change comes as a burst (the link, then its addresses and routes): let it
                // settle, or the round may start while a route that is going still exists,
                // and a connection begun on it waits its whole timeout.
                let settled_by = Instant::now() + LINK_SETTLE_MAX;
                while let Ok(()) = tokio::time::timeout(LINK_SETTLE, link_changed.notified()).await
                {
                    if Instant::now() >= settled_by {
                        break;
                    }
                }
                self.prober.forget_connections();
            }
            if plan.upstream || plan.full {
                last_upstream = Some(Instant::now());
            }
            let at = self.clock.now();
            let started = Instant::now();
            let results = if link_event {
                // Asked by a link event, after its burst settled: it runs to its end (a
                // flapping adapter must not keep every round from finishing).
                self.prober.round(plan).await
            } else {
                // Any other round's answers are about a path a link event may have taken
                // away: it is dropped and a full round asked at once, instead of waiting
                // for its timeouts first.
                tokio::select! {
                    results = self.prober.round(plan) => results,
                    _ = link_changed.notified() => {
                        link_event_pending = true;
                        wait = Duration::ZERO;
                        continue;
                    }
                }
            };
            tracing::debug!(
                millis = started.elapsed().as_millis() as u64,
                full = plan.full,
                failed = results.iter().filter(|r| !r.ok).count(),
                "probe round"
            );
            let round = Round { at, results };
            let transition = self.machine.observe(&round);
            let path = if transition.is_some() || last_path.elapsed() >= PATH_EVERY {
                last_path = Instant::now();
                Some(self.prober.path())
            } else {
                None
            };
            self.update_status(|s| {
                s.checked_at = Some(millis_ts(self.clock.now()));
                s.probes = round.results.clone();
            });
            if let Some(t) = transition {
                self.on_transition(t, path.clone().unwrap_or_default(), &mut primary)
                    .await;
            } else if let Some(path) = path.clone() {
                self.on_path(path, &primary);
            }
            if let Some(path) = path {
                self.spend(&path).await;
            }
            if self.machine.settled() {
                self.settle_carried(&mut carried).await;
                self.tell_settled(&mut settled);
            }
            if self.track_run && last_alive.elapsed() >= ALIVE_EVERY {
                last_alive = Instant::now();
                self.mark_alive(run_id).await;
            }
            wait = self.pace();
        }
        tracing::debug!("monitor stopped");
    }

    /// How long to the next round: the machine's pace, slower between heartbeats while
    /// frugal (confirming a change and watching an outage keep their pace).
    fn pace(&self) -> Duration {
        let pace = self.machine.pace();
        if self.frugal.on && pace == self.frugal.interval {
            self.frugal.frugal_interval
        } else {
            pace
        }
    }

    fn upstream_pace(&self) -> Duration {
        if self.frugal.on {
            self.frugal.upstream_every.max(self.upstream_every)
        } else {
            self.upstream_every
        }
    }

    /// After a look at the route: what the OS says of it (metered), whether to spend little,
    /// and what the route's adapter carried since.
    async fn spend(&mut self, path: &NetPath) {
        let asked_for = self.frugal.metered_asked.as_ref();
        let stale = asked_for.is_none_or(|(p, at)| p != path || at.elapsed() >= METERED_EVERY);
        let mut metered = self.status().metered;
        if stale {
            let bus = self.frugal.bus.clone();
            metered = tokio::task::spawn_blocking(move || super::metered::read(bus.as_deref()))
                .await
                .unwrap_or(Metered::Unknown);
            self.frugal.metered_asked = Some((path.clone(), Instant::now()));
        }
        let before = self.status();
        let on = self.frugal.enabled
            && before.state == NetState::Online
            && (before.backup_line || metered == Metered::Yes);
        if on != self.frugal.on {
            tracing::info!(frugal = on, "spending on the line");
            // The bytes count from the switch, on the adapter that carries the route.
            self.frugal.since = if on { adapter_bytes(path) } else { None };
        }
        self.frugal.on = on;
        let bytes = match (&self.frugal.since, on) {
            (Some((adapter, start)), true) => {
                bytes_of(adapter).map(|now| now.saturating_sub(*start))
            }
            _ => None,
        };
        let status = self.update_status(|s| {
            s.metered = metered;
            s.frugal = on;
            s.frugal_bytes = bytes;
        });
        if before.metered != metered || before.frugal != on {
            let _ = self.events.send(MonitorEvent::PathChanged { status });
        }
    }

    /// The first time only: where the line stands.
    fn tell_settled(&self, told: &mut bool) {
        if !*told {
            *told = true;
            let _ = self.events.send(MonitorEvent::Settled {
                status: self.status(),
            });
        }
    }

    async fn on_transition(&mut self, t: Transition, path: NetPath, primary: &mut NetPath) {
        tracing::info!(
            from = t.from.as_str(),
            to = t.state.as_str(),
            cause = t.cause.map(Cause::as_str),
            "line state changed"
        );
        let recording = self.store.is_some() && self.recorder.try_hold();
        let recorded = match (&self.store, recording) {
            (Some(store), true) => {
                let store = store.clone();
                let t2 = t.clone();
                let path2 = path.clone();
                match tokio::task::spawn_blocking(move || store.record_transition(&t2, &path2))
                    .await
                {
                    Ok(Ok(recorded)) => recorded,
                    Ok(Err(e)) => {
                        tracing::error!(code = %e.code(), "could not record the transition: {e}");
                        Default::default()
                    }
                    Err(e) => {
                        tracing::error!("recording the transition stopped: {e}");
                        Default::default()
                    }
                }
            }
            _ => Default::default(),
        };
        let incident = recorded.incident;
        if let Some(drill) = recorded.ended_drill {
            tracing::info!(drill, "a real outage ended the drill");
        }
        if t.from == NetState::Online && t.state != NetState::Online && primary.gateway.is_none() {
            // Started without a route: the route before this outage is the primary one.
            *primary = path.clone();
        }
        let backup = is_backup(primary, &path);
        let status = self.update_status(|s| {
            s.state = t.state;
            s.cause = t.cause;
            s.since =
                (t.state != NetState::Online).then(|| s.since.clone().unwrap_or(t.since.clone()));
            s.incident_id = if t.state == NetState::Online {
                None
            } else {
                incident.or(s.incident_id)
            };
            s.backup_line = backup;
            s.path = Some(path.clone());
            s.recording = recording;
        });
        let recovered = t.state == NetState::Online && t.from != NetState::Online;
        let _ = self.events.send(MonitorEvent::Transition {
            transition: t,
            incident_id: incident,
            ended_drill: recorded.ended_drill,
            status,
        });
        if recovered {
            if let Some(hook) = &self.on_recovery {
                hook(incident);
            }
        }
    }

    fn on_path(&mut self, path: NetPath, primary: &NetPath) {
        let backup = is_backup(primary, &path);
        let before = self.status();
        if before.path.as_ref() == Some(&path) && before.backup_line == backup {
            return;
        }
        let status = self.update_status(|s| {
            s.backup_line = backup;
            s.path = Some(path.clone());
        });
        if before.backup_line != backup {
            let _ = self.events.send(MonitorEvent::PathChanged { status });
        }
    }

    fn status(&self) -> MonitorStatus {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn update_status(&self, f: impl FnOnce(&mut MonitorStatus)) -> MonitorStatus {
        let mut s = self.status.write().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
        s.clone()
    }

    /// Record this run's start; with the outage the last run left open, if it is carried
    /// over (see `Store::start_run`).
    async fn start_run(&self) -> (Option<i64>, Option<CarriedIncident>) {
        let (true, Some(store)) = (self.track_run, self.store.clone()) else {
            return (None, None);
        };
        let now = self.clock.now();
        match tokio::task::spawn_blocking(move || store.start_run(now)).await {
            Ok(Ok(start)) => {
                if let Some(c) = &start.carried {
                    tracing::info!(incident = c.id, "an outage carried over from the last run");
                }
                (Some(start.id), start.carried)
            }
            Ok(Err(e)) => {
                tracing::warn!(code = %e.code(), "could not record the start: {e}");
                (None, None)
            }
            Err(_) => (None, None),
        }
    }

    /// The first settled look at the line after a restart decides the outage carried over:
    /// still down, it went on (the transition that said so extended it); up, it ended while
    /// the desk was off.
    async fn settle_carried(&self, carried: &mut Option<CarriedIncident>) {
        let Some(c) = carried.take() else {
            return;
        };
        if self.status().state != NetState::Online {
            return;
        }
        if let Some(store) = self.store.clone() {
            tracing::info!(
                incident = c.id,
                "the outage carried over ended while the desk was off"
            );
            let ended = tokio::task::spawn_blocking(move || store.end_carried_incident(&c)).await;
            if let Ok(Err(e)) = ended {
                tracing::warn!(code = %e.code(), "could not end the outage: {e}");
            }
        }
    }

    async fn mark_alive(&self, run: Option<i64>) {
        if let (Some(id), Some(store)) = (run, self.store.clone()) {
            let now = self.clock.now();
            let _ = tokio::task::spawn_blocking(move || store.run_alive(id, now)).await;
        }
    }

    async fn end_run(&self, run: Option<i64>) {
        if let (Some(id), Some(store)) = (run, self.store.clone()) {
            let now = self.clock.now();
            let _ = tokio::task::spawn_blocking(move || store.end_run(id, now)).await;
        }
    }
}

/// Another gateway or another local address than the primary route: a backup line.
fn is_backup(primary: &NetPath, now: &NetPath) -> bool {
    let differs =
        |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(x), Some(y)) if x != y);
    differs(&primary.gateway, &now.gateway) || differs(&primary.local_address, &now.local_address)
}

#[cfg(all(test, target_os = "linux"))]
mod frugal_tests {
    use super::*;

    /// The bytes shown on a frugal line are the route's adapter's, as the OS counts them.
    #[test]
    fn the_routes_adapter_counts_what_it_carries() {
        let path = NetPath {
            gateway: None,
            local_address: Some("127.0.0.1".to_owned()),
        };
        let (adapter, start) = adapter_bytes(&path).expect("the loopback adapter");
        assert_eq!(adapter, "lo");
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..10 {
            socket.send_to(&[0u8; 1000], "127.0.0.1:9").unwrap();
        }
        let now = bytes_of(&adapter).unwrap();
        assert!(now >= start + 10_000, "{start} → {now}");
    }
}
