//! Retention on a schedule: the mirror's past days, old outages and drills, and receipts
//! long since sent leave the desk.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveTime, Utc};

use crate::config::Config;

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::error::Result;
use crate::store::{PurgeCutoffs, PurgeReport};

/// Mirror rows starting before this leave the mirror: midnight (clinic time) of
/// `mirror_days_back` days before today. Pulls, imports and the schedule all cut here.
pub(super) fn mirror_keep_from(config: &Config, now: DateTime<Utc>) -> DateTime<Utc> {
    let cal = config.calendar();
    let today = cal.today(now);
    let first = today
        .checked_sub_days(Days::new(config.retention.mirror_days_back.into()))
        .unwrap_or(today);
    cal.at(first, NaiveTime::MIN)
}

/// How often the app purges (also at start).
pub const PURGE_EVERY: Duration = Duration::from_secs(6 * 60 * 60);

impl Desk {
    /// The cut-offs the config gives, from now.
    pub fn purge_cutoffs(&self) -> PurgeCutoffs {
        let config = self.config();
        let now = self.clock.now();
        let keep = &config.retention;
        PurgeCutoffs {
            mirror_before: mirror_keep_from(&config, now),
            incidents_before: now - chrono::Duration::days(keep.incidents_days.into()),
            receipts_before: now - chrono::Duration::days(keep.receipts_days.into()),
        }
    }

    /// Remove what is past its time. Never touches an op still waiting to be sent, nor the
    /// receipt or outage it belongs to. Recorded in the audit trail when it removed rows.
    pub async fn purge(&self) -> Result<PurgeReport> {
        self.purge_as(Actor::Schedule).await
    }

    /// `purge`, asked for by a person (`tsunagi-cli purge`).
    pub async fn purge_as(&self, actor: Actor<'_>) -> Result<PurgeReport> {
        let cut = self.purge_cutoffs();
        let store = self.store.clone();
        let audit = self.audit_entry(
            actor,
            AuditAction::RetentionPurge,
            Vec::new(),
            serde_json::json!({}),
        );
        let report = blocking(move || store.purge(cut, &audit)).await?;
        if !report.is_empty() {
            tracing::info!(
                appointments = report.appointments,
                incidents = report.incidents,
                receipts = report.receipts,
                ops = report.ops,
                "retention purge"
            );
        }
        Ok(report)
    }
}
