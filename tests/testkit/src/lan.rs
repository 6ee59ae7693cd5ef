//! A clinic's LAN for the several-desks tests: one namespace holds a bridge (the clinic's
//! switch); each desk is a namespace joined to it by a veth pair, with an address on
//! 10.80.N.0/24. Needs root; removed on drop, a test that failed included.
//!
//! [`Lan::new`]: no route anywhere else (the internet is down). [`Lan::with_internet`]: a
//! fourth namespace is the internet, holding [`PUBLIC`] on its loopback; the switch is also
//! the clinic's router (10.80.N.1) and reaches it over a WAN cable (10.81.N.0/24) that
//! [`Lan::set_wan`] cuts. Servers for the internet side are sockets made inside it
//! ([`Lan::listen_tcp`]) and served from the test's own threads, as in [`crate::netns`].

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::netns::{inside, require_root, run, try_run, PUBLIC};
use crate::{wait_until, ChildGuard};

pub struct LanDesk {
    pub ns: String,
    pub ip: Ipv4Addr,
    /// The desk's end of its cable, in the switch's namespace.
    switch_if: String,
}

pub struct Lan {
    switch: String,
    pub desks: Vec<LanDesk>,
    /// The internet's namespace, when there is one.
    internet: Option<String>,
    n: u8,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Lan {
    /// `desks` desks on a switch, and no internet.
    pub fn new(desks: usize) -> Lan {
        Self::build(desks, false)
    }

    /// `desks` desks on a switch that is also the router to an internet namespace.
    pub fn with_internet(desks: usize) -> Lan {
        Self::build(desks, true)
    }

    fn build(desks: usize, internet: bool) -> Lan {
        require_root();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}l{n}", std::process::id() % 100_000);
        let switch = format!("tsw{tag}");
        try_run(&["ip", "netns", "del", &switch]);
        run(&["ip", "netns", "add", &switch]);
        let mut lan = Lan {
            switch,
            desks: Vec::new(),
            internet: None,
            n: n as u8,
        };
        lan.exec_switch(&["ip", "link", "add", "br0", "type", "bridge"]);
        lan.exec_switch(&["ip", "link", "set", "br0", "up"]);
        for i in 0..desks {
            let ns = format!("tsd{tag}x{i}");
            try_run(&["ip", "netns", "del", &ns]);
            run(&["ip", "netns", "add", &ns]);
            let switch_if = format!("p{tag}x{i}");
            let ip = Ipv4Addr::new(10, 80, n as u8, 10 + i as u8);
            run(&[
                "ip",
                "link",
                "add",
                "lan0",
                "netns",
                &ns,
                "type",
                "veth",
                "peer",
                "name",
                &switch_if,
                "netns",
                &lan.switch,
            ]);
            lan.exec_switch(&["ip", "link", "set", &switch_if, "master", "br0"]);
            lan.exec_switch(&["ip", "link", "set", &switch_if, "up"]);
            for args in [
                vec!["ip", "link", "set", "lo", "up"],
                vec!["ip", "addr", "add", &format!("{ip}/24"), "dev", "lan0"],
                vec!["ip", "link", "set", "lan0", "up"],
            ] {
                let mut all = vec!["ip", "netns", "exec", &ns];
                all.extend(args);
                run(&all);
            }
            lan.desks.push(LanDesk { ns, ip, switch_if });
        }
        if internet {
            lan.add_internet(&tag);
        }
        lan
    }

    /// The clinic's router on the LAN (the switch's own address).
    pub fn router(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 80, self.n, 1)
    }

    fn add_internet(&mut self, tag: &str) {
        let inet = format!("tin{tag}");
        try_run(&["ip", "netns", "del", &inet]);
        run(&["ip", "netns", "add", &inet]);
        self.internet = Some(inet.clone());
        let router = self.router();
        let wan_here = Ipv4Addr::new(10, 81, self.n, 1);
        let wan_there = Ipv4Addr::new(10, 81, self.n, 2);
        run(&[
            "ip",
            "link",
            "add",
            "wan0",
            "netns",
            &self.switch,
            "type",
            "veth",
            "peer",
            "name",
            "wan1",
            "netns",
            &inet,
        ]);
        for args in [
            vec!["ip", "link", "set", "lo", "up"],
            vec!["ip", "addr", "add", &format!("{PUBLIC}/32"), "dev", "lo"],
            vec![
                "ip",
                "addr",
                "add",
                &format!("{wan_there}/24"),
                "dev",
                "wan1",
            ],
            vec!["ip", "link", "set", "wan1", "up"],
            vec![
                "ip",
                "route",
                "add",
                &format!("10.80.{}.0/24", self.n),
                "via",
                &wan_here.to_string(),
            ],
        ] {
            let mut all = vec!["ip", "netns", "exec", &inet];
            all.extend(args);
            run(&all);
        }
        for args in [
            vec!["ip", "addr", "add", &format!("{router}/24"), "dev", "br0"],
            vec![
                "ip",
                "addr",
                "add",
                &format!("{wan_here}/24"),
                "dev",
                "wan0",
            ],
            vec!["ip", "link", "set", "wan0", "up"],
            vec!["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
            vec![
                "ip",
                "route",
                "add",
                &format!("{PUBLIC}/32"),
                "via",
                &wan_there.to_string(),
            ],
            vec!["nft", "add", "table", "inet", "wan"],
            vec![
                "nft",
                "add chain inet wan forward { type filter hook forward priority 0 ; }",
            ],
        ] {
            self.exec_switch(&args);
        }
        for d in &self.desks {
            run(&[
                "ip",
                "-n",
                &d.ns,
                "route",
                "add",
                &format!("{PUBLIC}/32"),
                "via",
                &router.to_string(),
            ]);
        }
    }

    fn internet(&self) -> &str {
        self.internet
            .as_deref()
            .expect("a LAN made with Lan::with_internet")
    }

    /// Cut the clinic's internet at the router (what crosses the WAN is dropped), or
    /// restore it. The LAN itself goes on working.
    pub fn set_wan(&self, up: bool) {
        self.internet();
        if up {
            self.exec_switch(&["nft", "flush chain inet wan forward"]);
        } else {
            self.exec_switch(&["nft", "add rule inet wan forward oifname wan0 drop"]);
            self.exec_switch(&["nft", "add rule inet wan forward iifname wan0 drop"]);
        }
    }

    /// A TCP listener inside the internet namespace.
    pub fn listen_tcp(&self, addr: &str) -> TcpListener {
        let addr = addr.to_owned();
        inside(self.internet(), move || {
            TcpListener::bind(&addr).expect("bind in namespace")
        })
    }

    /// A UDP socket inside the internet namespace.
    pub fn bind_udp(&self, addr: &str) -> UdpSocket {
        let addr = addr.to_owned();
        inside(self.internet(), move || {
            UdpSocket::bind(&addr).expect("bind in namespace")
        })
    }

    /// Record every frame crossing the switch into `path` (pcap) with tcpdump, keeping
    /// only what `filter` (a pcap filter) lets through. Stop it with [`Capture::finish`].
    pub fn capture(&self, path: &Path, filter: &str) -> Capture {
        let said = path.with_extension("log");
        let log = std::fs::File::create(&said).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.switch,
                "tcpdump",
                "-i",
                "br0",
                "-U",
                "-s",
                "0",
            ])
            .args(["-Z", "root", "-w"])
            .arg(path)
            .arg(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("tcpdump is needed (apt: tcpdump): {e}"));
        let mut guard = ChildGuard::new("tcpdump", child);
        wait_until(Duration::from_secs(10), "tcpdump to start", || {
            let text = std::fs::read_to_string(&said).unwrap_or_default();
            assert!(guard.exited().is_none(), "tcpdump exited: {text}");
            text.contains("listening on")
        });
        Capture {
            tcpdump: guard,
            path: path.to_owned(),
        }
    }

    fn exec_switch(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.switch];
        all.extend_from_slice(args);
        run(&all);
    }

    /// Plug desk `i`'s cable in or out at the switch.
    pub fn set_link(&self, i: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        self.exec_switch(&["ip", "link", "set", &self.desks[i].switch_if, state]);
    }

    /// Desk `i` gets another address on the LAN (as a DHCP lease renewed elsewhere does);
    /// its old one is gone.
    pub fn readdress(&mut self, i: usize, last: u8) -> Ipv4Addr {
        let desk = &mut self.desks[i];
        let ip = Ipv4Addr::new(10, 80, self.n, last);
        for args in [
            vec!["addr", "del", &format!("{}/24", desk.ip), "dev", "lan0"],
            vec!["addr", "add", &format!("{ip}/24"), "dev", "lan0"],
        ] {
            let mut all = vec!["ip", "-n", &desk.ns];
            all.extend(args);
            run(&all);
        }
        desk.ip = ip;
        ip
    }

    /// Bytes through desk `i`'s cable so far, both ways (counted at the switch).
    pub fn cable_bytes(&self, i: usize) -> u64 {
        let out = Command::new("ip")
            .args(["-n", &self.switch, "-s", "-j", "link", "show", "dev"])
            .arg(&self.desks[i].switch_if)
            .output()
            .expect("ip");
        let links: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j");
        let stats = &links[0]["stats64"];
        stats["rx"]["bytes"].as_u64().expect("rx bytes")
            + stats["tx"]["bytes"].as_u64().expect("tx bytes")
    }

    /// `program` to run on desk `i` (inside its namespace).
    pub fn on(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.desks[i].ns]).arg(program);
        c
    }
}

/// A packet capture running on the switch.
pub struct Capture {
    tcpdump: ChildGuard,
    path: PathBuf,
}

impl Capture {
    /// Stop capturing; the pcap file's bytes (headers and payloads as they crossed).
    pub fn finish(mut self) -> Vec<u8> {
        let status = self.tcpdump.stop(Duration::from_secs(10));
        assert!(status.is_some(), "tcpdump did not stop");
        std::fs::read(&self.path).expect("the capture file")
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for d in &self.desks {
            try_run(&["ip", "netns", "del", &d.ns]);
        }
        if let Some(inet) = &self.internet {
            try_run(&["ip", "netns", "del", inet]);
        }
        try_run(&["ip", "netns", "del", &self.switch]);
    }
}
