//! How fast the monitor notices, how fast it recovers, whether heavy loss or a slow line
//! fools it, and what it costs an idle line. `tsunagi-cli monitor` runs in a network
//! namespace with default intervals and two endpoints (like the defaults); faults are
//! applied on the "internet" side (see tests/testkit/src/monitor_rig.rs), the slow line is
//! tests/testkit/src/delay_line.rs. Needs root. scripts/bench.sh runs it.
//!
//! TSUNAGI_BENCH_TRIALS (default 30), TSUNAGI_BENCH_LOSS_SECS and TSUNAGI_BENCH_DELAY_SECS
//! (default 600 each), TSUNAGI_BENCH_IDLE_SECS (default 60), TSUNAGI_BENCH_FRUGAL_SECS
//! (default 600) and TSUNAGI_BENCH_PAUSE_TRIALS (default 20) shorten it; 0 skips a part.

use std::path::Path;
use std::time::{Duration, Instant};

use tsunagi_testkit::monitor_rig::MonitorRig;
use tsunagi_testkit::netns::PUBLIC;

const CLI: &str = env!("CARGO_BIN_EXE_tsunagi-cli");

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn report(name: &str, v: &[Duration], goal: Duration) {
    let p50 = percentile(v, 0.5);
    let p95 = percentile(v, 0.95);
    println!(
        "{name:<28} n={:<3} p50 {:>6.3} s  p95 {:>6.3} s  max {:>6.3} s  goal p95 <= {:.0} s  ({:.0} % of goal) {}",
        v.len(),
        p50.as_secs_f64(),
        p95.as_secs_f64(),
        percentile(v, 1.0).as_secs_f64(),
        goal.as_secs_f64(),
        100.0 * p95.as_secs_f64() / goal.as_secs_f64(),
        if p95 <= goal { "ok" } else { "MISSED" }
    );
}

/// Bytes through the internet side of the line (both directions), IP headers included.
fn line_bytes(rig: &MonitorRig) -> u64 {
    bytes_on(rig, &rig.net.primary.inet_if)
}

fn bytes_on(rig: &MonitorRig, inet_if: &str) -> u64 {
    let out = std::process::Command::new("ip")
        .args([
            "-n",
            &rig.net.inet,
            "-s",
            "-j",
            "link",
            "show",
            "dev",
            inet_if,
        ])
        .output()
        .expect("ip -s link");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
    let stats = &v[0]["stats64"];
    stats["rx"]["bytes"].as_u64().unwrap_or(0) + stats["tx"]["bytes"].as_u64().unwrap_or(0)
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let trials = env_or("TSUNAGI_BENCH_TRIALS", 30) as usize;
    let loss_secs = env_or("TSUNAGI_BENCH_LOSS_SECS", 600);
    let delay_secs = env_or("TSUNAGI_BENCH_DELAY_SECS", 600);
    let idle_secs = env_or("TSUNAGI_BENCH_IDLE_SECS", 60);
    let cli = Path::new(CLI);

    // Idle traffic first, on a quiet line with the FHIR server as upstream.
    {
        let rig = MonitorRig::start_with(cli, false, true, "");
        std::thread::sleep(Duration::from_secs(5));
        let before = line_bytes(&rig);
        std::thread::sleep(Duration::from_secs(idle_secs));
        let per_minute = (line_bytes(&rig) - before) as f64 * 60.0 / idle_secs as f64;
        println!(
            "idle probe traffic           {:.1} KB per minute (goal <= 50 KB, {:.0} % of goal) {}",
            per_minute / 1000.0,
            100.0 * per_minute / 50_000.0,
            if per_minute <= 50_000.0 {
                "ok"
            } else {
                "MISSED"
            }
        );
    }

    frugal(cli, env_or("TSUNAGI_BENCH_FRUGAL_SECS", 600));
    pause_over_backup(cli, env_or("TSUNAGI_BENCH_PAUSE_TRIALS", 20) as usize);
    if trials == 0 {
        return;
    }

    // A second adapter up beside the line (Wi-Fi beside the cable), carrying nothing: a
    // pulled cable then leaves an adapter up, and only the probes can tell.
    let mut rig = MonitorRig::start(cli, true, false);
    let mut drop_detect = Vec::new();
    let mut drop_recover = Vec::new();
    for _ in 0..trials {
        // A random point in the heartbeat cycle, as a real cut would fall.
        std::thread::sleep(Duration::from_millis(1500 + fastrand_ms(2000)));
        // Timed from before the fault: applying it (ip netns exec nft) takes milliseconds.
        let cut = Instant::now();
        rig.net.fault("input", &format!("ip daddr {PUBLIC} drop"));
        rig.expect("offline", Some("internet"), Duration::from_secs(30));
        drop_detect.push(cut.elapsed());
        let lifted = Instant::now();
        rig.net.clear_faults();
        rig.expect("online", None, Duration::from_secs(30));
        drop_recover.push(lifted.elapsed());
    }
    let mut link_detect = Vec::new();
    let mut link_recover = Vec::new();
    for _ in 0..trials {
        std::thread::sleep(Duration::from_millis(1500 + fastrand_ms(2000)));
        let cut = Instant::now();
        rig.net.set_link(&rig.net.primary, false);
        rig.expect("offline", Some("local_link"), Duration::from_secs(30));
        link_detect.push(cut.elapsed());
        let started = Instant::now();
        rig.net.set_link(&rig.net.primary, true);
        rig.net.route_via(&rig.net.primary);
        rig.expect("online", None, Duration::from_secs(30));
        link_recover.push(started.elapsed());
    }
    report(
        "silent drop → offline",
        &drop_detect,
        Duration::from_secs(3),
    );
    report("link down → offline", &link_detect, Duration::from_secs(1));
    report(
        "silent drop lifted → online",
        &drop_recover,
        Duration::from_secs(5),
    );
    report("link back → online", &link_recover, Duration::from_secs(5));

    // Heavy random loss both ways: never offline.
    std::thread::sleep(Duration::from_secs(10));
    rig.random_loss(30);
    let seen_before = rig.seen.len();
    let started = Instant::now();
    let watch = Duration::from_secs(loss_secs);
    while let Some(left) = watch.checked_sub(started.elapsed()) {
        let _ = rig.next(left);
    }
    let during = &rig.seen[seen_before..];
    let false_offline = during.iter().filter(|v| v["state"] == "offline").count();
    let degraded = during.iter().filter(|v| v["state"] == "degraded").count();
    show_false_offline(during);
    println!(
        "30 % loss for {loss_secs} s        {false_offline} false offline declarations (goal 0) {}; {degraded} degraded transitions",
        if false_offline == 0 { "ok" } else { "MISSED" }
    );
    rig.net.clear_faults();
    drop(rig);

    // A tethered phone: 300 ms ± 100 ms added each way. Slow, never offline.
    let mut rig = MonitorRig::start_on_slow_line(cli);
    let started = Instant::now();
    let watch = Duration::from_secs(delay_secs);
    while let Some(left) = watch.checked_sub(started.elapsed()) {
        let _ = rig.next(left);
    }
    let false_offline = rig.seen.iter().filter(|v| v["state"] == "offline").count();
    let degraded = rig.seen.iter().filter(|v| v["state"] == "degraded").count();
    show_false_offline(&rig.seen);
    println!(
        "300±100 ms delay for {delay_secs} s {false_offline} false offline declarations (goal 0) {}; {degraded} degraded transitions",
        if false_offline == 0 { "ok" } else { "MISSED" }
    );
}

/// Issue 17: the whole background (`tsunagi-cli run`: the monitor, the pulls of a FHIR
/// server holding a day of 36 appointments, the sender) on the primary line, then on the
/// backup line (a tethered phone) where it spends little; then the primary line's return.
fn frugal(cli: &Path, secs: u64) {
    if secs == 0 {
        return;
    }
    let mut rig = MonitorRig::prepare(cli, true, true, "");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let hfs = &rig.relay.as_ref().expect("the FHIR server").1;
    hfs.put_all(&tsunagi_testkit::clinic::clinic_day(today, 36, "b").resources());
    rig.spawn(&["run", "--json"]);
    std::thread::sleep(Duration::from_secs(10));
    let per_minute = |rig: &MonitorRig, inet_if: &str, secs: u64| {
        let before = bytes_on(rig, inet_if);
        std::thread::sleep(Duration::from_secs(secs));
        (bytes_on(rig, inet_if) - before) as f64 * 60.0 / secs as f64
    };
    // `run --json` prints each event; the line's own carry its status.
    let line = |v: &serde_json::Value| v["view"]["status"].clone();
    let primary_if = rig.net.primary.inet_if.clone();
    let normal = per_minute(&rig, &primary_if, secs.min(180));

    rig.net.set_link(&rig.net.primary, false);
    let backup = rig.net.backup.as_ref().expect("a backup line");
    let backup_if = backup.inet_if.clone();
    rig.net.route_via(backup);
    let started = Instant::now();
    while rig
        .next(Duration::from_secs(60).saturating_sub(started.elapsed()))
        .is_some_and(|v| line(&v)["frugal"] != true)
    {}
    let engaged = started.elapsed();
    let spent = per_minute(&rig, &backup_if, secs);
    println!(
        "background traffic, primary  {:.1} KB per minute (monitor, pulls every minute, sender)",
        normal / 1000.0
    );
    println!(
        "background traffic, backup   {:.1} KB per minute, frugal (goal <= 10 KB, {:.0} % of goal; {:.2}x the primary) {}; frugal {:.1} s after the switch",
        spent / 1000.0,
        100.0 * spent / 10_000.0,
        spent / normal,
        if spent <= 10_000.0 { "ok" } else { "MISSED" },
        engaged.as_secs_f64()
    );

    // The primary line returns: seen from the route (goal: within 30 s).
    rig.net.set_link(&rig.net.primary, true);
    rig.net.route_via(&rig.net.primary);
    let started = Instant::now();
    while rig
        .next(Duration::from_secs(60).saturating_sub(started.elapsed()))
        .is_some_and(|v| !(line(&v)["backup_line"] == false && line(&v)["state"] == "online"))
    {}
    let back = started.elapsed();
    println!(
        "primary line back → seen     {:.1} s (goal <= 30 s) {}",
        back.as_secs_f64(),
        if back <= Duration::from_secs(30) {
            "ok"
        } else {
            "MISSED"
        }
    );
}

/// Issue 17: the line is cut, web booking is stopped at the desk, a phone is tethered
/// (the backup line, ~1 Mbit/s): the time from the backup route appearing to the pause
/// confirmed on the FHIR server (5 free Slots closed), `trials` times. Between trials the
/// primary line returns and booking is reopened.
fn pause_over_backup(cli: &Path, trials: usize) {
    if trials == 0 {
        return;
    }
    // The CLI runs on the system clock: the Slots sit later in one clinic day.
    tsunagi_testkit::clear_of_midnight(Duration::from_secs(40 * 60));
    let mut rig = MonitorRig::prepare(cli, true, true, "upstream_every_secs = 2\n");
    let rate = rig.net.backup_rate().expect("the backup line is shaped");
    let hfs = &rig.relay.as_ref().expect("the FHIR server").1;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    hfs.put_all(&tsunagi_testkit::clinic::clinic_day(today, 36, "p").resources());
    hfs.put(&tsunagi_testkit::clinic::schedule("psched"));
    for i in 0..5 {
        let start = chrono::Utc::now() + chrono::Duration::minutes(30 + i);
        hfs.put(&tsunagi_testkit::clinic::slot(
            &format!("ps{i}"),
            "psched",
            start,
            "free",
        ));
    }
    rig.spawn(&["run", "--json"]);
    let line = |v: &serde_json::Value| v["view"]["status"].clone();
    let wait_line = |rig: &mut MonitorRig, what: &str, ok: &dyn Fn(&serde_json::Value) -> bool| {
        let started = Instant::now();
        loop {
            let left = Duration::from_secs(60).saturating_sub(started.elapsed());
            match rig.next(left) {
                Some(v) if v["kind"] == "line" && ok(&line(&v)) => return,
                Some(_) => {}
                None => panic!("{what}: not within 60 s"),
            }
        }
    };
    let booking = |rig: &MonitorRig| -> String {
        let status: serde_json::Value =
            serde_json::from_str(&rig.cli(&["booking", "status", "--json"]))
                .expect("booking status as JSON");
        status["state"].as_str().unwrap_or("?").to_owned()
    };
    let until = |rig: &MonitorRig, state: &str, within: Duration| -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < within {
            if booking(rig) == state {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    };
    wait_line(&mut rig, "online", &|s| s["state"] == "online");
    let mut took = Vec::new();
    for _ in 0..trials {
        rig.net.set_link(&rig.net.primary, false);
        wait_line(&mut rig, "offline", &|s| s["state"] == "offline");
        rig.cli(&["booking", "pause"]);
        assert_eq!(booking(&rig), "pause_waiting");
        let backup = rig.net.backup.as_ref().expect("a backup line");
        let appeared = Instant::now();
        rig.net.route_via(backup);
        until(&rig, "paused", Duration::from_secs(60)).expect("the pause confirmed");
        took.push(appeared.elapsed());

        rig.net.set_link(&rig.net.primary, true);
        rig.net.route_via(&rig.net.primary);
        wait_line(&mut rig, "primary line back", &|s| {
            s["state"] == "online" && s["backup_line"] == false
        });
        rig.cli(&["booking", "resume"]);
        until(&rig, "open", Duration::from_secs(60)).expect("booking reopened");
        std::thread::sleep(Duration::from_millis(500 + fastrand_ms(2000)));
    }
    let hfs = &rig.relay.as_ref().expect("the FHIR server").1;
    for i in 0..5 {
        assert_eq!(hfs.get(&format!("Slot/ps{i}"))["status"], "free");
    }
    rig.stop_monitor();
    report(
        &format!("backup up → pause confirmed ({rate} line)"),
        &took,
        Duration::from_secs(5),
    );
}

/// What each false offline declaration saw: the probes that failed, how, after how long.
fn show_false_offline(lines: &[serde_json::Value]) {
    for v in lines.iter().filter(|v| v["state"] == "offline") {
        let failed: Vec<String> = v["probes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["ok"] == false)
            .map(|p| format!("{} {} {} ms", p["kind"], p["failure"], p["millis"]))
            .collect();
        println!("  false offline at {}: {}", v["at"], failed.join(", "));
    }
}

/// A pseudo-random number of milliseconds below `max`, from the clock (no extra crate).
fn fastrand_ms(max: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos() as u64;
    nanos % max
}
