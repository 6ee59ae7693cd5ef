//! Issue 17: web booking stopped and reopened from the desk, against the real FHIR server
//! (Helios `hfs`) seeded with a doctor's Schedule and a day of Slots. What must hold: the
//! pause closes exactly the free Slots of its window, the resume frees exactly those, a
//! Slot booked by someone else meanwhile stays booked (and is listed), the pause goes out
//! before anything else queued, and each Slot is written once per step through a line that
//! loses answers, a sick server and a process killed at random points.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::kill::{kill_after, ok, seeded};
use common::{cli, eight_oclock, fhir_desk, quick_backoff, runtime, test_now, tokyo_today};
use serde_json::Value;
use tsunagi_core::booking::BookingState;
use tsunagi_core::calls::{CallOutcome, CallRecord};
use tsunagi_core::monitor::NetState;
use tsunagi_core::outbox::DrainEnd;
use tsunagi_core::report::ReportKind;
use tsunagi_testkit::clinic::{clinic_day, schedule, slot};
use tsunagi_testkit::fault_proxy::{Fault, FaultProxy};
use tsunagi_testkit::hfs::Hfs;
use tsunagi_testkit::Session;

/// A patient on the phone cancels appointment `id`.
fn cancelled(id: &str) -> CallRecord {
    CallRecord {
        appointment_id: id.to_owned(),
        outcome: CallOutcome::Cancelled,
        new_start: None,
        note: None,
        staff: None,
        replace_earlier: false,
    }
}

/// Every version of a Slot on the server, oldest first: (version, status).
fn history(hfs: &Hfs, id: &str) -> Vec<(String, String)> {
    let bundle = hfs.get(&format!("Slot/{id}/_history?_count=100"));
    let mut versions: Vec<(String, String)> = bundle["entry"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| {
            let r = &e["resource"];
            (
                r["meta"]["versionId"].as_str().unwrap_or("?").to_owned(),
                r["status"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    versions.sort_by_key(|(v, _)| v.parse::<u64>().unwrap_or(u64::MAX));
    versions
}

fn statuses(hfs: &Hfs, id: &str) -> Vec<String> {
    history(hfs, id).into_iter().map(|(_, s)| s).collect()
}

/// A day of Slots around 08:00: two before it, `free` free ones after it (every 15
/// minutes from 08:30), one booked among them, and one free tomorrow.
struct Day {
    inside: Vec<String>,
    booked: String,
    before: Vec<String>,
    tomorrow: String,
}

fn seed(hfs: &Hfs, prefix: &str, at: DateTime<Utc>, free: usize) -> Day {
    let minutes = |m: i64| at + chrono::Duration::minutes(m);
    let mut resources = vec![schedule(&format!("{prefix}sched"))];
    let sched = format!("{prefix}sched");
    let before = vec![format!("{prefix}b0"), format!("{prefix}b1")];
    resources.push(slot(&before[0], &sched, minutes(-60), "free"));
    resources.push(slot(&before[1], &sched, minutes(-15), "free"));
    let inside: Vec<String> = (0..free).map(|i| format!("{prefix}f{i}")).collect();
    for (i, id) in inside.iter().enumerate() {
        resources.push(slot(id, &sched, minutes(30 + 15 * i as i64), "free"));
    }
    let booked = format!("{prefix}busy");
    resources.push(slot(&booked, &sched, minutes(37), "busy"));
    let tomorrow = format!("{prefix}t0");
    resources.push(slot(&tomorrow, &sched, minutes(24 * 60 + 60), "free"));
    for r in &resources {
        hfs.put(r);
    }
    Day {
        inside,
        booked,
        before,
        tomorrow,
    }
}

#[test]
fn issue_17_a_pause_closes_exactly_the_free_slots_of_the_window_and_the_resume_frees_exactly_those()
{
    let hfs = Hfs::start();
    let now = eight_oclock();
    let day = seed(&hfs, "w", now, 6);
    let f = fhir_desk(&hfs.base_url(), now, 5);
    let rt = runtime();
    let incident = common::line(&f.desk, now, NetState::Online, NetState::Offline).unwrap();

    let view = rt
        .block_on(f.desk.pause_booking(None, Some("受付 佐々木")))
        .unwrap();
    assert_eq!(view.state, BookingState::PauseWaiting, "{view:?}");
    // One pause at a time.
    let again = rt.block_on(f.desk.pause_booking(None, None)).unwrap_err();
    assert_eq!(again.code().as_str(), "booking.already_paused");

    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    for id in &day.inside {
        assert_eq!(statuses(&hfs, id), ["free", "busy-unavailable"], "{id}");
    }
    for id in day.before.iter().chain([&day.booked, &day.tomorrow]) {
        assert_eq!(history(&hfs, id).len(), 1, "{id} untouched");
    }
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.state, BookingState::Paused);
    let pause = view.pause.clone().unwrap();
    assert_eq!(pause.paused, 6);
    assert_eq!(pause.by.as_deref(), Some("受付 佐々木"));
    assert!(pause.confirmed_label.is_some());

    common::line(&f.desk, now, NetState::Offline, NetState::Online);
    // Back online: the owner decides booking stays stopped for now; no more reminder.
    let kept = rt
        .block_on(f.desk.keep_booking_closed(Some("院長")))
        .unwrap();
    assert_eq!(kept.state, BookingState::KeptClosed, "{kept:?}");
    assert_eq!(
        kept.pause.as_ref().unwrap().kept_closed_by.as_deref(),
        Some("院長")
    );
    // A patient books one of the closed Slots by phone, on the server.
    let mut taken = hfs.get(&format!("Slot/{}", day.inside[2]));
    taken["status"] = "busy".into();
    hfs.put(&taken);

    rt.block_on(f.desk.resume_booking(None)).unwrap();
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    for (i, id) in day.inside.iter().enumerate() {
        let expected: &[&str] = if i == 2 {
            &["free", "busy-unavailable", "busy"]
        } else {
            &["free", "busy-unavailable", "free"]
        };
        assert_eq!(statuses(&hfs, id), expected, "{id}");
    }
    for id in day.before.iter().chain([&day.booked, &day.tomorrow]) {
        assert_eq!(history(&hfs, id).len(), 1, "{id} untouched");
    }
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.state, BookingState::Open);
    let resume = view.resume.unwrap();
    assert_eq!(resume.resumed, 5);
    assert_eq!(resume.left.len(), 1, "{resume:?}");
    assert_eq!(resume.left[0].slot_id, day.inside[2]);
    assert_eq!(resume.left[0].server_said.as_deref(), Some("busy"));
    let nothing = rt.block_on(f.desk.resume_booking(None)).unwrap_err();
    assert_eq!(nothing.code().as_str(), "booking.not_paused");
    let nothing = rt.block_on(f.desk.keep_booking_closed(None)).unwrap_err();
    assert_eq!(nothing.code().as_str(), "booking.not_paused");

    // The outage's report says when web booking stopped and reopened, and by whom.
    let report = rt
        .block_on(f.desk.report(ReportKind::Outage, incident))
        .unwrap();
    let steps: Vec<(bool, Option<&str>, u32, bool)> = report
        .booking
        .iter()
        .map(|b| {
            (
                b.stopped,
                b.staff.as_deref(),
                b.slots,
                b.done_label.is_some(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [(true, Some("受付 佐々木"), 6, true), (false, None, 5, true)]
    );
    let page = tsunagi_core::printout::report(&report, tsunagi_core::config::Language::Ja);
    assert!(
        page.html.contains("Web予約") && page.html.contains("再開"),
        "{}",
        page.html
    );
}

#[test]
fn issue_17_the_pause_goes_out_before_every_change_queued_earlier() {
    let hfs = Hfs::start();
    let now = eight_oclock();
    hfs.put_all(&clinic_day(tokyo_today(), 12, "q").resources());
    let day = seed(&hfs, "q", now, 3);
    let proxy = FaultProxy::start(&hfs.base_url());
    let f = fhir_desk(&proxy.url(), now, 5);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();
    // The line is down: calls pile up, then someone stops web booking.
    for id in ["qa10", "qa11"] {
        rt.block_on(f.desk.record_call(cancelled(id))).unwrap();
    }
    rt.block_on(f.desk.pause_booking(None, None)).unwrap();
    proxy.reset_counters();
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    let writes: Vec<String> = proxy
        .calls()
        .into_iter()
        .filter(|p| p.starts_with("PUT") || p.starts_with("POST"))
        .collect();
    let first_other = writes.iter().position(|p| !p.contains("/Slot/")).unwrap();
    let last_slot = writes.iter().rposition(|p| p.contains("/Slot/")).unwrap();
    assert!(last_slot < first_other, "the pause first: {writes:#?}");
    for id in &day.inside {
        assert_eq!(statuses(&hfs, id), ["free", "busy-unavailable"], "{id}");
    }
}

#[test]
fn issue_17_each_slot_is_written_once_per_step_through_lost_answers_and_a_sick_server() {
    let hfs = Hfs::start();
    let now = eight_oclock();
    let day = seed(&hfs, "x", now, 30);
    let proxy = FaultProxy::start(&hfs.base_url());
    let f = fhir_desk(&proxy.url(), now, 2);
    let rt = runtime();
    // Lost answers twice as likely as the rest: they are what exactly-once is about.
    let faults = vec![
        Fault::DropAfterCommit,
        Fault::DropAfterCommit,
        Fault::StallAfterCommit,
        Fault::StallAfterCommit,
        Fault::ResetBeforeSend,
        Fault::Reset,
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(429),
    ];
    for (step, seed) in [("pause", 0x5107_0001), ("resume", 0x5107_0002)] {
        if step == "pause" {
            rt.block_on(f.desk.pause_booking(None, None)).unwrap();
        } else {
            rt.block_on(f.desk.resume_booking(None)).unwrap();
        }
        proxy.set_random(35, faults.clone(), seed);
        let report = rt
            .block_on(f.desk.drain(Duration::from_secs(600), &mut quick_backoff()))
            .unwrap();
        proxy.set(Fault::Pass);
        assert_eq!(report.end, DrainEnd::Empty, "{step}: {report:?}");
        // Answers lost after the server committed: the case exactly-once is about.
        let injected = proxy.injected();
        let lost = injected
            .iter()
            .filter(|f| matches!(f, Fault::DropAfterCommit | Fault::StallAfterCommit))
            .count();
        assert!(lost >= 2, "{step}: {lost} lost answers in {injected:?}");
        assert!(report.retries > 5, "{step}: {report:?}");
    }
    for id in &day.inside {
        assert_eq!(
            statuses(&hfs, id),
            ["free", "busy-unavailable", "free"],
            "{id}: one write per step"
        );
    }
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.pause.unwrap().paused, 30);
    assert_eq!(view.resume.unwrap().resumed, 30);
}

fn status(session: &Session, data: &Path) -> Value {
    serde_json::from_str(&ok(cli(session, data, &["booking", "status", "--json"]))).unwrap()
}

#[test]
fn issue_17_a_pause_and_a_resume_killed_at_random_points_write_each_slot_once() {
    // The CLI runs on the system clock: the Slots sit in the next minutes of a clinic day.
    tsunagi_testkit::clear_of_midnight(Duration::from_secs(300));
    let mut rng = seeded(0x0b00c);
    let session = Session::start();
    let hfs = Hfs::start();
    let day = seed_now(&hfs, 60);
    // A slow line (40 ms a request): a step takes seconds, so kills land inside it.
    let proxy = FaultProxy::start(&hfs.base_url());
    proxy.set(Fault::Delay(40));
    let data = tempfile::tempdir().unwrap();
    ok(cli(
        &session,
        data.path(),
        &["source", "fhir", &proxy.url()],
    ));

    // Kills are timed from when a CLI has opened the desk (measured here, as the machine
    // runs), so they land in the drain and not all before it.
    let opened = Instant::now();
    status(&session, data.path());
    let startup = opened.elapsed();
    let mut kills = Vec::new();
    for step in ["pause", "resume"] {
        ok(cli(&session, data.path(), &["booking", step]));
        let mut killed = 0;
        let mut tries = 0;
        let settled = if step == "pause" { "paused" } else { "open" };
        while status(&session, data.path())["state"] != settled {
            tries += 1;
            assert!(tries < 200, "{step} never settled");
            let after = startup + Duration::from_millis(rng.below(600));
            let (landed, _) = kill_after(
                &session,
                data.path(),
                &["outbox", "drain", "--patience", "30"],
                after,
            );
            killed += usize::from(landed);
        }
        kills.push((step, killed));
        assert!(killed >= 3, "{step}: only {killed} kills landed");
    }
    println!("kills: {kills:?}");
    for id in &day {
        assert_eq!(
            statuses(&hfs, id),
            ["free", "busy-unavailable", "free"],
            "{id}: one write per step"
        );
    }
    let view = status(&session, data.path());
    assert_eq!(view["pause"]["paused"], 60, "{view}");
    assert_eq!(view["resume"]["resumed"], 60, "{view}");
}

/// `free` free Slots every 2 seconds from 30 seconds from now (the system clock): inside a
/// pause made now, whatever the hour (the test starts clear of midnight).
fn seed_now(hfs: &Hfs, free: usize) -> Vec<String> {
    let now = Utc::now();
    hfs.put(&schedule("ksched"));
    (0..free)
        .map(|i| {
            let id = format!("k{i}");
            let start = now + chrono::Duration::seconds(30 + 2 * i as i64);
            hfs.put(&slot(&id, "ksched", start, "free"));
            id
        })
        .collect()
}

#[test]
fn issue_17_a_source_without_an_api_says_so_instead_of_pretending() {
    let f = common::demo_desk(test_now(), |_| {});
    let e = f.rt.block_on(f.desk.pause_booking(None, None)).unwrap_err();
    assert_eq!(e.code().as_str(), "booking.no_api");
    let view = f.rt.block_on(f.desk.booking_view()).unwrap();
    assert!(!view.can_pause);
    assert_eq!(view.state, BookingState::Open);
}

/// Issue 17: patients kept booking online while the clinic was cut off. The first pull
/// after the outage marks what the clinic's system booked (新規) or moved (変更) meanwhile,
/// and those patients lead the call list; the desk's own changes are not news, and a pull
/// on an ordinary day marks nothing.
#[test]
fn issue_17_bookings_made_upstream_during_the_outage_lead_the_call_list() {
    use tsunagi_core::model::UpstreamNews;
    let hfs = Hfs::start();
    let now = eight_oclock();
    let day = clinic_day(tokyo_today(), 16, "n");
    let later: Vec<&Value> = day
        .appointments
        .iter()
        .filter(|a| a["id"] == "na14" || a["id"] == "na15")
        .collect();
    let first: Vec<Value> = day
        .resources()
        .into_iter()
        .filter(|r| r["id"] != "na14" && r["id"] != "na15")
        .collect();
    hfs.put_all(&first);
    let f = fhir_desk(&hfs.base_url(), now, 5);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();

    let down = now + chrono::Duration::minutes(1);
    common::line(&f.desk, down, NetState::Online, NetState::Offline);
    // At the desk: a cancellation by phone.
    rt.block_on(f.desk.record_call(cancelled("na10"))).unwrap();
    // Meanwhile, online: a new booking, and a patient who moved theirs to the afternoon.
    hfs.put(later[0]);
    let mut moved = hfs.get("Appointment/na11");
    moved["start"] = format!("{}T14:00:00+09:00", tokyo_today()).into();
    moved["end"] = format!("{}T14:10:00+09:00", tokyo_today()).into();
    hfs.put(&moved);

    let back = down + chrono::Duration::minutes(20);
    f.clock.set(back);
    common::line(&f.desk, back, NetState::Offline, NetState::Online);
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    rt.block_on(f.desk.pull()).unwrap();

    let list = rt.block_on(f.desk.call_list(false)).unwrap();
    let news: Vec<(&str, Option<UpstreamNews>)> = list
        .entries
        .iter()
        .map(|e| (e.appointment_id.as_str(), e.news))
        .collect();
    assert_eq!(
        news[..2],
        [
            ("na14", Some(UpstreamNews::New)),
            ("na11", Some(UpstreamNews::Changed))
        ][..],
        "{news:?}"
    );
    assert!(
        news[2..].iter().all(|(_, n)| n.is_none()),
        "the desk's own cancel is not news: {news:?}"
    );

    // An ordinary pull later in the day: a new booking is just a booking.
    hfs.put(later[1]);
    rt.block_on(f.desk.pull()).unwrap();
    let list = rt.block_on(f.desk.call_list(false)).unwrap();
    let plain = list
        .entries
        .iter()
        .find(|e| e.appointment_id == "na15")
        .expect("the later booking on the list");
    assert_eq!(plain.news, None);
    assert_eq!(
        list.entries[0].appointment_id, "na14",
        "still first until reached"
    );
}

/// Issue 17: a server that refuses the stop (here: it cannot search Slots) leaves web
/// booking open, and the desk is told so, not "waiting to be sent".
#[test]
fn issue_17_a_refused_pause_says_booking_is_still_open() {
    let hfs = Hfs::start();
    let now = eight_oclock();
    seed(&hfs, "r", now, 2);
    let proxy = FaultProxy::start(&hfs.base_url());
    proxy.only(Some("GET /Slot?"));
    proxy.set(Fault::Status(400));
    let f = fhir_desk(&proxy.url(), now, 5);
    let rt = runtime();
    rt.block_on(f.desk.pause_booking(None, None)).unwrap();
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(30), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::NeedsAPerson, "{report:?}");
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.state, BookingState::PauseRefused, "{view:?}");
    let error = view.pause.unwrap().error.unwrap_or_default();
    assert!(error.contains("injected by the test proxy"), "{error}");
    // Nor may it be written off as "stopped by hand": this source stops booking itself.
    let by_hand = rt
        .block_on(f.desk.booking_stopped_by_hand(None))
        .unwrap_err();
    assert_eq!(by_hand.code().as_str(), "booking.has_api");
}

/// Issue 17: a pause ends by itself at its end (its Slots are all in the past then): the
/// next morning it neither reminds the desk nor stands in the way of a new pause.
#[test]
fn issue_17_a_pause_past_its_end_is_over_and_a_new_one_can_be_made() {
    let now = eight_oclock();
    // Nothing is sent: the server is not there.
    let f = fhir_desk("http://127.0.0.1:9", now, 1);
    let rt = runtime();
    rt.block_on(f.desk.pause_booking(Some("12:00"), None))
        .unwrap();
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.state, BookingState::PauseWaiting);
    assert_eq!(view.pause.as_ref().unwrap().until_label, "12:00");

    f.clock
        .set(now + chrono::Duration::hours(4) + chrono::Duration::minutes(1));
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.state, BookingState::Open, "past its end: {view:?}");
    let resume = rt.block_on(f.desk.resume_booking(None)).unwrap_err();
    assert_eq!(resume.code().as_str(), "booking.not_paused");
    let again = rt.block_on(f.desk.pause_booking(None, None)).unwrap();
    assert_eq!(again.state, BookingState::PauseWaiting, "{again:?}");
}

/// Issue 17: a pause that reaches the server only after its end closes nothing (its Slots
/// are in the past by then) and is done.
#[test]
fn issue_17_a_pause_that_reaches_the_server_after_its_end_closes_nothing() {
    let hfs = Hfs::start();
    let now = eight_oclock();
    let day = seed(&hfs, "e", now, 2);
    let f = fhir_desk(&hfs.base_url(), now, 5);
    let rt = runtime();
    rt.block_on(f.desk.pause_booking(Some("08:40"), None))
        .unwrap();
    f.clock.set(now + chrono::Duration::minutes(41));
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(30), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    for id in &day.inside {
        assert_eq!(history(&hfs, id).len(), 1, "{id} untouched");
    }
    let view = rt.block_on(f.desk.booking_view()).unwrap();
    assert_eq!(view.state, BookingState::Open);
}
