//! A hybrid logical clock: wall-clock milliseconds with a counter below them, so that a
//! record is always later than every record its desk had seen when it was written, even
//! when that desk's clock is behind another's. One `u64`: `millis << 16 | counter`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hlc(pub u64);

const COUNTER_BITS: u32 = 16;

impl Hlc {
    /// The clock's value for a wall-clock time, counter 0 (times before 1970 read as 0).
    pub fn at(t: DateTime<Utc>) -> Hlc {
        Hlc(u64::try_from(t.timestamp_millis()).unwrap_or(0) << COUNTER_BITS)
    }

    /// The value of a record written at `now` after `last`, the latest value this desk has
    /// seen (its own records' and every received one's): the wall clock when it is ahead,
    /// else one tick after `last`.
    pub fn next(last: Hlc, now: DateTime<Utc>) -> Hlc {
        Hlc::at(now).max(Hlc(last.0 + 1))
    }

    /// Its wall-clock part.
    pub fn wall(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis((self.0 >> COUNTER_BITS) as i64).unwrap_or_default()
    }

    /// As SQLite stores it (an INTEGER is signed; the top bit is never set before the year
    /// 10 000).
    pub(crate) fn to_sql(self) -> i64 {
        self.0 as i64
    }

    pub(crate) fn from_sql(v: i64) -> Hlc {
        Hlc(v as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_desk_behind_the_others_still_writes_after_what_it_saw() {
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 0, 15, 0).unwrap();
        let seen = Hlc::at(t + chrono::Duration::seconds(90));
        let mine = Hlc::next(seen, t);
        assert!(mine > seen);
        assert_eq!(mine.wall(), seen.wall(), "the counter moved, not the time");
        // Once its clock passes what it saw, the wall clock leads again.
        let later = t + chrono::Duration::seconds(120);
        assert_eq!(Hlc::next(mine, later), Hlc::at(later));
        assert_eq!(Hlc::at(later).wall(), later);
    }
}
