//! The receipt ledger's SQL: numbering, voids and their outbox entries, one transaction
//! each. The table itself refuses edits and deletes (triggers in migration 0006).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::ts;
use super::Store;
use crate::error::{CoreError, Result};
use crate::outbox::OpKind;
use crate::receipts::{PaymentMethod, ReceiptKind, ReceiptView};

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
}

/// What a void copies from the receipt it voids: kind, amount, method, patient id, name.
type Voided = (String, i64, String, Option<String>, Option<String>);

impl Store {
    /// Record a payment (or, with `voids` and `reason`, a void of one) and queue it for the
    /// upstream. Returns the new receipt's number.
    pub fn add_receipt(&self, r: &ReceiptInsert) -> Result<String> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let drill = super::calls::active_drill(&tx)?;
            let mut r = r.clone();
            if let Some(voided) = &r.voids {
                // A drill voids only its own receipts; real ones only outside a drill.
                let original: Option<Voided> = tx
                    .query_row(
                        "SELECT kind, amount, method, patient_id, patient_name FROM receipt
                         WHERE number = ?1 AND drill = ?2",
                        params![voided, drill],
                        |row| {
                            Ok((
                                row.get(0)?,
                                row.get(1)?,
                                row.get(2)?,
                                row.get(3)?,
                                row.get(4)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some((kind, amount, method, patient_id, patient_name)) = original else {
                    return Err(CoreError::Receipt(ReceiptError::NotFound(voided.clone())));
                };
                if kind == "void" {
                    return Err(CoreError::Receipt(ReceiptError::VoidOfVoid(voided.clone())));
                }
                let already: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM receipt WHERE voids = ?1)",
                    [voided],
                    |row| row.get(0),
                )?;
                if already {
                    return Err(CoreError::Receipt(ReceiptError::AlreadyVoided(
                        voided.clone(),
                    )));
                }
                r.amount = -amount;
                r.method = PaymentMethod::parse(&method).unwrap_or(PaymentMethod::Cash);
                r.patient_id = patient_id;
                r.patient_name = patient_name;
            } else if let (Some(id), None) = (&r.patient_id, &r.patient_name) {
                // Picked from the mirror: keep the name as it was when the money was taken.
                r.patient_name = tx
                    .query_row(
                        "SELECT name FROM patient WHERE source_id = ?1",
                        [id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if r.patient_name.is_none() {
                    return Err(CoreError::InvalidInput(format!(
                        "no patient {id:?} in the mirror; type the name instead"
                    )));
                }
            }
            let seq: i64 = tx.query_row(
                "SELECT coalesce(max(seq), 0) + 1 FROM receipt WHERE day = ?1 AND drill = ?2",
                params![r.day, drill],
                |row| row.get(0),
            )?;
            let number = format!(
                "{}-{}-{}{seq:03}",
                r.device_prefix,
                r.day.replace('-', ""),
                if drill == 0 { "" } else { "T" }
            );
            let incident = super::monitor::open_incident(&tx)?;
            let kind = if r.voids.is_some() { "void" } else { "payment" };
            let at = ts(r.at);
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
                    at,
                    incident,
                    (drill == 0).then_some(&r.op_key),
                    drill
                ],
            )?;
            if drill != 0 {
                // A drill's money is practice: never sent upstream.
                tx.commit()?;
                return Ok(number);
            }
            let payload = serde_json::json!({
                "number": number,
                "kind": kind,
                "voids": r.voids,
                "patient_id": r.patient_id,
                "patient_name": r.patient_name,
                "amount": r.amount,
                "method": r.method.code(),
                "memo": r.memo,
                "staff": r.staff,
                "reason": r.reason,
                "at": at,
            });
            super::outbox::queue(
                &tx,
                super::outbox::OpInsert {
                    key: &r.op_key,
                    kind: if r.voids.is_some() {
                        OpKind::ReceiptVoid
                    } else {
                        OpKind::Receipt
                    },
                    target_id: &number,
                    base_version: None,
                    payload,
                    at: &at,
                    incident,
                },
            )?;
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
                "SELECT r.number, r.kind, r.voids, v.number, r.patient_id, r.patient_name,
                        r.amount, r.method, r.memo, r.staff, r.reason, r.at, r.day,
                        e.number IS NOT NULL, r.drill != 0
                 FROM receipt r
                 LEFT JOIN receipt v ON v.voids = r.number
                 LEFT JOIN receipt_entered e ON e.number = r.number
                 WHERE {filter}
                 ORDER BY r.id"
            ))?;
            let rows = stmt
                .query_map(args, |row| {
                    let kind: String = row.get(1)?;
                    let method: String = row.get(7)?;
                    Ok(ReceiptView {
                        number: row.get(0)?,
                        kind: if kind == "void" {
                            ReceiptKind::Void
                        } else {
                            ReceiptKind::Payment
                        },
                        voids: row.get(2)?,
                        voided_by: row.get(3)?,
                        patient_id: row.get(4)?,
                        patient_name: row.get(5)?,
                        amount: row.get(6)?,
                        method: PaymentMethod::parse(&method).unwrap_or(PaymentMethod::Cash),
                        memo: row.get(8)?,
                        staff: row.get(9)?,
                        reason: row.get(10)?,
                        at: row.get(11)?,
                        day: row.get(12)?,
                        entered_in_billing: row.get(13)?,
                        drill: row.get(14)?,
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
    ) -> Result<()> {
        self.with(|conn| {
            let exists: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM receipt WHERE number = ?1)",
                [number],
                |row| row.get(0),
            )?;
            if !exists {
                return Err(CoreError::Receipt(ReceiptError::NotFound(
                    number.to_owned(),
                )));
            }
            conn.execute(
                "INSERT INTO receipt_entered (number, at, staff) VALUES (?1, ?2, ?3)
                 ON CONFLICT (number) DO NOTHING",
                params![number, ts(at), staff],
            )?;
            Ok(())
        })
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
}

impl ReceiptError {
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptError::Amount(a) => a.code(),
            ReceiptError::NotFound(_) => "receipt.not_found",
            ReceiptError::AlreadyVoided(_) => "receipt.already_voided",
            ReceiptError::VoidOfVoid(_) => "receipt.void_of_void",
            ReceiptError::ReasonMissing => "receipt.reason_missing",
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
            .add_receipt(&ReceiptInsert {
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
            })
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
