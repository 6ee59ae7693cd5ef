//! Helpers shared by the core's integration tests: desks on a manual clock, and
//! `tsunagi-cli` run as a process.
#![allow(dead_code)]

pub mod kill;
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

/// One instant for the whole test process: the desks' manual clocks and the clinic day
/// the FHIR server is seeded with both come from it, so midnight passing during a run
/// cannot put them on different days.
pub fn test_now() -> DateTime<Utc> {
    static NOW: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *NOW.get_or_init(Utc::now)
}

/// The clinic's day at `test_now()`.
pub fn tokyo_today() -> NaiveDate {
    test_now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive()
}

/// 08:00 at the clinic today: the desk's clock where a test's story runs through the day
/// (an outage morning, a pause until the end of the day). `test_now()` may be minutes
/// before midnight in Tokyo, where a day's pause would end during the test.
pub fn eight_oclock() -> DateTime<Utc> {
    let cal = tsunagi_core::calendar::ClinicCalendar::parse("Asia/Tokyo").unwrap();
    cal.at(
        tokyo_today(),
        chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
    )
}

/// Retries spaced 20–300 ms: a test drains through faults quickly.
pub fn quick_backoff() -> tsunagi_core::outbox::backoff::Backoff {
    use tsunagi_core::outbox::backoff::{os_jitter, Backoff};
    Backoff::new(
        std::time::Duration::from_millis(20),
        std::time::Duration::from_millis(300),
        os_jitter(),
    )
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
    pub keychain: Arc<Keychain>,
    pub rt: tokio::runtime::Runtime,
}

impl DemoDesk {
    /// The line changes state at `at`, as the monitor records it; returns the incident an
    /// outage opens.
    pub fn line(
        &self,
        at: DateTime<Utc>,
        from: tsunagi_core::monitor::NetState,
        state: tsunagi_core::monitor::NetState,
    ) -> Option<i64> {
        line(&self.desk, at, from, state)
    }
}

/// The line of `desk` changes state at `at`, as the monitor records it; returns the
/// incident an outage opens.
pub fn line(
    desk: &Desk,
    at: DateTime<Utc>,
    from: tsunagi_core::monitor::NetState,
    state: tsunagi_core::monitor::NetState,
) -> Option<i64> {
    use tsunagi_core::monitor::{Cause, NetPath, NetState, Transition};
    let store = desk.monitor_options(None, false).store.unwrap();
    let t = Transition {
        at: at.to_rfc3339(),
        since: at.to_rfc3339(),
        from,
        state,
        cause: (state == NetState::Offline).then_some(Cause::Internet),
        probes: Vec::new(),
    };
    store
        .record_transition(&t, &NetPath::default())
        .unwrap()
        .incident
}

/// `config` adjusts the first-start config (device id, time zone, …) before the desk opens.
pub fn demo_desk(now: DateTime<Utc>, config: impl FnOnce(&mut Config)) -> DemoDesk {
    demo_desk_with(now, config, Arc::new(Keychain::mock()))
}

/// A demo desk whose keychain the test keeps (to read the database key, say).
pub fn demo_desk_on(now: DateTime<Utc>, keychain: Arc<Keychain>) -> DemoDesk {
    demo_desk_with(now, |_| {}, keychain)
}

fn demo_desk_with(
    now: DateTime<Utc>,
    config: impl FnOnce(&mut Config),
    keychain: Arc<Keychain>,
) -> DemoDesk {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::first_start(Some("ja-JP"));
    config(&mut c);
    c.save(&DataDir::at(dir.path()).config()).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let desk = Desk::open(DeskOptions {
        data_dir: DataDir::at(dir.path()),
        keychain: keychain.clone(),
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
        keychain,
        rt,
    }
}

/// `tsunagi-cli` on `data_dir` inside `session` (its keychain), as the IT helper runs it:
/// no data folder, log filter or staff name inherited from the test's environment.
pub fn cli(
    session: &tsunagi_testkit::Session,
    data_dir: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    session
        .command(env!("CARGO_BIN_EXE_tsunagi-cli"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TSUNAGI_DATA_DIR")
        .env_remove("TSUNAGI_LOG")
        .env_remove("TSUNAGI_STAFF")
        .output()
        .expect("run tsunagi-cli")
}

/// [`cli`] with `stdin` written to it (a token or password piped in, as the IT helper
/// does).
pub fn cli_with_stdin(
    session: &tsunagi_testkit::Session,
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut child = session
        .command(env!("CARGO_BIN_EXE_tsunagi-cli"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TSUNAGI_DATA_DIR")
        .env_remove("TSUNAGI_LOG")
        .env_remove("TSUNAGI_STAFF")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tsunagi-cli");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
