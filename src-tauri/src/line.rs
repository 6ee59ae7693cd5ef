//! The monitor's transitions reach the desk: the tray's colour and tooltip, the window
//! brought to the front when the line goes down, an OS notification saying what failed
//! and what to try first, and an event the window's banner listens to.

use std::sync::Arc;

use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;
use tsunagi_core::config::Language;
use tsunagi_core::monitor::advice::LineView;
use tsunagi_core::monitor::{Monitor, MonitorEvent, NetState};
use tsunagi_core::Desk;

/// The event name the UI listens to; its payload is a `LineView`.
pub const LINE_EVENT: &str = "line-event";

/// Sent (without payload) when the morning summary is due: the window reloads its signals.
pub const SIGNALS_EVENT: &str = "signals-event";

/// Each morning (07:30 clinic time by default) tell the desk what happened overnight: a
/// notification and the window's signals list. Checked each minute against the wall
/// clock, so a PC that slept through the night still gets it when it wakes.
pub fn morning_summaries(app: AppHandle, desk: Arc<Desk>) {
    tauri::async_runtime::spawn(async move {
        let mut due = desk.next_morning_summary();
        loop {
            let wait = desk.until(due);
            if !wait.is_zero() {
                tokio::time::sleep(wait.min(std::time::Duration::from_secs(60))).await;
                continue;
            }
            due = desk.next_morning_summary();
            let Ok(view) = desk.signals().await else {
                continue;
            };
            if view.signals.is_empty() {
                continue;
            }
            let title = match desk.config().language {
                Language::Ja => "つなぎ：不在中のできごと",
                Language::En => "Tsunagi: while nobody was looking",
            };
            let body: Vec<&str> = view.signals.iter().map(|s| s.text.as_str()).collect();
            if let Err(e) = app
                .notification()
                .builder()
                .title(title)
                .body(body.join("\n"))
                .show()
            {
                tracing::warn!("could not show a notification: {e}");
            }
            let _ = app.emit(SIGNALS_EVENT, ());
        }
    });
}

pub fn forward(app: AppHandle, desk: Arc<Desk>, monitor: Monitor) {
    let mut events = monitor.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let (status, from) = match events.recv().await {
                Ok(MonitorEvent::Transition {
                    transition,
                    status,
                    ended_drill,
                    ..
                }) => {
                    if let Some(drill) = ended_drill {
                        // The window and the tray say it: from now on the work is real.
                        desk.drill_ended(drill, tsunagi_core::report::DrillEnd::Outage);
                    }
                    (status, Some(transition.from))
                }
                Ok(MonitorEvent::PathChanged { status }) => (status, None),
                Err(RecvError::Lagged(_)) => (monitor.status(), None),
                Err(RecvError::Closed) => break,
            };
            let config = desk.config();
            let language = config.language;
            let view = LineView::new(status, from, &config);
            crate::tray::reflect_line(&app, language, &view);
            if let Some(from) = from {
                announce(&app, language, from, &view);
            }
            if let Err(e) = app.emit(LINE_EVENT, &view) {
                tracing::warn!("could not reach the window: {e}");
            }
        }
    });
}

fn announce(app: &AppHandle, language: Language, from: NetState, view: &LineView) {
    let state = view.status.state;
    if state == NetState::Offline {
        // Also when it was hidden in the tray: the desk needs it now.
        crate::windows::show_main(app);
    }
    let title = match (language, state, from) {
        (Language::Ja, NetState::Offline, _) => "つなぎ：回線が切れました",
        (Language::Ja, NetState::Degraded, _) => "つなぎ：回線が不安定です",
        (Language::Ja, NetState::Online, _) => "つなぎ：回線が復旧しました",
        (Language::En, NetState::Offline, _) => "Tsunagi: the line is down",
        (Language::En, NetState::Degraded, _) => "Tsunagi: the line is unreliable",
        (Language::En, NetState::Online, _) => "Tsunagi: the line is back",
    };
    let body = match view.advice.steps.first() {
        Some(step) => format!("{}\n{step}", view.advice.headline),
        None => view.advice.headline.clone(),
    };
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        // No notification service (a bare test display): the tray and window still say it.
        tracing::warn!("could not show a notification: {e}");
    }
}
