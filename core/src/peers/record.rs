//! A record of a desk's log, as it is stored and as it travels between desks.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Hlc;

/// One record: `(desk, seq)` names it on every desk; `kind` and `body` say what was done.
/// The body stays JSON until it is applied, so a record of a kind this build does not know
/// (from a newer desk) is kept and passed on all the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub desk: String,
    pub seq: u64,
    pub hlc: Hlc,
    pub kind: String,
    pub body: Value,
}

/// How far a desk holds each desk's log: the highest sequence number held, every one
/// before it held too. A desk missing from it is held not at all.
pub type Vector = BTreeMap<String, u64>;

/// What a batch of records did on the desk that took it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// New here: stored and applied.
    pub stored: usize,
    /// Held already (from the desk itself, from another desk, or this desk's own).
    pub duplicate: usize,
    /// After a gap in its desk's log: not stored; it comes again once the gap is filled.
    pub waiting: usize,
    /// Not a record at all (a malformed desk id or sequence), or made by an unpaired desk
    /// after it was unpaired: dropped.
    pub refused: usize,
}

/// What a record says was done, as this build knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum RecordBody {
    /// A step of the outage checklist ticked or unticked.
    Tick(TickRecord),
    /// A call to a patient and what came of it.
    Call(CallRecord),
    /// A call taken back at its desk (元に戻す): `seq` names the call's record there.
    CallWithdrawn { seq: u64 },
    /// A patient checked in at the desk (受付).
    Arrival {
        appointment_id: String,
        staff: Option<String>,
        at: DateTime<Utc>,
    },
    /// A check-in taken back at its desk: `seq` names its record there.
    ArrivalWithdrawn { seq: u64 },
    /// A receipt or void issued at the desk: the ledger's line, with its op (when it is
    /// queued for an upstream) so a desk can tell what is to be sent.
    Receipt(ReceiptRecord),
    /// A desk unpaired (lost, stolen, replaced): unpaired on every desk, and its records
    /// after `after_seq` refused everywhere.
    Unpaired { desk: String, after_seq: u64 },
    /// A change queued for the upstream, whole: another desk can send it when this desk is
    /// off while the line is back.
    Op(OpRecord),
    /// An op is settled at this desk: on the server (`resolution` none), or given up by a
    /// person (its resolution's code). The other desks no longer send it.
    OpSettled(OpSettledRecord),
    /// A call to this patient is being made at this desk now (「受付1で通話中」).
    Claim {
        appointment_id: String,
        staff: Option<String>,
    },
    /// This desk took over another desk's op (that desk was gone while the line was up):
    /// it sends it now.
    OpTaken { key: String, from: String },
    /// This desk paired with a desk (by code). The desks that take this record pair with
    /// it too (this desk vouches for it): a desk paired once joins the clinic's desks.
    Paired(PairedRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedRecord {
    pub desk: String,
    /// Its name on the desks (受付2).
    pub name: String,
    /// Where it listens for paired desks (host:port), as this desk reached it.
    pub address: String,
    /// The SHA-256 of its certificate: the only one accepted as that desk.
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpRecord {
    pub key: String,
    /// The op's kind and payload as the outbox stores them.
    pub kind: String,
    pub payload: String,
    pub upstream: String,
    pub base_version: Option<String>,
    pub base_state: Option<crate::outbox::change::AppointmentState>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpSettledRecord {
    pub key: String,
    /// `None`: the server has it; otherwise how a person settled it.
    pub resolution: Option<String>,
    pub upstream_ref: Option<String>,
    /// An appointment's version after the change.
    pub new_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub appointment_id: String,
    pub outcome: crate::calls::CallOutcome,
    pub new_start: Option<DateTime<Utc>>,
    pub staff: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    /// The clinic date `YYYY-MM-DD` it belongs to.
    pub day: String,
    #[serde(flatten)]
    pub entry: crate::outbox::change::ReceiptOp,
    /// Its op in the outbox of the desk that issued it, and where that op goes (`None`:
    /// sent nowhere, as a void of a receipt that will never be sent).
    pub op_key: Option<String>,
    pub upstream: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickRecord {
    pub step: u32,
    /// The step as it read when ticked: a tick belongs to its text.
    pub text: String,
    pub done: bool,
    pub staff: Option<String>,
    pub at: DateTime<Utc>,
}

impl RecordBody {
    /// Its kind and body, as a record carries them.
    pub fn split(&self) -> (String, Value) {
        let mut v = serde_json::to_value(self).expect("a record body is plain data");
        let kind = v["kind"].as_str().unwrap_or_default().to_owned();
        (kind, v["body"].take())
    }

    /// The body of a record of `kind`; `None` for a kind this build does not know, or a
    /// body that does not read as its kind.
    pub fn parse(kind: &str, body: &Value) -> Option<RecordBody> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "body": body })).ok()
    }
}

/// A desk id as the log makes them: 32 lower-case hex digits.
pub(crate) fn is_desk_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_splits_and_reads_back_and_an_unknown_kind_is_none() {
        let tick = RecordBody::Tick(TickRecord {
            step: 2,
            text: "患者へ連絡".into(),
            done: true,
            staff: Some("佐藤".into()),
            at: DateTime::from_timestamp(1_764_720_000, 0).unwrap(),
        });
        let (kind, body) = tick.split();
        assert_eq!(kind, "tick");
        assert_eq!(RecordBody::parse(&kind, &body), Some(tick));
        assert_eq!(RecordBody::parse("receipt_v9", &body), None);
        assert!(is_desk_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_desk_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_desk_id("../etc"));
    }
}
