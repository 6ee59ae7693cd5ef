//! The desk's outage checklist for the open incident (or the running drill).

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::booking::BookingState;
use crate::checklist::{
    default_steps, is_booking_step, reopen_step, ChecklistAction, ChecklistItem, ChecklistView,
    Tick,
};
use crate::error::{CoreError, Result};

/// The steps with who ticked what (the latest tick of each step decides).
/// The checklist's items with their ticks; `with_gone`: also the steps done that the list no
/// longer has (a report's record), else only the list as it is (the screen ticks by it).
pub(super) fn items(
    steps: Vec<String>,
    ticks: &[Tick],
    cal: &crate::calendar::ClinicCalendar,
    with_gone: bool,
) -> Vec<ChecklistItem> {
    // A tick belongs to the step it was made on, by its text: a list reordered or edited
    // since does not move a tick onto another step.
    let item = |step: u32, text: String, tick: Option<&Tick>| ChecklistItem {
        step,
        action: is_booking_step(&text).then_some(ChecklistAction::StopBooking),
        text,
        done: tick.is_some(),
        at_label: tick.map(|t| cal.local(t.at).format("%H:%M").to_string()),
        staff: tick.and_then(|t| t.staff.clone()),
    };
    let mut out: Vec<ChecklistItem> = steps
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let tick = ticks.iter().find(|t| t.text == *text && t.done);
            item(i as u32, text.clone(), tick)
        })
        .collect();
    // Steps done that the list no longer has stay in the record, as they read then.
    for t in ticks
        .iter()
        .filter(|t| with_gone && t.done && !steps.contains(&t.text))
    {
        out.push(item(t.step, t.text.clone(), Some(t)));
    }
    out
}

impl Desk {
    pub(super) fn checklist_steps(&self) -> Vec<String> {
        let config = self.config();
        if config.checklist.is_empty() {
            default_steps(config.language)
        } else {
            config.checklist
        }
    }

    /// The checklist of the open incident (or the running drill), with who ticked what.
    pub async fn checklist(&self) -> Result<ChecklistView> {
        let cal = self.config().calendar();
        let steps = self.checklist_steps();
        let (store, now) = (self.store.clone(), self.clock.now());
        let (scope, ticks) = blocking(move || {
            let scope = store.checklist_scope(now)?;
            Ok((scope, store.ticks(scope)?))
        })
        .await?;
        let mut items = items(steps, &ticks, &cal, false);
        // The line is back (no outage, no drill) and web booking is still stopped: one
        // more step, until someone reopens it or says it stays closed.
        if scope == (None, 0) && self.booking_view().await?.state == BookingState::Paused {
            items.push(ChecklistItem {
                step: items.len() as u32,
                text: reopen_step(self.config().language).to_owned(),
                action: Some(ChecklistAction::ReopenBooking),
                done: false,
                at_label: None,
                staff: None,
            });
        }
        Ok(ChecklistView {
            incident_id: scope.0,
            drill: scope.1,
            done: items.iter().filter(|i| i.done).count() as u32,
            items,
        })
    }

    /// Web booking was stopped during an outage: its checklist step is ticked by the same
    /// person (once; not in a drill, not with the line up).
    pub(super) async fn tick_booking_step(&self, staff: Option<&str>) -> Result<()> {
        let Some(step) = self
            .checklist_steps()
            .iter()
            .position(|s| is_booking_step(s))
        else {
            return Ok(());
        };
        let view = self.checklist().await?;
        let open = view.incident_id.is_some() && view.drill == 0;
        if open && !view.items.get(step).is_some_and(|i| i.done) {
            self.tick(step as u32, true, staff).await?;
        }
        Ok(())
    }

    /// Tick (or untick) a step; the history keeps both.
    pub async fn tick(&self, step: u32, done: bool, staff: Option<&str>) -> Result<ChecklistView> {
        let steps = self.checklist_steps();
        let text = steps
            .get(step as usize)
            .cloned()
            .ok_or_else(|| CoreError::InvalidInput(format!("there is no checklist step {step}")))?;
        let staff = self.staff_for(staff)?;
        let (store, now) = (self.store.clone(), self.clock.now());
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::ChecklistTick,
            Vec::new(),
            serde_json::json!({ "step": step, "done": done }),
        );
        blocking(move || store.add_tick(step, &text, done, staff.as_deref(), now, &audit)).await?;
        self.checklist().await
    }
}
