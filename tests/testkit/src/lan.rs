//! A clinic's LAN for the several-desks tests: one namespace holds a bridge (the clinic's
//! switch); each desk is a namespace joined to it by a veth pair, with an address on
//! 10.80.N.0/24 and no route anywhere else (the internet is down). Needs root; removed on
//! drop, a test that failed included.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::netns::{require_root, run, try_run};

pub struct LanDesk {
    pub ns: String,
    pub ip: Ipv4Addr,
    /// The desk's end of its cable, in the switch's namespace.
    switch_if: String,
}

pub struct Lan {
    switch: String,
    pub desks: Vec<LanDesk>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Lan {
    pub fn new(desks: usize) -> Lan {
        require_root();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}l{n}", std::process::id() % 100_000);
        let switch = format!("tsw{tag}");
        try_run(&["ip", "netns", "del", &switch]);
        run(&["ip", "netns", "add", &switch]);
        let mut lan = Lan {
            switch,
            desks: Vec::new(),
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
        lan
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

    /// `program` to run on desk `i` (inside its namespace).
    pub fn on(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.desks[i].ns]).arg(program);
        c
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for d in &self.desks {
            try_run(&["ip", "netns", "del", &d.ns]);
        }
        try_run(&["ip", "netns", "del", &self.switch]);
    }
}
