//! The Helios FHIR server (`hfs`), started on loopback for a test and stopped after it.
//! Installed once per machine by scripts/test.sh (see tests/fixtures/hfs/README.md).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::{wait_until, ChildGuard};

pub struct Hfs {
    port: u16,
    http: reqwest::blocking::Client,
    // Drop order: the server stops before its folder goes.
    _server: ChildGuard,
    dir: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TSUNAGI_HFS") {
        return p.into();
    }
    let cached = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".cache/tsunagi/hfs/bin/hfs");
    assert!(
        cached.is_file(),
        "the Helios FHIR server is not installed at {} (scripts/test.sh installs it once, \
         about 28 minutes; or set TSUNAGI_HFS)",
        cached.display()
    );
    cached
}

impl Hfs {
    pub fn start() -> Hfs {
        let dir = tempfile::Builder::new()
            .prefix("tsunagi-hfs-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let params = crate::repo_root().join("tests/fixtures/hfs/search-parameters-r4.json");
        std::fs::copy(&params, data.join("search-parameters-r4.json")).expect("search params");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("hfs.log")).unwrap();
        let child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--database-url")
            .arg(dir.path().join("fhir.db"))
            .arg("--data-dir")
            .arg(&data)
            .current_dir(dir.path())
            .env("HFS_UI_ENABLED", "false")
            .env("HFS_BASE_URL", format!("http://127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start hfs");
        let mut server = ChildGuard::new("hfs", child);
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let metadata = format!("http://127.0.0.1:{port}/metadata");
        wait_until(Duration::from_secs(90), "hfs to answer /metadata", || {
            assert!(server.exited().is_none(), "hfs exited; see its log");
            http.get(&metadata)
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        Hfs {
            port,
            http,
            _server: server,
            dir,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hfs.log")).unwrap_or_default()
    }

    /// Create or replace a resource under its own id; returns the server's answer.
    pub fn put(&self, resource: &Value) -> Value {
        let kind = resource["resourceType"].as_str().expect("resourceType");
        let id = resource["id"].as_str().expect("id");
        let response = self
            .http
            .put(format!("{}/{kind}/{id}", self.base_url()))
            .header("Content-Type", "application/fhir+json")
            .body(serde_json::to_vec(resource).unwrap())
            .send()
            .expect("PUT to hfs");
        let status = response.status();
        let body: Value = response.json().unwrap_or(Value::Null);
        assert!(status.is_success(), "PUT {kind}/{id}: {status} {body}");
        body
    }

    pub fn delete(&self, kind: &str, id: &str) {
        let status = self
            .http
            .delete(format!("{}/{kind}/{id}", self.base_url()))
            .send()
            .expect("DELETE to hfs")
            .status();
        assert!(status.is_success(), "DELETE {kind}/{id}: {status}");
    }

    /// Many resources in one transaction (PUT each under its id).
    pub fn put_all(&self, resources: &[Value]) {
        for chunk in resources.chunks(200) {
            let bundle = json!({
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": chunk.iter().map(|r| json!({
                    "resource": r,
                    "request": {
                        "method": "PUT",
                        "url": format!("{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap())
                    }
                })).collect::<Vec<_>>()
            });
            let response = self
                .http
                .post(self.base_url())
                .header("Content-Type", "application/fhir+json")
                .body(serde_json::to_vec(&bundle).unwrap())
                .send()
                .expect("transaction to hfs");
            let status = response.status();
            assert!(
                status.is_success(),
                "transaction: {status} {}",
                response.text().unwrap_or_default()
            );
        }
    }

    pub fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/{path}", self.base_url()))
            .header("Accept", "application/fhir+json")
            .send()
            .expect("GET from hfs")
            .json()
            .expect("JSON from hfs")
    }
}
