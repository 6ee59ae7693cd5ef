//! Stopping and reopening web booking from the desk (issue 17). When the clinic is cut off,
//! its cloud booking service still takes bookings for a morning that may not happen. A
//! pause closes the free Slots of a window on the clinic's FHIR server
//! (`busy-unavailable`); the resume frees exactly those again, each only if the server
//! still holds the version the pause wrote. Both travel through the outbox like every
//! change (exactly once; a pause goes out before anything else queued). The reasoning is
//! in docs/booking.md; the requests are in `outbox::booking`.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::calendar::ClinicCalendar;
use crate::outbox::OpState;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error(
        "this source has no web booking Tsunagi can stop (CSV or the demo clinic); stop it in \
         the booking service's own admin page, then record it with 'booking stopped'"
    )]
    NoApi,
    #[error("web booking is already stopped")]
    AlreadyPaused,
    #[error("web booking is not stopped")]
    NotPaused,
    #[error("the end of the pause {0:?} is not a time later today, like 12:30")]
    UntilInvalid(String),
    #[error("a drill practises this step without stopping real web booking")]
    InDrill,
    #[error(
        "this source stops web booking itself: use 'booking pause' (「Web予約を止める」), not a \
         stop by hand"
    )]
    HasApi,
    #[error("the booking card cannot be saved: {0}")]
    CardInvalid(String),
}

impl BookingError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode as C;
        match self {
            BookingError::NoApi => C::BookingNoApi,
            BookingError::AlreadyPaused => C::BookingAlreadyPaused,
            BookingError::NotPaused => C::BookingNotPaused,
            BookingError::UntilInvalid(_) => C::BookingUntilInvalid,
            BookingError::InDrill => C::BookingInDrill,
            BookingError::HasApi => C::BookingHasApi,
            BookingError::CardInvalid(_) => C::BookingCardInvalid,
        }
    }
}

/// The window a pause closes: from now to `until` (`HH:MM` on the clinic's clock, today),
/// or to the end of the clinic's day.
pub fn pause_window(
    cal: &ClinicCalendar,
    now: DateTime<Utc>,
    until: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), BookingError> {
    let today = cal.today(now);
    let end = match until.map(str::trim).filter(|s| !s.is_empty()) {
        None => cal.days(today, 1).end,
        Some(text) => {
            let time = NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| BookingError::UntilInvalid(text.to_owned()))?;
            let end = cal.at(today, time);
            if end <= now {
                return Err(BookingError::UntilInvalid(text.to_owned()));
            }
            end
        }
    };
    Ok((now, end))
}

/// A time as the desk reads it: `23:08` today, `24:00` for the end of today, `12/3 10:30`
/// on another day.
pub fn desk_time(cal: &ClinicCalendar, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let today = cal.today(now);
    if cal.today(t) == today {
        return cal.local(t).format("%H:%M").to_string();
    }
    if t == cal.days(today, 1).end {
        return "24:00".to_owned();
    }
    cal.day_and_time(t)
}

/// What became of one Slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// The pause's request left; its answer is not known yet (settled from the server's
    /// copy on the next attempt).
    Pausing,
    /// Closed by the pause, at `paused_version`.
    Paused,
    /// The server refused to close it (its words are kept).
    Refused,
    /// Free again.
    Resumed,
    /// Changed on the server since the pause (booked by phone, closed by someone): left as
    /// it is.
    Left,
}

impl SlotState {
    pub fn code(self) -> &'static str {
        match self {
            SlotState::Pausing => "pausing",
            SlotState::Paused => "paused",
            SlotState::Refused => "refused",
            SlotState::Resumed => "resumed",
            SlotState::Left => "left",
        }
    }

    pub fn parse(code: &str) -> Option<SlotState> {
        [
            SlotState::Pausing,
            SlotState::Paused,
            SlotState::Refused,
            SlotState::Resumed,
            SlotState::Left,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// One Slot a pause touched, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingSlot {
    pub slot_id: String,
    pub start: Option<DateTime<Utc>>,
    pub paused_version: Option<String>,
    pub state: SlotState,
    /// Refused or left: what the server said or holds instead (a status code, or its words).
    pub server_said: Option<String>,
}

/// How many Slots a pause closed: those still closed, and those a resume freed or left
/// (each was closed first).
pub fn closed_by_pause(slots: &[BookingSlot]) -> u32 {
    slots
        .iter()
        .filter(|s| {
            matches!(
                s.state,
                SlotState::Paused | SlotState::Resumed | SlotState::Left
            )
        })
        .count() as u32
}

/// How many Slots a resume freed again.
pub fn freed_by_resume(slots: &[BookingSlot]) -> u32 {
    slots
        .iter()
        .filter(|s| s.state == SlotState::Resumed)
        .count() as u32
}

/// Where web booking stands, as `booking status` and the window show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Open (never stopped from this desk, or reopened).
    Open,
    /// Stopped at the desk; the server has not been told yet (the line is down).
    PauseWaiting,
    /// The server refused the stop (a 4xx): web booking is open; the 同期 tab has its
    /// words, to send it again or give up.
    PauseRefused,
    /// Stopped, and the server closed the Slots.
    Paused,
    /// Stopped, and a person decided it stays so (no reminder to reopen it).
    KeptClosed,
    /// Reopened at the desk; the server has not been told yet.
    ResumeWaiting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BookingView {
    /// Whether this source can stop web booking from the desk (a FHIR server). Otherwise
    /// staff stop it on the booking service's own site and say so here (by hand).
    pub can_pause: bool,
    /// The owner's card for stopping and reopening web booking by hand (none written yet:
    /// `None`).
    pub card: Option<crate::config::BookingCard>,
    pub state: BookingState,
    /// The last pause (still in effect, or the one the last resume ended).
    pub pause: Option<PauseView>,
    /// The resume of that pause, once asked for.
    pub resume: Option<ResumeView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PauseView {
    pub id: String,
    /// Stopped by hand on the booking service's site (no Slots, no server to confirm).
    pub by_hand: bool,
    /// When a person stopped it, as the desk reads it ([`desk_time`]), and the instant (UTC).
    pub requested_label: String,
    pub requested_at: String,
    pub by: Option<String>,
    /// The end of the closed window, as the desk reads it (`24:00`: the end of today).
    pub until_label: String,
    pub op_state: OpState,
    /// When the server had closed every Slot, as the desk reads it.
    pub confirmed_label: Option<String>,
    pub paused: u32,
    /// Slots the server refused to close.
    pub refused: Vec<SlotView>,
    /// Why it still waits, or was refused (code and the server's words).
    pub error: Option<String>,
    /// A person decided it stays stopped: when (as the desk reads it) and who.
    pub kept_closed_label: Option<String>,
    pub kept_closed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ResumeView {
    pub requested_label: String,
    pub by: Option<String>,
    pub op_state: OpState,
    pub confirmed_label: Option<String>,
    pub resumed: u32,
    /// Slots changed on the server meanwhile, left as they are.
    pub left: Vec<SlotView>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SlotView {
    pub slot_id: String,
    /// As the desk reads it ([`desk_time`]).
    pub start_label: Option<String>,
    /// What the server holds now (`busy`, `deleted`) or said.
    pub server_said: Option<String>,
}

impl SlotView {
    pub fn of(slot: &BookingSlot, cal: &ClinicCalendar, now: DateTime<Utc>) -> SlotView {
        SlotView {
            slot_id: slot.slot_id.clone(),
            start_label: slot.start.map(|t| desk_time(cal, t, now)),
            server_said: slot.server_said.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn tokyo() -> ClinicCalendar {
        ClinicCalendar::parse("Asia/Tokyo").unwrap()
    }

    #[test]
    fn a_pause_runs_to_the_end_of_the_clinics_day_or_to_the_time_given() {
        // 08:10 in Tokyo.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 23, 10, 0).unwrap();
        let (from, until) = pause_window(&tokyo(), now, None).unwrap();
        assert_eq!(from, now);
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 12, 3, 15, 0, 0).unwrap());
        let (_, noon) = pause_window(&tokyo(), now, Some(" 12:30 ")).unwrap();
        assert_eq!(noon, Utc.with_ymd_and_hms(2026, 12, 3, 3, 30, 0).unwrap());
    }

    #[test]
    fn times_of_today_read_as_clock_times_and_the_days_end_as_24_00() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 23, 10, 0).unwrap(); // 12/3 08:10
        let cal = tokyo();
        assert_eq!(desk_time(&cal, now, now), "08:10");
        let (_, end) = pause_window(&cal, now, None).unwrap();
        assert_eq!(desk_time(&cal, end, now), "24:00");
        let yesterday = Utc.with_ymd_and_hms(2026, 12, 2, 1, 30, 0).unwrap();
        assert_eq!(desk_time(&cal, yesterday, now), "12/2 10:30");
    }

    #[test]
    fn an_end_already_past_or_unreadable_is_refused_with_what_was_typed() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 23, 10, 0).unwrap();
        for typed in ["08:00", "8時", "25:00"] {
            let e = pause_window(&tokyo(), now, Some(typed)).unwrap_err();
            assert_eq!(e, BookingError::UntilInvalid(typed.to_owned()));
            assert_eq!(e.code(), crate::ErrorCode::BookingUntilInvalid);
        }
    }
}
