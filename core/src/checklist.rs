//! The outage checklist: what to do when the line goes down, ticked with time and staff.
//! The defaults come from real outages; the clinic owner can write their own list in
//! config.toml (`checklist = [...]`).

use serde::Serialize;
use ts_rs::TS;

use crate::config::Language;

pub fn default_steps(language: Language) -> Vec<String> {
    let steps: &[&str] = match language {
        Language::Ja => &[
            "予備回線に切り替えるか、スマートフォンでテザリングする",
            "Web予約の受付を一時停止する",
            "本日の予約患者さんに電話する",
            "釣り銭とカード端末（Squareなど）を準備する",
            "受付に「システム障害中」の掲示を出す",
        ],
        Language::En => &[
            "Switch to the backup line or tether a phone",
            "Pause web booking",
            "Call today's booked patients",
            "Prepare change and the card reader (e.g. Square)",
            "Put up a notice at the desk",
        ],
    };
    steps.iter().map(|s| (*s).to_owned()).collect()
}

/// What a step does besides its tick (issue 17): the web booking step stops web booking
/// (or opens the owner's card for doing it by hand); after the line returns with booking
/// still stopped, a step reopens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistAction {
    StopBooking,
    ReopenBooking,
}

/// Whether a step (the built-in one, or the owner's own wording) is about web booking.
pub fn is_booking_step(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("web予約") || lower.contains("ｗｅｂ予約") || lower.contains("web booking")
}

/// The step that reminds the desk to reopen web booking.
pub fn reopen_step(language: Language) -> &'static str {
    match language {
        Language::Ja => "Web予約を再開する",
        Language::En => "Reopen web booking",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ChecklistItem {
    pub step: u32,
    pub text: String,
    pub action: Option<ChecklistAction>,
    pub done: bool,
    /// `HH:MM` on the clinic's clock, when ticked.
    pub at_label: Option<String>,
    pub staff: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ChecklistView {
    /// The incident it belongs to (none: no outage open; a drill has its own list).
    #[ts(type = "number | null")]
    pub incident_id: Option<i64>,
    #[ts(type = "number")]
    pub drill: i64,
    pub items: Vec<ChecklistItem>,
    pub done: u32,
}

/// A tick as stored: the latest per step decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub step: u32,
    /// The step as it read when ticked (the configured list may change later).
    pub text: String,
    pub done: bool,
    pub staff: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}
