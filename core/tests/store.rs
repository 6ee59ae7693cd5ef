//! The encrypted store, through the public API, on real SQLCipher files in temp dirs.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tsunagi_core::calendar::UtcRange;
use tsunagi_core::clock::ManualClock;
use tsunagi_core::config::DataDir;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::model::{Appointment, AppointmentStatus, MirrorSnapshot, Patient, SourceKind};
use tsunagi_core::phone::Phone;
use tsunagi_core::store::{Create, DbKey, Refresh, Store};
use tsunagi_core::{Desk, DeskOptions};

fn morning() -> chrono::DateTime<Utc> {
    // 2026-11-25 08:30 in Tokyo.
    Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap()
}

fn open_desk(dir: &std::path::Path, keychain: &Arc<Keychain>) -> tsunagi_core::Result<Desk> {
    Desk::open(DeskOptions {
        data_dir: DataDir::at(dir),
        keychain: keychain.clone(),
        clock: Arc::new(ManualClock::new(morning())),
        locale: Some("ja-JP".into()),
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every file SQLite may have written for this database.
fn database_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    ["tsunagi.db", "tsunagi.db-wal", "tsunagi.db-shm"]
        .iter()
        .filter_map(|name| {
            std::fs::read(dir.join(name))
                .ok()
                .map(|b| (name.to_string(), b))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn unicode_names_round_trip_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let key = DbKey::generate().unwrap();
    let store = Store::open(&path, &key, Create::IfMissing).unwrap();

    // Kanji with a non-BMP character, a variant kanji, decomposed kana (NFD, which must
    // not be normalised away), half-width kana, an emoji ZWJ sequence.
    let names = [
        ("𠮷田 髙橋", Some("ヨシダ タカハシ")),
        ("か\u{3099}んばる 太郎", Some("ｶﾞﾝﾊﾞﾙ ﾀﾛｳ")),
        ("👩‍⚕️ テスト", None),
        ("Zoë O'Brien; DROP TABLE patient;--", Some("ゾーイ")),
    ];
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
    let snapshot = MirrorSnapshot {
        source_key: "test".into(),
        source_kind: SourceKind::Demo,
        patients: names
            .iter()
            .enumerate()
            .map(|(i, (name, kana))| Patient {
                source_id: format!("p{i}"),
                source_version: None,
                name: name.to_string(),
                kana: kana.map(str::to_owned),
                phones: vec![Phone::parse("０９０−１２３４−５６７８")],
            })
            .collect(),
        appointments: (0..names.len())
            .map(|i| Appointment {
                source_id: format!("a{i}"),
                source_version: Some("1".into()),
                start: Some(start + chrono::Duration::minutes(10 * i as i64)),
                end: None,
                status: AppointmentStatus::Booked,
                reason: Some("🤧 くしゃみ".into()),
                patient_id: Some(format!("p{i}")),
            })
            .collect(),
    };
    let window = UtcRange {
        start: start - chrono::Duration::hours(9),
        end: start + chrono::Duration::hours(15),
    };
    let refresh = Refresh {
        window,
        scope: tsunagi_core::store::Scope::Pull,
        deliveries_seen: None,
        since: None,
        keep_from: window.start,
        started_at: start,
        finished_at: start,
        as_of: None,
    };
    store.replace_mirror(&snapshot, refresh, None).unwrap();
    drop(store);

    let store = Store::open(&path, &key, Create::Never).unwrap();
    let rows = store.appointments_in(window).unwrap();
    assert_eq!(rows.len(), names.len());
    for (row, (name, kana)) in rows.iter().zip(names) {
        let p = row.patient.as_ref().unwrap();
        assert_eq!(p.name.as_bytes(), name.as_bytes());
        assert_eq!(
            p.kana.as_deref().map(str::as_bytes),
            kana.map(str::as_bytes)
        );
        assert_eq!(row.appointment.reason.as_deref(), Some("🤧 くしゃみ"));
        assert_eq!(p.phones[0].e164.as_deref(), Some("+819012345678"));
    }
}

#[test]
fn the_file_on_disk_is_encrypted_and_holds_no_patient_data_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let desk = open_desk(dir.path(), &keychain).unwrap();
    let rt = runtime();
    rt.block_on(desk.pull()).unwrap();
    let today = rt.block_on(desk.today(None)).unwrap();
    let first = today.appointments[0].patient.clone().unwrap();
    // The data is really in there...
    assert!(today.appointments.len() >= 30);

    // ...and neither the SQLite header nor any name, reading or number is on disk, in
    // the main file or the write-ahead log.
    let files = database_bytes(dir.path());
    assert!(!files.is_empty());
    let mut needles: Vec<Vec<u8>> = vec![first.name.clone().into(), "さくら通り".into()];
    if let Some(k) = &first.kana {
        needles.push(k.clone().into());
    }
    for phone in &first.phones {
        needles.push(phone.display.clone().into());
        if let Some(e) = &phone.e164 {
            needles.push(e.clone().into());
        }
    }
    for (name, bytes) in &files {
        assert!(
            !bytes.starts_with(b"SQLite format 3\0"),
            "{name} has a plaintext header"
        );
        for needle in &needles {
            assert!(
                !contains(bytes, needle),
                "{name} contains plaintext patient data"
            );
        }
    }
    drop(desk);
    let files = database_bytes(dir.path());
    for (name, bytes) in &files {
        for needle in &needles {
            assert!(
                !contains(bytes, needle),
                "{name} contains plaintext after close"
            );
        }
    }
}

#[test]
fn a_wrong_key_is_a_clear_error_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let key = DbKey::generate().unwrap();
    drop(Store::open(&path, &key, Create::IfMissing).unwrap());
    let before = std::fs::read(&path).unwrap();

    let wrong = DbKey::generate().unwrap();
    for create in [Create::Never, Create::IfMissing] {
        let err = Store::open(&path, &wrong, create).unwrap_err();
        assert_eq!(err.code(), "store.not_decryptable");
        assert!(err.to_string().contains("left untouched"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
    // The right key still opens it.
    Store::open(&path, &key, Create::Never).unwrap();
}

#[test]
fn a_missing_keychain_entry_never_replaces_the_database_with_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let desk = open_desk(dir.path(), &keychain).unwrap();
    runtime().block_on(desk.pull()).unwrap();
    drop(desk);
    let before = database_bytes(dir.path());

    // Same folder, a keychain that has never seen this install (a new PC, a wiped login).
    let empty = Arc::new(Keychain::mock());
    let err = open_desk(dir.path(), &empty).unwrap_err();
    assert_eq!(err.code(), "store.key_missing");
    assert!(err.to_string().contains("keychain"), "{err}");
    assert_eq!(database_bytes(dir.path()), before);

    // With the right keychain everything is still there.
    let desk = open_desk(dir.path(), &keychain).unwrap();
    let status = runtime().block_on(desk.status()).unwrap();
    assert!(status.appointments >= 30);
}

#[test]
fn a_key_of_the_wrong_shape_in_the_keychain_is_not_decryptable() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    drop(open_desk(dir.path(), &keychain).unwrap());
    let device = tsunagi_core::config::Config::load(&DataDir::at(dir.path()).config())
        .unwrap()
        .unwrap()
        .device_id;
    keychain
        .set(&format!("database-key/{device}"), b"short")
        .unwrap();
    assert_eq!(
        open_desk(dir.path(), &keychain).unwrap_err().code(),
        "store.not_decryptable"
    );
}

#[test]
fn a_database_without_its_config_is_not_started_over() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    drop(open_desk(dir.path(), &keychain).unwrap());
    std::fs::remove_file(dir.path().join("config.toml")).unwrap();
    let before = database_bytes(dir.path());
    let err = open_desk(dir.path(), &keychain).unwrap_err();
    assert_eq!(err.code(), "config.missing");
    assert_eq!(database_bytes(dir.path()), before);
    assert!(!dir.path().join("config.toml").exists());
}

#[test]
fn first_start_creates_config_key_and_database_and_the_second_start_reuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain::mock());
    let desk = open_desk(dir.path(), &keychain).unwrap();
    let settings = desk.settings();
    assert_eq!(settings.language, tsunagi_core::config::Language::Ja);
    assert!(settings.autostart);
    drop(desk);
    let config = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(!config.contains("key ="), "no key material in the config");
    let desk = open_desk(dir.path(), &keychain).unwrap();
    assert_eq!(desk.settings(), settings);
}
