//! Forwards the desk's events to the web UI and the tray.

use std::sync::Arc;

use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;
use tsunagi_core::monitor::Monitor;
use tsunagi_core::view::DeskEvent;
use tsunagi_core::Desk;

/// The event name the UI listens to; its payload is a `DeskEvent`.
pub const DESK_EVENT: &str = "desk-event";

pub fn forward(app: AppHandle, desk: Arc<Desk>, monitor: Monitor) {
    let mut events = desk.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let DeskEvent::ConfigChanged {} = event {
                        // A source changed here or from the terminal: the monitor watches
                        // the new upstream from its next round.
                        let (config, upstream) = desk.monitor_targets();
                        monitor.reconfigure(config, upstream).await;
                    }
                    crate::tray::reflect(&app, desk.config().language, &event);
                    if let Err(e) = app.emit(DESK_EVENT, &event) {
                        tracing::warn!("could not reach the window: {e}");
                    }
                }
                // A slow window missed some; the next one carries the whole status.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Retention: purge what is past its time at start and every few hours (a desk left on for
/// weeks still forgets old outages). A purge never touches changes still waiting to be sent.
pub fn retention(desk: Arc<Desk>) {
    tauri::async_runtime::spawn(async move {
        loop {
            if let Err(e) = desk.purge().await {
                tracing::warn!(code = e.code(), "retention purge failed: {e}");
            }
            tokio::time::sleep(tsunagi_core::desk::PURGE_EVERY).await;
        }
    });
}

/// Write the downtime sheet at its times (07:30 and 12:30 by default), and at start when
/// today's latest one is missing; end a drill left open past its day. Checked each minute
/// against the wall clock, so a PC that slept past a time still writes it when it wakes.
pub fn downtime_sheets(desk: Arc<Desk>) {
    tauri::async_runtime::spawn(async move {
        loop {
            if let Err(e) = desk.write_sheet_if_due().await {
                tracing::warn!(code = e.code(), "could not write the downtime sheet: {e}");
            }
            // A drill left open ends with its clinic day (the screens are told).
            if let Err(e) = desk.end_overdue_drill().await {
                tracing::warn!(code = e.code(), "could not end an overdue drill: {e}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
}
