//! The mirror tables: replaced atomically by a complete pull, read by the desk.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::outbox::has_live_change;
use super::Store;
use crate::calendar::UtcRange;
use crate::error::{CoreError, ErrorPayload, Result};
use crate::model::{Appointment, AppointmentStatus, MirrorSnapshot, Patient, UpstreamNews};
use crate::outbox::change::{AppointmentChange, AppointmentState, ServerAppointment};
use crate::phone::Phone;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorMeta {
    pub source_key: String,
    pub source_kind: String,
    pub synced_at: DateTime<Utc>,
    pub window: UtcRange,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MirrorCounts {
    pub appointments: u32,
    pub patients: u32,
}

/// What a source needs to know about the mirror to tell whether anything changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorState {
    pub source_key: String,
    pub window: UtcRange,
    pub since: Option<String>,
    pub appointments_in_window: u32,
}

/// What a snapshot replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A pull from the source: its window, and whatever other upstreams left.
    Pull,
    /// An import: only the days it covers.
    Days,
}

/// One successful pull: what it covered and when.
#[derive(Debug, Clone, Copy)]
pub struct Refresh<'a> {
    pub window: UtcRange,
    pub scope: Scope,
    /// `Store::deliveries` before the fetch started: a pull is not written when a change
    /// reached the server meanwhile (its snapshot could be older than the delivery).
    pub deliveries_seen: Option<i64>,
    /// Where the next change check starts (the upstream's clock), if the source has one.
    pub since: Option<&'a str>,
    /// Mirror rows starting before this are purged (retention), in the same transaction.
    pub keep_from: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// When the data was true, if earlier than `finished_at`: a watched folder's file
    /// is as old as its own time, not as old as its reading. The mirror's age shows this.
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRecord {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub source_kind: String,
    pub error: Option<ErrorPayload>,
    pub counts: Option<MirrorCounts>,
    /// Whether a successful pull rewrote the mirror (false: nothing new upstream).
    pub changed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAppointment {
    pub appointment: Appointment,
    /// `None` when the upstream did not deliver the patient.
    pub patient: Option<Patient>,
    /// Booked or changed upstream during the last outage.
    pub news: Option<UpstreamNews>,
}

/// UTC, seconds precision, trailing `Z`: one fixed width, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Read a stored time (any RFC 3339 width: seconds here, milliseconds in the monitor's tables).
pub(crate) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
}

fn parse_opt_ts(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

fn invalid_snapshot(reason: String) -> CoreError {
    CoreError::Source(crate::source::SourceError::Invalid {
        host: "the upstream".to_owned(),
        reason,
    })
}

fn check_snapshot(snapshot: &MirrorSnapshot) -> Result<()> {
    let mut seen = HashSet::new();
    for p in &snapshot.patients {
        if !seen.insert(p.source_id.as_str()) {
            return Err(invalid_snapshot("a patient id appears twice".to_owned()));
        }
    }
    let mut seen = HashSet::new();
    for a in &snapshot.appointments {
        if !seen.insert(a.source_id.as_str()) {
            return Err(invalid_snapshot(
                "an appointment id appears twice".to_owned(),
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Make the mirror hold exactly `snapshot` for the refresh's window, in one transaction
    /// that also purges old days and logs the pull. A pull's snapshot replaces what other
    /// upstreams left in the mirror too; an import (`Scope::Days`) replaces only its days.
    /// Either way a row with a change still meant for its upstream stays, and every row
    /// shows the server's state plus those changes.
    pub fn replace_mirror(
        &self,
        snapshot: &MirrorSnapshot,
        refresh: Refresh<'_>,
        audit: Option<&crate::audit::AuditEntry>,
    ) -> Result<MirrorCounts> {
        check_snapshot(snapshot)?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let counts = replace_in(&tx, snapshot, refresh, audit)?;
            tx.commit()?;
            Ok(counts)
        })
    }

    /// The upstream has nothing new: mark the mirror fresh without rewriting it.
    pub fn confirm_mirror(&self, source_kind: &str, refresh: Refresh<'_>) -> Result<MirrorCounts> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            purge_before(&tx, refresh.keep_from)?;
            tx.execute(
                "UPDATE mirror_source SET synced_at = ?1, since = ?2 WHERE id = 1",
                params![ts(refresh.finished_at), refresh.since],
            )?;
            let counts = counts_in(&tx, refresh.window)?;
            log_success(&tx, source_kind, refresh, counts, false)?;
            tx.commit()?;
            Ok(counts)
        })
    }

    /// The mirror as a source sees it, for its change check.
    pub fn mirror_state(&self, window: UtcRange) -> Result<Option<MirrorState>> {
        self.with(|conn| {
            let row: Option<(String, String, String, Option<String>)> = conn
                .query_row(
                    "SELECT source_key, window_start, window_end, since FROM mirror_source WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((source_key, start, end, since)) = row else {
                return Ok(None);
            };
            Ok(Some(MirrorState {
                source_key,
                window: UtcRange {
                    start: parse_ts(&start)?,
                    end: parse_ts(&end)?,
                },
                since,
                appointments_in_window: counts_in(conn, window)?.appointments,
            }))
        })
    }

    /// Every row of the mirror tables, in a fixed order: equal strings, equal mirrors.
    /// (Tests prove a failed pull leaves the mirror exactly as it was.)
    pub fn mirror_fingerprint(&self) -> Result<String> {
        self.with(|conn| {
            let mut out = String::new();
            for sql in [
                "SELECT id, source_key, source_kind, synced_at, window_start, window_end, since
                 FROM mirror_source ORDER BY id",
                "SELECT source_id, source_version, name, kana FROM patient ORDER BY source_id",
                "SELECT patient_id, position, display, e164 FROM patient_phone
                 ORDER BY patient_id, position",
                "SELECT source_id, source_version, start_at, end_at, status, reason, patient_id
                 FROM appointment ORDER BY source_id",
            ] {
                let mut stmt = conn.prepare(sql)?;
                let columns = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    for i in 0..columns {
                        let v: rusqlite::types::Value = row.get(i)?;
                        out.push_str(&format!("{v:?}\u{1f}"));
                    }
                    out.push('\n');
                }
                out.push_str("--\n");
            }
            Ok(out)
        })
    }

    /// Log a pull that failed; the mirror itself is not touched.
    pub fn record_failed_pull(
        &self,
        source_kind: &str,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        error: &CoreError,
    ) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO pull_log (started_at, finished_at, source_kind, ok, error_code, error_text)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                params![
                    ts(started_at),
                    ts(finished_at),
                    source_kind,
                    error.code(),
                    error.to_string()
                ],
            )?;
            Ok(())
        })
    }

    pub fn mirror_meta(&self) -> Result<Option<MirrorMeta>> {
        self.with(|conn| {
            let row = conn
                .query_row(
                    "SELECT source_key, source_kind, synced_at, window_start, window_end
                     FROM mirror_source WHERE id = 1",
                    [],
                    |r| {
                        Ok(MirrorMeta {
                            source_key: r.get(0)?,
                            source_kind: r.get(1)?,
                            synced_at: parse_ts(&r.get::<_, String>(2)?)?,
                            window: UtcRange {
                                start: parse_ts(&r.get::<_, String>(3)?)?,
                                end: parse_ts(&r.get::<_, String>(4)?)?,
                            },
                        })
                    },
                )
                .optional()?;
            Ok(row)
        })
    }

    pub fn counts(&self) -> Result<MirrorCounts> {
        self.with(|conn| {
            Ok(conn.query_row(
                "SELECT (SELECT count(*) FROM appointment), (SELECT count(*) FROM patient)",
                [],
                |r| {
                    Ok(MirrorCounts {
                        appointments: r.get(0)?,
                        patients: r.get(1)?,
                    })
                },
            )?)
        })
    }

    pub fn last_pull(&self) -> Result<Option<PullRecord>> {
        self.with(|conn| {
            let row = conn
                .query_row(
                    "SELECT started_at, finished_at, source_kind, ok, error_code, error_text,
                            appointments, patients, changed
                     FROM pull_log ORDER BY id DESC LIMIT 1",
                    [],
                    |r| {
                        let ok: bool = r.get(3)?;
                        let error = if ok {
                            None
                        } else {
                            Some(ErrorPayload {
                                code: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                                message: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                            })
                        };
                        let counts =
                            match (r.get::<_, Option<u32>>(6)?, r.get::<_, Option<u32>>(7)?) {
                                (Some(appointments), Some(patients)) => Some(MirrorCounts {
                                    appointments,
                                    patients,
                                }),
                                _ => None,
                            };
                        Ok(PullRecord {
                            started_at: parse_ts(&r.get::<_, String>(0)?)?,
                            finished_at: parse_ts(&r.get::<_, String>(1)?)?,
                            source_kind: r.get(2)?,
                            error,
                            counts,
                            changed: r.get(8)?,
                        })
                    },
                )
                .optional()?;
            Ok(row)
        })
    }

    /// Appointments starting in `range`, in time order, with their patients.
    pub fn appointments_in(&self, range: UtcRange) -> Result<Vec<StoredAppointment>> {
        self.appointments_in_or(range, &[])
    }

    /// Appointments starting in `range` and those named in `also`, in time order, with
    /// their patients.
    pub fn appointments_in_or(
        &self,
        range: UtcRange,
        also: &[String],
    ) -> Result<Vec<StoredAppointment>> {
        let also = serde_json::to_string(also).expect("ids serialise");
        self.with(|conn| {
            let (from, to) = (ts(range.start), ts(range.end));
            let mut phones: HashMap<String, Vec<Phone>> = HashMap::new();
            let mut stmt = conn.prepare(
                "SELECT patient_id, display, e164 FROM patient_phone
                 WHERE patient_id IN (SELECT patient_id FROM appointment
                                      WHERE (start_at >= ?1 AND start_at < ?2)
                                         OR source_id IN (SELECT value FROM json_each(?3)))
                 ORDER BY patient_id, position",
            )?;
            let rows = stmt.query_map(params![from, to, also], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Phone {
                        display: r.get(1)?,
                        e164: r.get(2)?,
                    },
                ))
            })?;
            for row in rows {
                let (patient, phone) = row?;
                phones.entry(patient).or_default().push(phone);
            }

            let mut stmt = conn.prepare(
                "SELECT a.source_id, a.source_version, a.start_at, a.end_at, a.status, a.reason,
                        a.patient_id, p.source_id, p.source_version, p.name, p.kana,
                        a.upstream_news
                 FROM appointment a LEFT JOIN patient p ON p.source_id = a.patient_id
                 WHERE (a.start_at >= ?1 AND a.start_at < ?2)
                    OR a.source_id IN (SELECT value FROM json_each(?3))
                 ORDER BY a.start_at, a.source_id",
            )?;
            let rows = stmt.query_map(params![from, to, also], |r| {
                let status: String = r.get(4)?;
                let status = AppointmentStatus::from_code(&status).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        4,
                        rusqlite::types::Type::Text,
                        format!("unknown appointment status {status:?}").into(),
                    )
                })?;
                let appointment = Appointment {
                    source_id: r.get(0)?,
                    source_version: r.get(1)?,
                    start: parse_opt_ts(r.get(2)?)?,
                    end: parse_opt_ts(r.get(3)?)?,
                    status,
                    reason: r.get(5)?,
                    patient_id: r.get(6)?,
                };
                let patient = match r.get::<_, Option<String>>(7)? {
                    Some(id) => Some(Patient {
                        phones: Vec::new(),
                        source_id: id,
                        source_version: r.get(8)?,
                        name: r.get(9)?,
                        kana: r.get(10)?,
                    }),
                    None => None,
                };
                let news: Option<String> = r.get(11)?;
                Ok(StoredAppointment {
                    appointment,
                    patient,
                    news: news.as_deref().and_then(UpstreamNews::parse),
                })
            })?;
            let mut out = Vec::new();
            for row in rows {
                let mut row = row?;
                if let Some(p) = row.patient.as_mut() {
                    p.phones = phones.get(&p.source_id).cloned().unwrap_or_default();
                }
                out.push(row);
            }
            Ok(out)
        })
    }
}

fn log_success(
    tx: &Transaction<'_>,
    source_kind: &str,
    refresh: Refresh<'_>,
    counts: MirrorCounts,
    changed: bool,
) -> Result<()> {
    tx.execute(
        "INSERT INTO pull_log (started_at, finished_at, source_kind, ok, appointments, patients, changed)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)",
        params![
            ts(refresh.started_at),
            ts(refresh.finished_at),
            source_kind,
            counts.appointments,
            counts.patients,
            changed
        ],
    )?;
    Ok(())
}

fn counts_in(conn: &rusqlite::Connection, window: UtcRange) -> Result<MirrorCounts> {
    Ok(conn.query_row(
        "SELECT count(*), count(DISTINCT patient_id) FROM appointment
         WHERE start_at >= ?1 AND start_at < ?2",
        params![ts(window.start), ts(window.end)],
        |r| {
            Ok(MirrorCounts {
                appointments: r.get(0)?,
                patients: r.get(1)?,
            })
        },
    )?)
}

// Rows the desk still has changes for are never dropped from the mirror, whatever a pull,
// an import or retention says (the change needs its row to be labelled and recomputed):
// see `outbox::has_live_change`.

/// Retention: days before `keep_from` leave the mirror, and patients nobody is booked
/// with any more leave with them; rows with a change still meant for the upstream stay.
pub(super) fn purge_before(tx: &Transaction<'_>, keep_from: DateTime<Utc>) -> Result<()> {
    tx.execute(
        &format!(
            "DELETE FROM appointment WHERE start_at < ?1 AND NOT {}",
            has_live_change()
        ),
        params![ts(keep_from)],
    )?;
    tx.execute(
        "DELETE FROM patient WHERE source_id NOT IN
           (SELECT patient_id FROM appointment WHERE patient_id IS NOT NULL)",
        [],
    )?;
    Ok(())
}

fn status_code(i: usize, code: Option<String>) -> rusqlite::Result<AppointmentStatus> {
    let code = code.unwrap_or_default();
    AppointmentStatus::from_code(&code).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown appointment status {code:?}").into(),
        )
    })
}

/// An appointment's server-side state and where it came from.
pub(super) struct ServerRow {
    pub source_key: Option<String>,
    pub version: Option<String>,
    pub state: AppointmentState,
    pub patient_id: Option<String>,
}

pub(super) fn server_row(tx: &rusqlite::Connection, id: &str) -> Result<Option<ServerRow>> {
    Ok(tx
        .query_row(
            "SELECT source_key, source_version, coalesce(server_status, status),
                    server_start_at, server_end_at, patient_id
             FROM appointment WHERE source_id = ?1",
            [id],
            |r| {
                Ok(ServerRow {
                    source_key: r.get(0)?,
                    version: r.get(1)?,
                    state: AppointmentState {
                        status: status_code(2, r.get(2)?)?,
                        start: parse_opt_ts(r.get(3)?)?,
                        end: parse_opt_ts(r.get(4)?)?,
                    },
                    patient_id: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// What the desk shows of an appointment now.
pub(super) fn shown_state(tx: &rusqlite::Connection, id: &str) -> Result<AppointmentState> {
    tx.query_row(
        "SELECT status, start_at, end_at FROM appointment WHERE source_id = ?1",
        [id],
        |r| {
            Ok(AppointmentState {
                status: status_code(0, r.get(0)?)?,
                start: parse_opt_ts(r.get(1)?)?,
                end: parse_opt_ts(r.get(2)?)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| CoreError::InvalidInput(format!("no appointment {id:?} in the mirror")))
}

/// The one rule of the mirror: an appointment shows the server's state with, in order,
/// every change still meant for that server applied to it.
pub(super) fn recompute(tx: &rusqlite::Connection, id: &str) -> Result<()> {
    let Some(row) = server_row(tx, id)? else {
        return Ok(());
    };
    let mut shown = row.state;
    let upstream = row.source_key.unwrap_or_default();
    // This desk's changes still waiting, and the other desks' not settled yet, in the order
    // they were made (on this desk's clock).
    let mut changes = super::outbox::live_changes(tx, id, &upstream)?;
    changes.extend(super::takeover::peer_appointment_changes(
        tx,
        &upstream,
        Some(id),
    )?);
    changes.sort_by_key(|(at, _)| *at);
    for (_, change) in changes {
        if let Some((_, change)) = change.appointment_change() {
            change.apply(&mut shown);
        }
    }
    tx.execute(
        "UPDATE appointment SET status = ?2, start_at = ?3, end_at = ?4 WHERE source_id = ?1",
        params![
            id,
            shown.status.code(),
            shown.start.map(ts),
            shown.end.map(ts)
        ],
    )?;
    Ok(())
}

/// A change reached the server on the version it was based on: the mirror's server side
/// takes it (a pull would bring the same).
pub(super) fn server_took(
    tx: &rusqlite::Connection,
    id: &str,
    upstream: &str,
    change: AppointmentChange,
    base_version: Option<&str>,
    new_version: Option<&str>,
) -> Result<()> {
    let Some(row) = server_row(tx, id)? else {
        return Ok(());
    };
    if row.source_key.as_deref() != Some(upstream) || row.version.as_deref() != base_version {
        // The mirror already holds a later state of the server's (or another upstream's
        // appointment of the same id): nothing to move.
        return recompute(tx, id);
    }
    let mut state = row.state;
    change.apply(&mut state);
    set_server_side(tx, id, &state, new_version.or(row.version.as_deref()))
}

/// The server's side of an appointment is now `state` at `version`; the shown side follows.
fn set_server_side(
    tx: &rusqlite::Connection,
    id: &str,
    state: &AppointmentState,
    version: Option<&str>,
) -> Result<()> {
    tx.execute(
        "UPDATE appointment SET server_status = ?2, server_start_at = ?3, server_end_at = ?4,
             source_version = ?5
         WHERE source_id = ?1",
        params![
            id,
            state.status.code(),
            state.start.map(ts),
            state.end.map(ts),
            version
        ],
    )?;
    recompute(tx, id)
}

/// The server told what it holds for an appointment (a conflict's other side, taken or
/// built upon): the mirror's server side becomes that.
pub(super) fn server_holds(
    tx: &rusqlite::Connection,
    id: &str,
    upstream: &str,
    server: &ServerAppointment,
    version: Option<&str>,
) -> Result<()> {
    let Some(row) = server_row(tx, id)? else {
        return Ok(());
    };
    if row.source_key.as_deref() != Some(upstream) {
        return Ok(());
    }
    match server.state() {
        Some(state) => set_server_side(tx, id, &state, version),
        None if server.deleted => {
            // What the next pull would do too, once nothing of the desk's waits on it.
            tx.execute(
                &format!(
                    "DELETE FROM appointment WHERE source_id = ?1 AND NOT {}",
                    has_live_change()
                ),
                [id],
            )?;
            Ok(())
        }
        None => recompute(tx, id),
    }
}

fn write_snapshot(
    tx: &Transaction<'_>,
    snapshot: &MirrorSnapshot,
    window: UtcRange,
    scope: Scope,
    at: DateTime<Utc>,
) -> Result<()> {
    let news = match scope {
        Scope::Pull => news_since_outage(tx, snapshot, at)?,
        _ => None,
    };
    if scope == Scope::Pull {
        forget_other_upstreams(tx, &snapshot.source_key)?;
    }
    delete_stale(tx, snapshot, window)?;
    upsert_patients(tx, snapshot)?;
    upsert_appointments(tx, snapshot)?;
    if let Some(news) = news {
        tx.execute(
            "UPDATE appointment SET upstream_news = NULL WHERE upstream_news IS NOT NULL",
            [],
        )?;
        let mut mark =
            tx.prepare("UPDATE appointment SET upstream_news = ?2 WHERE source_id = ?1")?;
        for (id, what) in &news {
            mark.execute(params![id, what.code()])?;
        }
    }
    show_live_changes(tx)
}

/// The first pull after an outage: the appointments the upstream booked or changed since
/// the desk last saw it (`None` when no outage waits for this check). The desk's own
/// changes are not news: those still waiting show over the row, and those sent already
/// moved the row's server side.
fn news_since_outage(
    tx: &Transaction<'_>,
    snapshot: &MirrorSnapshot,
    at: DateTime<Utc>,
) -> Result<Option<Vec<(String, UpstreamNews)>>> {
    let waiting = tx.execute(
        "UPDATE incident SET news_checked_at = ?1
         WHERE ended_at IS NOT NULL AND news_checked_at IS NULL",
        [ts(at)],
    )?;
    if waiting == 0 {
        return Ok(None);
    }
    let known: i64 = tx.query_row(
        "SELECT count(*) FROM appointment WHERE source_key = ?1",
        [&snapshot.source_key],
        |r| r.get(0),
    )?;
    if known == 0 {
        // Nothing seen before the outage to compare with.
        return Ok(None);
    }
    let mut before = tx.prepare(&format!(
        "SELECT server_status, server_start_at, {} FROM appointment
         WHERE source_id = ?1 AND source_key = ?2",
        has_live_change()
    ))?;
    let mut news = Vec::new();
    for a in &snapshot.appointments {
        let seen = before
            .query_row(params![a.source_id, snapshot.source_key], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .optional()?;
        let what = match seen {
            None => Some(UpstreamNews::New),
            Some((_, _, true)) => None,
            Some((status, start, false)) => (status.as_deref() != Some(a.status.code())
                || start != a.start.map(ts))
            .then_some(UpstreamNews::Changed),
        };
        if let Some(what) = what {
            news.push((a.source_id.clone(), what));
        }
    }
    Ok(Some(news))
}

/// Another upstream's rows: nothing of them can be trusted to line up with this one,
/// except that the desk's changes to them still wait for their own upstream.
fn forget_other_upstreams(tx: &Transaction<'_>, source_key: &str) -> Result<()> {
    tx.execute(
        &format!(
            "DELETE FROM appointment WHERE source_key IS NOT ?1 AND NOT {}",
            has_live_change()
        ),
        [source_key],
    )?;
    tx.execute(
        "DELETE FROM patient WHERE source_key IS NOT ?1 AND source_id NOT IN
           (SELECT patient_id FROM appointment WHERE patient_id IS NOT NULL)",
        [source_key],
    )?;
    Ok(())
}

/// Appointments the upstream no longer has in this window (deleted or moved out), unless
/// a change of the desk's still waits on them.
fn delete_stale(tx: &Transaction<'_>, snapshot: &MirrorSnapshot, window: UtcRange) -> Result<()> {
    let keep: HashSet<&str> = snapshot
        .appointments
        .iter()
        .map(|a| a.source_id.as_str())
        .collect();
    let stale: Vec<String> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT source_id FROM appointment
             WHERE (start_at IS NULL OR (start_at >= ?1 AND start_at < ?2))
               AND NOT {}",
            has_live_change()
        ))?;
        let ids = stmt.query_map(params![ts(window.start), ts(window.end)], |r| {
            r.get::<_, String>(0)
        })?;
        ids.collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|id| !keep.contains(id.as_str()))
            .collect()
    };
    {
        let mut delete = tx.prepare("DELETE FROM appointment WHERE source_id = ?1")?;
        for id in &stale {
            delete.execute([id])?;
        }
    }
    Ok(())
}

fn upsert_patients(tx: &Transaction<'_>, snapshot: &MirrorSnapshot) -> Result<()> {
    let mut upsert = tx.prepare(
        "INSERT INTO patient (source_id, source_version, name, kana, source_key)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (source_id) DO UPDATE SET source_version = excluded.source_version,
           name = excluded.name, kana = excluded.kana, source_key = excluded.source_key",
    )?;
    let mut clear_phones = tx.prepare("DELETE FROM patient_phone WHERE patient_id = ?1")?;
    let mut add_phone = tx.prepare(
        "INSERT INTO patient_phone (patient_id, position, display, e164) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for p in &snapshot.patients {
        upsert.execute(params![
            p.source_id,
            p.source_version,
            p.name,
            p.kana,
            snapshot.source_key
        ])?;
        clear_phones.execute([&p.source_id])?;
        for (i, phone) in p.phones.iter().enumerate() {
            add_phone.execute(params![p.source_id, i as i64, phone.display, phone.e164])?;
        }
    }
    Ok(())
}

fn upsert_appointments(tx: &Transaction<'_>, snapshot: &MirrorSnapshot) -> Result<()> {
    let mut upsert = tx.prepare(
        "INSERT INTO appointment (source_id, source_version, start_at, end_at, status, reason,
             patient_id, source_key, server_status, server_start_at, server_end_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, ?3, ?4)
         ON CONFLICT (source_id) DO UPDATE SET source_version = excluded.source_version,
           start_at = excluded.start_at, end_at = excluded.end_at, status = excluded.status,
           reason = excluded.reason, patient_id = excluded.patient_id,
           source_key = excluded.source_key, server_status = excluded.server_status,
           server_start_at = excluded.server_start_at,
           server_end_at = excluded.server_end_at",
    )?;
    for a in &snapshot.appointments {
        upsert.execute(params![
            a.source_id,
            a.source_version,
            a.start.map(ts),
            a.end.map(ts),
            a.status.code(),
            a.reason,
            a.patient_id,
            snapshot.source_key
        ])?;
    }
    Ok(())
}

/// The desk's changes still waiting, and the other desks' not settled yet, show over the
/// fresh rows.
fn show_live_changes(tx: &Transaction<'_>) -> Result<()> {
    let mut changed: Vec<String> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT source_id FROM appointment WHERE {}",
            has_live_change()
        ))?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let upstreams: Vec<String> = {
        let mut stmt = tx.prepare("SELECT DISTINCT upstream FROM peer_op WHERE settled IS NULL")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for upstream in &upstreams {
        for (_, change) in super::takeover::peer_appointment_changes(tx, upstream, None)? {
            if let Some((id, _)) = change.appointment_change() {
                changed.push(id.to_owned());
            }
        }
    }
    changed.sort();
    changed.dedup();
    for id in &changed {
        recompute(tx, id)?;
    }
    Ok(())
}

/// [`Store::replace_mirror`] inside a transaction the caller commits.
pub(super) fn replace_in(
    tx: &rusqlite::Transaction<'_>,
    snapshot: &MirrorSnapshot,
    refresh: Refresh<'_>,
    audit: Option<&crate::audit::AuditEntry>,
) -> Result<MirrorCounts> {
    if let Some(seen) = refresh.deliveries_seen {
        let now: i64 = tx.query_row("SELECT deliveries FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })?;
        if now != seen {
            // A change reached the server while this snapshot was on its way: it is
            // older than what the desk knows. Nothing is written.
            return Err(CoreError::Superseded);
        }
    }
    write_snapshot(
        tx,
        snapshot,
        refresh.window,
        refresh.scope,
        refresh.finished_at,
    )?;
    purge_before(tx, refresh.keep_from)?;
    tx.execute(
                "INSERT INTO mirror_source (id, source_key, source_kind, synced_at, window_start, window_end, since)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET source_key = excluded.source_key,
                   source_kind = excluded.source_kind, synced_at = excluded.synced_at,
                   window_start = excluded.window_start, window_end = excluded.window_end,
                   since = excluded.since",
                params![
                    snapshot.source_key,
                    snapshot.source_kind.code(),
                    ts(refresh.as_of.unwrap_or(refresh.finished_at)),
                    ts(refresh.window.start),
                    ts(refresh.window.end),
                    refresh.since
                ],
            )?;
    let counts = MirrorCounts {
        appointments: snapshot.appointments.len() as u32,
        patients: snapshot.patients.len() as u32,
    };
    log_success(tx, snapshot.source_kind.code(), refresh, counts, true)?;
    if let Some(audit) = audit {
        super::audit::append_in(tx, audit)?;
    }
    Ok(counts)
}
