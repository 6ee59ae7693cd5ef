//! The outbox's SQL: an op queued in the transaction of its local change, the sender's
//! state changes (each its own small transaction, so a crash between request and answer
//! leaves the op `sending`, to be tried again), a person's resolutions, and the mirror kept
//! showing the desk's changes until they are on the server.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::mirror::ts;
use super::Store;
use crate::error::{CoreError, Result};
use crate::outbox::{OpAction, OpKind, OpState, OutboxCounts};

/// One outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub key: String,
    pub kind: String,
    pub target_id: Option<String>,
    pub base_version: Option<String>,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i64,
    pub created_at: String,
    pub incident_id: Option<i64>,
    pub chain: Option<String>,
    pub last_code: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub server_version: Option<String>,
    pub server_state: Option<serde_json::Value>,
    pub upstream_ref: Option<String>,
    pub done_at: Option<String>,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
}

impl OutboxRow {
    pub fn op_kind(&self) -> Option<OpKind> {
        OpKind::parse(&self.kind)
    }

    pub fn op_state(&self) -> OpState {
        OpState::parse(&self.state).unwrap_or(OpState::Pending)
    }
}

const COLUMNS: &str = "o.id, o.op_key, o.kind, o.target_id, o.base_version, o.payload, o.state,
    o.attempts, o.created_at, o.incident_id, o.chain, o.last_code, o.last_status, o.last_error,
    o.server_version, o.server_state, o.upstream_ref, o.done_at, o.resolution, o.resolved_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let payload: String = r.get(5)?;
    let server_state: Option<String> = r.get(15)?;
    Ok(OutboxRow {
        seq: r.get(0)?,
        key: r.get(1)?,
        kind: r.get(2)?,
        target_id: r.get(3)?,
        base_version: r.get(4)?,
        payload: serde_json::from_str(&payload).unwrap_or_default(),
        state: r.get(6)?,
        attempts: r.get(7)?,
        created_at: r.get(8)?,
        incident_id: r.get(9)?,
        chain: r.get(10)?,
        last_code: r.get(11)?,
        last_status: r.get(12)?,
        last_error: r.get(13)?,
        server_version: r.get(14)?,
        server_state: server_state.and_then(|s| serde_json::from_str(&s).ok()),
        upstream_ref: r.get(16)?,
        done_at: r.get(17)?,
        resolution: r.get(18)?,
        resolved_by: r.get(19)?,
    })
}

/// An op to queue beside its local change.
pub(super) struct OpInsert<'a> {
    pub key: &'a str,
    pub kind: OpKind,
    pub target_id: &'a str,
    pub base_version: Option<&'a str>,
    pub payload: serde_json::Value,
    pub at: &'a str,
    pub incident: Option<i64>,
}

/// Queue an op inside the caller's transaction. Its chain keeps the ops that must reach
/// the server in order together: one appointment's changes, one receipt and its void.
pub(super) fn queue(tx: &Transaction<'_>, op: OpInsert<'_>) -> rusqlite::Result<()> {
    let chain = match op.kind {
        k if k.is_appointment_change() => Some(format!("appointment:{}", op.target_id)),
        OpKind::Receipt => Some(format!("receipt:{}", op.target_id)),
        OpKind::ReceiptVoid => op.payload["voids"]
            .as_str()
            .map(|voided| format!("receipt:{voided}")),
        _ => None,
    };
    tx.execute(
        "INSERT INTO outbox (op_key, kind, target_id, base_version, payload, created_at,
             incident_id, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            op.key,
            op.kind.code(),
            op.target_id,
            op.base_version,
            op.payload.to_string(),
            op.at,
            op.incident,
            chain
        ],
    )?;
    Ok(())
}

/// Show the desk's appointment changes that are not on the server yet over a fresh
/// snapshot (a pull must not undo a cancel the server has not heard of). Conflicts count:
/// until a person takes the server's version, the desk's stands.
pub(super) fn reapply_unsent(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "SELECT kind, target_id, payload FROM outbox
         WHERE state IN ('pending', 'sending', 'conflict') AND kind LIKE 'appointment_%'
         ORDER BY id",
    )?;
    let ops = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (kind, target, payload) in ops {
        let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
        match OpKind::parse(&kind) {
            Some(OpKind::AppointmentCancel) => {
                tx.execute(
                    "UPDATE appointment SET status = 'cancelled' WHERE source_id = ?1",
                    [&target],
                )?;
            }
            Some(OpKind::AppointmentArrival) => {
                tx.execute(
                    "UPDATE appointment SET status = 'arrived' WHERE source_id = ?1",
                    [&target],
                )?;
            }
            Some(OpKind::AppointmentReschedule) => {
                tx.execute(
                    "UPDATE appointment SET start_at = ?2, end_at = ?3 WHERE source_id = ?1",
                    params![target, payload["start"].as_str(), payload["end"].as_str()],
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Mark incidents reconciled once the line is back and none of their ops waits.
fn close_reconciled(tx: &Transaction<'_>, at: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE incident SET reconciled_at = ?1
         WHERE ended_at IS NOT NULL AND reconciled_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM outbox o
                           WHERE o.incident_id = incident.id AND o.state != 'done')",
        [ts(at)],
    )?;
    Ok(())
}

/// What the sender learnt from one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// On the server at `upstream_ref`; an appointment's new version, when it has one.
    Done {
        upstream_ref: String,
        new_version: Option<String>,
    },
    /// Failed in a way waiting can fix: back to pending.
    Failed {
        code: String,
        status: Option<u16>,
        text: String,
    },
    /// Refused by the server (a 4xx): parked for a person.
    Rejected {
        code: String,
        status: u16,
        text: String,
    },
    /// The server's copy moved on; what it holds now (`None`: deleted).
    Conflict {
        server_version: Option<String>,
        server_state: serde_json::Value,
    },
}

impl Store {
    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>> {
        self.outbox_where("1", [])
    }

    /// One op by its sequence number.
    pub fn outbox_op(&self, seq: i64) -> Result<Option<OutboxRow>> {
        Ok(self.outbox_where("o.id = ?1", [seq])?.into_iter().next())
    }

    /// The ops of these incidents (and those recorded while no incident was open, with
    /// `None` in the list), oldest first.
    pub fn outbox_of_incidents(&self, incidents: &[Option<i64>]) -> Result<Vec<OutboxRow>> {
        let mut out = Vec::new();
        for incident in incidents {
            out.extend(match incident {
                Some(id) => self.outbox_where("o.incident_id = ?1", [*id])?,
                None => self.outbox_where("o.incident_id IS NULL", [])?,
            });
        }
        out.sort_by_key(|o| o.seq);
        Ok(out)
    }

    fn outbox_where<P: rusqlite::Params>(&self, filter: &str, args: P) -> Result<Vec<OutboxRow>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM outbox o WHERE {filter} ORDER BY o.id"
            ))?;
            let rows = stmt.query_map(args, row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        self.with(|conn| {
            let mut counts = OutboxCounts::default();
            let mut stmt = conn.prepare("SELECT state, count(*) FROM outbox GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
            for r in rows {
                let (state, n) = r?;
                match OpState::parse(&state) {
                    Some(OpState::Pending) => counts.pending = n,
                    Some(OpState::Sending) => counts.sending = n,
                    Some(OpState::Done) => counts.done = n,
                    Some(OpState::Conflict) => counts.conflict = n,
                    Some(OpState::Rejected) => counts.rejected = n,
                    None => {}
                }
            }
            Ok(counts)
        })
    }

    /// Ops left `sending` by a sender that stopped mid-request (a crash, a kill) go back in
    /// line; sending them again is safe (creates are conditional, updates carry If-Match).
    pub fn resume_interrupted(&self) -> Result<usize> {
        self.with(|conn| {
            Ok(conn.execute(
                "UPDATE outbox SET state = 'pending' WHERE state = 'sending'",
                [],
            )?)
        })
    }

    /// The oldest op whose turn it is: pending, and not behind a conflict or rejection on
    /// its own chain (ops on one appointment or receipt keep their order).
    pub fn next_op(&self) -> Result<Option<OutboxRow>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM outbox o
                         WHERE o.state = 'pending'
                           AND (o.chain IS NULL OR NOT EXISTS (
                               SELECT 1 FROM outbox b WHERE b.chain = o.chain AND b.id < o.id
                                 AND b.state IN ('conflict', 'rejected')))
                         ORDER BY o.id LIMIT 1"
                    ),
                    [],
                    row,
                )
                .optional()?)
        })
    }

    /// The op is on its way: committed before the request leaves.
    pub fn op_sending(&self, seq: i64) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1
                 WHERE id = ?1 AND state = 'pending'",
                [seq],
            )?;
            Ok(())
        })
    }

    /// Record what one attempt learnt.
    pub fn op_delivered(&self, seq: i64, delivery: &Delivery, at: DateTime<Utc>) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match delivery {
                Delivery::Done {
                    upstream_ref,
                    new_version,
                } => {
                    let (kind, target, chain, base): (
                        String,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                    ) = tx.query_row(
                        "SELECT kind, target_id, chain, base_version FROM outbox WHERE id = ?1",
                        [seq],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )?;
                    tx.execute(
                        "UPDATE outbox SET state = 'done', upstream_ref = ?2, done_at = ?3,
                             last_code = NULL, last_status = NULL, last_error = NULL
                         WHERE id = ?1",
                        params![seq, upstream_ref, ts(at)],
                    )?;
                    if let (Some(version), true) = (
                        new_version,
                        OpKind::parse(&kind).is_some_and(OpKind::is_appointment_change),
                    ) {
                        // The next changes of this appointment were made on the version this
                        // one replaced: they follow it onto the new one, and so does the mirror.
                        tx.execute(
                            "UPDATE outbox SET base_version = ?3
                             WHERE chain = ?1 AND id > ?2 AND state = 'pending'
                               AND base_version IS ?4",
                            params![chain, seq, version, base],
                        )?;
                        tx.execute(
                            "UPDATE appointment SET source_version = ?2
                             WHERE source_id = ?1 AND source_version IS ?3",
                            params![target, version, base],
                        )?;
                    }
                    // Incidents are closed at the end of the round, not once per op.
                }
                Delivery::Failed { code, status, text } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'pending', last_code = ?2, last_status = ?3,
                             last_error = ?4
                         WHERE id = ?1",
                        params![seq, code, status, text],
                    )?;
                }
                Delivery::Rejected { code, status, text } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'rejected', last_code = ?2, last_status = ?3,
                             last_error = ?4
                         WHERE id = ?1",
                        params![seq, code, status, text],
                    )?;
                }
                Delivery::Conflict {
                    server_version,
                    server_state,
                } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'conflict', server_version = ?2,
                             server_state = ?3, last_code = 'outbox.conflict', last_status = 412,
                             last_error = NULL
                         WHERE id = ?1",
                        params![seq, server_version, server_state.to_string()],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// A person's decision on a conflict or a rejection.
    pub fn resolve_op(
        &self,
        seq: i64,
        action: OpAction,
        staff: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<OutboxRow> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let op = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM outbox o WHERE o.id = ?1"),
                    [seq],
                    row,
                )
                .optional()?
                .ok_or_else(|| CoreError::InvalidInput(format!("there is no op {seq}")))?;
            if !OpAction::offered(op.op_state()).contains(&action) {
                return Err(CoreError::InvalidInput(format!(
                    "op {seq} is {}: {} does not apply",
                    op.state,
                    action.code()
                )));
            }
            let now = ts(at);
            match action {
                OpAction::Retry => {
                    tx.execute(
                        "UPDATE outbox SET state = 'pending', last_code = NULL,
                             last_status = NULL, last_error = NULL
                         WHERE id = ?1",
                        [seq],
                    )?;
                }
                OpAction::KeepMine => {
                    if op.server_version.is_none() {
                        return Err(CoreError::InvalidInput(
                            "the server no longer has this appointment; take the server's \
                             version and book the patient again"
                                .to_owned(),
                        ));
                    }
                    tx.execute(
                        "UPDATE outbox SET state = 'pending', base_version = server_version,
                             resolution = 'kept_mine', resolved_by = ?2, resolved_at = ?3,
                             last_code = NULL, last_status = NULL
                         WHERE id = ?1",
                        params![seq, staff, now],
                    )?;
                }
                OpAction::TakeServer => {
                    tx.execute(
                        "UPDATE outbox SET state = 'done', resolution = 'took_server',
                             resolved_by = ?2, resolved_at = ?3, done_at = ?3
                         WHERE id = ?1",
                        params![seq, staff, now],
                    )?;
                    take_server_state(&tx, &op)?;
                }
                OpAction::Discard => {
                    // A receipt's void goes with it: a credit for a receipt the server never
                    // gets must not reach it either (both are entered by hand).
                    tx.execute(
                        "UPDATE outbox SET state = 'done', resolution = 'discarded',
                             resolved_by = ?2, resolved_at = ?3, done_at = ?3
                         WHERE id = ?1
                            OR (?4 AND chain = ?5 AND id > ?1 AND state != 'done')",
                        params![
                            seq,
                            staff,
                            now,
                            op.op_kind() == Some(OpKind::Receipt),
                            op.chain
                        ],
                    )?;
                }
            }
            close_reconciled(&tx, at)?;
            let op = tx.query_row(
                &format!("SELECT {COLUMNS} FROM outbox o WHERE o.id = ?1"),
                [seq],
                row,
            )?;
            tx.commit()?;
            Ok(op)
        })
    }

    /// Incidents over with nothing left to send get their reconciled time.
    pub fn close_reconciled_incidents(&self, at: DateTime<Utc>) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            close_reconciled(&tx, at)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// When an incident was reconciled, if it was.
    pub fn incident_reconciled_at(&self, incident: i64) -> Result<Option<String>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT reconciled_at FROM incident WHERE id = ?1",
                    [incident],
                    |r| r.get(0),
                )
                .optional()?
                .flatten())
        })
    }
}

/// The mirror takes what the server holds for a conflicting appointment.
fn take_server_state(tx: &Transaction<'_>, op: &OutboxRow) -> rusqlite::Result<()> {
    let Some(target) = &op.target_id else {
        return Ok(());
    };
    let Some(state) = &op.server_state else {
        return Ok(());
    };
    if state["deleted"].as_bool() == Some(true) {
        // What the next pull would do too.
        tx.execute("DELETE FROM appointment WHERE source_id = ?1", [target])?;
        return Ok(());
    }
    tx.execute(
        "UPDATE appointment SET status = coalesce(?2, status), start_at = ?3, end_at = ?4,
             source_version = ?5
         WHERE source_id = ?1",
        params![
            target,
            state["status"].as_str(),
            state["start"].as_str(),
            state["end"].as_str(),
            op.server_version
        ],
    )?;
    Ok(())
}

/// An appointment's start and patient name, as the reconciliation view labels an op.
pub type AppointmentBrief = (Option<DateTime<Utc>>, Option<String>);

/// An incident as the reconciliation view lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncIncident {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub reconciled: bool,
}

impl Store {
    /// Incidents that queued ops: every one not yet reconciled, and the latest `recent`
    /// reconciled ones. Newest first.
    pub fn sync_incidents(&self, recent: u32) -> Result<Vec<SyncIncident>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT i.id, i.started_at, i.ended_at, i.reconciled_at IS NOT NULL
                 FROM incident i
                 WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = i.id)
                   AND (i.reconciled_at IS NULL OR i.id IN (
                       SELECT id FROM incident WHERE reconciled_at IS NOT NULL
                         AND EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = incident.id)
                       ORDER BY id DESC LIMIT ?1))
                 ORDER BY i.id DESC",
            )?;
            let rows = stmt.query_map([recent], |r| {
                let ended: Option<String> = r.get(2)?;
                Ok(SyncIncident {
                    id: r.get(0)?,
                    started_at: super::mirror::parse_ts(&r.get::<_, String>(1)?)?,
                    ended_at: ended.as_deref().map(super::mirror::parse_ts).transpose()?,
                    reconciled: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Start time and patient name of these appointments, where the mirror still has them.
    pub fn appointment_briefs(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, AppointmentBrief>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT a.start_at, p.name FROM appointment a
                 LEFT JOIN patient p ON p.source_id = a.patient_id WHERE a.source_id = ?1",
            )?;
            let mut out = std::collections::HashMap::new();
            for id in ids {
                if out.contains_key(id) {
                    continue;
                }
                let found: Option<(Option<String>, Option<String>)> = stmt
                    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((start, name)) = found {
                    let start = start.as_deref().map(super::mirror::parse_ts).transpose()?;
                    out.insert(id.clone(), (start, name));
                }
            }
            Ok(out)
        })
    }
}
