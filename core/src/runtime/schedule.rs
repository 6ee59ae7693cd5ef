//! The runtime's timed work: retention, the downtime sheet (and a drill left open past its
//! day), the morning summary. Each is checked against the desk's clock at least once a
//! minute, so a PC that slept past a time still does it when it wakes; each stops at once
//! when the runtime stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::{notice, RuntimeEvent};
use crate::desk::Desk;

/// How often the sheet and the drill's end are checked.
const MINUTE: Duration = Duration::from_secs(60);

pub(super) fn spawn_all(
    desk: &Arc<Desk>,
    events: &broadcast::Sender<RuntimeEvent>,
    stop: &watch::Receiver<bool>,
    handle: &tokio::runtime::Handle,
) -> Vec<JoinHandle<()>> {
    vec![
        handle.spawn(retention(desk.clone(), stop.clone())),
        handle.spawn(sheets(desk.clone(), events.clone(), stop.clone())),
        handle.spawn(morning_summaries(
            desk.clone(),
            events.clone(),
            stop.clone(),
        )),
        handle.spawn(outside_watch(desk.clone(), stop.clone())),
        handle.spawn(crate::folder_watch::run(desk.clone(), stop.clone())),
    ]
}

/// How often the runtime looks for what another process changed.
const OUTSIDE_EVERY: Duration = Duration::from_secs(2);

/// Every few seconds (on the blocking pool), what another process (the CLI, an editor)
/// changed: `config.toml` read again, so the change reaches the screens without anyone
/// asking; and the database, so a change the terminal queued is sent at once.
async fn outside_watch(desk: Arc<Desk>, mut stop: watch::Receiver<bool>) {
    while pause(&mut stop, OUTSIDE_EVERY).await {
        desk.fresh_config().await;
        desk.notice_writes_elsewhere().await;
    }
}

/// Wait `wait`, or less if the runtime stops; `false` once it stopped.
async fn pause(stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = stop.changed() => false,
    }
}

/// Purge what is past its time at start and every few hours (a desk left on for weeks
/// still forgets old outages). A purge never touches changes still waiting to be sent.
async fn retention(desk: Arc<Desk>, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = desk.purge().await {
            tracing::warn!(code = %e.code(), "retention purge failed: {e}");
        }
        if !pause(&mut stop, crate::desk::PURGE_EVERY).await {
            break;
        }
    }
}

/// Write the downtime sheet at its times (07:30 and 12:30 by default), and at start when
/// today's latest one is missing; end a drill left open past its clinic day.
async fn sheets(
    desk: Arc<Desk>,
    events: broadcast::Sender<RuntimeEvent>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match desk.write_sheet_if_due().await {
            Ok(Some(path)) => {
                let path = path.display().to_string();
                let _ = events.send(RuntimeEvent::SheetWritten { path });
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(code = %e.code(), "could not write the downtime sheet: {e}"),
        }
        // The screens are told through the desk's DrillChanged event.
        if let Err(e) = desk.end_overdue_drill().await {
            tracing::warn!(code = %e.code(), "could not end an overdue drill: {e}");
        }
        if !pause(&mut stop, MINUTE).await {
            break;
        }
    }
}

/// Each morning (07:30 clinic time by default) tell the desk what happened overnight.
async fn morning_summaries(
    desk: Arc<Desk>,
    events: broadcast::Sender<RuntimeEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let mut due = desk.next_morning_summary();
    loop {
        let wait = desk.until(due);
        if !wait.is_zero() {
            if !pause(&mut stop, wait.min(MINUTE)).await {
                break;
            }
            continue;
        }
        due = desk.next_morning_summary();
        match desk.signals().await {
            Ok(view) => {
                if let Some(notice) = notice::morning(desk.config().language, &view) {
                    let _ = events.send(RuntimeEvent::MorningSummary { notice });
                }
            }
            Err(e) => tracing::warn!(code = %e.code(), "could not read the signals: {e}"),
        }
    }
}
