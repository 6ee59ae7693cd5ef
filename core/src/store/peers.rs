//! The paired desks (issue 16).

use chrono::{DateTime, Utc};
use rusqlite::{params, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::Store;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::peers::{PeerError, PeerRow, RecordBody};

fn peer(r: &rusqlite::Row<'_>) -> rusqlite::Result<PeerRow> {
    let last_seen: Option<String> = r.get(4)?;
    Ok(PeerRow {
        desk: r.get(0)?,
        name: r.get(1)?,
        address: r.get(2)?,
        paired_at: parse_ts(&r.get::<_, String>(3)?)?,
        last_seen: last_seen.as_deref().map(parse_ts).transpose()?,
        behind: r.get::<_, Option<i64>>(5)?.map(|n| n as u64),
    })
}

fn revoked(tx: &rusqlite::Connection, desk: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM desk_revoked WHERE desk = ?1)",
        [desk],
        |r| r.get(0),
    )
}

fn insert_peer(
    tx: &rusqlite::Connection,
    desk: &str,
    name: &str,
    address: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO peer (desk, name, address, paired_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (desk) DO UPDATE SET name = ?2, address = ?3, paired_at = ?4,
             unpaired_at = NULL, last_seen = NULL, behind = NULL",
        params![desk, name, address, ts(at)],
    )?;
    Ok(())
}

/// Another desk paired with `p.desk` (its `paired` record): this desk pairs with it too,
/// unless it is this desk, already paired, or unpaired from the clinic for good. Its pin
/// waits in `vouched_pin` for the keychain; the audit trail says who vouched.
pub(super) fn vouched_in(
    tx: &rusqlite::Connection,
    record: &crate::peers::Record,
    p: &crate::peers::PairedRecord,
) -> Result<()> {
    let me = super::records::self_desk(tx)?;
    if p.desk == me || !crate::peers::is_desk_id(&p.desk) || revoked(tx, &p.desk)? {
        return Ok(());
    }
    let known: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM peer WHERE desk = ?1 AND unpaired_at IS NULL)",
        [&p.desk],
        |r| r.get(0),
    )?;
    if known {
        return Ok(());
    }
    let at = record.hlc.wall();
    insert_peer(tx, &p.desk, &p.name, &p.address, at)?;
    tx.execute(
        "UPDATE peer SET vouched_pin = ?2, vouched_by = ?3 WHERE desk = ?1",
        params![p.desk, p.pin, record.desk],
    )?;
    super::audit::append_in(
        tx,
        &AuditEntry {
            at,
            staff: String::new(),
            action: crate::audit::AuditAction::PeerPair,
            records: Vec::new(),
            detail: serde_json::json!({
                "desk": p.desk, "name": p.name, "address": p.address, "via": record.desk
            }),
        },
    )?;
    Ok(())
}

impl Store {
    /// Pair (or pair again) with a desk, with the audit row.
    pub fn add_peer(
        &self,
        desk: &str,
        name: &str,
        address: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if revoked(&tx, desk)? {
                return Err(PeerError::Revoked(desk.to_owned()).into());
            }
            insert_peer(&tx, desk, name, address, at)?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Pair with a desk by code, with the audit row, and tell the other desks (a `paired`
    /// record with its pin): they pair with it too.
    pub fn pair_peer(
        &self,
        paired: &crate::peers::PairedRecord,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.recording(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if revoked(&tx, &paired.desk)? {
                return Err(PeerError::Revoked(paired.desk.clone()).into());
            }
            insert_peer(&tx, &paired.desk, &paired.name, &paired.address, at)?;
            super::records::append_in(&tx, at, &RecordBody::Paired(paired.clone()))?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The pins of desks paired through another desk, by desk (for the keychain).
    pub fn vouched_pins(&self) -> Result<std::collections::HashMap<String, String>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT desk, vouched_pin FROM peer
                 WHERE unpaired_at IS NULL AND vouched_pin IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Stop accepting a desk, with the audit row; the other desks are told (a record), so
    /// it is unpaired everywhere and nothing it records from now on is taken anywhere.
    pub fn unpair_peer(&self, desk: &str, at: DateTime<Utc>, audit: &AuditEntry) -> Result<()> {
        self.recording(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let paired: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM peer WHERE desk = ?1 AND unpaired_at IS NULL)",
                [desk],
                |r| r.get(0),
            )?;
            if !paired {
                return Err(PeerError::NotPaired(desk.to_owned()).into());
            }
            let after_seq: i64 = tx.query_row(
                "SELECT coalesce(max(seq), 0) FROM desk_record WHERE desk = ?1",
                [desk],
                |r| r.get(0),
            )?;
            let body = RecordBody::Unpaired {
                desk: desk.to_owned(),
                after_seq: after_seq as u64,
            };
            let (_, hlc) = super::records::append_in(&tx, at, &body)?;
            super::records::revoke_in(&tx, desk, after_seq as u64, hlc.wall().max(at))?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The desks paired now, by name.
    pub fn peers(&self) -> Result<Vec<PeerRow>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT desk, name, address, paired_at, last_seen, behind FROM peer
                 WHERE unpaired_at IS NULL ORDER BY name, desk",
            )?;
            let rows = stmt.query_map([], peer)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// A paired desk was heard from; `behind`: records this desk holds that it lacks.
    /// Desk `desk` was reached at `address` (it moved on the LAN): dialled there from now.
    pub fn peer_moved(&self, desk: &str, address: &str) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE peer SET address = ?2 WHERE desk = ?1 AND unpaired_at IS NULL",
                params![desk, address],
            )?;
            Ok(())
        })
    }

    /// What desk `desk` said its clock read at `theirs`, heard at `ours` on this desk's.
    pub fn peer_clock(&self, desk: &str, theirs: DateTime<Utc>, ours: DateTime<Utc>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE peer SET clock_offset_ms = ?2 WHERE desk = ?1",
                params![desk, (theirs - ours).num_milliseconds()],
            )?;
            Ok(())
        })
    }

    pub fn peer_seen(&self, desk: &str, at: DateTime<Utc>, behind: Option<u64>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE peer SET last_seen = ?2, behind = coalesce(?3, behind) WHERE desk = ?1",
                params![desk, ts(at), behind.map(|n| n as i64)],
            )?;
            Ok(())
        })
    }
}
