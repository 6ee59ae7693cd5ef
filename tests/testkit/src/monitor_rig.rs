//! The monitor against a real network, shared by the namespace tests and the detection
//! benchmark: `tsunagi-cli monitor --json` runs in a desk namespace whose only way out is a
//! veth line to an "internet" namespace serving two connectivity endpoints, DNS and
//! (optionally) the real FHIR server relayed in. Needs root.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::hfs::Hfs;
use crate::netns::{DelayLine, Network, PUBLIC};
use crate::probe_servers::{DnsServer, HttpEndpoint, TcpRelay, CONNECT_BODY};
use crate::{wait_until, ChildGuard, Session};

/// Fields drop in order: the monitor stops before the servers and the network go.
pub struct MonitorRig {
    monitor: Option<ChildGuard>,
    lines: Option<Receiver<Value>>,
    /// Every line read so far.
    pub seen: Vec<Value>,
    pub endpoint: HttpEndpoint,
    second: HttpEndpoint,
    _dns: DnsServer,
    pub relay: Option<(TcpRelay, Hfs)>,
    cli: PathBuf,
    data: tempfile::TempDir,
    /// The slow line, when the desk is on one; it goes before the network.
    pub slow: Option<DelayLine>,
    pub net: Network,
    pub session: Session,
}

impl MonitorRig {
    /// `cli`: the tsunagi-cli binary; `backup`: a second line; `upstream`: the real FHIR
    /// server relayed in as the source, checked every 2 s (tests) instead of every 30 s.
    pub fn start(cli: &Path, backup: bool, upstream: bool) -> MonitorRig {
        Self::start_with(
            cli,
            backup,
            upstream,
            if upstream {
                "upstream_every_secs = 2\n"
            } else {
                ""
            },
        )
    }

    /// As `start`, with the monitor's defaults apart from its targets and `extra` lines
    /// for `[monitor]`.
    pub fn start_with(cli: &Path, backup: bool, upstream: bool, extra: &str) -> MonitorRig {
        let mut rig = Self::prepare(cli, backup, upstream, extra);
        rig.spawn_monitor();
        rig
    }

    /// The network, the servers and the data folder with its config.toml, and nothing
    /// running in the desk namespace yet (see `spawn`, or run code there with
    /// `net.within_desk`).
    pub fn prepare(cli: &Path, backup: bool, upstream: bool, extra: &str) -> MonitorRig {
        Self::prepare_on(cli, backup, false, upstream, extra)
    }

    /// As `prepare`; `slow`: the desk's internet traffic and its router on a slow line.
    fn prepare_on(cli: &Path, backup: bool, slow: bool, upstream: bool, extra: &str) -> MonitorRig {
        let session = Session::start();
        let net = Network::new(backup);
        let slow = slow.then(|| net.slow_line());
        let gateway = slow.as_ref().map_or(net.primary.gateway, |s| s.gateway);
        // Two endpoints, like the defaults (the OS vendors' two).
        let endpoint = HttpEndpoint::serve(net.listen_tcp(&format!("{PUBLIC}:80")));
        let second = HttpEndpoint::serve(net.listen_tcp(&format!("{PUBLIC}:81")));
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
                 [monitor]\nendpoints = [{{ url = \"http://{PUBLIC}/connect.txt\", expect = \"{CONNECT_BODY}\" }}, \
                 {{ url = \"http://{PUBLIC}:81/hotspot.html\", expect = \"{CONNECT_BODY}\" }}]\n\
                 dns_name = \"probe.test\"\ndns_servers = [\"{PUBLIC}\"]\ngateway = \"{}\"\n\
                 {extra}",
                gateway
            ),
        )
        .unwrap();
        MonitorRig {
            monitor: None,
            lines: None,
            seen: Vec::new(),
            endpoint,
            second,
            _dns: dns,
            relay,
            cli: cli.to_owned(),
            data,
            slow,
            net,
            session,
        }
    }

    /// As `start` without a backup line or upstream, with the desk's internet traffic on
    /// a slow line (300 ms ± 100 ms each way: a tethered phone) and its router there.
    pub fn start_on_slow_line(cli: &Path) -> MonitorRig {
        let mut rig = Self::prepare_on(cli, false, true, false, "");
        rig.spawn_monitor();
        rig
    }

    /// The data folder the desk uses.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Drop this share of the desk's packets at random, both ways.
    pub fn random_loss(&self, percent: u8) {
        let desk_ip = self.net.primary.desk_ip;
        let rule = |dir: &str| format!("ip {dir} {desk_ip} numgen random mod 100 < {percent} drop");
        self.net.fault("input", &rule("saddr"));
        self.net.fault("output", &rule("daddr"));
    }

    /// Both endpoints answer with a login page (a captive portal catches all plain http).
    pub fn set_captive(&self, on: bool) {
        self.endpoint.set_captive(on);
        self.second.set_captive(on);
    }

    pub fn spawn_monitor(&mut self) {
        self.spawn(&["monitor", "--json"]);
        // Healthy first: both endpoints have answered a heartbeat (they take turns, every
        // few heartbeats).
        let (first, second) = (&self.endpoint, &self.second);
        wait_until(Duration::from_secs(20), "the first heartbeats", || {
            first.requests() >= 1 && second.requests() >= 1
        });
    }

    /// Start `tsunagi-cli <args>` in the desk namespace; it must print one JSON object per
    /// line (`next` reads them).
    pub fn spawn(&mut self, args: &[&str]) {
        let mut cmd = self.session.command("ip");
        cmd.args(["netns", "exec", &self.net.desk])
            .arg(&self.cli)
            .arg("--data-dir")
            .arg(self.data.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start tsunagi-cli");
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
        self.monitor = Some(ChildGuard::new("tsunagi-cli", child));
        self.lines = Some(rx);
    }

    /// DNS queries the "internet" answered so far (one per heartbeat).
    pub fn dns_requests(&self) -> u64 {
        self._dns.requests()
    }

    /// The rig's private D-Bus session bus (a stand-in NetworkManager can sit there).
    pub fn session_bus(&self) -> String {
        crate::fake_nm::session_bus(&self.session)
    }

    /// The next transition line, within `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<Value> {
        let v = self.lines.as_ref().unwrap().recv_timeout(timeout).ok()?;
        self.seen.push(v.clone());
        Some(v)
    }

    /// Wait for a line with this state and cause; returns it and how long it took.
    pub fn expect(
        &mut self,
        state: &str,
        cause: Option<&str>,
        within: Duration,
    ) -> (Value, Duration) {
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

    pub fn stop_monitor(&mut self) {
        if let Some(mut m) = self.monitor.take() {
            let status = m.stop(Duration::from_secs(10));
            assert!(
                status.is_some_and(|s| s.success()),
                "the monitor stops cleanly on SIGTERM: {status:?}"
            );
        }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let out = self
            .session
            .command(&self.cli)
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
