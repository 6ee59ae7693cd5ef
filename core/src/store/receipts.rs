//! The receipt ledger's SQL: numbering, voids and their outbox entries, one transaction
//! each. The table itself refuses edits and deletes (triggers in migration 0006).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::ts;
use super::Store;
use crate::audit::AuditEntry;
use crate::error::{CoreError, Result};
use crate::outbox::change::{Change, ReceiptEntryKind, ReceiptOp};
use crate::peers::{ReceiptRecord, RecordBody};
use crate::receipts::{PaymentMethod, ReceiptKind, ReceiptView};

/// Every desk's ledger as one table, `ledger`: this desk's receipts (`desk` NULL) and the
/// other desks' (never in a drill), `ord` their order on their desk.
pub(super) const LEDGER: &str = "ledger AS (
    SELECT id AS ord, NULL AS desk, number, day, kind, voids, patient_id, patient_name,
           amount, method, memo, staff, reason, at, incident_id, drill
    FROM receipt
    UNION ALL
    SELECT seq, desk, number, day, kind, voids, patient_id, patient_name,
           amount, method, memo, staff, reason, at, incident_id, 0
    FROM peer_receipt)";

#[derive(Debug, Clone)]
pub struct ReceiptInsert {
    /// The clinic date `YYYY-MM-DD` the receipt belongs to.
    pub day: String,
    /// This desk's part of the number.
    pub device_prefix: String,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub amount: i64,
    pub method: PaymentMethod,
    pub memo: Option<String>,
    pub staff: Option<String>,
    /// A void's reason and the receipt it voids.
    pub reason: Option<String>,
    pub voids: Option<String>,
    pub at: DateTime<Utc>,
    pub op_key: String,
    /// The source now (its key): where a receipt for no patient of the mirror goes. A
    /// patient picked from the mirror takes the receipt to that patient's upstream; a void
    /// goes where its receipt went.
    pub upstream: String,
    /// A payment identical to one issued since then is refused as a likely second press
    /// (`None`: the person confirmed it, or it is a void).
    pub repeat_since: Option<DateTime<Utc>>,
}

/// What a void copies from the receipt it voids.
struct Voided {
    kind: String,
    amount: i64,
    method: String,
    patient_id: Option<String>,
    patient_name: Option<String>,
    /// The receipt's op: its upstream and whether it is still meant to be sent.
    op: Option<(String, bool)>,
}

impl Store {
    /// Record a payment (or, with `voids` and `reason`, a void of one), queue it for the
    /// upstream and write the audit row (the receipt's number goes first in its records),
    /// all or nothing. Returns the new receipt's number.
    pub fn add_receipt(&self, r: &ReceiptInsert, audit: &AuditEntry) -> Result<String> {
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let drill = super::calls::active_drill(&tx, r.at)?;
            let mut r = r.clone();
            // Whether the entry goes to an upstream at all.
            let send = match r.voids.clone() {
                Some(voided) => take_terms_of_voided(&tx, &mut r, &voided, drill)?,
                None => {
                    take_patient_from_mirror(&tx, &mut r)?;
                    true
                }
            };
            if let Some(since) = r.repeat_since.filter(|_| r.voids.is_none()) {
                if let Some(earlier) = same_receipt_since(&tx, &r, since, drill)? {
                    return Err(ReceiptError::LooksRepeated(earlier).into());
                }
            }
            let (seq, number) = next_number(&tx, &r, drill)?;
            let incident = if drill == 0 {
                super::monitor::open_incident(&tx)?
            } else {
                None
            };
            // A drill's money is practice: never sent upstream.
            let queued = drill == 0 && send;
            insert_receipt(&tx, &r, (&number, seq), incident, queued, drill)?;
            if queued {
                queue_receipt(&tx, &r, &number, incident)?;
            }
            if drill == 0 {
                // The other desks' ledgers and drawer summaries show it too.
                let record = ReceiptRecord {
                    day: r.day.clone(),
                    entry: receipt_op(&r, &number),
                    op_key: queued.then(|| r.op_key.clone()),
                    upstream: queued.then(|| r.upstream.clone()),
                };
                super::records::append_in(&tx, r.at, &RecordBody::Receipt(record))?;
            }
            let mut audit = audit.clone();
            audit.records.insert(0, format!("receipt:{number}"));
            audit.detail["amount"] = r.amount.into();
            super::audit::append_in(&tx, &audit)?;
            tx.commit()?;
            Ok(number)
        })
    }

    /// The ledger (one day, or all), oldest first; `at` in UTC. The real receipts (`drill`
    /// 0) or those of one drill.
    pub fn receipts(&self, day: Option<&str>, drill: i64) -> Result<Vec<ReceiptView>> {
        self.ledger_rows(
            "(?1 IS NULL OR r.day = ?1) AND r.drill = ?2",
            params![day, drill],
        )
    }

    /// One receipt by its number.
    pub fn receipt(&self, number: &str) -> Result<Option<ReceiptView>> {
        Ok(self
            .ledger_rows("r.number = ?1", params![number])?
            .into_iter()
            .next())
    }

    pub(super) fn ledger_rows(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ReceiptView>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "WITH {LEDGER}
                 SELECT r.number, r.kind, r.voids, v.number, r.patient_id, r.patient_name,
                        r.amount, r.method, r.memo, r.staff, r.reason, r.at, r.day,
                        e.number IS NOT NULL, r.drill != 0,
                        CASE WHEN r.desk IS NOT NULL
                             THEN coalesce(p.name, 'desk ' || substr(r.desk, 1, 6)) END
                 FROM ledger r
                 LEFT JOIN ledger v ON v.voids = r.number AND v.desk IS r.desk
                 LEFT JOIN receipt_entered e ON e.number = r.number AND r.desk IS NULL
                 LEFT JOIN peer p ON p.desk = r.desk
                 WHERE {filter}
                 ORDER BY r.at, r.desk, r.ord"
            ))?;
            let rows = stmt
                .query_map(args, |row| {
                    let kind: String = row.get(1)?;
                    let method: String = row.get(7)?;
                    let amount: i64 = row.get(6)?;
                    Ok(ReceiptView {
                        number: row.get(0)?,
                        kind: match kind.as_str() {
                            "void" => ReceiptKind::Void,
                            "payment" => ReceiptKind::Payment,
                            other => {
                                return Err(rusqlite::Error::FromSqlConversionFailure(
                                    1,
                                    rusqlite::types::Type::Text,
                                    format!("unknown receipt kind {other:?}").into(),
                                ))
                            }
                        },
                        voids: row.get(2)?,
                        voided_by: row.get(3)?,
                        patient_id: row.get(4)?,
                        patient_name: row.get(5)?,
                        amount,
                        amount_label: crate::receipts::yen(amount),
                        method: PaymentMethod::parse(&method).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                7,
                                rusqlite::types::Type::Text,
                                format!("unknown payment method {method:?}").into(),
                            )
                        })?,
                        memo: row.get(8)?,
                        staff: row.get(9)?,
                        reason: row.get(10)?,
                        at: row.get(11)?,
                        day: row.get(12)?,
                        entered_in_billing: row.get(13)?,
                        drill: row.get(14)?,
                        desk: row.get(15)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Record that a receipt was entered into the billing system (once).
    pub fn mark_receipt_entered(
        &self,
        number: &str,
        staff: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM receipt WHERE number = ?1)",
                [number],
                |row| row.get(0),
            )?;
            if !exists {
                return Err(not_here(&tx, number)?.into());
            }
            let new = tx.execute(
                "INSERT INTO receipt_entered (number, at, staff) VALUES (?1, ?2, ?3)
                 ON CONFLICT (number) DO NOTHING",
                params![number, ts(at), staff],
            )?;
            if new > 0 {
                super::audit::append_in(&tx, audit)?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

/// Why a number is not in this desk's ledger: another desk issued it, or nobody did.
fn not_here(tx: &rusqlite::Connection, number: &str) -> rusqlite::Result<ReceiptError> {
    let desk: Option<String> = tx
        .query_row(
            "SELECT coalesce(p.name, 'desk ' || substr(r.desk, 1, 6))
             FROM peer_receipt r LEFT JOIN peer p ON p.desk = r.desk
             WHERE r.number = ?1 LIMIT 1",
            [number],
            |row| row.get(0),
        )
        .optional()?;
    Ok(match desk {
        Some(desk) => ReceiptError::OtherDesk {
            number: number.to_owned(),
            desk,
        },
        None => ReceiptError::NotFound(number.to_owned()),
    })
}

/// A void takes its terms from the receipt it voids (the amount negated, the method, the
/// patient) and follows it: to the same upstream, and not at all when that receipt will
/// never reach it (discarded: the server has no payment to credit). Returns whether the
/// void is sent. A drill voids only its own receipts; real ones only outside a drill.
fn take_terms_of_voided(
    tx: &rusqlite::Transaction<'_>,
    r: &mut ReceiptInsert,
    voided: &str,
    drill: i64,
) -> Result<bool> {
    let original: Option<Voided> = tx
        .query_row(
            "SELECT c.kind, c.amount, c.method, c.patient_id, c.patient_name,
                    o.upstream, o.state IS NOT NULL AND o.resolution IS NOT 'discarded'
             FROM receipt c LEFT JOIN outbox o ON o.op_key = c.op_key
             WHERE c.number = ?1 AND c.drill = ?2",
            params![voided, drill],
            |row| {
                let upstream: Option<String> = row.get(5)?;
                Ok(Voided {
                    kind: row.get(0)?,
                    amount: row.get(1)?,
                    method: row.get(2)?,
                    patient_id: row.get(3)?,
                    patient_name: row.get(4)?,
                    op: upstream
                        .map(|u| Ok::<_, rusqlite::Error>((u, row.get(6)?)))
                        .transpose()?,
                })
            },
        )
        .optional()?;
    let Some(original) = original else {
        return Err(not_here(tx, voided)?.into());
    };
    if original.kind == "void" {
        return Err(ReceiptError::VoidOfVoid(voided.to_owned()).into());
    }
    let already: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM receipt WHERE voids = ?1)",
        [voided],
        |row| row.get(0),
    )?;
    if already {
        return Err(ReceiptError::AlreadyVoided(voided.to_owned()).into());
    }
    r.amount = -original.amount;
    r.method = PaymentMethod::parse(&original.method).ok_or_else(|| {
        CoreError::InvalidInput(format!(
            "receipt {voided} has an unknown method {:?}",
            original.method
        ))
    })?;
    r.patient_id = original.patient_id;
    r.patient_name = original.patient_name;
    Ok(match original.op {
        Some((upstream, meant)) => {
            r.upstream = upstream;
            meant
        }
        None => false,
    })
}

/// A patient picked from the mirror: keep the name as it was when the money was taken,
/// and send the receipt to the upstream that knows this patient.
fn take_patient_from_mirror(tx: &rusqlite::Transaction<'_>, r: &mut ReceiptInsert) -> Result<()> {
    let Some(id) = &r.patient_id else {
        return Ok(());
    };
    let found: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT name, source_key FROM patient WHERE source_id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match (found, &r.patient_name) {
        (Some((name, source_key)), _) => {
            r.patient_name.get_or_insert(name);
            if let Some(key) = source_key {
                r.upstream = key;
            }
        }
        (None, Some(_)) => {}
        (None, None) => {
            return Err(CoreError::InvalidInput(format!(
                "no patient {id:?} in the mirror; type the name instead"
            )))
        }
    }
    Ok(())
}

/// The day's next sequence and the number printed on the slip: `{device}-{yyyymmdd}-{seq}`,
/// with a `T` before the sequence in a drill. A void is named after the receipt it voids
/// (`…-002-V`; a receipt is voided once) and counts apart, below zero: the numbers handed
/// to patients never skip one for it.
fn next_number(
    tx: &rusqlite::Transaction<'_>,
    r: &ReceiptInsert,
    drill: i64,
) -> Result<(i64, String)> {
    if let Some(voided) = &r.voids {
        let seq: i64 = tx.query_row(
            "SELECT coalesce(min(seq), 0) - 1 FROM receipt
             WHERE day = ?1 AND drill = ?2 AND seq < 0",
            params![r.day, drill],
            |row| row.get(0),
        )?;
        return Ok((seq, format!("{voided}-V")));
    }
    let seq: i64 = tx.query_row(
        "SELECT coalesce(max(seq), 0) + 1 FROM receipt WHERE day = ?1 AND drill = ?2 AND seq > 0",
        params![r.day, drill],
        |row| row.get(0),
    )?;
    let number = format!(
        "{}-{}-{}{seq:03}",
        r.device_prefix,
        r.day.replace('-', ""),
        if drill == 0 { "" } else { "T" }
    );
    Ok((seq, number))
}

/// The latest payment since `since` with the same amount, method and patient, if any.
fn same_receipt_since(
    tx: &rusqlite::Transaction<'_>,
    r: &ReceiptInsert,
    since: DateTime<Utc>,
    drill: i64,
) -> Result<Option<String>> {
    Ok(tx
        .query_row(
            "SELECT number FROM receipt
             WHERE kind = 'payment' AND drill = ?1 AND at >= ?2 AND amount = ?3
               AND method = ?4 AND patient_id IS ?5 AND patient_name IS ?6
               AND NOT EXISTS (SELECT 1 FROM receipt v WHERE v.voids = receipt.number)
             ORDER BY id DESC LIMIT 1",
            params![
                drill,
                ts(since),
                r.amount,
                r.method.code(),
                r.patient_id,
                r.patient_name
            ],
            |row| row.get(0),
        )
        .optional()?)
}

fn entry_kind(r: &ReceiptInsert) -> ReceiptEntryKind {
    if r.voids.is_some() {
        ReceiptEntryKind::Void
    } else {
        ReceiptEntryKind::Payment
    }
}

/// The ledger row; `queued` rows carry their op's key.
fn insert_receipt(
    tx: &rusqlite::Transaction<'_>,
    r: &ReceiptInsert,
    (number, seq): (&str, i64),
    incident: Option<i64>,
    queued: bool,
    drill: i64,
) -> Result<()> {
    let kind = match entry_kind(r) {
        ReceiptEntryKind::Void => "void",
        ReceiptEntryKind::Payment => "payment",
    };
    tx.execute(
        "INSERT INTO receipt (number, day, seq, kind, voids, patient_id, patient_name,
             amount, method, memo, staff, reason, at, incident_id, op_key, drill)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            number,
            r.day,
            seq,
            kind,
            r.voids,
            r.patient_id,
            r.patient_name,
            r.amount,
            r.method.code(),
            r.memo,
            r.staff,
            r.reason,
            ts(r.at),
            incident,
            queued.then_some(&r.op_key),
            drill
        ],
    )?;
    Ok(())
}

/// The receipt's op in the outbox, in the same transaction as the receipt.
fn queue_receipt(
    tx: &rusqlite::Transaction<'_>,
    r: &ReceiptInsert,
    number: &str,
    incident: Option<i64>,
) -> Result<()> {
    let entry = receipt_op(r, number);
    let change = match entry.kind {
        ReceiptEntryKind::Void => Change::ReceiptVoid(entry),
        ReceiptEntryKind::Payment => Change::Receipt(entry),
    };
    super::outbox::queue(
        tx,
        super::outbox::OpInsert {
            key: &r.op_key,
            change,
            upstream: &r.upstream,
            base_version: None,
            base_state: None,
            at: r.at,
            incident,
            taken_from: None,
        },
    )
}

/// The ledger line as its op and its record carry it.
fn receipt_op(r: &ReceiptInsert, number: &str) -> ReceiptOp {
    ReceiptOp {
        number: number.to_owned(),
        kind: entry_kind(r),
        voids: r.voids.clone(),
        patient_id: r.patient_id.clone(),
        patient_name: r.patient_name.clone(),
        amount: r.amount,
        method: r.method,
        memo: r.memo.clone(),
        staff: r.staff.clone(),
        reason: r.reason.clone(),
        at: r.at,
    }
}

/// What can go wrong with a receipt beyond its amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Amount(#[from] crate::receipts::AmountError),
    #[error("there is no receipt {0}")]
    NotFound(String),
    #[error("receipt {0} is already voided")]
    AlreadyVoided(String),
    #[error("{0} is a void; a void cannot be voided")]
    VoidOfVoid(String),
    #[error("a void needs a reason")]
    ReasonMissing,
    #[error("receipt {number} was issued at {desk}; void it or mark it entered there")]
    OtherDesk { number: String, desk: String },
    #[error(
        "the same amount and method for the same patient was issued as {0} a moment ago; \
         confirm to issue another"
    )]
    LooksRepeated(String),
}

impl ReceiptError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            ReceiptError::Amount(a) => a.code(),
            ReceiptError::NotFound(_) => ErrorCode::ReceiptNotFound,
            ReceiptError::AlreadyVoided(_) => ErrorCode::ReceiptAlreadyVoided,
            ReceiptError::VoidOfVoid(_) => ErrorCode::ReceiptVoidOfVoid,
            ReceiptError::ReasonMissing => ErrorCode::ReceiptReasonMissing,
            ReceiptError::OtherDesk { .. } => ErrorCode::ReceiptOtherDesk,
            ReceiptError::LooksRepeated(_) => ErrorCode::ReceiptLooksRepeated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Create, DbKey};

    #[test]
    fn the_ledger_itself_refuses_edits_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let key = DbKey::generate().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &key, Create::IfMissing).unwrap();
        let number = store
            .add_receipt(
                &ReceiptInsert {
                    day: "2026-11-25".into(),
                    device_prefix: "ABC123".into(),
                    patient_id: None,
                    patient_name: Some("山田 太郎".into()),
                    amount: 3000,
                    method: PaymentMethod::Cash,
                    memo: None,
                    staff: None,
                    reason: None,
                    voids: None,
                    at: Utc::now(),
                    op_key: "k1".into(),
                    upstream: "demo".into(),
                    repeat_since: None,
                },
                &crate::audit::AuditEntry {
                    at: Utc::now(),
                    staff: String::new(),
                    action: crate::audit::AuditAction::ReceiptAdd,
                    records: Vec::new(),
                    detail: serde_json::json!({}),
                },
            )
            .unwrap();
        for sql in ["UPDATE receipt SET amount = 1", "DELETE FROM receipt"] {
            let err = store
                .with(|c| Ok(c.execute(sql, [])?))
                .unwrap_err()
                .to_string();
            assert!(err.contains("never"), "{sql}: {err}");
        }
        assert_eq!(store.receipts(None, 0).unwrap()[0].number, number);
        assert_eq!(store.receipts(None, 0).unwrap()[0].amount, 3000);
    }
}
