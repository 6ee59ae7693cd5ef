//! Forwards the desk's events to the web UI and the tray.

use std::sync::Arc;

use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;
use tsunagi_core::Desk;

/// The event name the UI listens to; its payload is a `DeskEvent`.
pub const DESK_EVENT: &str = "desk-event";

pub fn forward(app: AppHandle, desk: Arc<Desk>) {
    let mut events = desk.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
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
