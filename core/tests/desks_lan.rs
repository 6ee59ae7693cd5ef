//! Issue 16 on a real LAN: three desks (`tsunagi-cli run` each) in three network namespaces
//! on one bridge, with no internet. They pair by code, share checklist ticks within
//! seconds, catch up after a cable pulled or a desk killed, and refuse a desk that typed a
//! wrong code or was unpaired. Needs root (CI runs as root).

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tsunagi_testkit::lan::Lan;
use tsunagi_testkit::{wait_until, ChildGuard, Session};

const CLI: &str = env!("CARGO_BIN_EXE_tsunagi-cli");

struct Clinic {
    runs: Vec<Option<ChildGuard>>,
    dirs: Vec<tempfile::TempDir>,
    session: Session,
    lan: Lan,
}

impl Clinic {
    fn new(desks: usize) -> Clinic {
        let lan = Lan::new(desks);
        let session = Session::start();
        let dirs: Vec<tempfile::TempDir> = (0..desks)
            .map(|i| {
                let dir = tempfile::tempdir().unwrap();
                std::fs::write(
                    dir.path().join("config.toml"),
                    format!(
                        "device_id = \"desk{i}\"\nlanguage = \"en\"\nautostart = false\n\
                         [source]\nkind = \"demo\"\n[peers]\nname = \"受付{}\"\n",
                        i + 1
                    ),
                )
                .unwrap();
                dir
            })
            .collect();
        Clinic {
            runs: (0..desks).map(|_| None).collect(),
            dirs,
            session,
            lan,
        }
    }

    fn command(&self, i: usize, args: &[&str]) -> std::process::Command {
        let mut c = self.lan.on(i, CLI);
        c.envs(self.session.env())
            .arg("--data-dir")
            .arg(self.dirs[i].path())
            .args(args);
        c
    }

    fn cli(&self, i: usize, args: &[&str]) -> Output {
        self.command(i, args).output().unwrap()
    }

    fn ok(&self, i: usize, args: &[&str]) -> String {
        let out = self.cli(i, args);
        assert!(
            out.status.success(),
            "desk {i} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn start(&mut self, i: usize) {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dirs[i].path().join("run.log"))
            .unwrap();
        let child = self
            .command(i, &["run", "--json"])
            .env("TSUNAGI_LOG", "tsunagi_core::peers=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.runs[i] = Some(ChildGuard::new(format!("desk {i}"), child));
    }

    /// `host` shows a code, `joiner` types it.
    fn pair(&self, host: usize, joiner: usize) {
        let mut show = self
            .command(host, &["pair", "show"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(show.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let code: String = line
            .trim_start_matches("pairing code")
            .split('(')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert_eq!(code.len(), 8, "{line}");
        let mut show = ChildGuard::new("pair show", show);
        let host_ip = self.lan.desks[host].ip.to_string();
        self.ok(joiner, &["pair", "join", &host_ip, &code]);
        wait_until(Duration::from_secs(10), "the showing desk paired", || {
            show.exited().is_some()
        });
        assert!(show.exited().unwrap().success());
    }

    /// What each desk's `run` logged about its links (shown when a test fails).
    fn logs(&self) -> String {
        let mut all = String::new();
        for (i, dir) in self.dirs.iter().enumerate() {
            let log = std::fs::read_to_string(dir.path().join("run.log")).unwrap_or_default();
            all += &format!("--- desk {i} ---\n{log}");
        }
        all
    }

    fn peers(&self, i: usize) -> Vec<Value> {
        self.ok(i, &["peers", "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The steps done on desk `i`, with who ticked them.
    fn done(&self, i: usize) -> Vec<(u64, String)> {
        let v: Value = serde_json::from_str(&self.ok(i, &["checklist", "--json"])).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["done"] == true)
            .map(|item| {
                (
                    item["step"].as_u64().unwrap(),
                    item["staff"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Wait for `check`, showing the desks' logs when it never comes.
    fn wait(&self, secs: u64, what: &str, mut check: impl FnMut() -> bool) {
        let started = Instant::now();
        while !check() {
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "{what}: not within {secs} s\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_connected(&self, i: usize, peers: usize) {
        let started = Instant::now();
        loop {
            let p = self.peers(i);
            if p.len() == peers && p.iter().all(|p| p["connected"] == true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "desk {i} not connected to {peers} desks: {p:#?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn steps(done: &[(u64, String)]) -> Vec<u64> {
    done.iter().map(|(s, _)| *s).collect()
}

#[test]
fn issue_16_three_desks_share_ticks_over_the_lan_and_catch_up_after_a_cut_or_a_kill() {
    let mut c = Clinic::new(3);
    for i in 0..3 {
        c.start(i);
    }
    c.pair(0, 1);
    c.pair(0, 2);
    c.pair(1, 2);
    for i in 0..3 {
        c.wait_connected(i, 2);
    }
    let names: Vec<String> = c.peers(0).iter().map(|p| p["name"].to_string()).collect();
    assert_eq!(names, ["\"受付2\"", "\"受付3\""]);

    // A tick on one desk shows on the others within seconds.
    c.ok(1, &["--staff", "鈴木", "checklist", "tick", "1"]);
    let ticked = Instant::now();
    wait_until(
        Duration::from_secs(10),
        "the tick on the other desks",
        || steps(&c.done(0)) == [1] && steps(&c.done(2)) == [1],
    );
    println!(
        "a tick on one desk → on both others: {:?}",
        ticked.elapsed()
    );
    assert_eq!(c.done(2)[0].1, "鈴木", "who ticked it travels with it");

    // Desk 3's cable is pulled: it works alone, the others go on; plugged back, all agree.
    c.lan.set_link(2, false);
    c.ok(2, &["--staff", "高橋", "checklist", "tick", "2"]);
    c.ok(0, &["--staff", "佐藤", "checklist", "untick", "1"]);
    c.ok(0, &["--staff", "佐藤", "checklist", "tick", "3"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(steps(&c.done(2)), [1, 2], "cut off: its own work only");
    c.lan.set_link(2, true);
    wait_until(
        Duration::from_secs(30),
        "the three desks agree again",
        || (0..3).all(|i| steps(&c.done(i)) == [2, 3]),
    );

    // Desk 2 is killed; work goes on; started again, it catches up.
    let mut killed = c.runs[1].take().unwrap();
    killed.child_mut().kill().unwrap(); // SIGKILL
    killed.stop(Duration::from_secs(5));
    c.ok(2, &["--staff", "高橋", "checklist", "tick", "4"]);
    c.wait(10, "desk 1 has desk 3's tick", || {
        steps(&c.done(0)) == [2, 3, 4]
    });
    c.start(1);
    // It holds everything again: the others find it 0 records behind them.
    c.wait(30, "the killed desk caught up", || {
        [0, 2].iter().all(|&i| {
            c.peers(i)
                .iter()
                .all(|p| p["connected"] == true && p["behind"] == 0)
        })
    });
    c.wait(10, "and it has caught up the others", || {
        c.peers(1)
            .iter()
            .all(|p| p["connected"] == true && p["behind"] == 0)
    });
    for run in c.runs.iter_mut().flatten() {
        let status = run.stop(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "a clean stop: {status:?}"
        );
    }
}

#[test]
fn issue_16_a_wrong_code_pairs_nothing_and_an_unpaired_desk_gets_nothing() {
    let mut c = Clinic::new(3);
    for i in 0..3 {
        c.start(i);
    }
    // Desk 3 types a wrong code: refused, and the code is void.
    let mut show = ChildGuard::new(
        "pair show",
        c.command(0, &["pair", "show"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(500));
    let ip = c.lan.desks[0].ip.to_string();
    let wrong = c.cli(2, &["pair", "join", &ip, "0000 0000"]);
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("peers.code_wrong"), "{said}");
    wait_until(Duration::from_secs(10), "the code voided", || {
        show.exited().is_some()
    });
    let out = show.child_mut().stderr.take().unwrap();
    let mut shown = String::new();
    BufReader::new(out).read_line(&mut shown).unwrap();
    assert!(shown.contains("peers.code_wrong"), "{shown}");
    assert!(c.peers(0).is_empty() && c.peers(2).is_empty());

    // Desks 1 and 2 pair; a tick travels. Then desk 1 unpairs desk 2: nothing more does.
    c.pair(0, 1);
    c.wait_connected(0, 1);
    c.ok(1, &["checklist", "tick", "1"]);
    wait_until(Duration::from_secs(10), "the tick", || {
        steps(&c.done(0)) == [1]
    });
    let desk2 = c.peers(0)[0]["desk"].as_str().unwrap().to_owned();
    c.ok(0, &["unpair", &desk2]);
    assert!(c.peers(0).is_empty());
    c.ok(1, &["checklist", "tick", "2"]);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        steps(&c.done(0)),
        [1],
        "an unpaired desk's work is not taken"
    );
    let to = c.dirs[0].path().join("trail.csv");
    c.ok(0, &["audit", "export", "--to", to.to_str().unwrap()]);
    let trail = std::fs::read_to_string(&to).unwrap();
    assert!(
        trail.contains("peers.pair") && trail.contains("peers.unpair"),
        "{trail}"
    );
}
