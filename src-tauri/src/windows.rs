//! The main window: created and shown on demand, hidden (not closed) by its close button so
//! Tsunagi keeps watching from the tray, and given up a while after it was hidden.
//!
//! The web engine is most of Tsunagi's memory (issue 18): a desk started at login creates
//! no window until one is needed (an outage, the tray, a second launch), and a window
//! hidden for [`grace`] is destroyed with its web view. A quick reopen within the grace
//! period finds it as it was; a later one builds it anew, and the page puts back the tab,
//! the filters and the scroll position it saved. When the runtime runs in the tray process,
//! this process is only the window and exits instead (see `state`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder, Window, WindowEvent};
use tsunagi_core::config::Language;
use tsunagi_core::navigation::{decide, Navigation};
use tsunagi_core::runtime::local::{Ask, LocalClient};

pub const MAIN: &str = "main";

/// How long a hidden window keeps its web view: 2 minutes, or `TSUNAGI_WINDOW_GRACE_SECS`
/// (an IT helper's knob, and the tests').
fn grace() -> Duration {
    std::env::var("TSUNAGI_WINDOW_GRACE_SECS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(Duration::from_secs(120), Duration::from_secs)
}

/// Counts hides and shows: a timer only destroys the window if no show or hide came
/// after it. Also how many of the tray's raises this window has shown (see
/// [`release_later`]).
#[derive(Default)]
pub struct Hides {
    changes: AtomicU64,
    raised: AtomicU64,
}

/// The tray's raises up to `asked` have been shown (counted per connection to the tray:
/// 0 when this window follows a tray anew).
pub fn raised(app: &AppHandle, asked: u64) {
    if let Some(hides) = app.try_state::<Hides>() {
        hides.raised.store(asked, Ordering::SeqCst);
    }
}

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

/// Show the main window, building it first when there is none.
pub fn show_main(app: &AppHandle) {
    if let Some(hides) = app.try_state::<Hides>() {
        // A timer started by an earlier hide must leave the window alone now.
        hides.changes.fetch_add(1, Ordering::SeqCst);
    }
    let window = match app.get_webview_window(MAIN) {
        Some(window) => window,
        None => {
            if let Some(startup) = app.try_state::<crate::state::Startup>() {
                startup.window_built(std::time::Instant::now());
            }
            let language = app
                .try_state::<crate::state::Shell>()
                .map_or(Language::Ja, |shell| shell.language());
            if let Err(e) = create_main(app, language) {
                tracing::error!("the main window could not be created: {e}");
                return;
            }
            tracing::info!("main window created");
            let Some(window) = app.get_webview_window(MAIN) else {
                return;
            };
            window
        }
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
            release_later(window.app_handle());
        }
    }
}

/// Destroy the hidden window (and its web view) once the grace period has passed, unless
/// it was shown or hidden again meanwhile.
fn release_later(app: &AppHandle) {
    let Some(hides) = app.try_state::<Hides>() else {
        return;
    };
    let mine = hides.changes.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    let wait = grace();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(wait).await;
        let still_hidden = |app: &AppHandle| {
            app.try_state::<Hides>()
                .is_some_and(|h| h.changes.load(Ordering::SeqCst) == mine)
                && app
                    .get_webview_window(MAIN)
                    .is_some_and(|w| !w.is_visible().unwrap_or(true))
        };
        if !still_hidden(&app) {
            return;
        }
        // The window of the tray's runtime: the whole process goes (the web engine's
        // libraries with it); the tray starts it again when it is needed.
        let tray =
            app.try_state::<crate::state::Shell>()
                .and_then(|shell| match shell.background() {
                    Ok(crate::state::Background::Tray(tray)) => Some(tray),
                    _ => None,
                });
        if let Some(tray) = tray {
            if leave(&app, &tray, still_hidden).await {
                tracing::info!("hidden window released: the window process exits");
                app.exit(0);
            }
            return;
        }
        if let Some(window) = app.get_webview_window(MAIN) {
            match window.destroy() {
                Ok(()) => tracing::info!("hidden window released with its web view"),
                Err(e) => tracing::warn!("the hidden window could not be released: {e}"),
            }
        }
    });
}

/// Tell the tray this window leaves, and whether it still may: a raise the tray sent
/// before it heard arrives ahead of its answer (`show_requests` counts it), and then the
/// window stays, shown, and follows again.
async fn leave(
    app: &AppHandle,
    tray: &LocalClient,
    still_hidden: impl Fn(&AppHandle) -> bool,
) -> bool {
    if tray.ask(Ask::Leaving).await.is_err() {
        // The tray is gone; the window closes with it (events::follow) anyway.
        return true;
    }
    let asked = *tray.show_requests().borrow();
    let shown = app
        .try_state::<Hides>()
        .map_or(0, |h| h.raised.load(Ordering::SeqCst));
    if asked == shown && still_hidden(app) {
        return true;
    }
    tracing::info!("raised as it was leaving: the window stays");
    if let Err(e) = tray.ask(Ask::Window).await {
        tracing::warn!(code = %e.code, "the tray did not take this window back: {}", e.message);
    }
    false
}
