//! `tsunagi-tray`: the desk's runtime (monitor, sender, puller, schedules) and its tray
//! icon, in a process that never loads a web engine (issue 18).
//!
//! The window is a second process, started when it is needed; a process that links
//! Tauri costs about 90 MB before it shows anything (docs/benchmarks.md), so the tray that
//! runs all day must not be that process. This binary is that tray's foundation: it runs
//! the runtime and paints the tray from what core's runtime decides, as the Tauri app
//! does. Opening the window from here is not wired yet (see docs/benchmarks.md).
//!
//! Threads: the main thread runs the OS event loop (tao: GTK on Linux, AppKit on macOS,
//! the message loop on Windows), which the tray needs; one more thread runs a
//! single-threaded tokio runtime with all the background work.

use std::path::PathBuf;
use std::sync::Arc;

use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::DataDir;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::runtime::{Health, Runtime, RuntimeEvent, RuntimeOptions, TrayView};
use tsunagi_core::{Desk, DeskOptions};

/// What the background thread tells the event loop.
enum Note {
    /// The runtime's new tray.
    Paint(TrayView),
    /// The runtime has stopped: leave the loop.
    Stopped,
}

/// What the tray's menu asks of the background thread.
enum Ask {
    Sync,
    Drill,
    Quit,
}

const SYNC: &str = "sync";
const DRILL: &str = "drill";
const QUIT: &str = "quit";

fn main() -> std::process::ExitCode {
    no_gl_before_gtk();
    tsunagi_core::logging::init(Some("warn,tsunagi_tray=info,tsunagi_core=info"));
    tsunagi_core::crash::install_panic_hook("tsunagi-tray");
    let data_dir = data_dir_arg();
    let desk = match open_desk(data_dir) {
        Ok(desk) => Arc::new(desk),
        Err(e) => {
            // The window (when it exists) explains; the tray has nothing to run.
            tracing::error!(code = %e.code(), "cannot open the desk: {e}");
            eprintln!("tsunagi-tray: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let event_loop = EventLoopBuilder::<Note>::with_user_event().build();
    let proxy = event_loop.create_proxy();
    let (runtime_tx, runtime_rx) = std::sync::mpsc::sync_channel(1);
    let (ask, asked) = tokio::sync::mpsc::unbounded_channel::<Ask>();
    let background = std::thread::Builder::new()
        .name("tsunagi-runtime".into())
        .spawn(move || background(desk, proxy, runtime_tx, asked))
        .expect("a thread for the runtime");
    let Ok(Ok(runtime)) = runtime_rx.recv() else {
        let _ = background.join();
        return std::process::ExitCode::FAILURE;
    };

    let mut tray: Option<TrayIcon> = None;
    let menu_events = MenuEvent::receiver();
    event_loop.run(move |event, _, flow| {
        *flow = ControlFlow::Wait;
        match event {
            // The tray is built once the loop runs (on macOS it must be).
            Event::NewEvents(StartCause::Init) => match build_tray(&runtime.tray()) {
                Ok(icon) => tray = Some(icon),
                Err(e) => tracing::warn!("no tray icon: {e}"),
            },
            Event::UserEvent(Note::Paint(view)) => {
                if let Some(icon) = &tray {
                    paint(icon, &view);
                }
            }
            Event::UserEvent(Note::Stopped) => {
                tray.take();
                *flow = ControlFlow::Exit;
            }
            _ => {}
        }
        while let Ok(event) = menu_events.try_recv() {
            match event.id.as_ref() {
                SYNC => {
                    let _ = ask.send(Ask::Sync);
                }
                DRILL => {
                    let _ = ask.send(Ask::Drill);
                }
                QUIT => {
                    let _ = ask.send(Ask::Quit);
                }
                _ => {}
            }
        }
    });
}

/// The runtime's thread: start, forward tray changes, stop on 終了 or a stop signal.
fn background(
    desk: Arc<Desk>,
    proxy: EventLoopProxy<Note>,
    started: std::sync::mpsc::SyncSender<tsunagi_core::Result<Runtime>>,
    mut asked: tokio::sync::mpsc::UnboundedReceiver<Ask>,
) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("an async runtime (the OS refused its timers or sockets)");
    tokio.block_on(async move {
        let mut signals = tsunagi_core::runtime::StopSignals::listen()
            .inspect_err(|e| tracing::warn!("cannot listen for stop requests: {e}"))
            .ok();
        let runtime = match Runtime::start(
            desk.clone(),
            RuntimeOptions::default(),
            &tokio::runtime::Handle::current(),
        ) {
            Ok(runtime) => runtime,
            Err(e) => {
                tracing::error!(code = %e.code(), "cannot start the runtime: {e}");
                eprintln!("tsunagi-tray: {e}");
                let _ = started.send(Err(e));
                let _ = proxy.send_event(Note::Stopped);
                return;
            }
        };
        let mut events = runtime.subscribe();
        let _ = started.send(Ok(runtime.clone()));
        let stop = async {
            match signals.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                ask = asked.recv() => match ask {
                    Some(Ask::Sync) => {
                        // The outcome reaches the tray as runtime events.
                        let runtime = runtime.clone();
                        tokio::spawn(async move {
                            let _ = runtime.sync_now().await;
                        });
                    }
                    Some(Ask::Drill) => {
                        // The runtime's tray event relabels the menu.
                        let desk = desk.clone();
                        tokio::spawn(async move {
                            if let Err(e) = desk.toggle_drill(None).await {
                                tracing::warn!(code = %e.code(), "drill from the tray failed: {e}");
                            }
                        });
                    }
                    Some(Ask::Quit) | None => break,
                },
                event = events.recv() => match event {
                    Ok(RuntimeEvent::Tray { tray }) => {
                        let _ = proxy.send_event(Note::Paint(tray));
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        tracing::info!("stopping cleanly");
        runtime.shutdown().await;
        let _ = proxy.send_event(Note::Stopped);
    });
}

fn open_desk(data_dir: Option<PathBuf>) -> tsunagi_core::Result<Desk> {
    let data_dir = match data_dir {
        Some(dir) => DataDir::at(&dir),
        None => DataDir::os_default()?,
    };
    Desk::open(DeskOptions {
        data_dir,
        keychain: Arc::new(Keychain::os()),
        clock: Arc::new(SystemClock),
        locale: tsunagi_core::config::os_locale(),
    })
}

/// The tray paints a small picture and a menu: no OpenGL. GTK 3 on X11 otherwise sets up
/// GLX when it opens the display (to choose visuals), which loads the GL driver: Mesa's
/// llvmpipe and its libLLVM on a machine without a GPU, 33 MB of this process's 82 MB
/// (docs/benchmarks.md). A value the user set wins. Called first, on a single thread.
fn no_gl_before_gtk() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
}

/// `--data-dir DIR` (as the app takes it); other arguments (`--hidden`) change nothing
/// here: this process never shows a window.
fn data_dir_arg() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(dir) = arg.to_str().and_then(|a| a.strip_prefix("--data-dir=")) {
            return Some(PathBuf::from(dir));
        }
    }
    None
}

fn icon(health: Health) -> Icon {
    let decoder = png::Decoder::new(std::io::Cursor::new(health.icon_png()));
    let mut reader = decoder.read_info().expect("tray icons are valid PNGs");
    let mut rgba = vec![0; reader.output_buffer_size().expect("a small icon")];
    let frame = reader
        .next_frame(&mut rgba)
        .expect("tray icons are valid PNGs");
    rgba.truncate(frame.buffer_size());
    Icon::from_rgba(rgba, frame.width, frame.height).expect("tray icons are RGBA")
}

fn menu(view: &TrayView) -> Menu {
    let menu = Menu::new();
    let items: [&dyn tray_icon::menu::IsMenuItem; 4] = [
        &MenuItem::with_id(SYNC, &view.menu.sync, true, None),
        &MenuItem::with_id(DRILL, &view.menu.drill, true, None),
        &PredefinedMenuItem::separator(),
        &MenuItem::with_id(QUIT, &view.menu.quit, true, None),
    ];
    if let Err(e) = menu.append_items(&items) {
        tracing::warn!("could not build the tray menu: {e}");
    }
    menu
}

fn build_tray(view: &TrayView) -> tray_icon::Result<TrayIcon> {
    TrayIconBuilder::new()
        .with_id("main")
        .with_icon(icon(view.health))
        .with_tooltip(&view.tooltip)
        .with_menu(Box::new(menu(view)))
        .build()
}

fn paint(tray: &TrayIcon, view: &TrayView) {
    if let Err(e) = tray.set_icon(Some(icon(view.health))) {
        tracing::warn!("could not paint the tray: {e}");
    }
    let _ = tray.set_tooltip(Some(&view.tooltip));
    tray.set_menu(Some(Box::new(menu(view))));
}
