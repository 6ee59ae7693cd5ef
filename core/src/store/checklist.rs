//! Checklist ticks: appended, never edited.

use chrono::{DateTime, Utc};
use rusqlite::{params, TransactionBehavior};

use super::mirror::{parse_ts, ts};
use super::Store;
use crate::audit::AuditEntry;
use crate::checklist::Tick;
use crate::error::Result;
use crate::peers::{RecordBody, TickRecord};

/// What a tick belongs to: the running drill (its practice, never the real outage's), or
/// else the open incident (or none).
fn scope(conn: &rusqlite::Connection, at: DateTime<Utc>) -> rusqlite::Result<(Option<i64>, i64)> {
    let drill = super::drill::running(conn, at)?;
    if drill != 0 {
        return Ok((None, drill));
    }
    Ok((super::monitor::open_incident(conn)?, 0))
}

impl Store {
    /// The open incident (or None) and the running drill (or 0): what a tick belongs to.
    pub fn checklist_scope(&self, at: DateTime<Utc>) -> Result<(Option<i64>, i64)> {
        self.with(|conn| Ok(scope(conn, at)?))
    }

    /// Append a tick to what is going on now, with its audit row.
    pub fn add_tick(
        &self,
        step: u32,
        text: &str,
        done: bool,
        staff: Option<&str>,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.recording(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let scope = scope(&tx, at)?;
            // The other desks see a real tick (a drill's stays on this desk).
            let (desk, hlc) = if scope.1 == 0 {
                let tick = RecordBody::Tick(TickRecord {
                    step,
                    text: text.to_owned(),
                    done,
                    staff: staff.map(str::to_owned),
                    at,
                });
                let (desk, hlc) = super::records::append_in(&tx, at, &tick)?;
                (desk, Some(hlc.to_sql()))
            } else {
                (super::records::self_desk(&tx)?, None)
            };
            tx.execute(
                "INSERT INTO checklist_tick
                     (incident_id, drill, step, step_text, done, staff, at, desk, hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![scope.0, scope.1, step, text, done, staff, ts(at), desk, hlc],
            )?;
            super::audit::append_in(&tx, audit)?;
            tx.commit()?;
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

/// The latest tick of each step among the ticks `filter` selects. Latest is by the desks'
/// shared clock, then the desk: every desk picks the same tick whatever order the ticks
/// reached it in. Ticks from before the shared log (no clock) are older than any with one,
/// and among themselves in the order written (`{a}` stands for the
/// table's alias). A step is its text as ticked: the owner may reorder or edit the list
/// later, and a record must keep saying what was done.
pub(super) fn latest_ticks(
    conn: &rusqlite::Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Tick>> {
    let (outer, inner) = (filter.replace("{a}", "t"), filter.replace("{a}", "u"));
    let mut stmt = conn.prepare(&format!(
        "SELECT step, done, staff, at, step_text FROM checklist_tick t
         WHERE {outer}
           AND id = (SELECT id FROM checklist_tick u
                     WHERE {inner} AND u.step_text = t.step_text
                     ORDER BY coalesce(u.hlc, 0) DESC, coalesce(u.desk, '') DESC, u.id DESC
                     LIMIT 1)
         ORDER BY step"
    ))?;
    let rows = stmt
        .query_map(args, |r| {
            let at: String = r.get(3)?;
            Ok(Tick {
                step: r.get(0)?,
                text: r.get(4)?,
                done: r.get(1)?,
                staff: r.get(2)?,
                at: parse_ts(&at)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
