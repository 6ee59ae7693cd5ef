//! Helpers shared by the tests that pull from a real FHIR server.
#![allow(dead_code)]

pub mod ops;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tsunagi_core::clock::ManualClock;
use tsunagi_core::config::{Config, DataDir, FhirConfig};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::model::SourceKind;
use tsunagi_core::{Desk, DeskOptions};

pub struct FhirDesk {
    pub dir: tempfile::TempDir,
    pub desk: Desk,
    pub clock: Arc<ManualClock>,
    pub keychain: Arc<Keychain>,
}

/// A desk whose source is the FHIR server at `base_url`, with a short request timeout.
pub fn fhir_desk(base_url: &str, now: DateTime<Utc>, timeout_secs: u64) -> FhirDesk {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::first_start(Some("ja-JP"));
    let mut fhir = FhirConfig::new(base_url);
    fhir.timeout_secs = timeout_secs;
    config.source.kind = SourceKind::Fhir;
    config.source.fhir = Some(fhir);
    config.save(&DataDir::at(dir.path()).config()).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let keychain = Arc::new(Keychain::mock());
    let desk = Desk::open(DeskOptions {
        data_dir: DataDir::at(dir.path()),
        keychain: keychain.clone(),
        clock: clock.clone(),
        locale: None,
    })
    .unwrap();
    FhirDesk {
        dir,
        desk,
        clock,
        keychain,
    }
}

pub fn tokyo_today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A demo-clinic desk on a manual clock, already pulled, with its own runtime.
pub struct DemoDesk {
    pub dir: tempfile::TempDir,
    pub desk: Desk,
    pub clock: Arc<ManualClock>,
    pub rt: tokio::runtime::Runtime,
}

/// `config` adjusts the first-start config (device id, time zone, …) before the desk opens.
pub fn demo_desk(now: DateTime<Utc>, config: impl FnOnce(&mut Config)) -> DemoDesk {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::first_start(Some("ja-JP"));
    config(&mut c);
    c.save(&DataDir::at(dir.path()).config()).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let desk = Desk::open(DeskOptions {
        data_dir: DataDir::at(dir.path()),
        keychain: Arc::new(Keychain::mock()),
        clock: clock.clone(),
        locale: None,
    })
    .unwrap();
    let rt = runtime();
    rt.block_on(desk.pull()).unwrap();
    DemoDesk {
        dir,
        desk,
        clock,
        rt,
    }
}
