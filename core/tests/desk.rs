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
    open_with_clock(dir, keychain, locale).0
}

/// A desk on the test's clock (10:05 in Tokyo on 2026-11-25), which the test moves.
fn open_with_clock(
    dir: &std::path::Path,
    keychain: Arc<Keychain>,
    locale: Option<&str>,
) -> (Desk, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 25, 1, 5, 0).unwrap(),
    ));
    let desk = Desk::open(DeskOptions {
        data_dir: DataDir::at(dir),
        keychain,
        clock: clock.clone(),
        locale: locale.map(str::to_owned),
    })
    .unwrap();
    (desk, clock)
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
        Arc::new(|| false),
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

/// Issue 17: on a backup or metered line the mirror is refreshed ten times less often
/// (a full day's pull each minute would spend a phone's data plan); back on the primary
/// line, the pull skipped is made at once.
#[tokio::test]
async fn issue_17_on_a_frugal_line_the_mirror_is_pulled_less_often_and_at_once_after() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(open(dir.path(), Arc::new(Keychain::mock()), None));
    let mut events = desk.subscribe();
    let frugal = Arc::new(AtomicBool::new(true));
    let every = Duration::from_millis(200);
    let puller = Puller::spawn(
        desk.clone(),
        every,
        {
            let frugal = frugal.clone();
            Arc::new(move || frugal.load(Ordering::SeqCst))
        },
        &tokio::runtime::Handle::current(),
    );
    let pulled = async |events: &mut tokio::sync::broadcast::Receiver<DeskEvent>, within| {
        let deadline = tokio::time::Instant::now() + within;
        let mut n = 0;
        while let Ok(Ok(e)) = tokio::time::timeout_at(deadline, events.recv()).await {
            if matches!(e, DeskEvent::MirrorUpdated { .. }) {
                n += 1;
            }
        }
        n
    };
    // The pull at start, then none for 1.5 s (it would be seven at the ordinary pace).
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("a pull at start")
            .unwrap();
        if matches!(e, DeskEvent::MirrorUpdated { .. }) {
            break;
        }
    }
    assert_eq!(
        pulled(&mut events, Duration::from_millis(1500)).await,
        0,
        "frugal: every {:?}",
        every * tsunagi_core::puller::FRUGAL_PULL_FACTOR
    );
    // The primary line is back: pulled within one ordinary interval, then at its pace.
    frugal.store(false, Ordering::SeqCst);
    let after = pulled(&mut events, Duration::from_millis(1000)).await;
    assert!(after >= 3, "pulled again at the ordinary pace: {after}");
    puller.shutdown().await;
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

/// A keychain that takes 5 s to answer once `slow` is set (a Secret Service stuck on
/// D-Bus), and says when its last slow answer came back.
mod slow_keychain {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};

    #[derive(Debug, Default)]
    pub struct Slow {
        pub on: AtomicBool,
        pub answered: Mutex<Option<Instant>>,
        secrets: Mutex<HashMap<String, Vec<u8>>>,
    }

    #[derive(Debug)]
    struct Entry(Arc<Slow>, String);

    impl CredentialApi for Entry {
        fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
            let mut secrets = self.0.secrets.lock().unwrap();
            secrets.insert(self.1.clone(), secret.to_vec());
            Ok(())
        }
        fn get_secret(&self) -> keyring::Result<Vec<u8>> {
            if self.0.on.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_secs(5));
                *self.0.answered.lock().unwrap() = Some(Instant::now());
            }
            let secrets = self.0.secrets.lock().unwrap();
            secrets.get(&self.1).cloned().ok_or(keyring::Error::NoEntry)
        }
        fn delete_credential(&self) -> keyring::Result<()> {
            let mut secrets = self.0.secrets.lock().unwrap();
            secrets
                .remove(&self.1)
                .map(drop)
                .ok_or(keyring::Error::NoEntry)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[derive(Debug)]
    pub struct Builder(pub Arc<Slow>);

    impl CredentialBuilderApi for Builder {
        fn build(
            &self,
            _target: Option<&str>,
            _service: &str,
            user: &str,
        ) -> keyring::Result<Box<Credential>> {
            Ok(Box::new(Entry(self.0.clone(), user.to_owned())))
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
}

/// Issue 15: the pull and the sender read the FHIR credential from the OS keychain on the
/// async threads, so a keychain stuck for 5 s stalled every other answer the window waited
/// for (here with one worker thread, the worst case of the app's pool).
#[test]
fn issue_15_a_slow_keychain_does_not_hold_up_the_windows_other_answers() {
    use std::sync::atomic::Ordering;
    use tsunagi_core::config::FhirAuthKind;
    use tsunagi_core::desk::SourceOptions;
    use tsunagi_core::SourceSetup;

    let dir = tempfile::tempdir().unwrap();
    let slow = Arc::new(slow_keychain::Slow::default());
    let keychain = Arc::new(Keychain::with_backend(Box::new(slow_keychain::Builder(
        slow.clone(),
    ))));
    let desk = Arc::new(open(dir.path(), keychain, Some("ja-JP")));
    // A server that needs a token; nothing listens there (the pull fails after the read).
    desk.configure_source(
        SourceSetup::Fhir {
            base_url: "http://127.0.0.1:9/fhir".into(),
            auth: FhirAuthKind::Bearer,
            username: None,
            secret: Some("token".into()),
        },
        SourceOptions {
            allow_plain_http: None,
            confirmed: true,
        },
    )
    .unwrap();
    slow.on.store(true, Ordering::SeqCst);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (pulled, sent, answered) = rt.block_on(async {
        let pull = tokio::spawn({
            let desk = desk.clone();
            async move { desk.pull().await }
        });
        let send = tokio::spawn({
            let desk = desk.clone();
            async move { desk.drain_round().await }
        });
        // Both are now waiting on the keychain.
        tokio::time::sleep(Duration::from_millis(300)).await;
        desk.today(None).await.unwrap();
        let answered = std::time::Instant::now();
        (pull.await.unwrap(), send.await.unwrap(), answered)
    });
    assert!(pulled.is_err(), "nothing listens at the server");
    assert!(sent.is_ok(), "{sent:?}");
    let keychain_answered = slow
        .answered
        .lock()
        .unwrap()
        .expect("the keychain was read");
    assert!(
        answered < keychain_answered,
        "the day's appointments waited for the keychain"
    );
}

/// Issue 15: a change waited for the sender's next timer (30 s in the app) unless a person
/// pressed 今すぐ同期; now the runtime's sender goes as soon as it is queued.
/// A runtime over `desk` whose pull and send timers are far beyond any test: only what the
/// test is about can make it pull or send.
fn runtime_without_timers(desk: &Arc<Desk>) -> tsunagi_core::runtime::Runtime {
    let hour = Duration::from_secs(3600);
    let options = tsunagi_core::runtime::RuntimeOptions {
        pull_every: hour,
        send_every: hour,
        track_run: false,
    };
    tsunagi_core::runtime::Runtime::start(desk.clone(), options, &tokio::runtime::Handle::current())
        .unwrap()
}

fn two_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The first desk event `pick` accepts, within 10 s (`what` names it when none comes).
async fn desk_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<tsunagi_core::runtime::RuntimeEvent>,
    what: &str,
    pick: impl Fn(DeskEvent) -> Option<T>,
) -> T {
    desk_event_within(events, Duration::from_secs(10), what, pick).await
}

async fn desk_event_within<T>(
    events: &mut tokio::sync::broadcast::Receiver<tsunagi_core::runtime::RuntimeEvent>,
    within: Duration,
    what: &str,
    pick: impl Fn(DeskEvent) -> Option<T>,
) -> T {
    use tsunagi_core::runtime::RuntimeEvent;
    tokio::time::timeout(within, async {
        loop {
            if let Ok(RuntimeEvent::Desk { event }) = events.recv().await {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}"))
}

/// The outbox counts once everything waiting was sent.
fn all_sent(event: DeskEvent) -> Option<tsunagi_core::outbox::OutboxCounts> {
    match event {
        DeskEvent::OutboxChanged { counts } if counts.waiting() == 0 && counts.done > 0 => {
            Some(counts)
        }
        _ => None,
    }
}

async fn cancel_first_appointment(desk: &Desk) {
    use tsunagi_core::calls::{CallOutcome, CallRecord};
    let id = desk.today(None).await.unwrap().appointments[0].id.clone();
    desk.record_call(CallRecord {
        appointment_id: id,
        outcome: CallOutcome::Cancelled,
        new_start: None,
        note: None,
        staff: None,
        replace_earlier: false,
    })
    .await
    .unwrap();
}

/// A receipt: not held for 元に戻す (it is voided instead), so it goes at once.
async fn add_a_receipt(desk: &Desk) {
    desk.add_receipt(tsunagi_core::receipts::ReceiptInput {
        amount: "1500".to_owned(),
        method: tsunagi_core::receipts::PaymentMethod::Cash,
        patient_id: None,
        patient_name: Some("受付 テスト".to_owned()),
        memo: None,
        staff: None,
        repeat_ok: false,
    })
    .await
    .unwrap();
}

#[test]
fn issue_15_a_queued_change_wakes_the_sender_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(open(dir.path(), Arc::new(Keychain::mock()), Some("ja-JP")));
    two_worker_runtime().block_on(async {
        desk.pull().await.unwrap();
        let runtime = runtime_without_timers(&desk);
        let mut events = runtime.subscribe();
        // The sender's first round at start has nothing to send.
        tokio::time::sleep(Duration::from_millis(500)).await;
        add_a_receipt(&desk).await;
        let sent = desk_event(
            &mut events,
            "the change was sent without waiting for the timer",
            all_sent,
        )
        .await;
        assert_eq!(sent.need_a_person(), 0, "{sent:?}");
        runtime.shutdown().await;
    });
}

/// A change made from the terminal (another process writes config.toml) reaches the
/// running app's screens within seconds, without anyone asking for the config: the
/// runtime reads the file again off the async threads, and the desk says it changed.
#[test]
fn issue_15_a_config_changed_from_the_terminal_reaches_the_screens_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let desk = Arc::new(open(dir.path(), keychain.clone(), Some("ja-JP")));
    assert_eq!(desk.config().language, Language::Ja);
    two_worker_runtime().block_on(async {
        let runtime = runtime_without_timers(&desk);
        let mut events = runtime.subscribe();
        // The terminal's process: its own desk on the same folder.
        let terminal = open(dir.path(), keychain.clone(), Some("ja-JP"));
        terminal
            .change_settings(SettingsChange {
                language: Some(Language::En),
                ..SettingsChange::default()
            })
            .unwrap();
        desk_event(&mut events, "the screens were told within seconds", |e| {
            matches!(e, DeskEvent::ConfigChanged {}).then_some(())
        })
        .await;
        assert_eq!(desk.config().language, Language::En);
        runtime.shutdown().await;
    });
}

/// A change recorded from the terminal (another process) while the app's runtime runs is
/// sent within seconds, not at the sender's next timer.
#[test]
fn issue_15_a_change_queued_from_the_terminal_wakes_the_apps_sender() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let (desk, clock) = open_with_clock(dir.path(), keychain.clone(), Some("ja-JP"));
    let desk = Arc::new(desk);
    two_worker_runtime().block_on(async {
        desk.pull().await.unwrap();
        let runtime = runtime_without_timers(&desk);
        let mut events = runtime.subscribe();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let terminal = open(dir.path(), keychain.clone(), Some("ja-JP"));
        // A cancellation: held while the window offers 元に戻す (issue 20), then sent by
        // the sender's own schedule, not its hour-long timer.
        let queued = std::time::Instant::now();
        cancel_first_appointment(&terminal).await;
        let hold = tsunagi_core::desk::UNDO_HOLD;
        // The app's clock moves on with the wall clock (the sender comes back by itself).
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            clock.advance(chrono::Duration::from_std(hold).unwrap());
        });
        let sent = desk_event_within(
            &mut events,
            hold + Duration::from_secs(10),
            "the terminal's change was sent without waiting for the timer",
            all_sent,
        )
        .await;
        assert!(
            queued.elapsed() >= Duration::from_secs(tsunagi_core::calls::UNDO_SECONDS.into()),
            "held while it could be taken back: sent after {:?}",
            queued.elapsed()
        );
        assert_eq!(sent.need_a_person(), 0, "{sent:?}");
        runtime.shutdown().await;
    });
}

/// A booking vendor's export (issue 19): no column name Tsunagi knows, the date and time in
/// one cell, two phone columns, and a 受付No that stays with the appointment.
fn vendor_export(rows: &[(&str, &str, &str)]) -> String {
    let mut csv = String::from("受付No,診察日時,患者氏名,自宅TEL,携帯TEL,診療科\n");
    for (id, when, name) in rows {
        csv.push_str(&format!(
            "{id},{when},{name},03-3456-7890,090-1234-5678,内科\n"
        ));
    }
    csv
}

fn vendor_mapping() -> tsunagi_core::csv_import::ColumnMapping {
    use tsunagi_core::csv_import::{ColumnMapping, Field, MappedColumn};
    let col = |index: u32, header: &str, field| MappedColumn {
        index,
        header: header.into(),
        field,
    };
    ColumnMapping {
        columns: vec![
            col(0, "受付No", Field::Id),
            col(1, "診察日時", Field::DateTime),
            col(2, "患者氏名", Field::Name),
            col(3, "自宅TEL", Field::Phone),
            col(4, "携帯TEL", Field::Phone),
            col(5, "診療科", Field::Reason),
        ],
    }
}

#[tokio::test]
async fn issue_19_a_vendor_export_mapped_once_is_read_by_its_header_next_morning_with_its_calls_attached(
) {
    use tsunagi_core::calls::{CallOutcome, CallRecord};
    use tsunagi_core::CsvColumns;
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), Arc::new(Keychain::mock()), None);
    let morning = vendor_export(&[
        ("R-101", "2026/11/25 10:30", "山田 太郎"),
        ("R-102", "2026/11/25 11:00", "鈴木 花子"),
    ]);

    // Never seen: refused, nothing changes, the screen gets the rows to map.
    let refused = desk
        .import_csv_for_screen(morning.clone().into_bytes(), CsvColumns::Auto)
        .await
        .unwrap();
    assert!(refused.report.is_none());
    assert_eq!(
        refused.problems[0].problem.clone(),
        tsunagi_core::csv_import::ProblemKind::MissingColumn {
            column: tsunagi_core::csv_import::RequiredColumn::Date
        }
    );
    let preview = desk
        .csv_preview(morning.clone().into_bytes())
        .await
        .unwrap();
    assert_eq!(preview.rows[0][2], "山田 太郎");

    // A mapping with a wrong row is not saved (the import changed nothing).
    let broken = vendor_export(&[("R-101", "明日", "山田 太郎")]);
    let new = |name: &str| CsvColumns::New {
        name: name.into(),
        mapping: vendor_mapping(),
    };
    let e = desk
        .import_csv_with(broken.into_bytes(), new("予約システム"), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "import.rows");
    assert!(desk.csv_mappings().await.unwrap().is_empty());

    let report = desk
        .import_csv_with(morning.into_bytes(), new("予約システム"), None)
        .await
        .unwrap();
    assert_eq!(report.appointments, 2);
    assert_eq!(report.mapping.as_deref(), Some("予約システム"));
    let saved = desk.csv_mappings().await.unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].header[1], "診察日時");

    let yamada = "csv-R-101".to_owned();
    desk.record_call(CallRecord {
        appointment_id: yamada.clone(),
        outcome: CallOutcome::NoAnswer,
        new_start: None,
        note: None,
        staff: None,
        replace_earlier: false,
    })
    .await
    .unwrap();

    // The next file, saved by the booking system in Shift_JIS: rows in another order, one
    // moved, one new. Read through the saved mapping by its header line alone.
    let next = vendor_export(&[
        ("R-103", "2026/11/25 12:00", "佐藤 健一"),
        ("R-101", "2026/11/25 14:00", "山田 太郎"),
        ("R-102", "2026/11/25 11:00", "鈴木 花子"),
    ]);
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&next);
    let report = desk.import_csv(sjis.into_owned()).await.unwrap();
    assert_eq!(report.appointments, 3);
    assert_eq!(report.mapping.as_deref(), Some("予約システム"));

    let list = desk.call_list(false).await.unwrap();
    let entry = list
        .entries
        .iter()
        .find(|e| e.appointment_id == yamada)
        .expect("山田 is still on the list under the same id");
    assert_eq!(entry.time_label, "14:00", "the moved time is read");
    assert_eq!(
        entry.attempts.iter().map(|a| a.outcome).collect::<Vec<_>>(),
        [CallOutcome::NoAnswer],
        "the morning's call stays with the appointment"
    );
    let phones = &entry.patient.as_ref().unwrap().phones;
    assert_eq!(phones.len(), 2, "both phone columns");

    // By name, as the CLI's --mapping and the watched folder ask for it.
    let again = vendor_export(&[("R-101", "2026/11/25 15:00", "山田 太郎")]);
    let by_name = desk
        .import_csv_with(
            again.into_bytes(),
            CsvColumns::Saved {
                name: "予約システム".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_name.appointments, 1);
    let unknown = desk
        .import_csv_with(
            b"a,b\n1,2\n".to_vec(),
            CsvColumns::Saved {
                name: "ない".into(),
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("\"ない\""), "{unknown}");
}

/// Issue 18: the window runs in a process of its own and the runtime in the tray process.
/// Over the local channel the window hears the runtime's events, asks for 最新に更新 and
/// the line, and a change it writes itself reaches its screen as the runtime sees it; a
/// second launch's "show" reaches the tray; the line comes in the language the window just
/// chose. Only this user can connect, and when the tray stops the window hears it (the
/// socket is gone, asks fail with a code).
#[test]
fn issue_18_a_window_in_another_process_follows_the_runtime_over_the_local_channel() {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tsunagi_core::runtime::local::{self, Ask, LocalClient};

    let rt = two_worker_runtime();
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let tray_desk = Arc::new(open(dir.path(), keychain.clone(), Some("ja-JP")));
    let runtime = runtime_without_timers(&tray_desk);
    // A crash left a socket file behind: the tray serves anyway.
    let address = local::address(&DataDir::at(dir.path()));
    std::fs::write(&address, b"").unwrap();
    let shows = Arc::new(AtomicUsize::new(0));
    let windows = {
        let shows = shows.clone();
        local::Windows::new(move || {
            shows.fetch_add(1, Ordering::SeqCst);
        })
    };
    let (stop, stops) = tokio::sync::watch::channel(false);
    let served = rt.spawn(local::serve(runtime.clone(), windows, stops));

    rt.block_on(async {
        let window = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match LocalClient::connect(&DataDir::at(dir.path())).await {
                    Ok(client) => break client,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        })
        .await
        .expect("the tray's channel answers");
        let mode = std::fs::metadata(&address).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the desk's user may connect");

        let line = window.ask(Ask::Line).await.unwrap();
        assert!(line["status"]["state"].is_string(), "a LineView: {line}");
        assert!(line["advice"].is_object(), "a LineView: {line}");

        // 最新に更新 from the window: the runtime pulls, answers, and says so.
        let mut events = window.events();
        let status = window.ask(Ask::SyncNow).await.unwrap();
        assert_eq!(status["appointments"].as_u64(), Some(108), "{status}");
        let announced = next_event(&mut events, |e| {
            e["kind"] == "desk" && e["event"]["kind"] == "mirror-updated"
        })
        .await;
        assert_eq!(announced["event"]["status"]["appointments"], 108);

        // The window writes with its own desk (its own process), as the app does.
        let window_desk = open(dir.path(), keychain.clone(), Some("ja-JP"));
        cancel_first_appointment(&window_desk).await;
        window.ask(Ask::Wrote).await.unwrap();
        let queued = next_event(&mut events, |e| {
            let counts = &e["event"]["counts"];
            let total: u64 = [
                "pending", "sending", "done", "not_sent", "conflict", "rejected",
            ]
            .iter()
            .filter_map(|k| counts[*k].as_u64())
            .sum();
            e["kind"] == "desk" && e["event"]["kind"] == "outbox-changed" && total >= 1
        })
        .await;
        assert!(queued["event"]["counts"].is_object());

        // The window switches the desk to English and asks for the line at once, before
        // its "wrote" reaches the tray: the banner and diagnosis come in English (they
        // stayed Japanese: the tray worded them from the config it read before).
        window_desk
            .change_settings(SettingsChange {
                language: Some(Language::En),
                ..SettingsChange::default()
            })
            .unwrap();
        let line = window.ask(Ask::Line).await.unwrap();
        let english = tsunagi_core::monitor::advice::LineView::new(
            runtime.line(),
            None,
            &window_desk.config(),
        );
        assert_eq!(
            line["advice"]["headline"], english.advice.headline,
            "the line in the language just chosen: {line}"
        );

        window.ask(Ask::Show).await.unwrap();
        assert_eq!(
            shows.load(Ordering::SeqCst),
            1,
            "a second launch shows the window"
        );

        // The tray stops: its socket goes, and the window knows.
        stop.send(true).unwrap();
        served.await.unwrap().unwrap();
        assert!(
            !address.exists(),
            "the socket is removed when the tray stops"
        );
        let mut closed = window.closed();
        tokio::time::timeout(Duration::from_secs(5), closed.wait_for(|gone| *gone))
            .await
            .expect("the window hears the tray is gone")
            .unwrap();
        let refused = window.ask(Ask::Line).await.unwrap_err();
        assert_eq!(refused.code, "internal.stopped");
        assert!(LocalClient::connect(&DataDir::at(dir.path()))
            .await
            .is_err());
        runtime.shutdown().await;
    });
}

/// A raise (an outage, the tray, a second launch) reaches the window that follows the
/// runtime over the channel; a new window is started only when none is there. Before, the
/// tray started the app's process on every raise, even with a window open (a second Tauri
/// process that only handed the raise on through the single-instance lock). A window that
/// leaves says so first: a raise sent before arrives ahead of the answer, so the window
/// stays for it; one sent after starts a new window once the old one is gone.
#[test]
fn issue_18_a_raise_reaches_the_window_that_is_there_instead_of_starting_another() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tsunagi_core::runtime::local::{self, Ask, LocalClient};

    let rt = two_worker_runtime();
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(open(dir.path(), Arc::new(Keychain::mock()), Some("ja-JP")));
    let runtime = runtime_without_timers(&desk);
    let started = Arc::new(AtomicUsize::new(0));
    let windows = {
        let started = started.clone();
        local::Windows::new(move || {
            started.fetch_add(1, Ordering::SeqCst);
        })
    };
    let (stop, stops) = tokio::sync::watch::channel(false);
    let served = rt.spawn(local::serve(runtime.clone(), windows.clone(), stops));
    let data_dir = DataDir::at(dir.path());

    rt.block_on(async {
        let connect = || async {
            tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match LocalClient::connect(&data_dir).await {
                        Ok(client) => break client,
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
            .await
            .expect("the tray's channel answers")
        };
        let second_launch = || async { assert!(local::ask_to_show(&data_dir).await) };
        let started_now = || started.load(Ordering::SeqCst);

        // No window yet: a raise starts one.
        windows.raise();
        assert_eq!(started_now(), 1, "no window was there: one is started");

        // The window comes up and says it is one: raises reach it, none starts another.
        let window = connect().await;
        let mut shows = window.show_requests();
        window.ask(Ask::Window).await.unwrap();
        second_launch().await;
        windows.raise();
        tokio::time::timeout(Duration::from_secs(5), shows.wait_for(|n| *n == 2))
            .await
            .expect("both raises reach the window that is there")
            .unwrap();
        assert_eq!(
            started_now(),
            1,
            "no second window process for a window that is there"
        );

        // A raise sent just before the window says it leaves arrives ahead of the answer,
        // so the window knows to stay.
        windows.raise();
        window.ask(Ask::Leaving).await.unwrap();
        assert_eq!(
            *shows.borrow(),
            3,
            "the raise is seen before `leaving` is answered"
        );
        window.ask(Ask::Window).await.unwrap();

        // It leaves for good: a raise from then on waits until its process is gone, then
        // starts a new window.
        window.ask(Ask::Leaving).await.unwrap();
        second_launch().await;
        assert_eq!(
            *shows.borrow(),
            3,
            "a leaving window is not asked to show itself"
        );
        assert_eq!(started_now(), 1, "not while the leaving window still runs");
        drop((window, shows));
        tokio::time::timeout(Duration::from_secs(5), async {
            while started_now() < 2 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("a new window is started once the one that left is gone");

        // The new window follows; its raise is its own.
        let window = connect().await;
        let mut shows = window.show_requests();
        window.ask(Ask::Window).await.unwrap();
        second_launch().await;
        tokio::time::timeout(Duration::from_secs(5), shows.wait_for(|n| *n == 1))
            .await
            .expect("the new window is raised")
            .unwrap();
        assert_eq!(started_now(), 2);

        stop.send(true).unwrap();
        served.await.unwrap().unwrap();
        runtime.shutdown().await;
    });
}

/// A window whose tray process is gone tells a stop from a crash by what the runtime left
/// in the database: one that stopped marked its run ended, and the window closes with it;
/// one that crashed did not, and the window starts it again (not in a loop: a second crash
/// within a minute of that leaves it down). Before, the window closed on a crash as well,
/// and nobody watched the line until the next login.
#[test]
fn issue_18_a_window_tells_a_stopped_tray_from_a_crashed_one() {
    use tsunagi_core::runtime::local::{after_the_runtime_left, AfterTheRuntime};

    let rt = two_worker_runtime();
    let _guard = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let tray_desk = Arc::new(open(dir.path(), keychain.clone(), Some("ja-JP")));
    let window_desk = open(dir.path(), keychain, Some("ja-JP"));
    let hour = Duration::from_secs(3600);
    let runtime = tsunagi_core::runtime::Runtime::start(
        tray_desk.clone(),
        tsunagi_core::runtime::RuntimeOptions {
            pull_every: hour,
            send_every: hour,
            ..Default::default()
        },
        &tokio::runtime::Handle::current(),
    )
    .unwrap();
    rt.block_on(async {
        // Running, as a crash leaves it: its run is not marked ended.
        tokio::time::timeout(Duration::from_secs(10), async {
            while window_desk.last_runtime_stopped_cleanly().await.unwrap() != Some(false) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the runtime records its run");
        assert_eq!(
            after_the_runtime_left(&window_desk, None).await,
            AfterTheRuntime::StartAgain,
            "a crashed tray is started again"
        );
        assert_eq!(
            after_the_runtime_left(&window_desk, Some(std::time::Instant::now())).await,
            AfterTheRuntime::Close,
            "not again within a minute of starting it again"
        );

        runtime.shutdown().await;
        assert_eq!(
            after_the_runtime_left(&window_desk, None).await,
            AfterTheRuntime::Close,
            "a stopped tray (終了) is not started again"
        );
    });
}

/// The first event from the tray's channel that `pick` accepts, within 10 s.
async fn next_event(
    events: &mut tokio::sync::broadcast::Receiver<serde_json::Value>,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(event) = events.recv().await {
                if pick(&event) {
                    return event;
                }
            }
        }
    })
    .await
    .expect("the event reaches the window")
}
