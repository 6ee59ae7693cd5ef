//! `tsunagi-cli` run as a process, as the IT helper runs it, with its key in a real
//! Secret Service (a private gnome-keyring session per test).

use std::path::Path;
use std::process::Output;

use chrono::Utc;
use serde_json::Value;
use tsunagi_testkit::Session;

mod common;
use common::cli;

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Fails unless the command failed with `code` and said so in exactly one line.
fn assert_one_line_failure(o: &Output, code: i32, mentions: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line, got: {err:?}");
    assert!(err.starts_with("tsunagi-cli: "), "{err}");
    assert!(err.contains(mentions), "expected {mentions:?} in {err:?}");
    assert!(o.stdout.is_empty(), "nothing on stdout on failure");
}

fn tokyo_today() -> String {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d")
        .to_string()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn pull_then_today_lists_the_demo_day_as_json_lines() {
    tsunagi_testkit::clear_of_midnight(std::time::Duration::from_secs(120));
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();

    let pulled = cli(&session, data.path(), &["pull"]);
    assert!(pulled.status.success(), "{}", stderr(&pulled));
    assert!(
        stdout(&pulled).contains("108 appointments"),
        "{}",
        stdout(&pulled)
    );

    let today = cli(&session, data.path(), &["today", "--json"]);
    assert!(today.status.success(), "{}", stderr(&today));
    let lines: Vec<Value> = stdout(&today)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 36);
    let starts: Vec<&str> = lines.iter().map(|l| l["start"].as_str().unwrap()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "time order");
    let today_date = tokyo_today();
    assert_eq!(starts[0], format!("{today_date}T09:00:00+09:00"));
    for l in &lines {
        assert!(l["id"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(l["status"].as_str().is_some());
        assert!(l["patient_name"].as_str().is_some());
        for phone in l["phones"].as_array().unwrap() {
            let p = phone.as_str().unwrap();
            assert!(
                p.starts_with('+') && p[1..].chars().all(|c| c.is_ascii_digit()),
                "{p}"
            );
        }
    }
    assert!(lines
        .iter()
        .any(|l| l["phones"].as_array().unwrap().len() == 2));
    assert!(lines
        .iter()
        .any(|l| l["phones"].as_array().unwrap().is_empty()));
    assert!(lines.iter().any(|l| l["status"] == "cancelled"));
    assert!(lines.iter().any(|l| l["status"] == "arrived"));

    // --date names the same day explicitly; other days are there too.
    let same = cli(
        &session,
        data.path(),
        &["today", "--json", "--date", &today_date],
    );
    assert_eq!(stdout(&same), stdout(&today));
    let text = cli(&session, data.path(), &["today"]);
    assert!(text.status.success());
    assert_eq!(
        stdout(&text).lines().count(),
        37,
        "a header and one line each"
    );
    assert!(stdout(&text).contains("data as of"));

    let status = cli(&session, data.path(), &["status", "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let s: Value = serde_json::from_str(stdout(&status).trim()).unwrap();
    assert_eq!(s["configured_source"], "demo");
    assert_eq!(s["is_demo"], true);
    assert_eq!(s["appointments"], 108);
    assert_eq!(s["patients"], 36);
    assert!(s["synced_at"].as_str().unwrap().ends_with("+09:00"));
    assert_eq!(s["last_pull"]["ok"], true);
    assert!(cli(&session, data.path(), &["status"]).status.success());
}

#[test]
fn an_empty_mirror_lists_nothing_and_says_how_to_fill_it() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    let today = cli(&session, data.path(), &["today", "--json"]);
    assert!(today.status.success());
    assert!(today.stdout.is_empty());
    assert!(stderr(&today).contains("tsunagi-cli pull"));
}

#[test]
fn bad_arguments_are_one_line_and_exit_2() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    for args in [
        &["today", "--date", "2026-13-45"][..],
        &["today", "--dat", "2026-11-25"][..],
        &["frobnicate"][..],
        &[][..],
    ] {
        let o = cli(&session, data.path(), args);
        assert_one_line_failure(&o, 2, "");
    }
    let o = cli(&session, data.path(), &["today", "--date", "tomorrow"]);
    assert_one_line_failure(&o, 2, "--date");
    // Nothing was created for a command that never ran.
    assert!(files(data.path()).is_empty());
    let help = cli(&session, data.path(), &["--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("Exit codes"));
}

#[test]
fn a_missing_key_is_reported_and_the_database_is_left_alone() {
    let data = tempfile::tempdir().unwrap();
    {
        let session = Session::start();
        assert!(cli(&session, data.path(), &["pull"]).status.success());
    }
    let before = files(data.path());
    // Another login (a new PC, a reset keyring) has no key for this database.
    let other = Session::start();
    let o = cli(&other, data.path(), &["today"]);
    assert_one_line_failure(&o, 3, "keychain");
    assert!(stderr(&o).contains("[store.key_missing]"));
    let o = cli(&other, data.path(), &["pull"]);
    assert_one_line_failure(&o, 3, "left untouched");
    assert_eq!(files(data.path()), before);
}

#[test]
fn a_corrupt_database_is_reported_and_not_replaced() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    assert!(cli(&session, data.path(), &["pull"]).status.success());
    let db = data.path().join("tsunagi.db");
    let garbage: Vec<u8> = (0..std::fs::metadata(&db).unwrap().len())
        .map(|i| (i * 7919 % 251) as u8)
        .collect();
    std::fs::write(&db, &garbage).unwrap();
    for args in [&["today"][..], &["pull"][..], &["status", "--json"][..]] {
        let o = cli(&session, data.path(), args);
        assert_one_line_failure(&o, 5, "cannot be decrypted");
    }
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[test]
fn a_locked_database_is_reported_as_locked() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    assert!(cli(&session, data.path(), &["pull"]).status.success());
    let key = session.database_key(data.path());
    assert_eq!(key.len(), 32, "a raw 256-bit key");

    // Another program holds the write lock (the key in the keychain opens the file).
    let other = rusqlite::Connection::open(data.path().join("tsunagi.db")).unwrap();
    other
        .pragma_update(None, "key", format!("x'{}'", hex::encode(&key)))
        .unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let o = cli(&session, data.path(), &["pull"]);
    assert_one_line_failure(&o, 4, "locked");
    other.execute_batch("ROLLBACK").unwrap();
    // Reading while someone writes is fine (WAL), and once the lock is gone pulls work.
    assert!(cli(&session, data.path(), &["pull"]).status.success());
}

#[test]
fn import_csv_reports_each_problem_with_its_line_and_imports_a_good_file() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let bad = files.path().join("bad.csv");
    std::fs::write(
        &bad,
        "日付,時刻,氏名\n2026-11-25,9:00,山田\n2026-02-30,9:10,鈴木\n2026-11-25,9:20,\n",
    )
    .unwrap();
    let o = cli(
        &session,
        data.path(),
        &["import", "csv", bad.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(6));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "a summary and one line per problem: {err}");
    assert!(lines[0].contains("[import.rows]"), "{err}");
    assert!(
        lines[1].contains("line 3") && lines[1].contains("date"),
        "{err}"
    );
    assert!(
        lines[2].contains("line 4") && lines[2].contains("name"),
        "{err}"
    );
    assert!(!err.contains("鈴木"), "no patient data in errors: {err}");

    // Days relative to today, and ahead of it: retention keeps the mirror from yesterday
    // on, so a fixed date ages out of it (this test failed from 2026-11-28 on for that).
    let day = |n: u64| {
        (Utc::now()
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .date_naive()
            + chrono::Days::new(n))
        .format("%Y-%m-%d")
        .to_string()
    };
    let (first, second) = (day(1), day(2));
    let good = files.path().join("good.csv");
    std::fs::write(
        &good,
        format!("日付,時刻,氏名\n{first},9:00,山田\n{second},9:10,鈴木\n"),
    )
    .unwrap();
    let o = cli(
        &session,
        data.path(),
        &["import", "csv", good.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 2 appointments"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("source is now csv"), "{}", stdout(&o));
    let listed = cli(
        &session,
        data.path(),
        &["today", "--json", "--date", &second],
    );
    assert_eq!(stdout(&listed).lines().count(), 1, "{}", stderr(&listed));
}

#[test]
fn issue_19_a_vendor_export_is_mapped_from_the_terminal_and_named_next_time() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let day = (Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive()
        + chrono::Days::new(1))
    .format("%Y/%m/%d")
    .to_string();
    let vendor = files.path().join("export.csv");
    std::fs::write(
        &vendor,
        format!("受付No,診察日時,患者氏名,携帯TEL\nR-1,{day} 9:00,山田,090-1234-5678\n"),
    )
    .unwrap();
    let file = vendor.to_str().unwrap();

    let o = cli(&session, data.path(), &["import", "csv", file]);
    assert_eq!(o.status.code(), Some(6), "a header never seen is refused");
    assert!(stderr(&o).contains("no date"), "{}", stderr(&o));

    let o = cli(
        &session,
        data.path(),
        &[
            "import",
            "csv",
            file,
            "--column",
            "name=患者氏名",
            "--mapping",
            "予約",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("no date"),
        "an incomplete mapping: {}",
        stderr(&o)
    );
    let o = cli(
        &session,
        data.path(),
        &[
            "import",
            "csv",
            file,
            "--column",
            "when=診察日時",
            "--mapping",
            "予約",
        ],
    );
    assert!(
        stderr(&o).contains("\"when\" is not a field"),
        "{}",
        stderr(&o)
    );

    let o = cli(
        &session,
        data.path(),
        &[
            "import",
            "csv",
            file,
            "--mapping",
            "予約",
            "--column",
            "id=受付No",
            "--column",
            "date_time=診察日時",
            "--column",
            "name=患者氏名",
            "--column",
            "phone=携帯TEL",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("mapping \"予約\""), "{}", stdout(&o));

    // The next file: by the header alone, or by the mapping's name.
    for args in [
        &["import", "csv", file][..],
        &["import", "csv", file, "--mapping", "予約"],
    ] {
        let o = cli(&session, data.path(), args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("imported 1 appointments"),
            "{}",
            stdout(&o)
        );
    }
    // The export folder: a typo is refused before anything changes.
    let exports = files.path().join("exports");
    let missing = exports.to_str().unwrap();
    let o = cli(
        &session,
        data.path(),
        &["source", "csv", "--folder", missing],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    std::fs::create_dir(&exports).unwrap();
    let o = cli(
        &session,
        data.path(),
        &["source", "csv", "--folder", missing, "--mapping", "予約"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("export folder: {missing} (columns: 予約)")),
        "{}",
        stdout(&o)
    );
    let config = std::fs::read_to_string(data.path().join("config.toml")).unwrap();
    assert!(
        config.contains("[source.folder]") && config.contains("mapping = \"予約\""),
        "{config}"
    );

    let o = cli(&session, data.path(), &["import", "mappings"]);
    let listed = stdout(&o);
    assert!(listed.starts_with("予約 (saved "), "{listed}");
    assert!(
        listed.contains("  date_time=診察日時\n  name=患者氏名\n"),
        "{listed}"
    );
}

#[test]
fn calls_lists_who_to_phone_and_call_records_an_outcome() {
    let session = Session::start();
    let dir = tempfile::tempdir().unwrap();
    assert!(cli(&session, dir.path(), &["pull"]).status.success());

    // Tomorrow morning is on the list whatever the hour the test runs.
    let list = |s: &Session| -> Vec<Value> {
        let o = cli(s, dir.path(), &["calls", "--json", "--tomorrow-morning"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let before = list(&session);
    assert!(!before.is_empty());
    let last = before.last().unwrap();
    for key in [
        "appointment_id",
        "time",
        "start",
        "status",
        "patient_name",
        "phones",
        "reached",
    ] {
        assert!(last.get(key).is_some(), "{key} missing in {last}");
    }
    let id = last["appointment_id"].as_str().unwrap().to_owned();
    assert_eq!(last["reached"], false);

    let o = cli(
        &session,
        dir.path(),
        &["call", &id, "cancelled", "--staff", "受付 佐々木"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = list(&session);
    let entry = after
        .iter()
        .find(|e| e["appointment_id"] == id.as_str())
        .unwrap();
    assert_eq!(entry["reached"], true);
    assert_eq!(entry["last_outcome"], "cancelled");
    assert_eq!(entry["status"], "cancelled");

    let o = cli(&session, dir.path(), &["call", &id, "maybe"]);
    assert_one_line_failure(&o, 2, "unknown outcome");
}

#[test]
fn receipts_are_added_voided_listed_and_summed_from_the_terminal() {
    tsunagi_testkit::clear_of_midnight(std::time::Duration::from_secs(120));
    let session = Session::start();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = cli(&session, dir.path(), args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    let cash = run(&[
        "receipt",
        "add",
        "--amount",
        "３０００",
        "--method",
        "cash",
        "--name",
        "山田 太郎",
    ]);
    let card = run(&[
        "receipt",
        "add",
        "--amount",
        "5,000",
        "--method",
        "card",
        "--name",
        "佐藤 花子",
    ]);
    let (cash, card) = (cash.trim().to_owned(), card.trim().to_owned());
    assert!(
        cash.ends_with("-001") && card.ends_with("-002"),
        "{cash} {card}"
    );
    run(&["receipt", "void", &card, "--reason", "カード決済の取消"]);

    let o = cli(
        &session,
        dir.path(),
        &["receipt", "add", "--amount", "-100", "--method", "cash"],
    );
    assert_one_line_failure(&o, 2, "negative");
    let o = cli(
        &session,
        dir.path(),
        &["receipt", "void", &card, "--reason", "again"],
    );
    assert_one_line_failure(&o, 2, "already voided");

    let list: Vec<Value> = run(&["receipt", "list", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["number"], cash.as_str());
    assert_eq!(list[0]["amount"], 3000);
    assert_eq!(list[0]["method"], "cash");
    assert_eq!(list[2]["kind"], "void");
    assert_eq!(list[2]["amount"], -5000);
    let summary: Value = serde_json::from_str(&run(&["receipt", "summary", "--json"])).unwrap();
    assert_eq!(summary["total"], 3000);
    assert_eq!(summary["voids"], 1);
    let csv = run(&["receipt", "export"]);
    assert_eq!(csv.lines().count(), 4, "header and three entries");
}

#[test]
fn a_drill_from_the_terminal_is_reported_and_never_queued_and_the_sheet_is_written() {
    let session = Session::start();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = cli(&session, dir.path(), args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    let json_lines = |text: String| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    run(&["pull"]);
    run(&["receipt", "add", "--amount", "800", "--method", "qr"]);
    let queued = json_lines(run(&["outbox", "list", "--json"]));
    assert_eq!(queued.len(), 1);
    for key in ["seq", "key", "kind", "state", "attempts"] {
        assert!(
            queued[0].get(key).is_some(),
            "{key} missing in {}",
            queued[0]
        );
    }
    assert_eq!(queued[0]["kind"], "receipt");
    assert_eq!(queued[0]["state"], "pending");

    run(&["drill", "start", "--staff", "院長"]);
    // Tomorrow morning too, so the list has patients whatever the hour.
    let calls = json_lines(run(&["calls", "--json", "--tomorrow-morning"]));
    let id = calls.last().expect("patients to call")["appointment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&["call", &id, "no_answer", "--note", "練習"]);
    let after = json_lines(run(&["calls", "--json", "--tomorrow-morning"]));
    let entry = after
        .iter()
        .find(|e| e["appointment_id"] == id.as_str())
        .unwrap();
    assert_eq!(entry["history"][0]["outcome"], "no_answer");
    assert_eq!(entry["history"][0]["note"], "練習");
    assert!(entry["script"].as_str().unwrap().contains("様"));
    run(&["receipt", "add", "--amount", "1000", "--method", "cash"]);
    run(&["drill", "end"]);
    assert_eq!(
        json_lines(run(&["outbox", "list", "--json"])).len(),
        1,
        "nothing from the drill"
    );

    let reports = json_lines(run(&["report", "--json"]));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["kind"], "drill");
    assert_eq!(reports[0]["receipts"], 1);
    let page = dir.path().join("drill.html");
    let shown: Value = serde_json::from_str(&run(&[
        "report",
        "drill",
        &reports[0]["id"].to_string(),
        "--json",
        "--html",
        page.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(shown["receipts"][0]["amount"], 1000);
    assert!(std::fs::read_to_string(&page).unwrap().contains("訓練記録"));
    let o = cli(&session, dir.path(), &["report", "outage", "42"]);
    assert_one_line_failure(&o, 2, "42");

    let sheet = run(&["sheet"]);
    let sheet = Path::new(sheet.trim());
    assert!(sheet.starts_with(dir.path()), "{}", sheet.display());
    assert!(std::fs::read_to_string(sheet)
        .unwrap()
        .contains("<!DOCTYPE html>"));
}

#[test]
fn outbox_drain_says_by_its_exit_code_whether_anything_is_left() {
    let session = Session::start();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| cli(&session, dir.path(), args);
    assert!(run(&["pull"]).status.success());
    let receipt = |amount: &str| {
        let o = run(&[
            "receipt",
            "add",
            "--amount",
            amount,
            "--method",
            "cash",
            "--name",
            "窓口 太郎",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    receipt("1200");

    // The demo clinic takes every change: exit 0, everything done.
    let o = run(&["outbox", "drain"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("everything is on the upstream"),
        "{}",
        stdout(&o)
    );
    let ops: Vec<Value> = stdout(&run(&["outbox", "list", "--json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["state"], "done");
    assert_eq!(ops[0]["upstream_ref"], "demo:receipt");

    // With CSV imports there is nothing to send to: exit 8, and the op still waits.
    assert!(run(&["source", "csv"]).status.success());
    receipt("800");
    let o = run(&["outbox", "drain", "--json"]);
    assert_eq!(o.status.code(), Some(8), "{}", stdout(&o));
    let report: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(report["end"], "no_upstream");
    assert_eq!(report["counts"]["pending"], 1);

    // Resolving what is not a conflict or rejection is refused in one line.
    let o = run(&["outbox", "resolve", "2", "keep-mine"]);
    assert_one_line_failure(&o, 2, "op 2 is pending");
    let o = run(&["outbox", "export"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let path = stdout(&o).trim().to_owned();
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(csv.starts_with("seq,incident,time,kind,state"), "{csv}");
    assert!(csv.contains(",receipt,pending,"), "{csv}");
}
