//! The probes. Each has its own timeout and checks what came back, not just that
//! something did: a captive portal or a middlebox answers in milliseconds.
//!
//! Heartbeats are small: one DNS query (about 170 bytes both ways), and every few
//! heartbeats one endpoint over a kept-alive connection (the vendors' endpoints answer a
//! few bytes). A round that confirms a failure asks more: every endpoint several times over
//! fresh connections, the gateway and the upstream.
//!
//! How long a probe may take follows the line ([`RoundTrip`]): a heartbeat gives up soon
//! on a fast line, so a silent drop is confirmed early; a confirming round waits long
//! enough for TCP to resend a lost packet once, so heavy loss does not look like a cut.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;

use super::config::MonitorConfig;
use super::{Failure, NetPath, ProbeKind, ProbeResult};

/// Requests per endpoint in a confirming round (one on the kept-alive connection, the rest
/// on fresh ones): under heavy loss one of them gets through, on a dead line none does.
const CONFIRM_REQUESTS: usize = 4;

/// A heartbeat waits at least this long, however fast the line.
const HEARTBEAT_FLOOR: Duration = Duration::from_millis(250);

/// A confirming round waits at least this long: a lost connection attempt is sent again
/// after 1 s (TCP's first retransmission), and its answer must still fit.
const CONFIRM_FLOOR: Duration = Duration::from_millis(1300);

/// What a confirming round adds to three times the heartbeat's wait.
const CONFIRM_MARGIN: Duration = Duration::from_millis(200);

/// The line's round trip as the answers measure it (RFC 6298's smoothed estimate and its
/// variation), and what a probe may wait from it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RoundTrip {
    /// Smoothed round trip and its mean deviation, in milliseconds; None before an answer.
    smoothed: Option<(f64, f64)>,
}

impl RoundTrip {
    pub fn sample(&mut self, millis: u32) {
        let r = f64::from(millis);
        self.smoothed = Some(match self.smoothed {
            None => (r, r / 2.0),
            Some((srtt, var)) => (
                0.875 * srtt + 0.125 * r,
                0.75 * var + 0.25 * (srtt - r).abs(),
            ),
        });
    }

    /// How long a heartbeat waits: the round trip plus four times its variation, between
    /// 250 ms and `ceiling`; `ceiling` itself until the first answer.
    pub fn heartbeat(&self, ceiling: Duration) -> Duration {
        match self.smoothed {
            None => ceiling,
            Some((srtt, var)) => Duration::from_secs_f64((srtt + 4.0 * var) / 1000.0)
                .clamp(HEARTBEAT_FLOOR, ceiling.max(HEARTBEAT_FLOOR)),
        }
    }

    /// How long a confirming round waits: three heartbeats and a margin, at least 1.3 s.
    /// A fresh connection takes two round trips, and a server that writes its answer in
    /// two pieces a third.
    pub fn confirm(&self, ceiling: Duration) -> Duration {
        (self.heartbeat(ceiling) * 3 + CONFIRM_MARGIN).max(CONFIRM_FLOOR)
    }
}

/// What one round asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Confirm or classify: every probe, several times.
    pub full: bool,
    pub upstream: bool,
    /// A heartbeat that asks an endpoint whatever its turn.
    pub endpoint: bool,
    /// Read the adapters first (a full round always does). Reading them walks every
    /// adapter in the OS (netlink dumps, sysfs files): most of an idle desk's CPU when
    /// it was done every heartbeat, so a heartbeat does it only when no link events are
    /// watched, or now and then in case one was missed.
    pub link: bool,
}

pub struct Prober {
    config: MonitorConfig,
    /// `{base}/metadata` of the FHIR server, when that is the source.
    upstream: Option<reqwest::Url>,
    http: reqwest::Client,
    /// Fresh connections for confirming rounds, so one stuck connection cannot decide.
    fresh: reqwest::Client,
    resolver: Option<TokioResolver>,
    /// Which endpoint the next heartbeat asks.
    turn: AtomicUsize,
    /// Heartbeats so far (every `endpoint_every`th asks an endpoint).
    beats: AtomicUsize,
    round_trip: Mutex<RoundTrip>,
    /// The adapters as last read, while they were fine (see [`Plan::link`]).
    link: Mutex<Option<ProbeResult>>,
}

impl Prober {
    pub fn new(config: MonitorConfig, upstream_base: Option<reqwest::Url>) -> Prober {
        let upstream = upstream_base.and_then(|mut base| {
            if !base.path().ends_with('/') {
                let path = format!("{}/", base.path());
                base.set_path(&path);
            }
            base.join("metadata").ok()
        });
        let http = client(true);
        let fresh = client(false);
        let resolver = resolver(&config);
        Prober {
            config,
            upstream,
            http,
            fresh,
            resolver,
            turn: AtomicUsize::new(0),
            beats: AtomicUsize::new(0),
            round_trip: Mutex::new(RoundTrip::default()),
            link: Mutex::new(None),
        }
    }

    /// After a link event: a connection kept alive on the old path says nothing about the
    /// new one, and a request on one whose route is gone waits its whole timeout (the
    /// kernel keeps the bytes queued) where a new connection learns "no route" at once.
    pub fn forget_connections(&mut self) {
        self.http = client(true);
    }

    /// The line's round trip as measured so far.
    pub fn round_trip(&self) -> RoundTrip {
        *self.round_trip.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn has_upstream(&self) -> bool {
        self.upstream.is_some()
    }

    /// Run one round's probes concurrently.
    pub async fn round(&self, plan: Plan) -> Vec<ProbeResult> {
        // Without an adapter nothing else can answer, and some probes (DNS) would only
        // give up at their timeout: say so at once.
        let cached = self.link.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let link = match cached {
            Some(link) if !plan.full && !plan.link => link,
            _ => {
                // File and netlink reads: off the async threads.
                let link = tokio::task::spawn_blocking(link)
                    .await
                    .unwrap_or_else(|_| ProbeResult::ok(ProbeKind::Link, "", 0));
                *self.link.lock().unwrap_or_else(|e| e.into_inner()) =
                    link.ok.then(|| link.clone());
                link
            }
        };
        if !link.ok {
            return vec![link];
        }
        let round_trip = self.round_trip();
        // DNS is one round trip; an HTTP answer can take two on a kept-alive connection (a
        // server that writes its headers and body apart waits for an acknowledgement).
        let (timeout, dns_timeout) = if plan.full {
            let wait = round_trip.confirm(self.config.timeout());
            (wait, wait)
        } else {
            let wait = round_trip.heartbeat(self.config.timeout());
            (wait * 2, wait)
        };
        let mut http = Vec::new();
        if plan.full {
            for endpoint in &self.config.endpoints {
                http.push(self.endpoint(&self.http, endpoint, timeout));
                for _ in 1..CONFIRM_REQUESTS {
                    http.push(self.endpoint(&self.fresh, endpoint, timeout));
                }
            }
        } else {
            // Every few heartbeats one endpoint, taking turns: little traffic on a metered
            // line, and a failure still brings a confirming round that asks all of them.
            let every = self.config.endpoint_every.max(1) as usize;
            if self
                .beats
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(every)
                || plan.endpoint
            {
                let n = self.config.endpoints.len().max(1);
                let turn = self.turn.fetch_add(1, Ordering::Relaxed) % n;
                if let Some(endpoint) = self.config.endpoints.get(turn) {
                    http.push(self.endpoint(&self.http, endpoint, timeout));
                }
            }
        }
        let upstream = async {
            match (&self.upstream, plan.upstream || plan.full) {
                (Some(url), true) => Some(self.upstream(url, timeout).await),
                _ => None,
            }
        };
        let gateway = async {
            if plan.full {
                Some(self.gateway(timeout).await)
            } else {
                None
            }
        };
        let (endpoints, dns, gateway, upstream) =
            tokio::join!(join_all(http), self.dns(dns_timeout), gateway, upstream);
        if dns.ok {
            // One round trip, whatever the server: the line's own measure.
            self.round_trip
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .sample(dns.millis);
        }
        let mut results = vec![link];
        results.extend(endpoints);
        results.push(dns);
        results.extend(gateway);
        results.extend(upstream);
        results
    }

    async fn endpoint(
        &self,
        client: &reqwest::Client,
        endpoint: &super::Endpoint,
        timeout: Duration,
    ) -> ProbeResult {
        let started = Instant::now();
        let answer = tokio::time::timeout(timeout, async {
            let response = client.get(&endpoint.url).send().await?;
            let status = response.status();
            // A known body is a few bytes; a portal page is not worth reading whole.
            let body = read_prefix(response, 4096).await?;
            Ok::<_, reqwest::Error>((status, body))
        })
        .await;
        let millis = elapsed_ms(started);
        let target = endpoint.url.as_str();
        match answer {
            Err(_) => ProbeResult::failed(ProbeKind::Endpoint, target, Failure::Timeout, millis),
            Ok(Err(e)) => {
                ProbeResult::failed(ProbeKind::Endpoint, target, classify_http(&e), millis)
            }
            Ok(Ok((status, body))) => {
                let found = String::from_utf8_lossy(&body).contains(&endpoint.expect);
                let mut r = if status.is_success() && found {
                    ProbeResult::ok(ProbeKind::Endpoint, target, millis)
                } else {
                    ProbeResult::failed(ProbeKind::Endpoint, target, Failure::WrongContent, millis)
                };
                r.status = Some(status.as_u16());
                r
            }
        }
    }

    /// `HEAD {base}/metadata`: the server's CapabilityStatement is megabytes on some
    /// servers, so the answer's headers are checked instead of its body: a FHIR server
    /// answers with a FHIR or JSON content type; a login page or proxy does not.
    /// 401/403 still prove the server is there.
    async fn upstream(&self, url: &reqwest::Url, timeout: Duration) -> ProbeResult {
        let started = Instant::now();
        let answer = tokio::time::timeout(
            timeout,
            self.http
                .head(url.clone())
                .header(reqwest::header::ACCEPT, "application/fhir+json")
                .send(),
        )
        .await;
        let millis = elapsed_ms(started);
        let target = url.as_str();
        match answer {
            Err(_) => ProbeResult::failed(ProbeKind::Upstream, target, Failure::Timeout, millis),
            Ok(Err(e)) => {
                ProbeResult::failed(ProbeKind::Upstream, target, classify_http(&e), millis)
            }
            Ok(Ok(response)) => {
                let status = response.status();
                let json = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("json"));
                let reachable = status.is_success()
                    || status == reqwest::StatusCode::UNAUTHORIZED
                    || status == reqwest::StatusCode::FORBIDDEN;
                let mut r = match (reachable, json) {
                    (true, true) => ProbeResult::ok(ProbeKind::Upstream, target, millis),
                    (true, false) => ProbeResult::failed(
                        ProbeKind::Upstream,
                        target,
                        Failure::WrongContent,
                        millis,
                    ),
                    (false, _) => {
                        ProbeResult::failed(ProbeKind::Upstream, target, Failure::Status, millis)
                    }
                };
                r.status = Some(status.as_u16());
                r
            }
        }
    }

    async fn dns(&self, timeout: Duration) -> ProbeResult {
        let name = self.config.dns_name.as_str();
        let Some(resolver) = &self.resolver else {
            return ProbeResult::failed(ProbeKind::Dns, name, Failure::Other, 0);
        };
        let started = Instant::now();
        let answer = tokio::time::timeout(timeout, resolver.lookup_ip(name)).await;
        let millis = elapsed_ms(started);
        match answer {
            Ok(Ok(ips)) if ips.iter().next().is_some() => {
                ProbeResult::ok(ProbeKind::Dns, name, millis)
            }
            Ok(_) => ProbeResult::failed(ProbeKind::Dns, name, Failure::NameNotResolved, millis),
            Err(_) => ProbeResult::failed(ProbeKind::Dns, name, Failure::Timeout, millis),
        }
    }

    /// A TCP connection attempt to the gateway: an accepted or a refused connection both
    /// prove it is there; silence or "unreachable" does not.
    async fn gateway(&self, timeout: Duration) -> ProbeResult {
        let Some(ip) = self.config.gateway.or_else(default_gateway) else {
            return ProbeResult::failed(ProbeKind::Gateway, "", Failure::Unreachable, 0);
        };
        let addr = SocketAddr::new(ip, self.config.gateway_port);
        let target = addr.to_string();
        let started = Instant::now();
        let answer = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await;
        let millis = elapsed_ms(started);
        match answer {
            Ok(Ok(_)) => ProbeResult::ok(ProbeKind::Gateway, target, millis),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                ProbeResult::ok(ProbeKind::Gateway, target, millis)
            }
            Ok(Err(e)) => ProbeResult::failed(ProbeKind::Gateway, target, io_failure(&e), millis),
            Err(_) => ProbeResult::failed(ProbeKind::Gateway, target, Failure::Timeout, millis),
        }
    }

    /// The route out right now: the gateway and the local address the OS would use toward
    /// the first endpoint. Sends nothing (a UDP socket is only "connected").
    pub fn path(&self) -> NetPath {
        let gateway = self.config.gateway.or_else(default_gateway);
        let local_address = self
            .config
            .endpoints
            .first()
            .and_then(|e| url::Url::parse(&e.url).ok())
            .and_then(|u| {
                let port = u.port_or_known_default().unwrap_or(80);
                match u.host()? {
                    url::Host::Ipv4(ip) => Some(SocketAddr::new(IpAddr::V4(ip), port)),
                    url::Host::Ipv6(ip) => Some(SocketAddr::new(IpAddr::V6(ip), port)),
                    // Resolving here would send a query; the OS's route to a public
                    // address is the one any name would use.
                    url::Host::Domain(_) => Some(SocketAddr::from(([192, 0, 2, 1], port))),
                }
            })
            .and_then(|target| {
                let bind: SocketAddr = if target.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let socket = UdpSocket::bind(bind).ok()?;
                socket.connect(target).ok()?;
                socket.local_addr().ok()
            })
            .map(|a| a.ip().to_string());
        NetPath {
            gateway: gateway.map(|g| g.to_string()),
            local_address,
        }
    }
}

fn client(keep_alive: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("Tsunagi/", env!("CARGO_PKG_VERSION"), " monitor"))
        .redirect(reqwest::redirect::Policy::none())
        // A probe must see the network as it is, not through a cached proxy setting.
        .no_proxy();
    let builder = if keep_alive {
        builder
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(Duration::from_secs(60))
    } else {
        builder.pool_max_idle_per_host(0)
    };
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

fn resolver(config: &MonitorConfig) -> Option<TokioResolver> {
    let provider = TokioRuntimeProvider::default();
    let servers = config.dns_server_addrs();
    let mut builder = if servers.is_empty() {
        match TokioResolver::builder_tokio() {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("the OS's DNS settings cannot be read: {e}");
                return None;
            }
        }
    } else {
        let mut rc = ResolverConfig::from_parts(None, vec![], vec![]);
        for addr in servers {
            let mut ns = NameServerConfig::udp(addr.ip());
            for c in &mut ns.connections {
                c.port = addr.port();
            }
            rc.add_name_server(ns);
        }
        hickory_resolver::Resolver::builder_with_config(rc, provider)
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    // Every probe asks the network: a cached answer proves nothing.
    opts.cache_size = 0;
    opts.attempts = 1;
    // The probe's own deadline decides; the resolver must not give up first.
    opts.timeout = config.timeout().max(Duration::from_secs(5));
    opts.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    // One A query per probe; AAAA only when there is no A record.
    opts.ip_strategy = hickory_resolver::config::LookupIpStrategy::Ipv4thenIpv6;
    builder.build().ok()
}

/// Is there an adapter that is up, connected and addressed? (Loopback does not count.)
fn link() -> ProbeResult {
    let up: Vec<String> = netdev::get_interfaces()
        .into_iter()
        .filter(|i| !i.is_loopback() && i.is_up() && i.is_running())
        .filter(|i| {
            i.ipv4.iter().any(|n| !n.addr().is_link_local())
                || i.ipv6
                    .iter()
                    .any(|n| (n.addr().segments()[0] & 0xffc0) != 0xfe80)
        })
        .map(|i| i.name)
        .collect();
    if up.is_empty() {
        ProbeResult::failed(ProbeKind::Link, "", Failure::NoLink, 0)
    } else {
        ProbeResult::ok(ProbeKind::Link, up.join(","), 0)
    }
}

fn default_gateway() -> Option<IpAddr> {
    let gw = netdev::get_default_gateway().ok()?;
    gw.ipv4
        .first()
        .map(|ip| IpAddr::V4(*ip))
        .or_else(|| gw.ipv6.first().map(|ip| IpAddr::V6(*ip)))
}

async fn read_prefix(mut response: reqwest::Response, limit: usize) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}

fn classify_http(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io_failure(io);
        }
        let text = err.to_string().to_ascii_lowercase();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Failure::NameNotResolved;
        }
        if text.contains("certificate") || text.contains("tls") {
            return Failure::Tls;
        }
        source = err.source();
    }
    Failure::Other
}

fn io_failure(e: &std::io::Error) -> Failure {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::TimedOut => Failure::Timeout,
        ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable | ErrorKind::NetworkDown => {
            Failure::Unreachable
        }
        _ => Failure::Other,
    }
}

fn elapsed_ms(started: Instant) -> u32 {
    started.elapsed().as_millis().min(u32::MAX as u128) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const CEILING: Duration = Duration::from_millis(1000);

    #[test]
    fn issue_21_waits_follow_the_line() {
        let mut fast = RoundTrip::default();
        assert_eq!(fast.heartbeat(CEILING), CEILING, "nothing measured yet");
        for _ in 0..10 {
            fast.sample(2);
        }
        assert_eq!(fast.heartbeat(CEILING), HEARTBEAT_FLOOR, "a fast line");
        assert_eq!(fast.confirm(CEILING), CONFIRM_FLOOR);

        // A tethered phone: 600 ms ± 200 ms round trips.
        let mut slow = RoundTrip::default();
        for i in 0..40 {
            slow.sample([400, 800, 550, 700, 600][i % 5]);
        }
        let wait = slow.heartbeat(CEILING);
        assert!(wait > Duration::from_millis(800), "{wait:?}");
        assert!(wait <= CEILING, "{wait:?}");
        assert!(
            slow.confirm(CEILING) >= Duration::from_millis(2400) + CONFIRM_MARGIN,
            "three round trips fit: a fresh connection, and an answer in two pieces"
        );
    }
}
