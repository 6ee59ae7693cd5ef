//! Issue 16's benchmark: desks on a LAN (network namespaces on one bridge; needs root).
//!
//! - Propagation: a tick made at desk 1 (in its runtime's process, as the window makes it)
//!   until desk 2's screens are told (its `shared-work` event), over 100 ticks. Goal: p95
//!   ≤ 1 s.
//! - Catch-up: desk 2's cable pulled long enough for its link to drop, 1,000 records made at
//!   desk 1, the cable plugged back: until desk 2 holds them all. Goal ≤ 5 s.
//! - Idle traffic: bytes through desk 1's cable over a minute with nothing recorded (pings,
//!   mDNS). Goal ≤ 10 KB/min.
//! - Memory of the peer service: `tsunagi-cli run` of a desk that is paired and linked
//!   against one paired with no one (PSS after 20 s).
//!
//! `cargo bench -p tsunagi-core --bench desks`; TSUNAGI_BENCH_EVENTS / _IDLE_SECS override
//! the 100 ticks and 60 s.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tsunagi_core::audit::{AuditAction, AuditEntry};
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::{Config, DataDir};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::runtime::{Runtime, RuntimeOptions};
use tsunagi_core::view::DeskEvent;
use tsunagi_core::{Desk, DeskOptions};
use tsunagi_testkit::lan::Lan;
use tsunagi_testkit::procfs::pss_kib;
use tsunagi_testkit::{wait_until, ChildGuard, Session};

const CLI: &str = env!("CARGO_BIN_EXE_tsunagi-cli");
const PROPAGATION_GOAL: Duration = Duration::from_secs(1);
const CATCH_UP_GOAL: Duration = Duration::from_secs(5);
const IDLE_GOAL_KB_PER_MIN: f64 = 10.0;

/// A desk whose background work runs in this process, inside desk `i`'s namespace: its
/// tokio runtime's threads are made there, so every socket it opens is on that desk's LAN.
struct BenchDesk {
    desk: Arc<Desk>,
    runtime: Option<Runtime>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl BenchDesk {
    fn open(lan: &Lan, i: usize) -> BenchDesk {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::first_start(Some("ja-JP"));
        config.peers.name = format!("受付{}", i + 1);
        config.save(&DataDir::at(dir.path()).config()).unwrap();
        let desk = Arc::new(
            Desk::open(DeskOptions {
                data_dir: DataDir::at(dir.path()),
                keychain: Arc::new(Keychain::mock()),
                clock: Arc::new(SystemClock),
                locale: None,
            })
            .unwrap(),
        );
        let rt = tsunagi_testkit::netns::runtime_in(&lan.desks[i].ns);
        BenchDesk {
            desk,
            runtime: None,
            rt,
            _dir: dir,
        }
    }

    /// Run `f` on the desk's own threads (in its namespace), and wait for it.
    fn on<T: Send + 'static>(&self, f: impl std::future::Future<Output = T> + Send + 'static) -> T {
        self.rt.block_on(self.rt.spawn(f)).unwrap()
    }

    fn start(&mut self) {
        let options = RuntimeOptions {
            track_run: false,
            ..RuntimeOptions::default()
        };
        self.runtime = Some(Runtime::start(self.desk.clone(), options, self.rt.handle()).unwrap());
    }

    fn tick(&self, step: u32, done: bool) {
        let desk = self.desk.clone();
        self.on(async move { desk.tick(step, done, Some("佐藤")).await.unwrap() });
    }

    fn held_of(&self, desk: &str) -> u64 {
        let d = self.desk.clone();
        let v = self.on(async move { d.vector().await.unwrap() });
        v.get(desk).copied().unwrap_or(0)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let events = env_or("TSUNAGI_BENCH_EVENTS", 100) as usize;
    let idle_secs = env_or("TSUNAGI_BENCH_IDLE_SECS", 60);
    let lan = Lan::new(2);
    let mut one = BenchDesk::open(&lan, 0);
    let mut two = BenchDesk::open(&lan, 1);

    // Pair: desk 1 shows a code, desk 2 types it.
    let d1 = one.desk.clone();
    let code = one.on(async move { d1.show_pairing_code(None).await.unwrap() });
    let (d2, at) = (two.desk.clone(), lan.desks[0].ip.to_string());
    two.on(async move { d2.pair_by_typing(&at, &code.code, None).await.unwrap() });
    one.start();
    two.start();
    let d1 = one.desk.clone();
    let one_id = one.on(async move { d1.desk_id().await.unwrap() });
    // Linked, and the line seen down (a tick needs an outage open).
    wait_until(Duration::from_secs(60), "linked, in an outage", || {
        let d = one.desk.clone();
        let (linked, outage) = one.on(async move {
            let peers = d.peers().await.unwrap();
            let now = chrono::Utc::now();
            (
                peers.iter().all(|p| {
                    p.last_seen
                        .is_some_and(|s| now - s < chrono::Duration::seconds(5))
                }),
                d.checklist().await.unwrap().incident_id.is_some(),
            )
        });
        linked && outage
    });
    wait_until(Duration::from_secs(60), "desk 2 in an outage", || {
        let d = two.desk.clone();
        two.on(async move { d.checklist().await.unwrap().incident_id.is_some() })
    });

    // Propagation.
    let mut shared = two.desk.subscribe();
    let mut took = Vec::with_capacity(events);
    for n in 0..events {
        while shared.try_recv().is_ok() {}
        let clicked = Instant::now();
        one.tick(1 + (n % 4) as u32, n % 8 < 4);
        let seen = two.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match shared.recv().await {
                        Ok(DeskEvent::SharedWork {}) => return Instant::now(),
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(e) => panic!("desk 2's events: {e}"),
                    }
                }
            })
            .await
            .expect("the tick at desk 2 within 10 s")
        });
        took.push(seen - clicked);
        std::thread::sleep(Duration::from_millis(50));
    }
    took.sort();
    let (p50, p95, max) = (
        percentile(&took, 0.5),
        percentile(&took, 0.95),
        took[took.len() - 1],
    );
    println!(
        "propagation, a tick at desk 1 → desk 2's screens ({events} ticks): p50 {p50:?}, p95 \
         {p95:?}, max {max:?}; goal p95 ≤ {PROPAGATION_GOAL:?} ({:.2}× the goal)",
        p95.as_secs_f64() / PROPAGATION_GOAL.as_secs_f64()
    );

    // Catch-up of 1,000 records.
    lan.set_link(1, false);
    std::thread::sleep(Duration::from_secs(12)); // past the link's 10 s of silence
    let store = one.desk.monitor_options(None, false).store.unwrap();
    for n in 0..1000u32 {
        let (step, done, at) = (n % 5, n % 2 == 0, chrono::Utc::now());
        let audit = AuditEntry {
            at,
            staff: "佐藤".into(),
            action: AuditAction::ChecklistTick,
            records: Vec::new(),
            detail: serde_json::json!({ "step": step, "done": done }),
        };
        store
            .add_tick(step, "step", done, Some("佐藤"), at, &audit)
            .unwrap();
    }
    let want = one.held_of(&one_id);
    let plugged = Instant::now();
    lan.set_link(1, true);
    wait_until(Duration::from_secs(60), "desk 2 caught up", || {
        two.held_of(&one_id) == want
    });
    let caught_up = plugged.elapsed();
    println!(
        "catch-up of 1,000 records, cable plugged back → all held at desk 2: {caught_up:?} \
         (the link redials first); goal ≤ {CATCH_UP_GOAL:?} ({:.2}× the goal)",
        caught_up.as_secs_f64() / CATCH_UP_GOAL.as_secs_f64()
    );

    // Idle traffic through desk 1's cable.
    std::thread::sleep(Duration::from_secs(10));
    let before = lan.cable_bytes(0);
    std::thread::sleep(Duration::from_secs(idle_secs));
    let bytes = lan.cable_bytes(0) - before;
    let per_min = bytes as f64 / 1024.0 * 60.0 / idle_secs as f64;
    println!(
        "idle LAN traffic of a linked desk (both ways, {idle_secs} s): {per_min:.1} KB/min; \
         goal ≤ {IDLE_GOAL_KB_PER_MIN} KB/min ({:.2}× the goal)",
        per_min / IDLE_GOAL_KB_PER_MIN
    );
    for d in [&mut one, &mut two] {
        if let Some(runtime) = d.runtime.take() {
            d.rt.block_on(runtime.shutdown());
        }
    }

    memory_of_the_peer_service();
}

/// `tsunagi-cli run` paired and linked, against one paired with no desk, on loopback.
fn memory_of_the_peer_service() {
    let session = Session::start();
    let desk = |name: &str, port: u16| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "device_id = \"{name}\"\nlanguage = \"en\"\nautostart = false\n\
                 [source]\nkind = \"demo\"\n[peers]\nname = \"{name}\"\nport = {port}\n\
                 pairing_port = {}\n",
                port + 1
            ),
        )
        .unwrap();
        dir
    };
    let (alone, a, b) = (desk("alone", 48900), desk("a", 48902), desk("b", 48904));
    let cli = |dir: &tempfile::TempDir, args: &[&str]| {
        let mut c = session.command(CLI);
        c.arg("--data-dir").arg(dir.path()).args(args);
        c
    };
    // b shows a code; a types it.
    let mut command = cli(&b, &["pair", "show"]);
    command.stderr(Stdio::null());
    let (mut show, code) = tsunagi_testkit::show_pairing_code(command);
    let joined = cli(&a, &["pair", "join", "127.0.0.1:48905", &code])
        .output()
        .unwrap();
    assert!(joined.status.success(), "{joined:?}");
    wait_until(Duration::from_secs(10), "paired", || {
        show.exited().is_some()
    });
    let run = |dir: &tempfile::TempDir, name: &str| {
        ChildGuard::new(
            name.to_owned(),
            cli(dir, &["run"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let runs = [run(&alone, "alone"), run(&a, "a"), run(&b, "b")];
    std::thread::sleep(Duration::from_secs(20));
    let pss = |g: &ChildGuard| pss_kib(&[g.id() as i32]);
    let (alone_kib, a_kib, b_kib) = (pss(&runs[0]), pss(&runs[1]), pss(&runs[2]));
    let linked = (a_kib + b_kib) / 2;
    println!(
        "memory of the peer service (tsunagi-cli run, PSS after 20 s): alone {alone_kib} KiB, \
         paired and linked {linked} KiB (a {a_kib}, b {b_kib}): +{} KiB",
        linked as i64 - alone_kib as i64
    );
}
