//! The monitor against a real network: `tsunagi-cli monitor --json` runs in a desk
//! namespace whose only way out is a veth line to an "internet" namespace serving the
//! probe targets (and the real FHIR server, relayed in). Each fault is applied there and
//! lifted again; each test asserts the state, the cause and the recovery.
//! Needs root for the namespaces (CI runs as root).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;
use tsunagi_testkit::hfs::Hfs;
use tsunagi_testkit::netns::{Network, PUBLIC};
use tsunagi_testkit::probe_servers::{DnsServer, HttpEndpoint, TcpRelay, CONNECT_BODY};
use tsunagi_testkit::{wait_until, ChildGuard, Session};

const CLI: &str = env!("CARGO_BIN_EXE_tsunagi-cli");

/// Fields drop in order: the monitor stops before the servers and the network go.
struct Rig {
    monitor: Option<ChildGuard>,
    lines: Option<Receiver<Value>>,
    seen: Vec<Value>,
    endpoint: HttpEndpoint,
    _dns: DnsServer,
    relay: Option<(TcpRelay, Hfs)>,
    data: tempfile::TempDir,
    net: Network,
    session: Session,
}

impl Rig {
    fn start(backup: bool, upstream: bool) -> Rig {
        let session = Session::start();
        let net = Network::new(backup);
        let endpoint = HttpEndpoint::serve(net.listen_tcp(&format!("{PUBLIC}:80")));
        let dns = DnsServer::serve(net.bind_udp(&format!("{PUBLIC}:53")), PUBLIC);
        let relay = upstream.then(|| {
            let hfs = Hfs::start();
            let relay = TcpRelay::serve(
                net.listen_tcp(&format!("{PUBLIC}:8080")),
                format!("127.0.0.1:{}", hfs.port()),
            );
            (relay, hfs)
        });
        let data = tempfile::tempdir().unwrap();
        let source = if upstream {
            format!(
                "kind = \"fhir\"\n[source.fhir]\nbase_url = \"http://{PUBLIC}:8080\"\n\
                 allow_plain_http = true\n"
            )
        } else {
            "kind = \"demo\"\n".to_owned()
        };
        std::fs::write(
            data.path().join("config.toml"),
            format!(
                "device_id = \"netns\"\nlanguage = \"en\"\nautostart = false\n\
                 [source]\n{source}\n\
                 [monitor]\nendpoints = [{{ url = \"http://{PUBLIC}/connect.txt\", expect = \"{CONNECT_BODY}\" }}]\n\
                 dns_name = \"probe.test\"\ndns_servers = [\"{PUBLIC}\"]\ngateway = \"{}\"\n\
                 upstream_every_secs = 2\n",
                net.primary.gateway
            ),
        )
        .unwrap();
        let mut rig = Rig {
            monitor: None,
            lines: None,
            seen: Vec::new(),
            endpoint,
            _dns: dns,
            relay,
            data,
            net,
            session,
        };
        rig.spawn_monitor();
        rig
    }

    fn spawn_monitor(&mut self) {
        let mut cmd = self.session.command("ip");
        cmd.args(["netns", "exec", &self.net.desk, CLI, "--data-dir"])
            .arg(self.data.path())
            .args(["monitor", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start tsunagi-cli monitor");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line: {line:?}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        self.monitor = Some(ChildGuard::new("tsunagi-cli monitor", child));
        self.lines = Some(rx);
        // Healthy first: the endpoint has been probed a few times.
        let endpoint = &self.endpoint;
        wait_until(Duration::from_secs(20), "the first heartbeats", || {
            endpoint.requests() >= 3
        });
    }

    /// The next transition line, within `timeout`.
    fn next(&mut self, timeout: Duration) -> Option<Value> {
        let v = self.lines.as_ref().unwrap().recv_timeout(timeout).ok()?;
        self.seen.push(v.clone());
        Some(v)
    }

    /// Wait for a line with this state and cause; returns it and how long it took.
    fn expect(&mut self, state: &str, cause: Option<&str>, within: Duration) -> (Value, Duration) {
        let started = Instant::now();
        while let Some(left) = within.checked_sub(started.elapsed()) {
            let Some(v) = self.next(left) else { break };
            if v["state"] == state && v["cause"].as_str() == cause {
                return (v, started.elapsed());
            }
        }
        panic!(
            "no {state}/{cause:?} line within {within:?}; lines so far: {:#?}",
            self.seen
        );
    }

    fn stop_monitor(&mut self) {
        if let Some(mut m) = self.monitor.take() {
            let status = m.stop(Duration::from_secs(10));
            assert!(
                status.is_some_and(|s| s.success()),
                "the monitor stops cleanly on SIGTERM: {status:?}"
            );
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self
            .session
            .command(CLI)
            .arg("--data-dir")
            .arg(self.data.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn internet_drop(rig: &Rig) {
    rig.net.fault("input", &format!("ip daddr {PUBLIC} drop"));
}

#[test]
fn a_silent_drop_is_offline_internet_within_seconds_and_recovers() {
    let mut rig = Rig::start(false, false);
    internet_drop(&rig);
    let (down, took) = rig.expect("offline", Some("internet"), Duration::from_secs(10));
    assert!(took < Duration::from_secs(6), "declared after {took:?}");
    assert_eq!(down["from"], "online");
    assert!(down["incident_id"].as_i64().is_some(), "{down}");
    let failed: Vec<&str> = down["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ok"] == false)
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert!(
        failed.contains(&"endpoint") && failed.contains(&"dns"),
        "{down}"
    );

    rig.net.clear_faults();
    let (up, took) = rig.expect("online", None, Duration::from_secs(15));
    assert!(took < Duration::from_secs(10), "recovered after {took:?}");
    assert_eq!(
        up["incident_id"], down["incident_id"],
        "the recovery closes the incident"
    );
    rig.stop_monitor();

    // The outage is a signal for the desk until marked seen.
    let signals = rig.cli(&["signals", "--mark-seen"]);
    assert!(
        signals.contains("the line dropped briefly once") || signals.contains("went down once"),
        "{signals}"
    );
    assert_eq!(rig.cli(&["signals"]), "", "marked seen");
}

#[test]
fn a_refused_connection_is_offline_and_recovers() {
    let mut rig = Rig::start(false, false);
    rig.net.fault(
        "input",
        &format!("ip daddr {PUBLIC} tcp dport 80 reject with tcp reset"),
    );
    let (down, _) = rig.expect("offline", Some("internet"), Duration::from_secs(10));
    assert!(
        down["probes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["failure"] == "refused"),
        "{down}"
    );
    rig.net.clear_faults();
    rig.expect("online", None, Duration::from_secs(15));
}

#[test]
fn link_down_is_local_link_and_the_backup_line_is_named_when_it_carries_the_desk() {
    let mut rig = Rig::start(true, false);
    rig.net.set_link(&rig.net.primary, false);
    let (down, took) = rig.expect("offline", Some("local_link"), Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(2),
        "link down seen after {took:?}"
    );
    assert_eq!(down["backup_line"], false);

    // Staff switch to the backup line: traffic leaves through the other adapter.
    let backup = rig.net.backup.as_ref().unwrap();
    rig.net.route_via(backup);
    let (up, _) = rig.expect("online", None, Duration::from_secs(15));
    assert_eq!(up["backup_line"], true, "{up}");

    // The primary line returns and carries the desk again.
    rig.net.set_link(&rig.net.primary, true);
    rig.net.route_via(&rig.net.primary);
    let started = Instant::now();
    loop {
        let v = rig
            .next(Duration::from_secs(15).saturating_sub(started.elapsed()))
            .unwrap_or_else(|| panic!("no return to the primary line: {:#?}", rig.seen));
        if v["backup_line"] == false && v["state"] == "online" {
            break;
        }
    }
}

#[test]
fn heavy_random_loss_is_never_offline() {
    let mut rig = Rig::start(false, false);
    let desk_ip = rig.net.primary.desk_ip;
    rig.net.fault(
        "input",
        &format!("ip saddr {desk_ip} numgen random mod 100 < 30 drop"),
    );
    rig.net.fault(
        "output",
        &format!("ip daddr {desk_ip} numgen random mod 100 < 30 drop"),
    );
    let started = Instant::now();
    let watch = Duration::from_secs(60);
    while let Some(left) = watch.checked_sub(started.elapsed()) {
        if let Some(v) = rig.next(left) {
            assert_ne!(v["state"], "offline", "30 % loss declared offline: {v}");
        }
    }
    assert!(
        rig.seen
            .iter()
            .any(|v| v["state"] == "degraded" && v["cause"] == "loss"),
        "60 s of 30 % loss should show as degraded (loss): {:#?}",
        rig.seen
    );
    rig.net.clear_faults();
    rig.expect("online", None, Duration::from_secs(40));
}

#[test]
fn dns_failing_alone_is_degraded_dns() {
    let mut rig = Rig::start(false, false);
    rig.net.fault("input", "udp dport 53 drop");
    rig.expect("degraded", Some("dns"), Duration::from_secs(10));
    rig.net.clear_faults();
    rig.expect("online", None, Duration::from_secs(15));
}

#[test]
fn the_upstream_down_while_the_internet_is_up_is_degraded_upstream() {
    let mut rig = Rig::start(false, true);
    let (relay, _) = rig.relay.as_ref().unwrap();
    relay.set_hung(true);
    rig.expect("degraded", Some("upstream"), Duration::from_secs(15));
    rig.relay.as_ref().unwrap().0.set_hung(false);
    rig.expect("online", None, Duration::from_secs(20));
}

#[test]
fn a_captive_portal_answering_200_is_offline_captive() {
    let mut rig = Rig::start(false, false);
    rig.endpoint.set_captive(true);
    let (down, _) = rig.expect("offline", Some("captive"), Duration::from_secs(10));
    assert!(
        down["probes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["failure"] == "wrong_content"),
        "{down}"
    );
    rig.endpoint.set_captive(false);
    rig.expect("online", None, Duration::from_secs(15));
}
