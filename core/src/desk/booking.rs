//! Stopping and reopening web booking at the desk (issue 17): a person's pause or resume is
//! queued for the clinic's FHIR server like every change, audited, and shown with what the
//! server did to each Slot.

use super::{blocking, Actor, Desk};
use crate::audit::{AuditAction, AuditEntry};
use crate::booking::{
    closed_by_pause, desk_time, freed_by_resume, pause_window, BookingError, BookingState,
    BookingView, PauseView, ResumeView, SlotState, SlotView,
};
use crate::config::BookingCard;
use crate::error::Result;
use crate::model::SourceKind;
use crate::outbox::change::{BookingPauseOp, BookingResumeOp, Change};
use crate::outbox::OpState;
use crate::store::{BookingInsert, BookingOp};

impl Desk {
    /// Stop web booking from now until `until` (`HH:MM` today on the clinic's clock; the
    /// end of the day when absent). Queued first in line for the clinic's system; it goes
    /// out on any path to it (the primary line back, a backup line, a tethered phone).
    pub async fn pause_booking(
        &self,
        until: Option<&str>,
        staff: Option<&str>,
    ) -> Result<BookingView> {
        let config = self.fresh_config().await;
        if config.source.kind != SourceKind::Fhir {
            return Err(BookingError::NoApi.into());
        }
        if self.active_drill().await? != 0 {
            return Err(BookingError::InDrill.into());
        }
        let now = self.clock.now();
        let (from, until_at) = pause_window(&config.calendar(), now, until)?;
        let staff = self.staff_for(staff)?;
        let staff_name = staff.clone();
        let key = self.op_key();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::BookingPause,
            vec![format!("booking:{key}")],
            serde_json::json!({ "until": crate::store::ts(until_at) }),
        );
        let insert = BookingInsert {
            key: key.clone(),
            change: Change::BookingPause(BookingPauseOp {
                pause_id: key,
                from,
                until: until_at,
                staff,
            }),
            upstream: config.upstream_key()?,
            at: now,
        };
        let view = self.queue_booking(insert, audit).await?;
        self.tick_booking_step(staff_name.as_deref()).await?;
        Ok(view)
    }

    /// Reopen web booking: the Slots the pause in effect closed are freed again (each only
    /// if the server still holds what the pause wrote).
    pub async fn resume_booking(&self, staff: Option<&str>) -> Result<BookingView> {
        let config = self.fresh_config().await;
        let store = self.store.clone();
        let now = self.clock.now();
        let Some(pause_id) = blocking(move || store.booking_pause_in_effect(now)).await? else {
            return Err(BookingError::NotPaused.into());
        };
        let staff = self.staff_for(staff)?;
        let key = self.op_key();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::BookingResume,
            vec![format!("booking:{pause_id}")],
            serde_json::json!({}),
        );
        let insert = BookingInsert {
            key,
            change: Change::BookingResume(BookingResumeOp { pause_id, staff }),
            upstream: config.upstream_key()?,
            at: now,
        };
        self.queue_booking(insert, audit).await
    }

    /// Queue a pause or resume with its audit row; the sender is woken by the store.
    async fn queue_booking(&self, insert: BookingInsert, audit: AuditEntry) -> Result<BookingView> {
        let store = self.store.clone();
        blocking(move || store.queue_booking(insert, &audit)).await?;
        self.announce_outbox().await;
        self.booking_view().await
    }

    /// After the line returned: web booking stays stopped (the clinic stays closed today,
    /// say), so the desk is no longer reminded to reopen it. Audited.
    pub async fn keep_booking_closed(&self, staff: Option<&str>) -> Result<BookingView> {
        let staff = self.staff_for(staff)?;
        let now = self.clock.now();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::BookingKeepClosed,
            vec!["booking".to_owned()],
            serde_json::json!({}),
        );
        let store = self.store.clone();
        if self.fresh_config().await.source.kind == SourceKind::Fhir {
            blocking(move || store.booking_keep_closed(now, staff.as_deref(), &audit)).await?;
        } else {
            blocking(move || store.booking_keep_closed_by_hand(now, staff.as_deref(), &audit))
                .await?;
        }
        self.booking_view().await
    }

    /// Staff stopped web booking on the booking service's own site (the source has no way
    /// to do it from here): recorded, so the desk is reminded to reopen it once the line
    /// is back, and the outage's report says when and who. Ticks the checklist's web
    /// booking step.
    pub async fn booking_stopped_by_hand(&self, staff: Option<&str>) -> Result<BookingView> {
        if self.fresh_config().await.source.kind == SourceKind::Fhir {
            return Err(BookingError::HasApi.into());
        }
        if self.active_drill().await? != 0 {
            return Err(BookingError::InDrill.into());
        }
        let staff = self.staff_for(staff)?;
        let now = self.clock.now();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::BookingPause,
            vec!["booking".to_owned()],
            serde_json::json!({ "by_hand": true }),
        );
        let store = self.store.clone();
        let who = staff.clone();
        blocking(move || store.booking_stop_by_hand(now, who.as_deref(), &audit)).await?;
        self.tick_booking_step(staff.as_deref()).await?;
        self.booking_view().await
    }

    /// Staff reopened web booking on the booking service's own site.
    pub async fn booking_reopened_by_hand(&self, staff: Option<&str>) -> Result<BookingView> {
        let staff = self.staff_for(staff)?;
        let now = self.clock.now();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::BookingResume,
            vec!["booking".to_owned()],
            serde_json::json!({ "by_hand": true }),
        );
        let store = self.store.clone();
        blocking(move || store.booking_reopen_by_hand(now, staff.as_deref(), &audit)).await?;
        self.booking_view().await
    }

    /// Where web booking stopped by hand stands (a source with no API).
    async fn booking_view_by_hand(&self, card: Option<BookingCard>) -> Result<BookingView> {
        let cal = self.config().calendar();
        let store = self.store.clone();
        let last = blocking(move || store.booking_by_hand_last()).await?;
        let now = self.clock.now();
        let label = |t: chrono::DateTime<chrono::Utc>| desk_time(&cal, t, now);
        let state = match &last {
            None => BookingState::Open,
            Some(h) if h.reopened_at.is_some() => BookingState::Open,
            Some(h) if h.kept_closed_at.is_some() => BookingState::KeptClosed,
            Some(_) => BookingState::Paused,
        };
        Ok(BookingView {
            can_pause: false,
            card,
            state,
            pause: last.as_ref().map(|h| PauseView {
                id: format!("by-hand-{}", h.id),
                by_hand: true,
                requested_label: label(h.stopped_at),
                requested_at: crate::store::ts(h.stopped_at),
                by: h.stopped_by.clone(),
                until_label: String::new(),
                op_state: OpState::Done,
                confirmed_label: Some(label(h.stopped_at)),
                paused: 0,
                refused: Vec::new(),
                error: None,
                kept_closed_label: h.kept_closed_at.map(label),
                kept_closed_by: h.kept_closed_by.clone(),
            }),
            resume: last.as_ref().and_then(|h| {
                let at = h.reopened_at?;
                Some(ResumeView {
                    requested_label: label(at),
                    by: h.reopened_by.clone(),
                    op_state: OpState::Done,
                    confirmed_label: Some(label(at)),
                    resumed: 0,
                    left: Vec::new(),
                    error: None,
                })
            }),
        })
    }

    /// Where web booking stands: the last pause, its resume, and what the server did to
    /// each Slot.
    pub async fn booking_view(&self) -> Result<BookingView> {
        let config = self.config();
        if config.source.kind != SourceKind::Fhir {
            return self.booking_view_by_hand(config.booking_card).await;
        }
        let cal = config.calendar();
        let store = self.store.clone();
        let (ops, slots, kept) = blocking(move || {
            let ops = store.booking_ops()?;
            let (slots, kept) = match &ops.pause {
                Some(p) => (
                    store.booking_slots(&p.key)?,
                    store.booking_kept_closed(&p.key)?,
                ),
                None => (Vec::new(), None),
            };
            Ok((ops, slots, kept))
        })
        .await?;
        let now = self.clock.now();
        let label = |t: chrono::DateTime<chrono::Utc>| desk_time(&cal, t, now);
        let error = |op: &BookingOp| match (&op.last_code, &op.last_error) {
            (Some(code), Some(text)) if op.state != OpState::Done => {
                Some(format!("{code}: {text}"))
            }
            (Some(code), None) if op.state != OpState::Done => Some(code.clone()),
            _ => None,
        };
        let listed = |state: SlotState| -> Vec<SlotView> {
            slots
                .iter()
                .filter(|s| s.state == state)
                .map(|s| SlotView::of(s, &cal, now))
                .collect()
        };
        let pause = ops.pause.as_ref().and_then(|op| {
            let p = op.pause()?;
            Some(PauseView {
                id: p.pause_id.clone(),
                by_hand: false,
                requested_label: label(op.created_at),
                requested_at: crate::store::ts(op.created_at),
                by: p.staff.clone(),
                until_label: label(p.until),
                op_state: op.state,
                confirmed_label: op.done_at.map(label),
                paused: closed_by_pause(&slots),
                refused: listed(SlotState::Refused),
                error: error(op),
                kept_closed_label: kept.as_ref().map(|(at, _)| label(*at)),
                kept_closed_by: kept.as_ref().and_then(|(_, by)| by.clone()),
            })
        });
        let resume = ops.resume.as_ref().and_then(|op| {
            let r = op.resume()?;
            Some(ResumeView {
                requested_label: label(op.created_at),
                by: r.staff.clone(),
                op_state: op.state,
                confirmed_label: op.done_at.map(label),
                resumed: freed_by_resume(&slots),
                left: listed(SlotState::Left),
                error: error(op),
            })
        });
        let state = match (&ops.pause, &ops.resume) {
            (None, _) => BookingState::Open,
            // Past its end, all its Slots are in the past: nothing left to reopen.
            (Some(p), None) if p.pause().is_some_and(|p| p.until <= now) => BookingState::Open,
            (Some(_), Some(r)) if r.state == OpState::Done => BookingState::Open,
            (Some(_), Some(_)) => BookingState::ResumeWaiting,
            (Some(p), None) if p.state == OpState::Done && kept.is_some() => {
                BookingState::KeptClosed
            }
            (Some(p), None) if p.state == OpState::Done => BookingState::Paused,
            (Some(p), None) if matches!(p.state, OpState::Rejected | OpState::Conflict) => {
                BookingState::PauseRefused
            }
            (Some(_), None) => BookingState::PauseWaiting,
        };
        Ok(BookingView {
            can_pause: true,
            card: config.booking_card,
            state,
            pause,
            resume,
        })
    }
}
