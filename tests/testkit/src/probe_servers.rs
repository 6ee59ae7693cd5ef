//! What the monitor probes, served from sockets the caller created (inside a network
//! namespace, see `netns`): a connectivity endpoint with a known body (or a captive
//! portal's page instead), a DNS server that answers one name, and a TCP relay that puts
//! a server from the host (the real FHIR server) into the namespace and can hang it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const CONNECT_BODY: &str = "Tsunagi Connect OK";
const PORTAL_PAGE: &str =
    "<html><head><title>Wi-Fi login</title></head><body>Please log in</body></html>";

/// A plain-http connectivity endpoint (keep-alive, like the OS vendors' ones).
pub struct HttpEndpoint {
    captive: Arc<AtomicBool>,
    silent: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
}

impl HttpEndpoint {
    pub fn serve(listener: TcpListener) -> HttpEndpoint {
        let captive = Arc::new(AtomicBool::new(false));
        let silent = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let (c, q, r) = (captive.clone(), silent.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (c, q, r) = (c.clone(), q.clone(), r.clone());
                std::thread::spawn(move || {
                    let _ = keep_alive(stream, &c, &q, &r);
                });
            }
        });
        HttpEndpoint {
            captive,
            silent,
            requests,
        }
    }

    /// Read requests and never answer them, as a cut line looks from the desk (without a
    /// network namespace: the connection itself still opens).
    pub fn set_silent(&self, on: bool) {
        self.silent.store(on, Ordering::SeqCst);
    }

    /// Answer 200 with a login page instead of the known body.
    pub fn set_captive(&self, on: bool) {
        self.captive.store(on, Ordering::SeqCst);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

fn keep_alive(
    stream: TcpStream,
    captive: &AtomicBool,
    silent: &AtomicBool,
    requests: &AtomicU64,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        // Skip the headers; probes send no body.
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
        }
        requests.fetch_add(1, Ordering::SeqCst);
        if silent.load(Ordering::SeqCst) {
            continue;
        }
        let (ctype, body) = if captive.load(Ordering::SeqCst) {
            ("text/html", PORTAL_PAGE)
        } else {
            ("text/plain", CONNECT_BODY)
        };
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        out.flush()?;
    }
}

/// Answers A queries for any name with one address (TTL 0), after `delay` if set.
pub struct DnsServer {
    requests: Arc<AtomicU64>,
    silent: Arc<AtomicBool>,
}

impl DnsServer {
    pub fn serve(socket: UdpSocket, answer: Ipv4Addr) -> DnsServer {
        let requests = Arc::new(AtomicU64::new(0));
        let silent = Arc::new(AtomicBool::new(false));
        let (r, q) = (requests.clone(), silent.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                r.fetch_add(1, Ordering::SeqCst);
                if q.load(Ordering::SeqCst) {
                    continue;
                }
                if let Some(reply) = dns_reply(&buf[..n], answer) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        DnsServer { requests, silent }
    }

    /// Leave every query unanswered, as a cut line does.
    pub fn set_silent(&self, on: bool) {
        self.silent.store(on, Ordering::SeqCst);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A reply to a one-question query: the question echoed, one A record if it asks for A
/// (else no records), recursion available.
fn dns_reply(query: &[u8], answer: Ipv4Addr) -> Option<Vec<u8>> {
    if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    // The question: labels up to a zero byte, then type and class.
    let mut i = 12;
    while *query.get(i)? != 0 {
        i += 1 + query[i] as usize;
    }
    let qtype = u16::from_be_bytes([*query.get(i + 1)?, *query.get(i + 2)?]);
    let end = i + 5;
    let question = query.get(12..end)?;
    let is_a = qtype == 1;
    let mut reply = Vec::with_capacity(end + 16);
    reply.extend_from_slice(&query[0..2]); // id
    reply.extend_from_slice(&[0x81, 0x80]); // response, recursion desired + available
    reply.extend_from_slice(&[0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
    reply.extend_from_slice(question);
    if is_a {
        reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]);
        reply.extend_from_slice(&answer.octets());
    }
    Some(reply)
}

/// Relays TCP connections from its listener to `target` (e.g. the FHIR server on the
/// host's loopback). `set_hung(true)` keeps accepting but never answers: a server that
/// hangs.
pub struct TcpRelay {
    hung: Arc<AtomicBool>,
}

impl TcpRelay {
    pub fn serve(listener: TcpListener, target: String) -> TcpRelay {
        let hung = Arc::new(AtomicBool::new(false));
        let h = hung.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if h.load(Ordering::SeqCst) {
                    // Hold it open, silently, until the client gives up.
                    std::thread::spawn(move || {
                        let mut sink = [0u8; 1024];
                        let mut c = client;
                        while matches!(c.read(&mut sink), Ok(n) if n > 0) {}
                    });
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                pipe(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    h.clone(),
                );
                pipe(server, client, h.clone());
            }
        });
        TcpRelay { hung }
    }

    pub fn set_hung(&self, hung: bool) {
        self.hung.store(hung, Ordering::SeqCst);
    }
}

/// Copy one direction; while hung, hold what arrives (connections already open hang too).
fn pipe(mut from: TcpStream, mut to: TcpStream, hung: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            while hung.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// Seed `config.toml` in `data_dir` (the first start completes it) so the monitor probes a
/// healthy "internet" served here on loopback: for runs about an ordinary day, on machines
/// that may have no internet at all. Keep the servers as long as the app runs.
pub fn seed_healthy_monitor(data_dir: &std::path::Path) -> (HttpEndpoint, DnsServer) {
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let dns = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (http_addr, dns_addr) = (http.local_addr().unwrap(), dns.local_addr().unwrap());
    std::fs::create_dir_all(data_dir).unwrap();
    std::fs::write(
        data_dir.join("config.toml"),
        format!(
            "[monitor]\n\
             endpoints = [{{ url = \"http://{http_addr}/connect.txt\", expect = \"{CONNECT_BODY}\" }}]\n\
             dns_name = \"probe.test\"\ndns_servers = [\"{dns_addr}\"]\ngateway = \"127.0.0.1\"\n"
        ),
    )
    .unwrap();
    (
        HttpEndpoint::serve(http),
        DnsServer::serve(dns, Ipv4Addr::LOCALHOST),
    )
}
