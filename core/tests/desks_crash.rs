//! Issue 16, the promise between desks: a desk killed (SIGKILL, a power cut) at any point
//! of catching up loses nothing and takes nothing twice. Desk 1 runs in this process and
//! records ticks; desk 2 is `tsunagi-cli run`, killed at 30 random moments while it takes
//! desk 1's log, on loopback. Afterwards desk 2 holds every record of desk 1 exactly once,
//! and has applied each once.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tsunagi_core::audit::{AuditAction, AuditEntry};
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{Config, DataDir};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::runtime::{Runtime, RuntimeOptions};
use tsunagi_core::{Desk, DeskOptions};
use tsunagi_testkit::{ChildGuard, Session};

const CLI: &str = env!("CARGO_BIN_EXE_tsunagi-cli");

#[test]
fn a_desk_killed_at_30_points_while_catching_up_loses_nothing_and_takes_nothing_twice() {
    let mut rng = common::kill::seeded(0x16_dead);
    let session = Session::start();

    // Desk 1, here.
    let one_dir = tempfile::tempdir().unwrap();
    let mut config = Config::first_start(Some("ja-JP"));
    config.peers.name = "受付1".into();
    config.peers.port = 48790;
    config.peers.pairing_port = 48791;
    config.save(&DataDir::at(one_dir.path()).config()).unwrap();
    let one = Arc::new(
        Desk::open(DeskOptions {
            data_dir: DataDir::at(one_dir.path()),
            keychain: Arc::new(Keychain::mock()),
            clock: Arc::new(SystemClock),
            locale: None,
        })
        .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // Desk 2, a terminal's `tsunagi-cli`, pairs by desk 1's code.
    let two_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        two_dir.path().join("config.toml"),
        "device_id = \"desk2\"\nlanguage = \"en\"\nautostart = false\n[source]\nkind = \"demo\"\n\
         [peers]\nname = \"受付2\"\nport = 48792\npairing_port = 48793\n",
    )
    .unwrap();
    let code = rt.block_on(one.show_pairing_code(None)).unwrap();
    common::kill::ok(common::cli(
        &session,
        two_dir.path(),
        &["pair", "join", "127.0.0.1:48791", &code.code],
    ));
    let options = RuntimeOptions {
        track_run: false,
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::start(one.clone(), options, rt.handle()).unwrap();
    // Ticks written straight to desk 1's store: thousands of them, quickly.
    let store = one.monitor_options(None, false).store.unwrap();

    let start_two = || {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(two_dir.path().join("run.log"))
            .unwrap();
        ChildGuard::new(
            "desk 2",
            session
                .command(CLI)
                .arg("--data-dir")
                .arg(two_dir.path())
                .args(["run", "--json"])
                .env("TSUNAGI_LOG", "tsunagi_core::peers=debug")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    };

    // 30 times: desk 1 records a burst (a catch-up of a few batches), desk 2 starts and is
    // killed a random moment later: before it connects, mid-batch, or after.
    // Desk 1's log holds what pairing recorded (its `paired` record, which the other desks
    // take as paired too) before the ticks; its side of the pairing ends a moment after
    // desk 2's.
    tsunagi_testkit::wait_until(Duration::from_secs(10), "desk 1 paired", || {
        !rt.block_on(one.peers()).unwrap().is_empty()
    });
    let one_id = rt.block_on(one.desk_id()).unwrap();
    let at_pairing = rt
        .block_on(one.vector())
        .unwrap()
        .get(&one_id)
        .copied()
        .unwrap_or(0);
    let mut made = 0u64;
    let steps = 5u32;
    for round in 0..30 {
        let burst = 100 + rng.below(200);
        for _ in 0..burst {
            let step = rng.below(u64::from(steps)) as u32;
            let (done, at) = (rng.below(2) == 0, chrono::Utc::now());
            let audit = AuditEntry {
                at,
                staff: "佐藤".into(),
                action: AuditAction::ChecklistTick,
                records: Vec::new(),
                detail: serde_json::json!({ "step": step, "done": done }),
            };
            store
                .add_tick(
                    step,
                    &format!("step {step}"),
                    done,
                    Some("佐藤"),
                    at,
                    &audit,
                )
                .unwrap();
        }
        made += burst;
        let mut two = start_two();
        let after = Duration::from_millis(200 + rng.below(2500));
        std::thread::sleep(after);
        two.child_mut().kill().unwrap(); // SIGKILL
        let _ = two.child_mut().wait();
        println!("round {round}: {burst} more records, desk 2 killed after {after:?}");
    }

    // Started once more, it catches up: its own database holds all of desk 1's log. (Desk
    // 1's view of it is no proof: "connected" and "behind" still tell of the run killed a
    // moment ago.)
    let records = at_pairing + made;
    let key = session.database_key(two_dir.path());
    let db = rusqlite::Connection::open(two_dir.path().join("tsunagi.db")).unwrap();
    db.pragma_update(None, "key", format!("x'{}'", hex::encode(&key)))
        .unwrap();
    let count = |sql: &str| -> u64 {
        db.query_row(sql, [&one_id], |r| r.get::<_, i64>(0))
            .unwrap() as u64
    };
    let mut two = start_two();
    let started = Instant::now();
    while count("SELECT count(*) FROM desk_record WHERE desk = ?1") < records {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "desk 2 never caught up: {} of {records}\n{}",
            count("SELECT count(*) FROM desk_record WHERE desk = ?1"),
            std::fs::read_to_string(two_dir.path().join("run.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Stopped before the counts are read (how it stops is stop_signals' business).
    let status = two.stop(Duration::from_secs(10));
    println!(
        "desk 2 caught up in {:?}, stopped: {status:?}",
        started.elapsed()
    );
    rt.block_on(runtime.shutdown());

    // Every record of desk 1 is at desk 2 once, and applied once.
    assert_eq!(
        rt.block_on(one.vector()).unwrap().get(&one_id),
        Some(&records),
        "desk 1 made one record per tick (after its pairing's)"
    );
    assert_eq!(
        count("SELECT count(*) FROM desk_record WHERE desk = ?1"),
        records
    );
    assert_eq!(
        count("SELECT count(DISTINCT seq) FROM desk_record WHERE desk = ?1"),
        records
    );
    assert_eq!(
        count("SELECT max(seq) FROM desk_record WHERE desk = ?1"),
        records
    );
    assert_eq!(
        count("SELECT count(*) FROM checklist_tick WHERE desk = ?1"),
        made,
        "each tick applied once"
    );
}
