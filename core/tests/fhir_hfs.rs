//! Mirroring a real FHIR server (Helios `hfs` on loopback): a generated clinic day, the
//! official examples, cheap refreshes, and credentials that live only in the keychain.

mod common;

use std::time::Duration;

use chrono::{Days, TimeZone, Utc};
use common::{cli_with_stdin as cli, fhir_desk, runtime, test_now, tokyo_today};
use serde_json::{json, Value};
use tsunagi_core::model::AppointmentStatus;
use tsunagi_testkit::clinic::{clinic_day, mobile, names, STATUSES};
use tsunagi_testkit::fault_proxy::FaultProxy;
use tsunagi_testkit::hfs::Hfs;
use tsunagi_testkit::Session;

#[test]
fn a_paged_clinic_day_is_mirrored_with_kanji_kana_ranked_phones_and_versions() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let today = tokyo_today();
    let day = clinic_day(today, 150, "t");
    hfs.put_all(&day.resources());
    // Outside the mirrored days: two days ago and five days ahead.
    hfs.put_all(&clinic_day(today - Days::new(2), 3, "old").resources());
    hfs.put_all(&clinic_day(today + Days::new(5), 3, "far").resources());

    let f = fhir_desk(&proxy.url(), test_now(), 20);
    let rt = runtime();
    let status = rt.block_on(f.desk.pull()).unwrap();
    assert_eq!(status.appointments, 150, "only today and the next two days");
    assert_eq!(status.upstream.as_deref(), Some(proxy.url().as_str()));
    let searches = proxy
        .paths()
        .iter()
        .filter(|p| p.starts_with("/Appointment?"))
        .count();
    assert!(
        searches >= 2,
        "150 appointments come in pages of 100: {searches}"
    );

    let view = rt.block_on(f.desk.today(None)).unwrap();
    assert_eq!(view.appointments.len(), 150);
    let statuses: Vec<_> = view.appointments.iter().map(|a| a.status).collect();
    for code in STATUSES {
        let s = AppointmentStatus::from_code(code).unwrap();
        assert!(statuses.contains(&s), "status {code} is mirrored");
    }
    for (i, a) in view.appointments.iter().enumerate() {
        assert_eq!(a.id, format!("ta{i}"), "time order");
        assert_eq!(a.version.as_deref(), Some("1"), "versionId kept");
        let p = a.patient.as_ref().expect("the patient was included");
        let (kanji, kana) = names(i);
        assert_eq!(p.name, kanji);
        assert_eq!(p.kana.as_deref(), Some(kana.as_str()));
        let e164: Vec<&str> = p
            .phones
            .iter()
            .filter_map(|ph| ph.e164.as_deref())
            .collect();
        let expected_first = format!("+81{}", &mobile(i).replace('-', "")[1..]);
        match i {
            i if i % 11 == 4 => assert!(p.phones.is_empty(), "email only: no phone"),
            i if i % 7 == 3 => {
                assert_eq!(e164.len(), 2);
                assert_eq!(e164[0], expected_first, "rank 1 first");
            }
            _ => assert_eq!(e164, [expected_first.as_str()], "old numbers left out"),
        }
    }
}

fn pull_changed(f: &common::FhirDesk, rt: &tokio::runtime::Runtime) -> bool {
    let status = rt.block_on(f.desk.pull()).unwrap();
    status.last_pull.unwrap().changed.unwrap()
}

#[test]
fn a_refresh_checks_cheaply_and_still_sees_edits_deletions_and_moves() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let today = tokyo_today();
    let day = clinic_day(today, 30, "r");
    hfs.put_all(&day.resources());
    // Let the seeding fall behind the change check's safety margin.
    std::thread::sleep(Duration::from_secs(3));

    let f = fhir_desk(&proxy.url(), test_now(), 20);
    let rt = runtime();
    proxy.reset_counters();
    assert!(pull_changed(&f, &rt), "the first pull is a full one");
    let (_, full) = proxy.bytes();
    proxy.reset_counters();
    assert!(!pull_changed(&f, &rt), "nothing changed upstream");
    let (_, refresh) = proxy.bytes();
    assert!(
        refresh * 10 < full,
        "a refresh costs a fraction of a pull: {refresh} vs {full} bytes"
    );

    // Cancelled upstream: seen, with its new version.
    let mut a3 = day.appointments[13].clone();
    a3["status"] = json!("cancelled");
    hfs.put(&a3);
    assert!(pull_changed(&f, &rt));
    let view = rt.block_on(f.desk.today(None)).unwrap();
    let row = view.appointments.iter().find(|a| a.id == "ra13").unwrap();
    assert_eq!(row.status, AppointmentStatus::Cancelled);
    assert_eq!(row.version.as_deref(), Some("2"));

    // Deleted upstream: gone from the mirror.
    hfs.delete("Appointment", "ra14");
    assert!(pull_changed(&f, &rt));
    // Moved to another week: gone from today and from the mirror.
    let mut a15 = day.appointments[15].clone();
    let later = today + Days::new(7);
    a15["start"] = json!(format!("{later}T10:00:00+09:00"));
    a15["end"] = json!(format!("{later}T10:10:00+09:00"));
    hfs.put(&a15);
    assert!(pull_changed(&f, &rt));
    // A patient's new phone number.
    let mut p16: Value = day.patients[16].clone();
    p16["telecom"] = json!([{"system": "phone", "value": "080-2222-3333", "rank": 1}]);
    hfs.put(&p16);
    assert!(pull_changed(&f, &rt));

    let view = rt.block_on(f.desk.today(None)).unwrap();
    let ids: Vec<&str> = view.appointments.iter().map(|a| a.id.as_str()).collect();
    assert!(!ids.contains(&"ra14") && !ids.contains(&"ra15"), "{ids:?}");
    assert_eq!(view.appointments.len(), 28);
    let p = view
        .appointments
        .iter()
        .find(|a| a.id == "ra16")
        .and_then(|a| a.patient.as_ref())
        .unwrap();
    assert_eq!(p.phones[0].e164.as_deref(), Some("+818022223333"));
    assert_eq!(rt.block_on(f.desk.status()).unwrap().appointments, 28);
}

fn example(name: &str) -> Value {
    let path = tsunagi_testkit::package_dir()
        .join("tests/fixtures/fhir-r4-examples")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_official_examples_mirror_on_their_own_day() {
    let hfs = Hfs::start();
    for name in [
        "Patient-example.json",
        "Appointment-example.json",
        "Appointment-2docs.json",
        "Appointment-examplereq.json",
    ] {
        hfs.put(&example(name));
    }
    // Noon in Tokyo on 2013-12-09: the window covers the 9th to the 11th.
    let noon = Utc.with_ymd_and_hms(2013, 12, 9, 3, 0, 0).unwrap();
    let f = fhir_desk(&hfs.base_url(), noon, 20);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();
    let all: Vec<_> = (0..3)
        .flat_map(|d| {
            let date = noon.with_timezone(&chrono_tz::Asia::Tokyo).date_naive() + Days::new(d);
            rt.block_on(f.desk.today(Some(date))).unwrap().appointments
        })
        .collect();
    let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        ["2docs", "example"],
        "the proposed one has no start yet"
    );
    for a in &all {
        let p = a.patient.as_ref().unwrap();
        assert_eq!(p.name, "Chalmers Peter James");
        assert_eq!(
            p.phones.len(),
            2,
            "work and mobile; the old number is not called"
        );
    }
}

#[test]
fn credentials_go_to_the_keychain_only_and_a_wrong_one_is_an_auth_error() {
    tsunagi_testkit::clear_of_midnight(std::time::Duration::from_secs(300));
    let hfs = Hfs::start();
    hfs.put_all(&clinic_day(tokyo_today(), 5, "c").resources());
    let proxy = FaultProxy::start(&hfs.base_url());
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    let url = proxy.url();

    proxy.require_authorization(Some("Bearer s3cret-token"));
    let o = cli(
        &session,
        data.path(),
        &["source", "fhir", &url, "--token-stdin"],
        "s3cret-token\n",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("5 appointments"));
    let config = std::fs::read_to_string(data.path().join("config.toml")).unwrap();
    assert!(!config.contains("s3cret"), "{config}");
    assert!(config.contains("auth = \"bearer\""), "{config}");
    let device = config
        .lines()
        .find_map(|l| l.strip_prefix("device_id = "))
        .unwrap()
        .trim_matches('"');
    let stored = session
        .command("secret-tool")
        .args(["lookup", "service", "jp.tsunagi.desk", "username"])
        .arg(format!("fhir-credential/{device}/fhir:{url}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&stored.stdout), "s3cret-token");

    // The server stops accepting it: the next pull says so, in one line.
    proxy.require_authorization(Some("Bearer rotated"));
    let o = cli(&session, data.path(), &["pull"], "");
    assert_eq!(o.status.code(), Some(6));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("[source.auth]") && !err.contains("rotated"),
        "{err}"
    );

    // Basic auth: the user name in the config, the password in the keychain.
    proxy.require_authorization(Some("Basic ZGVzazpwYXNz"));
    let o = cli(
        &session,
        data.path(),
        &[
            "source",
            "fhir",
            &url,
            "--basic",
            "desk",
            "--password-stdin",
        ],
        "pass\n",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config = std::fs::read_to_string(data.path().join("config.toml")).unwrap();
    assert!(
        config.contains("username = \"desk\"") && !config.contains("pass\""),
        "{config}"
    );
}
