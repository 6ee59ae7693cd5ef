//! Issue 20, items 1, 3 and 9: a receptionist's mis-click can be taken back, a later call
//! never leaves the row saying one thing while the queue sends another, and a new time or
//! a check-in that cannot be right is refused (or asked about) by the core itself.

use chrono::{Duration, TimeZone, Utc};
use tsunagi_core::calls::{ArrivalRecord, CallOutcome, CallRecord, Withdrawable};
use tsunagi_core::clock::Clock;
use tsunagi_core::model::AppointmentStatus;
use tsunagi_core::outbox::{OpAction, OpState, Resolution};

mod common;

use common::{demo_desk, DemoDesk as Fixture};

/// The demo clinic at 08:30 in Tokyo on 2026-11-25.
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
    fn first(&self) -> String {
        self.entry_at(0)
    }
    fn entry_at(&self, n: usize) -> String {
        let list = self.rt.block_on(self.desk.call_list(false)).unwrap();
        list.entries[n].appointment_id.clone()
    }
    fn entry(&self, id: &str) -> tsunagi_core::calls::CallListEntry {
        self.rt
            .block_on(self.desk.call_list(true))
            .unwrap()
            .entries
            .into_iter()
            .find(|e| e.appointment_id == id)
            .expect("on the call list")
    }
    fn status(&self, id: &str) -> AppointmentStatus {
        self.entry(id).status
    }
    fn call(&self, r: CallRecord) -> tsunagi_core::Result<i64> {
        self.rt.block_on(self.desk.record_call(r))
    }
    fn outbox(&self) -> Vec<tsunagi_core::store::OutboxRow> {
        self.rt.block_on(self.desk.outbox()).unwrap()
    }
    /// What is still meant for the upstream.
    fn live(&self) -> Vec<String> {
        self.outbox()
            .into_iter()
            .filter(|o| o.state != OpState::Done)
            .map(|o| o.kind().code().to_owned())
            .collect()
    }
    fn withdraw(&self, record: Withdrawable) -> tsunagi_core::Result<()> {
        self.rt
            .block_on(self.desk.withdraw(record, Some("受付 佐々木")))
    }
    /// The audit trail's actions, as its export writes them.
    fn audit_actions(&self) -> Vec<String> {
        let path = self.rt.block_on(self.desk.export_audit(None)).unwrap();
        let mut r = csv::Reader::from_path(&path).unwrap();
        r.records().map(|row| row.unwrap()[4].to_owned()).collect()
    }
}

#[test]
fn issue_20_a_mis_clicked_cancel_is_taken_back_with_its_queued_change() {
    let f = fixture();
    let id = f.first();
    let attempt = f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    assert_eq!(f.status(&id), AppointmentStatus::Cancelled);
    assert_eq!(f.live(), ["appointment_cancel", "call_outcome"]);

    f.withdraw(Withdrawable::Call(attempt)).unwrap();

    assert_eq!(
        f.status(&id),
        AppointmentStatus::Booked,
        "the row is as before"
    );
    assert!(
        f.live().is_empty(),
        "nothing is left to send: {:?}",
        f.live()
    );
    assert!(f
        .outbox()
        .iter()
        .all(|o| o.resolution == Some(Resolution::Withdrawn)));
    let entry = f.entry(&id);
    assert!(entry.attempts.is_empty(), "the mis-click is not on the row");
    assert!(!entry.reached);
    assert!(f.audit_actions().contains(&"record.withdraw".to_owned()));
    let again = f.withdraw(Withdrawable::Call(attempt)).unwrap_err();
    assert_eq!(again.code(), "call.already_withdrawn");
}

/// Before: 来院予定 after キャンセル showed 来院予定 on the row while the appointment stayed
/// cancelled and the cancellation was still sent when the line returned.
#[test]
fn issue_20_coming_after_a_cancel_asks_and_never_leaves_row_and_queue_apart() {
    let f = fixture();
    let id = f.first();
    f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    let before = f.outbox().len();

    let asked = f.call(record(&id, CallOutcome::Coming)).unwrap_err();
    assert_eq!(asked.code(), "call.contradicts_cancel");
    assert_eq!(
        f.outbox().len(),
        before,
        "nothing written before she confirms"
    );
    assert_eq!(f.status(&id), AppointmentStatus::Cancelled);

    let mut confirmed = record(&id, CallOutcome::Coming);
    confirmed.replace_earlier = true;
    f.call(confirmed).unwrap();
    let entry = f.entry(&id);
    assert_eq!(
        entry.status,
        AppointmentStatus::Booked,
        "the row says coming"
    );
    assert_eq!(
        entry.attempts.iter().map(|a| a.outcome).collect::<Vec<_>>(),
        [CallOutcome::Coming],
        "the withdrawn cancellation is not history on the row"
    );
    assert_eq!(f.live(), ["call_outcome"], "no cancellation is sent");

    // A patient who said they would come and then cancels is not a contradiction.
    f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    assert_eq!(f.status(&id), AppointmentStatus::Cancelled);
    // A reschedule of a cancelled appointment asks too.
    let mut moved = record(&id, CallOutcome::Rescheduled);
    moved.new_start = Some("2026-11-26 10:30".to_owned());
    assert_eq!(f.call(moved).unwrap_err().code(), "call.contradicts_cancel");
}

#[test]
fn issue_20_a_check_in_then_a_cancel_asks_and_a_checked_in_patient_is_taken_back() {
    let f = fixture();
    let id = f.first();
    let arrival =
        f.rt.block_on(f.desk.record_arrival(ArrivalRecord::new(&id, None)))
            .unwrap();
    assert_eq!(f.entry(&id).arrival_id, Some(arrival));
    assert_eq!(
        f.call(record(&id, CallOutcome::Cancelled))
            .unwrap_err()
            .code(),
        "call.contradicts_arrival"
    );
    f.withdraw(Withdrawable::Arrival(arrival)).unwrap();
    let entry = f.entry(&id);
    assert_eq!(entry.arrived_at_label, None);
    assert_eq!(entry.status, AppointmentStatus::Booked);
    assert!(f.live().is_empty());
    // Checked in again after the undo: allowed, queued once.
    f.rt.block_on(f.desk.record_arrival(ArrivalRecord::new(&id, None)))
        .unwrap();
    assert_eq!(f.live(), ["appointment_arrival"]);
}

#[test]
fn issue_20_a_change_already_sent_is_not_taken_back() {
    let f = fixture();
    let id = f.first();
    let attempt = f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    // The demo clinic takes it (the line is up).
    let round = f.rt.block_on(f.desk.drain_round()).unwrap();
    assert_eq!(round.delivered, 2);

    let err = f.withdraw(Withdrawable::Call(attempt)).unwrap_err();
    assert_eq!(err.code(), "call.already_sent");
    // The clinic's system holds it cancelled now: coming needs a new booking there.
    let mut confirmed = record(&id, CallOutcome::Coming);
    confirmed.replace_earlier = true;
    assert_eq!(
        f.call(confirmed).unwrap_err().code(),
        "call.appointment_cancelled"
    );
    assert_eq!(f.status(&id), AppointmentStatus::Cancelled);
    assert_eq!(f.entry(&id).attempts.len(), 1);
}

/// A check-in that reached the clinic's system is history there: a reschedule made after
/// it is not refused as a contradiction it could never withdraw.
#[test]
fn issue_20_a_sent_check_in_does_not_block_a_later_reschedule() {
    let f = fixture();
    let id = f.first();
    f.rt.block_on(f.desk.record_arrival(ArrivalRecord::new(&id, None)))
        .unwrap();
    assert_eq!(f.rt.block_on(f.desk.drain_round()).unwrap().delivered, 1);
    let mut moved = record(&id, CallOutcome::Rescheduled);
    moved.new_start = Some("2026-11-25 15:00".to_owned());
    f.call(moved).unwrap();
    assert_eq!(f.live(), ["appointment_reschedule", "call_outcome"]);
}

#[test]
fn issue_20_a_waiting_change_is_withdrawn_from_the_sync_view_with_its_call() {
    let f = fixture();
    let id = f.first();
    f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    let view = f.rt.block_on(f.desk.sync_view()).unwrap();
    let cancel = view
        .groups
        .iter()
        .flat_map(|g| g.ops.iter())
        .find(|o| o.kind.code() == "appointment_cancel")
        .expect("the cancellation waits")
        .clone();
    assert!(cancel.actions.contains(&OpAction::Withdraw));

    f.rt.block_on(
        f.desk
            .resolve_op(cancel.seq, OpAction::Withdraw, Some("受付 佐々木")),
    )
    .unwrap();
    assert!(
        f.live().is_empty(),
        "the call's own record goes with it: {:?}",
        f.live()
    );
    // 同期 does not count it sent (its chip is the window test's: 送信なし).
    let view = f.rt.block_on(f.desk.sync_view()).unwrap();
    assert_eq!(view.counts.done, 0);
    assert_eq!(view.counts.not_sent, 2, "the cancellation and its call");
    assert_eq!(f.status(&id), AppointmentStatus::Booked);
    assert!(f.entry(&id).attempts.is_empty());
    // A receipt is voided, not withdrawn.
    assert!(!OpAction::offered(
        OpState::Pending,
        tsunagi_core::outbox::OpKind::Receipt,
        "demo"
    )
    .contains(&OpAction::Withdraw));
}

/// Before: a change taken back in 同期 was counted under 送信済み (sent) with the ones the
/// clinic's system really holds, and its row said 送信済み beside 取り消し（送信前）.
#[test]
fn issue_20_a_withdrawn_change_is_not_counted_as_sent() {
    let f = fixture();
    let sent = f.entry_at(1);
    f.call(record(&sent, CallOutcome::Cancelled)).unwrap();
    f.rt.block_on(f.desk.drain_round()).unwrap();
    let delivered = f
        .outbox()
        .iter()
        .filter(|o| o.state == OpState::Done)
        .count() as u32;
    assert!(delivered >= 1, "the first cancel went");
    let id = f.first();
    let attempt = f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    f.withdraw(Withdrawable::Call(attempt)).unwrap();

    let view = f.rt.block_on(f.desk.sync_view()).unwrap();
    assert_eq!(
        view.counts.done, delivered,
        "only what reached the clinic's system"
    );
    assert_eq!(view.counts.not_sent, 2, "the cancel and its call record");
    let json = serde_json::to_value(view.counts).unwrap();
    assert_eq!(json["done"], delivered, "{json}");
    assert_eq!(json["not_sent"], 2, "{json}");
}

/// Before: 来院（受付） was accepted for tomorrow's patient at night with no warning.
#[test]
fn issue_20_checking_in_a_patient_booked_for_another_day_asks_first() {
    // 21:00 in Tokyo: the list shows tomorrow morning.
    let f = demo_desk(
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
        |_| {},
    );
    let id = f.entry_at(0);
    assert!(f.entry(&id).other_day);
    let asked =
        f.rt.block_on(f.desk.record_arrival(ArrivalRecord::new(&id, None)))
            .unwrap_err();
    assert_eq!(asked.code(), "call.not_today");
    assert!(f.outbox().is_empty());
    let mut sure = ArrivalRecord::new(&id, None);
    sure.other_day_ok = true;
    f.rt.block_on(f.desk.record_arrival(sure)).unwrap();
    assert_eq!(f.status(&id), AppointmentStatus::Arrived);
}

/// Before: the year 1030 was accepted and stored, and 202612011030 became the year 11030.
#[test]
fn issue_20_a_new_time_in_the_past_or_years_ahead_is_refused_by_the_core() {
    let f = fixture();
    let id = f.first();
    let incident = f
        .line(
            f.clock.now(),
            tsunagi_core::monitor::NetState::Online,
            tsunagi_core::monitor::NetState::Offline,
        )
        .expect("an outage");
    let code = |to: &str| {
        let mut moved = record(&id, CallOutcome::Rescheduled);
        moved.new_start = Some(to.to_owned());
        f.call(moved)
            .map(|_| ())
            .map_err(|e| e.code().as_str().to_owned())
    };
    assert_eq!(
        code("1030-12-01 10:30"),
        Err("call.reschedule_past".to_owned())
    );
    assert_eq!(
        code("2026-11-25 08:00"),
        Err("call.reschedule_past".to_owned())
    );
    assert_eq!(
        code("11030-12-01 10:30"),
        Err("call.reschedule_unreadable".to_owned())
    );
    assert_eq!(
        code("2028-01-05 10:30"),
        Err("call.reschedule_too_far".to_owned())
    );
    assert_eq!(
        code("202612011030"),
        Err("call.reschedule_unreadable".to_owned())
    );
    assert!(f.outbox().is_empty(), "nothing written by a refused call");
    let slot = f.entry(&id).time_label;
    assert_eq!(code("2026-11-26T10:05"), Ok(()));
    // Before: the moved visit left today's list, so the row never showed the new time.
    let today = f.rt.block_on(f.desk.call_list(false)).unwrap();
    let row = today
        .entries
        .iter()
        .find(|e| e.appointment_id == id)
        .expect("the moved visit keeps its row today");
    assert_eq!(row.time_label, slot, "at the slot it was booked at");
    assert_eq!(row.moved_to_label.as_deref(), Some("11/26 10:05"));
    assert_eq!(row.start_local, "2026-11-26T10:05");
    assert_eq!(
        row.attempts[0].new_start_label.as_deref(),
        Some("11/26 10:05")
    );
    assert_eq!(
        today.entries[0].appointment_id, id,
        "still first, in slot order"
    );
    // Before: the report dropped the year of the new date.
    let report =
        f.rt.block_on(
            f.desk
                .report(tsunagi_core::report::ReportKind::Outage, incident),
        )
        .unwrap();
    assert_eq!(
        report.calls[0].new_start_label.as_deref(),
        Some("2026-11-26 10:05")
    );
}

#[test]
fn issue_20_the_background_sender_holds_a_fresh_change_while_it_can_be_taken_back() {
    let f = fixture();
    let id = f.first();
    f.call(record(&id, CallOutcome::Cancelled)).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let held =
        f.rt.block_on(f.desk.drain_round_until(&stop, true))
            .unwrap();
    assert_eq!(held.delivered, 0, "held while 元に戻す is offered");
    let wait = held.held_for.expect("the sender is told when to come back");
    assert!(
        wait >= std::time::Duration::from_secs(u64::from(tsunagi_core::calls::UNDO_SECONDS)),
        "{wait:?}"
    );
    f.clock.advance(Duration::from_std(wait).unwrap());
    let sent =
        f.rt.block_on(f.desk.drain_round_until(&stop, true))
            .unwrap();
    assert_eq!(sent.delivered, 2);
    assert_eq!(sent.held_for, None);
}
