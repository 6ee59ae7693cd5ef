//! Pulling a 300-appointment day from a real FHIR server (Helios `hfs`) on loopback: time
//! and bytes on the wire for the first pull, for a refresh that finds nothing new, and for
//! a refresh after one appointment changed. `cargo bench -p tsunagi-core --bench fhir_pull`
//! (scripts/bench.sh). Bytes are counted by a pass-through proxy, headers included.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{Config, DataDir, FhirConfig};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::model::SourceKind;
use tsunagi_core::{Desk, DeskOptions};
use tsunagi_testkit::clinic::clinic_day;
use tsunagi_testkit::fault_proxy::FaultProxy;
use tsunagi_testkit::hfs::Hfs;

const APPOINTMENTS: usize = 300;
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let day = clinic_day(today, APPOINTMENTS, "b");
    hfs.put_all(&day.resources());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut first_ms = Vec::new();
    let mut first_bytes = 0;
    let mut refresh_ms = Vec::new();
    let mut refresh_bytes = 0;
    let mut changed_ms = Vec::new();
    let mut changed_bytes = 0;
    for run in 0..RUNS {
        // Past the change check's safety margin (2 s): the seeding and the previous run's
        // edit are not "new" to this run's refresh.
        std::thread::sleep(Duration::from_secs(3));
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::first_start(None);
        config.source.kind = SourceKind::Fhir;
        config.source.fhir = Some(FhirConfig::new(&proxy.url()));
        config.save(&DataDir::at(dir.path()).config()).unwrap();
        let desk = Desk::open(DeskOptions {
            data_dir: DataDir::at(dir.path()),
            keychain: Arc::new(Keychain::mock()),
            clock: Arc::new(SystemClock),
            locale: None,
        })
        .unwrap();

        let measure = |ms: &mut Vec<f64>, bytes: &mut u64| {
            proxy.reset_counters();
            let t = Instant::now();
            let status = rt.block_on(desk.pull()).expect("pull");
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let (sent, received) = proxy.bytes();
            *bytes = sent + received;
            status
        };
        let status = measure(&mut first_ms, &mut first_bytes);
        assert_eq!(status.appointments as usize, APPOINTMENTS);
        let status = measure(&mut refresh_ms, &mut refresh_bytes);
        assert_eq!(status.last_pull.unwrap().changed, Some(false));

        let mut a = day.appointments[run].clone();
        a["status"] = json!("cancelled");
        hfs.put(&a);
        let status = measure(&mut changed_ms, &mut changed_bytes);
        assert_eq!(status.last_pull.unwrap().changed, Some(true));
    }
    let kb = |b: u64| b as f64 / 1000.0;
    println!(
        "FHIR pull of a {APPOINTMENTS}-appointment day from hfs on loopback (median of {RUNS})"
    );
    println!(
        "first pull:              {:7.0} ms  {:8.1} kB",
        median(first_ms.clone()),
        kb(first_bytes)
    );
    println!(
        "refresh, nothing new:    {:7.0} ms  {:8.1} kB  ({:.1}% of the first pull's bytes)",
        median(refresh_ms),
        kb(refresh_bytes),
        refresh_bytes as f64 / first_bytes as f64 * 100.0
    );
    println!(
        "refresh after 1 change:  {:7.0} ms  {:8.1} kB  (a full pull again)",
        median(changed_ms),
        kb(changed_bytes)
    );
}
