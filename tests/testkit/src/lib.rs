//! Real parts for tests, cleaned up on drop even when a test fails: a private D-Bus
//! session with an unlocked gnome-keyring (the real Secret Service), an Xvfb display, and
//! a guard that stops child processes.
//!
//! Everything runs under a temporary HOME, so no test reads or writes the developer's own
//! keyring, autostart entries or app data.

pub mod clinic;
pub mod delay_line;
pub mod fake_nm;
pub mod fault_proxy;
pub mod hfs;
pub mod lan;
pub mod leak;
pub mod monitor_rig;
pub mod netns;
pub mod orca;
pub mod page;
pub mod probe_servers;
pub mod tls;

/// The signal numbers for [`ChildGuard::stop_with`].
pub use libc::{SIGHUP, SIGINT, SIGKILL, SIGTERM};

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The folder of the package whose tests are running, read when the test runs.
///
/// Not `env!("CARGO_MANIFEST_DIR")`: cargo reuses a compiled test from a shared target
/// folder when the same sources sit in another clone, and the compile-time path would then
/// name the clone that built it (which CI deletes).
pub fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("tests are run by cargo, which sets CARGO_MANIFEST_DIR")
}

/// The repository's root: the nearest folder above the running package with a
/// `Cargo.toml` that declares the workspace.
pub fn repo_root() -> PathBuf {
    let start = package_dir();
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.contains("[workspace]"))
        })
        .unwrap_or_else(|| panic!("no workspace above {}", start.display()))
        .to_path_buf()
}

/// A child process that is stopped (SIGTERM, then SIGKILL after a grace period) on drop.
pub struct ChildGuard {
    name: String,
    child: Child,
}

impl ChildGuard {
    pub fn new(name: impl Into<String>, child: Child) -> Self {
        ChildGuard {
            name: name.into(),
            child,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Whether it has exited (without waiting).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns how it ended.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        self.stop_with(libc::SIGTERM, grace)
    }

    /// `signal` (SIGTERM, SIGINT, SIGHUP…), wait up to `grace`, then SIGKILL.
    pub fn stop_with(
        &mut self,
        signal: libc::c_int,
        grace: Duration,
    ) -> Option<std::process::ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        eprintln!("testkit: {} ignored signal {signal}; killing it", self.name);
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

fn require(program: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "{program} is not installed (Debian package {package}); \
             scripts/test.sh installs everything the tests need"
        )
    })
}

/// `tsunagi-cli pair show` (as `command`, its stderr set by the caller): the 8-digit code
/// it prints first, and the process, which waits for the desk that types it.
pub fn show_pairing_code(mut command: Command) -> (ChildGuard, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("tsunagi-cli pair show");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its output"))
        .read_line(&mut line)
        .expect("its first line");
    let code: String = line
        .trim_start_matches("pairing code")
        .split('(')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 8, "not a pairing code: {line}");
    (ChildGuard::new("pair show", child), code)
}

/// Poll `check` until it is true or `timeout` passes.
/// A test that runs the app or `tsunagi-cli` (on the system clock) and holds "today" for
/// `span` starts clear of the clinic's midnight (Asia/Tokyo): when midnight would fall
/// inside the span, it waits until just after it. At most `span` once a day.
pub fn clear_of_midnight(span: Duration) {
    use chrono::Timelike;
    let tokyo = chrono::FixedOffset::east_opt(9 * 3600).expect("UTC+9");
    let now = chrono::Utc::now().with_timezone(&tokyo);
    let since_midnight = Duration::from_secs(u64::from(now.num_seconds_from_midnight()));
    let left = Duration::from_secs(24 * 3600).saturating_sub(since_midnight);
    if left < span {
        let wait = left + Duration::from_secs(5);
        eprintln!("clinic midnight in {left:?}: waiting {wait:?} so the test sees one day");
        std::thread::sleep(wait);
    }
}

pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A throwaway login session: temp HOME and XDG folders, a private D-Bus session bus, and
/// gnome-keyring unlocked on it, serving the real Secret Service API.
pub struct Session {
    env: SessionEnv,
    // Field order is drop order: the keyring leaves before its bus, the folder last.
    _keyring: ChildGuard,
    _bus: ChildGuard,
    home: tempfile::TempDir,
}

impl Session {
    pub fn start() -> Session {
        let dbus_daemon = require("dbus-daemon", "dbus");
        let keyring_daemon = require("gnome-keyring-daemon", "gnome-keyring");
        require("dbus-send", "dbus");
        let home = tempfile::Builder::new()
            .prefix("tsunagi-session-")
            .tempdir()
            .expect("temp home");
        for dir in ["data", "config", "cache", "run", "tmp"] {
            std::fs::create_dir_all(home.path().join(dir)).expect("xdg dir");
        }
        set_mode_700(&home.path().join("run"));

        // A socket file, not an abstract socket: abstract sockets belong to one network
        // namespace, and monitor tests run the app in another.
        let bus_socket = home.path().join("run/bus");
        let mut bus = Command::new(dbus_daemon)
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--address=unix:path={}", bus_socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("dbus stdout"))
            .read_line(&mut address)
            .expect("read bus address");
        let bus = ChildGuard::new("dbus-daemon", bus);
        let env = SessionEnv {
            home: home.path().to_owned(),
            bus_address: address.trim().to_owned(),
        };
        assert!(
            !env.bus_address.is_empty(),
            "dbus-daemon printed no address"
        );

        let mut keyring = env
            .command(keyring_daemon)
            .args(["--foreground", "--components=secrets", "--unlock"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        {
            // --unlock reads the login keyring's password from stdin until EOF.
            let mut stdin = keyring.stdin.take().expect("keyring stdin");
            stdin.write_all(b"test-password").expect("unlock keyring");
        }
        let keyring = ChildGuard::new("gnome-keyring-daemon", keyring);
        wait_until(
            Duration::from_secs(10),
            "the Secret Service on the bus",
            || env.secret_service_ready(),
        );
        Session {
            env,
            _keyring: keyring,
            _bus: bus,
            home,
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The environment a program needs to live in this session.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.vars()
    }

    /// A secret the Secret Service holds for `service` and `username` (what keyring
    /// stored), read with secret-tool.
    pub fn secret(&self, service: &str, username: &str) -> Vec<u8> {
        let out = self
            .command("secret-tool")
            .args(["lookup", "service", service, "username", username])
            .output()
            .expect("secret-tool (Debian: libsecret-tools)");
        assert!(
            out.status.success(),
            "secret-tool: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The raw database key of the install in `data_dir` (its config names the entry).
    pub fn database_key(&self, data_dir: &Path) -> Vec<u8> {
        let config = std::fs::read_to_string(data_dir.join("config.toml")).expect("config.toml");
        let device = config
            .lines()
            .find_map(|l| l.strip_prefix("device_id = "))
            .expect("a device_id")
            .trim_matches('"')
            .to_owned();
        self.secret("jp.tsunagi.desk", &format!("database-key/{device}"))
    }

    /// A command that runs inside this session.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        self.env.command(program)
    }
}

struct SessionEnv {
    home: PathBuf,
    bus_address: String,
}

impl SessionEnv {
    fn vars(&self) -> Vec<(String, String)> {
        let h = |sub: &str| self.home.join(sub).display().to_string();
        vec![
            ("HOME".into(), self.home.display().to_string()),
            ("XDG_DATA_HOME".into(), h("data")),
            ("XDG_CONFIG_HOME".into(), h("config")),
            ("XDG_CACHE_HOME".into(), h("cache")),
            ("XDG_RUNTIME_DIR".into(), h("run")),
            // Temporary files land inside the session too (the privacy scan reads them).
            ("TMPDIR".into(), h("tmp")),
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus_address.clone()),
        ]
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.vars());
        cmd
    }

    fn secret_service_ready(&self) -> bool {
        let Ok(out) = self
            .command("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.DBus",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
        else {
            return false;
        };
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }
}

fn set_mode_700(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
}

/// A virtual X display for a real window, on a free display number.
pub struct Display {
    number: u32,
    // Dropped before the X server it runs on.
    wm: Option<ChildGuard>,
    _xvfb: ChildGuard,
}

impl Display {
    /// Xvfb picks a free display number itself (`-displayfd`) and tells us which: tests
    /// starting in parallel never share a screen (a shared one sends one test's clicks to
    /// the other's window).
    pub fn start() -> Display {
        Display::start_sized("1280x800x24", false)
    }

    /// A reception PC's screen: 1366×768 (a common office laptop) with a window manager, so
    /// the app's window has a title bar and the screen a taskbar, as a person sees it.
    pub fn desk_screen() -> Display {
        Display::start_sized("1366x768x24", true)
    }

    /// The other common office laptop screen, 1280×800, framed the same way.
    pub fn laptop_screen() -> Display {
        Display::start_sized("1280x800x24", true)
    }

    fn start_sized(screen: &str, window_manager: bool) -> Display {
        let xvfb = require("Xvfb", "xvfb");
        let mut child = Command::new(&xvfb)
            .args(["-displayfd", "1", "-screen", "0", screen])
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("Xvfb stdout"))
            .read_line(&mut line)
            .expect("read the display number");
        let guard = ChildGuard::new("Xvfb", child);
        let number = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb reported no display number: {line:?}"));
        let wm = window_manager.then(|| {
            let icewm = Command::new(require("icewm", "icewm"))
                .env("DISPLAY", format!(":{number}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start icewm");
            let guard = ChildGuard::new("icewm", icewm);
            // Up once it announces itself on the root window (EWMH).
            let x = x11::X11::connect(&format!(":{number}"));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !x.has_window_manager() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            guard
        });
        Display {
            number,
            wm,
            _xvfb: guard,
        }
    }

    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// A reception PC's screen ([`Display::desk_screen`]): a window manager frames the
    /// window, so a picture of the window alone would leave out its title bar.
    pub fn is_desk_screen(&self) -> bool {
        self.wm.is_some()
    }
}

/// SIGTERM every process whose command line contains `needle` (e.g. a test's unique data
/// dir), then SIGKILL what is left: grandchildren (the app under WebKitWebDriver) are not
/// ours to `wait` for, but they must not outlive the test.
pub fn stop_processes_with_arg(needle: &str) {
    let matching = || processes_with_arg(needle);
    for signal in [libc::SIGTERM, libc::SIGKILL] {
        let pids = matching();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: kill(2) with a pid read from /proc; no memory is involved.
            unsafe {
                libc::kill(pid, signal);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !matching().is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Send `signal` to `pid`.
pub fn send_signal(pid: i32, signal: libc::c_int) {
    // SAFETY: kill(2) on a pid the test chose; no memory is involved.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// SIGKILL for processes a test did not start itself (found under others in /proc),
/// should the test stop before they leave.
pub struct KillOnDrop(pub Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for pid in &self.0 {
            send_signal(*pid, libc::SIGKILL);
        }
    }
}

/// Power cut: SIGKILL every process whose command line holds `needle`, at once.
pub fn kill_processes_with_arg(needle: &str) {
    for pid in processes_with_arg(needle) {
        // SAFETY: kill(2) with a pid read from /proc; no memory is involved.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// The processes (not this one) whose command line holds `needle`.
fn processes_with_arg(needle: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != std::process::id() as i32)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

pub mod x11 {
    //! Just enough of X11 to act like a window manager towards the app's window.

    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{
        AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, ImageFormat, MapState, Window,
    };
    use x11rb::rust_connection::RustConnection;

    pub struct X11 {
        conn: RustConnection,
        root: Window,
    }

    impl X11 {
        pub fn connect(display: &str) -> X11 {
            let (conn, screen) = RustConnection::connect(Some(display)).expect("connect to X");
            let root = conn.setup().roots[screen].root;
            X11 { conn, root }
        }

        fn atom(&self, name: &str) -> u32 {
            self.conn
                .intern_atom(false, name.as_bytes())
                .expect("intern_atom")
                .reply()
                .expect("atom reply")
                .atom
        }

        fn title(&self, window: Window) -> String {
            let utf8 = self.atom("UTF8_STRING");
            let name = self.atom("_NET_WM_NAME");
            self.conn
                .get_property(false, window, name, utf8, 0, 1024)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.value).into_owned())
                .unwrap_or_default()
        }

        fn speaks_wm_delete(&self, window: Window) -> bool {
            let protocols = self.atom("WM_PROTOCOLS");
            let delete = self.atom("WM_DELETE_WINDOW");
            self.conn
                .get_property(false, window, protocols, AtomEnum::ATOM, 0, 32)
                .ok()
                .and_then(|c| c.reply().ok())
                .and_then(|r| r.value32().map(|v| v.collect::<Vec<_>>()))
                .is_some_and(|atoms| atoms.contains(&delete))
        }

        /// Whether a window manager runs on this display (EWMH's check window is set).
        pub fn has_window_manager(&self) -> bool {
            let check = self.atom("_NET_SUPPORTING_WM_CHECK");
            self.conn
                .get_property(false, self.root, check, AtomEnum::WINDOW, 0, 1)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|r| r.value_len > 0)
        }

        /// The whole screen (title bars and taskbar included).
        pub fn root(&self) -> Window {
            self.root
        }

        /// The app's own window whose title contains `title` and that accepts close
        /// requests: a child of the root, or (under a window manager) inside its frame.
        pub fn find_window(&self, title: &str) -> Option<Window> {
            let mut look = vec![self.root];
            while let Some(parent) = look.pop() {
                // A window may be destroyed while the tree is walked (another process's,
                // leaving): skip it rather than give up the search.
                let Some(tree) = self
                    .conn
                    .query_tree(parent)
                    .ok()
                    .and_then(|c| c.reply().ok())
                else {
                    continue;
                };
                for w in tree.children {
                    if self.title(w).contains(title) && self.speaks_wm_delete(w) {
                        return Some(w);
                    }
                    look.push(w);
                }
            }
            None
        }

        /// Where the window's content sits on the screen: (x, y, width, height).
        pub fn on_screen(&self, window: Window) -> Option<(i32, i32, u32, u32)> {
            let geo = self.conn.get_geometry(window).ok()?.reply().ok()?;
            let at = self
                .conn
                .translate_coordinates(window, self.root, 0, 0)
                .ok()?
                .reply()
                .ok()?;
            Some((
                at.dst_x.into(),
                at.dst_y.into(),
                geo.width.into(),
                geo.height.into(),
            ))
        }

        /// What the window manager draws around the window: (left, right, top, bottom),
        /// the title bar on top.
        pub fn frame_extents(&self, window: Window) -> Option<[u32; 4]> {
            let extents = self.atom("_NET_FRAME_EXTENTS");
            let reply = self
                .conn
                .get_property(false, window, extents, AtomEnum::CARDINAL, 0, 4)
                .ok()?
                .reply()
                .ok()?;
            let v: Vec<u32> = reply.value32()?.collect();
            v.try_into().ok()
        }

        /// The part of the screen windows may use (the taskbar left out), as the window
        /// manager announces it: (x, y, width, height).
        pub fn work_area(&self) -> Option<(i32, i32, u32, u32)> {
            let area = self.atom("_NET_WORKAREA");
            let reply = self
                .conn
                .get_property(false, self.root, area, AtomEnum::CARDINAL, 0, 4)
                .ok()?
                .reply()
                .ok()?;
            let v: Vec<u32> = reply.value32()?.collect();
            match v[..] {
                [x, y, w, h, ..] => Some((x as i32, y as i32, w, h)),
                _ => None,
            }
        }

        pub fn is_viewable(&self, window: Window) -> bool {
            self.conn
                .get_window_attributes(window)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|a| a.map_state == MapState::VIEWABLE)
        }

        /// The window's pixels as the X server holds them (depth 24 in 32 bits per pixel,
        /// little-endian: B, G, R, pad): what is on screen, not what the page thinks it drew.
        fn pixels(&self, window: Window) -> Option<Vec<u8>> {
            let geo = self.conn.get_geometry(window).ok()?.reply().ok()?;
            let image = self
                .conn
                .get_image(
                    ImageFormat::Z_PIXMAP,
                    window,
                    0,
                    0,
                    geo.width,
                    geo.height,
                    !0,
                )
                .ok()?
                .reply()
                .ok()?;
            Some(image.data)
        }

        /// How many different colours the X server shows in a rectangle of the window: one
        /// for a plain background, dozens once text is painted there.
        pub fn colors_in(&self, window: Window, x: i16, y: i16, w: u16, h: u16) -> usize {
            let Some(image) = self
                .conn
                .get_image(ImageFormat::Z_PIXMAP, window, x, y, w.max(1), h.max(1), !0)
                .ok()
                .and_then(|c| c.reply().ok())
            else {
                return 0;
            };
            let colors: std::collections::HashSet<&[u8]> =
                image.data.chunks_exact(4).map(|px| &px[..3]).collect();
            colors.len()
        }

        /// How many pixels of the window have exactly this colour (0xRRGGBB).
        pub fn count_color(&self, window: Window, rgb: u32) -> usize {
            let want = [rgb as u8, (rgb >> 8) as u8, (rgb >> 16) as u8];
            self.pixels(window)
                .map(|data| data.chunks_exact(4).filter(|px| px[..3] == want).count())
                .unwrap_or(0)
        }

        /// Wait until the window's pixels stop changing (the X server trails the page by a
        /// few hundred milliseconds), then save them as a PNG with ImageMagick's `import`.
        pub fn capture_png(&self, display: &str, window: Window, path: &std::path::Path) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut last = self.pixels(window);
            loop {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let now = self.pixels(window);
                if now == last || std::time::Instant::now() > deadline {
                    break;
                }
                last = now;
            }
            let status = std::process::Command::new(super::require("import", "imagemagick"))
                .args(["-display", display, "-window"])
                .arg(window.to_string())
                .arg(path)
                .status()
                .expect("run import");
            assert!(status.success(), "import failed for {}", path.display());
        }

        /// What a window manager sends when the user clicks the close button.
        pub fn request_close(&self, window: Window) {
            let event = ClientMessageEvent::new(
                32,
                window,
                self.atom("WM_PROTOCOLS"),
                [self.atom("WM_DELETE_WINDOW"), 0, 0, 0, 0],
            );
            self.conn
                .send_event(false, window, EventMask::NO_EVENT, event)
                .expect("send WM_DELETE_WINDOW");
            self.conn.flush().expect("flush");
        }
    }
}

pub mod procfs {
    //! CPU time and memory of a process and everything it started (WebKit runs its web
    //! and network processes as children of the app).

    /// The names of WebKit's processes under `pid` (the kernel cuts a name to 15
    /// characters: "WebKitWebProces" is one per web view, "WebKitNetworkPr" belongs to the
    /// web context).
    pub fn webkit_processes(pid: i32) -> Vec<String> {
        tree(pid)
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).ok())
            .map(|name| name.trim().to_owned())
            .filter(|name| name.starts_with("WebKit"))
            .collect()
    }

    /// How many web views live under `pid` (one WebKit web process each).
    pub fn web_views(pid: i32) -> usize {
        webkit_processes(pid)
            .iter()
            .filter(|name| name.starts_with("WebKitWebProces"))
            .count()
    }

    /// The processes named `name` (as the kernel keeps it, 15 characters at most) among
    /// `pid` and its descendants.
    pub fn named(pid: i32, name: &str) -> Vec<i32> {
        tree(pid)
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|comm| comm.trim() == name)
            })
            .collect()
    }

    /// `pid` and all its descendants.
    pub fn tree(pid: i32) -> Vec<i32> {
        let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                    .filter_map(|p| Some((p, parent(p)?)))
                    .collect()
            })
            .unwrap_or_default();
        let mut out = vec![pid];
        let mut i = 0;
        while i < out.len() {
            let current = out[i];
            out.extend(
                parents
                    .iter()
                    .filter(|(_, pp)| *pp == current)
                    .map(|(p, _)| *p),
            );
            i += 1;
        }
        out
    }

    fn stat_fields(pid: i32) -> Option<Vec<String>> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may hold spaces; fields follow the last ')'.
        let rest = &stat[stat.rfind(')')? + 2..];
        Some(rest.split_whitespace().map(str::to_owned).collect())
    }

    fn parent(pid: i32) -> Option<i32> {
        stat_fields(pid)?.get(1)?.parse().ok()
    }

    /// User + system CPU time in clock ticks, summed over `pids`.
    pub fn cpu_ticks(pids: &[i32]) -> u64 {
        pids.iter()
            .filter_map(|p| {
                let f = stat_fields(*p)?;
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            })
            .sum()
    }

    pub fn ticks_per_second() -> u64 {
        // SAFETY: sysconf has no memory effects.
        (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).max(1) as u64
    }

    fn kb_field(path: &str, field: &str) -> Option<u64> {
        std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
    }

    /// Resident set size in KiB, summed (shared pages counted once per process).
    pub fn rss_kib(pids: &[i32]) -> u64 {
        pids.iter()
            .filter_map(|p| kb_field(&format!("/proc/{p}/status"), "VmRSS:"))
            .sum()
    }

    /// Proportional set size in KiB: shared pages split between the processes sharing
    /// them, so the sum is the tree's real share of memory.
    pub fn pss_kib(pids: &[i32]) -> u64 {
        pids.iter()
            .filter_map(|p| kb_field(&format!("/proc/{p}/smaps_rollup"), "Pss:"))
            .sum()
    }
}
