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

/// Why a drill ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DrillEnd {
    /// A person ended it.
    Staff,
    /// The monitor declared a real outage: from then on the desk's work was real.
    Outage,
    /// Left open, it ended by itself at the end of its clinic day.
    DayEnd,
}

impl DrillEnd {
    pub fn code(self) -> &'static str {
        match self {
            DrillEnd::Staff => "staff",
            DrillEnd::Outage => "outage",
            DrillEnd::DayEnd => "day_end",
        }
    }

    pub fn parse(code: &str) -> Option<DrillEnd> {
        [DrillEnd::Staff, DrillEnd::Outage, DrillEnd::DayEnd]
            .into_iter()
            .find(|d| d.code() == code)
    }

    /// How the report says it.
    pub fn text(self, language: crate::config::Language) -> &'static str {
        use crate::config::Language::{En, Ja};
        match (self, language) {
            (DrillEnd::Staff, Ja) => "訓練を終了",
            (DrillEnd::Staff, En) => "Ended by staff",
            (DrillEnd::Outage, Ja) => "実際の回線障害で終了（以後の記録は本番）",
            (DrillEnd::Outage, En) => "Ended by a real outage (what followed was real)",
            (DrillEnd::DayEnd, Ja) => "日付が変わり自動で終了",
            (DrillEnd::DayEnd, En) => "Ended by itself at the end of the day",
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
    /// What failed (an outage), or how a drill ended, in the desk's language.
    pub cause_text: Option<String>,
    pub calls: u32,
    /// Receipts handed out (payments); their voids are counted apart.
    pub receipts: u32,
    pub voids: u32,
    /// A drill: why it ended (a real outage ends one at once).
    pub drill_ended_by: Option<DrillEnd>,
}

/// One call as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportCall {
    /// `HH:MM` on the clinic's clock.
    pub at_label: String,
    pub appointment_id: String,
    /// While the mirror still holds the appointment.
    pub patient_name: Option<String>,
    /// The appointment's time, `M/D HH:MM`.
    pub appointment_label: Option<String>,
    pub outcome: CallOutcome,
    pub new_start_label: Option<String>,
    pub staff: Option<String>,
    pub note: Option<String>,
    /// The desk that made the call, when another desk did (its name).
    pub desk: Option<String>,
}

/// Web booking stopped or reopened from the desk, as the report lists it (issue 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportBooking {
    /// `true`: stopped; `false`: reopened.
    pub stopped: bool,
    /// Done by hand on the booking service's site (no Slots, nothing sent from here).
    pub by_hand: bool,
    /// When a person pressed it, `M/D HH:MM` on the clinic's clock.
    pub at_label: String,
    pub staff: Option<String>,
    /// When the clinic's system had it, `M/D HH:MM` (not yet: `None`).
    pub done_label: Option<String>,
    /// Slots closed (stopped) or freed again (reopened).
    pub slots: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IncidentReport {
    pub summary: ReportSummary,
    pub clinic_name: Option<String>,
    pub checklist: Vec<ChecklistItem>,
    pub checklist_done: u32,
    /// Web booking stopped during the outage, and its reopening (also after it ended).
    pub booking: Vec<ReportBooking>,
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
