//! The demo clinic, pulled through the desk the way the app does it.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use tsunagi_core::clock::ManualClock;
use tsunagi_core::config::{Config, DataDir};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::model::AppointmentStatus;
use tsunagi_core::view::TodayView;
use tsunagi_core::{Desk, DeskOptions};

struct Fixture {
    _dir: tempfile::TempDir,
    desk: Desk,
    clock: Arc<ManualClock>,
    rt: tokio::runtime::Runtime,
}

fn fixture(now: chrono::DateTime<Utc>, time_zone: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    if let Some(tz) = time_zone {
        let mut c = Config::first_start(None);
        c.time_zone = tz.to_owned();
        c.save(&DataDir::at(dir.path()).config()).unwrap();
    }
    let clock = Arc::new(ManualClock::new(now));
    let desk = Desk::open(DeskOptions {
        data_dir: DataDir::at(dir.path()),
        keychain: Arc::new(Keychain::mock()),
        clock: clock.clone(),
        locale: None,
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        desk,
        clock,
        rt,
    }
}

impl Fixture {
    fn pull(&self) {
        self.rt.block_on(self.desk.pull()).unwrap();
    }
    fn day(&self, date: Option<NaiveDate>) -> TodayView {
        self.rt.block_on(self.desk.today(date)).unwrap()
    }
}

/// 2026-11-25 08:30 in Tokyo.
fn tokyo_morning() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap()
}

#[test]
fn today_is_a_full_clinic_day_in_time_order_with_the_edge_cases() {
    let f = fixture(tokyo_morning(), None);
    f.pull();
    let today = f.day(None);
    assert_eq!(today.date, "2026-11-25");
    assert_eq!(today.weekday, 3, "a Wednesday");
    let appts = &today.appointments;
    assert!(appts.len() >= 30, "only {} appointments", appts.len());

    let times: Vec<&str> = appts
        .iter()
        .map(|a| a.start_time.as_deref().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "in time order");
    assert_eq!(times[0], "09:00");
    assert!(
        times.iter().any(|t| *t >= "12:00" && *t < "13:00"),
        "late morning"
    );
    assert!(times.iter().any(|t| *t >= "17:00"), "evening");
    assert!(appts[0].start.as_deref().unwrap().ends_with("+09:00"));

    let count = |s: AppointmentStatus| appts.iter().filter(|a| a.status == s).count();
    assert_eq!(count(AppointmentStatus::Cancelled), 1);
    assert_eq!(count(AppointmentStatus::Arrived), 1);

    let patients: Vec<_> = appts.iter().map(|a| a.patient.as_ref().unwrap()).collect();
    assert!(
        patients.iter().any(|p| p.phones.len() == 2),
        "someone with two phones"
    );
    assert!(
        patients.iter().any(|p| p.phones.is_empty()),
        "someone with no phone"
    );
    assert!(patients.iter().all(|p| !p.name.is_empty()));
    assert!(
        patients.iter().filter(|p| p.kana.is_some()).count() >= 30,
        "kana readings"
    );
    let distinct: HashSet<_> = patients.iter().map(|p| &p.id).collect();
    assert_eq!(distinct.len(), patients.len(), "one slot per patient a day");

    // Tokyo landlines and mobiles are all valid, normalised numbers.
    for phone in patients.iter().flat_map(|p| &p.phones) {
        if phone.display.starts_with("03") || phone.display.starts_with("0") {
            let e164 = phone.e164.as_deref().unwrap_or_else(|| {
                panic!("a demo number did not normalise: {}", phone.display.len())
            });
            assert!(e164.starts_with("+81"), "{e164}");
        }
    }
    assert!(patients
        .iter()
        .flat_map(|p| &p.phones)
        .any(|ph| ph.e164.as_deref().is_some_and(|e| e.starts_with("+813"))));
    assert!(patients
        .iter()
        .flat_map(|p| &p.phones)
        .any(|ph| ph.e164.as_deref().is_some_and(|e| e.starts_with("+8190"))));
}

#[test]
fn the_next_days_are_mirrored_too_and_nobody_has_arrived_there_yet() {
    let f = fixture(tokyo_morning(), None);
    f.pull();
    for offset in 1..=2 {
        let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap() + Duration::days(offset);
        let day = f.day(Some(date));
        assert!(day.appointments.len() >= 30);
        assert!(day
            .appointments
            .iter()
            .all(|a| a.status != AppointmentStatus::Arrived));
    }
    let beyond = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    assert!(
        f.day(Some(beyond)).appointments.is_empty(),
        "days_ahead is 2"
    );
    assert_eq!(f.rt.block_on(f.desk.status()).unwrap().appointments, 3 * 36);
}

#[test]
fn the_demo_follows_the_clock_and_is_the_same_day_when_pulled_twice() {
    let f = fixture(tokyo_morning(), None);
    f.pull();
    let first = f.day(None);
    f.clock.advance(Duration::minutes(10));
    f.pull();
    let again = f.day(None);
    assert_eq!(
        first.appointments, again.appointments,
        "a refresh changes nothing"
    );
    assert_eq!(again.status.synced_at_label.as_deref(), Some("08:40"));

    f.clock.advance(Duration::days(1));
    f.pull();
    let tomorrow = f.day(None);
    assert_eq!(tomorrow.date, "2026-11-26");
    assert_ne!(
        tomorrow.appointments[0].patient, first.appointments[0].patient,
        "each day has its own order"
    );
    assert_eq!(
        tomorrow
            .appointments
            .iter()
            .filter(|a| a.status == AppointmentStatus::Arrived)
            .count(),
        1,
        "the new today has its arrival"
    );
}

#[test]
fn the_clinic_time_zone_decides_the_day_and_the_wall_clock() {
    // 20:00 UTC on the 24th is the 25th in Tokyo (05:00) but still the 24th in Berlin.
    let evening = Utc.with_ymd_and_hms(2026, 11, 24, 20, 0, 0).unwrap();
    let f = fixture(evening, Some("Europe/Berlin"));
    f.pull();
    let today = f.day(None);
    assert_eq!(today.date, "2026-11-24");
    let first = &today.appointments[0];
    assert_eq!(first.start_time.as_deref(), Some("09:00"));
    assert_eq!(first.start.as_deref(), Some("2026-11-24T09:00:00+01:00"));
}

#[test]
fn days_before_yesterday_leave_the_mirror_and_the_window_is_configurable() {
    let f = fixture(tokyo_morning(), None);
    f.pull();
    let d25 = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    f.clock.advance(Duration::days(2));
    f.pull();
    // Today is the 27th: the 26th (yesterday) stays, the 25th is gone.
    assert!(f.day(Some(d25)).appointments.is_empty());
    assert_eq!(f.day(Some(d25.succ_opt().unwrap())).appointments.len(), 36);
    assert_eq!(f.rt.block_on(f.desk.status()).unwrap().appointments, 4 * 36);

    // Keeping no past day at all.
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::first_start(None);
    c.retention.mirror_days_back = 0;
    c.save(&DataDir::at(dir.path()).config()).unwrap();
    let clock = Arc::new(ManualClock::new(tokyo_morning()));
    let desk = Desk::open(DeskOptions {
        data_dir: DataDir::at(dir.path()),
        keychain: Arc::new(Keychain::mock()),
        clock: clock.clone(),
        locale: None,
    })
    .unwrap();
    f.rt.block_on(desk.pull()).unwrap();
    clock.advance(Duration::days(1));
    f.rt.block_on(desk.pull()).unwrap();
    assert!(f
        .rt
        .block_on(desk.today(Some(d25)))
        .unwrap()
        .appointments
        .is_empty());
    assert_eq!(f.rt.block_on(desk.status()).unwrap().appointments, 3 * 36);
}
