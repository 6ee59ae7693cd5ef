//! The reconciliation view: each incident's ops with their state, what the server said,
//! both sides of a conflict, and what a person can do. Labels are in clinic time; words
//! are the UI's (it translates kinds, states and actions by their codes).

use serde::Serialize;
use ts_rs::TS;

use super::{OpAction, OpKind, OpState, OutboxCounts, Resolution};
use crate::calls::CallOutcome;
use crate::model::SourceKind;
use crate::receipts::PaymentMethod;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncView {
    pub counts: OutboxCounts,
    pub source: SourceKind,
    /// Why ops are still waiting (the last failure of the oldest waiting op), if they are:
    /// its code (the window words it) and the text (OS or server words, for IT).
    pub waiting_because: Option<crate::error::ErrorPayload>,
    /// Newest incident first; ops recorded while no incident was open come last.
    pub groups: Vec<SyncGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncGroup {
    /// `None`: changes made while the line was up.
    #[ts(type = "number | null")]
    pub incident: Option<i64>,
    /// `M/D HH:MM` at the clinic.
    pub started_label: Option<String>,
    pub ended_label: Option<String>,
    /// The line is back and nothing of it waits: the incident is closed.
    pub reconciled: bool,
    /// Its ops not done yet (waiting to be sent, or for a person).
    pub waiting: u32,
    pub ops: Vec<OpView>,
}

/// One side of a conflict: what the appointment is (or would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppointmentSide {
    /// A FHIR appointment status code (`cancelled`, `booked`, …), when this side sets one.
    pub status: Option<String>,
    /// `M/D HH:MM`, when this side sets the time.
    pub start_label: Option<String>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OpView {
    #[ts(type = "number")]
    pub seq: i64,
    pub key: String,
    pub kind: OpKind,
    pub state: OpState,
    pub attempts: u32,
    /// When it was made, `HH:MM` at the clinic.
    pub at_label: String,
    pub patient: Option<String>,
    /// The appointment it is about, `M/D HH:MM`.
    pub appointment_label: Option<String>,
    pub outcome: Option<CallOutcome>,
    /// A reschedule's new time, `M/D HH:MM`.
    pub new_time_label: Option<String>,
    pub receipt_number: Option<String>,
    #[ts(type = "number | null")]
    pub amount: Option<i64>,
    /// The amount as the desk writes it (`-¥500` for a void).
    pub amount_label: Option<String>,
    pub method: Option<PaymentMethod>,
    /// The last failure's code, HTTP status and text (the server's own words).
    #[ts(type = "ErrorCode | (string & {}) | null")]
    pub error_code: Option<String>,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// A conflict: the desk's change and the server's appointment, side by side.
    pub mine: Option<AppointmentSide>,
    pub theirs: Option<AppointmentSide>,
    /// Waiting behind this op of the same appointment or receipt (a conflict or rejection).
    #[ts(type = "number | null")]
    pub held_by: Option<i64>,
    /// `kept_mine`, `took_server` or `discarded`, and by whom.
    pub resolution: Option<Resolution>,
    pub resolved_by: Option<String>,
    /// Settled without reaching the clinic's system (taken back, or entered by hand): the
    /// screen must not call it sent.
    pub not_sent: bool,
    pub actions: Vec<OpAction>,
    /// Made against another upstream than the source now (its address, `demo` or `csv`):
    /// it waits for that one and is sent when it is the source again.
    pub waits_for: Option<String>,
    /// Another desk's op this desk took over (that desk was gone while the line was up):
    /// that desk's name.
    pub taken_from: Option<String>,
}
