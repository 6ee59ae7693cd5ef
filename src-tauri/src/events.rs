//! Shows what the runtime says: its events go to the window (the same event names the UI
//! has always listened to), the tray paints the view core decided, notifications show
//! core's texts. Nothing here decides anything.

use std::sync::Arc;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use serde_json::Value;
use tsunagi_core::runtime::local::{self, AfterTheRuntime, Ask, LocalClient};
use tsunagi_core::runtime::{Notice, Runtime, RuntimeEvent};
use tsunagi_core::Desk;

/// The event name the UI listens to; its payload is a `DeskEvent`.
pub const DESK_EVENT: &str = "desk-event";

/// The event name the UI listens to; its payload is a `LineView`.
pub const LINE_EVENT: &str = "line-event";

/// Sent (without payload) when the morning summary is due: the window reloads its signals.
pub const SIGNALS_EVENT: &str = "signals-event";

/// A phone number the page tried to open (`tel:`); its payload is the number. The window
/// stays and shows the number to dial.
pub const PHONE_EVENT: &str = "phone-event";

pub fn forward(app: AppHandle, runtime: Runtime) {
    let mut events = runtime.subscribe();
    // What the tray shows now (a drill left running, say), before any event.
    crate::tray::paint(&app, &runtime.tray());
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => show(&app, event),
                // A slow window missed some: paint the tray as it is now; the next events
                // carry whole statuses.
                Err(RecvError::Lagged(_)) => crate::tray::paint(&app, &runtime.tray()),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// The window of the tray process's runtime: its events (as JSON, the same the page has
/// always had) go to the page, the line going down raises the window, and what this
/// window writes is announced, so the runtime sends it at once. The tray raises this
/// window over the channel (an outage, its menu, a second launch) rather than start
/// another. The tray process paints the tray; the window leaves the tray alone.
///
/// When the tray process ends, the window closes with it if it stopped (終了, the session
/// ending); if it crashed, the window starts it again and follows the new one (core
/// decides: `local::after_the_runtime_left`). `started_again`: when this window last did.
pub fn follow(
    app: AppHandle,
    tray: LocalClient,
    desk: Arc<Desk>,
    started_again: Option<std::time::Instant>,
) {
    let mut events = tray.events();
    let mut closed = tray.closed();
    let mut raises = tray.show_requests();
    crate::windows::raised(&app, 0);
    // Written here: the events of this process's own desk.
    let mut own = desk.subscribe();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = tray.ask(Ask::Window).await {
            // The tray then starts a window of its own for a raise (the single-instance
            // lock brings it here): slower, nothing lost.
            tracing::warn!(code = %e.code, "the tray did not take this window: {}", e.message);
        }
        let tray_gone = loop {
            tokio::select! {
                Ok(()) = raises.changed() => {
                    let asked = *raises.borrow_and_update();
                    crate::windows::show_main(&app);
                    crate::windows::raised(&app, asked);
                }
                event = events.recv() => match event {
                    Ok(event) => show_json(&app, event),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break false,
                },
                event = own.recv() => match event {
                    Ok(event) => {
                        if let Err(e) = app.emit(DESK_EVENT, &event) {
                            tracing::warn!("could not reach the window: {e}");
                        }
                        let tray = tray.clone();
                        tauri::async_runtime::spawn(async move {
                            let _ = tray.ask(Ask::Wrote).await;
                        });
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break false,
                },
                _ = closed.wait_for(|gone| *gone) => break true,
            }
        };
        if tray_gone {
            after_the_tray(&app, &desk, started_again).await;
        }
    });
}

/// The tray process is gone. Stopped (終了, the session ending): the window closes with it
/// rather than show a desk nobody watches the line for. Crashed: it is started again and
/// this window follows it, its screen as it was.
async fn after_the_tray(
    app: &AppHandle,
    desk: &Arc<Desk>,
    started_again: Option<std::time::Instant>,
) {
    if local::after_the_runtime_left(desk, started_again).await == AfterTheRuntime::Close {
        tracing::warn!("the tray process is gone; the window closes");
        app.exit(0);
        return;
    }
    tracing::warn!("the tray process ended without stopping; starting it again");
    let data_dir = desk.data_dir().clone();
    let started =
        tauri::async_runtime::spawn_blocking(move || crate::state::start_and_follow(&data_dir))
            .await
            .ok()
            .flatten();
    let (Some(tray), Some(shell)) = (started, app.try_state::<crate::state::Shell>()) else {
        tracing::warn!("the tray process could not be started again; the window closes");
        app.exit(0);
        return;
    };
    tracing::info!("the tray process runs again; this window follows it");
    shell.follow_again(tray.clone());
    follow(
        app.clone(),
        tray,
        desk.clone(),
        Some(std::time::Instant::now()),
    );
}

/// One runtime event from the tray process, as JSON.
fn show_json(app: &AppHandle, event: Value) {
    let sent = match event.get("kind").and_then(Value::as_str) {
        Some("desk") => app.emit(DESK_EVENT, &event["event"]),
        Some("line") => {
            if event["raise_window"].as_bool() == Some(true) {
                crate::windows::show_main(app);
            }
            app.emit(LINE_EVENT, &event["view"])
        }
        Some("morning_summary") => app.emit(SIGNALS_EVENT, ()),
        // The tray and notifications belong to the tray process.
        _ => Ok(()),
    };
    if let Err(e) = sent {
        tracing::warn!("could not reach the window: {e}");
    }
}

fn show(app: &AppHandle, event: RuntimeEvent) {
    if event.raises_window() {
        // Also when it was hidden in the tray: the desk needs it now.
        crate::windows::show_main(app);
    }
    if let Some(notice) = event.notice() {
        notify(app, notice);
    }
    let sent = match event {
        RuntimeEvent::Desk { event } => app.emit(DESK_EVENT, &event),
        RuntimeEvent::Line { view, .. } => app.emit(LINE_EVENT, &view),
        RuntimeEvent::MorningSummary { .. } => app.emit(SIGNALS_EVENT, ()),
        RuntimeEvent::Tray { tray } => {
            crate::tray::paint(app, &tray);
            Ok(())
        }
        // The window hears these through the desk's own events (the notice above).
        RuntimeEvent::Recovered { .. }
        | RuntimeEvent::SheetWritten { .. }
        | RuntimeEvent::FolderRefused { .. } => Ok(()),
    };
    if let Err(e) = sent {
        tracing::warn!("could not reach the window: {e}");
    }
}

fn notify(app: &AppHandle, notice: &Notice) {
    let shown = app
        .notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .show();
    if let Err(e) = shown {
        // No notification service (a bare test display): the tray and window still say it.
        tracing::warn!("could not show a notification: {e}");
    }
}
