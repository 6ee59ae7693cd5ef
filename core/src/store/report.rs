//! What an incident or a drill report reads: its calls, receipts and checklist ticks.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::mirror::parse_ts;
use super::monitor::incident;
use super::{IncidentRow, Store};
use crate::calls::Attempt;
use crate::checklist::Tick;
use crate::error::Result;
use crate::receipts::ReceiptView;

/// Whose records a report gathers: a real outage's (drill records excluded) or a drill's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportScope {
    Incident(i64),
    Drill(i64),
}

impl ReportScope {
    /// The same filter on the other desks' calls (`peer_call`): an outage's, binding `?1`;
    /// none in a drill (a drill stays on its desk).
    fn peer_filter(self, alias: &str) -> String {
        match self {
            ReportScope::Incident(_) => format!("{alias}.incident_id = ?1"),
            ReportScope::Drill(_) => "0 AND ?1 IS NOT NULL".to_owned(),
        }
    }

    /// A filter on a table with `incident_id` and `drill` columns, binding `?1`.
    fn filter(self, alias: &str) -> (String, i64) {
        match self {
            ReportScope::Incident(id) => (
                format!("{alias}.incident_id = ?1 AND {alias}.drill = 0"),
                id,
            ),
            ReportScope::Drill(id) => (format!("{alias}.drill = ?1"), id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillRow {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub staff: Option<String>,
    pub ended_by: Option<crate::report::DrillEnd>,
}

/// A call attempt with what the mirror still knows of its appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAttempt {
    pub attempt: Attempt,
    pub patient_name: Option<String>,
    pub appointment_start: Option<DateTime<Utc>>,
    /// The desk that made it, when another desk did (its name).
    pub desk: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeCounts {
    pub calls: u32,
    /// Payments only.
    pub receipts: u32,
    pub voids: u32,
}

fn drill(r: &rusqlite::Row<'_>) -> rusqlite::Result<DrillRow> {
    let ended: Option<String> = r.get(2)?;
    Ok(DrillRow {
        id: r.get(0)?,
        started_at: parse_ts(&r.get::<_, String>(1)?)?,
        ended_at: ended.as_deref().map(parse_ts).transpose()?,
        staff: r.get(3)?,
        ended_by: r
            .get::<_, Option<String>>(4)?
            .map(|code| {
                crate::report::DrillEnd::parse(&code).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        4,
                        rusqlite::types::Type::Text,
                        format!("unknown drill end {code:?}").into(),
                    )
                })
            })
            .transpose()?,
    })
}

impl Store {
    /// The latest incidents, newest first.
    pub fn recent_incidents(&self, limit: u32) -> Result<Vec<IncidentRow>> {
        self.with(|conn| {
            let mut stmt =
                conn.prepare("SELECT * FROM incident ORDER BY started_at DESC LIMIT ?1")?;
            let rows = stmt
                .query_map([limit], incident)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub fn incident(&self, id: i64) -> Result<Option<IncidentRow>> {
        self.with(|conn| {
            Ok(conn
                .query_row("SELECT * FROM incident WHERE id = ?1", [id], incident)
                .optional()?)
        })
    }

    /// The latest drills, newest first.
    pub fn recent_drills(&self, limit: u32) -> Result<Vec<DrillRow>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, started_at, ended_at, staff, ended_by FROM drill ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt
                .query_map([limit], drill)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub fn drill(&self, id: i64) -> Result<Option<DrillRow>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT id, started_at, ended_at, staff, ended_by FROM drill WHERE id = ?1",
                    [id],
                    drill,
                )
                .optional()?)
        })
    }

    /// How many calls and receipts a report holds (an outage's: every desk's).
    pub fn scope_counts(&self, scope: ReportScope) -> Result<ScopeCounts> {
        self.with(|conn| {
            let (calls, id) = scope.filter("c");
            let (receipts, _) = scope.filter("r");
            Ok(conn.query_row(
                &format!(
                    "WITH {ledger}
                     SELECT (SELECT count(*) FROM call_attempt c
                             WHERE {calls} AND c.withdrawn_at IS NULL)
                            + (SELECT count(*) FROM peer_call c
                               WHERE {peer} AND c.withdrawn_at IS NULL),
                            (SELECT count(*) FROM ledger r
                             WHERE {receipts} AND r.kind = 'payment'),
                            (SELECT count(*) FROM ledger r WHERE {receipts} AND r.kind = 'void')",
                    ledger = super::receipts::LEDGER,
                    peer = scope.peer_filter("c"),
                ),
                [id],
                |r| {
                    Ok(ScopeCounts {
                        calls: r.get(0)?,
                        receipts: r.get(1)?,
                        voids: r.get(2)?,
                    })
                },
            )?)
        })
    }

    /// The calls of a report (an outage's: every desk's), oldest first, with the patient's
    /// name while the mirror has it.
    pub fn report_attempts(&self, scope: ReportScope) -> Result<Vec<ReportAttempt>> {
        self.with(|conn| {
            let (filter, id) = scope.filter("c");
            let peer_filter = scope.peer_filter("c");
            let mut stmt = conn.prepare(&format!(
                "SELECT c.id, c.appointment_id, c.outcome, c.new_start, c.retry_at, c.staff,
                        c.note, c.at, p.name, a.start_at
                 FROM call_attempt c
                 LEFT JOIN appointment a ON a.source_id = c.appointment_id
                 LEFT JOIN patient p ON p.source_id = a.patient_id
                 WHERE {filter} AND c.withdrawn_at IS NULL ORDER BY c.id"
            ))?;
            let rows = stmt
                .query_map([id], |r| {
                    let start: Option<String> = r.get(9)?;
                    Ok(ReportAttempt {
                        attempt: super::calls::attempt(r)?,
                        patient_name: r.get(8)?,
                        appointment_start: start.as_deref().map(parse_ts).transpose()?,
                        desk: None,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare(&format!(
                "SELECT c.appointment_id, c.outcome, c.new_start, c.staff, c.at, p.name,
                        a.start_at, coalesce(d.name, 'desk ' || substr(c.desk, 1, 6))
                 FROM peer_call c
                 LEFT JOIN appointment a ON a.source_id = c.appointment_id
                 LEFT JOIN patient p ON p.source_id = a.patient_id
                 LEFT JOIN peer d ON d.desk = c.desk
                 WHERE {peer_filter} AND c.withdrawn_at IS NULL ORDER BY c.hlc, c.desk"
            ))?;
            let theirs = stmt
                .query_map([id], |r| {
                    let outcome: String = r.get(1)?;
                    let new_start: Option<String> = r.get(2)?;
                    let start: Option<String> = r.get(6)?;
                    Ok(ReportAttempt {
                        attempt: Attempt {
                            id: 0,
                            appointment_id: r.get(0)?,
                            outcome: crate::calls::CallOutcome::parse(&outcome).ok_or_else(
                                || {
                                    rusqlite::Error::FromSqlConversionFailure(
                                        1,
                                        rusqlite::types::Type::Text,
                                        format!("unknown call outcome {outcome:?}").into(),
                                    )
                                },
                            )?,
                            new_start: new_start.as_deref().map(parse_ts).transpose()?,
                            retry_at: None,
                            staff: r.get(3)?,
                            note: None,
                            at: parse_ts(&r.get::<_, String>(4)?)?,
                        },
                        patient_name: r.get(5)?,
                        appointment_start: start.as_deref().map(parse_ts).transpose()?,
                        desk: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut all: Vec<ReportAttempt> = rows.into_iter().chain(theirs).collect();
            // One story in time (a stable sort keeps each desk's own order).
            all.sort_by_key(|a| a.attempt.at);
            Ok(all)
        })
    }

    /// The receipts and voids of a report, oldest first.
    pub fn report_receipts(&self, scope: ReportScope) -> Result<Vec<ReceiptView>> {
        let (filter, id) = scope.filter("r");
        self.ledger_rows(&filter, params![id])
    }

    /// The latest tick of each checklist step in a report.
    pub fn report_ticks(&self, scope: ReportScope) -> Result<Vec<Tick>> {
        let (filter, id) = scope.filter("{a}");
        self.with(|conn| super::checklist::latest_ticks(conn, &filter, params![id]))
    }
}
