//! `[monitor]` in config.toml: what to probe and how often. Everything has a default that
//! suits a clinic on an ordinary line; tests point the targets at their own servers.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A plain-http endpoint whose body is known: an answer without `expect` in it comes from
/// something in the way (a captive portal, a filtering proxy), not from the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub url: String,
    pub expect: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Time between heartbeats while everything is fine. A heartbeat is one DNS query;
    /// every `endpoint_every`th also asks an endpoint (in turn) over a kept-alive
    /// connection.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// How many heartbeats per endpoint request (1: every heartbeat asks one).
    #[serde(default = "default_endpoint_every")]
    pub endpoint_every: u32,
    /// Pause before the next round after a failure, to confirm it quickly.
    #[serde(default = "default_confirm_ms")]
    pub confirm_interval_ms: u64,
    /// Time between rounds while offline (watching for the line to return).
    #[serde(default = "default_offline_ms")]
    pub offline_interval_ms: u64,
    /// The most a heartbeat may take, and what it may take before the line's round trip
    /// is known. Once answers come back, a heartbeat waits the round trip plus four times
    /// its variation (as TCP does), at least 250 ms: a slow line (a tethered phone) waits
    /// longer by itself. Confirming rounds wait at least 1.3 s, twice that on a slow line.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Consecutive failing rounds before the state falls.
    #[serde(default = "default_down_after")]
    pub down_after: u32,
    /// Consecutive good rounds before it recovers (more than `down_after`: flapping lines
    /// should not flap the desk).
    #[serde(default = "default_up_after")]
    pub up_after: u32,
    /// How often the upstream (FHIR `/metadata`) is checked while it answers.
    #[serde(default = "default_upstream_every")]
    pub upstream_every_secs: u64,
    #[serde(default = "default_endpoints")]
    pub endpoints: Vec<Endpoint>,
    /// A name to resolve; its answer is not cached between probes.
    #[serde(default = "default_dns_name")]
    pub dns_name: String,
    /// DNS servers to ask (`ip` or `ip:port`); empty: the OS's.
    #[serde(default)]
    pub dns_servers: Vec<String>,
    /// The LAN gateway to reach by TCP; absent: the OS's default gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// Any answer on this port (even a refusal) proves the gateway is there.
    #[serde(default = "default_gateway_port")]
    pub gateway_port: u16,
    /// When the desk is told each morning (clinic time, `HH:MM`) what happened overnight.
    #[serde(default = "default_morning")]
    pub morning_summary_at: String,
    /// Spend little on a backup or metered line (a tethered phone's data plan): slower
    /// heartbeats and server checks, the primary line's return still seen from the route.
    /// The owner can switch it off in settings.
    #[serde(default = "yes")]
    pub frugal: bool,
    /// Time between heartbeats while frugal.
    #[serde(default = "default_frugal_interval_ms")]
    pub frugal_interval_ms: u64,
    /// How often the upstream is checked while frugal (it still answers).
    #[serde(default = "default_frugal_upstream_every")]
    pub frugal_upstream_every_secs: u64,
    /// A D-Bus address to ask for NetworkManager's metered flag instead of the system bus
    /// (tests; Linux only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metered_dbus: Option<String>,
}

fn yes() -> bool {
    true
}
fn default_interval_ms() -> u64 {
    1_000
}
fn default_endpoint_every() -> u32 {
    4
}
fn default_frugal_interval_ms() -> u64 {
    5_000
}
fn default_frugal_upstream_every() -> u64 {
    300
}
fn default_confirm_ms() -> u64 {
    0
}
fn default_offline_ms() -> u64 {
    500
}
fn default_timeout_ms() -> u64 {
    1_000
}
fn default_down_after() -> u32 {
    2
}
fn default_up_after() -> u32 {
    3
}
fn default_upstream_every() -> u64 {
    30
}
fn default_gateway_port() -> u16 {
    80
}
fn default_morning() -> String {
    "07:30".to_owned()
}
fn default_dns_name() -> String {
    "www.msftconnecttest.com".to_owned()
}

/// The OS vendors' own connectivity checks (what Windows and macOS ask themselves).
fn default_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            url: "http://www.msftconnecttest.com/connecttest.txt".to_owned(),
            expect: "Microsoft Connect Test".to_owned(),
        },
        Endpoint {
            url: "http://captive.apple.com/hotspot-detect.html".to_owned(),
            expect: "Success".to_owned(),
        },
    ]
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            enabled: true,
            interval_ms: default_interval_ms(),
            endpoint_every: default_endpoint_every(),
            confirm_interval_ms: default_confirm_ms(),
            offline_interval_ms: default_offline_ms(),
            timeout_ms: default_timeout_ms(),
            down_after: default_down_after(),
            up_after: default_up_after(),
            upstream_every_secs: default_upstream_every(),
            endpoints: default_endpoints(),
            dns_name: default_dns_name(),
            dns_servers: Vec::new(),
            gateway: None,
            gateway_port: default_gateway_port(),
            morning_summary_at: default_morning(),
            frugal: true,
            frugal_interval_ms: default_frugal_interval_ms(),
            frugal_upstream_every_secs: default_frugal_upstream_every(),
            metered_dbus: None,
        }
    }
}

impl MonitorConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.endpoints.is_empty() {
            return Err("monitor.endpoints must name at least one endpoint".to_owned());
        }
        for e in &self.endpoints {
            let url = url::Url::parse(&e.url)
                .map_err(|_| format!("monitor endpoint {:?} is not a URL", e.url))?;
            if !matches!(url.scheme(), "http" | "https") || e.expect.is_empty() {
                return Err(format!(
                    "monitor endpoint {:?} must be http(s) with a non-empty expect",
                    e.url
                ));
            }
        }
        for s in &self.dns_servers {
            parse_dns_server(s)?;
        }
        if self.timeout_ms == 0
            || self.interval_ms == 0
            || self.offline_interval_ms == 0
            || self.frugal_interval_ms == 0
        {
            return Err("monitor intervals and timeout must be above zero".to_owned());
        }
        self.morning_time()?;
        if self.endpoint_every == 0 {
            return Err("monitor.endpoint_every must be at least 1".to_owned());
        }
        if self.down_after == 0 || self.up_after == 0 {
            return Err("monitor.down_after and up_after must be at least 1".to_owned());
        }
        Ok(())
    }

    pub fn morning_time(&self) -> Result<chrono::NaiveTime, String> {
        chrono::NaiveTime::parse_from_str(&self.morning_summary_at, "%H:%M").map_err(|_| {
            format!(
                "monitor.morning_summary_at {:?} is not a time like 07:30",
                self.morning_summary_at
            )
        })
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub fn dns_server_addrs(&self) -> Vec<SocketAddr> {
        self.dns_servers
            .iter()
            .filter_map(|s| parse_dns_server(s).ok())
            .collect()
    }
}

fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    s.parse::<SocketAddr>()
        .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| format!("monitor.dns_servers entry {s:?} is not an address"))
}
