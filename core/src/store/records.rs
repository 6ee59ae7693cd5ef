//! The desks' shared log (issue 16): this desk's records, written in the transaction of
//! the change they tell, and the other desks' records, stored and applied in one.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::ts;
use super::Store;
use crate::error::Result;
use crate::peers::{Accepted, Hlc, Record, RecordBody, Vector};

/// This database's desk id.
pub(super) fn self_desk(conn: &rusqlite::Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT desk FROM desk_self WHERE one = 1", [], |r| r.get(0))
}

/// The latest clock value this desk has seen (its own records' and every received one's).
fn last_hlc(conn: &rusqlite::Connection) -> rusqlite::Result<Hlc> {
    let v: Option<i64> = conn.query_row("SELECT max(hlc) FROM desk_record", [], |r| r.get(0))?;
    Ok(Hlc::from_sql(v.unwrap_or(0)))
}

/// Append a record of this desk's to its log, inside the caller's transaction (the one that
/// writes the change it tells). Returns this desk's id and the record's clock value, for
/// the change's own row.
pub(super) fn append_in(
    tx: &rusqlite::Connection,
    at: DateTime<Utc>,
    body: &RecordBody,
) -> Result<(String, Hlc)> {
    append_named(tx, at, body).map(|(desk, _, hlc)| (desk, hlc))
}

/// As [`append_in`], with the record's sequence number.
pub(super) fn append_named(
    tx: &rusqlite::Connection,
    at: DateTime<Utc>,
    body: &RecordBody,
) -> Result<(String, u64, Hlc)> {
    let desk = self_desk(tx)?;
    let seq: i64 = tx.query_row(
        "SELECT coalesce(max(seq), 0) + 1 FROM desk_record WHERE desk = ?1",
        [&desk],
        |r| r.get(0),
    )?;
    let hlc = Hlc::next(last_hlc(tx)?, at);
    let (kind, body) = body.split();
    tx.execute(
        "INSERT INTO desk_record (desk, seq, hlc, kind, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![desk, seq, hlc.to_sql(), kind, body.to_string()],
    )?;
    Ok((desk, seq as u64, hlc))
}

fn vector_in(conn: &rusqlite::Connection) -> rusqlite::Result<Vector> {
    let mut stmt = conn.prepare("SELECT desk, max(seq) FROM desk_record GROUP BY desk")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    rows.collect()
}

/// The local incident a moment of desk `desk`'s belongs to: the one this desk had open at
/// that moment on this desk's clock (the other desk's clock may be minutes off), or none,
/// when this desk saw no outage then.
pub(super) fn incident_of(
    conn: &rusqlite::Connection,
    desk: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let offset: i64 = conn
        .query_row(
            "SELECT clock_offset_ms FROM peer WHERE desk = ?1",
            [desk],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    incident_at(conn, at - chrono::Duration::milliseconds(offset))
}

/// How long before this desk's outage began another desk's checklist tick still belongs to
/// it: a desk switched on during an outage (a morning) sees it begin only then.
pub(super) const TICK_ADOPTED_WITHIN: chrono::Duration = chrono::Duration::minutes(60);

/// The local outage a tick of desk `desk` at `at` belongs to. A tick is only ever made in
/// an outage: when this desk had none open then (it was off), the outage it saw begin
/// soonest after, within [`TICK_ADOPTED_WITHIN`].
fn tick_incident_of(
    conn: &rusqlite::Connection,
    desk: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    if let Some(id) = incident_of(conn, desk, at)? {
        return Ok(Some(id));
    }
    conn.query_row(
        "SELECT id FROM incident WHERE started_at > ?1 AND started_at <= ?2
         ORDER BY started_at LIMIT 1",
        [ts(at), ts(at + TICK_ADOPTED_WITHIN)],
        |r| r.get(0),
    )
    .optional()
}

/// An outage begins at this desk at `since`: the other desks' ticks of the hour before it
/// that belong to no outage here (this desk was off when they were made) join it.
pub(super) fn adopt_ticks(
    tx: &rusqlite::Connection,
    incident: i64,
    since: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE checklist_tick SET incident_id = ?1
         WHERE incident_id IS NULL AND drill = 0 AND desk IS NOT NULL
           AND at >= ?2 AND at <= ?3",
        params![incident, ts(since - TICK_ADOPTED_WITHIN), ts(since)],
    )?;
    Ok(())
}

/// The local incident a moment on this desk's clock belongs to: the one this desk had open
/// then (or none, when this desk saw no outage at that time).
pub(super) fn incident_at(
    conn: &rusqlite::Connection,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM incident WHERE started_at <= ?1 AND (ended_at IS NULL OR ended_at >= ?1)
         ORDER BY id DESC LIMIT 1",
        [ts(at)],
        |r| r.get(0),
    )
    .optional()
}

/// A desk is unpaired here (by a person, or by a record from another desk): no longer a
/// peer, and its records after `after_seq` refused. The earliest unpairing stands.
pub(super) fn revoke_in(
    tx: &rusqlite::Connection,
    desk: &str,
    after_seq: u64,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO desk_revoked (desk, after_seq, revoked_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (desk) DO UPDATE SET after_seq = min(after_seq, ?2)",
        params![desk, after_seq as i64, ts(at)],
    )?;
    tx.execute(
        "UPDATE peer SET unpaired_at = ?2 WHERE desk = ?1 AND unpaired_at IS NULL",
        params![desk, ts(at)],
    )?;
    // What this desk took from it after that point (before the news came) is undone.
    tx.execute(
        "DELETE FROM checklist_tick WHERE desk = ?1 AND hlc > (
             SELECT coalesce(max(hlc), 0) FROM desk_record WHERE desk = ?1 AND seq <= ?2)",
        params![desk, after_seq as i64],
    )?;
    for table in ["peer_call", "peer_arrival", "peer_receipt"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE desk = ?1 AND seq > ?2"),
            params![desk, after_seq as i64],
        )?;
    }
    Ok(())
}

/// The records this desk refuses: desk → the last it takes.
fn revoked_in(conn: &rusqlite::Connection) -> rusqlite::Result<Vector> {
    let mut stmt = conn.prepare("SELECT desk, after_seq FROM desk_revoked")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    rows.collect()
}

/// Apply another desk's record to this desk's tables, as it arrived `at`. Never writes a
/// record of its own.
fn apply(
    tx: &rusqlite::Connection,
    record: &Record,
    body: &RecordBody,
    at: DateTime<Utc>,
) -> Result<()> {
    match body {
        RecordBody::Claim {
            appointment_id,
            staff,
        } => {
            tx.execute(
                "INSERT INTO peer_claim (desk, appointment_id, staff, hlc, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (desk, appointment_id) DO UPDATE
                     SET staff = ?3, hlc = ?4, received_at = ?5 WHERE hlc < ?4",
                params![
                    record.desk,
                    appointment_id,
                    staff,
                    record.hlc.to_sql(),
                    ts(at)
                ],
            )?;
        }
        RecordBody::Tick(t) => {
            tx.execute(
                "INSERT INTO checklist_tick
                     (incident_id, drill, step, step_text, done, staff, at, desk, hlc)
                 VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    tick_incident_of(tx, &record.desk, t.at)?,
                    t.step,
                    t.text,
                    t.done,
                    t.staff,
                    ts(t.at),
                    record.desk,
                    record.hlc.to_sql()
                ],
            )?;
        }
        RecordBody::Call(c) => {
            tx.execute(
                "INSERT INTO peer_call (desk, seq, hlc, appointment_id, outcome, new_start, staff,
                     at, incident_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    record.desk,
                    record.seq as i64,
                    record.hlc.to_sql(),
                    c.appointment_id,
                    c.outcome.code(),
                    c.new_start.map(ts),
                    c.staff,
                    ts(c.at),
                    incident_of(tx, &record.desk, c.at)?
                ],
            )?;
        }
        RecordBody::Arrival {
            appointment_id,
            staff,
            at,
        } => {
            tx.execute(
                "INSERT INTO peer_arrival (desk, seq, hlc, appointment_id, staff, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    record.desk,
                    record.seq as i64,
                    record.hlc.to_sql(),
                    appointment_id,
                    staff,
                    ts(*at)
                ],
            )?;
        }
        RecordBody::ArrivalWithdrawn { seq } => {
            tx.execute(
                "UPDATE peer_arrival SET withdrawn_at = ?3 WHERE desk = ?1 AND seq = ?2",
                params![record.desk, *seq as i64, ts(record.hlc.wall())],
            )?;
        }
        RecordBody::Receipt(rc) => {
            let e = &rc.entry;
            let kind = match e.kind {
                crate::outbox::change::ReceiptEntryKind::Payment => "payment",
                crate::outbox::change::ReceiptEntryKind::Void => "void",
            };
            tx.execute(
                "INSERT INTO peer_receipt (desk, seq, hlc, number, day, kind, voids, patient_id,
                     patient_name, amount, method, memo, staff, reason, at, incident_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    record.desk,
                    record.seq as i64,
                    record.hlc.to_sql(),
                    e.number,
                    rc.day,
                    kind,
                    e.voids,
                    e.patient_id,
                    e.patient_name,
                    e.amount,
                    e.method.code(),
                    e.memo,
                    e.staff,
                    e.reason,
                    ts(e.at),
                    incident_of(tx, &record.desk, e.at)?
                ],
            )?;
        }
        RecordBody::Unpaired { desk, after_seq } => {
            revoke_in(tx, desk, *after_seq, record.hlc.wall())?;
        }
        RecordBody::Op(op) => super::takeover::hold(tx, record, op)?,
        RecordBody::OpSettled(s) => super::takeover::settled(tx, s, record.hlc.wall())?,
        RecordBody::OpTaken { key, .. } => {
            super::takeover::taken(tx, record, key, record.hlc.wall())?
        }
        RecordBody::Paired(p) => super::peers::vouched_in(tx, record, p)?,
        RecordBody::CallWithdrawn { seq } => {
            tx.execute(
                "UPDATE peer_call SET withdrawn_at = ?3 WHERE desk = ?1 AND seq = ?2",
                params![record.desk, *seq as i64, ts(record.hlc.wall())],
            )?;
        }
    }
    Ok(())
}

/// Past retention a record keeps its name and clock (a desk must never take it again), not
/// what it said. Ticks go with their outage's time; each later kind says when its body may
/// go (never before what it queued was sent).
pub(super) fn purge_bodies(
    tx: &rusqlite::Connection,
    before: DateTime<Utc>,
    r: &mut super::PurgeReport,
) -> Result<()> {
    r.log_rows += tx.execute(
        "UPDATE desk_record SET body = '{}'
         WHERE kind IN ('tick', 'call', 'call_withdrawn', 'arrival', 'arrival_withdrawn',
                        'claim')
           AND hlc < ?1 AND body != '{}'",
        [Hlc::at(before).to_sql()],
    )? as u32;
    r.calls += tx.execute("DELETE FROM peer_call WHERE at < ?1", [ts(before)])? as u32;
    tx.execute(
        "DELETE FROM peer_claim WHERE received_at < ?1",
        [ts(before)],
    )?;
    // Another desk's op, once settled, is held no longer; an op's body (a receipt's name, a
    // call's note) goes once no desk here may still send it.
    r.ops += tx.execute(
        "DELETE FROM peer_op WHERE created_at < ?1 AND settled IS NOT NULL",
        [ts(before)],
    )? as u32;
    r.log_rows += tx.execute(
        "UPDATE desk_record SET body = '{}'
         WHERE kind = 'op' AND hlc < ?1 AND body != '{}'
           AND NOT EXISTS (SELECT 1 FROM peer_op p
                           WHERE p.op_key = json_extract(desk_record.body, '$.key'))
           AND NOT EXISTS (SELECT 1 FROM outbox o
                           WHERE o.op_key = json_extract(desk_record.body, '$.key')
                             AND o.state != 'done')",
        [Hlc::at(before).to_sql()],
    )? as u32;
    Ok(())
}

/// The other desks' receipts go at the receipts' own cut-off (their desk keeps its own
/// until sent), with what their records said.
pub(super) fn purge_peer_receipts(
    tx: &rusqlite::Connection,
    before: DateTime<Utc>,
    r: &mut super::PurgeReport,
) -> Result<()> {
    r.log_rows += tx.execute(
        "UPDATE desk_record SET body = '{}' WHERE kind = 'receipt' AND hlc < ?1 AND body != '{}'",
        [Hlc::at(before).to_sql()],
    )? as u32;
    r.receipts += tx.execute("DELETE FROM peer_receipt WHERE at < ?1", [ts(before)])? as u32;
    // An op never settled (its desk vanished, and no desk here sends to its upstream) is
    // held no longer than money is.
    r.ops += tx.execute("DELETE FROM peer_op WHERE created_at < ?1", [ts(before)])? as u32;
    Ok(())
}

/// A call recorded at another desk, as this desk keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCall {
    /// The desk's name (or the start of its id, for a desk no longer paired).
    pub desk_name: String,
    pub appointment_id: String,
    pub outcome: crate::calls::CallOutcome,
    pub new_start: Option<DateTime<Utc>>,
    pub staff: Option<String>,
    pub at: DateTime<Utc>,
}

/// A call being made at another desk now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerClaim {
    pub appointment_id: String,
    pub desk_name: String,
    pub staff: Option<String>,
}

/// How long a claim holds after it arrived, unless its desk records the call sooner.
pub const CLAIM_HOLDS: chrono::Duration = chrono::Duration::minutes(3);

/// A desk claims a call again (a second click) only after this long.
const CLAIM_AGAIN: chrono::Duration = chrono::Duration::seconds(30);

/// A check-in made at another desk, as this desk keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerArrival {
    pub appointment_id: String,
    pub desk_name: String,
    pub staff: Option<String>,
    pub at: DateTime<Utc>,
}

impl Store {
    /// The calls the other desks made to these appointments and did not take back, in
    /// the desks' shared order.
    pub fn peer_calls_for(&self, appointment_ids: &[String]) -> Result<Vec<PeerCall>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT coalesce(p.name, 'desk ' || substr(c.desk, 1, 6)), c.appointment_id,
                        c.outcome, c.new_start, c.staff, c.at
                 FROM peer_call c LEFT JOIN peer p ON p.desk = c.desk
                 WHERE c.appointment_id = ?1 AND c.withdrawn_at IS NULL
                 ORDER BY c.hlc, c.desk",
            )?;
            let mut out = Vec::new();
            for id in appointment_ids {
                let rows = stmt.query_map([id], |r| {
                    let outcome: String = r.get(2)?;
                    let new_start: Option<String> = r.get(3)?;
                    Ok(PeerCall {
                        desk_name: r.get(0)?,
                        appointment_id: r.get(1)?,
                        outcome: crate::calls::CallOutcome::parse(&outcome).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                2,
                                rusqlite::types::Type::Text,
                                format!("unknown call outcome {outcome:?}").into(),
                            )
                        })?,
                        new_start: new_start.as_deref().map(super::parse_ts).transpose()?,
                        staff: r.get(4)?,
                        at: super::parse_ts(&r.get::<_, String>(5)?)?,
                    })
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
    }

    /// The check-ins the other desks made for these appointments and did not take back,
    /// the first of each.
    pub fn peer_arrivals_for(&self, appointment_ids: &[String]) -> Result<Vec<PeerArrival>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT coalesce(p.name, 'desk ' || substr(a.desk, 1, 6)), a.staff, a.at
                 FROM peer_arrival a LEFT JOIN peer p ON p.desk = a.desk
                 WHERE a.appointment_id = ?1 AND a.withdrawn_at IS NULL
                 ORDER BY a.hlc, a.desk LIMIT 1",
            )?;
            let mut out = Vec::new();
            for id in appointment_ids {
                let found = stmt
                    .query_row([id], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    })
                    .optional()?;
                if let Some((desk_name, staff, at)) = found {
                    out.push(PeerArrival {
                        appointment_id: id.clone(),
                        desk_name,
                        staff,
                        at: super::parse_ts(&at)?,
                    });
                }
            }
            Ok(out)
        })
    }

    /// Tell the other desks a call to this patient is being made here now (the phone
    /// number or the call script was opened). Not in a drill; not again within a few
    /// seconds of the last claim. Returns whether a claim was recorded.
    pub fn claim_call(
        &self,
        appointment_id: &str,
        staff: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        self.recording(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if super::calls::active_drill(&tx, at)? != 0 {
                return Ok(false);
            }
            let me = self_desk(&tx)?;
            let recent: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM desk_record WHERE desk = ?1 AND kind = 'claim'
                     AND hlc > ?2 AND json_extract(body, '$.appointment_id') = ?3)",
                params![me, Hlc::at(at - CLAIM_AGAIN).to_sql(), appointment_id],
                |r| r.get(0),
            )?;
            if recent {
                return Ok(false);
            }
            let body = RecordBody::Claim {
                appointment_id: appointment_id.to_owned(),
                staff: staff.map(str::to_owned),
            };
            append_in(&tx, at, &body)?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// The calls being made now at the other desks to these patients: claims that arrived
    /// within [`CLAIM_HOLDS`] of `now`, not ended by their desk's call or check-in since.
    /// The latest per appointment.
    pub fn peer_claims_for(
        &self,
        appointment_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<PeerClaim>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT coalesce(p.name, 'desk ' || substr(c.desk, 1, 6)), c.staff
                 FROM peer_claim c LEFT JOIN peer p ON p.desk = c.desk
                 WHERE c.appointment_id = ?1 AND c.received_at >= ?2
                   AND NOT EXISTS (SELECT 1 FROM peer_call k WHERE k.desk = c.desk
                                     AND k.appointment_id = c.appointment_id AND k.hlc > c.hlc)
                   AND NOT EXISTS (SELECT 1 FROM peer_arrival a WHERE a.desk = c.desk
                                     AND a.appointment_id = c.appointment_id AND a.hlc > c.hlc)
                 ORDER BY c.hlc DESC LIMIT 1",
            )?;
            let mut out = Vec::new();
            for id in appointment_ids {
                let found = stmt
                    .query_row(params![id, ts(now - CLAIM_HOLDS)], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })
                    .optional()?;
                if let Some((desk_name, staff)) = found {
                    out.push(PeerClaim {
                        appointment_id: id.clone(),
                        desk_name,
                        staff,
                    });
                }
            }
            Ok(out)
        })
    }

    /// This desk's key and certificate for the other desks (PKCS#8, DER): made by `make`
    /// the first time, in one transaction, so two processes opening the desk at once still
    /// end with one.
    pub fn desk_identity(
        &self,
        make: impl FnOnce() -> Result<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let read = |tx: &rusqlite::Transaction<'_>| {
                tx.query_row(
                    "SELECT tls_key, tls_cert FROM desk_self WHERE one = 1",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, Option<Vec<u8>>>(0)?,
                            r.get::<_, Option<Vec<u8>>>(1)?,
                        ))
                    },
                )
            };
            if let (Some(key), Some(cert)) = read(&tx)? {
                return Ok((key, cert));
            }
            let (key, cert) = make()?;
            tx.execute(
                "UPDATE desk_self SET tls_key = ?1, tls_cert = ?2 WHERE one = 1",
                params![key, cert],
            )?;
            tx.commit()?;
            Ok((key, cert))
        })
    }

    /// This desk's id (made once per database).
    pub fn desk_id(&self) -> Result<String> {
        self.with(|conn| Ok(self_desk(conn)?))
    }

    /// How far this desk holds each desk's log, its own included.
    pub fn vector(&self) -> Result<Vector> {
        self.with(|conn| Ok(vector_in(conn)?))
    }

    /// The records this desk holds that a desk at `theirs` does not, at most `limit`, in
    /// clock order (each desk's records in its own order).
    pub fn records_after(&self, theirs: &Vector, limit: usize) -> Result<Vec<Record>> {
        self.with(|conn| {
            let mut out = Vec::new();
            let mut stmt = conn.prepare(
                "SELECT seq, hlc, kind, body FROM desk_record WHERE desk = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3",
            )?;
            let revoked = revoked_in(conn)?;
            for (desk, mut held) in vector_in(conn)? {
                if let Some(last) = revoked.get(&desk) {
                    held = held.min(*last);
                }
                let from = theirs.get(&desk).copied().unwrap_or(0);
                if held <= from {
                    continue;
                }
                let upto = (held - from).min(limit as u64) as i64;
                let rows = stmt.query_map(params![desk, from as i64, upto], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })?;
                for row in rows {
                    let (seq, hlc, kind, body) = row?;
                    out.push(Record {
                        desk: desk.clone(),
                        seq: seq as u64,
                        hlc: Hlc::from_sql(hlc),
                        kind,
                        body: serde_json::from_str(&body).unwrap_or_default(),
                    });
                }
            }
            // Oldest first across desks; a prefix of each desk's log stays a prefix.
            out.sort_by(|a, b| (a.hlc, &a.desk, a.seq).cmp(&(b.hlc, &b.desk, b.seq)));
            out.truncate(limit);
            Ok(out)
        })
    }

    /// Take records from another desk: each one new here is stored and applied, all in one
    /// transaction (a crash keeps all of the batch or none). A record held already changes
    /// nothing; one after a gap in its desk's log waits for the gap to be filled.
    pub fn accept_records(&self, records: &[Record], at: DateTime<Utc>) -> Result<Accepted> {
        let mut sorted: Vec<&Record> = records.iter().collect();
        sorted.sort_by(|a, b| (&a.desk, a.seq).cmp(&(&b.desk, b.seq)));
        self.recording(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let me = self_desk(&tx)?;
            let mut held = vector_in(&tx)?;
            let mut revoked = revoked_in(&tx)?;
            let mut done = Accepted::default();
            for record in sorted {
                if !crate::peers::is_desk_id(&record.desk)
                    || record.seq == 0
                    || record.seq > i64::MAX as u64
                    || record.kind.is_empty()
                    || record.kind.len() > 40
                {
                    done.refused += 1;
                    continue;
                }
                if revoked
                    .get(&record.desk)
                    .is_some_and(|last| record.seq > *last)
                {
                    done.refused += 1;
                    continue;
                }
                let have = held.get(&record.desk).copied().unwrap_or(0);
                if record.desk == me || record.seq <= have {
                    done.duplicate += 1;
                    continue;
                }
                if record.seq != have + 1 {
                    done.waiting += 1;
                    continue;
                }
                let body = RecordBody::parse(&record.kind, &record.body);
                tx.execute(
                    "INSERT INTO desk_record (desk, seq, hlc, kind, body, received_at, applied)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        record.desk,
                        record.seq as i64,
                        record.hlc.to_sql(),
                        record.kind,
                        record.body.to_string(),
                        ts(at),
                        body.is_some()
                    ],
                )?;
                if let Some(RecordBody::Unpaired { desk, after_seq }) = &body {
                    // Later records of this batch see it at once.
                    let last = revoked.entry(desk.clone()).or_insert(*after_seq);
                    *last = (*last).min(*after_seq);
                }
                match &body {
                    Some(body) => apply(&tx, record, body, at)?,
                    None => tracing::warn!(
                        kind = %record.kind,
                        "a desk's record of a kind this build does not know: kept, not applied"
                    ),
                }
                held.insert(record.desk.clone(), record.seq);
                done.stored += 1;
            }
            tx.commit()?;
            Ok(done)
        })
    }
}
