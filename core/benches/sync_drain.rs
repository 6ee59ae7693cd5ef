//! Draining the outbox into a real FHIR server (Helios `hfs`) on loopback: a day's 300
//! changes and a heavy 3,000 (calls, check-ins, cancels, receipts and voids), one request
//! in flight as the sync-back does it. Prints ops per second and the total time against
//! the goal (300 ops in 10 s or less). `cargo bench -p tsunagi-core --bench sync_drain`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tsunagi_core::calls::{ArrivalRecord, CallOutcome, CallRecord};
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{Config, DataDir, FhirConfig};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::model::SourceKind;
use tsunagi_core::outbox::backoff::Backoff;
use tsunagi_core::outbox::DrainEnd;
use tsunagi_core::receipts::{PaymentMethod, ReceiptInput};
use tsunagi_core::{Desk, DeskOptions};
use tsunagi_testkit::clinic::clinic_day;
use tsunagi_testkit::hfs::Hfs;

const GOAL_300: Duration = Duration::from_secs(10);

/// Queue at least `n` ops over the clinic day's appointments `prefix`a10.. .
async fn queue(desk: &Desk, prefix: &str, appointments: usize, n: usize) -> usize {
    let mut i = 0;
    loop {
        let a = 10 + i % (appointments - 10);
        let id = format!("{prefix}a{a}");
        let first_pass = i < appointments - 10;
        let outcome = match (first_pass, a % 4) {
            (true, 0) => CallOutcome::Cancelled,
            (true, 1) => CallOutcome::Coming,
            _ => CallOutcome::NoAnswer,
        };
        desk.record_call(CallRecord {
            appointment_id: id.clone(),
            outcome,
            new_start: None,
            note: None,
            staff: Some("受付".into()),
            replace_earlier: false,
        })
        .await
        .unwrap();
        if first_pass && a % 4 == 1 {
            desk.record_arrival(ArrivalRecord::new(&id, None))
                .await
                .unwrap();
        }
        let r = desk
            .add_receipt(ReceiptInput {
                amount: format!("{}", 300 + i),
                method: PaymentMethod::Cash,
                patient_id: Some(format!("{prefix}p{a}")),
                patient_name: None,
                memo: None,
                staff: None,
                repeat_ok: false,
            })
            .await
            .unwrap();
        if i % 10 == 0 {
            desk.void_receipt(&r.number, "誤り", None).await.unwrap();
        }
        i += 1;
        let queued = desk.outbox().await.unwrap().len();
        if queued >= n {
            return queued;
        }
    }
}

fn main() {
    let hfs = Hfs::start();
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let appointments = 150;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("sync_drain: one request in flight, hfs on loopback, SQLCipher store");
    for (n, prefix) in [(300, "s"), (3000, "t")] {
        // A fresh day per run: the first run's check-ins are on the server now.
        hfs.put_all(&clinic_day(today, appointments, prefix).resources());
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::first_start(None);
        config.source.kind = SourceKind::Fhir;
        config.source.fhir = Some(FhirConfig::new(&hfs.base_url()));
        config.save(&DataDir::at(dir.path()).config()).unwrap();
        let desk = Desk::open(DeskOptions {
            data_dir: DataDir::at(dir.path()),
            keychain: Arc::new(Keychain::mock()),
            clock: Arc::new(SystemClock),
            locale: None,
        })
        .unwrap();
        rt.block_on(desk.pull()).unwrap();
        let queued = rt.block_on(queue(&desk, prefix, appointments, n));
        let started = Instant::now();
        let report = rt
            .block_on(desk.drain(Duration::from_secs(600), &mut Backoff::standard()))
            .unwrap();
        let took = started.elapsed();
        assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
        assert_eq!(report.delivered as usize, queued);
        let per_sec = queued as f64 / took.as_secs_f64();
        let for_300 = Duration::from_secs_f64(300.0 / per_sec);
        println!(
            "{queued:>5} ops: {:>7.2} s total, {per_sec:>6.1} ops/s, {:>5.1} ms per op; \
             300 ops at this rate: {:.2} s = {:.2}x the 10 s goal ({})",
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / queued as f64,
            for_300.as_secs_f64(),
            for_300.as_secs_f64() / GOAL_300.as_secs_f64(),
            if for_300 <= GOAL_300 { "met" } else { "MISSED" }
        );
    }
}
