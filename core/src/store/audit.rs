//! The audit trail's table and the staff list (see `crate::audit` for the chain).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::Store;
use crate::audit::{row_hash, AuditEntry, AuditHead, AuditRow, GENESIS, VIEW_REPEAT_SECS};
use crate::error::Result;

/// Append one row inside the caller's transaction (an action and its row commit together
/// or not at all); `None` when it repeats a view of the same records by the same person a
/// moment ago. The caller's transaction must be taken for writing up front (`Immediate`),
/// so two processes (the app and the CLI) never chain onto the same row.
pub(crate) fn append_in(tx: &rusqlite::Connection, e: &AuditEntry) -> Result<Option<i64>> {
    let records = serde_json::to_string(&e.records).expect("strings serialize");
    let detail = e.detail.to_string();
    let at = ts(e.at);
    if e.action.is_view() {
        let last: Option<(String, String)> = tx
            .query_row(
                "SELECT at, records FROM audit WHERE staff = ?1 AND action = ?2
                 ORDER BY seq DESC LIMIT 1",
                params![e.staff, e.action.code()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((last_at, last_records)) = last {
            let age = (e.at - parse_ts(&last_at)?).num_seconds();
            // A clock set back makes the age negative: that is not "a moment ago", and
            // the view is written (else every view would vanish until the clock caught up).
            if last_records == records && (0..VIEW_REPEAT_SECS).contains(&age) {
                return Ok(None);
            }
        }
    }
    let (seq, prev): (i64, String) = tx
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .unwrap_or((0, GENESIS.to_owned()));
    let seq = seq + 1;
    let hash = row_hash(&prev, &at, &e.staff, e.action.code(), &records, &detail);
    tx.execute(
        "INSERT INTO audit (seq, at, staff, action, records, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            at,
            e.staff,
            e.action.code(),
            records,
            detail,
            prev,
            hash
        ],
    )?;
    tx.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        params![seq, hash],
    )?;
    Ok(Some(seq))
}

impl Store {
    /// Append one row in a transaction of its own (views, which change nothing else).
    pub fn append_audit(&self, e: &AuditEntry) -> Result<Option<i64>> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let seq = append_in(&tx, e)?;
            tx.commit()?;
            Ok(seq)
        })
    }

    /// Do something outside the database (write a file) with its audit row: the row is
    /// written first and committed only when `act` succeeded. `act` must not use the store.
    pub fn audited<R>(&self, e: &AuditEntry, act: impl FnOnce() -> Result<R>) -> Result<R> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            append_in(&tx, e)?;
            let done = act()?;
            tx.commit()?;
            Ok(done)
        })
    }

    /// Every row in the order of its number, and the head.
    pub fn audit_trail(&self) -> Result<(Vec<AuditRow>, Option<AuditHead>)> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let rows = {
                let mut stmt = tx.prepare(
                    "SELECT seq, at, staff, action, records, detail, prev_hash, hash
                     FROM audit ORDER BY seq",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok(AuditRow {
                        seq: r.get(0)?,
                        at: r.get(1)?,
                        staff: r.get(2)?,
                        action: r.get(3)?,
                        records: r.get(4)?,
                        detail: r.get(5)?,
                        prev_hash: r.get(6)?,
                        hash: r.get(7)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let head = tx
                .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            Ok((rows, head))
        })
    }

    /// The quick switcher's names, most recently picked first, and who was picked last.
    pub fn staff_members(&self) -> Result<(Vec<String>, Option<String>)> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT name, picked_at FROM staff_member
                 ORDER BY picked_at IS NULL, picked_at DESC, name",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let last = rows
                .iter()
                .find(|(_, picked)| picked.is_some())
                .map(|(n, _)| n.clone());
            Ok((rows.into_iter().map(|(n, _)| n).collect(), last))
        })
    }

    /// Pick a name at the desk (added to the list when new), with its audit row if any.
    pub fn pick_staff(
        &self,
        name: &str,
        at: DateTime<Utc>,
        audit: Option<&AuditEntry>,
    ) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO staff_member (name, added_at, picked_at) VALUES (?1, ?2, ?2)
                 ON CONFLICT (name) DO UPDATE SET picked_at = excluded.picked_at",
                params![name, ts(at)],
            )?;
            if let Some(audit) = audit {
                append_in(&tx, audit)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Take a name off the list (its rows in the trail stay), with the audit row.
    pub fn forget_staff(&self, name: &str, audit: &AuditEntry) -> Result<bool> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let gone = tx.execute("DELETE FROM staff_member WHERE name = ?1", [name])? > 0;
            if gone {
                append_in(&tx, audit)?;
            }
            tx.commit()?;
            Ok(gone)
        })
    }
}
