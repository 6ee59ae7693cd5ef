//! A small network for monitor tests: an "internet" namespace and a desk namespace joined
//! by a veth pair (the desk's line), optionally a second pair (the backup line). The backup
//! line is shaped like a tethered phone's data plan: about 1 Mbit/s each way (tbf).
//!
//! The internet namespace holds the gateway address of each line and, on its loopback,
//! the "public" address the probes target ([`PUBLIC`]). The desk namespace has no default
//! route, so nothing a test does can leak to the host's network. Faults are nftables rules
//! in the internet namespace and link changes in the desk's. Needs root (CI runs as root).
//!
//! Servers for the internet side are ordinary sockets created inside that namespace by a
//! helper thread (a socket stays in the namespace it was created in), so the test process
//! serves them from its own threads.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use crate::delay_line::DelayLine;

/// The address every probe target listens on, inside the internet namespace.
pub const PUBLIC: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);

/// A tethered phone's data plan, roughly (tc's words).
pub const BACKUP_RATE: &str = "1mbit";

pub struct Line {
    pub desk_if: String,
    pub inet_if: String,
    pub desk_ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
}

pub struct Network {
    pub inet: String,
    pub desk: String,
    pub primary: Line,
    pub backup: Option<Line>,
    tag: String,
    n: u8,
}

pub(crate) fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{} is needed (apt: iproute2 nftables): {e}", args[0]));
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn try_run(args: &[&str]) {
    let _ = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Tests that need namespaces fail (not skip) without root, saying why.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(
        uid, 0,
        "network-namespace tests need root (CI runs as root; locally: sudo scripts/test.sh)"
    );
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Network {
    /// Build the namespaces; `with_backup` adds a second line. Removed on drop.
    pub fn new(with_backup: bool) -> Network {
        require_root();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}x{n}", std::process::id() % 100_000);
        let inet = format!("tsi{tag}");
        let desk = format!("tsd{tag}");
        // Leftovers of a run killed before its cleanup would make `add` fail.
        try_run(&["ip", "netns", "del", &inet]);
        try_run(&["ip", "netns", "del", &desk]);
        run(&["ip", "netns", "add", &inet]);
        run(&["ip", "netns", "add", &desk]);
        let net = Network {
            primary: Line {
                desk_if: format!("d0{tag}"),
                inet_if: format!("i0{tag}"),
                desk_ip: Ipv4Addr::new(10, 77, n as u8, 2),
                gateway: Ipv4Addr::new(10, 77, n as u8, 1),
            },
            backup: with_backup.then(|| Line {
                desk_if: format!("d1{tag}"),
                inet_if: format!("i1{tag}"),
                desk_ip: Ipv4Addr::new(10, 78, n as u8, 2),
                gateway: Ipv4Addr::new(10, 78, n as u8, 1),
            }),
            inet,
            desk,
            tag: tag.clone(),
            n: n as u8,
        };
        net.inet_exec(&["ip", "link", "set", "lo", "up"]);
        net.desk_exec(&["ip", "link", "set", "lo", "up"]);
        net.inet_exec(&["ip", "addr", "add", &format!("{PUBLIC}/32"), "dev", "lo"]);
        net.link(&net.primary);
        if let Some(b) = &net.backup {
            net.link(b);
            net.shape(b, BACKUP_RATE);
        }
        net.route_via(&net.primary);
        net.inet_exec(&["nft", "add", "table", "inet", "faults"]);
        for hook in ["input", "output"] {
            net.inet_exec(&[
                "nft",
                &format!("add chain inet faults {hook} {{ type filter hook {hook} priority 0 ; }}"),
            ]);
        }
        net
    }

    fn link(&self, line: &Line) {
        run(&[
            "ip",
            "link",
            "add",
            &line.desk_if,
            "netns",
            &self.desk,
            "type",
            "veth",
            "peer",
            "name",
            &line.inet_if,
            "netns",
            &self.inet,
        ]);
        self.desk_exec(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", line.desk_ip),
            "dev",
            &line.desk_if,
        ]);
        self.desk_exec(&["ip", "link", "set", &line.desk_if, "up"]);
        self.inet_exec(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", line.gateway),
            "dev",
            &line.inet_if,
        ]);
        self.inet_exec(&["ip", "link", "set", &line.inet_if, "up"]);
    }

    /// A token bucket on both ends of a line: `rate` each way, a short burst, and what
    /// waits longer than 400 ms in the queue dropped, as on a phone's data plan.
    fn shape(&self, line: &Line, rate: &str) {
        for (ns, dev) in [(&self.desk, &line.desk_if), (&self.inet, &line.inet_if)] {
            run(&[
                "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate",
                rate, "burst", "32kbit", "latency", "400ms",
            ]);
        }
    }

    /// The backup line's rate each way, and whether tc shaped it so.
    pub fn backup_rate(&self) -> Option<String> {
        let b = self.backup.as_ref()?;
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.desk, "tc", "qdisc", "show", "dev", &b.desk_if,
            ])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let words: Vec<&str> = text.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "tbf")?;
        let rate = words[at..].iter().position(|w| *w == "rate")?;
        words.get(at + rate + 1).map(|r| r.to_string())
    }

    /// A slow line beside the others ([`DelayLine`]: 300 ms ± 100 ms each way), with the
    /// desk's internet traffic sent over it. Drop it before the network.
    pub fn slow_line(&self) -> DelayLine {
        let line = DelayLine::start(
            &self.desk,
            &self.inet,
            &format!("ds{}", self.tag),
            &format!("is{}", self.tag),
            Ipv4Addr::new(10, 79, self.n, 2),
            Ipv4Addr::new(10, 79, self.n, 1),
        );
        for (ns, dev, ip) in [
            (&self.desk, &line.desk_if, line.desk_ip),
            (&self.inet, &line.inet_if, line.gateway),
        ] {
            run(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                dev,
            ]);
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        self.route_public(line.gateway, &line.desk_if);
        line
    }

    /// Send the desk's internet traffic over this line (a host route to [`PUBLIC`], not
    /// a default route).
    pub fn route_via(&self, line: &Line) {
        self.route_public(line.gateway, &line.desk_if);
    }

    fn route_public(&self, gateway: Ipv4Addr, dev: &str) {
        self.desk_exec(&[
            "ip",
            "route",
            "replace",
            &format!("{PUBLIC}/32"),
            "via",
            &gateway.to_string(),
            "dev",
            dev,
        ]);
    }

    pub fn inet_exec(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.inet];
        all.extend_from_slice(args);
        run(&all);
    }

    pub fn desk_exec(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.desk];
        all.extend_from_slice(args);
        run(&all);
    }

    /// A command to run inside the desk's namespace.
    pub fn in_desk(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.desk]).arg(program);
        c
    }

    /// Add an nftables rule to the internet side's input and/or output chain, e.g.
    /// `ip daddr 10.99.0.1 drop`. [`Network::clear_faults`] removes them all.
    pub fn fault(&self, chain: &str, rule: &str) {
        self.inet_exec(&["nft", &format!("add rule inet faults {chain} {rule}")]);
    }

    pub fn clear_faults(&self) {
        for chain in ["input", "output"] {
            self.inet_exec(&["nft", &format!("flush chain inet faults {chain}")]);
        }
    }

    /// Take the desk's end of a line down (the adapter loses its link) or up again.
    pub fn set_link(&self, line: &Line, up: bool) {
        self.desk_exec(&[
            "ip",
            "link",
            "set",
            &line.desk_if,
            if up { "up" } else { "down" },
        ]);
    }

    /// A TCP listener inside the internet namespace.
    pub fn listen_tcp(&self, addr: &str) -> TcpListener {
        let addr = addr.to_owned();
        self.inside(&self.inet, move || {
            TcpListener::bind(&addr).expect("bind in namespace")
        })
    }

    pub fn bind_udp(&self, addr: &str) -> UdpSocket {
        let addr = addr.to_owned();
        self.inside(&self.inet, move || {
            UdpSocket::bind(&addr).expect("bind in namespace")
        })
    }

    /// Run `f` on a thread inside the desk's namespace (its sockets are the desk's: e.g. a
    /// WebDriver client talking to a driver that runs there). `f` may borrow.
    pub fn within_desk<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        within(&self.desk, f)
    }

    fn inside<T: Send + 'static>(&self, ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        inside(ns, f)
    }
}

/// Run `f` on a thread inside namespace `ns`, and wait for it. `f` may borrow.
pub fn within<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/var/run/netns/{ns}");
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                enter(&path);
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// This thread joins namespace `ns` (its sockets, and the threads it starts, are there
/// from now on).
pub fn enter_namespace(ns: &str) {
    enter(&format!("/var/run/netns/{ns}"));
}

fn enter(path: &str) {
    let file = std::fs::File::open(path).expect("namespace file");
    // SAFETY: setns on this thread only, with a namespace fd we hold open.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// A tokio runtime whose threads are made inside namespace `ns`: every socket its tasks
/// open is there. Run a future there with `rt.block_on(rt.spawn(f))` (`block_on` alone
/// polls it on the calling thread).
pub fn runtime_in(ns: &str) -> tokio::runtime::Runtime {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        enter(&path);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
    })
    .join()
    .expect("namespace thread")
}

/// Run `f` on a thread that has entered namespace `ns` (a socket it makes stays there).
pub(crate) fn inside<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        enter(&path);
        f()
    })
    .join()
    .expect("namespace thread")
}

impl Drop for Network {
    fn drop(&mut self) {
        // Deleting a namespace removes its veth ends (and their peers) with it.
        try_run(&["ip", "netns", "del", &self.desk]);
        try_run(&["ip", "netns", "del", &self.inet]);
    }
}
