//! A loopback HTTP proxy in front of a real server that misbehaves on request: what a
//! clinic's line, a captive portal or a sick server does to a pull.
//!
//! Client side: raw sockets, so it can stall, truncate or reset at will. Upstream side: a
//! plain HTTP client. The upstream's own address in bodies (Bundle `next` links) is
//! rewritten to the proxy's, as a reverse proxy in front of a FHIR server would.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward faithfully.
    Pass,
    /// Answer this status with an OperationOutcome (429 also with Retry-After).
    Status(u16),
    /// A captive portal or hotel login page: 200 with HTML.
    CaptivePortal,
    /// A redirect to a login page.
    Redirect,
    /// Read the request, never answer.
    Stall,
    /// Valid HTTP, but the JSON body is cut in half.
    TruncatedJson,
    /// Valid FHIR JSON of the wrong kind (a Patient instead of a searchset Bundle).
    WrongResource,
    /// A body of this many bytes; with `declared` its Content-Length says so up front,
    /// otherwise it is sent chunked and never ends early.
    Huge { bytes: usize, declared: bool },
    /// Send half the upstream's answer, then reset the connection.
    Reset,
    /// Forward the request (the server commits it), then reset the connection without a
    /// word of the answer: the client cannot know whether its change landed.
    DropAfterCommit,
    /// Forward the request (the server commits it), then hold the connection silent.
    StallAfterCommit,
    /// Reset the connection before forwarding anything.
    ResetBeforeSend,
    /// Forward faithfully after this many milliseconds (a slow line).
    Delay(u64),
    /// Forward the request (the server answers it now), then hold the answer until the
    /// test calls `release`: an answer still on its way while other requests go through.
    Hold,
    /// A server that keeps no versions: no `versionId` in any body, no ETag, and no
    /// history (`_history` answers 404).
    Unversioned,
}

#[derive(Debug)]
struct State {
    fault: Fault,
    /// The fault applies from this request on (0: all); earlier ones pass.
    fault_from: usize,
    requests: usize,
    bytes_in: u64,
    bytes_out: u64,
    /// `Authorization` header value required, if any (401 otherwise).
    require_auth: Option<String>,
    paths: Vec<String>,
    /// `METHOD path` of every request, in order.
    calls: Vec<String>,
    /// Only requests whose `METHOD path` contains this are faulted (others pass).
    only: Option<String>,
    /// Random faults: each matching request gets one of these with this chance (percent),
    /// drawn from a seeded generator so a failing run can be replayed.
    random: Option<(u32, Vec<Fault>, u64)>,
    /// Faults injected so far, by kind (for the test to show what it went through).
    injected: Vec<Fault>,
    /// `Authorization` values received, in order (None: the request carried none).
    authorizations: Vec<Option<String>>,
    /// Held answers go out once this is set.
    released: bool,
}

pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy to `upstream` (e.g. `http://127.0.0.1:8080`).
    pub fn start(upstream: &str) -> FaultProxy {
        FaultProxy::start_on(
            TcpListener::bind("127.0.0.1:0").expect("bind proxy"),
            upstream,
        )
    }

    /// A proxy listening on `listener` (e.g. one bound inside a network namespace, so the
    /// desk reaches the server at a public-looking address).
    pub fn start_on(listener: TcpListener, upstream: &str) -> FaultProxy {
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(Mutex::new(State {
            fault: Fault::Pass,
            fault_from: 0,
            requests: 0,
            bytes_in: 0,
            bytes_out: 0,
            require_auth: None,
            paths: Vec::new(),
            calls: Vec::new(),
            only: None,
            random: None,
            injected: Vec::new(),
            authorizations: Vec::new(),
            released: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.trim_end_matches('/').to_owned();
        let own = format!("http://{addr}");
        let accept = {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(60))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (state, stop, http) = (state.clone(), stop.clone(), http.clone());
                            let (upstream, own) = (upstream.clone(), own.clone());
                            std::thread::spawn(move || {
                                let _ = serve(stream, &state, &stop, &http, &upstream, &own);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        FaultProxy {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Misbehave like this from now on.
    pub fn set(&self, fault: Fault) {
        self.set_from(fault, 0);
    }

    /// Pass the next `pass` requests, then misbehave (a page in the middle fails).
    pub fn set_from(&self, fault: Fault, pass: usize) {
        let mut s = self.state.lock().unwrap();
        s.fault_from = s.requests + pass;
        s.fault = fault;
    }

    /// Fault only requests whose `METHOD path` contains `needle` (e.g. `POST /Invoice`).
    pub fn only(&self, needle: Option<&str>) {
        self.state.lock().unwrap().only = needle.map(str::to_owned);
    }

    /// From now on, each request (that `only` lets through) gets one of `faults`, picked
    /// at random, with `percent` chance; the rest pass. Replaces `set`.
    pub fn set_random(&self, percent: u32, faults: Vec<Fault>, seed: u64) {
        let mut s = self.state.lock().unwrap();
        s.fault = Fault::Pass;
        s.random = Some((percent, faults, seed.max(1)));
    }

    /// Faults injected so far.
    pub fn injected(&self) -> Vec<Fault> {
        self.state.lock().unwrap().injected.clone()
    }

    /// Let held answers (`Fault::Hold`) go.
    pub fn release(&self) {
        self.state.lock().unwrap().released = true;
    }

    /// The `Authorization` header of every request received so far (None: it had none).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().authorizations.clone()
    }

    /// Answer 401 unless the request carries exactly this `Authorization` value.
    pub fn require_authorization(&self, value: Option<&str>) {
        self.state.lock().unwrap().require_auth = value.map(str::to_owned);
    }

    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }

    /// Bytes received from and sent to clients (requests and answers, headers included).
    pub fn bytes(&self) -> (u64, u64) {
        let s = self.state.lock().unwrap();
        (s.bytes_in, s.bytes_out)
    }

    /// Request paths seen so far (with their queries).
    /// `METHOD path` of every request since the start or the last `reset_counters`.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.state.lock().unwrap().paths.clone()
    }

    pub fn reset_counters(&self) {
        let mut s = self.state.lock().unwrap();
        s.bytes_in = 0;
        s.bytes_out = 0;
        s.paths.clear();
        s.calls.clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    /// Headers forwarded as they came (content type, accept, conditions).
    forwarded: Vec<(String, String)>,
    body: Vec<u8>,
    raw_len: usize,
}

/// Request headers a client's meaning depends on, and its credentials (the ORCA stand-in
/// checks them itself; hfs ignores them).
const FORWARDED: [&str; 6] = [
    "accept",
    "authorization",
    "content-type",
    "if-match",
    "if-none-exist",
    "prefer",
];

/// Answer headers the client reads.
const RETURNED: [&str; 5] = ["date", "etag", "location", "last-modified", "retry-after"];

/// xorshift64: a tiny seeded generator (tests replay a run from its seed).
fn next_random(seed: &mut u64) -> u64 {
    let mut x = *seed;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *seed = x;
    x
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut body = buf[split..].to_vec();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default().to_owned();
    let mut words = first.split_whitespace();
    let method = words.next().unwrap_or("GET").to_owned();
    let path = words.next().unwrap_or("/").to_owned();
    let header = |name: &str| {
        head.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        let n = stream.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&byte[..n]);
    }
    let forwarded = FORWARDED
        .iter()
        .filter_map(|name| Some((name.to_string(), header(name)?)))
        .collect();
    Ok(Request {
        method,
        path,
        authorization: header("authorization"),
        forwarded,
        raw_len: split + length,
        body,
    })
}

fn respond(
    stream: &mut TcpStream,
    state: &Mutex<State>,
    status: u16,
    content_type: &str,
    extra: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    state.lock().unwrap().bytes_out += (head.len() + body.len()) as u64;
    Ok(())
}

/// Close with RST instead of FIN (SO_LINGER 0): what a dying middlebox does.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

fn outcome(code: &str) -> Vec<u8> {
    format!(
        r#"{{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"{code}","diagnostics":"injected by the test proxy"}}]}}"#
    )
    .into_bytes()
}

fn serve(
    mut stream: TcpStream,
    state: &Mutex<State>,
    stop: &AtomicBool,
    http: &reqwest::blocking::Client,
    upstream: &str,
    own: &str,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let request = read_request(&mut stream)?;
    let fault = {
        let mut s = state.lock().unwrap();
        s.bytes_in += request.raw_len as u64;
        s.paths.push(request.path.clone());
        s.calls.push(format!("{} {}", request.method, request.path));
        s.authorizations.push(request.authorization.clone());
        let n = s.requests;
        s.requests += 1;
        if let Some(required) = &s.require_auth {
            if request.authorization.as_deref() != Some(required.as_str()) {
                drop(s);
                return respond(
                    &mut stream,
                    state,
                    401,
                    "application/fhir+json",
                    "WWW-Authenticate: Bearer\r\n",
                    &outcome("login"),
                );
            }
        }
        let line = format!("{} {}", request.method, request.path);
        let matches = s.only.as_deref().is_none_or(|needle| line.contains(needle));
        let fault = if !matches || n < s.fault_from {
            Fault::Pass
        } else if let Some((percent, faults, seed)) = &mut s.random {
            let roll = next_random(seed);
            if (roll % 100) < u64::from(*percent) && !faults.is_empty() {
                faults[(next_random(seed) % faults.len() as u64) as usize].clone()
            } else {
                Fault::Pass
            }
        } else {
            s.fault.clone()
        };
        if fault != Fault::Pass {
            s.injected.push(fault.clone());
        }
        fault
    };
    match fault {
        Fault::ResetBeforeSend => {
            reset(stream);
            Ok(())
        }
        Fault::Status(code) => {
            let extra = if code == 429 || code == 503 {
                "Retry-After: 1\r\n"
            } else {
                ""
            };
            respond(
                &mut stream,
                state,
                code,
                "application/fhir+json",
                extra,
                &outcome("transient"),
            )
        }
        Fault::CaptivePortal => respond(
            &mut stream,
            state,
            200,
            "text/html; charset=utf-8",
            "",
            "<html><body><h1>Wi-Fi ログイン</h1><form>…</form></body></html>".as_bytes(),
        ),
        Fault::Redirect => respond(
            &mut stream,
            state,
            302,
            "text/html",
            "Location: http://login.example.net/portal\r\n",
            b"",
        ),
        Fault::Stall => {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
        Fault::WrongResource => respond(
            &mut stream,
            state,
            200,
            "application/fhir+json",
            "",
            br#"{"resourceType":"Patient","id":"surprise"}"#,
        ),
        Fault::Huge { bytes, declared } => {
            let chunk = vec![b' '; 64 * 1024];
            if declared {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"
                );
                stream.write_all(head.as_bytes())?;
                stream.write_all(
                    b"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[",
                )?;
                let mut sent = 0;
                while sent < bytes && !stop.load(Ordering::SeqCst) {
                    stream.write_all(&chunk)?;
                    sent += chunk.len();
                }
            } else {
                stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                )?;
                let mut sent = 0;
                while sent < bytes && !stop.load(Ordering::SeqCst) {
                    stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
                    stream.write_all(&chunk)?;
                    stream.write_all(b"\r\n")?;
                    sent += chunk.len();
                }
            }
            Ok(())
        }
        Fault::Unversioned if request.path.contains("_history") => respond(
            &mut stream,
            state,
            404,
            "application/fhir+json",
            "",
            &outcome("not-supported"),
        ),
        Fault::Pass
        | Fault::Delay(_)
        | Fault::Hold
        | Fault::Unversioned
        | Fault::TruncatedJson
        | Fault::Reset
        | Fault::DropAfterCommit
        | Fault::StallAfterCommit => {
            if let Fault::Delay(ms) = fault {
                std::thread::sleep(Duration::from_millis(ms));
            }
            let method = reqwest::Method::from_bytes(request.method.as_bytes())
                .unwrap_or(reqwest::Method::GET);
            let mut forward = http.request(method, format!("{upstream}{}", request.path));
            for (name, value) in &request.forwarded {
                // Conditions name the proxy's own address in no case; bodies may (refs).
                forward = forward.header(name.as_str(), value.as_str());
            }
            if !request.body.is_empty() {
                let body = String::from_utf8_lossy(&request.body).replace(own, upstream);
                forward = forward.body(body);
            }
            let Ok(answer) = forward.send() else {
                return respond(&mut stream, state, 502, "text/plain", "", b"upstream down");
            };
            match fault {
                Fault::DropAfterCommit => {
                    reset(stream);
                    return Ok(());
                }
                Fault::StallAfterCommit => {
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    return Ok(());
                }
                _ => {}
            }
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let date: String = RETURNED
                .iter()
                .filter(|name| !(fault == Fault::Unversioned && **name == "etag"))
                .filter_map(|name| {
                    let v = answer.headers().get(*name)?.to_str().ok()?;
                    Some(format!("{name}: {}\r\n", v.replace(upstream, own)))
                })
                .collect();
            let body = answer.bytes().unwrap_or_default();
            let body = String::from_utf8_lossy(&body)
                .replace(upstream, own)
                .into_bytes();
            let body = match fault {
                Fault::Unversioned => without_versions(&body),
                _ => body,
            };
            if fault == Fault::Hold {
                while !stop.load(Ordering::SeqCst) && !state.lock().unwrap().released {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            match fault {
                Fault::TruncatedJson => respond(
                    &mut stream,
                    state,
                    status,
                    &content_type,
                    &date,
                    &body[..body.len() / 2],
                ),
                Fault::Reset => {
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(head.as_bytes())?;
                    stream.write_all(&body[..body.len() / 2])?;
                    stream.flush()?;
                    reset(stream);
                    Ok(())
                }
                _ => respond(&mut stream, state, status, &content_type, &date, &body),
            }
        }
    }
}

/// A JSON body with every `meta.versionId` taken out (what a server without versions
/// answers); other bodies as they are.
fn without_versions(body: &[u8]) -> Vec<u8> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(meta)) = map.get_mut("meta") {
                    meta.remove("versionId");
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            strip(&mut v);
            v.to_string().into_bytes()
        }
        Err(_) => body.to_vec(),
    }
}
