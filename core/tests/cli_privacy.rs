//! Issue 7 from the terminal: `audit verify` names each edited, reordered or deleted row of
//! the real (encrypted) trail; `doctor` on one screen; `start-fresh` after a lost key.

use std::path::Path;

use tsunagi_testkit::Session;

mod common;
use common::cli;

fn ok(session: &Session, data_dir: &Path, args: &[&str]) -> String {
    let o = cli(session, data_dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A copy of the install, its trail changed by `sql` the way someone with the key and a
/// SQLCipher shell would: the append-only triggers dropped first.
fn tampered(session: &Session, data_dir: &Path, sql: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(data_dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    let key = session.database_key(copy.path());
    let conn = rusqlite::Connection::open(copy.path().join("tsunagi.db")).unwrap();
    conn.pragma_update(None, "key", format!("x'{}'", hex::encode(&key)))
        .unwrap();
    let refused = conn.execute("UPDATE audit SET staff = 'x' WHERE seq = 1", []);
    assert!(
        refused.unwrap_err().to_string().contains("append-only"),
        "a plain edit is refused"
    );
    conn.execute_batch("DROP TRIGGER audit_never_edited; DROP TRIGGER audit_never_deleted;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
    copy
}

#[test]
fn issue_7_audit_verify_names_each_edited_reordered_or_deleted_row() {
    let session = Session::start();
    let data = tempfile::tempdir().unwrap();
    ok(&session, data.path(), &["pull"]);
    ok(&session, data.path(), &["today"]);
    ok(&session, data.path(), &["calls", "--tomorrow-morning"]);
    for amount in ["1000", "2000", "3000"] {
        ok(
            &session,
            data.path(),
            &[
                "--staff",
                "受付 検証",
                "receipt",
                "add",
                "--amount",
                amount,
                "--method",
                "cash",
            ],
        );
    }
    let intact = ok(&session, data.path(), &["audit", "verify"]);
    assert!(intact.starts_with("audit trail intact: 5 rows"), "{intact}");
    // Each check is itself recorded.
    let csv_path = data.path().join("audit.csv");
    ok(
        &session,
        data.path(),
        &["audit", "export", "--to", csv_path.to_str().unwrap()],
    );
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 6,
        "header, 5 rows and the verify: {csv}"
    );
    assert!(csv.contains(",受付 検証,receipt.add,"), "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains("terminal"),
        "the CLI acts as the terminal's user unless --staff says otherwise: {csv}"
    );

    let cases = [
        (
            "edited",
            "UPDATE audit SET staff = '別の人' WHERE seq = 3;",
            "row 3 was edited",
        ),
        (
            "deleted",
            "DELETE FROM audit WHERE seq = 4;",
            "row 4 was deleted",
        ),
        (
            "reordered",
            "UPDATE audit SET seq = -1 WHERE seq = 2;
             UPDATE audit SET seq = 2 WHERE seq = 3;
             UPDATE audit SET seq = 3 WHERE seq = -1;",
            "row 2 does not follow the row before it",
        ),
        (
            "cut off the end",
            "DELETE FROM audit WHERE seq >= 5;",
            "rows after 4 were deleted",
        ),
    ];
    for (what, sql, says) in cases {
        let copy = tampered(&session, data.path(), sql);
        let o = cli(&session, copy.path(), &["audit", "verify"]);
        let out = String::from_utf8(o.stdout).unwrap();
        assert_eq!(o.status.code(), Some(9), "{what}: {out}");
        assert!(out.contains("TAMPERED"), "{what}: {out}");
        assert!(out.contains(says), "{what}: expected {says:?} in {out}");
    }
    // The original is untouched by all that.
    let again = ok(&session, data.path(), &["audit", "verify"]);
    assert!(again.contains("intact"), "{again}");
}

#[test]
fn issue_7_doctor_shows_every_part_and_start_fresh_answers_a_lost_key() {
    let data = tempfile::tempdir().unwrap();
    let first = Session::start();
    ok(&first, data.path(), &["pull"]);
    let healthy = cli(&first, data.path(), &["doctor", "--no-probe"]);
    let text = String::from_utf8(healthy.stdout).unwrap();
    assert_eq!(healthy.status.code(), Some(0), "{text}");
    for area in [
        "config", "keychain", "database", "outbox", "audit", "mirror", "monitor", "source",
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().nth(1) == Some(area)),
            "{area} in {text}"
        );
    }
    assert!(!text.contains("FAIL"), "{text}");

    // Another login: the key is not in its keychain.
    let other = Session::start();
    let lost = cli(&other, data.path(), &["doctor", "--no-probe", "--json"]);
    assert_eq!(lost.status.code(), Some(9));
    let report: serde_json::Value = serde_json::from_slice(&lost.stdout).unwrap();
    let keychain = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["area"] == "keychain")
        .unwrap();
    assert_eq!(keychain["health"], "fail");
    assert!(keychain["hint"].as_str().unwrap().contains("start-fresh"));
    let refused = cli(&other, data.path(), &["today"]);
    let err = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        err.contains("start-fresh --yes"),
        "the way out is named: {err}"
    );

    let unconfirmed = cli(&other, data.path(), &["start-fresh"]);
    assert_eq!(unconfirmed.status.code(), Some(2), "needs --yes");
    let before = std::fs::read(data.path().join("tsunagi.db")).unwrap();
    let fresh = ok(&other, data.path(), &["start-fresh", "--yes"]);
    let kept = fresh
        .lines()
        .find_map(|l| l.strip_prefix("the unreadable database is kept at "))
        .unwrap();
    assert_eq!(std::fs::read(kept).unwrap(), before);
    // The way on reads as one sentence (it had a run of spaces in the middle).
    assert!(
        fresh.contains("a fresh database was created; run `tsunagi-cli pull` to mirror today"),
        "{fresh}"
    );
    ok(&other, data.path(), &["pull"]);
    assert!(ok(&other, data.path(), &["today"]).lines().count() > 10);
    let audit = ok(
        &other,
        data.path(),
        &["audit", "export", "--to", "/dev/stdout"],
    );
    assert!(audit.contains("store.fresh_start"), "{audit}");
    // Refused once the database opens again.
    let again = cli(&other, data.path(), &["start-fresh", "--yes"]);
    assert_eq!(again.status.code(), Some(2));
}
