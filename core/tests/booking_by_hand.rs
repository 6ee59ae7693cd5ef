//! Issue 17: a clinic whose source has no API to close booking slots (CSV, the demo, a
//! booking vendor's own system) stops web booking by hand on the vendor's site. The owner's
//! card says how; the desk records who stopped it and when, ticks the checklist, reminds
//! staff to reopen it once the line is back, and the outage's report says so.

use chrono::{Duration, TimeZone, Utc};
use tsunagi_core::booking::BookingState;
use tsunagi_core::checklist::ChecklistAction;
use tsunagi_core::clock::Clock;
use tsunagi_core::config::BookingCard;
use tsunagi_core::desk::SettingsChange;
use tsunagi_core::monitor::NetState;
use tsunagi_core::report::ReportKind;

mod common;

use common::{demo_desk, DemoDesk};

const SASAKI: Option<&str> = Some("受付 佐々木");

/// The demo clinic at 08:30 in Tokyo on 2026-11-25, the line down since then.
fn outage() -> (DemoDesk, i64) {
    let f = demo_desk(
        Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap(),
        |_| {},
    );
    let incident = f
        .line(f.clock.now(), NetState::Online, NetState::Offline)
        .expect("an outage");
    (f, incident)
}

fn booking_step(f: &DemoDesk) -> tsunagi_core::checklist::ChecklistItem {
    let list = f.rt.block_on(f.desk.checklist()).unwrap();
    list.items
        .into_iter()
        .find(|i| i.action == Some(ChecklistAction::StopBooking))
        .expect("the web booking step")
}

fn reopen_step(f: &DemoDesk) -> Option<tsunagi_core::checklist::ChecklistItem> {
    let list = f.rt.block_on(f.desk.checklist()).unwrap();
    list.items
        .into_iter()
        .find(|i| i.action == Some(ChecklistAction::ReopenBooking))
}

fn back_online(f: &DemoDesk, after: Duration) {
    f.clock.advance(after);
    f.line(f.clock.now(), NetState::Offline, NetState::Online);
}

#[test]
fn issue_17_web_booking_stopped_by_hand_is_reminded_until_reopened_and_reported() {
    let (f, incident) = outage();
    let view = f.rt.block_on(f.desk.booking_view()).unwrap();
    assert!(!view.can_pause, "the demo has no API to close slots");
    assert_eq!(view.state, BookingState::Open);
    assert!(!booking_step(&f).done);
    // The API's own pause is refused and says what to do instead.
    let refused =
        f.rt.block_on(f.desk.pause_booking(None, SASAKI))
            .unwrap_err();
    assert_eq!(refused.code().as_str(), "booking.no_api");
    assert!(refused.to_string().contains("booking stopped"), "{refused}");

    // Stopped on the vendor's site; said here.
    let view =
        f.rt.block_on(f.desk.booking_stopped_by_hand(SASAKI))
            .unwrap();
    assert_eq!(view.state, BookingState::Paused);
    let pause = view.pause.expect("the stop");
    assert!(pause.by_hand);
    assert_eq!(pause.by.as_deref(), SASAKI);
    assert_eq!(pause.requested_label, "08:30");
    let step = booking_step(&f);
    assert!(step.done, "the checklist step ticks itself");
    assert_eq!(step.staff.as_deref(), SASAKI);
    let twice =
        f.rt.block_on(f.desk.booking_stopped_by_hand(SASAKI))
            .unwrap_err();
    assert_eq!(twice.code().as_str(), "booking.already_paused");
    assert_eq!(reopen_step(&f), None, "not while the line is down");

    // The line is back: a step to reopen it, until someone does.
    back_online(&f, Duration::minutes(50));
    let step = reopen_step(&f).expect("the reminder step");
    assert_eq!(step.text, "Web予約を再開する");
    assert!(!step.done);
    f.clock.advance(Duration::minutes(5));
    let view =
        f.rt.block_on(f.desk.booking_reopened_by_hand(SASAKI))
            .unwrap();
    assert_eq!(view.state, BookingState::Open);
    assert_eq!(view.resume.expect("reopened").requested_label, "09:25");
    assert_eq!(reopen_step(&f), None, "reopened: no more reminder");
    let again =
        f.rt.block_on(f.desk.booking_reopened_by_hand(SASAKI))
            .unwrap_err();
    assert_eq!(again.code().as_str(), "booking.not_paused");

    // The outage's report: stopped and reopened, by whom, by hand.
    let report =
        f.rt.block_on(f.desk.report(ReportKind::Outage, incident))
            .unwrap();
    let rows: Vec<(bool, bool, &str, Option<&str>)> = report
        .booking
        .iter()
        .map(|b| {
            (
                b.stopped,
                b.by_hand,
                b.at_label.as_str(),
                b.staff.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (true, true, "11/25 08:30", SASAKI),
            (false, true, "11/25 09:25", SASAKI)
        ]
    );
    let html = tsunagi_core::printout::report(&report, tsunagi_core::config::Language::Ja).html;
    assert!(html.contains("停止（予約サービスで手作業）"), "{html}");
}

#[test]
fn issue_17_kept_closed_by_hand_ends_the_reminder() {
    let (f, _) = outage();
    f.rt.block_on(f.desk.booking_stopped_by_hand(SASAKI))
        .unwrap();
    back_online(&f, Duration::minutes(30));
    assert!(reopen_step(&f).is_some());
    let view = f.rt.block_on(f.desk.keep_booking_closed(SASAKI)).unwrap();
    assert_eq!(view.state, BookingState::KeptClosed);
    assert_eq!(view.pause.unwrap().kept_closed_by.as_deref(), SASAKI);
    assert_eq!(reopen_step(&f), None);
    // Reopened the next day all the same.
    f.clock.advance(Duration::hours(24));
    let view =
        f.rt.block_on(f.desk.booking_reopened_by_hand(SASAKI))
            .unwrap();
    assert_eq!(view.state, BookingState::Open);
}

#[test]
fn issue_17_a_drill_practises_the_card_without_recording_a_stop() {
    let f = demo_desk(
        Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap(),
        |_| {},
    );
    f.rt.block_on(f.desk.start_drill(SASAKI)).unwrap();
    let e =
        f.rt.block_on(f.desk.booking_stopped_by_hand(SASAKI))
            .unwrap_err();
    assert_eq!(e.code().as_str(), "booking.in_drill");
    assert_eq!(
        f.rt.block_on(f.desk.booking_view()).unwrap().state,
        BookingState::Open
    );
}

#[test]
fn issue_17_the_owners_booking_card_is_checked_and_kept() {
    let f = demo_desk(
        Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap(),
        |_| {},
    );
    let change = |card: BookingCard| SettingsChange {
        booking_card: Some(card),
        ..Default::default()
    };
    let card = BookingCard {
        vendor: " EPARKクリニック ".into(),
        admin_url: Some("https://admin.example.jp/clinic".into()),
        stop_steps: "1. 管理画面にログイン\n2. 受付設定 → 一時停止".into(),
        reopen_steps: "受付設定 → 再開".into(),
    };
    let bad = f
        .desk
        .change_settings(change(BookingCard {
            admin_url: Some("javascript:alert(1)".into()),
            ..card.clone()
        }))
        .unwrap_err();
    assert_eq!(bad.code().as_str(), "booking.card_invalid");
    assert_eq!(f.desk.settings().booking_card, None, "nothing saved");

    let saved = f.desk.change_settings(change(card)).unwrap();
    let kept = saved.booking_card.expect("the card");
    assert_eq!(kept.vendor, "EPARKクリニック", "trimmed");
    let view = f.rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.card.as_ref(), Some(&kept), "the outage screen has it");
    // It is in config.toml, where the IT helper can read and copy it.
    let toml = std::fs::read_to_string(f.dir.path().join("config.toml")).unwrap();
    assert!(toml.contains("[booking_card]"), "{toml}");

    // Every field emptied: the card is gone.
    let cleared = f
        .desk
        .change_settings(change(BookingCard::default()))
        .unwrap();
    assert_eq!(cleared.booking_card, None);
}
