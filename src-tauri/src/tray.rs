//! The tray icon: its colour says how the desk is doing, its menu opens the window, pulls
//! now, or quits. Labels follow the UI language.

use std::sync::Mutex;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};

use tauri::{AppHandle, Manager};
use tsunagi_core::config::Language;
use tsunagi_core::monitor::advice::LineView;
use tsunagi_core::monitor::NetState;
use tsunagi_core::view::{DeskEvent, MirrorStatus};

use crate::state::Shell;
use crate::windows;

const TRAY: &str = "main";
const OPEN: &str = "open";
const SYNC: &str = "sync";
const DRILL: &str = "drill";
const QUIT: &str = "quit";

/// Icon variants: green online, yellow degraded, red offline (the monitor's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Online,
    Degraded,
    Offline,
}

fn icon(health: Health) -> Image<'static> {
    let bytes: &'static [u8] = match health {
        Health::Online => include_bytes!("../../icons/tray-online.png"),
        Health::Degraded => include_bytes!("../../icons/tray-degraded.png"),
        Health::Offline => include_bytes!("../../icons/tray-offline.png"),
    };
    Image::from_bytes(bytes).expect("tray icons are valid PNGs")
}

struct Labels {
    open: &'static str,
    sync: &'static str,
    drill_start: &'static str,
    drill_end: &'static str,
    quit: &'static str,
}

fn labels(language: Language) -> Labels {
    match language {
        Language::Ja => Labels {
            open: "開く",
            sync: "今すぐ同期",
            drill_start: "訓練を開始",
            drill_end: "訓練を終了",
            quit: "終了",
        },
        Language::En => Labels {
            open: "Open",
            sync: "Sync now",
            drill_start: "Start a drill",
            drill_end: "End the drill",
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

fn menu(app: &AppHandle, language: Language, drill: bool) -> tauri::Result<Menu<tauri::Wry>> {
    let l = labels(language);
    let drill_label = if drill { l.drill_end } else { l.drill_start };
    Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, OPEN, l.open, true, None::<&str>)?,
            &MenuItem::with_id(app, SYNC, l.sync, true, None::<&str>)?,
            &MenuItem::with_id(app, DRILL, drill_label, true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, QUIT, l.quit, true, None::<&str>)?,
        ],
    )
}

pub fn create(app: &AppHandle, language: Language) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY)
        .icon(icon(Health::Online))
        .tooltip("つなぎ Tsunagi")
        .menu(&menu(app, language, false)?)
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

fn sync_now(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // The outcome reaches the window and the tray as desk events.
        let _ = app.state::<Shell>().sync_now().await;
    });
}

/// A drill left running by the last start still shows in the tray (looked up off the
/// start-up path).
pub fn show_running_drill(app: AppHandle, desk: std::sync::Arc<tsunagi_core::Desk>) {
    tauri::async_runtime::spawn(async move {
        if let Ok(drill @ 1..) = desk.active_drill().await {
            let event = DeskEvent::DrillChanged {
                drill,
                ended_by: None,
            };
            reflect(&app, desk.config().language, &event);
        }
    });
}

/// Start a drill, or end the one running; the window comes up to show it.
fn toggle_drill(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let Ok((desk, _)) = shell.ready() else {
            return;
        };
        match desk.toggle_drill(None).await {
            // The desk event relabels this menu and tells the window.
            Ok(_) => windows::show_main(&app),
            Err(e) => tracing::warn!(code = e.code(), "drill from the tray failed: {e}"),
        }
    });
}

pub fn set_language(app: &AppHandle, language: Language) {
    let drill = app
        .try_state::<TrayModel>()
        .is_some_and(|m| m.0.lock().unwrap_or_else(|e| e.into_inner()).drill);
    if let Some(tray) = app.tray_by_id(TRAY) {
        match menu(app, language, drill) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
            }
            Err(e) => tracing::warn!("could not relabel the tray menu: {e}"),
        }
    }
}

/// What the tray shows is decided by the line first, then by the last pull.
#[derive(Default)]
pub struct TrayModel(Mutex<Inputs>);

#[derive(Default)]
struct Inputs {
    line: Option<LineView>,
    pull: Option<(MirrorStatus, bool)>,
    /// A drill is running: the tooltip and the menu say so.
    drill: bool,
}

/// Show the latest pull, or a drill starting or ending, in the icon, tooltip and menu.
pub fn reflect(app: &AppHandle, language: Language, event: &DeskEvent) {
    match event {
        DeskEvent::MirrorUpdated { status } => {
            let pull = (status.clone(), false);
            render(app, language, |i| i.pull = Some(pull));
        }
        DeskEvent::PullFailed { status, .. } => {
            let pull = (status.clone(), true);
            render(app, language, |i| i.pull = Some(pull));
        }
        DeskEvent::DrillChanged { drill, .. } => {
            render(app, language, |i| i.drill = *drill != 0);
            set_language(app, language);
        }
        DeskEvent::OutboxChanged { .. } | DeskEvent::ConfigChanged {} => {}
    }
}

/// Show the line's state: red offline, yellow degraded, with the cause in the tooltip.
pub fn reflect_line(app: &AppHandle, language: Language, view: &LineView) {
    render(app, language, |i| i.line = Some(view.clone()));
}

fn render(app: &AppHandle, language: Language, update: impl FnOnce(&mut Inputs)) {
    let Some(model) = app.try_state::<TrayModel>() else {
        return;
    };
    let (health, tip) = {
        let mut inputs = model.0.lock().unwrap_or_else(|e| e.into_inner());
        update(&mut inputs);
        describe(language, &inputs)
    };
    if let Some(tray) = app.tray_by_id(TRAY) {
        let _ = tray.set_icon(Some(icon(health)));
        let _ = tray.set_tooltip(Some(tip));
    }
}

fn describe(language: Language, inputs: &Inputs) -> (Health, String) {
    let (health, tip) = describe_line(language, inputs);
    match (inputs.drill, language) {
        (false, _) => (health, tip),
        (true, Language::Ja) => (health, format!("【訓練中】{tip}")),
        (true, Language::En) => (health, format!("[Drill] {tip}")),
    }
}

fn describe_line(language: Language, inputs: &Inputs) -> (Health, String) {
    let as_of = inputs
        .pull
        .as_ref()
        .and_then(|(s, _)| s.synced_at_label.clone());
    if let Some(line) = inputs
        .line
        .as_ref()
        .filter(|l| l.status.state != NetState::Online)
    {
        let health = match line.status.state {
            NetState::Offline => Health::Offline,
            _ => Health::Degraded,
        };
        let data = match (language, as_of) {
            (Language::Ja, Some(t)) => format!("（{t} 時点のデータ）"),
            (Language::En, Some(t)) => format!(" (data as of {t})"),
            (_, None) => String::new(),
        };
        let name = match language {
            Language::Ja => "つなぎ",
            Language::En => "Tsunagi",
        };
        return (health, format!("{name} — {}{data}", line.advice.headline));
    }
    match &inputs.pull {
        Some((status, failed)) => (
            if *failed {
                Health::Degraded
            } else {
                Health::Online
            },
            tooltip(language, status, *failed),
        ),
        None => (Health::Online, "つなぎ Tsunagi".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsunagi_core::config::Config;
    use tsunagi_core::monitor::{Cause, MonitorStatus};

    fn line(state: NetState, cause: Option<Cause>) -> LineView {
        let status = MonitorStatus {
            state,
            cause,
            ..MonitorStatus::starting()
        };
        LineView::new(status, None, &Config::first_start(Some("ja-JP")))
    }

    #[test]
    fn the_line_decides_the_colour_before_the_last_pull() {
        let mut inputs = Inputs {
            line: Some(line(NetState::Offline, Some(Cause::Internet))),
            pull: None,
            drill: false,
        };
        let (health, tip) = describe(Language::Ja, &inputs);
        assert_eq!(health, Health::Offline);
        assert_eq!(tip, "つなぎ — インターネット回線が切れています");

        inputs.line = Some(line(NetState::Degraded, Some(Cause::Upstream)));
        let (health, tip) = describe(Language::Ja, &inputs);
        assert_eq!(health, Health::Degraded);
        assert!(tip.contains("予約システムが応答しません"), "{tip}");

        inputs.line = Some(line(NetState::Online, None));
        assert_eq!(describe(Language::En, &inputs).0, Health::Online);

        inputs.drill = true;
        let (health, tip) = describe(Language::Ja, &inputs);
        assert_eq!(
            health,
            Health::Online,
            "a drill is practice: the line is as it is"
        );
        assert!(tip.starts_with("【訓練中】"), "{tip}");
    }
}
