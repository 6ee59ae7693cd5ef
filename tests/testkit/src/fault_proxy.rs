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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
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
    pub fn paths(&self) -> Vec<String> {
        self.state.lock().unwrap().paths.clone()
    }

    pub fn reset_counters(&self) {
        let mut s = self.state.lock().unwrap();
        s.bytes_in = 0;
        s.bytes_out = 0;
        s.paths.clear();
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
    path: String,
    authorization: Option<String>,
    accept: Option<String>,
    raw_len: usize,
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
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let header = |name: &str| {
        head.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    Ok(Request {
        path,
        authorization: header("authorization"),
        accept: header("accept"),
        raw_len: buf.len(),
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
        if n >= s.fault_from {
            s.fault.clone()
        } else {
            Fault::Pass
        }
    };
    match fault {
        Fault::Status(code) => {
            let extra = if code == 429 {
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
        Fault::Pass | Fault::TruncatedJson | Fault::Reset => {
            let mut forward = http.get(format!("{upstream}{}", request.path));
            if let Some(accept) = &request.accept {
                forward = forward.header("Accept", accept);
            }
            let Ok(answer) = forward.send() else {
                return respond(&mut stream, state, 502, "text/plain", "", b"upstream down");
            };
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let date = answer
                .headers()
                .get("date")
                .and_then(|v| v.to_str().ok())
                .map(|d| format!("Date: {d}\r\n"))
                .unwrap_or_default();
            let body = answer.bytes().unwrap_or_default();
            let body = String::from_utf8_lossy(&body)
                .replace(upstream, own)
                .into_bytes();
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
