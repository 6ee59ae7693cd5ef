//! End to end: the app runs hidden in the tray, in a network namespace whose only line
//! leads to an "internet" namespace. Pulling the line's plug brings the window up with the
//! red offline banner and the first thing to try; plugging it back turns the banner off again.
//! Needs root for the namespaces (CI runs as root).

use std::process::Stdio;
use std::time::{Duration, Instant};

use tsunagi_testkit::netns::{Network, PUBLIC};
use tsunagi_testkit::probe_servers::{DnsServer, HttpEndpoint, CONNECT_BODY};
use tsunagi_testkit::x11::X11;
use tsunagi_testkit::{stop_processes_with_arg, wait_until, ChildGuard, Display, Session};

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
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "device_id = \"outage\"\nlanguage = \"ja\"\nautostart = false\n\
             [monitor]\nendpoints = [{{ url = \"http://{PUBLIC}/connect.txt\", expect = \"{CONNECT_BODY}\" }}]\n\
             dns_name = \"probe.test\"\ndns_servers = [\"{PUBLIC}\"]\ngateway = \"{}\"\n",
            net.primary.gateway
        ),
    )
    .unwrap();
    let log = std::fs::File::create(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outage-app.log"),
    )
    .unwrap();
    let child = session
        .command("ip")
        .args(["netns", "exec", &net.desk, APP, "--hidden", "--data-dir"])
        .arg(data.path())
        .env("DISPLAY", display.name())
        .env("TSUNAGI_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start the app in the desk's namespace");
    let app = App {
        _app: ChildGuard::new("tsunagi", child),
        data,
    };

    // What the app asks the desktop's notification service to show (there is none on a
    // test display; the bus still carries the request).
    let notes_path =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outage-notifications.log");
    let notes = session
        .command("dbus-monitor")
        .args([
            "--session",
            "interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&notes_path).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor (apt: dbus-bin)");
    let _notes = ChildGuard::new("dbus-monitor", notes);

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

    let cut = Instant::now();
    net.set_link(&net.primary, false);
    let mut window = 0;
    wait_until(Duration::from_secs(10), "the window to come up", || match x
        .find_window(WINDOW_TITLE)
    {
        Some(w) if x.is_viewable(w) => {
            window = w;
            true
        }
        _ => false,
    });
    wait_until(Duration::from_secs(10), "the red offline banner", || {
        x.count_color(window, OFFLINE_RED) > 5_000
    });
    let shown_after = cut.elapsed();
    eprintln!("window up with the offline banner {shown_after:?} after the cut");
    save(&x, &display, window, "outage-offline.png");
    wait_until(
        Duration::from_secs(5),
        "a notification naming the failure",
        || {
            let notes = std::fs::read_to_string(&notes_path).unwrap_or_default();
            notes.contains("回線が切れました") && notes.contains("ネットワークにつながっていません")
        },
    );

    net.set_link(&net.primary, true);
    net.route_via(&net.primary);
    wait_until(
        Duration::from_secs(20),
        "the banner to go when the line returns",
        || x.count_color(window, OFFLINE_RED) == 0,
    );
    assert!(
        x.is_viewable(window),
        "the window stays for the desk to see"
    );
    wait_until(
        Duration::from_secs(5),
        "a notification that the line is back",
        || {
            std::fs::read_to_string(&notes_path)
                .unwrap_or_default()
                .contains("回線が復旧しました")
        },
    );
    save(&x, &display, window, "outage-recovered.png");
    drop(app);
}
