//! Checklist ticks: appended, never edited.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::mirror::{parse_ts, ts};
use super::Store;
use crate::checklist::Tick;
use crate::error::Result;

impl Store {
    /// The open incident (or None) and the running drill (or 0): what a tick belongs to.
    pub fn checklist_scope(&self) -> Result<(Option<i64>, i64)> {
        self.with(|conn| {
            let incident = super::monitor::open_incident(conn)?;
            Ok((incident, super::calls::active_drill(conn)?))
        })
    }

    pub fn add_tick(
        &self,
        scope: (Option<i64>, i64),
        step: u32,
        text: &str,
        done: bool,
        staff: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO checklist_tick (incident_id, drill, step, step_text, done, staff, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![scope.0, scope.1, step, text, done, staff, ts(at)],
            )?;
            Ok(())
        })
    }

    /// The latest tick of each step in this scope.
    pub fn ticks(&self, scope: (Option<i64>, i64)) -> Result<Vec<Tick>> {
        self.with(|conn| {
            latest_ticks(
                conn,
                "{a}.incident_id IS ?1 AND {a}.drill = ?2",
                params![scope.0, scope.1],
            )
        })
    }
}

/// The latest tick of each step among the ticks `filter` selects (`{a}` stands for the
/// table's alias).
pub(super) fn latest_ticks(
    conn: &rusqlite::Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Tick>> {
    let (outer, inner) = (filter.replace("{a}", "t"), filter.replace("{a}", "u"));
    let mut stmt = conn.prepare(&format!(
        "SELECT step, done, staff, at FROM checklist_tick t
         WHERE {outer}
           AND id = (SELECT max(id) FROM checklist_tick u WHERE {inner} AND u.step = t.step)
         ORDER BY step"
    ))?;
    let rows = stmt
        .query_map(args, |r| {
            let at: String = r.get(3)?;
            Ok(Tick {
                step: r.get(0)?,
                done: r.get(1)?,
                staff: r.get(2)?,
                at: parse_ts(&at)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
