//! The call list on the demo clinic's day: who to call, and what recording a call does to
//! the mirror and the outbox.

use chrono::{Duration, TimeZone, Utc};
use tsunagi_core::calls::{ArrivalRecord, CallOutcome, CallRecord};
use tsunagi_core::model::AppointmentStatus;

mod common;

use common::{demo_desk, DemoDesk as Fixture};

/// The demo clinic, pulled at 08:30 in Tokyo on 2026-11-25.
fn fixture() -> Fixture {
    demo_desk(
        Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap(),
        |_| {},
    )
}

fn record(id: &str, outcome: CallOutcome) -> CallRecord {
    CallRecord {
        appointment_id: id.to_owned(),
        outcome,
        new_start: None,
        note: None,
        staff: Some("受付 佐々木".to_owned()),
        replace_earlier: false,
    }
}

impl Fixture {
    fn list(&self) -> tsunagi_core::calls::CallListView {
        self.rt.block_on(self.desk.call_list(false)).unwrap()
    }
    fn call(&self, r: CallRecord) -> tsunagi_core::Result<i64> {
        self.rt.block_on(self.desk.record_call(r))
    }
    fn outbox(&self) -> Vec<tsunagi_core::store::OutboxRow> {
        self.rt.block_on(self.desk.outbox()).unwrap()
    }
}

#[test]
fn the_call_list_is_todays_expected_patients_from_now_in_time_order() {
    let f = fixture();
    let list = f.list();
    assert!(list.total >= 10, "a clinic morning to call: {}", list.total);
    assert_eq!(list.reached, 0);
    let starts: Vec<&str> = list.entries.iter().map(|e| e.start.as_str()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "time order");
    assert!(list.entries.iter().all(|e| matches!(
        e.status,
        AppointmentStatus::Booked | AppointmentStatus::Pending | AppointmentStatus::Proposed
    )));
    assert!(list
        .entries
        .iter()
        .all(|e| e.start.starts_with("2026-11-25")));
    let with_phone = list
        .entries
        .iter()
        .filter(|e| e.patient.as_ref().is_some_and(|p| !p.phones.is_empty()))
        .count();
    assert!(with_phone > 0);
}

#[test]
fn a_cancel_changes_the_mirror_and_queues_the_change_and_the_call_together() {
    let f = fixture();
    let first = f.list().entries[0].clone();
    let version =
        f.rt.block_on(f.desk.today(None))
            .unwrap()
            .appointments
            .into_iter()
            .find(|a| a.id == first.appointment_id)
            .unwrap()
            .version;

    f.call(record(&first.appointment_id, CallOutcome::Cancelled))
        .unwrap();

    let today = f.rt.block_on(f.desk.today(None)).unwrap();
    let now = today
        .appointments
        .iter()
        .find(|a| a.id == first.appointment_id)
        .unwrap();
    assert_eq!(now.status, AppointmentStatus::Cancelled);
    let outbox = f.outbox();
    let kinds: Vec<&str> = outbox.iter().map(|o| o.kind().code()).collect();
    assert_eq!(kinds, ["appointment_cancel", "call_outcome"]);
    assert!(outbox
        .iter()
        .all(|o| o.state.code() == "pending" && o.attempts == 0));
    assert!(
        outbox.iter().all(|o| o.base_version == version),
        "If-Match base"
    );
    assert!(outbox
        .iter()
        .all(|o| uuid::Uuid::parse_str(&o.key).unwrap().get_version_num() == 7));
    assert_ne!(outbox[0].key, outbox[1].key);
    assert_eq!(payload(&outbox[1])["staff"], "受付 佐々木");

    let list = f.list();
    assert_eq!(list.reached, 1, "7/10 連絡済 counts the cancel");
    let entry = list
        .entries
        .iter()
        .find(|e| e.appointment_id == first.appointment_id)
        .expect("a called patient stays on the list with the outcome");
    assert_eq!(entry.attempts[0].outcome, CallOutcome::Cancelled);
}

#[test]
fn attempts_are_history_and_no_answer_reminds_to_call_again() {
    let f = fixture();
    let id = f.list().entries[1].appointment_id.clone();
    f.call(record(&id, CallOutcome::NoAnswer)).unwrap();
    let entry = |f: &Fixture| {
        f.list()
            .entries
            .into_iter()
            .find(|e| e.appointment_id == id)
            .unwrap()
    };
    assert!(!entry(&f).retry_due, "not yet");
    f.clock.advance(Duration::minutes(31));
    let e = entry(&f);
    assert!(e.retry_due, "30 minutes later: call again");
    assert!(!e.reached);

    let mut coming = record(&id, CallOutcome::Coming);
    coming.note = Some("  10分ほど遅れるとのこと  ".to_owned());
    f.call(coming).unwrap();
    let e = entry(&f);
    let outcomes: Vec<CallOutcome> = e.attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [CallOutcome::NoAnswer, CallOutcome::Coming]);
    assert_eq!(
        e.attempts[1].note.as_deref(),
        Some("10分ほど遅れるとのこと")
    );
    assert!(e.reached && !e.retry_due);
    // Neither changes the appointment: only the calls are queued.
    let kinds: Vec<String> = f
        .outbox()
        .into_iter()
        .map(|o| o.kind().code().to_owned())
        .collect();
    assert_eq!(kinds, ["call_outcome", "call_outcome"]);
}

#[test]
fn a_reschedule_moves_the_slot_and_keeps_its_length() {
    let f = fixture();
    let first = f.list().entries[0].clone();
    let before =
        f.rt.block_on(f.desk.today(None))
            .unwrap()
            .appointments
            .into_iter()
            .find(|a| a.id == first.appointment_id)
            .unwrap();

    let mut missing = record(&first.appointment_id, CallOutcome::Rescheduled);
    let err = f.call(missing.clone()).unwrap_err();
    assert_eq!(err.code(), "input.invalid");
    missing.new_start = Some("来週".to_owned());
    assert_eq!(
        f.call(missing).unwrap_err().code(),
        "call.reschedule_unreadable"
    );
    assert!(f.outbox().is_empty(), "nothing written by a refused call");

    let mut moved = record(&first.appointment_id, CallOutcome::Rescheduled);
    moved.new_start = Some("2026-11-26 14:30".to_owned());
    f.call(moved).unwrap();
    let next_day =
        f.rt.block_on(
            f.desk
                .today(Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap())),
        )
        .unwrap();
    let after = next_day
        .appointments
        .iter()
        .find(|a| a.id == first.appointment_id)
        .expect("moved to the 26th");
    assert_eq!(after.start_time.as_deref(), Some("14:30"));
    let length = |a: &tsunagi_core::view::AppointmentView| {
        let s = chrono::DateTime::parse_from_rfc3339(a.start.as_deref()?).ok()?;
        let e = chrono::DateTime::parse_from_rfc3339(a.end.as_deref()?).ok()?;
        Some(e - s)
    };
    assert_eq!(length(after), length(&before));
    let outbox = f.outbox();
    assert_eq!(outbox[0].kind().code(), "appointment_reschedule");
    assert_eq!(payload(&outbox[0])["start"], "2026-11-26T05:30:00Z");
}

#[test]
fn a_call_on_an_unknown_appointment_is_refused_and_writes_nothing() {
    let f = fixture();
    let err = f
        .call(record("no-such-id", CallOutcome::Coming))
        .unwrap_err();
    assert_eq!(err.code(), "input.invalid");
    assert!(f.outbox().is_empty());
    let mut long = record(&f.list().entries[0].appointment_id, CallOutcome::Coming);
    long.staff = Some("あ".repeat(41));
    assert_eq!(f.call(long).unwrap_err().code(), "input.invalid");
    assert!(f.outbox().is_empty());
}

#[test]
fn the_outage_checklist_is_ticked_with_time_and_staff_and_a_drill_has_its_own() {
    let f = fixture();
    let list = f.rt.block_on(f.desk.checklist()).unwrap();
    assert_eq!(list.items.len(), 5, "the built-in steps");
    assert!(
        list.items[0].text.contains("予備回線"),
        "Japanese by default"
    );
    assert_eq!(list.done, 0);

    let ticked =
        f.rt.block_on(f.desk.tick(1, true, Some("受付 佐々木")))
            .unwrap();
    assert_eq!(ticked.done, 1);
    assert_eq!(ticked.items[1].at_label.as_deref(), Some("08:30"));
    assert_eq!(ticked.items[1].staff.as_deref(), Some("受付 佐々木"));
    f.clock.advance(Duration::minutes(5));
    let unticked = f.rt.block_on(f.desk.tick(1, false, None)).unwrap();
    assert_eq!(unticked.done, 0, "the latest tick decides");
    assert_eq!(
        f.rt.block_on(f.desk.tick(9, true, None))
            .unwrap_err()
            .code(),
        "input.invalid"
    );

    f.rt.block_on(f.desk.start_drill(None)).unwrap();
    let drill = f.rt.block_on(f.desk.tick(0, true, None)).unwrap();
    assert!(drill.drill > 0);
    assert_eq!(drill.done, 1);
    f.rt.block_on(f.desk.end_drill()).unwrap();
    let real = f.rt.block_on(f.desk.checklist()).unwrap();
    assert_eq!(real.done, 0, "the drill's ticks stay with the drill");
}

#[test]
fn a_patient_checked_in_at_the_desk_is_arrived_in_the_mirror_and_queued_once() {
    let f = fixture();
    let id = f.list().entries[0].appointment_id.clone();
    let before = f.outbox().len();
    f.rt.block_on(
        f.desk
            .record_arrival(ArrivalRecord::new(&id, Some("受付 佐々木"))),
    )
    .unwrap();

    let today = f.rt.block_on(f.desk.today(None)).unwrap();
    let appt = today.appointments.iter().find(|a| a.id == id).unwrap();
    assert_eq!(appt.status, AppointmentStatus::Arrived);
    let outbox = f.outbox();
    assert_eq!(outbox.len(), before + 1);
    let op = outbox.last().unwrap();
    assert_eq!(op.kind().code(), "appointment_arrival");
    assert_eq!(op.target_id(), id.as_str());
    assert_eq!(payload(op)["status"], "arrived");

    let entry = f
        .list()
        .entries
        .into_iter()
        .find(|e| e.appointment_id == id)
        .expect("stays on the list with its check-in");
    assert!(entry.reached);
    assert_eq!(entry.arrived_at_label.as_deref(), Some("08:30"));

    let again =
        f.rt.block_on(f.desk.record_arrival(ArrivalRecord::new(&id, None)))
            .unwrap_err();
    assert!(again.to_string().contains("already checked in"), "{again}");
    assert_eq!(f.outbox().len(), before + 1, "queued once");

    // In a drill the check-in is practice: the mirror and the outbox stay as they were.
    let other = f.list().entries[1].appointment_id.clone();
    f.rt.block_on(f.desk.start_drill(None)).unwrap();
    f.rt.block_on(f.desk.record_arrival(ArrivalRecord::new(&other, None)))
        .unwrap();
    let drilled = f
        .list()
        .entries
        .into_iter()
        .find(|e| e.appointment_id == other)
        .unwrap();
    assert!(drilled.arrived_at_label.is_some());
    f.rt.block_on(f.desk.end_drill()).unwrap();
    let today = f.rt.block_on(f.desk.today(None)).unwrap();
    let appt = today.appointments.iter().find(|a| a.id == other).unwrap();
    assert_ne!(appt.status, AppointmentStatus::Arrived);
    assert_eq!(f.outbox().len(), before + 1);
    let after = f
        .list()
        .entries
        .into_iter()
        .find(|e| e.appointment_id == other)
        .unwrap();
    assert_eq!(
        after.arrived_at_label, None,
        "the drill's check-in is archived"
    );
}

/// An op's stored payload, as JSON (what the store wrote).
fn payload(op: &tsunagi_core::store::OutboxRow) -> serde_json::Value {
    serde_json::from_str(&op.change.payload()).unwrap()
}

/// Issue 20, item 6: after the day's last appointment the list did not say "nobody to call"
/// and stop there: it shows tomorrow morning's calls by itself, and says so.
#[test]
fn issue_20_after_hours_the_call_list_shows_tomorrow_morning_by_itself() {
    // 21:00 in Tokyo: the demo clinic's day is over.
    let f = demo_desk(
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
        |_| {},
    );
    let list = f.list();
    assert!(list.day_over, "the list says the day is over");
    assert!(!list.entries.is_empty(), "tomorrow morning's calls");
    assert!(
        list.entries
            .iter()
            .all(|e| e.start.starts_with("2026-11-26T0") || e.start.starts_with("2026-11-26T1")),
        "{:?}",
        list.entries.iter().map(|e| &e.start).collect::<Vec<_>>()
    );
    // During the day the list is the day's own.
    assert!(!fixture().list().day_over);
}
