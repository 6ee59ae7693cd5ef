//! Crash safety of the sync-back, with `tsunagi-cli` as the process that dies: kill -9 it
//! at 50+ random points while it drains, and while it records receipts; restart and drain.
//! The real FHIR server then holds each op exactly once and no receipt the desk confirmed
//! is missing. The key lives in a real Secret Service (a private gnome-keyring session).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::cli;
use common::kill::{kill_after, ok, seeded};
use common::ops::{assert_each_once, OpRef};
use serde_json::Value;
use tsunagi_testkit::clinic::clinic_day;
use tsunagi_testkit::fault_proxy::{Fault, FaultProxy};
use tsunagi_testkit::hfs::Hfs;
use tsunagi_testkit::Session;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// How long a `tsunagi-cli` takes to start and open the desk here (a listing does only that).
fn time_to_open(session: &Session, data: &Path) -> Duration {
    let started = Instant::now();
    ok(cli(session, data, &["outbox", "list", "--json"]));
    started.elapsed()
}

fn add_receipt(session: &Session, data: &Path, i: usize) -> String {
    ok(cli(
        session,
        data,
        &[
            "receipt",
            "add",
            "--amount",
            &format!("{}", 1000 + i),
            "--method",
            "cash",
            "--patient",
            &format!("kp{}", 10 + i % 40),
        ],
    ))
    .trim()
    .to_owned()
}

#[test]
fn killed_at_random_points_the_desk_loses_nothing_and_the_server_has_each_op_once() {
    tsunagi_testkit::clear_of_midnight(std::time::Duration::from_secs(300));
    let mut rng = seeded(0x0c0ffee);
    let session = Session::start();
    let hfs = Hfs::start();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    hfs.put_all(&clinic_day(today, 60, "k").resources());
    // A slow line (25 ms a request), so a drain is caught mid-way more often than not.
    let proxy = FaultProxy::start(&hfs.base_url());
    proxy.set(Fault::Delay(25));
    let data = tempfile::tempdir().unwrap();
    ok(cli(
        &session,
        data.path(),
        &["source", "fhir", &proxy.url()],
    ));
    ok(cli(&session, data.path(), &["pull"]));

    // A morning at the desk: calls (cancels write two ops) and receipts.
    for i in 10..50 {
        let outcome = if i % 3 == 0 { "cancelled" } else { "no_answer" };
        ok(cli(
            &session,
            data.path(),
            &["call", &format!("ka{i}"), outcome],
        ));
    }
    let mut confirmed: Vec<String> = (0..60)
        .map(|i| add_receipt(&session, data.path(), i))
        .collect();

    // 1. The process recording receipts dies at random points.
    let mut kills_while_recording = 0;
    for i in 0..40 {
        let after = Duration::from_millis(5 + rng.below(120));
        let (killed, out) = kill_after(
            &session,
            data.path(),
            &[
                "receipt",
                "add",
                "--amount",
                &format!("{}", 2000 + i),
                "--method",
                "card",
            ],
            after,
        );
        kills_while_recording += usize::from(killed);
        if !killed && out.status.success() {
            confirmed.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
        }
    }
    assert!(
        kills_while_recording >= 10,
        "{kills_while_recording} kills while recording"
    );

    // 2. The draining process dies at 50+ random points; when it empties the queue before
    // enough kills, the desk records more and the killing goes on.
    // The random point is counted from when a drain has opened the desk: how long that takes
    // is measured on this machine as it runs (a slow CI machine spends most of 200 ms just
    // starting), so the kills land in the drain and not all before it.
    let mut kills_while_draining = 0;
    let mut extra = 0;
    let mut progress = Vec::new();
    let mut startup = time_to_open(&session, data.path());
    while kills_while_draining < 50 {
        let after = startup + Duration::from_millis(rng.below(200));
        let (killed, _) = kill_after(
            &session,
            data.path(),
            &["outbox", "drain", "--patience", "30"],
            after,
        );
        if killed {
            kills_while_draining += 1;
        } else {
            for _ in 0..20 {
                confirmed.push(add_receipt(&session, data.path(), 100 + extra));
                extra += 1;
            }
        }
        let started = Instant::now();
        let listed = ok(cli(&session, data.path(), &["outbox", "list", "--json"]));
        startup = started.elapsed();
        let done = json_lines(&listed)
            .iter()
            .filter(|o| o["state"] == "done")
            .count();
        progress.push(done);
    }
    println!("done after each kill: {progress:?}");
    assert!(
        progress.windows(2).filter(|w| w[1] > w[0]).count() >= 10,
        "the killed drains got somewhere: {progress:?}"
    );

    // 3. Restarted, the drain finishes and says so with exit 0.
    let out = cli(
        &session,
        data.path(),
        &["outbox", "drain", "--patience", "60"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let ops: Vec<Value> = json_lines(&ok(cli(
        &session,
        data.path(),
        &["outbox", "list", "--json"],
    )));
    assert!(ops.iter().all(|o| o["state"] == "done"), "all done locally");
    let refs: Vec<OpRef> = ops.iter().map(OpRef::from_json).collect();
    assert_each_once(&hfs, &refs);

    // No receipt the desk confirmed is missing, and each has its op.
    let ledger = json_lines(&ok(cli(
        &session,
        data.path(),
        &["receipt", "list", "--json", "--all-days"],
    )));
    let numbers: Vec<&str> = ledger
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    for n in &confirmed {
        assert!(
            numbers.contains(&n.as_str()),
            "receipt {n} was confirmed and is gone"
        );
    }
    for n in &numbers {
        assert!(
            ops.iter()
                .any(|o| o["kind"] == "receipt" && o["target_id"] == *n),
            "receipt {n} has its op"
        );
    }
    println!(
        "{kills_while_recording} kills while recording, {kills_while_draining} while draining, \
         {} ops on the server once each",
        ops.len()
    );
}
