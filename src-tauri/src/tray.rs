//! The tray icon: paints what core's runtime decided (colour, tooltip, menu labels); its
//! menu opens the window, syncs now, starts or ends a drill, or quits.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};
use tsunagi_core::runtime::{Health, TrayMenu, TrayView};

use crate::state::Shell;
use crate::windows;

const TRAY: &str = "main";
const OPEN: &str = "open";
const SYNC: &str = "sync";
const DRILL: &str = "drill";
const QUIT: &str = "quit";

fn icon(health: Health) -> Image<'static> {
    Image::from_bytes(health.icon_png()).expect("tray icons are valid PNGs")
}

fn menu(app: &AppHandle, labels: &TrayMenu) -> tauri::Result<Menu<tauri::Wry>> {
    Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, OPEN, &labels.open, true, None::<&str>)?,
            &MenuItem::with_id(app, SYNC, &labels.sync, true, None::<&str>)?,
            &MenuItem::with_id(app, DRILL, &labels.drill, true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, QUIT, &labels.quit, true, None::<&str>)?,
        ],
    )
}

/// The tray at start, with the view core gives before anything happened.
pub fn create(app: &AppHandle, view: &TrayView) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY)
        .icon(icon(view.health))
        .tooltip(&view.tooltip)
        .menu(&menu(app, &view.menu)?)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            OPEN => windows::show_main(app),
            SYNC => sync_now(app),
            DRILL => toggle_drill(app),
            QUIT => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                windows::show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

/// Paint what core decided. Menus are rebuilt on the main thread, so this hands the work
/// there and returns at once.
pub fn paint(app: &AppHandle, view: &TrayView) {
    let (handle, view) = (app.clone(), view.clone());
    let painted = app.run_on_main_thread(move || {
        let Some(tray) = handle.tray_by_id(TRAY) else {
            return;
        };
        let _ = tray.set_icon(Some(icon(view.health)));
        let _ = tray.set_tooltip(Some(&view.tooltip));
        match menu(&handle, &view.menu) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
            }
            Err(e) => tracing::warn!("could not relabel the tray menu: {e}"),
        }
    });
    if let Err(e) = painted {
        tracing::warn!("could not paint the tray: {e}");
    }
}

fn sync_now(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // The outcome reaches the window and the tray as runtime events.
        let _ = app.state::<Shell>().sync_now().await;
    });
}

/// Start a drill, or end the one running; the window comes up to show it.
fn toggle_drill(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(desk) = app.state::<Shell>().ready() else {
            return;
        };
        match desk.toggle_drill(None).await {
            // The runtime's tray event relabels this menu; the window hears the desk event.
            Ok(_) => windows::show_main(&app),
            Err(e) => tracing::warn!(code = %e.code(), "drill from the tray failed: {e}"),
        }
    });
}
