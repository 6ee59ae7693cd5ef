//! The call list: booked patients to phone during an outage, and what each call achieved.
//! Attempts are history (a new row each, never overwritten); outcomes that change the
//! appointment (cancel, reschedule) change the mirror and queue the change for the
//! upstream in the same transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, Result};
use crate::view::PatientView;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// キャンセル
    Cancelled,
    /// 日時変更 (with the new date and time)
    Rescheduled,
    /// 来院予定: coming anyway
    Coming,
    /// 不在: no answer, try again later
    NoAnswer,
    /// 留守電
    LeftMessage,
    /// 番号違い
    WrongNumber,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 6] = [
        CallOutcome::Cancelled,
        CallOutcome::Rescheduled,
        CallOutcome::Coming,
        CallOutcome::NoAnswer,
        CallOutcome::LeftMessage,
        CallOutcome::WrongNumber,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CallOutcome::Cancelled => "cancelled",
            CallOutcome::Rescheduled => "rescheduled",
            CallOutcome::Coming => "coming",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::LeftMessage => "left_message",
            CallOutcome::WrongNumber => "wrong_number",
        }
    }

    pub fn parse(s: &str) -> Option<CallOutcome> {
        CallOutcome::ALL.into_iter().find(|o| o.code() == s)
    }

    /// The patient was reached and the visit is settled (counts as 連絡済).
    pub fn reached(self) -> bool {
        matches!(
            self,
            CallOutcome::Cancelled | CallOutcome::Rescheduled | CallOutcome::Coming
        )
    }
}

/// A call to record, as the screen or the CLI says it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CallRecord {
    pub appointment_id: String,
    pub outcome: CallOutcome,
    /// Rescheduled: the new start, `YYYY-MM-DDTHH:MM` on the clinic's clock.
    #[ts(optional)]
    pub new_start: Option<String>,
    #[ts(optional)]
    pub note: Option<String>,
    #[ts(optional)]
    pub staff: Option<String>,
    /// The person confirmed that this outcome replaces an earlier one it contradicts (a
    /// cancellation, a check-in): that one is withdrawn in the same transaction.
    #[ts(as = "Option<bool>", optional)]
    #[serde(default)]
    pub replace_earlier: bool,
}

/// A check-in as the screen asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ArrivalRecord {
    pub appointment_id: String,
    #[ts(optional)]
    pub staff: Option<String>,
    /// The person confirmed checking in a patient whose appointment is another day.
    #[ts(as = "Option<bool>", optional)]
    #[serde(default)]
    pub other_day_ok: bool,
    /// The person confirmed this replaces a cancellation recorded here.
    #[ts(as = "Option<bool>", optional)]
    #[serde(default)]
    pub replace_earlier: bool,
}

impl ArrivalRecord {
    /// A plain check-in: today's appointment, nothing to replace.
    pub fn new(appointment_id: &str, staff: Option<&str>) -> ArrivalRecord {
        ArrivalRecord {
            appointment_id: appointment_id.to_owned(),
            staff: staff.map(str::to_owned),
            other_day_ok: false,
            replace_earlier: false,
        }
    }
}

/// How long the desk offers 元に戻す after an outcome or a check-in, in seconds. The
/// background sender holds what they queued this long (a person's 最新に更新 and the
/// line's recovery do not), so taking one back within it does not race the line.
pub const UNDO_SECONDS: u32 = 10;

/// Something recorded at the desk that a person can take back while its changes wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Withdrawable {
    /// A call attempt (its outcome and the appointment change it queued).
    Call(i64),
    /// A check-in at the desk.
    Arrival(i64),
}

/// What a recorded outcome or check-in says about the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visit {
    Cancelled,
    /// Coming (at the old or a new time).
    Coming,
    Arrived,
}

impl Visit {
    pub(crate) fn of(outcome: CallOutcome) -> Option<Visit> {
        match outcome {
            CallOutcome::Cancelled => Some(Visit::Cancelled),
            CallOutcome::Rescheduled | CallOutcome::Coming => Some(Visit::Coming),
            _ => None,
        }
    }

    /// Whether recording `later` after `self` would leave the desk saying two things: a
    /// cancelled visit that is coming, a patient at the desk who cancels or is coming
    /// another day. A cancel after "coming" is a patient changing their mind: no conflict.
    pub(crate) fn contradicted_by(self, later: Visit) -> bool {
        matches!(
            (self, later),
            (Visit::Cancelled, Visit::Coming | Visit::Arrived)
                | (Visit::Arrived, Visit::Cancelled | Visit::Coming)
        )
    }
}

/// Why the desk refused to record or take back a call or a check-in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("this appointment was cancelled at this desk; confirm to withdraw the cancellation")]
    ContradictsCancel,
    #[error("this patient was checked in at this desk; confirm to withdraw the check-in")]
    ContradictsArrival,
    #[error("that change has already been sent to the clinic's system; change it there instead")]
    AlreadySent,
    #[error("another desk took that change over and sends it to the clinic's system; change it there instead")]
    TakenOver,
    #[error("that change is waiting for a decision in the sync view; decide it there")]
    NeedsDecision,
    #[error("this was already taken back")]
    AlreadyWithdrawn,
    #[error("this appointment is cancelled; book the patient again first")]
    AppointmentCancelled,
    #[error("this appointment is not today; confirm to check the patient in anyway")]
    NotToday,
    #[error("the new date and time {0:?} is not like 2026-11-26 10:30")]
    RescheduleUnreadable(String),
    #[error("the new date and time is in the past")]
    ReschedulePast,
    #[error("the new date and time is more than a year ahead")]
    RescheduleTooFar,
}

impl CallError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode as C;
        match self {
            CallError::ContradictsCancel => C::CallContradictsCancel,
            CallError::ContradictsArrival => C::CallContradictsArrival,
            CallError::AlreadySent => C::CallAlreadySent,
            CallError::TakenOver => C::CallTakenOver,
            CallError::NeedsDecision => C::CallNeedsDecision,
            CallError::AlreadyWithdrawn => C::CallAlreadyWithdrawn,
            CallError::AppointmentCancelled => C::CallAppointmentCancelled,
            CallError::NotToday => C::CallNotToday,
            CallError::RescheduleUnreadable(_) => C::CallRescheduleUnreadable,
            CallError::ReschedulePast => C::CallReschedulePast,
            CallError::RescheduleTooFar => C::CallRescheduleTooFar,
        }
    }
}

/// One attempt as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CallAttemptView {
    pub id: i64,
    pub outcome: CallOutcome,
    /// `HH:MM` on the clinic's clock.
    pub at_label: String,
    pub at: String,
    /// Rescheduled: the new start, `M/D HH:MM` on the clinic's clock.
    pub new_start_label: Option<String>,
    /// No answer: when to try again, `HH:MM`.
    pub retry_at_label: Option<String>,
    pub staff: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CallListEntry {
    pub appointment_id: String,
    /// `HH:MM` on the clinic's clock (with `M/D ` when not today): the slot the visit was
    /// booked at today, also after a call moved it.
    pub time_label: String,
    /// That slot (RFC 3339): the list's order.
    pub slot: String,
    /// Moved by a call at this desk: the new start, `M/D HH:MM`.
    pub moved_to_label: Option<String>,
    /// The current start on the clinic's clock, `YYYY-MM-DDTHH:MM` (a reschedule starts
    /// from it).
    pub start_local: String,
    pub start: String,
    pub reason: Option<String>,
    pub status: crate::model::AppointmentStatus,
    pub patient: Option<PatientView>,
    /// Oldest first.
    pub attempts: Vec<CallAttemptView>,
    pub reached: bool,
    /// A no-answer whose retry time has come.
    pub retry_due: bool,
    /// The call script with this patient's name and time filled in.
    pub script: String,
    /// Checked in at the desk (受付), `HH:MM`.
    pub arrived_at_label: Option<String>,
    /// That check-in, to take it back.
    pub arrival_id: Option<i64>,
    /// The appointment is on another day than today (a check-in asks first).
    pub other_day: bool,
    /// Booked (新規) or changed (変更) on the clinic's system during the last outage.
    pub news: Option<crate::model::UpstreamNews>,
    /// Calls made to this patient at the clinic's other desks (oldest first).
    pub elsewhere: Vec<ElsewhereCallView>,
    /// Checked in at another desk: which, when, by whom.
    pub arrived_elsewhere: Option<ElsewhereArrivalView>,
    /// Someone at another desk is on the phone with this patient now (「受付2で通話中」).
    pub claimed: Option<ClaimView>,
}

/// A call being made at another desk now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ClaimView {
    pub desk: String,
    pub staff: Option<String>,
}

/// A check-in another desk made, as this desk's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ElsewhereArrivalView {
    pub desk: String,
    /// `HH:MM` on the clinic's clock.
    pub at_label: String,
    pub staff: Option<String>,
}

/// A call another desk made, as this desk's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ElsewhereCallView {
    /// The desk's name (受付1).
    pub desk: String,
    pub outcome: CallOutcome,
    /// `HH:MM` on the clinic's clock.
    pub at_label: String,
    /// Rescheduled: the new start, `M/D HH:MM`.
    pub new_start_label: Option<String>,
    pub staff: Option<String>,
}

/// The built-in call script; `{clinic}`, `{name}`, `{time}` and `{date}` are filled in.
pub fn default_script(language: crate::config::Language) -> &'static str {
    match language {
        crate::config::Language::Ja => {
            "{clinic}の受付です。{name}様のお電話でよろしいでしょうか。\
             {date} {time}のご予約の件でお電話しました。\
             ただいま院内のシステムに障害が起きており、受付や会計にお時間をいただく場合がございます。\
             このままご来院いただけますか。日時の変更やキャンセルもお受けできます。"
        }
        crate::config::Language::En => {
            "Hello, this is the front desk of {clinic}. May I speak with {name}? \
             We are calling about your appointment on {date} at {time}. \
             Our clinic system is down at the moment, so check-in and payment may take longer. \
             Would you still like to come, or shall we change the time or cancel?"
        }
    }
}

/// Fill a call script's placeholders.
pub fn fill_script(template: &str, clinic: &str, name: &str, date: &str, time: &str) -> String {
    template
        .replace("{clinic}", clinic)
        .replace("{name}", name)
        .replace("{date}", date)
        .replace("{time}", time)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CallListView {
    pub entries: Vec<CallListEntry>,
    pub reached: u32,
    pub total: u32,
    /// Until when the list reaches (RFC 3339).
    pub until: String,
    /// Nothing is left to call today: tomorrow morning's calls are shown by themselves.
    pub day_over: bool,
}

/// A stored attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub appointment_id: String,
    pub outcome: CallOutcome,
    pub new_start: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    pub staff: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// Staff names and notes are typed at a busy desk: trimmed, empty means none, and kept to
/// a sane length.
pub(crate) fn clean_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(CoreError::InvalidInput(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(Some(v.to_owned()))
}
