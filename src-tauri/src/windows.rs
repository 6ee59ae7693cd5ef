//! The main window: shown and focused on demand, hidden (not closed) by its close button so
//! Tsunagi keeps watching from the tray.

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder, Window, WindowEvent};
use tsunagi_core::config::Language;
use tsunagi_core::navigation::{decide, Navigation};

pub const MAIN: &str = "main";

/// Create the (hidden) main window. The page learns its language before its first paint,
/// so a Japanese desk never flashes English while settings load.
pub fn create_main(app: &AppHandle, language: Language) -> tauri::Result<()> {
    let dev_server = app
        .config()
        .build
        .dev_url
        .clone()
        .filter(|_| tauri::is_dev());
    let for_phone = app.clone();
    let window = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::default())
        // The window never leaves the app's page: core decides what a link may do.
        .on_navigation(move |url| match decide(url, dev_server.as_ref()) {
            Navigation::Stay => true,
            Navigation::Phone(number) => {
                let _ = for_phone.emit_to(MAIN, crate::events::PHONE_EVENT, number);
                false
            }
            Navigation::Refuse => {
                tracing::warn!(
                    scheme = url.scheme(),
                    "a navigation away from the app was refused"
                );
                false
            }
        })
        .title("つなぎ Tsunagi")
        // Fits a 1366×768 screen with its title bar and taskbar (768 − ~30 − ~48).
        .inner_size(1120.0, 680.0)
        .min_inner_size(760.0, 480.0)
        .center()
        .visible(false)
        .initialization_script(format!(
            "window.__TSUNAGI_LANG__ = \"{}\";",
            language.code()
        ))
        .build()?;
    #[cfg(target_os = "linux")]
    lighten_webkit(&window)?;
    Ok(())
}

/// WebKitGTK's defaults suit a browser; Tsunagi shows one local page, so it keeps no page
/// cache between navigations. (GPU compositing is turned off earlier, in
/// `crate::tune_webkit_before_start`, because it cannot change once the page is up.)
#[cfg(target_os = "linux")]
fn lighten_webkit(window: &tauri::WebviewWindow) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{CacheModel, WebContextExt, WebViewExt};
        if let Some(context) = webview.inner().context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    })
}

pub fn show_main(app: &AppHandle) {
    let Some(window) = app.get_webview_window(MAIN) else {
        tracing::warn!("the main window is gone");
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

pub fn on_window_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() == MAIN {
            api.prevent_close();
            let _ = window.hide();
        }
    }
}
