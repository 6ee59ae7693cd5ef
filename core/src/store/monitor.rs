//! The monitor's record: incidents, the transitions inside them, and the app's runs.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::parse_ts;
use super::Store;
use crate::error::{CoreError, Result};
use crate::monitor::{millis_ts, Cause, NetPath, NetState, Transition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub declared_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub cause: Option<Cause>,
    pub worst_state: NetState,
    /// The app stopped (crash, power loss) while it was open.
    pub ended_by_shutdown: bool,
}

/// How long a desk may be off in the middle of an outage (a restart, an update, a reboot)
/// and still carry it on: the ticks, calls and receipts of that outage stay together.
pub const CARRY_OUTAGE: chrono::Duration = chrono::Duration::minutes(60);

/// What `start_run` recorded: the run, and the outage it carried over from the last run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub id: i64,
    pub carried: Option<CarriedIncident>,
}

/// An outage left open by the last run, carried over until the line is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedIncident {
    pub id: i64,
    /// The last run's last sign of life: when it ends, if the line is up at the first look.
    pub last_seen: String,
}

/// A run of the app that did not end cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    /// Its last sign of life: it stopped between this and the next start.
    pub alive_at: DateTime<Utc>,
    /// When the app started again.
    pub next_start: Option<DateTime<Utc>>,
}

/// The incident still open (the line is down now), if any: what desk work during it hangs on.
pub(super) fn open_incident(conn: &rusqlite::Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT (SELECT id FROM incident WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1)",
        [],
        |r| r.get(0),
    )
}

pub(super) fn incident(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    let ended: Option<String> = r.get("ended_at")?;
    let cause: String = r.get("cause")?;
    let worst: String = r.get("worst_state")?;
    let ended_by: Option<String> = r.get("ended_by")?;
    Ok(IncidentRow {
        id: r.get("id")?,
        started_at: parse_ts(&r.get::<_, String>("started_at")?)?,
        declared_at: parse_ts(&r.get::<_, String>("declared_at")?)?,
        ended_at: ended.as_deref().map(parse_ts).transpose()?,
        cause: Cause::parse(&cause),
        worst_state: NetState::parse(&worst).unwrap_or(NetState::Offline),
        ended_by_shutdown: ended_by.as_deref() == Some("shutdown"),
    })
}

fn worse(a: NetState, b: NetState) -> NetState {
    if a == NetState::Offline || b == NetState::Offline {
        NetState::Offline
    } else {
        NetState::Degraded
    }
}

/// What recording a transition did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The incident it opened, extended or closed.
    pub incident: Option<i64>,
    /// The drill a real outage ended (what is recorded from now on is real).
    pub ended_drill: Option<i64>,
}

impl Store {
    /// Store a transition and open, extend or close its incident, in one transaction. The
    /// line declared down ends a drill in the same transaction: from that moment the
    /// desk's calls, check-ins and receipts are real.
    pub fn record_transition(&self, t: &Transition, path: &NetPath) -> Result<Recorded> {
        let probes = serde_json::to_string(&t.probes)
            .map_err(|e| CoreError::InvalidInput(format!("probe results: {e}")))?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let open: Option<(i64, String)> = tx
                .query_row(
                    "SELECT id, worst_state FROM incident WHERE ended_at IS NULL
                     ORDER BY id DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let incident = match (open, t.state) {
                (Some((id, _)), NetState::Online) => {
                    tx.execute(
                        "UPDATE incident SET ended_at = ?2, ended_by = 'recovery' WHERE id = ?1",
                        params![id, t.since],
                    )?;
                    Some(id)
                }
                (None, NetState::Online) => None,
                (Some((id, worst)), state) => {
                    let worst = NetState::parse(&worst).unwrap_or(state);
                    tx.execute(
                        "UPDATE incident SET worst_state = ?2 WHERE id = ?1",
                        params![id, worse(worst, state).as_str()],
                    )?;
                    Some(id)
                }
                (None, state) => {
                    tx.execute(
                        "INSERT INTO incident (started_at, declared_at, cause, worst_state)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![
                            t.since,
                            t.at,
                            t.cause.map(Cause::as_str).unwrap_or("internet"),
                            state.as_str()
                        ],
                    )?;
                    let id = tx.last_insert_rowid();
                    super::records::adopt_ticks(&tx, id, parse_ts(&t.since)?)?;
                    Some(id)
                }
            };
            let mut ended_drill = None;
            if t.state == NetState::Offline {
                let at = super::mirror::ts(parse_ts(&t.at)?);
                let drill = super::calls::active_drill(&tx, parse_ts(&t.at)?)?;
                if drill != 0 {
                    tx.execute(
                        "UPDATE drill SET ended_at = ?2, ended_by = 'outage', ended_incident = ?3
                         WHERE id = ?1",
                        params![drill, at, incident],
                    )?;
                    ended_drill = Some(drill);
                }
            }
            tx.execute(
                "INSERT INTO line_transition (incident_id, at, since, from_state, state, cause,
                     probes, gateway, local_address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    incident,
                    t.at,
                    t.since,
                    t.from.as_str(),
                    t.state.as_str(),
                    t.cause.map(Cause::as_str),
                    probes,
                    path.gateway,
                    path.local_address
                ],
            )?;
            tx.commit()?;
            Ok(Recorded {
                incident,
                ended_drill,
            })
        })
    }

    /// Incidents that started in `[from, to)`, oldest first.
    pub fn incidents_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<IncidentRow>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT * FROM incident WHERE started_at >= ?1 AND started_at < ?2
                 ORDER BY started_at",
            )?;
            let rows = stmt
                .query_map(params![millis_ts(from), millis_ts(to)], incident)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Record that the app started. An incident left open by the last run is carried over
    /// when that run was alive within [`CARRY_OUTAGE`] (a restart, an update, a reboot in
    /// the middle of an outage): the runner's first look at the line decides whether it goes
    /// on or ended meanwhile ([`Store::end_carried_incident`]). Left longer, it ends at that
    /// run's last sign of life (or now, after a clean stop), as before.
    pub fn start_run(&self, now: DateTime<Utc>) -> Result<RunStart> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last_alive: Option<String> = tx
                .query_row(
                    "SELECT alive_at FROM app_run WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let last_seen: Option<String> = tx
                .query_row(
                    "SELECT alive_at FROM app_run ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let open = open_incident(&tx)?;
            let carried = match (open, &last_seen) {
                (Some(id), Some(seen)) if now - parse_ts(seen)? <= CARRY_OUTAGE => {
                    Some(CarriedIncident {
                        id,
                        last_seen: seen.clone(),
                    })
                }
                _ => None,
            };
            if carried.is_none() {
                let ended_at = last_alive.unwrap_or_else(|| millis_ts(now));
                tx.execute(
                    "UPDATE incident SET ended_at = max(started_at, ?1), ended_by = 'shutdown'
                     WHERE ended_at IS NULL",
                    [&ended_at],
                )?;
            }
            tx.execute(
                "INSERT INTO app_run (started_at, alive_at) VALUES (?1, ?1)",
                [millis_ts(now)],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(RunStart { id, carried })
        })
    }

    /// The line was up at the first look after a restart: the outage carried over ended
    /// while the desk was off, at the last run's last sign of life.
    pub fn end_carried_incident(&self, carried: &CarriedIncident) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE incident SET ended_at = max(started_at, ?2), ended_by = 'shutdown'
                 WHERE id = ?1 AND ended_at IS NULL",
                params![carried.id, carried.last_seen],
            )?;
            Ok(())
        })
    }

    pub fn run_alive(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE app_run SET alive_at = ?2 WHERE id = ?1",
                params![id, millis_ts(now)],
            )?;
            Ok(())
        })
    }

    pub fn end_run(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE app_run SET alive_at = ?2, ended_at = ?2 WHERE id = ?1",
                params![id, millis_ts(now)],
            )?;
            Ok(())
        })
    }

    /// Runs that stopped without a clean end, whose last sign of life is in `[from, to)`
    /// (the run still going is not one of them).
    pub fn unclean_runs_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RunRow>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT r.id, r.started_at, r.alive_at,
                        (SELECT min(n.started_at) FROM app_run n WHERE n.id > r.id)
                 FROM app_run r
                 WHERE r.ended_at IS NULL AND r.alive_at >= ?1 AND r.alive_at < ?2
                   AND EXISTS (SELECT 1 FROM app_run n WHERE n.id > r.id)
                 ORDER BY r.id",
            )?;
            let rows = stmt
                .query_map(params![millis_ts(from), millis_ts(to)], |r| {
                    let next: Option<String> = r.get(3)?;
                    Ok(RunRow {
                        id: r.get(0)?,
                        started_at: parse_ts(&r.get::<_, String>(1)?)?,
                        alive_at: parse_ts(&r.get::<_, String>(2)?)?,
                        next_start: next.as_deref().map(parse_ts).transpose()?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Signals up to this time have been seen at the desk.
    pub fn signals_seen_to(&self) -> Result<Option<DateTime<Utc>>> {
        self.with(|conn| {
            let s: Option<String> = conn
                .query_row("SELECT seen_to FROM signal_seen WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(s.as_deref().map(parse_ts).transpose()?)
        })
    }

    pub fn mark_signals_seen(&self, to: DateTime<Utc>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO signal_seen (id, seen_to) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET seen_to = max(seen_to, excluded.seen_to)",
                [millis_ts(to)],
            )?;
            Ok(())
        })
    }
}

/// What `doctor` says about the monitor: the app's last sign of life and the line's last
/// recorded state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorHealth {
    /// (last sign of life, whether that run ended cleanly)
    pub last_run: Option<(String, bool)>,
    /// (when, state, cause) of the latest transition
    pub last_transition: Option<(String, String, Option<String>)>,
    pub open_incident: Option<i64>,
}

impl Store {
    pub fn monitor_health(&self) -> Result<MonitorHealth> {
        self.with(|conn| {
            Ok(MonitorHealth {
                last_run: conn
                    .query_row(
                        "SELECT alive_at, ended_at IS NOT NULL FROM app_run ORDER BY id DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
                last_transition: conn
                    .query_row(
                        "SELECT at, state, cause FROM line_transition ORDER BY id DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?,
                open_incident: conn
                    .query_row(
                        "SELECT id FROM incident WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .optional()?,
            })
        })
    }
}
