// No console window on Windows for a release build (the login item starts it).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
//! `tsunagi-tray`: the desk's runtime (monitor, sender, puller, schedules) and its tray
//! icon, in a process that never loads a web engine (issue 18).
//!
//! The window is a second process (the app, `tsunagi`), started when it is needed: on an
//! outage, from the tray, on a second launch. A process that links Tauri costs about 90 MB
//! before it shows anything (docs/benchmarks.md), so the tray that runs all day must not
//! be that process. The window finds the runtime here through the local channel
//! (`tsunagi_core::runtime::local`) and exits a while after it is hidden.
//!
//! Threads: the main thread runs the OS event loop (tao: GTK on Linux, AppKit on macOS,
//! the message loop on Windows), which the tray needs; one more thread runs a
//! single-threaded tokio runtime with all the background work.

use std::path::PathBuf;
use std::sync::Arc;

use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tsunagi_core::clock::SystemClock;
use tsunagi_core::config::DataDir;
use tsunagi_core::keychain::Keychain;
use tsunagi_core::runtime::{
    local, Health, Notice, Runtime, RuntimeEvent, RuntimeOptions, TrayView,
};
use tsunagi_core::view::DeskEvent;
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
    Show,
    Sync,
    Drill,
    Quit,
}

const OPEN: &str = "open";
const SYNC: &str = "sync";
const DRILL: &str = "drill";
const QUIT: &str = "quit";

fn main() -> std::process::ExitCode {
    one_malloc_arena();
    no_gl_before_gtk();
    tsunagi_core::logging::init(Some("warn,tsunagi_tray=info,tsunagi_core=info"));
    tsunagi_core::crash::install_panic_hook("tsunagi-tray");
    let folder = data_dir_arg().or_else(|| std::env::var_os("TSUNAGI_DATA_DIR").map(PathBuf::from));
    let data_dir = match folder.map_or_else(DataDir::os_default, |d| Ok(DataDir::at(&d))) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("tsunagi-tray: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // A second launch (the desk's icon clicked again, a login item and a click): the tray
    // already running shows its window, and this one leaves.
    if asked_the_running_tray(&data_dir) {
        tracing::info!("Tsunagi is already running here; asked it to show its window");
        return std::process::ExitCode::SUCCESS;
    }
    let desk = match open_desk(data_dir) {
        Ok(desk) => Arc::new(desk),
        Err(e) => {
            // The window (when it exists) explains; the tray has nothing to run.
            tracing::error!(code = %e.code(), "cannot open the desk: {e}");
            eprintln!("tsunagi-tray: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    #[allow(unused_mut)] // changed on macOS only
    let mut event_loop = EventLoopBuilder::<Note>::with_user_event().build();
    // A tray, not an app in the Dock or the app switcher (the window's process is one).
    #[cfg(target_os = "macos")]
    {
        use tao::platform::macos::{ActivationPolicy, EventLoopExtMacOS};
        event_loop.set_activation_policy(ActivationPolicy::Accessory);
    }
    notifications_sent_as_tsunagi();
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
    let icon_events = TrayIconEvent::receiver();
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
        while let Ok(event) = icon_events.try_recv() {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                let _ = ask.send(Ask::Show);
            }
        }
        while let Ok(event) = menu_events.try_recv() {
            match event.id.as_ref() {
                OPEN => {
                    let _ = ask.send(Ask::Show);
                }
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

/// The runtime's thread: start, serve the window's channel, forward tray changes, open the
/// window when it is needed, stop on 終了 or a stop signal.
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
        // The window's way to the runtime; a second launch's "show" comes this way too. A
        // window already there is raised over it; the app is started only when none is.
        let (stop_channel, channel_stops) = tokio::sync::watch::channel(false);
        let window = Window::new(desk.data_dir().root().to_owned());
        let windows = local::Windows::new(move || window.start());
        let channel = tokio::spawn(local::serve(
            runtime.clone(),
            windows.clone(),
            channel_stops,
        ));
        // Started by a person (not at login with `--hidden`): they want the window.
        if !hidden_arg() {
            windows.raise();
        }
        // The login item starts this process (the app's window follows it when needed).
        let mut login_item = desk.config().autostart;
        set_login_item(login_item);
        // When the code pages were last given back (see `give_back_code`).
        let mut code_given_back: Option<std::time::Instant> = None;
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
                    Some(Ask::Show) => windows.raise(),
                    Some(Ask::Sync) => {
                        // The outcome reaches the tray as runtime events.
                        let runtime = runtime.clone();
                        tokio::spawn(async move {
                            let _ = runtime.sync_now().await;
                        });
                    }
                    Some(Ask::Drill) => {
                        // The runtime's tray event relabels the menu; the window shows it.
                        let (desk, windows) = (desk.clone(), windows.clone());
                        tokio::spawn(async move {
                            match desk.toggle_drill(None).await {
                                Ok(_) => windows.raise(),
                                Err(e) => tracing::warn!(code = %e.code(), "drill from the tray failed: {e}"),
                            }
                        });
                    }
                    Some(Ask::Quit) | None => break,
                },
                event = events.recv() => match event {
                    Ok(event) => {
                        // The line went down: the desk needs the window now.
                        if event.raises_window() {
                            windows.raise();
                        }
                        // Said even with no window.
                        if let Some(notice) = event.notice() {
                            notify(notice.clone());
                        }
                        match event {
                            RuntimeEvent::Tray { tray } => {
                                let _ = proxy.send_event(Note::Paint(tray));
                            }
                            // A pull is done: what it held is given back until the next.
                            RuntimeEvent::Desk { event: DeskEvent::MirrorUpdated { .. } } => {
                                let desk = desk.clone();
                                let code = code_given_back
                                    .is_none_or(|at| at.elapsed() >= GIVE_BACK_CODE_EVERY);
                                if code {
                                    code_given_back = Some(std::time::Instant::now());
                                }
                                tokio::task::spawn_blocking(move || give_back_memory(&desk, code));
                            }
                            RuntimeEvent::Desk { event: DeskEvent::ConfigChanged {} } => {
                                // 起動時に開始 changed in the window's settings.
                                let wanted = desk.config().autostart;
                                if wanted != login_item {
                                    login_item = wanted;
                                    set_login_item(wanted);
                                }
                            }
                            _ => {}
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        tracing::info!("stopping cleanly");
        // The run is marked ended before the channel closes: the window reads that mark to
        // tell a stop (it closes too) from a crash (it starts the tray again).
        runtime.shutdown().await;
        let _ = stop_channel.send(true);
        if let Ok(Err(e)) = channel.await {
            tracing::warn!(code = %e.code(), "the window's channel failed: {e}");
        }
        let _ = proxy.send_event(Note::Stopped);
    });
}

/// Make the OS login item start this program hidden (`--hidden`), or remove it. The item
/// is the one the app made before (same name), now pointing here. Failure is logged: the
/// desk works without it, and the settings screen shows what was asked.
fn set_login_item(enabled: bool) {
    tokio::task::spawn_blocking(move || {
        let program = match std::env::current_exe() {
            Ok(p) => p.display().to_string(),
            Err(e) => {
                tracing::warn!("could not set start-at-login: {e}");
                return;
            }
        };
        let mut builder = auto_launch::AutoLaunchBuilder::new();
        builder
            .set_app_name("Tsunagi")
            .set_app_path(&program)
            .set_args(&["--hidden"]);
        #[cfg(target_os = "macos")]
        builder.set_macos_launch_mode(auto_launch::MacOSLaunchMode::LaunchAgent);
        let done = builder.build().and_then(|item| {
            if enabled {
                // Written every time: it may still name the app from before the tray.
                item.enable()
            } else if item.is_enabled()? {
                item.disable()
            } else {
                Ok(())
            }
        });
        match done {
            Ok(()) => tracing::info!(enabled, "start-at-login set for the tray"),
            Err(e) => tracing::warn!("could not change start-at-login: {e}"),
        }
    });
}

/// Show one of core's notices as a desktop notification (off the async thread: it is a
/// round trip to the desktop's notification service).
fn notify(notice: Notice) {
    tokio::task::spawn_blocking(move || {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname("Tsunagi")
            .summary(&notice.title)
            .body(&notice.body);
        // Windows names a toast's sender by the app id its Start menu entry registered
        // (the installer's, Tsunagi's identifier); a build not installed has none, and
        // notify-rust's default (PowerShell) is what can show.
        #[cfg(windows)]
        if !cfg!(debug_assertions) {
            notification.app_id(tsunagi_core::config::APP_IDENTIFIER);
        }
        let shown = notification.show();
        if let Err(e) = shown {
            // No notification service (a bare test display): the tray and window still say it.
            tracing::warn!("could not show a notification: {e}");
        }
    });
}

/// macOS sends a notification as the app bundle it names: Tsunagi's (the tray runs
/// inside Tsunagi.app). A debug build is not in a bundle the system knows, so it keeps
/// notify-rust's default sender. Elsewhere the notification itself names its sender.
fn notifications_sent_as_tsunagi() {
    #[cfg(target_os = "macos")]
    if !cfg!(debug_assertions) {
        if let Err(e) = notify_rust::set_application(tsunagi_core::config::APP_IDENTIFIER) {
            tracing::warn!("notifications will not be sent as Tsunagi: {e}");
        }
    }
}

/// Whether a tray already runs for this folder and was asked to show its window.
fn asked_the_running_tray(data_dir: &DataDir) -> bool {
    let Ok(tokio) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    tokio.block_on(local::ask_to_show(data_dir))
}

fn open_desk(data_dir: DataDir) -> tsunagi_core::Result<Desk> {
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
        // The window's web engine is left to choose for itself.
        std::env::set_var(GL_SET_HERE, "1");
    }
}

/// One malloc arena for the whole process. glibc gives each thread that allocates an arena
/// of its own (the event loop, the runtime, the blocking pool); their partly used pages
/// were 3.3 MB of this all-day process's 51 MB (PSS, measured with MALLOC_ARENA_MAX=1).
/// Its threads are idle nearly always, so they share one without contention worth the
/// memory. Called first, before any other thread exists.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// How often the code pages are given back: the first pull after the start, and then at most
/// every 10 minutes. The code a pull runs comes back with every pull (about 4 MB), so
/// giving it back after each pull only added CPU: idle 0.17 % after a start and 0.22 %
/// after a hide in the benchmark, against 0.12-0.16 % before (the goal: under 0.2 %). What
/// matters is the start's code and what rarer work (an outage, a recovery) ran.
const GIVE_BACK_CODE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Give back the memory a pull used: the database's page cache, the heap's free pages
/// (glibc keeps them for the next allocation otherwise; the tray waits a minute or more
/// between pulls), and with `code` the code pages (see [`give_back_code`]).
fn give_back_memory(desk: &Desk, code: bool) {
    if let Err(e) = desk.release_memory() {
        tracing::debug!(code = %e.code(), "could not shrink the database's cache: {e}");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the OS, under the allocator's
    // own locks.
    unsafe {
        libc::malloc_trim(0);
    }
    if code {
        give_back_code();
    }
}

/// Hand the pages of code and read-only data this process mapped from its files (the
/// program, GTK and the other libraries, fonts) back to the kernel. Starting up and a pull
/// run through much of the program and its libraries, and Linux maps 64 KB around each page
/// touched: 31 MB of the tray's 47 MB were such pages (docs/benchmarks.md), most of them not
/// needed until the next pull. What the idle loop runs comes back on its own when touched,
/// from the page cache (about 8 MB); nothing is lost, it is read again when needed.
fn give_back_code() {
    #[cfg(target_os = "linux")]
    {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return;
        };
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            // Mapped from a file and never written: dropping them loses nothing.
            let from_a_file = fields.nth(3).is_some_and(|path| path.starts_with('/'));
            if !from_a_file || perms.contains('w') {
                continue;
            }
            let Some((start, end)) = range.split_once('-') else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) else {
                continue;
            };
            // SAFETY: the range is one of this process's own mappings, page aligned, as
            // the kernel listed it; MADV_PAGEOUT only drops pages that can be read again
            // from the file (it never changes what the memory holds).
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT);
            }
        }
    }
    // Windows: trim the working set (pages go to the standby list, read back on use).
    #[cfg(windows)]
    // SAFETY: the process's own pseudo-handle; (-1, -1) asks Windows to trim the working
    // set and changes no memory.
    unsafe {
        use windows_sys::Win32::System::Threading::{GetCurrentProcess, SetProcessWorkingSetSize};
        SetProcessWorkingSetSize(GetCurrentProcess(), usize::MAX, usize::MAX);
    }
}

/// Marks `GDK_GL` as set by [`no_gl_before_gtk`], not by the user.
const GL_SET_HERE: &str = "TSUNAGI_TRAY_SET_GDK_GL";

/// `--hidden`: started at login; the window waits until it is needed.
fn hidden_arg() -> bool {
    std::env::args_os().skip(1).any(|a| a == "--hidden")
}

/// `--data-dir DIR` (as the app takes it).
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

/// The window: the app (`tsunagi`, beside this program) started for this data folder. It
/// finds the runtime here through the local channel, and from then on is raised over it
/// (`local::Windows`).
struct Window {
    data_dir: PathBuf,
    program: PathBuf,
}

impl Window {
    fn new(data_dir: PathBuf) -> Window {
        let program = local::program_beside_me("tsunagi", "TSUNAGI_WINDOW_PROGRAM");
        Window { data_dir, program }
    }

    fn start(&self) {
        let mut command = std::process::Command::new(&self.program);
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .stdin(std::process::Stdio::null());
        if std::env::var_os(GL_SET_HERE).is_some() {
            command.env_remove("GDK_GL").env_remove(GL_SET_HERE);
        }
        let started = command.spawn();
        match started {
            Ok(mut child) => {
                tracing::info!(pid = child.id(), "window process started");
                // Waited for, so it leaves no zombie behind when it exits.
                std::thread::spawn(move || {
                    let _ = child.wait();
                });
            }
            Err(e) => tracing::error!(
                program = %self.program.display(),
                "the window could not be started: {e}"
            ),
        }
    }
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
    let items: [&dyn tray_icon::menu::IsMenuItem; 5] = [
        &MenuItem::with_id(OPEN, &view.menu.open, true, None),
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
