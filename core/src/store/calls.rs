//! Call attempts and the outbox entries they write, in one transaction each.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::outbox::{queue, OpInsert};
use super::Store;
use crate::audit::AuditEntry;
use crate::calls::{Attempt, CallError, CallOutcome, Visit, Withdrawable};
use crate::error::{CoreError, Result};
use crate::model::AppointmentStatus;
use crate::outbox::change::{ArrivalOp, CallOp, CancelOp, Change, RescheduleOp};
use crate::peers::{CallRecord, RecordBody};

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
    /// The person confirmed this replaces an earlier record it contradicts.
    pub replace_earlier: bool,
}

/// A check-in to store. `key` is its outbox entry's UUIDv7.
#[derive(Debug, Clone)]
pub struct ArrivalInsert {
    pub appointment_id: String,
    pub staff: Option<String>,
    pub at: DateTime<Utc>,
    pub key: String,
    /// The clinic's today: an appointment outside it is checked in only when confirmed.
    pub today: crate::calendar::UtcRange,
    pub other_day_ok: bool,
    pub replace_earlier: bool,
}

/// A visit the desk expects cannot be on an appointment that is cancelled (upstream, or
/// by a cancellation that still stands here).
fn refuse_cancelled(status: AppointmentStatus) -> Result<()> {
    if matches!(
        status,
        AppointmentStatus::Cancelled | AppointmentStatus::EnteredInError
    ) {
        return Err(CallError::AppointmentCancelled.into());
    }
    Ok(())
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
    changed: bool,
    old_start: Option<DateTime<Utc>>,
) -> Result<i64> {
    // A real call is a record for the other desks (a drill's stays here).
    let record_seq = if drill == 0 {
        let body = RecordBody::Call(CallRecord {
            appointment_id: call.appointment_id.clone(),
            outcome: call.outcome,
            new_start: call.new_start,
            staff: call.staff.clone(),
            at: call.at,
        });
        Some(super::records::append_named(tx, call.at, &body)?.1 as i64)
    } else {
        None
    };
    tx.execute(
        "INSERT INTO call_attempt (appointment_id, outcome, new_start, retry_at, staff,
             note, at, incident_id, op_key, drill, change_key, old_start, record_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
            drill,
            (drill == 0 && changed).then_some(&call.change_key),
            old_start.map(ts),
            record_seq
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
            let drill = active_drill(&tx, call.at)?;
            if let Some(visit) = Visit::of(call.outcome) {
                settle_contradictions(
                    &tx,
                    &call.appointment_id,
                    drill,
                    visit,
                    call.replace_earlier,
                    call.staff.as_deref(),
                    &ts(call.at),
                )?;
                if visit == Visit::Coming {
                    refuse_cancelled(
                        super::mirror::shown_state(&tx, &call.appointment_id)?.status,
                    )?;
                }
            }
            let shown = super::mirror::shown_state(&tx, &call.appointment_id)?;
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
                        taken_from: None,
                    },
                )
            };
            let change = appointment_change(call, &shown)?;
            let changed = change.is_some();
            if let Some(change) = change {
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
            let old_start = shown
                .start
                .filter(|_| call.outcome == CallOutcome::Rescheduled);
            let id = insert_attempt(&tx, call, incident, drill, changed, old_start)?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// Check a patient in at the desk: the mirror's appointment becomes `arrived` and the
    /// change is queued for the appointment's upstream with the version it was based on,
    /// with its audit row, all or nothing. In a drill only the arrival is kept. Returns the
    /// arrival's id.
    pub fn record_arrival(&self, arrival: &ArrivalInsert, audit: &AuditEntry) -> Result<i64> {
        let id = arrival.appointment_id.as_str();
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = appointment_for_change(&tx, id)?;
            let drill = active_drill(&tx, arrival.at)?;
            let already: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM arrival WHERE appointment_id = ?1 AND drill = ?2
                                  AND withdrawn_at IS NULL)",
                params![id, drill],
                |r| r.get(0),
            )?;
            let shown = super::mirror::shown_state(&tx, id)?;
            if already
                || (drill == 0
                    && matches!(
                        shown.status,
                        AppointmentStatus::Arrived | AppointmentStatus::CheckedIn
                    ))
            {
                return Err(CoreError::InvalidInput(
                    "this patient is already checked in".to_owned(),
                ));
            }
            let on_day = shown
                .start
                .is_some_and(|s| s >= arrival.today.start && s < arrival.today.end);
            if !on_day && !arrival.other_day_ok {
                return Err(CallError::NotToday.into());
            }
            settle_contradictions(
                &tx,
                id,
                drill,
                Visit::Arrived,
                arrival.replace_earlier,
                arrival.staff.as_deref(),
                &ts(arrival.at),
            )?;
            refuse_cancelled(super::mirror::shown_state(&tx, id)?.status)?;
            let incident = if drill == 0 {
                super::monitor::open_incident(&tx)?
            } else {
                None
            };
            if drill == 0 {
                queue(
                    &tx,
                    OpInsert {
                        key: &arrival.key,
                        change: Change::AppointmentArrival(ArrivalOp {
                            appointment_id: id.to_owned(),
                            status: AppointmentStatus::Arrived,
                            at: arrival.at,
                            staff: arrival.staff.clone(),
                        }),
                        upstream: row.source_key.as_deref().unwrap_or_default(),
                        base_version: row.version.as_deref(),
                        base_state: Some(&row.state),
                        at: arrival.at,
                        incident,
                        taken_from: None,
                    },
                )?;
            }
            // A real check-in is a record for the other desks.
            let record_seq = if drill == 0 {
                let body = RecordBody::Arrival {
                    appointment_id: id.to_owned(),
                    staff: arrival.staff.clone(),
                    at: arrival.at,
                };
                Some(super::records::append_named(&tx, arrival.at, &body)?.1 as i64)
            } else {
                None
            };
            tx.execute(
                "INSERT INTO arrival (appointment_id, staff, at, incident_id, op_key, drill,
                     record_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    arrival.staff,
                    ts(arrival.at),
                    incident,
                    (drill == 0).then_some(&arrival.key),
                    drill,
                    record_seq
                ],
            )?;
            let arrival_id = tx.last_insert_rowid();
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(arrival_id)
        })
    }

    /// Take back a call or check-in with the ops it queued (see [`withdraw_in`]), with its
    /// audit row. Returns the appointment it was about.
    pub fn withdraw(
        &self,
        record: Withdrawable,
        staff: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Option<String>> {
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let appointment = withdraw_in(&tx, Taking::Record(record), staff, &ts(at))?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(appointment)
        })
    }

    /// When each of these appointments was checked in at the desk (real, or in one drill).
    pub fn arrivals_for(
        &self,
        appointment_ids: &[String],
        drill: i64,
    ) -> Result<Vec<(String, i64, DateTime<Utc>)>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, at FROM arrival
                 WHERE drill = ?2 AND appointment_id = ?1 AND withdrawn_at IS NULL
                 ORDER BY id LIMIT 1",
            )?;
            let mut out = Vec::new();
            for id in appointment_ids {
                let found: Option<(i64, String)> = stmt
                    .query_row(params![id, drill], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((arrival, at)) = found {
                    out.push((id.clone(), arrival, parse_ts(&at)?));
                }
            }
            Ok(out)
        })
    }

    /// Appointments moved at this desk (real, or in one drill) from a start in `range`:
    /// each with the earliest start it was moved from, while a reschedule stands.
    pub fn moved_from(
        &self,
        range: crate::calendar::UtcRange,
        drill: i64,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT appointment_id, min(old_start) FROM call_attempt
                 WHERE drill = ?1 AND withdrawn_at IS NULL AND outcome = 'rescheduled'
                   AND old_start IS NOT NULL
                 GROUP BY appointment_id
                 HAVING min(old_start) >= ?2 AND min(old_start) < ?3",
            )?;
            let rows = stmt.query_map(params![drill, ts(range.start), ts(range.end)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at) = row?;
                out.push((id, parse_ts(&at)?));
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
                 FROM call_attempt
                 WHERE drill = ?2 AND appointment_id = ?1 AND withdrawn_at IS NULL ORDER BY id",
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

/// What a person takes back: a call or check-in (with every op it queued), or one waiting
/// op (with the call or check-in it came from, when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Taking {
    Record(Withdrawable),
    Op(String),
}

/// The rows a withdrawal settles: the record (when there is one) and its ops' keys.
struct Taken {
    record: Option<Withdrawable>,
    appointment_id: Option<String>,
    keys: Vec<String>,
}

/// The call or check-in behind an op, and every op that record queued.
fn taken(tx: &rusqlite::Connection, taking: &Taking) -> Result<Taken> {
    let record = match taking {
        Taking::Record(r) => Some(*r),
        Taking::Op(key) => {
            let call: Option<i64> = tx
                .query_row(
                    "SELECT id FROM call_attempt WHERE op_key = ?1 OR change_key = ?1",
                    [key],
                    |r| r.get(0),
                )
                .optional()?;
            let arrival: Option<i64> = tx
                .query_row("SELECT id FROM arrival WHERE op_key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?;
            call.map(Withdrawable::Call)
                .or(arrival.map(Withdrawable::Arrival))
        }
    };
    let Some(record) = record else {
        let Taking::Op(key) = taking else {
            unreachable!("a record was named")
        };
        let target: Option<String> = tx
            .query_row(
                "SELECT target_id FROM outbox WHERE op_key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        return Ok(Taken {
            record: None,
            appointment_id: target,
            keys: vec![key.clone()],
        });
    };
    let (sql, id) = match record {
        Withdrawable::Call(id) => (
            "SELECT appointment_id, op_key, change_key, withdrawn_at IS NOT NULL
             FROM call_attempt WHERE id = ?1",
            id,
        ),
        Withdrawable::Arrival(id) => (
            "SELECT appointment_id, op_key, NULL, withdrawn_at IS NOT NULL
             FROM arrival WHERE id = ?1",
            id,
        ),
    };
    type Row = (String, Option<String>, Option<String>, bool);
    let row: Option<Row> = tx
        .query_row(sql, [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((appointment_id, key, change_key, withdrawn)) = row else {
        return Err(CoreError::InvalidInput(format!(
            "there is no {record:?} to take back"
        )));
    };
    if withdrawn {
        return Err(CallError::AlreadyWithdrawn.into());
    }
    Ok(Taken {
        record: Some(record),
        appointment_id: Some(appointment_id),
        keys: key.into_iter().chain(change_key).collect(),
    })
}

/// Take back a call or check-in and every op it queued, or a single op, in the caller's
/// transaction: all of it or nothing. Refused once any of the ops has left (or is leaving)
/// the desk, or waits for a person's decision. The mirror then shows what is still meant
/// for the server. Returns the appointment it was about.
pub(crate) fn withdraw_in(
    tx: &rusqlite::Connection,
    taking: Taking,
    staff: Option<&str>,
    now: &str,
) -> Result<Option<String>> {
    let taken = taken(tx, &taking)?;
    let mut state = tx.prepare_cached(
        "SELECT state, withdrawn, taken_by IS NOT NULL FROM outbox WHERE op_key = ?1",
    )?;
    for key in &taken.keys {
        let found: Option<(String, bool, bool)> = state
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match found.as_ref().map(|(s, w, t)| (s.as_str(), *w, *t)) {
            Some(("pending", _, true)) => return Err(CallError::TakenOver.into()),
            Some(("pending", _, _)) => {}
            Some(("done", true, _)) => return Err(CallError::AlreadyWithdrawn.into()),
            Some(("done" | "sending", _, _)) => return Err(CallError::AlreadySent.into()),
            Some(_) => return Err(CallError::NeedsDecision.into()),
            None => {
                return Err(CoreError::InvalidInput(
                    "that change is no longer in the outbox".to_owned(),
                ))
            }
        }
    }
    let mut settle = tx.prepare_cached(
        "UPDATE outbox SET state = 'done', withdrawn = 1, resolved_by = ?2, resolved_at = ?3,
             done_at = ?3
         WHERE op_key = ?1 AND state = 'pending'",
    )?;
    for key in &taken.keys {
        settle.execute(params![key, staff, now])?;
    }
    match taken.record {
        Some(Withdrawable::Call(id)) => {
            tx.execute(
                "UPDATE call_attempt SET withdrawn_at = ?2, withdrawn_by = ?3 WHERE id = ?1",
                params![id, now, staff],
            )?;
            // The other desks take it back too.
            let seq: Option<i64> = tx.query_row(
                "SELECT record_seq FROM call_attempt WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            if let Some(seq) = seq {
                let body = RecordBody::CallWithdrawn { seq: seq as u64 };
                super::records::append_in(tx, parse_ts(now)?, &body)?;
            }
        }
        Some(Withdrawable::Arrival(id)) => {
            tx.execute(
                "UPDATE arrival SET withdrawn_at = ?2, withdrawn_by = ?3 WHERE id = ?1",
                params![id, now, staff],
            )?;
            let seq: Option<i64> =
                tx.query_row("SELECT record_seq FROM arrival WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            if let Some(seq) = seq {
                let body = RecordBody::ArrivalWithdrawn { seq: seq as u64 };
                super::records::append_in(tx, parse_ts(now)?, &body)?;
            }
        }
        None => {}
    }
    if let Some(id) = &taken.appointment_id {
        super::mirror::recompute(tx, id)?;
    }
    super::outbox::tell_settled(tx, parse_ts(now)?)?;
    Ok(taken.appointment_id)
}

/// The latest call or check-in at this desk (real, or in one drill) that says something
/// about the visit and still stands.
fn latest_visit(
    tx: &rusqlite::Connection,
    appointment_id: &str,
    drill: i64,
) -> Result<Option<(Visit, Withdrawable, String)>> {
    let call: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT id, outcome, at FROM call_attempt
             WHERE appointment_id = ?1 AND drill = ?2 AND withdrawn_at IS NULL
               AND outcome IN ('cancelled', 'rescheduled', 'coming')
             ORDER BY id DESC LIMIT 1",
            params![appointment_id, drill],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let arrival: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, at FROM arrival
             WHERE appointment_id = ?1 AND drill = ?2 AND withdrawn_at IS NULL
             ORDER BY id DESC LIMIT 1",
            params![appointment_id, drill],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let call = call.and_then(|(id, outcome, at)| {
        let visit = CallOutcome::parse(&outcome).and_then(Visit::of)?;
        Some((visit, Withdrawable::Call(id), at))
    });
    let arrival = arrival.map(|(id, at)| (Visit::Arrived, Withdrawable::Arrival(id), at));
    Ok(match (call, arrival) {
        (Some(c), Some(a)) => Some(if parse_ts(&a.2)? > parse_ts(&c.2)? {
            a
        } else {
            c
        }),
        (c, a) => c.or(a),
    })
}

/// Whether a record's changes all still wait here (so it can be taken back). One that
/// reached the clinic's system is history there: a later call applies on top of it.
fn still_waiting(tx: &rusqlite::Connection, record: Withdrawable) -> Result<bool> {
    let taken = taken(tx, &Taking::Record(record))?;
    let mut state = tx.prepare_cached("SELECT state FROM outbox WHERE op_key = ?1")?;
    for key in &taken.keys {
        let found: Option<String> = state.query_row([key], |r| r.get(0)).optional()?;
        if found.as_deref() != Some("pending") {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Before recording `visit`: the earlier records it contradicts, while they still wait
/// here, are taken back when the person confirmed (`replace`), or the recording is refused
/// naming what it contradicts. (A cancellation already sent is the appointment's status:
/// the caller refuses a visit on it.)
fn settle_contradictions(
    tx: &rusqlite::Connection,
    appointment_id: &str,
    drill: i64,
    visit: Visit,
    replace: bool,
    staff: Option<&str>,
    now: &str,
) -> Result<()> {
    while let Some((earlier, record, _)) = latest_visit(tx, appointment_id, drill)? {
        if !earlier.contradicted_by(visit) || !still_waiting(tx, record)? {
            break;
        }
        if !replace {
            return Err(match earlier {
                Visit::Arrived => CallError::ContradictsArrival,
                _ => CallError::ContradictsCancel,
            }
            .into());
        }
        withdraw_in(tx, Taking::Record(record), staff, now)?;
    }
    Ok(())
}
