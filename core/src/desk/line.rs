//! The desk's side of the monitor: what it watches (the configured upstream), and the
//! signals shown at start and each morning.

use std::sync::Arc;

use chrono::Duration;
use serde::Serialize;
use ts_rs::TS;

use super::{blocking, Desk};
use crate::error::Result;
use crate::model::SourceKind;
use crate::monitor::signals::{summarise, Signal};
use crate::monitor::{MonitorConfig, MonitorOptions, RecoveryHook};

/// With nothing marked seen yet, signals look back this far.
const SIGNALS_LOOKBACK_DAYS: i64 = 7;

/// What happened while nobody was looking, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SignalsView {
    pub signals: Vec<Signal>,
    /// Pass back to `mark_signals_seen` so later events stay unseen.
    pub until: String,
}

impl Desk {
    /// The monitor for this install: the config's probes, the FHIR server as upstream
    /// when that is the source, incidents recorded in this desk's store.
    pub fn monitor_options(
        &self,
        on_recovery: Option<RecoveryHook>,
        track_run: bool,
    ) -> MonitorOptions {
        let (config, upstream) = self.monitor_targets();
        MonitorOptions {
            config,
            upstream,
            clock: Arc::clone(&self.clock),
            store: Some(self.store.clone()),
            recorder_lock: Some(self.data_dir.root().join("monitor.lock")),
            on_recovery,
            track_run,
        }
    }

    /// What the monitor probes under the current config (for `Monitor::reconfigure`).
    pub fn monitor_targets(&self) -> (MonitorConfig, Option<reqwest::Url>) {
        let config = self.config();
        let upstream = match (config.source.kind, &config.source.fhir) {
            (SourceKind::Fhir, Some(fhir)) => fhir.url().ok(),
            _ => None,
        };
        (config.monitor, upstream)
    }

    /// How long from now (the desk's clock) until `at`; zero once it has passed.
    pub fn until(&self, at: chrono::DateTime<chrono::Utc>) -> std::time::Duration {
        (at - self.clock.now()).to_std().unwrap_or_default()
    }

    /// When the next morning summary is due (UTC).
    pub fn next_morning_summary(&self) -> chrono::DateTime<chrono::Utc> {
        let config = self.config();
        let at = config
            .monitor
            .morning_time()
            .unwrap_or_else(|_| chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap_or_default());
        crate::monitor::signals::next_morning(self.clock.now(), &config.calendar(), at)
    }

    /// Outages, flaps and unclean stops not yet marked seen.
    pub async fn signals(&self) -> Result<SignalsView> {
        let config = self.config();
        let now = self.clock.now();
        let store = self.store.clone();
        blocking(move || {
            let from = store
                .signals_seen_to()?
                .unwrap_or(now - Duration::days(SIGNALS_LOOKBACK_DAYS));
            let incidents = store.incidents_between(from, now)?;
            // An incident still open is on the screen right now, not a signal.
            let incidents: Vec<_> = incidents
                .into_iter()
                .filter(|i| i.ended_at.is_some())
                .collect();
            let runs = store.unclean_runs_between(from, now)?;
            Ok(SignalsView {
                signals: summarise(&incidents, &runs, now, &config.calendar(), config.language),
                until: crate::monitor::millis_ts(now),
            })
        })
        .await
    }

    /// Whether the last runtime to run this desk stopped cleanly (終了, the session
    /// ending: it marks its run ended) rather than crashed. `None`: none has run here.
    pub async fn last_runtime_stopped_cleanly(&self) -> Result<Option<bool>> {
        let store = self.store.clone();
        blocking(move || Ok(store.monitor_health()?.last_run.map(|(_, clean)| clean))).await
    }

    /// The desk has seen the signals up to `until` (from `signals`).
    pub async fn mark_signals_seen(&self, until: &str) -> Result<()> {
        let until = chrono::DateTime::parse_from_rfc3339(until)
            .map_err(|_| crate::CoreError::InvalidInput(format!("not a time: {until:?}")))?
            .with_timezone(&chrono::Utc);
        let store = self.store.clone();
        blocking(move || store.mark_signals_seen(until)).await
    }
}
