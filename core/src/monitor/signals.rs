//! Signals: what happened to the line (and to Tsunagi) while nobody was looking, told in
//! one line each: 「昨夜 2:14–2:16 に回線断が2回」. Outages close together are one line;
//! very short ones are flaps (瞬断); a run that never stopped cleanly is a power cut or a
//! crash.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::calendar::ClinicCalendar;
use crate::config::Language;
use crate::store::{IncidentRow, RunRow};

/// Outages this close together are told as one line.
const CLUSTER_GAP_MINUTES: i64 = 30;
/// Shorter than this, an outage is a flap.
const FLAP_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Outages,
    Flaps,
    UncleanStop,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Signal {
    pub kind: SignalKind,
    pub count: u32,
    /// RFC 3339, UTC.
    pub from: String,
    pub to: Option<String>,
    /// The line as the desk reads it, in the desk's language.
    pub text: String,
}

/// Summarise incidents and unclean runs (each list oldest first) for `now`.
pub fn summarise(
    incidents: &[IncidentRow],
    runs: &[RunRow],
    now: DateTime<Utc>,
    calendar: &ClinicCalendar,
    language: Language,
) -> Vec<Signal> {
    let mut out: Vec<(DateTime<Utc>, Signal)> = Vec::new();
    let mut cluster: Vec<&IncidentRow> = Vec::new();
    let flush = |cluster: &mut Vec<&IncidentRow>, out: &mut Vec<(DateTime<Utc>, Signal)>| {
        let (Some(first), Some(last)) = (cluster.first(), cluster.last()) else {
            return;
        };
        let flaps = cluster.iter().all(|i| {
            i.ended_at
                .is_some_and(|e| e - i.started_at < Duration::seconds(FLAP_SECONDS))
        });
        let kind = if flaps {
            SignalKind::Flaps
        } else {
            SignalKind::Outages
        };
        let count = cluster.len() as u32;
        let text = describe(
            kind,
            count,
            first.started_at,
            last.ended_at,
            now,
            calendar,
            language,
        );
        out.push((
            first.started_at,
            Signal {
                kind,
                count,
                from: crate::monitor::millis_ts(first.started_at),
                to: last.ended_at.map(crate::monitor::millis_ts),
                text,
            },
        ));
        cluster.clear();
    };
    for incident in incidents {
        let joins = cluster.last().is_some_and(|prev| {
            prev.ended_at.is_some_and(|end| {
                incident.started_at - end <= Duration::minutes(CLUSTER_GAP_MINUTES)
            })
        });
        if !joins {
            flush(&mut cluster, &mut out);
        }
        cluster.push(incident);
    }
    flush(&mut cluster, &mut out);
    for run in runs {
        let text = describe(
            SignalKind::UncleanStop,
            1,
            run.alive_at,
            run.next_start,
            now,
            calendar,
            language,
        );
        out.push((
            run.alive_at,
            Signal {
                kind: SignalKind::UncleanStop,
                count: 1,
                from: crate::monitor::millis_ts(run.alive_at),
                to: run.next_start.map(crate::monitor::millis_ts),
                text,
            },
        ));
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, s)| s).collect()
}

/// The next time the morning summary is due: `at` on the clinic's clock, today if that is
/// still ahead, else tomorrow.
pub fn next_morning(
    now: DateTime<Utc>,
    calendar: &ClinicCalendar,
    at: chrono::NaiveTime,
) -> DateTime<Utc> {
    let today = calendar.today(now);
    let due = calendar.at(today, at);
    if due > now {
        due
    } else {
        calendar.at(today.succ_opt().unwrap_or(today), at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    LastNight,
    ThisMorning,
    Today,
    Yesterday,
    On(NaiveDate),
}

fn when(at: DateTime<Utc>, now: DateTime<Utc>, calendar: &ClinicCalendar) -> When {
    let local = at.with_timezone(&calendar.tz());
    let today = now.with_timezone(&calendar.tz()).date_naive();
    let hour = local.hour();
    let day = local.date_naive();
    if day == today {
        match hour {
            0..=5 => When::LastNight,
            6..=11 => When::ThisMorning,
            _ => When::Today,
        }
    } else if today.pred_opt() == Some(day) {
        if hour >= 18 {
            When::LastNight
        } else {
            When::Yesterday
        }
    } else {
        When::On(day)
    }
}

fn describe(
    kind: SignalKind,
    count: u32,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    calendar: &ClinicCalendar,
    language: Language,
) -> String {
    let clock = |t: DateTime<Utc>| {
        let l = t.with_timezone(&calendar.tz());
        format!("{}:{:02}", l.hour(), l.minute())
    };
    let start = clock(from);
    let range = match to {
        Some(end) if clock(end) != start => format!("{start}–{}", clock(end)),
        _ => start.clone(),
    };
    let when = when(from, now, calendar);
    match language {
        Language::Ja => {
            let day = match when {
                When::LastNight => "昨夜".to_owned(),
                When::ThisMorning => "今朝".to_owned(),
                When::Today => "本日".to_owned(),
                When::Yesterday => "昨日".to_owned(),
                When::On(d) => d.format("%-m/%-d").to_string(),
            };
            match kind {
                SignalKind::Outages => format!("{day} {range} に回線断が{count}回"),
                SignalKind::Flaps => format!("{day} {range} に瞬断が{count}回"),
                SignalKind::UncleanStop => format!(
                    "{day} {start} ごろ、つなぎが正常に終了しませんでした（停電・再起動・故障の可能性）"
                ),
            }
        }
        Language::En => {
            let day = match when {
                When::LastNight => "Last night".to_owned(),
                When::ThisMorning => "This morning".to_owned(),
                When::Today => "Today".to_owned(),
                When::Yesterday => "Yesterday".to_owned(),
                When::On(d) => format!("On {}", d.format("%-m/%-d")),
            };
            let times = |n: u32| {
                if n == 1 {
                    "once".to_owned()
                } else {
                    format!("{n} times")
                }
            };
            match kind {
                SignalKind::Outages => {
                    format!("{day} {range}: the line went down {}", times(count))
                }
                SignalKind::Flaps => {
                    format!("{day} {range}: the line dropped briefly {}", times(count))
                }
                SignalKind::UncleanStop => format!(
                    "{day} around {start}: Tsunagi did not stop cleanly (power cut, restart or crash)"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{Cause, NetState};
    use chrono::TimeZone;

    fn jst(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(2026, 11, d, h, m, s)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn outage(id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> IncidentRow {
        IncidentRow {
            id,
            started_at: from,
            declared_at: from,
            ended_at: Some(to),
            cause: Some(Cause::Internet),
            worst_state: NetState::Offline,
            ended_by_shutdown: false,
        }
    }

    #[test]
    fn two_outages_in_the_night_are_one_line_in_the_morning() {
        let cal = ClinicCalendar::new(chrono_tz::Asia::Tokyo);
        let incidents = [
            outage(1, jst(25, 2, 14, 3), jst(25, 2, 15, 10)),
            outage(2, jst(25, 2, 15, 40), jst(25, 2, 16, 20)),
            outage(3, jst(25, 23, 0, 0), jst(25, 23, 0, 20)),
        ];
        let now = jst(26, 7, 30, 0);
        let s = summarise(&incidents[..2], &[], now, &cal, Language::Ja);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].text, "昨日 2:14–2:16 に回線断が2回");
        let s = summarise(&incidents[..2], &[], jst(25, 7, 30, 0), &cal, Language::Ja);
        assert_eq!(s[0].text, "昨夜 2:14–2:16 に回線断が2回");
        let s = summarise(&incidents, &[], now, &cal, Language::En);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].text, "Yesterday 2:14–2:16: the line went down 2 times");
        assert_eq!(s[1].kind, SignalKind::Flaps);
        assert_eq!(s[1].text, "Last night 23:00: the line dropped briefly once");
    }

    #[test]
    fn the_morning_summary_is_due_at_the_next_half_past_seven_clinic_time() {
        let cal = ClinicCalendar::new(chrono_tz::Asia::Tokyo);
        let at = chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap();
        assert_eq!(next_morning(jst(25, 6, 0, 0), &cal, at), jst(25, 7, 30, 0));
        assert_eq!(next_morning(jst(25, 7, 30, 0), &cal, at), jst(26, 7, 30, 0));
        assert_eq!(next_morning(jst(25, 23, 0, 0), &cal, at), jst(26, 7, 30, 0));
    }

    #[test]
    fn an_unclean_stop_is_told_with_its_last_sign_of_life() {
        let cal = ClinicCalendar::new(chrono_tz::Asia::Tokyo);
        let run = RunRow {
            id: 4,
            started_at: jst(24, 8, 0, 0),
            alive_at: jst(24, 21, 5, 0),
            next_start: Some(jst(25, 7, 55, 0)),
        };
        let s = summarise(&[], &[run], jst(25, 8, 0, 0), &cal, Language::Ja);
        assert_eq!(s[0].kind, SignalKind::UncleanStop);
        assert!(s[0].text.starts_with("昨夜 21:05 ごろ"), "{}", s[0].text);
    }
}
