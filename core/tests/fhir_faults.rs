//! Whatever a bad line, a captive portal or a sick server answers, the mirror stays
//! exactly as it was (compared row by row) and the failure is named. A loopback proxy in
//! front of the real FHIR server (Helios `hfs`) injects each fault, both into the cheap
//! change check and into the full pull that follows a change.

mod common;

use common::{fhir_desk, runtime, test_now, tokyo_today};
use serde_json::json;
use tsunagi_testkit::clinic::clinic_day;
use tsunagi_testkit::fault_proxy::{Fault, FaultProxy};
use tsunagi_testkit::hfs::Hfs;

const HUGE: usize = 50 * 1024 * 1024;

fn faults() -> Vec<(Fault, &'static str)> {
    vec![
        (Fault::CaptivePortal, "source.not_fhir"),
        (Fault::Redirect, "source.not_fhir"),
        (Fault::Status(401), "source.auth"),
        (Fault::Status(403), "source.auth"),
        (Fault::Status(500), "source.server"),
        (Fault::Status(503), "source.server"),
        (Fault::Status(429), "source.server"),
        (Fault::Status(404), "source.rejected"),
        (Fault::Stall, "source.timeout"),
        (Fault::TruncatedJson, "source.invalid"),
        (Fault::WrongResource, "source.invalid"),
        (
            Fault::Huge {
                bytes: HUGE,
                declared: true,
            },
            "source.too_large",
        ),
        (
            Fault::Huge {
                bytes: HUGE,
                declared: false,
            },
            "source.too_large",
        ),
        (Fault::Reset, "source.unreachable"),
    ]
}

#[test]
fn every_failure_leaves_the_mirror_exactly_as_it_was() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let day = clinic_day(tokyo_today(), 120, "f");
    hfs.put_all(&day.resources());
    let f = fhir_desk(&proxy.url(), test_now(), 2);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();
    let fingerprint = || {
        tsunagi_core::store::Store::open(
            &f.dir.path().join("tsunagi.db"),
            &key(&f),
            tsunagi_core::store::Create::Never,
        )
        .unwrap()
        .mirror_fingerprint()
        .unwrap()
    };

    let mut edits = 0;
    for (fault, code) in faults() {
        let before = fingerprint();
        assert!(before.contains("fa7"), "the mirror has rows to lose");
        // 1. The fault hits the change check.
        proxy.set(fault.clone());
        let e = rt.block_on(f.desk.pull()).unwrap_err();
        assert_eq!(e.code(), code, "{fault:?} on the change check: {e}");
        assert_same_mirror(
            &before,
            &fingerprint(),
            &format!("{fault:?} on the change check"),
        );
        let last = rt.block_on(f.desk.status()).unwrap().last_pull.unwrap();
        assert_eq!(last.error.unwrap().code, code);

        // 2. Something changed upstream; the fault hits the full pull's first page (after
        //    the two count searches that notice the change).
        edits += 1;
        let mut a = day.appointments[7].clone();
        a["reasonCode"] = json!([{"text": format!("edit {edits}")}]);
        proxy.set(Fault::Pass);
        hfs.put(&a);
        proxy.set_from(fault.clone(), 2);
        let e = rt.block_on(f.desk.pull()).unwrap_err();
        assert_eq!(e.code(), code, "{fault:?} on the full pull: {e}");
        assert_same_mirror(
            &before,
            &fingerprint(),
            &format!("{fault:?} on the full pull"),
        );

        // 3. The line heals: the edit arrives.
        proxy.set(Fault::Pass);
        rt.block_on(f.desk.pull()).unwrap();
        let view = rt.block_on(f.desk.today(None)).unwrap();
        let row = view.appointments.iter().find(|a| a.id == "fa7").unwrap();
        assert_eq!(
            row.reason.as_deref(),
            Some(format!("edit {edits}").as_str())
        );
    }
}

/// Fails with just the rows that differ (the whole mirror is too long to read).
fn assert_same_mirror(before: &str, after: &str, what: &str) {
    if before == after {
        return;
    }
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let gone: Vec<&&str> = b.iter().filter(|l| !a.contains(l)).take(3).collect();
    let new: Vec<&&str> = a.iter().filter(|l| !b.contains(l)).take(3).collect();
    panic!("{what} changed the mirror; rows gone: {gone:?}; rows new: {new:?}");
}

/// The database key the mock keychain holds for this desk.
fn key(f: &common::FhirDesk) -> tsunagi_core::store::DbKey {
    let config = tsunagi_core::config::Config::load(&f.dir.path().join("config.toml"))
        .unwrap()
        .unwrap();
    let bytes = f
        .keychain
        .get(&format!("database-key/{}", config.device_id))
        .unwrap()
        .unwrap();
    tsunagi_core::store::DbKey::from_bytes(&bytes).unwrap()
}

#[test]
fn a_failure_on_a_later_page_keeps_nothing_of_the_earlier_ones() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    hfs.put_all(&clinic_day(tokyo_today(), 150, "g").resources());
    let f = fhir_desk(&proxy.url(), test_now(), 5);
    let rt = runtime();
    // Page 1 of 2 passes, page 2 fails.
    proxy.set_from(Fault::Status(502), 1);
    assert_eq!(
        rt.block_on(f.desk.pull()).unwrap_err().code(),
        "source.server"
    );
    let status = rt.block_on(f.desk.status()).unwrap();
    assert_eq!(status.appointments, 0, "no half day in the mirror");
    assert_eq!(status.synced_at, None);
    proxy.set(Fault::Pass);
    assert_eq!(rt.block_on(f.desk.pull()).unwrap().appointments, 150);
}

#[test]
fn a_server_that_is_gone_is_unreachable() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let url = proxy.url();
    drop(proxy);
    let f = fhir_desk(&url, test_now(), 2);
    let e = runtime().block_on(f.desk.pull()).unwrap_err();
    assert_eq!(e.code(), "source.unreachable");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
}
