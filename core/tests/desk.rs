//! The desk's operations as the shell uses them: pulls announce themselves, settings
//! persist, the puller runs and stops cleanly.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use tsunagi_core::clock::ManualClock;
use tsunagi_core::config::{Config, DataDir, Language};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::puller::Puller;
use tsunagi_core::view::DeskEvent;
use tsunagi_core::{Desk, DeskOptions, SettingsChange};

fn open(dir: &std::path::Path, keychain: Arc<Keychain>, locale: Option<&str>) -> Desk {
    Desk::open(DeskOptions {
        data_dir: DataDir::at(dir),
        keychain,
        clock: Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 25, 1, 5, 0).unwrap(),
        )),
        locale: locale.map(str::to_owned),
    })
    .unwrap()
}

#[tokio::test]
async fn a_pull_announces_the_fresh_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), Arc::new(Keychain::mock()), None);
    let before = desk.status().await.unwrap();
    assert_eq!(before.synced_at, None);
    assert_eq!(before.appointments, 0);
    assert!(before.is_demo);

    let mut events = desk.subscribe();
    let status = desk.pull().await.unwrap();
    match events.recv().await.unwrap() {
        DeskEvent::MirrorUpdated { status: announced } => assert_eq!(announced, status),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        status.synced_at.as_deref(),
        Some("2026-11-25T10:05:00+09:00")
    );
    assert_eq!(status.synced_at_label.as_deref(), Some("10:05"));
    assert_eq!(
        status.clinic_name.as_deref(),
        Some("さくら通り内科クリニック")
    );
    assert!(status.last_pull.unwrap().ok);
}

#[tokio::test]
async fn settings_changes_are_saved_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let desk = open(dir.path(), keychain.clone(), Some("en-US"));
    assert_eq!(
        desk.settings().language,
        Language::En,
        "first start follows the OS"
    );
    let s = desk
        .change_settings(SettingsChange {
            language: Some(Language::Ja),
            autostart: Some(false),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.language, Language::Ja);
    assert!(!s.autostart);
    drop(desk);

    let saved = Config::load(&DataDir::at(dir.path()).config())
        .unwrap()
        .unwrap();
    assert_eq!(saved.language, Language::Ja);
    assert!(!saved.autostart);
    // The OS locale only matters on first start.
    let desk = open(dir.path(), keychain, Some("en-US"));
    assert_eq!(desk.settings().language, Language::Ja);
    assert!(!desk.settings().autostart);
}

#[tokio::test]
async fn the_puller_pulls_at_start_and_on_demand_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(open(dir.path(), Arc::new(Keychain::mock()), None));
    let mut events = desk.subscribe();
    let puller = Puller::spawn(
        desk.clone(),
        Duration::from_secs(3600),
        &tokio::runtime::Handle::current(),
    );
    // The first tick is immediate: a fresh start fills the window without waiting.
    let first = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("a pull at start")
        .unwrap();
    assert!(matches!(first, DeskEvent::MirrorUpdated { .. }));

    let status = puller.pull_now().await.unwrap();
    assert_eq!(status.appointments, 3 * 36);

    puller.shutdown().await;
    assert_eq!(
        puller.pull_now().await.unwrap_err().code(),
        "internal.stopped",
        "a stopped puller says so instead of hanging"
    );
}

#[tokio::test]
async fn a_csv_import_replaces_its_days_switches_a_demo_install_and_is_not_pulled_over() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), Arc::new(Keychain::mock()), None);
    desk.pull().await.unwrap();
    let csv = "日付,時刻,氏名,フリガナ,電話番号,来院理由\n\
               2026-11-25,09:00,山田 太郎,ヤマダ タロウ,090-1234-5678,定期受診\n\
               2026-11-25,09:30,鈴木 花子,スズキ ハナコ,,発熱\n";
    let report = desk.import_csv(csv.as_bytes().to_vec()).await.unwrap();
    assert_eq!(report.appointments, 2);
    assert!(report.switched_to_csv);
    assert!(!report.upstream_replaces_it);
    let day = NaiveDate::from_ymd_opt(2026, 11, 25);
    let view = desk.today(day).await.unwrap();
    let names: Vec<_> = view
        .appointments
        .iter()
        .map(|a| a.patient.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        ["山田 太郎", "鈴木 花子"],
        "the demo day is replaced"
    );
    assert_eq!(desk.settings().source, tsunagi_core::model::SourceKind::Csv);

    // With CSV as the source the puller has nothing to fetch: the import stays.
    let before = desk.status().await.unwrap();
    desk.pull().await.unwrap();
    assert_eq!(desk.status().await.unwrap(), before);

    // A file with a bad row changes nothing.
    let bad = "date,time,name\n2026-11-25,9:00,A\n2026-11-25,nine,B\n";
    let e = desk.import_csv(bad.as_bytes().to_vec()).await.unwrap_err();
    assert_eq!(e.code(), "import.rows");
    assert_eq!(desk.today(day).await.unwrap().appointments.len(), 2);
}
