//! Call attempts and the outbox entries they write, in one transaction each.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::outbox::{queue, OpInsert};
use super::Store;
use crate::calls::{Attempt, CallOutcome};
use crate::error::{CoreError, Result};
use crate::outbox::OpKind;

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

/// The appointment a call is about: version, start, end, patient.
type Found = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A call attempt from a row whose first eight columns are `id, appointment_id, outcome,
/// new_start, retry_at, staff, note, at`.
pub(super) fn attempt(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    let outcome: String = r.get(2)?;
    let new_start: Option<String> = r.get(3)?;
    let retry_at: Option<String> = r.get(4)?;
    Ok(Attempt {
        id: r.get(0)?,
        appointment_id: r.get(1)?,
        outcome: CallOutcome::parse(&outcome).unwrap_or(CallOutcome::NoAnswer),
        new_start: new_start.as_deref().map(parse_ts).transpose()?,
        retry_at: retry_at.as_deref().map(parse_ts).transpose()?,
        staff: r.get(5)?,
        note: r.get(6)?,
        at: parse_ts(&r.get::<_, String>(7)?)?,
    })
}

/// The drill in progress, or 0.
pub(super) fn active_drill(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce((SELECT id FROM drill WHERE ended_at IS NULL), 0)",
        [],
        |r| r.get(0),
    )
}

impl Store {
    /// Store the attempt, change the mirror for a cancel or reschedule, and queue both for
    /// the upstream: all or nothing. Returns the attempt's id.
    pub fn record_call(&self, call: &CallInsert) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Option<Found> = tx
                .query_row(
                    "SELECT source_version, start_at, end_at, patient_id FROM appointment
                     WHERE source_id = ?1",
                    [&call.appointment_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((version, start, end, patient_id)) = found else {
                return Err(CoreError::InvalidInput(format!(
                    "no appointment {:?} in the mirror",
                    call.appointment_id
                )));
            };
            let incident = super::monitor::open_incident(&tx)?;
            let drill = active_drill(&tx)?;
            let now = ts(call.at);
            // In a drill nothing reaches the mirror or the outbox: only the attempt is kept.
            let queue = |key: &str, kind: OpKind, payload: serde_json::Value| {
                if drill != 0 {
                    return Ok(());
                }
                queue(
                    &tx,
                    OpInsert {
                        key,
                        kind,
                        target_id: &call.appointment_id,
                        base_version: version.as_deref(),
                        payload,
                        at: &now,
                        incident,
                    },
                )
            };
            match call.outcome {
                CallOutcome::Cancelled if drill == 0 => {
                    tx.execute(
                        "UPDATE appointment SET status = 'cancelled' WHERE source_id = ?1",
                        [&call.appointment_id],
                    )?;
                    queue(
                        &call.change_key,
                        OpKind::AppointmentCancel,
                        serde_json::json!({ "appointment_id": call.appointment_id, "status": "cancelled" }),
                    )?;
                }
                CallOutcome::Rescheduled if drill == 0 => {
                    let new_start = call.new_start.ok_or_else(|| {
                        CoreError::InvalidInput("a reschedule needs the new date and time".into())
                    })?;
                    // Keep the slot's length.
                    let length = match (start.as_deref(), end.as_deref()) {
                        (Some(s), Some(e)) => parse_ts(e)? - parse_ts(s)?,
                        _ => chrono::Duration::zero(),
                    };
                    let new_end = (length > chrono::Duration::zero()).then(|| new_start + length);
                    tx.execute(
                        "UPDATE appointment SET start_at = ?2, end_at = ?3 WHERE source_id = ?1",
                        params![call.appointment_id, ts(new_start), new_end.map(ts)],
                    )?;
                    queue(
                        &call.change_key,
                        OpKind::AppointmentReschedule,
                        serde_json::json!({
                            "appointment_id": call.appointment_id,
                            "start": ts(new_start),
                            "end": new_end.map(ts),
                        }),
                    )?;
                }
                _ => {}
            }
            queue(
                &call.call_key,
                OpKind::CallOutcome,
                serde_json::json!({
                    "appointment_id": call.appointment_id,
                    "patient_id": patient_id,
                    "outcome": call.outcome.code(),
                    "at": now,
                    "new_start": call.new_start.map(ts),
                    "staff": call.staff,
                    "note": call.note,
                }),
            )?;
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
                    now,
                    incident,
                    (drill == 0).then_some(&call.call_key),
                    drill
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(id)
        })
    }

    /// Check a patient in at the desk: the mirror's appointment becomes `arrived` and the
    /// change is queued with the version it was based on, all or nothing. In a drill only the
    /// arrival is kept. Returns the arrival's id.
    pub fn record_arrival(
        &self,
        appointment_id: &str,
        staff: Option<&str>,
        at: DateTime<Utc>,
        key: &str,
    ) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: Option<(Option<String>, String)> = tx
                .query_row(
                    "SELECT source_version, status FROM appointment WHERE source_id = ?1",
                    [appointment_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((version, status)) = found else {
                return Err(CoreError::InvalidInput(format!(
                    "no appointment {appointment_id:?} in the mirror"
                )));
            };
            let drill = active_drill(&tx)?;
            let already: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM arrival WHERE appointment_id = ?1 AND drill = ?2)",
                params![appointment_id, drill],
                |r| r.get(0),
            )?;
            if already || (drill == 0 && matches!(status.as_str(), "arrived" | "checked-in")) {
                return Err(CoreError::InvalidInput(
                    "this patient is already checked in".to_owned(),
                ));
            }
            if matches!(status.as_str(), "cancelled" | "entered-in-error") {
                return Err(CoreError::InvalidInput(
                    "this appointment is cancelled; book the patient again first".to_owned(),
                ));
            }
            let incident = super::monitor::open_incident(&tx)?;
            let now = ts(at);
            if drill == 0 {
                tx.execute(
                    "UPDATE appointment SET status = 'arrived' WHERE source_id = ?1",
                    [appointment_id],
                )?;
                queue(
                    &tx,
                    OpInsert {
                        key,
                        kind: OpKind::AppointmentArrival,
                        target_id: appointment_id,
                        base_version: version.as_deref(),
                        payload: serde_json::json!({
                            "appointment_id": appointment_id,
                            "status": "arrived",
                            "at": now,
                            "staff": staff,
                        }),
                        at: &now,
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
                    now,
                    incident,
                    (drill == 0).then_some(key),
                    drill
                ],
            )?;
            let id = tx.last_insert_rowid();
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
