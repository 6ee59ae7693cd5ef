//! Drills: start, end, and which one is running.

use chrono::{DateTime, Utc};
use rusqlite::{params, TransactionBehavior};

use super::mirror::ts;
use super::Store;
use crate::error::{CoreError, Result};

impl Store {
    /// The drill in progress, or 0.
    pub fn active_drill(&self) -> Result<i64> {
        self.with(|conn| Ok(super::calls::active_drill(conn)?))
    }

    pub fn start_drill(&self, at: DateTime<Utc>, staff: Option<&str>) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if super::calls::active_drill(&tx)? != 0 {
                return Err(CoreError::InvalidInput("a drill is already running".into()));
            }
            tx.execute(
                "INSERT INTO drill (started_at, staff) VALUES (?1, ?2)",
                params![ts(at), staff],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(id)
        })
    }

    /// End the running drill (its records stay, archived under its id).
    pub fn end_drill(&self, at: DateTime<Utc>) -> Result<i64> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = super::calls::active_drill(&tx)?;
            if id == 0 {
                return Err(CoreError::InvalidInput("no drill is running".into()));
            }
            tx.execute(
                "UPDATE drill SET ended_at = ?2 WHERE id = ?1",
                params![id, ts(at)],
            )?;
            tx.commit()?;
            Ok(id)
        })
    }
}
