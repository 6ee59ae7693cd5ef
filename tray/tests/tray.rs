//! `tsunagi-tray` as a desk runs it: started at login with no window, it runs the whole
//! runtime (the mirror first) without a web engine or a GL driver in its
//! process, refuses to run twice on one install, and stops cleanly when the session ends.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tsunagi_testkit::{ChildGuard, Display, Session};

const TRAY: &str = env!("CARGO_BIN_EXE_tsunagi-tray");

fn start(session: &Session, display: &Display, data: &Path, log: &Path) -> ChildGuard {
    let child = session
        .command(TRAY)
        .args(["--hidden", "--data-dir"])
        .arg(data)
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

    // One runtime per install: a second tray says so and leaves.
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
    assert!(!status.success());
    let said = std::fs::read_to_string(&second_log).unwrap();
    assert!(said.contains("store.already_running"), "{said}");
    assert!(tray.exited().is_none(), "the first tray keeps running");

    // The session ends: a clean stop.
    let status = tray.stop(Duration::from_secs(10)).expect("stopped");
    assert!(status.success(), "{status:?}");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("runtime stopped"), "{said}");
}
