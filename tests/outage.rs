//! End to end: the app runs hidden in the tray, in a network namespace whose only line
//! leads to an "internet" namespace. Pulling the line's plug brings the window up with the
//! red offline banner and the first thing to try; plugging it back turns the banner off again.
//! Needs root for the namespaces (CI runs as root).

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tsunagi_testkit::netns::{Network, PUBLIC};
use tsunagi_testkit::probe_servers::{DnsServer, HttpEndpoint, CONNECT_BODY};
use tsunagi_testkit::procfs;
use tsunagi_testkit::x11::X11;
use tsunagi_testkit::{
    send_signal, stop_processes_with_arg, wait_until, ChildGuard, Display, KillOnDrop, Session,
    SIGKILL, SIGTERM,
};

const APP: &str = env!("CARGO_BIN_EXE_tsunagi");
const WINDOW_TITLE: &str = "Tsunagi";
/// The offline banner's background (#b91c1c).
const OFFLINE_RED: u32 = 0xb91c1c;

fn save(x: &X11, display: &Display, window: u32, name: &str) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    x.capture_png(&display.name(), window, &path);
    if std::env::var_os("TSUNAGI_UPDATE_SCREENSHOTS").is_some() {
        let docs = tsunagi_testkit::package_dir().join("docs/screenshots");
        std::fs::copy(&path, docs.join(name)).unwrap();
    }
}

/// A Japanese desk whose monitor probes the "internet" namespace of `net`.
fn seed_config(data: &std::path::Path, net: &Network, device: &str) {
    std::fs::write(
        data.join("config.toml"),
        format!(
            "device_id = \"{device}\"\nlanguage = \"ja\"\nautostart = false\n\
             [monitor]\nendpoints = [{{ url = \"http://{PUBLIC}/connect.txt\", expect = \"{CONNECT_BODY}\" }}]\n\
             dns_name = \"probe.test\"\ndns_servers = [\"{PUBLIC}\"]\ngateway = \"{}\"\n",
            net.primary.gateway
        ),
    )
    .unwrap();
}

/// What is asked of the desktop's notification service (there is none on a test display;
/// the bus still carries the request), logged to `name` in the test's temp folder.
fn watch_notifications(session: &Session, name: &str) -> (ChildGuard, std::path::PathBuf) {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let notes = session
        .command("dbus-monitor")
        .args([
            "--session",
            "interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&path).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor (apt: dbus-bin)");
    (ChildGuard::new("dbus-monitor", notes), path)
}

/// WebKit's own WebDriver attached to a window another process started: the tray runs
/// with automation allowed and WebKit's inspector server on `inspector`, and the window it
/// starts inherits both. The driver runs in the desk's namespace, where that server
/// listens; logs to `name` in the test's temp folder. One per window process.
fn attach_driver(
    session: &Session,
    net: &Network,
    inspector: u16,
    name: &str,
) -> (ChildGuard, u16) {
    let port = free_port();
    let log = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let driver = session
        .command("ip")
        .args(["netns", "exec", &net.desk, "WebKitWebDriver"])
        .arg(format!("--port={port}"))
        .arg(format!("--target=127.0.0.1:{inspector}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .expect("WebKitWebDriver (apt: webkit2gtk-driver)");
    let driver = ChildGuard::new("WebKitWebDriver", driver);
    net.within_desk(|| {
        wait_until(Duration::from_secs(20), "WebKitWebDriver to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
    });
    (driver, port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The outage screen read in the page over a WebDriver session on the running window
/// (`tsunagi_testkit::page::OUTAGE_SCREEN`), once `ready` accepts it or after 15 s. The
/// session ends; the window stays.
fn read_screen(net: &Network, port: u16, ready: impl Fn(&Value) -> bool + Sync) -> Value {
    in_window(net, port, tsunagi_testkit::page::OUTAGE_SCREEN, ready)
}

/// Where the desk is in the call list: its "not reached only" filter and how far the
/// page is scrolled.
const CALL_LIST_PLACE: &str =
    "const box = document.querySelector('[data-testid=not-reached-only]'); \
     const main = document.querySelector('main'); \
     return { filter: box ? box.checked : null, scroll: main ? Math.round(main.scrollTop) : null, \
       room: main ? main.scrollHeight - main.clientHeight : 0 };";

/// `script`'s answer in the page over a WebDriver session on the running window, once
/// `ready` accepts it or after 15 s. The session ends; the window stays.
fn in_window(
    net: &Network,
    port: u16,
    script: &str,
    ready: impl Fn(&Value) -> bool + Sync,
) -> Value {
    net.within_desk(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = fantoccini::ClientBuilder::native()
                .capabilities(serde_json::Map::new())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .expect("a WebDriver session with the window the tray started");
            let deadline = Instant::now() + Duration::from_secs(15);
            let screen = loop {
                let v = client.execute(script, vec![]).await.unwrap_or(Value::Null);
                if ready(&v) || Instant::now() > deadline {
                    break v;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            client.close().await.expect("end the WebDriver session");
            screen
        })
    })
}

/// Pull the line's plug: the window comes up (within `wait`) with the red offline banner.
/// Answers the window and how long that took from the cut.
fn cut_and_see_the_window(net: &Network, x: &X11, wait: Duration) -> (u32, Duration) {
    let cut = Instant::now();
    net.set_link(&net.primary, false);
    let mut window = 0;
    wait_until(wait, "the window to come up", || {
        match x.find_window(WINDOW_TITLE) {
            Some(w) if x.is_viewable(w) => {
                window = w;
                true
            }
            _ => false,
        }
    });
    wait_until(Duration::from_secs(10), "the red offline banner", || {
        x.count_color(window, OFFLINE_RED) > 5_000
    });
    (window, cut.elapsed())
}

/// Plug the line back in: the banner goes.
fn plug_back(net: &Network, x: &X11, window: u32) {
    net.set_link(&net.primary, true);
    net.route_via(&net.primary);
    wait_until(
        Duration::from_secs(20),
        "the banner to go when the line returns",
        || x.count_color(window, OFFLINE_RED) == 0,
    );
}

/// Whether a notification asked for so far (the log of [`watch_notifications`]) says
/// all of `words`.
fn notified(log: &std::path::Path, words: &[&str]) -> bool {
    let notes = std::fs::read_to_string(log).unwrap_or_default();
    words.iter().all(|w| notes.contains(w))
}

/// What the offline notification says: what happened and what failed.
const OFFLINE_NOTICE: [&str; 2] = ["回線が切れました", "ネットワークにつながっていません"];

struct App {
    data: tempfile::TempDir,
    _app: ChildGuard,
}

impl Drop for App {
    fn drop(&mut self) {
        stop_processes_with_arg(&self.data.path().display().to_string());
    }
}

#[test]
fn pulling_the_plug_brings_the_hidden_window_up_with_the_offline_banner() {
    let session = Session::start();
    let display = Display::start();
    let net = Network::new(false);
    let endpoint = HttpEndpoint::serve(net.listen_tcp(&format!("{PUBLIC}:80")));
    let _dns = DnsServer::serve(net.bind_udp(&format!("{PUBLIC}:53")), PUBLIC);

    let data = tempfile::Builder::new()
        .prefix("tsunagi-outage-")
        .tempdir()
        .unwrap();
    seed_config(data.path(), &net, "outage");
    let log_path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outage-app.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = session
        .command("ip")
        // The app runs the desk itself, as where tsunagi-tray is not installed beside it
        // (the tray process's own test follows).
        .args([
            "netns",
            "exec",
            &net.desk,
            APP,
            "--no-tray",
            "--hidden",
            "--data-dir",
        ])
        .arg(data.path())
        .env("DISPLAY", display.name())
        .env("TSUNAGI_LOG", "info")
        // The hidden window gives its web view up after 3 s here (2 minutes by default).
        .env("TSUNAGI_WINDOW_GRACE_SECS", "3")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start the app in the desk's namespace");
    // `ip netns exec` becomes the app.
    let app_pid = child.id() as i32;
    let app = App {
        _app: ChildGuard::new("tsunagi", child),
        data,
    };

    let (_notes, notes_path) = watch_notifications(&session, "outage-notifications.log");

    let x = X11::connect(&display.name());
    wait_until(Duration::from_secs(30), "the monitor's heartbeats", || {
        endpoint.requests() >= 3
    });
    let hidden = x
        .find_window(WINDOW_TITLE)
        .is_none_or(|w| !x.is_viewable(w));
    assert!(
        hidden,
        "started with --hidden, the window stays in the tray"
    );
    // Issue 18: started at login, no web engine until a window is needed.
    assert_eq!(
        procfs::webkit_processes(app_pid),
        Vec::<String>::new(),
        "no web engine at all while hidden after a login start"
    );

    let (window, shown_after) = cut_and_see_the_window(&net, &x, Duration::from_secs(10));
    eprintln!("window up with the offline banner {shown_after:?} after the cut");
    save(&x, &display, window, "outage-offline.png");
    wait_until(
        Duration::from_secs(5),
        "a notification naming the failure",
        || notified(&notes_path, &OFFLINE_NOTICE),
    );

    plug_back(&net, &x, window);
    assert!(
        x.is_viewable(window),
        "the window stays for the desk to see"
    );
    wait_until(
        Duration::from_secs(5),
        "a notification that the line is back",
        || notified(&notes_path, &["回線が復旧しました"]),
    );
    save(&x, &display, window, "outage-recovered.png");

    // Issue 18: closed to the tray, the window gives its web view up after the grace
    // period; a second launch builds it again, populated.
    assert!(
        procfs::web_views(app_pid) > 0,
        "a shown window has its web view"
    );
    x.request_close(window);
    wait_until(
        Duration::from_secs(20),
        "the web view given up after the grace period",
        || procfs::web_views(app_pid) == 0,
    );
    eprintln!(
        "after the grace period, WebKit processes left: {:?}",
        procfs::webkit_processes(app_pid)
    );
    let populated = || {
        std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .matches("window populated")
            .count()
    };
    let before = populated();
    let second = session
        .command("ip")
        .args(["netns", "exec", &net.desk, APP, "--data-dir"])
        .arg(app.data.path())
        .env("DISPLAY", display.name())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a second launch");
    let mut second = ChildGuard::new("tsunagi (second launch)", second);
    wait_until(Duration::from_secs(10), "the window back", || {
        x.find_window(WINDOW_TITLE)
            .is_some_and(|w| x.is_viewable(w))
    });
    wait_until(
        Duration::from_secs(10),
        "the rebuilt window populated",
        || populated() > before,
    );
    wait_until(
        Duration::from_secs(10),
        "the second launch handing over and leaving",
        || second.exited().is_some(),
    );
    drop(app);
}

/// Issue 18: the tray process runs the desk all day with no web engine; the window is the
/// app, started by the tray when it is needed and gone a while after it is hidden.
/// On a 1366×768 desk screen, pulling the plug brings the window up with the offline banner
/// (the runtime stays in the tray) and, read over WebDriver, the call list with its first
/// patient not yet reached in focus and on screen; closed to the tray, the window process
/// exits after the grace period; a second launch brings it back, populated, on the same tab.
#[test]
fn issue_18_the_tray_process_opens_the_window_on_an_outage_and_the_window_leaves_when_hidden() {
    let tray_program = std::path::Path::new(APP).with_file_name("tsunagi-tray");
    assert!(
        tray_program.exists(),
        "build the tray first: cargo build -p tsunagi-tray ({})",
        tray_program.display()
    );
    let session = Session::start();
    let display = Display::desk_screen();
    let net = Network::new(false);
    let _endpoint = HttpEndpoint::serve(net.listen_tcp(&format!("{PUBLIC}:80")));
    let _dns = DnsServer::serve(net.bind_udp(&format!("{PUBLIC}:53")), PUBLIC);
    let data = tempfile::Builder::new()
        .prefix("tsunagi-tray-outage-")
        .tempdir()
        .unwrap();
    seed_config(data.path(), &net, "tray-outage");
    let log_path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outage-tray.log");
    let data_path = data.path().to_owned();
    // The windows the tray starts can be driven over WebDriver (WebKit's inspector server,
    // inside the desk's namespace).
    let inspector = free_port();
    let start_tray = |log: std::fs::File| {
        session
            .command("ip")
            .args(["netns", "exec", &net.desk])
            .arg(&tray_program)
            .args(["--hidden", "--data-dir"])
            .arg(&data_path)
            .env("DISPLAY", display.name())
            .env("TSUNAGI_LOG", "info")
            // The window it starts leaves 6 s after it is hidden (2 minutes by default).
            .env("TSUNAGI_WINDOW_GRACE_SECS", "6")
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("WEBKIT_INSPECTOR_SERVER", format!("127.0.0.1:{inspector}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start tsunagi-tray in the desk's namespace")
    };
    let child = start_tray(std::fs::File::create(&log_path).unwrap());
    let tray_pid = child.id() as i32;
    let app = App {
        _app: ChildGuard::new("tsunagi-tray", child),
        data,
    };
    let said = || std::fs::read_to_string(&log_path).unwrap_or_default();
    // The notifications are the tray process's now (the window may not be there).
    let (_notes, notes_path) = watch_notifications(&session, "outage-tray-notifications.log");
    let x = X11::connect(&display.name());
    wait_until(Duration::from_secs(60), "the tray's first mirror", || {
        said().contains("mirror refreshed")
    });
    assert!(
        x.find_window(WINDOW_TITLE)
            .is_none_or(|w| !x.is_viewable(w)),
        "the tray shows no window at a login start"
    );
    assert_eq!(
        procfs::tree(tray_pid).len(),
        1,
        "no window process and no web engine while nothing needs them"
    );

    let (window, shown_after) = cut_and_see_the_window(&net, &x, Duration::from_secs(15));
    eprintln!("window process up with the offline banner {shown_after:?} after the cut");
    // What the receptionist meets: the call list, the first patient to call in focus.
    let (mut driver, port) = attach_driver(&session, &net, inspector, "outage-tray-driver.log");
    let screen = read_screen(&net, port, |v| {
        v["tab"] == "tab-calls" && v["focused"] == true && v["focusedSeen"] == true
    });
    eprintln!("the outage screen over WebDriver: {screen}");
    assert_eq!(
        screen["tab"], "tab-calls",
        "opens on the call list: {screen}"
    );
    assert_eq!(
        screen["focused"], true,
        "the keyboard on the first patient not yet reached: {screen}"
    );
    assert_eq!(
        screen["focusedSeen"], true,
        "that patient on screen without scrolling: {screen}"
    );
    let rows = screen["rows"].as_u64().unwrap();
    assert_eq!(
        screen["visible"].as_u64().unwrap(),
        rows.min(3),
        "the first three patients on screen: {screen}"
    );
    assert_eq!(
        screen["beside"], true,
        "the checklist beside the list: {screen}"
    );
    driver.stop(Duration::from_secs(5));
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    x.capture_png(
        &display.name(),
        window,
        &dir.join("tray-outage-offline.png"),
    );
    wait_until(
        Duration::from_secs(5),
        "the tray's notification naming the failure",
        || notified(&notes_path, &OFFLINE_NOTICE),
    );
    assert!(
        said().contains("this is its window"),
        "the window follows the tray's runtime: {}",
        said()
    );

    plug_back(&net, &x, window);

    // The desk narrows the call list to those not reached yet and scrolls down a way: the
    // window built again later comes back to both.
    let (mut driver, port) =
        attach_driver(&session, &net, inspector, "outage-tray-driver-place.log");
    let left = in_window(
        &net,
        port,
        &format!(
            "{{ const box = document.querySelector('[data-testid=not-reached-only]'); \
             if (box && !box.checked) box.click(); \
             const main = document.querySelector('main'); \
             if (main) main.scrollTop = Math.min(240, main.scrollHeight - main.clientHeight); }} \
             {CALL_LIST_PLACE}"
        ),
        |v| v["filter"] == true && v["scroll"].as_u64() > Some(0),
    );
    driver.stop(Duration::from_secs(5));
    eprintln!("the call list as the desk left it: {left}");
    assert_eq!(left["filter"], true, "the filter set: {left}");
    assert!(
        left["scroll"].as_u64() > Some(0),
        "the call list scrolled: {left}"
    );
    // The page keeps its place 300 ms after scrolling stops.
    std::thread::sleep(Duration::from_secs(1));

    // Closed to the tray: after the grace period the window's process is gone, web engine
    // and all; the tray keeps running.
    assert!(
        procfs::web_views(tray_pid) > 0,
        "a shown window has its web view"
    );
    x.request_close(window);
    wait_until(
        Duration::from_secs(20),
        "the window process to leave after the grace period",
        || procfs::tree(tray_pid).len() == 1,
    );
    assert!(said().contains("the window process exits"), "{}", said());

    // The app started hidden (a login item from before the tray process) while the tray
    // runs the desk: nothing is asked of it, so it leaves at once.
    let old_login_item = session
        .command("ip")
        .args(["netns", "exec", &net.desk, APP, "--hidden", "--data-dir"])
        .arg(&data_path)
        .env("DISPLAY", display.name())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the app, hidden");
    let mut old_login_item = ChildGuard::new("tsunagi --hidden", old_login_item);
    wait_until(
        Duration::from_secs(15),
        "the hidden app to leave the desk to the tray",
        || old_login_item.exited().is_some_and(|s| s.success()),
    );
    assert!(
        x.find_window(WINDOW_TITLE)
            .is_none_or(|w| !x.is_viewable(w)),
        "no window for a hidden start"
    );

    // A second launch: the tray opens the window again, populated.
    let populated = || said().matches("window populated").count();
    let before = populated();
    let second_log =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outage-tray-2.log");
    let mut second = ChildGuard::new(
        "tsunagi-tray (second launch)",
        start_tray(std::fs::File::create(&second_log).unwrap()),
    );
    wait_until(Duration::from_secs(15), "the window back", || {
        x.find_window(WINDOW_TITLE)
            .is_some_and(|w| x.is_viewable(w))
    });
    wait_until(Duration::from_secs(15), "the new window populated", || {
        populated() > before
    });
    // Where the desk left it: the call list the outage opened, though the line is up now
    // (a window built on a good line opens on 予約一覧 otherwise).
    let (mut driver, port) = attach_driver(&session, &net, inspector, "outage-tray-driver-2.log");
    let screen = read_screen(&net, port, |v| {
        v["tab"] == "tab-calls" && v["rows"].as_u64() > Some(0)
    });
    assert_eq!(screen["tab"], "tab-calls", "the same tab: {screen}");
    assert!(screen["rows"].as_u64() > Some(0), "populated: {screen}");
    let place = in_window(&net, port, CALL_LIST_PLACE, |v| {
        v["scroll"] == left["scroll"]
    });
    eprintln!("the call list in the window built again: {place}");
    assert_eq!(
        (&place["filter"], &place["scroll"]),
        (&left["filter"], &left["scroll"]),
        "the same filter and scroll position as the desk left them: {place}, left {left}"
    );
    driver.stop(Duration::from_secs(5));
    wait_until(
        Duration::from_secs(10),
        "the second launch handing over and leaving",
        || second.exited().is_some_and(|s| s.success()),
    );

    // Launched again while the window is there, shown and then hidden within its grace
    // period: the tray raises that window over the channel and starts no other window
    // process (it used to start one on every raise, which only handed the raise on).
    let started = || said().matches("window process started").count();
    let started_before = started();
    let window = x.find_window(WINDOW_TITLE).expect("the window");
    for hidden in [false, true] {
        if hidden {
            x.request_close(window);
            wait_until(Duration::from_secs(5), "the window hidden", || {
                !x.is_viewable(window)
            });
        }
        let mut again = ChildGuard::new(
            "tsunagi-tray (launched again)",
            start_tray(std::fs::File::create(&second_log).unwrap()),
        );
        wait_until(
            Duration::from_secs(10),
            "the launch handing over and leaving",
            || again.exited().is_some_and(|s| s.success()),
        );
        wait_until(Duration::from_secs(5), "the window raised", || {
            x.is_viewable(window)
        });
    }
    assert_eq!(
        started(),
        started_before,
        "no window process started for a window that was there: {}",
        said()
    );

    // The tray process crashes (killed): the window stays on screen, starts the tray again
    // and follows it (it used to close with it, leaving the line unwatched).
    let window_pid = *procfs::named(tray_pid, "tsunagi")
        .first()
        .expect("the window's process under the tray");
    // Whatever this part leaves running is stopped even if it fails.
    let _leftovers = KillOnDrop(vec![window_pid]);
    send_signal(tray_pid, SIGKILL);
    wait_until(
        Duration::from_secs(30),
        "the window to start the tray again",
        || !procfs::named(window_pid, "tsunagi-tray").is_empty(),
    );
    let new_tray = procfs::named(window_pid, "tsunagi-tray")[0];
    let _leftovers = KillOnDrop(vec![window_pid, new_tray]);
    wait_until(
        Duration::from_secs(20),
        "the window following the new tray",
        || said().contains("this window follows it"),
    );
    assert!(x.is_viewable(window), "the window stayed on screen");
    // The new tray answers a launch and raises the same window.
    x.request_close(window);
    wait_until(Duration::from_secs(5), "the window hidden", || {
        !x.is_viewable(window)
    });
    let mut again = ChildGuard::new(
        "tsunagi-tray (launched after the crash)",
        start_tray(std::fs::File::create(&second_log).unwrap()),
    );
    wait_until(
        Duration::from_secs(10),
        "the launch handing over to the new tray",
        || again.exited().is_some_and(|s| s.success()),
    );
    wait_until(
        Duration::from_secs(5),
        "the window raised by the new tray",
        || x.is_viewable(window),
    );
    // The new tray stops (終了, the session ending): the window closes with it, and
    // nothing starts the tray again.
    send_signal(new_tray, SIGTERM);
    wait_until(
        Duration::from_secs(20),
        "the window to close with the stopped tray",
        || !std::path::Path::new(&format!("/proc/{window_pid}")).exists(),
    );
    assert_eq!(
        said().matches("starting it again").count(),
        1,
        "a stopped tray is not started again: {}",
        said()
    );

    drop(app);
}
