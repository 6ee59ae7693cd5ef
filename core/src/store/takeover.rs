//! The other desks' ops, held for a takeover (issue 16, "Exactly once upstream" in
//! docs/desks.md). Every op a desk queues travels in its log (`op`); the others keep it in
//! `peer_op` until it is settled (`op_settled`). When its desk is gone while the line is up,
//! one desk takes the op into its own outbox under the same key (`op_taken`) and sends it:
//! the key makes a second sending harmless (a conditional create finds the first copy, an
//! update's version history shows the op's own tag).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::outbox::{queue, OpInsert, LIVE};
use super::Store;
use crate::error::Result;
use crate::outbox::change::{AppointmentState, Change};
use crate::outbox::Resolution;
use crate::peers::{OpRecord, OpSettledRecord, Record, RecordBody};

/// An op as a desk holds it for sending: its own, or another desk's.
struct HeldOp {
    key: String,
    /// The desk that queued it.
    desk: String,
    kind: String,
    payload: String,
    upstream: String,
    base_version: Option<String>,
    base_state: Option<String>,
    created_at: String,
}

impl HeldOp {
    /// Read from the columns `op_key, desk, kind, payload, upstream, base_version,
    /// base_state, created_at`.
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<HeldOp> {
        Ok(HeldOp {
            key: r.get(0)?,
            desk: r.get(1)?,
            kind: r.get(2)?,
            payload: r.get(3)?,
            upstream: r.get(4)?,
            base_version: r.get(5)?,
            base_state: r.get(6)?,
            created_at: r.get(7)?,
        })
    }

    fn base_state(&self) -> Option<AppointmentState> {
        self.base_state
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }
}

/// The other desks' changes to appointments for `upstream` that are not settled yet (nor
/// taken over here: those are this desk's own now), each with its time on this desk's
/// clock, oldest first. `appointment`: only that one's.
pub(super) fn peer_appointment_changes(
    tx: &rusqlite::Connection,
    upstream: &str,
    appointment: Option<&str>,
) -> Result<Vec<(DateTime<Utc>, Change)>> {
    use crate::outbox::OpKind;
    // Only changes to appointments, and only that one's when asked: the mirror recomputes
    // an appointment at every change, so this must not read every desk's op each time.
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT p.kind, p.payload, p.created_at, coalesce(d.clock_offset_ms, 0)
         FROM peer_op p LEFT JOIN peer d ON d.desk = p.desk
         WHERE p.settled IS NULL AND p.upstream = ?1
           AND p.kind IN ('{}', '{}', '{}')
           AND (?2 IS NULL OR json_extract(p.payload, '$.appointment_id') = ?2)
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.op_key = p.op_key)
         ORDER BY p.created_at, p.desk, p.seq",
        OpKind::AppointmentCancel.code(),
        OpKind::AppointmentReschedule.code(),
        OpKind::AppointmentArrival.code(),
    ))?;
    let rows = stmt
        .query_map(params![upstream, appointment], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (kind, payload, at, offset) in rows {
        // A kind a newer desk queued changes nothing shown here.
        let Ok(change) = Change::from_stored(&kind, &payload) else {
            continue;
        };
        if change.appointment_change().is_none() {
            continue;
        }
        let at = parse_ts(&at)? - chrono::Duration::milliseconds(offset);
        out.push((at, change));
    }
    out.sort_by_key(|(at, _)| *at);
    Ok(out)
}

/// Another desk queued an op: kept here until it is settled. A change to an appointment
/// shows in this desk's mirror at once, as this desk's own would.
pub(super) fn hold(tx: &rusqlite::Connection, record: &Record, op: &OpRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO peer_op (op_key, desk, seq, kind, payload, upstream, base_version,
             base_state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (op_key) DO NOTHING",
        params![
            op.key,
            record.desk,
            record.seq as i64,
            op.kind,
            op.payload,
            op.upstream,
            op.base_version,
            op.base_state
                .as_ref()
                .map(|s| serde_json::to_string(s).expect("a state serialises")),
            ts(op.at)
        ],
    )?;
    if let Ok(change) = Change::from_stored(&op.kind, &op.payload) {
        if let Some((appointment, _)) = change.appointment_change() {
            super::mirror::recompute(tx, appointment)?;
        }
    }
    Ok(())
}

/// Another desk took an op over.
pub(super) fn taken(
    tx: &rusqlite::Connection,
    record: &Record,
    key: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE peer_op SET taken_by = ?2, taken_at = ?3 WHERE op_key = ?1 AND taken_by IS NULL",
        params![key, record.desk, ts(at)],
    )?;
    // This desk's own op (it was thought gone): the other desk may send it any moment.
    tx.execute(
        "UPDATE outbox SET taken_by = ?2 WHERE op_key = ?1 AND taken_from IS NULL",
        params![key, record.desk],
    )?;
    Ok(())
}

/// An op was settled at another desk (its own, or one that took it over). Nobody holds it
/// for a takeover any more. This desk, if it holds the same op in its own outbox (it took
/// it over, or it is its own and another desk sent it), settles it too, without telling
/// anyone (the news is the other desk's). The mirror's server side takes a change the
/// server now has.
pub(super) fn settled(
    tx: &rusqlite::Connection,
    s: &OpSettledRecord,
    at: DateTime<Utc>,
) -> Result<()> {
    let settled_as = s.resolution.as_deref().unwrap_or("done");
    tx.execute(
        "UPDATE peer_op SET settled = ?2, upstream_ref = ?3 WHERE op_key = ?1 AND settled IS NULL",
        params![s.key, settled_as, s.upstream_ref],
    )?;
    let own: Option<(i64, String, String)> = tx
        .query_row(
            &format!("SELECT id, kind, payload FROM outbox WHERE op_key = ?1 AND state IN {LIVE}"),
            [&s.key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, _, _)) = &own {
        match s.resolution.as_deref() {
            None => {
                tx.execute(
                    "UPDATE outbox SET state = 'done', upstream_ref = ?2, server_version = ?3,
                         done_at = ?4, settle_told = 1, last_code = NULL, last_status = NULL,
                         last_error = NULL
                     WHERE id = ?1",
                    params![id, s.upstream_ref, s.new_version, ts(at)],
                )?;
            }
            Some(code) => {
                let withdrawn = code == Resolution::Withdrawn.code();
                let kept_here = code == Resolution::KeptHere.code();
                // A resolution this build does not know still ends the op here.
                let resolution = (!withdrawn && !kept_here).then(|| {
                    Resolution::parse(code)
                        .unwrap_or(Resolution::Discarded)
                        .code()
                });
                tx.execute(
                    "UPDATE outbox SET state = 'done', resolution = ?2, withdrawn = ?3,
                         kept_here = ?5, done_at = ?4, resolved_at = ?4, settle_told = 1
                     WHERE id = ?1",
                    params![id, resolution, withdrawn, ts(at), kept_here],
                )?;
            }
        }
    }
    // What the change was, from this desk's outbox or the desk's record of it.
    let op = tx
        .query_row(
            "SELECT op_key, coalesce(taken_from, ''), kind, payload, upstream, base_version,
                    base_state, created_at
             FROM outbox WHERE op_key = ?1
             UNION ALL
             SELECT op_key, desk, kind, payload, upstream, base_version, base_state, created_at
             FROM peer_op WHERE op_key = ?1
             LIMIT 1",
            [&s.key],
            HeldOp::read,
        )
        .optional()?;
    let Some(op) = op else {
        return Ok(());
    };
    let Ok(change) = Change::from_stored(&op.kind, &op.payload) else {
        return Ok(());
    };
    let Some((appointment, appointment_change)) = change.appointment_change() else {
        return Ok(());
    };
    if s.resolution.is_none() {
        super::mirror::server_took(
            tx,
            appointment,
            &op.upstream,
            appointment_change,
            op.base_version.as_deref(),
            s.new_version.as_deref(),
        )?;
        if let Some(id) = own.map(|(id, ..)| id) {
            // The changes queued here after it follow it onto what the server holds now.
            let landed = op.base_state().map(|mut b| {
                appointment_change.apply(&mut b);
                b
            });
            super::outbox::follow_op(tx, id, s.new_version.as_deref(), landed.as_ref())?;
        }
        super::outbox::bump_deliveries(tx)?;
    } else {
        super::mirror::recompute(tx, appointment)?;
    }
    Ok(())
}

impl Store {
    /// Take over the ops of desks gone while the line is up: queued before `gone_before`
    /// (on this desk's clock: the other desk's may be off) by a desk not heard from since
    /// then (or unpaired), meant for one of `upstreams`, and
    /// still unsettled and untaken. Only the desk with the lowest id among the desks heard
    /// from since `connected_since` that hold the op takes it (a second taker is harmless,
    /// only wasteful). Each is queued here under its key, in its desk's order, with a
    /// record telling the others. Returns how many were taken.
    pub fn take_over_ops(
        &self,
        upstreams: &[&str],
        gone_before: DateTime<Utc>,
        connected_since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        // Not `queueing`: a look that takes nothing must not wake the sender (which looks
        // again at the start of its round: a loop).
        let taken = self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let me = super::records::self_desk(&tx)?;
            let orphans: Vec<HeldOp> = {
                let mut stmt = tx.prepare(
                    "SELECT p.op_key, p.desk, p.kind, p.payload, p.upstream, p.base_version,
                            p.base_state, p.created_at
                     FROM peer_op p
                     WHERE p.settled IS NULL AND p.taken_by IS NULL
                       AND p.upstream IN (SELECT value FROM json_each(?1))
                       AND strftime('%Y-%m-%dT%H:%M:%SZ', p.created_at,
                             (-coalesce((SELECT o.clock_offset_ms FROM peer o
                                          WHERE o.desk = p.desk), 0) / 1000) || ' seconds')
                           < ?2
                       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.op_key = p.op_key)
                       AND NOT EXISTS (SELECT 1 FROM peer g WHERE g.desk = p.desk
                                         AND g.unpaired_at IS NULL AND g.last_seen >= ?2)
                       AND NOT EXISTS (SELECT 1 FROM peer q WHERE q.unpaired_at IS NULL
                                         AND q.last_seen >= ?3 AND q.desk < ?4
                                         AND q.desk != p.desk)
                     ORDER BY p.desk, p.seq",
                )?;
                let rows = stmt.query_map(
                    params![
                        serde_json::to_string(upstreams).expect("keys serialise"),
                        ts(gone_before),
                        ts(connected_since),
                        me
                    ],
                    HeldOp::read,
                )?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut count = 0;
            for op in orphans {
                let change = match Change::from_stored(&op.kind, &op.payload) {
                    Ok(c) => c,
                    Err(e) => {
                        // A kind a newer desk queued: it waits for its desk (or an update).
                        tracing::warn!("another desk's op cannot be taken over here: {e}");
                        continue;
                    }
                };
                let created = parse_ts(&op.created_at)?;
                let base_state = op.base_state();
                queue(
                    &tx,
                    OpInsert {
                        key: &op.key,
                        change,
                        upstream: &op.upstream,
                        base_version: op.base_version.as_deref(),
                        base_state: base_state.as_ref(),
                        at: created,
                        incident: super::records::incident_of(&tx, &op.desk, created)?,
                        taken_from: Some(&op.desk),
                    },
                )?;
                tx.execute(
                    "UPDATE peer_op SET taken_by = ?2, taken_at = ?3 WHERE op_key = ?1",
                    params![op.key, me, ts(at)],
                )?;
                let told = RecordBody::OpTaken {
                    key: op.key,
                    from: op.desk,
                };
                super::records::append_in(&tx, at, &told)?;
                count += 1;
            }
            tx.commit()?;
            Ok(count)
        })?;
        if taken > 0 {
            // The takeover records go to the other desks.
            self.records_may_have_changed();
        }
        Ok(taken)
    }
}
