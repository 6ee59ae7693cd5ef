//! `tsunagi-cli doctor`: keychain, database, config, source and monitor in one screen, for
//! the IT helper. Works when the desk cannot open (that is when it is needed most), and
//! never creates or changes anything but one audit row (that the trail was checked).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{blocking, is_key_loss, key_account, Desk, DeskOptions};
use crate::config::Config;
use crate::error::CoreError;
use crate::model::SourceKind;
use crate::monitor::probe::{Plan, Prober};
use crate::store::KEY_LEN;

/// A heartbeat within this long means the app is running.
const ALIVE_WITHIN_SECS: i64 = 3 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub area: &'static str,
    pub health: Health,
    pub summary: String,
    /// What to do about it.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    pub data_dir: String,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    pub fn failing(&self) -> bool {
        self.checks.iter().any(|c| c.health == Health::Fail)
    }
}

fn check(area: &'static str, health: Health, summary: impl Into<String>) -> Check {
    Check {
        area,
        health,
        summary: summary.into(),
        hint: None,
    }
}

impl Check {
    fn hint(mut self, hint: impl Into<String>) -> Check {
        self.hint = Some(hint.into());
        self
    }
}

const FRESH_HINT: &str = "restore the key in the OS keychain if it can be found; otherwise \
     `tsunagi-cli start-fresh --yes` keeps the file aside and starts a fresh mirror";

/// Look at everything; `probe` also asks the line and the upstream (a few seconds).
pub async fn examine(options: DeskOptions, probe: bool) -> DoctorReport {
    let data_dir = options.data_dir.clone();
    // The config file, the keychain (D-Bus) and opening the database block: off the async
    // threads.
    let (config, desk, mut checks) = match blocking(move || Ok(examine_files(options))).await {
        Ok(found) => found,
        Err(e) => (
            None,
            None,
            vec![check("doctor", Health::Fail, e.to_string())],
        ),
    };
    if let Some(desk) = &desk {
        examine_desk(desk, &mut checks).await;
    }
    if let Some(config) = &config {
        examine_source(config, &mut checks);
        if probe {
            examine_line(config, &mut checks).await;
        }
    }
    DoctorReport {
        data_dir: data_dir.root().display().to_string(),
        checks,
    }
}

/// The config, the key and the database: what opens, and a check for each.
fn examine_files(options: DeskOptions) -> (Option<Config>, Option<Desk>, Vec<Check>) {
    let data_dir = options.data_dir.clone();
    let db_exists = data_dir.database().exists();
    let (config, config_check) = config_check(&data_dir, db_exists);
    let mut checks = vec![config_check];
    if let Some(config) = &config {
        checks.push(keychain_check(&options, config, db_exists));
    }
    let desk = match (config.is_some(), db_exists) {
        (true, true) => match Desk::open(options) {
            Ok(desk) => Some(desk),
            Err(e) => {
                checks.push(open_failed_check(&e));
                None
            }
        },
        (_, false) => {
            checks.push(check("database", Health::Warn, "no database yet"));
            None
        }
        (false, true) => None,
    };
    (config, desk, checks)
}

fn config_check(data_dir: &crate::config::DataDir, db_exists: bool) -> (Option<Config>, Check) {
    match Config::load(&data_dir.config()) {
        Ok(Some(c)) => {
            let found = check(
                "config",
                Health::Ok,
                format!(
                    "{} (source {}, time zone {})",
                    data_dir.config().display(),
                    c.source.kind.code(),
                    c.time_zone
                ),
            );
            (Some(c), found)
        }
        Ok(None) if db_exists => (
            None,
            check(
                "config",
                Health::Fail,
                "config.toml is missing beside the database",
            )
            .hint("restore config.toml from a backup: it names the keychain entry"),
        ),
        Ok(None) => (
            None,
            check(
                "config",
                Health::Warn,
                "not set up yet: the app or any command creates it at first start",
            ),
        ),
        // Settings written ahead of the first start (a [monitor] or [source] section) are
        // completed then; only an install with a database needs a complete file.
        Err(e) if !db_exists => (
            None,
            check(
                "config",
                Health::Warn,
                format!(
                    "not complete yet ({}); the first start completes it",
                    one_line(&e.to_string())
                ),
            ),
        ),
        Err(e) => (
            None,
            check("config", Health::Fail, one_line(&e.to_string())).hint("fix config.toml"),
        ),
    }
}

fn keychain_check(options: &DeskOptions, config: &Config, db_exists: bool) -> Check {
    let account = key_account(config);
    match options.keychain.get(&account) {
        Ok(Some(key)) if key.len() == KEY_LEN => check(
            "keychain",
            Health::Ok,
            format!("the database key is in the OS keychain ({account})"),
        ),
        Ok(Some(_)) => check(
            "keychain",
            Health::Fail,
            format!("the keychain entry {account} is not a database key"),
        )
        .hint(FRESH_HINT),
        Ok(None) if db_exists => check(
            "keychain",
            Health::Fail,
            format!("no database key in the OS keychain ({account})"),
        )
        .hint(FRESH_HINT),
        Ok(None) => check("keychain", Health::Ok, "reachable (no database yet)"),
        Err(e) => check("keychain", Health::Fail, e.to_string())
            .hint("unlock the OS keychain (log in again), then retry"),
    }
}

/// Why the database did not open, with the way on: a lost key, or a lock that passes.
fn open_failed_check(e: &CoreError) -> Check {
    let c = check("database", Health::Fail, e.to_string());
    if is_key_loss(e) {
        c.hint(FRESH_HINT)
    } else if matches!(e, CoreError::Locked { .. }) {
        Check {
            health: Health::Warn,
            ..c.hint("another program is writing; try again in a moment")
        }
    } else {
        c
    }
}

async fn examine_desk(desk: &Desk, checks: &mut Vec<Check>) {
    let path = desk.data_dir.database();
    let store = desk.store.clone();
    let size_of = path.clone();
    let found = blocking(move || {
        let size = std::fs::metadata(&size_of).map(|m| m.len()).unwrap_or(0);
        Ok((
            size,
            store.counts()?,
            store.outbox_counts()?,
            store.monitor_health()?,
            store.last_pull()?,
        ))
    })
    .await;
    let (size, counts, outbox, monitor, last_pull) = match found {
        Ok(found) => found,
        Err(e) => {
            checks.push(check("database", Health::Fail, e.to_string()));
            return;
        }
    };
    checks.push(check(
        "database",
        Health::Ok,
        format!(
            "{} opens ({} KB, schema {}); {} appointments, {} patients mirrored",
            path.display(),
            size / 1024,
            crate::store::LATEST_VERSION,
            counts.appointments,
            counts.patients
        ),
    ));
    checks.push(outbox_check(outbox));
    checks.push(audit_check(desk.verify_audit(None).await));
    checks.push(mirror_check(last_pull));
    checks.extend(monitor_checks(&monitor, desk.clock.now()));
}

fn outbox_check(outbox: crate::outbox::OutboxCounts) -> Check {
    match (outbox.waiting(), outbox.need_a_person()) {
        (0, 0) => check("outbox", Health::Ok, "nothing waits to be sent"),
        (w, 0) => check(
            "outbox",
            Health::Warn,
            format!("{w} changes wait to be sent"),
        )
        .hint("`tsunagi-cli outbox drain` sends them when the upstream answers"),
        (w, p) => check(
            "outbox",
            Health::Warn,
            format!("{w} changes wait, {p} need a person"),
        )
        .hint("see the window's 同期 tab or `tsunagi-cli outbox list`"),
    }
}

fn audit_check(verified: crate::Result<crate::audit::AuditCheck>) -> Check {
    match verified {
        Ok(a) if a.intact() => check(
            "audit",
            Health::Ok,
            format!("{} rows, chain intact", a.rows),
        ),
        Ok(a) => check(
            "audit",
            Health::Fail,
            format!(
                "{} rows; {} problems: {}",
                a.rows,
                a.problems.len(),
                a.problems[0]
            ),
        )
        .hint("`tsunagi-cli audit verify` lists them; keep the file for the record"),
        Err(e) => check("audit", Health::Fail, e.to_string()),
    }
}

fn mirror_check(last_pull: Option<crate::store::PullRecord>) -> Check {
    match last_pull {
        Some(p) if p.error.is_none() => check(
            "mirror",
            Health::Ok,
            format!(
                "last refreshed {}",
                p.finished_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ),
        Some(p) => check(
            "mirror",
            Health::Warn,
            format!(
                "the last refresh failed ({}) at {}",
                p.error.map(|e| e.code).unwrap_or_default(),
                p.finished_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ),
        None => check("mirror", Health::Warn, "never refreshed").hint("`tsunagi-cli pull`"),
    }
}

/// Whether the app is watching the line now, and the line as last recorded.
fn monitor_checks(monitor: &crate::store::MonitorHealth, now: DateTime<Utc>) -> Vec<Check> {
    let app = match &monitor.last_run {
        Some((alive, false)) if age_secs(alive, now) < ALIVE_WITHIN_SECS => check(
            "monitor",
            Health::Ok,
            "the app is running and watching the line",
        ),
        Some((alive, clean)) => check(
            "monitor",
            Health::Warn,
            format!(
                "the app is not running (last seen {alive}{})",
                if *clean { "" } else { ", did not stop cleanly" }
            ),
        )
        .hint("start Tsunagi; nothing watches the line meanwhile"),
        None => check("monitor", Health::Warn, "the app has never run here"),
    };
    let mut checks = vec![app];
    if let Some((at, state, cause)) = &monitor.last_transition {
        let incident = monitor
            .open_incident
            .map(|id| format!("; outage {id} is open"))
            .unwrap_or_default();
        let health = if state == "online" {
            Health::Ok
        } else {
            Health::Warn
        };
        checks.push(check(
            "line",
            health,
            format!(
                "last recorded {state}{} at {at}{incident}",
                cause
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ),
        ));
    }
    checks
}

/// TOML's errors draw the offending line over several lines; one screen wants one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn age_secs(at: &str, now: DateTime<Utc>) -> i64 {
    DateTime::parse_from_rfc3339(at)
        .map(|t| (now - t.with_timezone(&Utc)).num_seconds())
        .unwrap_or(i64::MAX)
}

fn examine_source(config: &Config, checks: &mut Vec<Check>) {
    match (config.source.kind, &config.source.fhir) {
        (SourceKind::Fhir, Some(fhir)) => match fhir.url() {
            Ok(url) => {
                let tls = if url.scheme() == "https" {
                    "TLS with certificates checked against the OS trust store"
                } else {
                    "plain http (allowed: loopback or allow_plain_http)"
                };
                checks.push(check("source", Health::Ok, format!("FHIR {url} ({tls})")));
            }
            Err(e) => checks.push(check("source", Health::Fail, e.to_string())),
        },
        (SourceKind::Fhir, None) => checks.push(
            check(
                "source",
                Health::Fail,
                "FHIR is chosen but no server is set",
            )
            .hint("`tsunagi-cli source fhir URL`"),
        ),
        (kind, _) => checks.push(check(
            "source",
            Health::Ok,
            format!("{} (nothing to connect to)", kind.code()),
        )),
    }
}

async fn examine_line(config: &Config, checks: &mut Vec<Check>) {
    let upstream = match (config.source.kind, &config.source.fhir) {
        (SourceKind::Fhir, Some(fhir)) => fhir.url().ok(),
        _ => None,
    };
    let prober = Prober::new(config.monitor.clone(), upstream);
    let results = prober
        .round(Plan {
            full: true,
            upstream: true,
            endpoint: true,
            link: true,
        })
        .await;
    let mut seen = std::collections::HashSet::new();
    for r in results {
        // A confirming round asks each endpoint several times: one line per target.
        if !seen.insert((format!("{:?}", r.kind), r.target.clone(), r.ok)) {
            continue;
        }
        let what = format!("{:?} {}", r.kind, r.target).to_lowercase();
        checks.push(if r.ok {
            check(
                "probe",
                Health::Ok,
                format!("{what}: answered in {} ms", r.millis),
            )
        } else {
            let failure = r
                .failure
                .map(|f| format!("{f:?}").to_lowercase())
                .unwrap_or_default();
            let health = if r.kind == crate::monitor::ProbeKind::Upstream {
                Health::Fail
            } else {
                Health::Warn
            };
            check("probe", health, format!("{what}: {failure}"))
        });
    }
}
