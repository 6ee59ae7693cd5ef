//! The desk's outage checklist for the open incident (or the running drill).

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::checklist::{default_steps, ChecklistItem, ChecklistView, Tick};
use crate::error::{CoreError, Result};

/// The steps with who ticked what (the latest tick of each step decides).
pub(super) fn items(
    steps: Vec<String>,
    ticks: &[Tick],
    cal: &crate::calendar::ClinicCalendar,
) -> Vec<ChecklistItem> {
    steps
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let tick = ticks.iter().find(|t| t.step as usize == i && t.done);
            ChecklistItem {
                step: i as u32,
                text,
                done: tick.is_some(),
                at_label: tick.map(|t| cal.local(t.at).format("%H:%M").to_string()),
                staff: tick.and_then(|t| t.staff.clone()),
            }
        })
        .collect()
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
        let store = self.store.clone();
        let (scope, ticks) = blocking(move || {
            let scope = store.checklist_scope()?;
            Ok((scope, store.ticks(scope)?))
        })
        .await?;
        let items = items(steps, &ticks, &cal);
        Ok(ChecklistView {
            incident_id: scope.0,
            drill: scope.1,
            done: items.iter().filter(|i| i.done).count() as u32,
            items,
        })
    }

    /// Tick (or untick) a step; the history keeps both.
    pub async fn tick(&self, step: u32, done: bool, staff: Option<&str>) -> Result<ChecklistView> {
        let steps = self.checklist_steps();
        let text = steps
            .get(step as usize)
            .cloned()
            .ok_or_else(|| CoreError::InvalidInput(format!("there is no checklist step {step}")))?;
        let staff = self.staff_for(staff)?;
        let (store, now, who) = (self.store.clone(), self.clock.now(), staff.clone());
        blocking(move || {
            let scope = store.checklist_scope()?;
            store.add_tick(scope, step, &text, done, staff.as_deref(), now)
        })
        .await?;
        self.audit(
            Actor::Person(who.as_deref()),
            AuditAction::ChecklistTick,
            Vec::new(),
            serde_json::json!({ "step": step, "done": done }),
        )
        .await;
        self.checklist().await
    }
}
