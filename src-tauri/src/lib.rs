//! The desktop shell: windows, tray, notifications and the bridge to the web UI. Product
//! logic lives in `tsunagi-core`; everything here adapts it to Tauri.

mod commands;
mod events;
mod launch;
mod state;
mod tray;
mod windows;

#[cfg(test)]
mod bindings;

use std::time::Instant;

use tauri::{Manager, RunEvent};
use tauri_plugin_autostart::ManagerExt;

use crate::launch::LaunchArgs;
use crate::state::{Background, Shell, Startup};

pub fn run() {
    let startup = Startup::new(Instant::now());
    tune_webkit_before_start();
    // Default: warnings, and Tsunagi's own info lines.
    tsunagi_core::logging::init(Some("warn,tsunagi_app=info,tsunagi_core=info"));
    tsunagi_core::crash::install_panic_hook("tsunagi");
    let launch = LaunchArgs::from_env();
    // Taken over first thing, so a logout during start is a clean stop as well.
    let mut stop_signals = tauri::async_runtime::block_on(async {
        tsunagi_core::runtime::StopSignals::listen()
            .inspect_err(|e| tracing::warn!("cannot listen for stop requests: {e}"))
            .ok()
    });

    tauri::Builder::default()
        // First: a second launch must be caught before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            windows::show_main(app);
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("Tsunagi")
                .args([launch::HIDDEN_FLAG])
                .build(),
        )
        .invoke_handler(tauri::generate_handler![
            commands::today,
            commands::status,
            commands::sync_now,
            commands::sync_view,
            commands::resolve_op,
            commands::export_outbox,
            commands::settings,
            commands::change_settings,
            commands::configure_source,
            commands::source_switch_check,
            commands::import_csv,
            commands::csv_preview,
            commands::csv_mappings,
            commands::set_csv_folder,
            commands::mark_populated,
            commands::line_status,
            commands::probe_now,
            commands::signals,
            commands::mark_signals_seen,
            commands::call_list,
            commands::record_call,
            commands::record_arrival,
            commands::withdraw,
            commands::booking_view,
            commands::pause_booking,
            commands::resume_booking,
            commands::keep_booking_closed,
            commands::booking_stopped_by_hand,
            commands::booking_reopened_by_hand,
            commands::open_booking_admin,
            commands::dial,
            commands::drill_line,
            commands::receipt_patients,
            commands::checklist,
            commands::tick,
            commands::claim_call,
            commands::desks,
            commands::show_pairing_code,
            commands::end_pairing_code,
            commands::pair_with_code,
            commands::unpair_desk,
            commands::ledger,
            commands::add_receipt,
            commands::void_receipt,
            commands::mark_receipt_entered,
            commands::export_receipts,
            commands::start_drill,
            commands::end_drill,
            commands::active_drill,
            commands::reports,
            commands::report,
            commands::printout,
            commands::write_downtime_sheet,
            commands::print_window,
            commands::copy_text,
            commands::staff,
            commands::switch_staff,
            commands::forget_staff,
            commands::verify_audit,
            commands::export_audit,
            commands::start_fresh,
            commands::debug_panic,
        ])
        .on_window_event(windows::on_window_event)
        .setup(move |app| {
            // Before anything can show or hide the window.
            app.manage(windows::Hides::default());
            let shell = Shell::open(&launch);
            let show = !launch.hidden || shell.desk().is_none();
            if show {
                // Built first, so the page loads while the tray and the events are set up.
                windows::create_main(app.handle(), shell.language())?;
            }
            // The tray process paints the tray when the runtime runs there.
            if !shell.is_window_only() {
                tray::create(app.handle(), &tray_view(&shell))?;
            }
            attach(app.handle(), &shell);
            app.manage(shell);
            app.manage(startup);
            // Started hidden (a login item from before the tray process, or by hand) while
            // the tray process runs the desk: no window is asked for, so nothing is left to
            // do here.
            if !show && app.state::<Shell>().is_window_only() {
                tracing::info!("the tray process runs the desk; no window was asked for");
                app.handle().exit(0);
                return Ok(());
            }
            // Started at login: no window (and no web engine) until one is needed.
            if show {
                windows::show_main(app.handle());
            }
            // A logout or an OS shutdown is a clean stop: the app exits through
            // RunEvent::Exit, where the runtime stops in order (issue 20, item 10).
            // - Linux, macOS: SIGTERM, SIGINT, SIGHUP, caught here.
            // - Windows: WM_ENDSESSION reaches tao's hidden thread window (a top-level
            //   window, so it gets the broadcast even with no window of ours shown); tao
            //   ends its loop (LoopDestroyed, which Tauri hands on as RunEvent::Exit)
            //   before it exits the process. Read in tao 0.37's windows/event_loop.rs.
            // - macOS: a logout or shutdown asks NSApplication to terminate; tao's
            //   applicationWillTerminate does the same (macos/app_delegate.rs).
            if let Some(mut signals) = stop_signals.take() {
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    signals.recv().await;
                    tracing::info!("asked to stop; stopping cleanly");
                    handle.exit(0);
                });
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("failed to build the Tsunagi window")
        .run(|app, event| match event {
            // The last window destroyed (a hidden one released) leaves the tray running;
            // only an exit asked for with a code (the tray's 終了, a stop signal) ends it.
            RunEvent::ExitRequested {
                code: None, api, ..
            } => api.prevent_exit(),
            RunEvent::Exit => {
                // Let a pull in flight finish its transaction before the process ends.
                let shell = app.state::<Shell>();
                tauri::async_runtime::block_on(shell.shutdown());
            }
            _ => {}
        });
}

/// Connect the runtime to the window and the tray (at start, or once staff started over
/// with a fresh mirror).
pub(crate) fn attach(app: &tauri::AppHandle, shell: &Shell) {
    let (Ok(desk), Ok(background)) = (shell.ready(), shell.background()) else {
        return;
    };
    match background {
        Background::Here(runtime) => {
            apply_autostart(app, desk.config().autostart);
            events::forward(app.clone(), runtime);
        }
        // The tray process starts at login; this window follows its runtime.
        Background::Tray(tray) => events::follow(app.clone(), tray, desk, None),
    }
}

/// What the tray shows before the runtime says anything (or when the desk is unavailable).
fn tray_view(shell: &Shell) -> tsunagi_core::runtime::TrayView {
    match shell.background() {
        Ok(Background::Here(runtime)) => runtime.tray(),
        Ok(Background::Tray(_)) | Err(_) => tsunagi_core::runtime::TrayView::idle(shell.language()),
    }
}

/// Make the OS login items match the setting. Failure is logged, not fatal: the desk
/// works without autostart, and the settings screen shows the state it could set.
pub(crate) fn apply_autostart(app: &tauri::AppHandle, enabled: bool) -> bool {
    let manager = app.autolaunch();
    let result = match (enabled, manager.is_enabled()) {
        (true, Ok(false)) => manager.enable(),
        (false, Ok(true)) => manager.disable(),
        (_, Ok(_)) => Ok(()),
        (_, Err(e)) => Err(e),
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("could not change start-at-login: {e}");
            false
        }
    }
}

/// A table of appointments needs no GPU compositing. Without it WebKitGTK paints sooner and
/// uses far less memory (measured under Xvfb: about 110 MB less across the app's processes,
/// see docs/benchmarks.md). It must be decided before WebKit starts, and a value the user
/// set wins. Called first thing in `run`, while the process has a single thread.
///
/// The input method is decided here too: see [`input_method_override`].
fn tune_webkit_before_start() {
    #[cfg(target_os = "linux")]
    {
        if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
            std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
        }
        let configured = |name| std::env::var(name).ok();
        if let Some(module) =
            input_method_override(configured("GTK_IM_MODULE"), configured("XMODIFIERS"))
        {
            std::env::set_var("GTK_IM_MODULE", module);
        }
    }
}

/// Which GTK input method to use when the session names none.
///
/// In a Japanese (also Chinese, Korean, Thai) locale GTK 3 picks its XIM module by
/// itself. With no XIM server to talk to (the session names none in `XMODIFIERS`), the
/// window then stops repainting after the first click or key, for good, with compositing
/// off: a typed amount, a new receipt, the undo bar all stay invisible (issue 20, item 4;
/// reproduced under Xvfb with a window manager and `LANG=ja_JP.UTF-8`, never with GTK's
/// own simple input method). So with neither variable set, GTK's simple method is used.
/// A session that has an input method (ibus, fcitx: they set both variables, or at least
/// `XMODIFIERS=@im=…`) is left alone, so Japanese typing keeps working there.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn input_method_override(
    gtk_im_module: Option<String>,
    xmodifiers: Option<String>,
) -> Option<&'static str> {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    if set(&gtk_im_module) {
        return None;
    }
    let names_a_server = xmodifiers.as_deref().is_some_and(|m| {
        m.split('@')
            .filter_map(|part| part.strip_prefix("im="))
            .any(|server| !server.trim().is_empty() && server.trim() != "none")
    });
    (!names_a_server).then_some("gtk-im-context-simple")
}

#[cfg(test)]
mod tests {
    use super::input_method_override;

    fn pick(module: Option<&str>, modifiers: Option<&str>) -> Option<&'static str> {
        input_method_override(module.map(str::to_owned), modifiers.map(str::to_owned))
    }

    #[test]
    fn issue_20_no_input_method_in_the_session_means_gtks_simple_one() {
        assert_eq!(pick(None, None), Some("gtk-im-context-simple"));
        assert_eq!(pick(Some(""), Some("")), Some("gtk-im-context-simple"));
        assert_eq!(pick(None, Some("@im=none")), Some("gtk-im-context-simple"));
    }

    #[test]
    fn issue_20_a_sessions_own_input_method_is_kept() {
        assert_eq!(pick(Some("ibus"), None), None);
        assert_eq!(pick(Some("fcitx"), Some("@im=fcitx")), None);
        assert_eq!(pick(None, Some("@im=ibus")), None);
    }
}
