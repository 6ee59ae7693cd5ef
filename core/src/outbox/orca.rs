//! Sending the desk's changes to ORCA (issue 19): a cancellation through
//! `/orca14/appointmodv2` class 02, a reschedule as a new booking (class 01) and then the
//! old one cancelled (class 02): ORCA has no update, and in this order a failure between
//! the two never leaves the patient without an appointment. ORCA keeps no call outcomes, receipts or check-ins from outside: those are
//! kept on the desk (`Delivery::KeptHere`), in the reconciliation view and its CSV, and
//! never called sent.
//!
//! Exactly once: before anything is sent the patient's appointments are read back
//! (`/api01rv2/appointlst2v2`). A new booking carries the op's key in its note (予約メモ),
//! so one whose answer was lost is recognised there; a cancellation whose answer was lost
//! is recognised by the appointment being gone after an attempt that may have reached ORCA.

use chrono::NaiveDate;

use super::change::ServerAppointment;
use super::sender::Attempt;
use crate::calendar::ClinicCalendar;
use crate::error::ErrorCode;
use crate::model::AppointmentStatus;
use crate::outbox::change::Change;
use crate::source::orca::{appointment_parts, appointment_source_id, results, Booked, OrcaSource};
use crate::store::{Delivery, OutboxRow};

/// The note a booking made by Tsunagi carries: how its own change is recognised.
pub fn booking_note(key: &str) -> String {
    format!("Tsunagi {key}")
}

fn kept_here(what: &str) -> Attempt {
    Attempt::settled(Delivery::KeptHere {
        code: ErrorCode::OutboxNoPlace,
        text: format!("ORCA has no place for {what}; it is kept in this list and its CSV"),
    })
}

/// An answer code that stops the round (another terminal holds the patient, ORCA's own
/// setup) or parks the op for a person.
fn refused(code: &str, message: &str) -> Attempt {
    let words = results::words(results::BOOKING, code);
    let text = format!("ORCA answered {code}: {words} ({message})");
    match code {
        // 他端末使用中, ORCA's setup, the user: waiting (or the settings) fixes it, not a
        // decision about this change.
        "90" | "89" => Attempt::settled(Delivery::Failed {
            code: ErrorCode::SourceOrcaResult,
            status: None,
            retryable: true,
            text,
        }),
        "99" => Attempt::settled(Delivery::Failed {
            code: ErrorCode::SourceAuth,
            status: None,
            retryable: false,
            text,
        }),
        _ => Attempt::settled(Delivery::Rejected {
            code: ErrorCode::OutboxRejected,
            status: 0,
            text,
        }),
    }
}

fn conflict(state: ServerAppointment) -> Attempt {
    Attempt::settled(Delivery::Conflict {
        server_version: None,
        server_state: state,
        code: None,
    })
}

/// Deliver one op to ORCA.
pub async fn deliver(orca: &OrcaSource, op: &OutboxRow, calendar: &ClinicCalendar) -> Attempt {
    match &op.change {
        Change::AppointmentCancel(c) => cancel(orca, op, &c.appointment_id, calendar).await,
        Change::AppointmentReschedule(r) => {
            reschedule(orca, op, &r.appointment_id, r.start, calendar).await
        }
        Change::AppointmentArrival(_) => kept_here("a check-in made at the desk"),
        Change::CallOutcome(_) => kept_here("a call's outcome"),
        Change::Receipt(_) | Change::ReceiptVoid(_) => kept_here("a receipt"),
        Change::BookingPause(_) | Change::BookingResume(_) => {
            kept_here("web booking's slots (stop and reopen it by hand)")
        }
    }
}

/// Where the appointment is in ORCA, as the mirror named it.
struct Target {
    patient: String,
    date: NaiveDate,
    id: String,
}

fn target(appointment_id: &str) -> Result<Target, Attempt> {
    match appointment_parts(appointment_id) {
        Some((patient, date, Some(id))) => Ok(Target { patient, date, id }),
        _ => Err(Attempt::settled(Delivery::Rejected {
            code: ErrorCode::OutboxRejected,
            status: 0,
            text: "this ORCA gives its appointments no number (予約ID), so Tsunagi cannot \
                   change one: change it in ORCA by hand"
                .to_owned(),
        })),
    }
}

/// A previous attempt (or the desk the op was taken from) may have reached ORCA.
fn may_have_landed(op: &OutboxRow) -> bool {
    op.attempts > 1 || op.taken_from.is_some()
}

fn read_failed(e: crate::source::SourceError) -> Attempt {
    match e {
        crate::source::SourceError::OrcaResult {
            code, orca_message, ..
        } => refused(&code, &orca_message),
        e => Attempt::transport(e),
    }
}

/// The appointment as ORCA holds it, for a conflict.
fn server_state(booked: &Booked, calendar: &ClinicCalendar) -> ServerAppointment {
    let start = calendar.at(booked.date, booked.time);
    ServerAppointment {
        deleted: false,
        status: Some(AppointmentStatus::Booked),
        start: Some(start),
        end: Some(start + chrono::Duration::minutes(15)),
    }
}

/// The appointment is still where the desk's change was made on (its time), else someone
/// moved it in ORCA meanwhile.
fn moved(op: &OutboxRow, booked: &Booked, calendar: &ClinicCalendar) -> bool {
    let base = op.base_state.as_ref().and_then(|b| b.start);
    base.is_some_and(|start| start != calendar.at(booked.date, booked.time))
}

async fn send_cancel(orca: &OrcaSource, t: &Target, booked: &Booked) -> Result<(), Attempt> {
    let date = t.date.format("%Y-%m-%d").to_string();
    let time = booked.time.format("%H:%M:%S").to_string();
    let answer = orca
        .appointment(
            "02",
            &[
                ("Patient_ID", &t.patient),
                ("Appointment_Date", &date),
                ("Appointment_Time", &time),
                ("Appointment_Id", &t.id),
                ("Physician_Code", &booked.physician),
            ],
        )
        .await
        .map_err(Attempt::transport)?;
    if answer.succeeded() {
        Ok(())
    } else {
        Err(refused(&answer.code, &answer.message))
    }
}

async fn cancel(
    orca: &OrcaSource,
    op: &OutboxRow,
    appointment_id: &str,
    calendar: &ClinicCalendar,
) -> Attempt {
    let t = match target(appointment_id) {
        Ok(t) => t,
        Err(a) => return a,
    };
    let booked = match orca.patient_appointments(&t.patient, t.date).await {
        Ok(rows) => rows.into_iter().find(|b| b.id == t.id && b.date == t.date),
        Err(e) => return read_failed(e),
    };
    let done = || Attempt::done(format!("orca:{appointment_id}:cancelled"), None);
    let Some(booked) = booked else {
        // Gone. After an attempt that may have reached ORCA: that was this cancellation.
        return if may_have_landed(op) {
            done()
        } else {
            conflict(ServerAppointment::gone())
        };
    };
    if moved(op, &booked, calendar) {
        return conflict(server_state(&booked, calendar));
    }
    match send_cancel(orca, &t, &booked).await {
        Ok(()) => done(),
        Err(a) => a,
    }
}

async fn reschedule(
    orca: &OrcaSource,
    op: &OutboxRow,
    appointment_id: &str,
    start: chrono::DateTime<chrono::Utc>,
    calendar: &ClinicCalendar,
) -> Attempt {
    let t = match target(appointment_id) {
        Ok(t) => t,
        Err(a) => return a,
    };
    let new_local = calendar.local(start);
    let (new_date, new_time) = (new_local.date_naive(), new_local.time());
    let from = t.date.min(new_date);
    let rows = match orca.patient_appointments(&t.patient, from).await {
        Ok(rows) => rows,
        Err(e) => return read_failed(e),
    };
    let note = booking_note(&op.key);
    let old = rows
        .iter()
        .find(|b| b.id == t.id && b.date == t.date)
        .cloned();
    let mine = rows.iter().find(|b| b.note.contains(&note)).cloned();
    let done = |new: &Booked| {
        Attempt::done(
            format!(
                "orca:{}",
                appointment_source_id(&t.patient, new.date, &new.id)
            ),
            None,
        )
    };
    if let Some(new) = mine {
        // Booked by an earlier attempt whose answer was lost: only the old one may be left.
        if let Some(old) = old.filter(|o| o.id != new.id || o.date != new.date) {
            if let Err(a) = send_cancel(orca, &t, &old).await {
                return a;
            }
        }
        return done(&new);
    }
    let Some(old) = old else {
        // Neither the old one nor a new one of ours: someone else removed it in ORCA.
        return conflict(ServerAppointment::gone());
    };
    if moved(op, &old, calendar) {
        return conflict(server_state(&old, calendar));
    }
    // The new one first, then the old one cancelled (ORCA has no update): whatever fails
    // between the two, the patient is never left without an appointment, and the next
    // attempt finds the new one by its note and only cancels the old.
    let date = new_date.format("%Y-%m-%d").to_string();
    let time = new_time.format("%H:%M:%S").to_string();
    let answer = orca
        .appointment(
            "01",
            &[
                ("Patient_ID", &t.patient),
                ("Appointment_Date", &date),
                ("Appointment_Time", &time),
                ("Department_Code", &old.department),
                ("Physician_Code", &old.physician),
                ("Medical_Information", &old.medical),
                ("Appointment_Note", &note),
            ],
        )
        .await;
    let new = match answer {
        Ok(a) if a.succeeded() => Booked {
            id: a.id,
            date: new_date,
            time: new_time,
            ..old.clone()
        },
        Ok(a) => return refused(&a.code, &a.message),
        Err(e) => return Attempt::transport(e),
    };
    match send_cancel(orca, &t, &old).await {
        Ok(()) => done(&new),
        Err(a) => a,
    }
}
