//! An HTTPS endpoint on loopback with a self-signed certificate: what a desk sees when a
//! server's certificate is not from an authority it trusts (a misconfigured server, or a
//! middlebox intercepting TLS). It answers every request with a small FHIR-looking body,
//! which a client that validates certificates never gets to read.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct SelfSignedTls {
    port: u16,
    handshakes: Arc<AtomicU64>,
}

impl SelfSignedTls {
    /// Serve on 127.0.0.1 with a certificate for `names` (e.g. `localhost`).
    pub fn start(names: &[&str]) -> SelfSignedTls {
        let certified = rcgen::generate_simple_self_signed(
            names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        )
        .expect("a self-signed certificate");
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("a server certificate");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let handshakes = Arc::new(AtomicU64::new(0));
        let done = handshakes.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut buf = [0u8; 4096];
                // The read drives the handshake; a client that refuses the certificate
                // ends it here.
                if tls.read(&mut buf).unwrap_or(0) == 0 {
                    continue;
                }
                done.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1"}"#;
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
            }
        });
        SelfSignedTls { port, handshakes }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Requests that got through the handshake (a validating client makes none).
    pub fn requests_read(&self) -> u64 {
        self.handshakes.load(Ordering::SeqCst)
    }
}
