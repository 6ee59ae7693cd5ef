//! `tsunagi-tray` as a desk runs it: started at login with no window, it runs the whole
//! runtime (the mirror first) without a web engine or a GL driver in its process, serves
//! the window's channel, answers a second launch by opening the window (the app, a
//! process of its own), and stops cleanly when the session ends.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tsunagi_testkit::{ChildGuard, Display, Session};

const TRAY: &str = env!("CARGO_BIN_EXE_tsunagi-tray");

/// A stand-in for the app that the tray starts as its window: it writes down how it was
/// started, and leaves.
fn window_program(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let program = dir.join("window.sh");
    let started = dir.join("window-started");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\necho \"GDK_GL=$GDK_GL\" >> '{}'\n",
            started.display(),
            started.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program
}

fn start(session: &Session, display: &Display, data: &Path, log: &Path) -> ChildGuard {
    let child = session
        .command(TRAY)
        .args(["--hidden", "--data-dir"])
        .arg(data)
        .env(
            "TSUNAGI_WINDOW_PROGRAM",
            window_program(data.parent().unwrap()),
        )
        .env("DISPLAY", display.name())
        .env("TSUNAGI_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start tsunagi-tray");
    ChildGuard::new("tsunagi-tray", child)
}

#[test]
fn issue_18_the_tray_runs_the_desk_without_a_web_engine_and_stops_cleanly() {
    let session = Session::start();
    let display = Display::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("tray.log");
    // A healthy line (on loopback): the window opens only when asked.
    let _internet = tsunagi_testkit::probe_servers::seed_healthy_monitor(&data);
    let mut tray = start(&session, &display, &data, &log);

    // The runtime works: the demo clinic is mirrored (what the IT helper reads in the log).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let said = std::fs::read_to_string(&log).unwrap();
        if said.contains("mirror refreshed appointments=108") {
            break;
        }
        assert!(tray.exited().is_none(), "the tray exited: {said}");
        assert!(
            Instant::now() < deadline,
            "no mirror within 60 s; the tray said:\n{said}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Nothing of a web engine or a GL driver was loaded, and no helper process started.
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", tray.id())).unwrap();
    for library in [
        "libwebkit2gtk",
        "libjavascriptcore",
        "libLLVM",
        "libGLX_mesa",
        "_dri.so",
    ] {
        assert!(
            !maps.contains(library),
            "{library} is mapped in the tray process"
        );
    }
    assert_eq!(
        tsunagi_testkit::procfs::tree(tray.id() as i32).len(),
        1,
        "the tray starts no other process"
    );

    // Started at login from now on: the login item starts the tray, hidden.
    let entry = session.home().join(".config/autostart/Tsunagi.desktop");
    let item = std::fs::read_to_string(&entry).unwrap_or_default();
    assert!(
        item.contains(TRAY) && item.contains("--hidden"),
        "login item: {item:?}"
    );

    // The window's channel: a socket only this user may open.
    let socket = data.join("runtime.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );

    // A second launch (the desk's icon clicked again) asks the running tray for the window
    // and leaves; the tray starts the window for its folder, with GL left to the window.
    let second_log = dir.path().join("second.log");
    let mut second = start(&session, &display, &data, &second_log);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.exited() {
            break status;
        }
        assert!(Instant::now() < deadline, "the second tray did not leave");
        std::thread::sleep(Duration::from_millis(100));
    };
    let said = std::fs::read_to_string(&second_log).unwrap();
    assert!(status.success(), "{status:?}: {said}");
    assert!(said.contains("asked it to show its window"), "{said}");
    assert!(tray.exited().is_none(), "the first tray keeps running");
    let started = dir.path().join("window-started");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !started.exists() {
        assert!(
            Instant::now() < deadline,
            "the tray did not start the window"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let how = std::fs::read_to_string(&started).unwrap();
    assert_eq!(
        how,
        format!("--data-dir {}\nGDK_GL=\n", data.display()),
        "the window opens this folder, its web engine free to use GL"
    );
    // The window that left is waited for: no zombie under the tray.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tsunagi_testkit::procfs::tree(tray.id() as i32).len() > 1 {
        assert!(
            Instant::now() < deadline,
            "the window process was not reaped"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The session ends: a clean stop.
    let status = tray.stop(Duration::from_secs(10)).expect("stopped");
    assert!(status.success(), "{status:?}");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("runtime stopped"), "{said}");
    assert!(
        !socket.exists(),
        "the channel's socket is removed on a clean stop"
    );
}
