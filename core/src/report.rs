//! Reports of outages and drills: when, why, what was ticked, who was called, what was
//! taken. Viewed and printed afterwards; a drill's report is its archive.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::calls::CallOutcome;
use crate::checklist::ChecklistItem;
use crate::monitor::Cause;
use crate::receipts::{DaySummary, ReceiptView};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// A real outage the monitor recorded.
    Outage,
    /// A drill (訓練).
    Drill,
}

impl ReportKind {
    pub fn parse(s: &str) -> Option<ReportKind> {
        match s {
            "outage" | "incident" => Some(ReportKind::Outage),
            "drill" => Some(ReportKind::Drill),
            _ => None,
        }
    }
}

/// One line of the reports list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportSummary {
    pub kind: ReportKind,
    #[ts(type = "number")]
    pub id: i64,
    /// `YYYY-MM-DD HH:MM` on the clinic's clock.
    pub started_label: String,
    /// None: still going.
    pub ended_label: Option<String>,
    pub minutes: Option<u32>,
    pub cause: Option<Cause>,
    /// What failed, in the desk's language (outages only).
    pub cause_text: Option<String>,
    pub calls: u32,
    pub receipts: u32,
}

/// One call as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportCall {
    /// `HH:MM` on the clinic's clock.
    pub at_label: String,
    pub appointment_id: String,
    /// While the mirror still holds the appointment.
    pub patient_name: Option<String>,
    /// The appointment's time, `MM/DD HH:MM`.
    pub appointment_label: Option<String>,
    pub outcome: CallOutcome,
    pub new_start_label: Option<String>,
    pub staff: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IncidentReport {
    pub summary: ReportSummary,
    pub clinic_name: Option<String>,
    pub checklist: Vec<ChecklistItem>,
    pub checklist_done: u32,
    pub calls: Vec<ReportCall>,
    pub receipts: Vec<ReceiptView>,
    /// Money per method over the whole report, voids taken off.
    pub totals: DaySummary,
}

/// Reports, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportList {
    pub reports: Vec<ReportSummary>,
}
