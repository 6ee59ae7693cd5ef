//! The clinic's calendar: its time zone decides what "today" means. Storage is UTC; the
//! conversion to and from the clinic's wall clock happens here and only here.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{CoreError, Result};

/// Half-open UTC interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl UtcRange {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClinicCalendar {
    tz: Tz,
}

impl ClinicCalendar {
    pub fn new(tz: Tz) -> Self {
        ClinicCalendar { tz }
    }

    pub fn parse(name: &str) -> Result<Self> {
        name.parse::<Tz>()
            .map(Self::new)
            .map_err(|_| CoreError::InvalidInput(format!("unknown time zone {name:?}")))
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz).date_naive()
    }

    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    /// A time on another day as every screen writes it, `12/1 10:30` (as a receptionist
    /// writes a date; the year only where a record is kept, as in a report).
    pub fn day_and_time(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%-m/%-d %H:%M").to_string()
    }

    /// The UTC instant of a wall-clock time at the clinic. In a DST gap the wall time does
    /// not exist; we take the instant just after the gap, which is what a person means.
    pub fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let naive = NaiveDateTime::new(date, time);
        match self.tz.from_local_datetime(&naive).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => {
                let later = naive + chrono::Duration::hours(1);
                self.tz
                    .from_local_datetime(&later)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
            }
        }
    }

    /// The clinic's days `[first, first + days)` as a UTC interval.
    pub fn days(&self, first: NaiveDate, days: u32) -> UtcRange {
        let last = first
            .checked_add_days(Days::new(u64::from(days.max(1))))
            .unwrap_or(NaiveDate::MAX);
        UtcRange {
            start: self.at(first, NaiveTime::MIN),
            end: self.at(last, NaiveTime::MIN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: one way to write another day's time on every screen, as at a desk.
    #[test]
    fn another_days_time_reads_12_1_10_30() {
        let cal = ClinicCalendar::parse("Asia/Tokyo").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 1, 30, 0).unwrap();
        assert_eq!(cal.day_and_time(t), "12/1 10:30");
    }

    #[test]
    fn tokyo_today_starts_at_15_utc_the_day_before() {
        let cal = ClinicCalendar::parse("Asia/Tokyo").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let r = cal.days(day, 1);
        assert_eq!(r.start.to_rfc3339(), "2026-11-24T15:00:00+00:00");
        assert_eq!(r.end.to_rfc3339(), "2026-11-25T15:00:00+00:00");
        // 23:30 UTC on the 24th is already the 25th in Tokyo.
        let late = Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap();
        assert_eq!(cal.today(late), day);
    }

    #[test]
    fn a_wall_time_inside_a_dst_gap_moves_past_the_gap() {
        let cal = ClinicCalendar::parse("America/New_York").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let t = cal.at(day, NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(cal.local(t).format("%H:%M").to_string(), "03:30");
    }

    #[test]
    fn an_unknown_zone_is_an_input_error() {
        assert_eq!(
            ClinicCalendar::parse("Mars/Olympus").unwrap_err().code(),
            "input.invalid"
        );
    }
}
