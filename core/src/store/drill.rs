//! Drills: start, end, and which one is running. A drill ends by a person, by a real
//! outage (`monitor::record_transition`), or by itself at the end of its clinic day.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::ts;
use super::Store;
use crate::audit::AuditEntry;
use crate::error::{CoreError, Result};

/// The drill running at `at`, or 0 (one past the end of its clinic day is not running,
/// whether or not its row says so yet).
pub(super) fn running(conn: &rusqlite::Connection, at: DateTime<Utc>) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce((SELECT id FROM drill WHERE ended_at IS NULL
                            AND (ends_at IS NULL OR ends_at > ?1)), 0)",
        [ts(at)],
        |r| r.get(0),
    )
}

/// End a drill left open past the end of its clinic day (at that end); its id, if one.
pub(super) fn end_overdue(
    conn: &rusqlite::Connection,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let overdue: Option<i64> = conn
        .query_row(
            "SELECT id FROM drill WHERE ended_at IS NULL AND ends_at IS NOT NULL
               AND ends_at <= ?1",
            [ts(at)],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = overdue {
        conn.execute(
            "UPDATE drill SET ended_at = ends_at, ended_by = 'day_end' WHERE id = ?1",
            [id],
        )?;
    }
    Ok(overdue)
}

impl Store {
    /// The drill in progress at `at`, or 0 (a read: no write lock).
    pub fn active_drill(&self, at: DateTime<Utc>) -> Result<i64> {
        self.with(|conn| Ok(running(conn, at)?))
    }

    /// End a drill left open past the end of its clinic day; returns its id if one ended.
    pub fn end_overdue_drill(&self, at: DateTime<Utc>) -> Result<Option<i64>> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let ended = end_overdue(&tx, at)?;
            tx.commit()?;
            Ok(ended)
        })
    }

    /// Start a drill that ends by itself at `ends_at` (the end of the clinic day) at the
    /// latest. Refused while the line is down: a real outage is not the time to practise.
    pub fn start_drill(
        &self,
        at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        staff: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if super::calls::active_drill(&tx, at)? != 0 {
                return Err(CoreError::InvalidInput("a drill is already running".into()));
            }
            let offline: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM incident WHERE ended_at IS NULL
                                  AND worst_state = 'offline')",
                [],
                |r| r.get(0),
            )?;
            if offline {
                return Err(CoreError::InvalidInput(
                    "the line is down: this is a real outage, not a drill".into(),
                ));
            }
            tx.execute(
                "INSERT INTO drill (started_at, staff, ends_at) VALUES (?1, ?2, ?3)",
                params![ts(at), staff, ts(ends_at)],
            )?;
            let id = tx.last_insert_rowid();
            let mut audit = audit.clone();
            audit.records.push(format!("drill:{id}"));
            super::audit::append_in(&tx, &audit)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// End the running drill (its records stay, archived under its id).
    pub fn end_drill(&self, at: DateTime<Utc>, audit: &AuditEntry) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = super::calls::active_drill(&tx, at)?;
            if id == 0 {
                return Err(CoreError::InvalidInput("no drill is running".into()));
            }
            tx.execute(
                "UPDATE drill SET ended_at = ?2, ended_by = 'staff' WHERE id = ?1",
                params![id, ts(at)],
            )?;
            let mut audit = audit.clone();
            audit.records.push(format!("drill:{id}"));
            super::audit::append_in(&tx, &audit)?;
            tx.commit()?;
            Ok(id)
        })
    }
}
