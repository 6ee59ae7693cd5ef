//! The first databases a process opens, opened at the same moment.
//!
//! SQLCipher sets itself up once per process, and only the first opens can meet that setup
//! half done. This binary holds one test on purpose (another test would have set SQLCipher
//! up already), and the test shuts SQLite down between rounds, with every connection closed,
//! so that each round is a process's first open again.

use std::sync::{Arc, Barrier};

use tsunagi_core::store::{Create, DbKey, Store};

/// CI, 2026-11-29: a desk opened alongside other desks in a fresh process failed its very
/// first open with "An error occurred with PRAGMA key or rekey": SQLite marks itself
/// initialised before SQLCipher's own setup has run, and a second thread keyed its
/// connection in between.
#[test]
fn first_opens_in_a_process_all_succeed_when_they_start_together() {
    const ROUNDS: usize = 500;
    const DESKS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    // The files exist before the rounds start, made one at a time, so the rounds measure
    // only the opening.
    let desks: Vec<_> = (0..DESKS)
        .map(|n| {
            let path = dir.path().join(format!("desk-{n}.db"));
            let key = DbKey::generate().unwrap();
            drop(Store::open(&path, &key, Create::IfMissing).unwrap());
            Arc::new((path, key))
        })
        .collect();
    let mut failed = Vec::new();
    for round in 0..ROUNDS {
        // No connection is open here (every store of the last round was dropped), which is
        // what sqlite3_shutdown requires.
        assert_eq!(unsafe { rusqlite::ffi::sqlite3_shutdown() }, 0);
        let start = Arc::new(Barrier::new(DESKS));
        let opens: Vec<_> = desks
            .iter()
            .map(|desk| {
                let desk = Arc::clone(desk);
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    Store::open(&desk.0, &desk.1, Create::Never).map(drop)
                })
            })
            .collect();
        failed.extend(
            opens
                .into_iter()
                .filter_map(|t| t.join().unwrap().err())
                .map(|e| format!("round {round}: {e}")),
        );
    }
    assert!(
        failed.is_empty(),
        "{} opens failed: {failed:?}",
        failed.len()
    );
}
