//! Web booking stopped and reopened from the desk: the pause and the resume are ops in the
//! outbox (queued with their audit row, all or nothing), and `booking_slot` keeps what
//! became of each Slot the pause closed (written before each request leaves).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::audit::append_in;
use super::mirror::{parse_ts, ts};
use super::outbox::{queue, OpInsert};
use super::Store;
use crate::audit::AuditEntry;
use crate::booking::{BookingError, BookingSlot, SlotState};
use crate::error::{CoreError, Result};
use crate::outbox::change::{BookingPauseOp, BookingResumeOp, Change, ChangeError};
use crate::outbox::{OpState, Resolution};

/// A pause or resume op as the status reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingOp {
    pub key: String,
    pub change: Change,
    pub state: OpState,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    pub last_code: Option<String>,
    pub last_error: Option<String>,
}

/// The last pause and its resume, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingOps {
    pub pause: Option<BookingOp>,
    pub resume: Option<BookingOp>,
}

/// A pause in effect at the time in parameter ?1: not settled away by a person, not
/// followed by a resume, and not past its end (its Slots are all in the past then).
const IN_EFFECT: &str = "o.kind = 'booking_pause' AND coalesce(o.resolution, '') != 'discarded'
    AND json_extract(o.payload, '$.until') > ?1
    AND NOT EXISTS (SELECT 1 FROM outbox r WHERE r.kind = 'booking_resume'
                    AND r.chain = o.chain AND coalesce(r.resolution, '') != 'discarded')";

/// The pause in effect at `now` (its id), if any.
fn pause_in_effect(
    conn: &rusqlite::Connection,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        &format!("SELECT o.op_key FROM outbox o WHERE {IN_EFFECT} ORDER BY o.id DESC LIMIT 1"),
        [ts(now)],
        |r| r.get(0),
    )
    .optional()
}

fn booking_op(r: &rusqlite::Row<'_>) -> rusqlite::Result<BookingOp> {
    let unreadable = |i: usize, e: ChangeError| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let kind: String = r.get(1)?;
    let payload: String = r.get(2)?;
    let state: String = r.get(3)?;
    let resolution: Option<String> = r.get(6)?;
    let done_at: Option<String> = r.get(5)?;
    Ok(BookingOp {
        key: r.get(0)?,
        change: Change::from_stored(&kind, &payload).map_err(|e| unreadable(1, e))?,
        state: OpState::parse(&state)
            .ok_or_else(|| unreadable(3, ChangeError::UnknownState(state.clone())))?,
        created_at: parse_ts(&r.get::<_, String>(4)?)?,
        done_at: done_at.as_deref().map(parse_ts).transpose()?,
        resolution: resolution
            .map(|s| Resolution::parse(&s).ok_or(ChangeError::UnknownResolution(s)))
            .transpose()
            .map_err(|e| unreadable(6, e))?,
        last_code: r.get(7)?,
        last_error: r.get(8)?,
    })
}

const OP_COLUMNS: &str =
    "o.op_key, o.kind, o.payload, o.state, o.created_at, o.done_at, o.resolution, o.last_code,
     o.last_error";

fn slot_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BookingSlot> {
    let state: String = r.get(3)?;
    let start: Option<String> = r.get(1)?;
    Ok(BookingSlot {
        slot_id: r.get(0)?,
        start: start.as_deref().map(parse_ts).transpose()?,
        paused_version: r.get(2)?,
        state: SlotState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                format!("unknown slot state {state:?}").into(),
            )
        })?,
        server_said: r.get(4)?,
    })
}

/// A pause or a resume to queue.
pub struct BookingInsert {
    pub key: String,
    pub change: Change,
    pub upstream: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Queue a pause (refused while one is in effect) or the resume of the pause in effect
    /// (refused when there is none), with its audit row, all or nothing.
    pub fn queue_booking(&self, insert: BookingInsert, audit: &AuditEntry) -> Result<()> {
        self.queueing(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let in_effect = pause_in_effect(&tx, insert.at)?;
            match (&insert.change, &in_effect) {
                (Change::BookingPause(_), Some(_)) => {
                    return Err(BookingError::AlreadyPaused.into())
                }
                (Change::BookingResume(_), None) => return Err(BookingError::NotPaused.into()),
                (Change::BookingResume(r), Some(pause)) if &r.pause_id != pause => {
                    return Err(BookingError::NotPaused.into())
                }
                (Change::BookingPause(_) | Change::BookingResume(_), _) => {}
                _ => {
                    return Err(CoreError::InvalidInput(
                        "only a booking pause or resume is queued here".to_owned(),
                    ))
                }
            }
            let incident = super::monitor::open_incident(&tx)?;
            queue(
                &tx,
                OpInsert {
                    key: &insert.key,
                    change: insert.change,
                    upstream: &insert.upstream,
                    base_version: None,
                    base_state: None,
                    at: insert.at,
                    incident,
                    taken_from: None,
                },
            )?;
            append_in(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The pause in effect at `now`, if any (its id).
    pub fn booking_pause_in_effect(&self, now: DateTime<Utc>) -> Result<Option<String>> {
        self.with(|conn| Ok(pause_in_effect(conn, now)?))
    }

    /// The last pause (not discarded by a person) and its resume.
    pub fn booking_ops(&self) -> Result<BookingOps> {
        self.with(|conn| {
            let pause = conn
                .query_row(
                    &format!(
                        "SELECT {OP_COLUMNS} FROM outbox o
                         WHERE o.kind = 'booking_pause'
                           AND coalesce(o.resolution, '') != 'discarded'
                         ORDER BY o.id DESC LIMIT 1"
                    ),
                    [],
                    booking_op,
                )
                .optional()?;
            let resume = match &pause {
                Some(p) => conn
                    .query_row(
                        &format!(
                            "SELECT {OP_COLUMNS} FROM outbox o
                             WHERE o.kind = 'booking_resume' AND o.target_id = ?1
                               AND coalesce(o.resolution, '') != 'discarded'
                             ORDER BY o.id DESC LIMIT 1"
                        ),
                        [&p.key],
                        booking_op,
                    )
                    .optional()?,
                None => None,
            };
            Ok(BookingOps { pause, resume })
        })
    }

    /// The pauses made during outage `incident` and their resumes (also made after it),
    /// oldest first, each with its Slots.
    pub fn booking_of_incident(&self, incident: i64) -> Result<Vec<(BookingOp, Vec<BookingSlot>)>> {
        let ops = self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {OP_COLUMNS} FROM outbox o
                 WHERE o.kind IN ('booking_pause', 'booking_resume')
                   AND o.chain IN (SELECT chain FROM outbox
                                   WHERE kind = 'booking_pause' AND incident_id = ?1)
                 ORDER BY o.id"
            ))?;
            let ops = stmt
                .query_map([incident], booking_op)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ops)
        })?;
        ops.into_iter()
            .map(|op| {
                let pause_id = op.change.target_id().to_owned();
                Ok((op, self.booking_slots(&pause_id)?))
            })
            .collect()
    }

    /// A person decided web booking stays stopped: the reminder to reopen it ends. Only
    /// for the pause in effect at `at`; audited.
    pub fn booking_keep_closed(
        &self,
        at: DateTime<Utc>,
        staff: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<String> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let pause = pause_in_effect(&tx, at)?;
            let Some(pause) = pause else {
                return Err(BookingError::NotPaused.into());
            };
            tx.execute(
                "INSERT INTO booking_kept_closed (pause_id, at, staff) VALUES (?1, ?2, ?3)
                 ON CONFLICT (pause_id) DO NOTHING",
                params![pause, ts(at), staff],
            )?;
            append_in(&tx, audit)?;
            tx.commit()?;
            Ok(pause)
        })
    }

    /// Whether (and by whom) a person decided this pause stays: `(at, staff)`.
    pub fn booking_kept_closed(
        &self,
        pause_id: &str,
    ) -> Result<Option<(DateTime<Utc>, Option<String>)>> {
        self.with(|conn| {
            let row: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT at, staff FROM booking_kept_closed WHERE pause_id = ?1",
                    [pause_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(row
                .map(|(at, staff)| Ok::<_, rusqlite::Error>((parse_ts(&at)?, staff)))
                .transpose()?)
        })
    }

    /// The Slots a pause touched, by start.
    pub fn booking_slots(&self, pause_id: &str) -> Result<Vec<BookingSlot>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT slot_id, start, paused_version, state, server_said FROM booking_slot
                 WHERE pause_id = ?1 ORDER BY start, slot_id",
            )?;
            let rows = stmt
                .query_map([pause_id], slot_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Write down what became of one Slot (committed before the next request leaves).
    pub fn booking_slot_set(
        &self,
        pause_id: &str,
        slot: &BookingSlot,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO booking_slot (pause_id, slot_id, start, paused_version, state,
                     server_said, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (pause_id, slot_id) DO UPDATE SET start = excluded.start,
                     paused_version = excluded.paused_version, state = excluded.state,
                     server_said = excluded.server_said, updated_at = excluded.updated_at",
                params![
                    pause_id,
                    slot.slot_id,
                    slot.start.map(ts),
                    slot.paused_version,
                    slot.state.code(),
                    slot.server_said,
                    ts(at)
                ],
            )?;
            Ok(())
        })
    }

    /// A Slot the pause turned out not to close (its request never landed, or the Slot was
    /// booked meanwhile).
    pub fn booking_slot_forget(&self, pause_id: &str, slot_id: &str) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "DELETE FROM booking_slot WHERE pause_id = ?1 AND slot_id = ?2",
                params![pause_id, slot_id],
            )?;
            Ok(())
        })
    }
}

impl BookingOp {
    pub fn pause(&self) -> Option<&BookingPauseOp> {
        match &self.change {
            Change::BookingPause(p) => Some(p),
            _ => None,
        }
    }

    /// Who pressed it.
    pub fn staff(&self) -> Option<&str> {
        match &self.change {
            Change::BookingPause(p) => p.staff.as_deref(),
            Change::BookingResume(r) => r.staff.as_deref(),
            _ => None,
        }
    }

    pub fn resume(&self) -> Option<&BookingResumeOp> {
        match &self.change {
            Change::BookingResume(r) => Some(r),
            _ => None,
        }
    }
}

/// Web booking stopped by hand on the booking service's own site (a source with no API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandStop {
    pub id: i64,
    pub incident_id: Option<i64>,
    pub stopped_at: DateTime<Utc>,
    pub stopped_by: Option<String>,
    pub reopened_at: Option<DateTime<Utc>>,
    pub reopened_by: Option<String>,
    pub kept_closed_at: Option<DateTime<Utc>>,
    pub kept_closed_by: Option<String>,
}

const HAND_COLUMNS: &str = "id, incident_id, stopped_at, stopped_by, reopened_at, reopened_by,
    kept_closed_at, kept_closed_by";

fn hand_stop(r: &rusqlite::Row<'_>) -> rusqlite::Result<HandStop> {
    let at = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        r.get::<_, Option<String>>(i)?
            .as_deref()
            .map(parse_ts)
            .transpose()
    };
    Ok(HandStop {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        stopped_at: parse_ts(&r.get::<_, String>(2)?)?,
        stopped_by: r.get(3)?,
        reopened_at: at(4)?,
        reopened_by: r.get(5)?,
        kept_closed_at: at(6)?,
        kept_closed_by: r.get(7)?,
    })
}

/// The stop by hand still in effect (not reopened), if any.
fn hand_stop_in_effect(conn: &rusqlite::Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM booking_by_hand WHERE reopened_at IS NULL ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .optional()
}

impl Store {
    /// A person stopped web booking on the booking service's site: recorded with the open
    /// outage and the audit row, all or nothing. Refused while a stop is in effect.
    pub fn booking_stop_by_hand(
        &self,
        at: DateTime<Utc>,
        staff: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if hand_stop_in_effect(&tx)?.is_some() {
                return Err(BookingError::AlreadyPaused.into());
            }
            let incident = super::monitor::open_incident(&tx)?;
            tx.execute(
                "INSERT INTO booking_by_hand (incident_id, stopped_at, stopped_by)
                 VALUES (?1, ?2, ?3)",
                params![incident, ts(at), staff],
            )?;
            append_in(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// A person reopened web booking on the booking service's site (after a stop by hand,
    /// kept closed or not). Refused when none is in effect.
    pub fn booking_reopen_by_hand(
        &self,
        at: DateTime<Utc>,
        staff: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.settle_hand_stop(
            "UPDATE booking_by_hand SET reopened_at = ?2, reopened_by = ?3 WHERE id = ?1",
            at,
            staff,
            audit,
        )
    }

    /// After the line returned, web booking stopped by hand stays stopped: the reminder
    /// to reopen it ends (the first decision stands).
    pub fn booking_keep_closed_by_hand(
        &self,
        at: DateTime<Utc>,
        staff: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.settle_hand_stop(
            "UPDATE booking_by_hand SET kept_closed_at = ?2, kept_closed_by = ?3
             WHERE id = ?1 AND kept_closed_at IS NULL",
            at,
            staff,
            audit,
        )
    }

    /// `update` (?1 the stop, ?2 when, ?3 who) on the stop by hand in effect, with its
    /// audit row; refused when none is.
    fn settle_hand_stop(
        &self,
        update: &str,
        at: DateTime<Utc>,
        staff: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<()> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(id) = hand_stop_in_effect(&tx)? else {
                return Err(BookingError::NotPaused.into());
            };
            tx.execute(update, params![id, ts(at), staff])?;
            append_in(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The latest stop by hand (in effect, or the last one reopened).
    pub fn booking_by_hand_last(&self) -> Result<Option<HandStop>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {HAND_COLUMNS} FROM booking_by_hand ORDER BY id DESC LIMIT 1"),
                    [],
                    hand_stop,
                )
                .optional()?)
        })
    }

    /// The stops by hand made during an outage, for its report.
    pub fn booking_by_hand_of_incident(&self, incident: i64) -> Result<Vec<HandStop>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {HAND_COLUMNS} FROM booking_by_hand WHERE incident_id = ?1 ORDER BY id"
            ))?;
            let rows = stmt
                .query_map([incident], hand_stop)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}
