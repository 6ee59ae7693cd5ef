//! The FHIR R4 source: today's and the next days' appointments with their patients from a
//! clinic's FHIR server (`Appointment?date=ge…&date=lt…&_include=Appointment:patient`),
//! following `next` links, with a cheap "has anything changed?" check before pulling again.

pub mod resources;
mod write;

pub use write::{Answer, Searched};

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, DATE};
use reqwest::{StatusCode, Url};
use zeroize::Zeroizing;

use super::{PullOutcome, PullRequest, SourceError};
use crate::calendar::UtcRange;
use crate::model::{MirrorSnapshot, SourceKind};
use crate::store::MirrorState;

/// How Tsunagi proves itself to the server. Secrets come from the OS keychain.
#[derive(Clone)]
pub enum FhirAuth {
    None,
    Bearer(Zeroizing<String>),
    Basic {
        username: String,
        password: Zeroizing<String>,
    },
}

impl std::fmt::Debug for FhirAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FhirAuth::None => "None",
            FhirAuth::Bearer(_) => "Bearer(..)",
            FhirAuth::Basic { .. } => "Basic(..)",
        })
    }
}

/// An answer may not be bigger than this per page (the largest real page is a few hundred
/// kilobytes; a runaway or hostile answer must not fill the desk's memory).
pub const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;
/// A loop of `next` links, or a server paging one entry at a time, ends here.
const MAX_PAGES: usize = 200;
/// Entries per page we ask for.
const PAGE_SIZE: u32 = 100;
/// The server's clock at the last full pull, minus this, is where the next change check
/// starts: covers the HTTP Date header's one-second resolution and the moment between the
/// server running the search and stamping its answer.
pub const SINCE_MARGIN: chrono::Duration = chrono::Duration::seconds(2);

#[derive(Debug, Clone)]
pub struct FhirSource {
    base: Url,
    auth: FhirAuth,
    timeout: Duration,
    http: reqwest::Client,
}

/// The HTTP client the desk keeps for its whole life (connections are reused between
/// pulls). Redirects are not followed: a FHIR API does not redirect, a captive portal does.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tsunagi/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a TLS-capable HTTP client")
}

struct Page {
    body: Vec<u8>,
    server_time: Option<DateTime<Utc>>,
}

impl FhirSource {
    pub fn new(base: Url, auth: FhirAuth, timeout: Duration, http: reqwest::Client) -> Self {
        // `Url::join` treats the last path segment as a file unless it ends with '/'.
        let mut base = base;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        FhirSource {
            base,
            auth,
            timeout,
            http,
        }
    }

    /// Identifies this upstream in the mirror: another server means another mirror.
    pub fn key(base: &str) -> String {
        format!("fhir:{}", base.trim_end_matches('/'))
    }

    fn host(&self) -> String {
        self.base.host_str().unwrap_or("the server").to_owned()
    }

    fn search_url(&self, resource: &str, params: &[(&str, String)]) -> Url {
        let mut url = self
            .base
            .join(resource)
            .expect("a resource path joins the base");
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        url
    }

    fn window_params(window: UtcRange) -> Vec<(&'static str, String)> {
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        vec![
            ("date", format!("ge{}", fmt(window.start))),
            ("date", format!("lt{}", fmt(window.end))),
        ]
    }

    /// A request to this server with its credentials and timeout, asking for FHIR JSON.
    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .timeout(self.timeout)
            .header(ACCEPT, "application/fhir+json, application/json;q=0.9");
        match &self.auth {
            FhirAuth::None => request,
            FhirAuth::Bearer(token) => request.header(AUTHORIZATION, format!("Bearer {}", **token)),
            FhirAuth::Basic { username, password } => {
                request.basic_auth(username, Some(password.as_str()))
            }
        }
    }

    /// The body of an answer, refusing one larger than `MAX_PAGE_BYTES`.
    async fn read_body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, SourceError> {
        crate::source::read_limited(response, MAX_PAGE_BYTES, &self.host(), self.timeout).await
    }

    async fn get(&self, url: Url) -> Result<Page, SourceError> {
        let host = self.host();
        let request = self.request(reqwest::Method::GET, url);
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let is_json = content_type.contains("json");
        let body = self.read_body(&mut response).await?;

        match status {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(SourceError::Auth {
                    host,
                    status: status.as_u16(),
                })
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(SourceError::Server {
                    host,
                    status: status.as_u16(),
                })
            }
            s if s.is_server_error() => {
                return Err(SourceError::Server {
                    host,
                    status: status.as_u16(),
                })
            }
            s if s.is_redirection() => {
                return Err(SourceError::NotFhir {
                    host,
                    content_type: format!("a redirect (HTTP {})", s.as_u16()),
                })
            }
            _ => {
                return Err(SourceError::Rejected {
                    host,
                    status: status.as_u16(),
                    outcome: if is_json {
                        outcome_text(&body)
                    } else {
                        String::new()
                    },
                })
            }
        }
        if !is_json {
            return Err(SourceError::NotFhir { host, content_type });
        }
        let server_time = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(Page { body, server_time })
    }

    fn transport(&self, e: reqwest::Error) -> SourceError {
        SourceError::from_transport(self.host(), self.timeout, &e)
    }

    fn invalid(&self, reason: impl Into<String>) -> SourceError {
        SourceError::Invalid {
            host: self.host(),
            reason: reason.into(),
        }
    }

    /// `next` links must stay on the configured server: credentials go nowhere else.
    fn next_url(&self, next: &str) -> Result<Url, SourceError> {
        let url = Url::parse(next)
            .or_else(|_| self.base.join(next))
            .map_err(|_| self.invalid("a next link is not a URL"))?;
        if url.origin() != self.base.origin() {
            return Err(self.invalid(format!(
                "a next link points to another server ({}); check the server's base URL setting",
                url.host_str().unwrap_or("?")
            )));
        }
        Ok(url)
    }

    async fn count(&self, url: Url) -> Result<u64, SourceError> {
        let page = self.get(url).await?;
        resources::parse_search_page(&page.body, Utc::now())
            .map_err(|e| self.invalid(e.0))?
            .total
            .ok_or_else(|| self.invalid("a count search answered without a total"))
    }

    /// Whether the server's appointments in `window` (and any patient) changed since the
    /// previous pull: three tiny count searches instead of the whole day.
    async fn unchanged_since(
        &self,
        window: UtcRange,
        previous: &MirrorState,
        since: &str,
    ) -> Result<bool, SourceError> {
        let mut params = Self::window_params(window);
        params.push(("_summary", "count".to_owned()));
        if self.count(self.search_url("Appointment", &params)).await?
            != u64::from(previous.appointments_in_window)
        {
            return Ok(false);
        }
        params.push(("_lastUpdated", format!("ge{since}")));
        if self.count(self.search_url("Appointment", &params)).await? > 0 {
            return Ok(false);
        }
        let patients = self.search_url(
            "Patient",
            &[
                ("_lastUpdated", format!("ge{since}")),
                ("_summary", "count".to_owned()),
            ],
        );
        Ok(self.count(patients).await? == 0)
    }

    pub async fn fetch(
        &self,
        request: &PullRequest,
        previous: Option<&MirrorState>,
    ) -> Result<PullOutcome, SourceError> {
        let window = request.window();
        let key = Self::key(self.base.as_str());
        if let Some(prev) = previous.filter(|p| p.source_key == key && p.window == window) {
            if let Some(since) = prev.since.as_deref() {
                match self.unchanged_since(window, prev, since).await {
                    Ok(true) => {
                        return Ok(PullOutcome::Unchanged {
                            since: Some(since.to_owned()),
                        })
                    }
                    Ok(false) => {}
                    // A server without _summary=count or _lastUpdated: pull in full.
                    Err(SourceError::Rejected { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }

        let mut params = Self::window_params(window);
        params.push(("_include", "Appointment:patient".to_owned()));
        params.push(("_count", PAGE_SIZE.to_string()));
        let mut url = self.search_url("Appointment", &params);
        let mut snapshot = MirrorSnapshot {
            source_key: key,
            source_kind: SourceKind::Fhir,
            patients: Vec::new(),
            appointments: Vec::new(),
        };
        let mut since = None;
        for _ in 0..MAX_PAGES {
            let page = self.get(url).await?;
            if since.is_none() {
                since = page
                    .server_time
                    .map(|t| (t - SINCE_MARGIN).format("%Y-%m-%dT%H:%M:%SZ").to_string());
            }
            let parsed = resources::parse_search_page(&page.body, request.now)
                .map_err(|e| self.invalid(e.0))?;
            snapshot.appointments.extend(parsed.appointments);
            for p in parsed.patients {
                // A patient booked twice is included on each page that needs them.
                if !snapshot.patients.iter().any(|q| q.source_id == p.source_id) {
                    snapshot.patients.push(p);
                }
            }
            match parsed.next {
                Some(next) => url = self.next_url(&next)?,
                None => return Ok(PullOutcome::Snapshot { snapshot, since }),
            }
        }
        Err(self.invalid(format!("more than {MAX_PAGES} pages of results")))
    }
}

/// The issue codes of an OperationOutcome (`not-supported`, `invalid`, …). Its free text
/// is not kept: a server may put anything there, patient data included.
fn outcome_text(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let codes: Vec<String> = value
        .get("issue")
        .and_then(|i| i.as_array())
        .into_iter()
        .flatten()
        .filter_map(|issue| issue.get("code").and_then(|c| c.as_str()))
        .filter(|c| c.len() <= 40 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        .take(3)
        .map(str::to_owned)
        .collect();
    if codes.is_empty() {
        String::new()
    } else {
        format!("OperationOutcome {}", codes.join(", "))
    }
}
