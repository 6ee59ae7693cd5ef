//! The desk's call list: who to phone from now to the horizon, and recording each call.

use chrono::{Duration, NaiveDateTime, Utc};

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::calls::{
    clean_text, default_script, fill_script, ArrivalRecord, Attempt, CallAttemptView, CallError,
    CallListEntry, CallListView, CallOutcome, CallRecord, Withdrawable,
};
use crate::error::{CoreError, Result};
use crate::model::AppointmentStatus;
use crate::store::{ArrivalInsert, CallInsert, OutboxRow};
use crate::view::AppointmentView;

/// After no answer, the call list reminds staff to try again after this long.
const RETRY_AFTER_MINUTES: i64 = 30;
const NOTE_MAX: usize = 500;
/// A new date for a visit is at most this far ahead (a typo such as the year 11030 is not).
const RESCHEDULE_MAX_DAYS: i64 = 366;

/// Statuses of a visit that is still expected (and so worth a call).
fn expected(status: AppointmentStatus) -> bool {
    matches!(
        status,
        AppointmentStatus::Booked | AppointmentStatus::Pending | AppointmentStatus::Proposed
    )
}

/// How the call list words its entries: times at the clinic, the script filled in.
struct CallWords<'a> {
    template: String,
    clinic: String,
    date_format: &'static str,
    cal: &'a crate::calendar::ClinicCalendar,
    today: chrono::NaiveDate,
    now: chrono::DateTime<Utc>,
}

impl CallWords<'_> {
    /// `HH:MM` today; with the date (`12/1 10:30`) on another day or when asked.
    fn label(&self, t: chrono::DateTime<Utc>, with_date: bool) -> String {
        let local = self.cal.local(t);
        if with_date || local.date_naive() != self.today {
            self.cal.day_and_time(t)
        } else {
            local.format("%H:%M").to_string()
        }
    }

    fn clock(&self, t: chrono::DateTime<Utc>) -> String {
        self.cal.local(t).format("%H:%M").to_string()
    }

    fn entry(
        &self,
        row: crate::store::StoredAppointment,
        mine: &[&Attempt],
        elsewhere: &[&crate::store::PeerCall],
        arrived_elsewhere: Option<&crate::store::PeerArrival>,
        arrival: Option<(i64, chrono::DateTime<Utc>)>,
        moved_from: Option<chrono::DateTime<Utc>>,
    ) -> CallListEntry {
        let arrived_at = arrival.map(|(_, at)| at);
        let id = row.appointment.source_id.clone();
        let start = row.appointment.start.unwrap_or(self.now);
        let slot = moved_from.unwrap_or(start);
        let news = row.news;
        let view = AppointmentView::new(row, self.cal);
        let local_start = self.cal.local(start);
        let script = fill_script(
            &self.template,
            &self.clinic,
            view.patient.as_ref().map_or("", |p| p.name.as_str()),
            &local_start.format(self.date_format).to_string(),
            &local_start.format("%H:%M").to_string(),
        );
        let last = mine.last();
        CallListEntry {
            appointment_id: id,
            time_label: self.label(slot, false),
            slot: crate::monitor::millis_ts(slot),
            moved_to_label: moved_from.map(|_| self.label(start, true)),
            start_local: self.cal.local(start).format("%Y-%m-%dT%H:%M").to_string(),
            start: view.start.clone().unwrap_or_default(),
            reason: view.reason,
            status: view.status,
            patient: view.patient,
            // Reached at another desk counts: nobody calls the patient twice.
            reached: arrived_at.is_some()
                || arrived_elsewhere.is_some()
                || mine.iter().any(|a| a.outcome.reached())
                || elsewhere.iter().any(|c| c.outcome.reached()),
            arrived_at_label: arrived_at.map(|t| self.clock(t)),
            arrival_id: arrival.map(|(id, _)| id),
            other_day: local_start.date_naive() != self.today,
            script,
            retry_due: last.is_some_and(|a| {
                a.outcome == CallOutcome::NoAnswer && a.retry_at.is_some_and(|r| r <= self.now)
            }),
            attempts: mine.iter().map(|a| self.attempt(a)).collect(),
            news,
            elsewhere: elsewhere
                .iter()
                .map(|c| crate::calls::ElsewhereCallView {
                    desk: c.desk_name.clone(),
                    outcome: c.outcome,
                    at_label: self.clock(c.at),
                    new_start_label: c.new_start.map(|t| self.label(t, true)),
                    staff: c.staff.clone(),
                })
                .collect(),
            arrived_elsewhere: arrived_elsewhere.map(|a| crate::calls::ElsewhereArrivalView {
                desk: a.desk_name.clone(),
                at_label: self.clock(a.at),
                staff: a.staff.clone(),
            }),
            claimed: None,
        }
    }

    fn attempt(&self, a: &Attempt) -> CallAttemptView {
        CallAttemptView {
            id: a.id,
            outcome: a.outcome,
            at_label: self.clock(a.at),
            at: crate::monitor::millis_ts(a.at),
            new_start_label: a.new_start.map(|t| self.label(t, true)),
            retry_at_label: a.retry_at.map(|t| self.clock(t)),
            staff: a.staff.clone(),
            note: a.note.clone(),
        }
    }
}

impl Desk {
    /// The booked patients from now to the end of the clinic day (and the next day's
    /// morning when `tomorrow_morning`), in time order, with every attempt so far.
    /// Patients already called stay on the list (with their outcome) until the end.
    ///
    /// When nothing is left to call today (after the day's last appointment), tomorrow
    /// morning's calls are shown by themselves, and the view says so (`day_over`).
    pub async fn call_list(&self, tomorrow_morning: bool) -> Result<CallListView> {
        let mut view = self.call_list_until(tomorrow_morning).await?;
        if !tomorrow_morning && view.entries.is_empty() {
            view = self.call_list_until(true).await?;
            view.day_over = true;
        }
        self.audit(
            Actor::Person(None),
            AuditAction::CallListView,
            view.entries
                .iter()
                .map(|e| format!("appointment:{}", e.appointment_id))
                .collect(),
            serde_json::json!({ "tomorrow_morning": tomorrow_morning || view.day_over }),
        )
        .await;
        Ok(view)
    }

    /// The list up to the end of today, or of tomorrow morning (not audited: the caller
    /// audits what it shows).
    async fn call_list_until(&self, tomorrow_morning: bool) -> Result<CallListView> {
        let config = self.config();
        let cal = config.calendar();
        let now = self.clock.now();
        let today = cal.today(now);
        let until = if tomorrow_morning {
            let noon = chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default();
            cal.at(today.succ_opt().unwrap_or(today), noon)
        } else {
            cal.days(today, 1).end
        };
        let store = self.store.clone();
        let range = crate::calendar::UtcRange {
            start: now - Duration::minutes(30),
            end: until,
        };
        let (rows, attempts, arrivals, moved, (elsewhere, arrived_elsewhere, claims)) =
            blocking(move || {
                let drill = store.active_drill(now)?;
                // A visit moved elsewhere keeps its row at the time it was moved from.
                let moved = store.moved_from(range, drill)?;
                let also: Vec<String> = moved.iter().map(|(id, _)| id.clone()).collect();
                let rows = store.appointments_in_or(range, &also)?;
                let ids: Vec<String> = rows
                    .iter()
                    .map(|r| r.appointment.source_id.clone())
                    .collect();
                let attempts = store.attempts_for(&ids, drill)?;
                let arrivals = store.arrivals_for(&ids, drill)?;
                // A drill is this desk's practice: the other desks' real calls stay out of it.
                let elsewhere = if drill == 0 {
                    (
                        store.peer_calls_for(&ids)?,
                        store.peer_arrivals_for(&ids)?,
                        store.peer_claims_for(&ids, now)?,
                    )
                } else {
                    (Vec::new(), Vec::new(), Vec::new())
                };
                Ok((rows, attempts, arrivals, moved, elsewhere))
            })
            .await?;
        let words = CallWords {
            template: config
                .call_script
                .clone()
                .unwrap_or_else(|| default_script(config.language).to_owned()),
            clinic: config.shown_clinic_name().unwrap_or_default(),
            date_format: match config.language {
                crate::config::Language::Ja => "%-m月%-d日",
                crate::config::Language::En => "%b %-d",
            },
            cal: &cal,
            today,
            now,
        };
        let mut entries = Vec::new();
        for row in rows {
            let id = row.appointment.source_id.clone();
            let mine: Vec<&Attempt> = attempts.iter().filter(|a| a.appointment_id == id).collect();
            let arrival = arrivals
                .iter()
                .find(|(a, _, _)| *a == id)
                .map(|(_, arrival, at)| (*arrival, *at));
            // Not expected (already here, cancelled upstream) and never touched at this desk:
            // not a call. Those called or checked in here stay, with what happened.
            let theirs: Vec<&crate::store::PeerCall> = elsewhere
                .iter()
                .filter(|c| c.appointment_id == id)
                .collect();
            let arrived_there = arrived_elsewhere.iter().find(|a| a.appointment_id == id);
            if !expected(row.appointment.status)
                && mine.is_empty()
                && theirs.is_empty()
                && arrived_there.is_none()
                && arrival.is_none()
            {
                continue;
            }
            let moved_from = moved.iter().find(|(m, _)| *m == id).map(|(_, at)| *at);
            let mut entry = words.entry(row, &mine, &theirs, arrived_there, arrival, moved_from);
            entry.claimed =
                claims
                    .iter()
                    .find(|c| c.appointment_id == id)
                    .map(|c| crate::calls::ClaimView {
                        desk: c.desk_name.clone(),
                        staff: c.staff.clone(),
                    });
            entries.push(entry);
        }
        // In the order of the slots as the day was booked (a moved visit at its old slot);
        // those booked or changed upstream during the outage and not reached yet first:
        // they booked a morning that may not happen (issue 17).
        entries.sort_by(|a, b| {
            let later = |e: &CallListEntry| e.news.is_none() || e.reached;
            (later(a), &a.slot).cmp(&(later(b), &b.slot))
        });
        Ok(CallListView {
            reached: entries.iter().filter(|e| e.reached).count() as u32,
            total: entries.len() as u32,
            entries,
            until: crate::monitor::millis_ts(until),
            day_over: false,
        })
    }

    /// Record one call. A cancel or reschedule changes the mirror and queues the change for
    /// the upstream; every call is queued as well (a Communication upstream). One
    /// transaction: the screen never shows a change the upstream will not get. An outcome
    /// that contradicts a cancellation or check-in recorded here is refused unless the
    /// person confirmed (`replace_earlier`): then that one is taken back first.
    pub async fn record_call(&self, record: CallRecord) -> Result<i64> {
        let now = self.clock.now();
        let new_start = match (record.outcome, record.new_start.as_deref()) {
            (CallOutcome::Rescheduled, Some(text)) => Some(self.new_start(text, now)?),
            (CallOutcome::Rescheduled, None) => {
                return Err(CoreError::InvalidInput(
                    "a reschedule needs the new date and time".to_owned(),
                ))
            }
            (_, Some(_)) => {
                return Err(CoreError::InvalidInput(
                    "a new date and time belongs only to a reschedule".to_owned(),
                ))
            }
            (_, None) => None,
        };
        let insert = CallInsert {
            appointment_id: record.appointment_id.trim().to_owned(),
            outcome: record.outcome,
            new_start,
            retry_at: (record.outcome == CallOutcome::NoAnswer)
                .then(|| now + Duration::minutes(RETRY_AFTER_MINUTES)),
            staff: self.staff_for(record.staff.as_deref())?,
            note: clean_text("the note", record.note.as_deref(), NOTE_MAX)?,
            at: now,
            call_key: self.op_key(),
            change_key: self.op_key(),
            replace_earlier: record.replace_earlier,
        };
        let audit = self.audit_entry(
            Actor::Person(insert.staff.as_deref()),
            AuditAction::CallRecord,
            vec![format!("appointment:{}", insert.appointment_id)],
            serde_json::json!({
                "outcome": insert.outcome.code(),
                "replaced_earlier": insert.replace_earlier,
            }),
        );
        let store = self.store.clone();
        blocking(move || store.record_call(&insert, &audit)).await
    }

    /// A reschedule's new start, typed on the clinic's clock: readable, not in the past and
    /// not more than a year ahead.
    fn new_start(&self, text: &str, now: chrono::DateTime<Utc>) -> Result<chrono::DateTime<Utc>> {
        let cal = self.config().calendar();
        let unreadable = || CallError::RescheduleUnreadable(text.to_owned());
        let local = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M"))
            .map_err(|_| unreadable())?;
        let start = cal.at(local.date(), local.time());
        if start < now {
            return Err(CallError::ReschedulePast.into());
        }
        if start > now + Duration::days(RESCHEDULE_MAX_DAYS) {
            return Err(CallError::RescheduleTooFar.into());
        }
        Ok(start)
    }

    /// Check a patient in at the desk (受付) while the clinic's system is unreachable. An
    /// appointment on another day is checked in only when the person confirmed.
    pub async fn record_arrival(&self, record: ArrivalRecord) -> Result<i64> {
        let id = record.appointment_id.trim().to_owned();
        let staff = self.staff_for(record.staff.as_deref())?;
        let cal = self.config().calendar();
        let now = self.clock.now();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::ArrivalRecord,
            vec![format!("appointment:{id}")],
            serde_json::json!({
                "other_day": record.other_day_ok,
                "replaced_earlier": record.replace_earlier,
            }),
        );
        let insert = ArrivalInsert {
            appointment_id: id,
            staff,
            at: now,
            key: self.op_key(),
            today: cal.days(cal.today(now), 1),
            other_day_ok: record.other_day_ok,
            replace_earlier: record.replace_earlier,
        };
        let store = self.store.clone();
        blocking(move || store.record_arrival(&insert, &audit)).await
    }

    /// Take back a call's outcome or a check-in (元に戻す) with every change it queued,
    /// while none of them has been sent. Audited.
    pub async fn withdraw(&self, record: Withdrawable, staff: Option<&str>) -> Result<()> {
        let staff = self.staff_for(staff)?;
        let name = match record {
            Withdrawable::Call(id) => format!("call:{id}"),
            Withdrawable::Arrival(id) => format!("arrival:{id}"),
        };
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::RecordWithdraw,
            vec![name],
            serde_json::json!({}),
        );
        let (store, now) = (self.store.clone(), self.clock.now());
        blocking(move || store.withdraw(record, staff.as_deref(), now, &audit)).await?;
        Ok(())
    }

    /// A call to this patient is being made here now (the phone number or the call script
    /// was opened): the other desks show 「受付1で通話中」 for a few minutes, or until the
    /// call's outcome is recorded.
    pub async fn claim_call(&self, appointment_id: &str, staff: Option<&str>) -> Result<()> {
        let staff = self.staff_for(staff)?;
        let (store, now, id) = (
            self.store.clone(),
            self.clock.now(),
            appointment_id.to_owned(),
        );
        blocking(move || store.claim_call(&id, staff.as_deref(), now)).await?;
        Ok(())
    }

    /// Everything queued for the upstream, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>> {
        let store = self.store.clone();
        blocking(move || store.outbox()).await
    }

    /// A UUIDv7 on the desk's clock: sortable by time, unique across desks.
    pub(super) fn op_key(&self) -> String {
        let now = self.clock.now();
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.timestamp().max(0) as u64,
            now.timestamp_subsec_nanos(),
        );
        uuid::Uuid::new_v7(ts).to_string()
    }
}
