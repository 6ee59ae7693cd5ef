//! Call attempts and the outbox entries they write, in one transaction each.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::outbox::{queue, OpInsert};
use super::Store;
use crate::audit::AuditEntry;
use crate::calls::{Attempt, CallOutcome};
use crate::error::{CoreError, Result};
use crate::model::AppointmentStatus;
use crate::outbox::change::{ArrivalOp, CallOp, CancelOp, Change, RescheduleOp};

/// A call to store. The keys are the outbox entries' UUIDv7s, made by the caller.
#[derive(Debug, Clone)]
pub struct CallInsert {
    pub appointment_id: String,
    pub outcome: CallOutcome,
    pub new_start: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    pub staff: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    /// The call's own entry (a Communication upstream).
    pub call_key: String,
    /// The appointment change's entry, for outcomes that change it.
    pub change_key: String,
}

/// A call attempt from a row whose first eight columns are `id, appointment_id, outcome,
/// new_start, retry_at, staff, note, at`.
pub(super) fn attempt(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    let outcome: String = r.get(2)?;
    let new_start: Option<String> = r.get(3)?;
    let retry_at: Option<String> = r.get(4)?;
    Ok(Attempt {
        id: r.get(0)?,
        appointment_id: r.get(1)?,
        outcome: CallOutcome::parse(&outcome).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown call outcome {outcome:?}").into(),
            )
        })?,
        new_start: new_start.as_deref().map(parse_ts).transpose()?,
        retry_at: retry_at.as_deref().map(parse_ts).transpose()?,
        staff: r.get(5)?,
        note: r.get(6)?,
        at: parse_ts(&r.get::<_, String>(7)?)?,
    })
}

/// The drill in progress at `at`, or 0. A drill left open past the end of the clinic day
/// it started on ends here, at that end (whoever asks first).
pub(super) fn active_drill(
    conn: &rusqlite::Connection,
    at: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    super::drill::end_overdue(conn, at)?;
    super::drill::running(conn, at)
}

/// What a change to an appointment is made on: the row, or an error naming the id.
fn appointment_for_change(tx: &rusqlite::Connection, id: &str) -> Result<super::mirror::ServerRow> {
    super::mirror::server_row(tx, id)?
        .ok_or_else(|| CoreError::InvalidInput(format!("no appointment {id:?} in the mirror")))
}

/// What a call outcome changes on the appointment: a cancel, or a reschedule that keeps
/// the slot's length (as the desk shows it). Other outcomes change nothing.
fn appointment_change(
    call: &CallInsert,
    shown: &crate::outbox::change::AppointmentState,
) -> Result<Option<Change>> {
    Ok(match call.outcome {
        CallOutcome::Cancelled => Some(Change::AppointmentCancel(CancelOp {
            appointment_id: call.appointment_id.clone(),
            status: AppointmentStatus::Cancelled,
        })),
        CallOutcome::Rescheduled => {
            let new_start = call.new_start.ok_or_else(|| {
                CoreError::InvalidInput("a reschedule needs the new date and time".into())
            })?;
            let length = match (shown.start, shown.end) {
                (Some(s), Some(e)) => e - s,
                _ => chrono::Duration::zero(),
            };
            let new_end = (length > chrono::Duration::zero()).then(|| new_start + length);
            Some(Change::AppointmentReschedule(RescheduleOp {
                appointment_id: call.appointment_id.clone(),
                start: new_start,
                end: new_end,
            }))
        }
        _ => None,
    })
}

/// The attempt's row; outside a drill it carries its op's key.
fn insert_attempt(
    tx: &rusqlite::Transaction<'_>,
    call: &CallInsert,
    incident: Option<i64>,
    drill: i64,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO call_attempt (appointment_id, outcome, new_start, retry_at, staff,
             note, at, incident_id, op_key, drill)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            call.appointment_id,
            call.outcome.code(),
            call.new_start.map(ts),
            call.retry_at.map(ts),
            call.staff,
            call.note,
            ts(call.at),
            incident,
            (drill == 0).then_some(&call.call_key),
            drill
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

impl Store {
    /// Store the attempt, change the mirror for a cancel or reschedule, queue both for the
    /// appointment's own upstream and write the audit row: all or nothing. Returns the
    /// attempt's id.
    pub fn record_call(&self, call: &CallInsert, audit: &AuditEntry) -> Result<i64> {
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = appointment_for_change(&tx, &call.appointment_id)?;
            let shown = super::mirror::shown_state(&tx, &call.appointment_id)?;
            let drill = active_drill(&tx, call.at)?;
            // Drill work is practice: it belongs to the drill, not to a real outage.
            let incident = if drill == 0 {
                super::monitor::open_incident(&tx)?
            } else {
                None
            };
            let upstream = row.source_key.clone().unwrap_or_default();
            // In a drill nothing reaches the mirror or the outbox: only the attempt is kept.
            let queue_change = |key: &str, change: Change| -> Result<()> {
                if drill != 0 {
                    return Ok(());
                }
                let appointment = change.appointment_change().is_some();
                queue(
                    &tx,
                    OpInsert {
                        key,
                        change,
                        upstream: &upstream,
                        base_version: row.version.as_deref(),
                        base_state: Some(&row.state).filter(|_| appointment),
                        at: call.at,
                        incident,
                    },
                )
            };
            if let Some(change) = appointment_change(call, &shown)? {
                queue_change(&call.change_key, change)?;
            }
            queue_change(
                &call.call_key,
                Change::CallOutcome(CallOp {
                    appointment_id: call.appointment_id.clone(),
                    patient_id: row.patient_id.clone(),
                    outcome: call.outcome,
                    at: call.at,
                    new_start: call.new_start,
                    staff: call.staff.clone(),
                    note: call.note.clone(),
                }),
            )?;
            let id = insert_attempt(&tx, call, incident, drill)?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// Check a patient in at the desk: the mirror's appointment becomes `arrived` and the
    /// change is queued for the appointment's upstream with the version it was based on,
    /// with its audit row, all or nothing. In a drill only the arrival is kept. Returns the
    /// arrival's id.
    pub fn record_arrival(
        &self,
        appointment_id: &str,
        staff: Option<&str>,
        at: DateTime<Utc>,
        key: &str,
        audit: &AuditEntry,
    ) -> Result<i64> {
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = appointment_for_change(&tx, appointment_id)?;
            let status = super::mirror::shown_state(&tx, appointment_id)?.status;
            let drill = active_drill(&tx, at)?;
            let already: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM arrival WHERE appointment_id = ?1 AND drill = ?2)",
                params![appointment_id, drill],
                |r| r.get(0),
            )?;
            if already
                || (drill == 0
                    && matches!(
                        status,
                        AppointmentStatus::Arrived | AppointmentStatus::CheckedIn
                    ))
            {
                return Err(CoreError::InvalidInput(
                    "this patient is already checked in".to_owned(),
                ));
            }
            if matches!(
                status,
                AppointmentStatus::Cancelled | AppointmentStatus::EnteredInError
            ) {
                return Err(CoreError::InvalidInput(
                    "this appointment is cancelled; book the patient again first".to_owned(),
                ));
            }
            let incident = if drill == 0 {
                super::monitor::open_incident(&tx)?
            } else {
                None
            };
            if drill == 0 {
                queue(
                    &tx,
                    OpInsert {
                        key,
                        change: Change::AppointmentArrival(ArrivalOp {
                            appointment_id: appointment_id.to_owned(),
                            status: AppointmentStatus::Arrived,
                            at,
                            staff: staff.map(str::to_owned),
                        }),
                        upstream: row.source_key.as_deref().unwrap_or_default(),
                        base_version: row.version.as_deref(),
                        base_state: Some(&row.state),
                        at,
                        incident,
                    },
                )?;
            }
            tx.execute(
                "INSERT INTO arrival (appointment_id, staff, at, incident_id, op_key, drill)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    appointment_id,
                    staff,
                    ts(at),
                    incident,
                    (drill == 0).then_some(key),
                    drill
                ],
            )?;
            let id = tx.last_insert_rowid();
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// When each of these appointments was checked in at the desk (real, or in one drill).
    pub fn arrivals_for(
        &self,
        appointment_ids: &[String],
        drill: i64,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT at FROM arrival WHERE drill = ?2 AND appointment_id = ?1
                 ORDER BY id LIMIT 1",
            )?;
            let mut out = Vec::new();
            for id in appointment_ids {
                let at: Option<String> = stmt
                    .query_row(params![id, drill], |r| r.get(0))
                    .optional()?;
                if let Some(at) = at {
                    out.push((id.clone(), parse_ts(&at)?));
                }
            }
            Ok(out)
        })
    }

    /// Every attempt on these appointments, oldest first: the real ones (`drill` 0) or
    /// those of one drill.
    pub fn attempts_for(&self, appointment_ids: &[String], drill: i64) -> Result<Vec<Attempt>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, appointment_id, outcome, new_start, retry_at, staff, note, at
                 FROM call_attempt WHERE drill = ?2 AND appointment_id = ?1 ORDER BY id",
            )?;
            let mut out = Vec::new();
            for id in appointment_ids {
                let rows = stmt.query_map(params![id, drill], attempt)?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
    }
}
