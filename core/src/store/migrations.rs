//! Append-only schema migrations. Each runs once, in order, inside one transaction with the
//! `user_version` bump, so a crash leaves the old schema or the new one, never half of it.
//! A file whose `user_version` is beyond what this build knows is refused untouched.
//!
//! Never edit a shipped migration: add the next one.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{CoreError, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_mirror.sql"),
    include_str!("migrations/0002_pull_log.sql"),
    include_str!("migrations/0003_refresh.sql"),
    include_str!("migrations/0004_monitor.sql"),
    include_str!("migrations/0005_calls_outbox.sql"),
    include_str!("migrations/0006_receipts.sql"),
    include_str!("migrations/0007_checklist.sql"),
    include_str!("migrations/0008_arrival.sql"),
    include_str!("migrations/0009_sync_back.sql"),
    include_str!("migrations/0010_privacy.sql"),
    include_str!("migrations/0011_one_promise.sql"),
];

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the schema to `target`; returns the version the file had.
pub(super) fn migrate(conn: &mut Connection, target: i64) -> Result<i64> {
    // Already current (the usual case): no write lock, so opening never waits on a writer.
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == target {
        return Ok(current);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > LATEST_VERSION {
        return Err(CoreError::SchemaTooNew {
            path: Default::default(),
            found,
            known: LATEST_VERSION,
        });
    }
    if found >= target {
        return Ok(found);
    }
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version > found && version <= target {
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()?;
    Ok(found)
}
