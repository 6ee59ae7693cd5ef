//! The outbox's SQL: an op queued in the transaction of its local change, the sender's
//! state changes (each its own small transaction, so a crash between request and answer
//! leaves the op `sending`, to be tried again), and a person's resolutions. After each of
//! them the mirror is recomputed (`mirror::recompute`): it always shows the server's state
//! plus exactly the changes still meant for it.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::Store;
use crate::error::{CoreError, Result};
use crate::outbox::change::{AppointmentState, Change, ChangeError, ServerAppointment};
use crate::outbox::{OpAction, OpKind, OpState, OutboxCounts, Resolution};
use crate::peers::{OpRecord, OpSettledRecord, RecordBody};

/// One outbox entry as stored, read into types: an unknown kind, state or resolution is an
/// error that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub key: String,
    pub change: Change,
    /// The upstream (source key) the change was made against, and the only one it goes to.
    pub upstream: String,
    pub base_version: Option<String>,
    /// The server's appointment the change was made on (appointment changes).
    pub base_state: Option<AppointmentState>,
    pub state: OpState,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub incident_id: Option<i64>,
    pub chain: Option<String>,
    pub last_code: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub server_version: Option<String>,
    pub server_state: Option<ServerAppointment>,
    pub upstream_ref: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<String>,
    /// The desk whose op this desk took over (it was gone while the line was up).
    pub taken_from: Option<String>,
}

impl OutboxRow {
    pub fn kind(&self) -> OpKind {
        self.change.kind()
    }

    /// The appointment or receipt it is about.
    pub fn target_id(&self) -> &str {
        self.change.target_id()
    }
}

/// States in which an op is still meant for its upstream (a person has not given up on it).
pub(super) const LIVE: &str = "('pending', 'sending', 'conflict', 'rejected')";

/// An SQL condition on an `appointment` row: the desk still has a change meant for it.
pub(super) fn has_live_change() -> String {
    format!(
        "EXISTS (SELECT 1 FROM outbox o WHERE o.chain = 'appointment:' || appointment.source_id
                   AND o.state IN {LIVE})"
    )
}

/// An op (`alias`) a person may still take back: a call's or a check-in's, made after the
/// time in parameter `param` (NULL: nothing is held). Not one taken over from another
/// desk: nobody takes that back (and its time is on that desk's clock).
fn held(alias: &str, param: &str) -> String {
    let kinds: Vec<String> = OpKind::ALL
        .into_iter()
        .filter(|k| k.withdrawable())
        .map(|k| format!("'{}'", k.code()))
        .collect();
    format!(
        "({alias}.kind IN ({}) AND {alias}.taken_from IS NULL
          AND {alias}.created_at > coalesce({param}, '9999'))",
        kinds.join(", ")
    )
}

const COLUMNS: &str = "o.id, o.op_key, o.kind, o.payload, o.upstream, o.base_version,
    o.base_state, o.state, o.attempts, o.created_at, o.incident_id, o.chain, o.last_code,
    o.last_status, o.last_error, o.server_version, o.server_state, o.upstream_ref, o.done_at,
    CASE WHEN o.withdrawn THEN 'withdrawn' WHEN o.kept_here THEN 'kept_here' ELSE o.resolution END, o.resolved_by, o.taken_from";

fn unreadable(
    column: usize,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
}

fn json_column<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<Option<T>> {
    r.get::<_, Option<String>>(i)?
        .map(|s| serde_json::from_str(&s).map_err(|e| unreadable(i, e)))
        .transpose()
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let kind: String = r.get(2)?;
    let payload: String = r.get(3)?;
    let state: String = r.get(7)?;
    let resolution: Option<String> = r.get(19)?;
    let done_at: Option<String> = r.get(18)?;
    Ok(OutboxRow {
        seq: r.get(0)?,
        key: r.get(1)?,
        change: Change::from_stored(&kind, &payload).map_err(|e| unreadable(2, e))?,
        upstream: r.get(4)?,
        base_version: r.get(5)?,
        base_state: json_column(r, 6)?,
        state: OpState::parse(&state)
            .ok_or_else(|| unreadable(7, ChangeError::UnknownState(state.clone())))?,
        attempts: r.get(8)?,
        created_at: parse_ts(&r.get::<_, String>(9)?)?,
        incident_id: r.get(10)?,
        chain: r.get(11)?,
        last_code: r.get(12)?,
        last_status: r.get(13)?,
        last_error: r.get(14)?,
        server_version: r.get(15)?,
        server_state: json_column(r, 16)?,
        upstream_ref: r.get(17)?,
        done_at: done_at.as_deref().map(parse_ts).transpose()?,
        resolution: resolution
            .map(|s| {
                Resolution::parse(&s)
                    .ok_or_else(|| unreadable(19, ChangeError::UnknownResolution(s)))
            })
            .transpose()?,
        resolved_by: r.get(20)?,
        taken_from: r.get(21)?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a stored value serialises")
}

/// An op to queue beside its local change.
pub(super) struct OpInsert<'a> {
    pub key: &'a str,
    pub change: Change,
    pub upstream: &'a str,
    pub base_version: Option<&'a str>,
    pub base_state: Option<&'a AppointmentState>,
    pub at: DateTime<Utc>,
    pub incident: Option<i64>,
    /// Another desk's op this desk takes over (see `store::takeover`): its record is that
    /// desk's, so none is written here.
    pub taken_from: Option<&'a str>,
}

/// Queue an op inside the caller's transaction; an appointment's mirror row then shows it.
pub(super) fn queue(tx: &rusqlite::Connection, op: OpInsert<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO outbox (op_key, kind, target_id, base_version, base_state, payload,
             created_at, incident_id, chain, upstream, taken_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            op.key,
            op.change.kind().code(),
            op.change.target_id(),
            op.base_version,
            op.base_state.map(to_json),
            op.change.payload(),
            ts(op.at),
            op.incident,
            op.change.chain(),
            op.upstream,
            op.taken_from
        ],
    )?;
    if let Some((id, _)) = op.change.appointment_change() {
        super::mirror::recompute(tx, id)?;
    }
    if op.taken_from.is_some() {
        return Ok(());
    }
    // The op travels whole to the other desks: one of them sends it if this desk is off
    // when the line is back.
    let record = RecordBody::Op(OpRecord {
        key: op.key.to_owned(),
        kind: op.change.kind().code().to_owned(),
        payload: op.change.payload(),
        upstream: op.upstream.to_owned(),
        base_version: op.base_version.map(str::to_owned),
        base_state: op.base_state.cloned(),
        at: op.at,
    });
    super::records::append_in(tx, op.at, &record)?;
    Ok(())
}

/// The ops after op `id` on its chain follow it onto what the server holds now.
pub(super) fn follow_op(
    tx: &rusqlite::Connection,
    id: i64,
    new_version: Option<&str>,
    landed: Option<&AppointmentState>,
) -> Result<()> {
    let op = tx.query_row(
        &format!("SELECT {COLUMNS} FROM outbox o WHERE o.id = ?1"),
        [id],
        row,
    )?;
    follow(tx, &op, new_version, landed)
}

/// Tell the other desks of this desk's ops settled since they were last told (sent, given
/// up, taken back): each a record, so they stop holding them for a takeover and their 同期
/// agrees. Runs inside the transaction that settled them.
pub(super) fn tell_settled(tx: &rusqlite::Connection, at: DateTime<Utc>) -> Result<()> {
    let settled: Vec<OpSettledRecord> = {
        let mut stmt = tx.prepare_cached(
            "SELECT op_key, CASE WHEN withdrawn THEN 'withdrawn' WHEN kept_here THEN 'kept_here' ELSE resolution END,
                    upstream_ref, server_version
             FROM outbox WHERE state = 'done' AND settle_told = 0 ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OpSettledRecord {
                key: r.get(0)?,
                resolution: r.get(1)?,
                upstream_ref: r.get(2)?,
                new_version: r.get(3)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for body in settled {
        tx.execute(
            "UPDATE outbox SET settle_told = 1 WHERE op_key = ?1",
            [&body.key],
        )?;
        super::records::append_in(tx, at, &RecordBody::OpSettled(body))?;
    }
    Ok(())
}

/// The changes still meant for `upstream` on one appointment, oldest first.
pub(super) fn live_changes(
    tx: &rusqlite::Connection,
    appointment_id: &str,
    upstream: &str,
) -> Result<Vec<(DateTime<Utc>, Change)>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT kind, payload, created_at FROM outbox
         WHERE chain = ?1 AND upstream = ?2 AND state IN {LIVE} ORDER BY id"
    ))?;
    let rows = stmt
        .query_map(
            params![format!("appointment:{appointment_id}"), upstream],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(kind, payload, at)| Ok((parse_ts(&at)?, Change::from_stored(&kind, &payload)?)))
        .collect()
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

/// The desk learnt what the server holds outside a pull: a pull fetched before this must
/// not be written over it.
pub(super) fn bump_deliveries(tx: &rusqlite::Connection) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE sync_state SET deliveries = deliveries + 1 WHERE id = 1",
        [],
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
    /// Failed before the server took it. `retryable`: waiting can fix it (the line, the
    /// server's load); otherwise a setting must change (credentials, a certificate).
    Failed {
        code: crate::ErrorCode,
        status: Option<u16>,
        text: String,
        retryable: bool,
    },
    /// The upstream has no place for it (ORCA and a call's outcome): settled here, never
    /// called sent; it stays in the reconciliation view and its CSV.
    KeptHere {
        code: crate::ErrorCode,
        text: String,
    },
    /// Refused by the server (a 4xx): parked for a person.
    Rejected {
        code: crate::ErrorCode,
        status: u16,
        text: String,
    },
    /// The server's copy moved on (or cannot be compared): what it holds now.
    Conflict {
        server_version: Option<String>,
        server_state: ServerAppointment,
        /// Why a person must decide, when it is not a plain edit made there
        /// (`outbox.no_versions`: the server keeps no versions to compare).
        code: Option<crate::ErrorCode>,
    },
}

/// Mark `op` done with a person's `resolution`; with `whole_chain`, the rest of its chain
/// still to be sent as well.
fn settle(
    tx: &rusqlite::Transaction<'_>,
    op: &OutboxRow,
    resolution: &str,
    whole_chain: bool,
    staff: Option<&str>,
    now: &str,
) -> Result<()> {
    tx.execute(
        &format!(
            "UPDATE outbox SET state = 'done', resolution = ?6,
                 resolved_by = ?2, resolved_at = ?3, done_at = ?3
             WHERE id = ?1
                OR (?4 AND chain = ?5 AND id > ?1 AND state IN {LIVE})"
        ),
        params![op.seq, staff, now, whole_chain, op.chain, resolution],
    )?;
    Ok(())
}

/// Carry out a person's decision on one op (and what it takes along in its chain).
fn apply_decision(
    tx: &rusqlite::Transaction<'_>,
    op: &OutboxRow,
    action: OpAction,
    staff: Option<&str>,
    now: &str,
) -> Result<()> {
    let seq = op.seq;
    let server = op.server_state.clone().unwrap_or_default();
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
            let Some(state) = server.state() else {
                return Err(CoreError::InvalidInput(
                    "the server no longer has this appointment; take the server's \
                     version and book the patient again"
                        .to_owned(),
                ));
            };
            // The desk's change goes on top of what the server holds now, and so do
            // the changes made after it on the same appointment: the person decided
            // for the desk's version, once.
            follow(tx, op, op.server_version.as_deref(), Some(&state))?;
            tx.execute(
                "UPDATE outbox SET state = 'pending', base_version = server_version,
                     base_state = ?4, resolution = 'kept_mine', resolved_by = ?2,
                     resolved_at = ?3, last_code = NULL, last_status = NULL
                 WHERE id = ?1",
                params![seq, staff, now, to_json(&state)],
            )?;
            server_told(tx, op, &server)?;
        }
        OpAction::TakeServer => {
            let gone = server.deleted;
            // A gone appointment takes the rest of its chain with it: those changes
            // have nothing left to change.
            settle(tx, op, "took_server", gone, staff, now)?;
            server_told(tx, op, &server)?;
        }
        OpAction::Discard => {
            // A receipt's void goes with it: a credit for a receipt the server never
            // gets must not reach it either (both are entered by hand).
            settle(
                tx,
                op,
                "discarded",
                op.kind() == OpKind::Receipt,
                staff,
                now,
            )?;
            // The mirror no longer shows what will never be sent.
            if let Some((id, _)) = op.change.appointment_change() {
                super::mirror::recompute(tx, id)?;
            }
        }
        OpAction::Withdraw => {
            super::calls::withdraw_in(tx, super::calls::Taking::Op(op.key.clone()), staff, now)?;
        }
    }
    Ok(())
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
            // A done op that was taken back or entered by hand never reached the upstream
            // (crate::outbox::settled_unsent, on the resolution as the view reads it).
            let mut stmt = conn.prepare(
                "SELECT state, CASE WHEN withdrawn THEN 'withdrawn' WHEN kept_here THEN 'kept_here' ELSE resolution END, count(*)
                   FROM outbox GROUP BY 1, 2",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })?;
            for r in rows {
                let (state, resolution, n) = r?;
                let parsed = OpState::parse(&state);
                let resolution = resolution.as_deref().and_then(Resolution::parse);
                let unsent = parsed.is_some_and(|s| crate::outbox::settled_unsent(s, resolution));
                match parsed {
                    Some(OpState::Done) if unsent => counts.not_sent += n,
                    Some(OpState::Pending) => counts.pending += n,
                    Some(OpState::Sending) => counts.sending += n,
                    Some(OpState::Done) => counts.done += n,
                    Some(OpState::Conflict) => counts.conflict += n,
                    Some(OpState::Rejected) => counts.rejected += n,
                    None => return Err(CoreError::Outbox(ChangeError::UnknownState(state))),
                }
            }
            Ok(counts)
        })
    }

    /// Ops still meant for an upstream other than `current` (the source now), by upstream:
    /// they wait for it whatever the source is. Changes made on the demo are not counted:
    /// the demo takes them whenever they come.
    pub fn waiting_elsewhere(&self, current: Option<&str>) -> Result<Vec<(String, u32)>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT upstream, count(*) FROM outbox
                 WHERE state IN {LIVE} AND upstream != ?1 AND upstream != ?2
                 GROUP BY upstream ORDER BY upstream"
            ))?;
            let rows = stmt.query_map(
                params![current.unwrap_or(""), crate::source::demo::SOURCE_KEY],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Ops still meant for `upstream`.
    pub fn waiting_for(&self, upstream: &str) -> Result<u32> {
        self.with(|conn| {
            Ok(conn.query_row(
                &format!("SELECT count(*) FROM outbox WHERE state IN {LIVE} AND upstream = ?1"),
                [upstream],
                |r| r.get(0),
            )?)
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

    /// The oldest op whose turn it is among those meant for `upstream` (and the demo's,
    /// which the demo always takes): pending, and not behind a conflict or rejection on its
    /// own chain (ops on one appointment or receipt keep their order). A booking pause goes
    /// before anything else: patients keep booking a morning that may not happen until it
    /// is out. With `held_after`, a call's or check-in's op made after that time waits (it
    /// can still be taken back), and so does what follows it on its chain.
    pub fn next_op(
        &self,
        upstream: Option<&str>,
        held_after: Option<DateTime<Utc>>,
    ) -> Result<Option<OutboxRow>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM outbox o
                         WHERE o.state = 'pending' AND o.upstream IN (?1, ?2)
                           AND (o.chain IS NULL OR NOT EXISTS (
                               SELECT 1 FROM outbox b WHERE b.chain = o.chain AND b.id < o.id
                                 AND (b.state IN ('conflict', 'rejected')
                                      OR (b.state = 'pending' AND {held_b}))))
                           AND NOT {held_o}
                         ORDER BY o.kind != 'booking_pause', o.id LIMIT 1",
                        held_b = held("b", "?3"),
                        held_o = held("o", "?3"),
                    ),
                    params![
                        upstream.unwrap_or(""),
                        crate::source::demo::SOURCE_KEY,
                        held_after.map(ts)
                    ],
                    row,
                )
                .optional()?)
        })
    }

    /// When the earliest op held for 元に戻す (made after `held_after`) was made.
    pub fn first_held(&self, held_after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        self.with(|conn| {
            let at: Option<String> = conn.query_row(
                &format!(
                    "SELECT min(o.created_at) FROM outbox o WHERE o.state = 'pending' AND {}",
                    held("o", "?1")
                ),
                [ts(held_after)],
                |r| r.get(0),
            )?;
            Ok(at.as_deref().map(parse_ts).transpose()?)
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

    /// How many times the desk learnt the server's state outside a pull (see
    /// `bump_deliveries`).
    pub fn deliveries(&self) -> Result<i64> {
        self.with(|conn| {
            Ok(
                conn.query_row("SELECT deliveries FROM sync_state WHERE id = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// Record what one attempt learnt.
    pub fn op_delivered(&self, seq: i64, delivery: &Delivery, at: DateTime<Utc>) -> Result<()> {
        self.recording(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let op = tx.query_row(
                &format!("SELECT {COLUMNS} FROM outbox o WHERE o.id = ?1"),
                [seq],
                row,
            )?;
            match delivery {
                Delivery::Done {
                    upstream_ref,
                    new_version,
                } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'done', upstream_ref = ?2, done_at = ?3,
                             server_version = ?4, last_code = NULL, last_status = NULL,
                             last_error = NULL
                         WHERE id = ?1",
                        params![seq, upstream_ref, ts(at), new_version],
                    )?;
                    if let Some((id, change)) = op.change.appointment_change() {
                        // The server now holds the change on the state it was based on.
                        let landed = op.base_state.clone().map(|mut s| {
                            change.apply(&mut s);
                            s
                        });
                        super::mirror::server_took(
                            &tx,
                            id,
                            &op.upstream,
                            change,
                            op.base_version.as_deref(),
                            new_version.as_deref(),
                        )?;
                        // The next changes of this appointment were made on what this one
                        // replaced: they follow it onto what the server holds now.
                        follow(&tx, &op, new_version.as_deref(), landed.as_ref())?;
                        bump_deliveries(&tx)?;
                    }
                    // Incidents are closed at the end of the round, not once per op.
                }
                Delivery::KeptHere { code, text } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'done', kept_here = 1, done_at = ?2,
                             last_code = ?3, last_status = NULL, last_error = ?4
                         WHERE id = ?1",
                        params![seq, ts(at), code.as_str(), text],
                    )?;
                }
                Delivery::Failed {
                    code, status, text, ..
                } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'pending', last_code = ?2, last_status = ?3,
                             last_error = ?4
                         WHERE id = ?1",
                        params![seq, code.as_str(), status, text],
                    )?;
                }
                Delivery::Rejected { code, status, text } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'rejected', last_code = ?2, last_status = ?3,
                             last_error = ?4
                         WHERE id = ?1",
                        params![seq, code.as_str(), status, text],
                    )?;
                }
                Delivery::Conflict {
                    server_version,
                    server_state,
                    code,
                } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'conflict', server_version = ?2,
                             server_state = ?3, last_code = ?4, last_status = 412,
                             last_error = NULL
                         WHERE id = ?1",
                        params![
                            seq,
                            server_version,
                            to_json(server_state),
                            code.unwrap_or(crate::ErrorCode::OutboxConflict).as_str()
                        ],
                    )?;
                }
            }
            tell_settled(&tx, at)?;
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
        audit: crate::audit::AuditEntry,
    ) -> Result<OutboxRow> {
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let op = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM outbox o WHERE o.id = ?1"),
                    [seq],
                    row,
                )
                .optional()?
                .ok_or_else(|| CoreError::InvalidInput(format!("there is no op {seq}")))?;
            if !OpAction::offered(op.state, op.kind(), &op.upstream).contains(&action) {
                return Err(CoreError::InvalidInput(format!(
                    "op {seq} is {}: {} does not apply",
                    op.state.code(),
                    action.code()
                )));
            }
            apply_decision(&tx, &op, action, staff, &ts(at))?;
            tell_settled(&tx, at)?;
            close_reconciled(&tx, at)?;
            super::audit::append_in(&tx, &audit)?;
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

/// A conflict told what the server holds for the op's appointment: the mirror's server
/// side becomes that (a pull fetched before must not be written over it).
fn server_told(tx: &Transaction<'_>, op: &OutboxRow, server: &ServerAppointment) -> Result<()> {
    if let Some((id, _)) = op.change.appointment_change() {
        super::mirror::server_holds(tx, id, &op.upstream, server, op.server_version.as_deref())?;
        bump_deliveries(tx)?;
    }
    Ok(())
}

/// The later live changes of `op`'s chain made on the same base as it move onto the
/// server's version and state (after `op` landed, or a person kept it on the server's).
fn follow(
    tx: &rusqlite::Connection,
    op: &OutboxRow,
    new_version: Option<&str>,
    landed: Option<&AppointmentState>,
) -> Result<()> {
    tx.execute(
        &format!(
            "UPDATE outbox SET base_version = ?3, base_state = ?4
             WHERE chain = ?1 AND id > ?2 AND state IN {LIVE}
               AND base_version IS ?5 AND base_state IS ?6"
        ),
        params![
            op.chain,
            op.seq,
            new_version,
            landed.map(to_json),
            op.base_version,
            op.base_state.as_ref().map(to_json)
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
                    started_at: parse_ts(&r.get::<_, String>(1)?)?,
                    ended_at: ended.as_deref().map(parse_ts).transpose()?,
                    reconciled: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Start time and patient name of these appointments of `upstream`, where the mirror
    /// still has them (another upstream's appointment of the same id is not this one).
    pub fn appointment_briefs(
        &self,
        ids: &[(String, String)],
    ) -> Result<std::collections::HashMap<(String, String), AppointmentBrief>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT a.start_at, p.name FROM appointment a
                 LEFT JOIN patient p ON p.source_id = a.patient_id
                 WHERE a.source_id = ?1 AND a.source_key IS ?2",
            )?;
            let mut out = std::collections::HashMap::new();
            for key in ids {
                if out.contains_key(key) {
                    continue;
                }
                let found: Option<(Option<String>, Option<String>)> = stmt
                    .query_row(params![key.0, key.1], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((start, name)) = found {
                    let start = start.as_deref().map(parse_ts).transpose()?;
                    out.insert(key.clone(), (start, name));
                }
            }
            Ok(out)
        })
    }
}
