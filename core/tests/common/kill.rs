//! Killing `tsunagi-cli` at random points (crash-safety tests), replayable from a seed.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use tsunagi_testkit::Session;

/// xorshift64, seeded: a failing run can be replayed from the seed it prints.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The seed from `TSUNAGI_CRASH_SEED`, or `default`; printed so a failure can be replayed.
pub fn seeded(default: u64) -> Rng {
    let seed = std::env::var("TSUNAGI_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    println!("seed {seed} (TSUNAGI_CRASH_SEED replays it)");
    Rng(seed)
}

/// Start `tsunagi-cli args` on `data`, kill -9 it after `after`; true when it was still
/// running (a real kill), with what it wrote.
pub fn kill_after(
    session: &Session,
    data: &Path,
    args: &[&str],
    after: Duration,
) -> (bool, Output) {
    let mut child = session
        .command(env!("CARGO_BIN_EXE_tsunagi-cli"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("TSUNAGI_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tsunagi-cli");
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return (false, child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    (killed, child.wait_with_output().unwrap())
}

/// A successful run's standard output (its standard error in the failure otherwise).
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}
