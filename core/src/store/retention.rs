//! Retention: what is past its time leaves the database, in one transaction. Anything an
//! undrained op needs stays: its receipt, its incident and the op itself.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, TransactionBehavior};
use serde::Serialize;
use ts_rs::TS;

use super::mirror::ts;
use super::Store;
use crate::audit::AuditEntry;
use crate::error::Result;

/// The times before which things go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Mirror appointments starting before this.
    pub mirror_before: DateTime<Utc>,
    /// Outages and drills ended (and, for outages, fully sent) before this.
    pub incidents_before: DateTime<Utc>,
    /// Receipts whose op and void's op were sent before this.
    pub receipts_before: DateTime<Utc>,
}

/// What a purge removed (rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct PurgeReport {
    pub appointments: u32,
    pub patients: u32,
    pub incidents: u32,
    pub drills: u32,
    pub calls: u32,
    pub arrivals: u32,
    pub checklist_ticks: u32,
    pub receipts: u32,
    pub ops: u32,
    pub log_rows: u32,
}

impl PurgeReport {
    pub fn is_empty(&self) -> bool {
        *self == PurgeReport::default()
    }
}

impl Store {
    /// Purge, with the audit row (its detail: what was removed) when anything went.
    pub fn purge(&self, cut: PurgeCutoffs, audit: &AuditEntry) -> Result<PurgeReport> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut r = PurgeReport::default();
            let patients_before = count(&tx, "SELECT count(*) FROM patient")?;
            let appointments_before = count(&tx, "SELECT count(*) FROM appointment")?;
            super::mirror::purge_before(&tx, cut.mirror_before)?;
            r.appointments = appointments_before - count(&tx, "SELECT count(*) FROM appointment")?;
            r.patients = patients_before - count(&tx, "SELECT count(*) FROM patient")?;

            // Receipts are otherwise never deleted (a trigger); this transaction may.
            tx.execute("INSERT INTO purge_permit (id) VALUES (1)", [])?;
            purge_receipts(&tx, ts(cut.receipts_before), &mut r)?;
            super::records::purge_peer_receipts(&tx, cut.receipts_before, &mut r)?;
            purge_drills(&tx, ts(cut.incidents_before), &mut r)?;
            purge_incidents(&tx, ts(cut.incidents_before), &mut r)?;
            purge_loose(&tx, ts(cut.incidents_before), &mut r)?;
            super::records::purge_bodies(&tx, cut.incidents_before, &mut r)?;
            tx.execute("DELETE FROM purge_permit", [])?;
            if !r.is_empty() {
                let mut audit = audit.clone();
                audit.detail = serde_json::to_value(r).unwrap_or_default();
                super::audit::append_in(&tx, &audit)?;
            }
            tx.commit()?;
            Ok(r)
        })
    }
}

fn count(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<u32> {
    tx.query_row(sql, [], |r| r.get(0))
}

/// The first column of `sql`'s rows, for the cut-off `cut`.
fn column<T: rusqlite::types::FromSql>(
    tx: &Transaction<'_>,
    sql: &str,
    cut: &str,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map([cut], |r| r.get(0))?;
    rows.collect()
}

/// Payments whose op, and whose void's op if voided, were sent before the cut, or were
/// discarded by a person and then entered by hand (a discarded receipt nobody entered is
/// in no system but this one: it stays); with their voids, "entered" marks and ops.
fn purge_receipts(tx: &Transaction<'_>, cut: String, r: &mut PurgeReport) -> Result<()> {
    let numbers: Vec<String> = column(
        tx,
        "SELECT p.number FROM receipt p
         JOIN outbox po ON po.op_key = p.op_key
         LEFT JOIN receipt v ON v.voids = p.number
         LEFT JOIN outbox vo ON vo.op_key = v.op_key
         WHERE p.kind = 'payment' AND p.drill = 0
           AND po.state = 'done' AND po.done_at < ?1
           AND (po.resolution IS NOT 'discarded'
                OR EXISTS (SELECT 1 FROM receipt_entered e WHERE e.number = p.number))
           AND (v.number IS NULL OR (vo.state = 'done' AND vo.done_at < ?1)
                OR (v.op_key IS NULL AND po.resolution IS 'discarded'))",
        &cut,
    )?;
    for number in &numbers {
        r.ops += tx.execute(
            "DELETE FROM outbox WHERE op_key IN
               (SELECT op_key FROM receipt WHERE number = ?1 OR voids = ?1)",
            [number],
        )? as u32;
        tx.execute(
            "DELETE FROM receipt_entered WHERE number IN
               (SELECT number FROM receipt WHERE number = ?1 OR voids = ?1)",
            [number],
        )?;
        // The void first: it refers to the payment.
        r.receipts += tx.execute("DELETE FROM receipt WHERE voids = ?1", [number])? as u32;
        r.receipts += tx.execute("DELETE FROM receipt WHERE number = ?1", [number])? as u32;
    }
    Ok(())
}

/// Drills ended before the cut, with everything practised in them.
fn purge_drills(tx: &Transaction<'_>, cut: String, r: &mut PurgeReport) -> Result<()> {
    for id in column::<i64>(
        tx,
        "SELECT id FROM drill WHERE ended_at IS NOT NULL AND ended_at < ?1",
        &cut,
    )? {
        r.calls += tx.execute("DELETE FROM call_attempt WHERE drill = ?1", [&id])? as u32;
        r.arrivals += tx.execute("DELETE FROM arrival WHERE drill = ?1", [&id])? as u32;
        r.checklist_ticks +=
            tx.execute("DELETE FROM checklist_tick WHERE drill = ?1", [&id])? as u32;
        tx.execute(
            "DELETE FROM receipt_entered WHERE number IN
               (SELECT number FROM receipt WHERE drill = ?1)",
            [&id],
        )?;
        r.receipts += tx.execute(
            "DELETE FROM receipt WHERE drill = ?1 AND kind = 'void'",
            [&id],
        )? as u32;
        r.receipts += tx.execute("DELETE FROM receipt WHERE drill = ?1", [&id])? as u32;
        r.drills += tx.execute("DELETE FROM drill WHERE id = ?1", [&id])? as u32;
    }
    Ok(())
}

/// Outages ended before the cut whose every op was sent before it and whose receipts are
/// gone (kept longer, they keep their outage).
fn purge_incidents(tx: &Transaction<'_>, cut: String, r: &mut PurgeReport) -> Result<()> {
    for id in column::<i64>(
        tx,
        "SELECT i.id FROM incident i
         WHERE i.ended_at IS NOT NULL AND i.ended_at < ?1
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = i.id
                             AND (o.state != 'done' OR o.done_at >= ?1))
           AND NOT EXISTS (SELECT 1 FROM receipt c WHERE c.incident_id = i.id)
           AND NOT EXISTS (SELECT 1 FROM peer_receipt c WHERE c.incident_id = i.id)",
        &cut,
    )? {
        // Practice done while the line was down belongs to its drill (purged with it);
        // older files tied it to the outage too. (A drill receipt, never edited, keeps its
        // outage until the drill is purged.)
        for table in ["call_attempt", "arrival", "checklist_tick"] {
            tx.execute(
                &format!(
                    "UPDATE {table} SET incident_id = NULL WHERE incident_id = ?1 AND drill != 0"
                ),
                [&id],
            )?;
        }
        tx.execute("DELETE FROM line_transition WHERE incident_id = ?1", [&id])?;
        r.calls += tx.execute(
            "DELETE FROM call_attempt WHERE incident_id = ?1 AND drill = 0",
            [&id],
        )? as u32;
        r.arrivals += tx.execute(
            "DELETE FROM arrival WHERE incident_id = ?1 AND drill = 0",
            [&id],
        )? as u32;
        r.checklist_ticks += tx.execute(
            "DELETE FROM checklist_tick WHERE incident_id = ?1 AND drill = 0",
            [&id],
        )? as u32;
        // What the other desks did during it, as this desk kept it.
        r.calls += tx.execute("DELETE FROM peer_call WHERE incident_id = ?1", [&id])? as u32;
        r.ops += tx.execute("DELETE FROM outbox WHERE incident_id = ?1", [&id])? as u32;
        r.incidents += tx.execute("DELETE FROM incident WHERE id = ?1", [&id])? as u32;
    }
    Ok(())
}

/// Calls and check-ins made outside an outage, their sent ops, and old logs.
fn purge_loose(tx: &Transaction<'_>, cut: String, r: &mut PurgeReport) -> Result<()> {
    let sent = "(op_key IS NULL OR op_key IN (SELECT op_key FROM outbox WHERE state = 'done'))";
    r.calls += tx.execute(
        &format!(
            "DELETE FROM call_attempt WHERE incident_id IS NULL AND drill = 0 AND at < ?1
               AND {sent}"
        ),
        [&cut],
    )? as u32;
    r.arrivals += tx.execute(
        &format!(
            "DELETE FROM arrival WHERE incident_id IS NULL AND drill = 0 AND at < ?1 AND {sent}"
        ),
        [&cut],
    )? as u32;
    r.checklist_ticks += tx.execute(
        "DELETE FROM checklist_tick WHERE incident_id IS NULL AND drill = 0 AND at < ?1",
        [&cut],
    )? as u32;
    r.ops += tx.execute(
        "DELETE FROM outbox WHERE incident_id IS NULL AND state = 'done' AND done_at < ?1
           AND kind NOT IN ('receipt', 'receipt_void', 'booking_pause', 'booking_resume')",
        [&cut],
    )? as u32;
    r.log_rows += tx.execute(
        "DELETE FROM pull_log WHERE finished_at < ?1
           AND id != (SELECT max(id) FROM pull_log)",
        [&cut],
    )? as u32;
    r.log_rows += tx.execute(
        "DELETE FROM line_transition WHERE incident_id IS NULL AND at < ?1",
        [&cut],
    )? as u32;
    r.log_rows += tx.execute(
        "DELETE FROM app_run WHERE ended_at IS NOT NULL AND ended_at < ?1",
        [&cut],
    )? as u32;
    Ok(())
}
