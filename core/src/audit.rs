//! The audit trail: who saw or changed which records, and when (Japan's MHLW guideline for
//! medical information systems asks for exactly this, tamper-evident).
//!
//! Rows are append-only and hash-chained: a row's hash covers its contents and the hash of
//! the row before it. Editing a row breaks its own hash, moving or deleting one breaks the
//! link of the row after it, and the head (kept beside the table) catches rows cut off the
//! end. Rows name records by id (`appointment:123`, `receipt:20261125-001`), never by a
//! patient's name: the trail can be exported for the clinic's records without becoming a
//! second copy of the patient list.

use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

/// The link before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The last row's number and hash, kept beside the table.
pub type AuditHead = (i64, String);

/// Views of the same records by the same person within this long are one view (the call
/// list redraws after each call; that is not a new look at the patients).
pub const VIEW_REPEAT_SECS: i64 = 10 * 60;

/// What was done. The code is what the table and the export hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    StaffSwitch,
    StaffForget,
    TodayView,
    CallListView,
    CallRecord,
    ArrivalRecord,
    /// A call's outcome or a check-in taken back (元に戻す) with what it queued.
    RecordWithdraw,
    ChecklistTick,
    LedgerView,
    ReceiptAdd,
    ReceiptVoid,
    ReceiptEntered,
    ReceiptsExport,
    SyncView,
    OpResolve,
    OutboxExport,
    AuditExport,
    AuditVerify,
    SheetWrite,
    PrintoutView,
    ReportView,
    DrillStart,
    DrillEnd,
    /// Web booking stopped from the desk (its free Slots closed on the server).
    BookingPause,
    /// Web booking reopened from the desk.
    BookingResume,
    /// After the line returned, web booking stays stopped (the reminder ends).
    BookingKeepClosed,
    /// Another desk paired with this one (by the code shown or typed here).
    PeerPair,
    /// A paired desk is no longer accepted.
    PeerUnpair,
    SettingsChange,
    SourceConfigure,
    CsvImport,
    RetentionPurge,
    FreshStart,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        use AuditAction::*;
        match self {
            StaffSwitch => "staff.switch",
            StaffForget => "staff.forget",
            TodayView => "today.view",
            CallListView => "calls.view",
            CallRecord => "call.record",
            ArrivalRecord => "arrival.record",
            RecordWithdraw => "record.withdraw",
            ChecklistTick => "checklist.tick",
            LedgerView => "receipts.view",
            ReceiptAdd => "receipt.add",
            ReceiptVoid => "receipt.void",
            ReceiptEntered => "receipt.entered",
            ReceiptsExport => "receipts.export",
            SyncView => "sync.view",
            OpResolve => "op.resolve",
            OutboxExport => "outbox.export",
            AuditExport => "audit.export",
            AuditVerify => "audit.verify",
            SheetWrite => "sheet.write",
            PrintoutView => "printout.view",
            ReportView => "report.view",
            DrillStart => "drill.start",
            DrillEnd => "drill.end",
            BookingPause => "booking.pause",
            BookingResume => "booking.resume",
            BookingKeepClosed => "booking.keep_closed",
            PeerPair => "peers.pair",
            PeerUnpair => "peers.unpair",
            SettingsChange => "settings.change",
            SourceConfigure => "source.configure",
            CsvImport => "import.csv",
            RetentionPurge => "retention.purge",
            FreshStart => "store.fresh_start",
        }
    }

    /// Views are recorded once per person and set of records within `VIEW_REPEAT_SECS`.
    pub fn is_view(self) -> bool {
        use AuditAction::*;
        matches!(
            self,
            TodayView | CallListView | LedgerView | SyncView | PrintoutView | ReportView
        )
    }
}

/// One row to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: chrono::DateTime<chrono::Utc>,
    /// '' when Tsunagi did it on its own (a schedule).
    pub staff: String,
    pub action: AuditAction,
    pub records: Vec<String>,
    pub detail: serde_json::Value,
}

/// A stored row, as `audit export` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub staff: String,
    pub action: String,
    /// JSON array text.
    pub records: String,
    /// JSON object text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a row's contents chained to the previous row's hash. Each field is length-
/// prefixed, so moving text from one field to the next changes the hash.
pub fn row_hash(
    prev_hash: &str,
    at: &str,
    staff: &str,
    action: &str,
    records: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"tsunagi-audit-v1\n");
    for field in [prev_hash, at, staff, action, records, detail] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditRow {
    fn computed_hash(&self) -> String {
        row_hash(
            &self.prev_hash,
            &self.at,
            &self.staff,
            &self.action,
            &self.records,
            &self.detail,
        )
    }
}

/// Something wrong with the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The row's contents do not match its hash.
    Edited {
        #[ts(type = "number")]
        seq: i64,
    },
    /// Rows are missing before this one (its number skips some).
    Missing {
        #[ts(type = "number")]
        from: i64,
        #[ts(type = "number")]
        to: i64,
    },
    /// The row does not follow the row before it (moved, or the one before was replaced).
    OutOfOrder {
        #[ts(type = "number")]
        seq: i64,
    },
    /// The trail ends before the last row ever written.
    TailMissing {
        #[ts(type = "number")]
        last_seq: i64,
        #[ts(type = "number")]
        head_seq: i64,
    },
    /// The head is gone or does not match the last row.
    HeadMismatch {
        #[ts(type = "number")]
        last_seq: i64,
    },
    /// A row of the earlier export is no longer in the trail.
    ExportRowMissing {
        #[ts(type = "number")]
        seq: i64,
    },
    /// A row of the earlier export is in the trail with other contents.
    ExportRowChanged {
        #[ts(type = "number")]
        seq: i64,
    },
    /// The export itself does not hold together at this row (it was edited after it was
    /// written, or it is not an audit export): it proves nothing.
    ExportInvalid {
        #[ts(type = "number")]
        seq: i64,
    },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditProblem::Edited { seq } => {
                write!(f, "row {seq} was edited (its contents no longer match its hash)")
            }
            AuditProblem::Missing { from, to } if from == to => write!(f, "row {from} was deleted"),
            AuditProblem::Missing { from, to } => write!(f, "rows {from} to {to} were deleted"),
            AuditProblem::OutOfOrder { seq } => write!(
                f,
                "row {seq} does not follow the row before it (rows were reordered or replaced)"
            ),
            AuditProblem::TailMissing { last_seq, head_seq } => write!(
                f,
                "rows after {last_seq} were deleted (the trail had reached {head_seq})"
            ),
            AuditProblem::HeadMismatch { last_seq } => write!(
                f,
                "the trail's end marker does not match row {last_seq} (rows were changed at the end)"
            ),
            AuditProblem::ExportRowMissing { seq } => write!(
                f,
                "row {seq} of the earlier export is no longer in the trail"
            ),
            AuditProblem::ExportRowChanged { seq } => write!(
                f,
                "row {seq} of the earlier export was changed in the trail since"
            ),
            AuditProblem::ExportInvalid { seq } => write!(
                f,
                "the export does not hold together at row {seq} (edited after it was written, \
                 or not an audit export); it proves nothing"
            ),
        }
    }
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditCheck {
    pub rows: u32,
    /// The last row's hash: write it down (or keep an export) to pin today's trail.
    pub head: Option<String>,
    pub problems: Vec<AuditProblem>,
    /// Checked against an earlier export: how many of its rows.
    pub against: Option<u32>,
}

impl AuditCheck {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check rows (in the order of their numbers) against each other and the head.
pub fn verify(rows: &[AuditRow], head: Option<AuditHead>) -> AuditCheck {
    let mut problems = Vec::new();
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS.to_owned();
    for row in rows {
        if row.seq > expected_seq {
            problems.push(AuditProblem::Missing {
                from: expected_seq,
                to: row.seq - 1,
            });
        }
        if row.computed_hash() != row.hash {
            problems.push(AuditProblem::Edited { seq: row.seq });
        } else if row.prev_hash != prev_hash && row.seq == expected_seq {
            problems.push(AuditProblem::OutOfOrder { seq: row.seq });
        }
        expected_seq = row.seq + 1;
        prev_hash = row.hash.clone();
    }
    let last = rows.last();
    match (last, head) {
        (None, None) => {}
        (Some(last), Some((head_seq, head_hash))) => {
            if head_seq > last.seq {
                problems.push(AuditProblem::TailMissing {
                    last_seq: last.seq,
                    head_seq,
                });
            } else if head_seq != last.seq || head_hash != last.hash {
                problems.push(AuditProblem::HeadMismatch { last_seq: last.seq });
            }
        }
        (None, Some((head_seq, _))) => problems.push(AuditProblem::TailMissing {
            last_seq: 0,
            head_seq,
        }),
        (Some(last), None) => problems.push(AuditProblem::HeadMismatch { last_seq: last.seq }),
    }
    AuditCheck {
        rows: rows.len() as u32,
        head: last.map(|r| r.hash.clone()),
        problems,
        against: None,
    }
}

/// The columns of `audit export`, in order: every column the hashes cover, and the clinic's
/// local time beside the UTC one.
pub const EXPORT_COLUMNS: [&str; 9] = [
    "seq",
    "at_utc",
    "local_time",
    "staff",
    "action",
    "records",
    "detail",
    "prev_hash",
    "hash",
];

/// The rows of an `audit export` CSV (its columns by name).
pub fn parse_export(bytes: &[u8]) -> Result<Vec<AuditRow>, String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("not an audit export: {e}"))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("not an audit export: no {name} column"))
    };
    let [seq, at, _local, staff, action, records, detail, prev, hash] = EXPORT_COLUMNS.map(column);
    let (seq, at, staff, action, records, detail, prev, hash) =
        (seq?, at?, staff?, action?, records?, detail?, prev?, hash?);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 2))?;
        let field = |c: usize| record.get(c).unwrap_or_default().to_owned();
        rows.push(AuditRow {
            seq: field(seq)
                .parse()
                .map_err(|_| format!("line {}: seq is not a number", i + 2))?,
            at: field(at),
            staff: field(staff),
            action: field(action),
            records: field(records),
            detail: field(detail),
            prev_hash: field(prev),
            hash: field(hash),
        });
    }
    Ok(rows)
}

/// Whether every row of an earlier export is still in the trail, unchanged. The export is
/// checked first on its own (each row's hash and link): a file edited after it was written
/// pins nothing.
pub fn verify_against(trail: &[AuditRow], export: &[AuditRow]) -> Vec<AuditProblem> {
    let mut problems = Vec::new();
    let mut prev: Option<&AuditRow> = None;
    for row in export {
        let linked = prev.is_none_or(|p| row.seq != p.seq + 1 || row.prev_hash == p.hash);
        if row.computed_hash() != row.hash || !linked {
            problems.push(AuditProblem::ExportInvalid { seq: row.seq });
            return problems;
        }
        prev = Some(row);
    }
    let by_seq: std::collections::HashMap<i64, &AuditRow> =
        trail.iter().map(|r| (r.seq, r)).collect();
    for row in export {
        match by_seq.get(&row.seq) {
            None => problems.push(AuditProblem::ExportRowMissing { seq: row.seq }),
            Some(now) if *now != row => {
                problems.push(AuditProblem::ExportRowChanged { seq: row.seq })
            }
            Some(_) => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let at = format!("2026-11-25T00:{seq:02}:00Z");
                let records = format!("[\"appointment:{seq}\"]");
                let hash = row_hash(&prev, &at, "受付 花子", "calls.view", &records, "{}");
                let row = AuditRow {
                    seq,
                    at,
                    staff: "受付 花子".into(),
                    action: "calls.view".into(),
                    records,
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                row
            })
            .collect()
    }

    fn head(rows: &[AuditRow]) -> Option<(i64, String)> {
        rows.last().map(|r| (r.seq, r.hash.clone()))
    }

    #[test]
    fn an_untouched_trail_is_intact() {
        let rows = chain(5);
        let check = verify(&rows, head(&rows));
        assert!(check.intact(), "{check:?}");
        assert_eq!(check.rows, 5);
        assert!(verify(&[], None).intact());
    }

    #[test]
    fn each_kind_of_tampering_is_named_with_its_row() {
        let rows = chain(6);
        let h = head(&rows);

        let mut edited = rows.clone();
        edited[2].staff = "someone else".into();
        assert_eq!(
            verify(&edited, h.clone()).problems,
            vec![AuditProblem::Edited { seq: 3 }]
        );

        let mut deleted = rows.clone();
        deleted.remove(3);
        assert_eq!(
            verify(&deleted, h.clone()).problems,
            vec![AuditProblem::Missing { from: 4, to: 4 }]
        );

        // Rows 2 and 3 swapped, numbers and all: each row is intact, the links are not.
        let mut swapped = rows.clone();
        swapped.swap(1, 2);
        swapped[1].seq = 2;
        swapped[2].seq = 3;
        assert_eq!(
            verify(&swapped, h.clone()).problems,
            vec![
                AuditProblem::OutOfOrder { seq: 2 },
                AuditProblem::OutOfOrder { seq: 3 },
                AuditProblem::OutOfOrder { seq: 4 }
            ]
        );

        let cut = &rows[..4];
        assert_eq!(
            verify(cut, h.clone()).problems,
            vec![AuditProblem::TailMissing {
                last_seq: 4,
                head_seq: 6
            }]
        );
        // A head that no longer matches the last row (or is gone).
        assert_eq!(
            verify(&rows, Some((6, GENESIS.to_owned()))).problems,
            vec![AuditProblem::HeadMismatch { last_seq: 6 }]
        );
        assert_eq!(
            verify(&rows, None).problems,
            vec![AuditProblem::HeadMismatch { last_seq: 6 }]
        );
    }
}
