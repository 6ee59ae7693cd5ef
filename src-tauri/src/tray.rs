//! The tray icon: its colour says how the desk is doing, its menu opens the window, pulls
//! now, or quits. Labels follow the UI language.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};
use tsunagi_core::config::Language;
use tsunagi_core::view::{DeskEvent, MirrorStatus};

use crate::state::Shell;
use crate::windows;

const TRAY: &str = "main";
const OPEN: &str = "open";
const SYNC: &str = "sync";
const QUIT: &str = "quit";

/// Icon variants: green online, yellow degraded, red offline (the monitor's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Online,
    Degraded,
}

fn icon(health: Health) -> Image<'static> {
    let bytes: &'static [u8] = match health {
        Health::Online => include_bytes!("../../icons/tray-online.png"),
        Health::Degraded => include_bytes!("../../icons/tray-degraded.png"),
    };
    Image::from_bytes(bytes).expect("tray icons are valid PNGs")
}

struct Labels {
    open: &'static str,
    sync: &'static str,
    quit: &'static str,
}

fn labels(language: Language) -> Labels {
    match language {
        Language::Ja => Labels {
            open: "開く",
            sync: "今すぐ同期",
            quit: "終了",
        },
        Language::En => Labels {
            open: "Open",
            sync: "Sync now",
            quit: "Quit",
        },
    }
}

fn tooltip(language: Language, status: &MirrorStatus, failed: bool) -> String {
    let as_of = status.synced_at_label.as_deref();
    match (language, failed, as_of) {
        (Language::Ja, false, Some(t)) => format!("つなぎ — {t} 時点のデータ"),
        (Language::Ja, true, Some(t)) => format!("つなぎ — 同期できません（{t} 時点のデータ）"),
        (Language::Ja, _, None) => "つなぎ — データなし".to_owned(),
        (Language::En, false, Some(t)) => format!("Tsunagi — data as of {t}"),
        (Language::En, true, Some(t)) => format!("Tsunagi — sync failed (data as of {t})"),
        (Language::En, _, None) => "Tsunagi — no data yet".to_owned(),
    }
}

fn menu(app: &AppHandle, language: Language) -> tauri::Result<Menu<tauri::Wry>> {
    let l = labels(language);
    Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, OPEN, l.open, true, None::<&str>)?,
            &MenuItem::with_id(app, SYNC, l.sync, true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, QUIT, l.quit, true, None::<&str>)?,
        ],
    )
}

pub fn create(app: &AppHandle, language: Language) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY)
        .icon(icon(Health::Online))
        .tooltip("つなぎ Tsunagi")
        .menu(&menu(app, language)?)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            OPEN => windows::show_main(app),
            SYNC => sync_now(app),
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

fn sync_now(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        if let Ok((_, puller)) = shell.ready() {
            // The outcome reaches the window and the tray as a desk event.
            let _ = puller.pull_now().await;
        }
    });
}

pub fn set_language(app: &AppHandle, language: Language) {
    if let Some(tray) = app.tray_by_id(TRAY) {
        match menu(app, language) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
            }
            Err(e) => tracing::warn!("could not relabel the tray menu: {e}"),
        }
    }
}

/// Show the latest pull in the icon and tooltip.
pub fn reflect(app: &AppHandle, language: Language, event: &DeskEvent) {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return;
    };
    let (health, status, failed) = match event {
        DeskEvent::MirrorUpdated { status } => (Health::Online, status, false),
        DeskEvent::PullFailed { status, .. } => (Health::Degraded, status, true),
    };
    let _ = tray.set_icon(Some(icon(health)));
    let _ = tray.set_tooltip(Some(tooltip(language, status, failed)));
}
