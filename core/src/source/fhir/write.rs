//! Writing to the FHIR server for the sync-back: one request and its answer as it came
//! (status, version, location, body, Retry-After). What an answer means for an op is the
//! outbox's business (`crate::outbox::sender`); only a request that got no HTTP answer at
//! all is an error here.

use std::time::Duration;

use chrono::DateTime;
use reqwest::header::{HeaderMap, CONTENT_TYPE, DATE, ETAG, LOCATION, RETRY_AFTER};
use reqwest::{Method, Url};
use serde_json::Value;

use super::{FhirSource, SourceError};

/// An HTTP answer from the FHIR server.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// The resource's version: the ETag's (`W/"3"` → `3`), else the body's meta.versionId.
    pub version: Option<String>,
    pub location: Option<String>,
    /// The body, when it is JSON.
    pub json: Option<Value>,
    /// How long the server asked us to wait (429 / 503 Retry-After).
    pub retry_after: Option<Duration>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// What an OperationOutcome in the body says, in the server's own words (its issues'
    /// text or diagnostics, else their codes). May name a patient: it is kept in the
    /// encrypted outbox and shown at the desk, never logged.
    pub fn outcome_text(&self) -> String {
        let Some(issues) = self.json.as_ref().and_then(|j| j["issue"].as_array()) else {
            return String::new();
        };
        let parts: Vec<String> = issues
            .iter()
            .filter_map(|i| {
                i["details"]["text"]
                    .as_str()
                    .or_else(|| i["diagnostics"].as_str())
                    .or_else(|| i["code"].as_str())
                    .map(str::to_owned)
            })
            .collect();
        let text = parts.join("; ");
        match text.char_indices().nth(500) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }
}

/// What a search found: the resources of every page, or the answer that refused it.
#[derive(Debug, Clone, PartialEq)]
pub enum Searched {
    Found(Vec<Value>),
    Refused(Answer),
}

/// `W/"3"` or `"3"` → `3`.
fn etag_version(value: &str) -> String {
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// Retry-After as seconds, or as an HTTP date measured against the answer's own Date
/// (both from the server's clock, so the desk's clock does not matter).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let now = DateTime::parse_from_rfc2822(headers.get(DATE)?.to_str().ok()?).ok()?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

impl FhirSource {
    fn url(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("a resource path joins the base")
    }

    /// GET a path under the base (`Appointment/a1`, `Appointment/a1/_history/3`, or a
    /// search such as `Invoice?identifier=…`).
    pub async fn read(&self, path: &str) -> Result<Answer, SourceError> {
        self.exchange(self.request(Method::GET, self.url(path)))
            .await
    }

    /// POST a new resource, created only if none matches `if_none_exist` (a search on
    /// the op's identifier): sending it twice leaves one copy.
    pub async fn create(
        &self,
        resource_type: &str,
        resource: &Value,
        if_none_exist: &str,
    ) -> Result<Answer, SourceError> {
        let request = self
            .request(Method::POST, self.url(resource_type))
            .header(CONTENT_TYPE, "application/fhir+json")
            .header("If-None-Exist", if_none_exist)
            .body(resource.to_string());
        self.exchange(request).await
    }

    /// PUT a resource over `path`, only if the server still holds `if_match` (a version).
    pub async fn update(
        &self,
        path: &str,
        resource: &Value,
        if_match: Option<&str>,
    ) -> Result<Answer, SourceError> {
        let mut request = self
            .request(Method::PUT, self.url(path))
            .header(CONTENT_TYPE, "application/fhir+json")
            .body(resource.to_string());
        if let Some(version) = if_match {
            request = request.header("If-Match", format!("W/\"{version}\""));
        }
        self.exchange(request).await
    }

    /// Every resource of type `resource` a search finds, following `next` links (on this
    /// server only). A page that is not a success comes back as it is, for the caller to
    /// read; a success that is not a searchset Bundle is an error.
    pub async fn search_all(
        &self,
        resource: &str,
        params: &[(&str, String)],
    ) -> Result<Searched, SourceError> {
        let mut url = self.search_url(resource, params);
        let mut found = Vec::new();
        for _ in 0..super::MAX_PAGES {
            let answer = self.exchange(self.request(Method::GET, url)).await?;
            if !answer.is_success() {
                return Ok(Searched::Refused(answer));
            }
            let Some(bundle) = answer
                .json
                .filter(|j| j["resourceType"].as_str() == Some("Bundle"))
            else {
                return Err(self.invalid("a search answered with something else than a Bundle"));
            };
            found.extend(
                bundle["entry"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("resource"))
                    .filter(|r| r["resourceType"].as_str() == Some(resource))
                    .cloned(),
            );
            let next = bundle["link"].as_array().and_then(|links| {
                links
                    .iter()
                    .find(|l| l["relation"].as_str() == Some("next"))
                    .and_then(|l| l["url"].as_str())
            });
            match next {
                Some(next) => url = self.next_url(next)?,
                None => return Ok(Searched::Found(found)),
            }
        }
        Err(self.invalid(format!("more than {} pages of results", super::MAX_PAGES)))
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Answer, SourceError> {
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = self.read_body(&mut response).await?;
        let is_json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let json = if is_json {
            serde_json::from_slice::<Value>(&body).ok()
        } else {
            None
        };
        let version = headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(etag_version)
            .or_else(|| {
                json.as_ref()?["meta"]["versionId"]
                    .as_str()
                    .map(str::to_owned)
            });
        Ok(Answer {
            status,
            version,
            location: headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            json,
            retry_after: retry_after(&headers),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_or_a_date_against_the_servers_own_clock() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 25 Nov 2026 06:00:30 GMT"),
        );
        h.insert(
            DATE,
            HeaderValue::from_static("Wed, 25 Nov 2026 06:00:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn etags_give_the_bare_version() {
        assert_eq!(etag_version("W/\"12\""), "12");
        assert_eq!(etag_version("\"3\""), "3");
    }

    #[test]
    fn an_outcome_is_read_in_the_servers_words() {
        let a = Answer {
            status: 422,
            version: None,
            location: None,
            json: Some(
                serde_json::json!({"resourceType": "OperationOutcome", "issue": [
                    {"severity": "error", "code": "invalid", "details": {"text": "Invoice.subject: unknown patient"}},
                    {"severity": "error", "code": "business-rule", "diagnostics": "closed period"},
                    {"severity": "error", "code": "required"}
                ]}),
            ),
            retry_after: None,
        };
        assert_eq!(
            a.outcome_text(),
            "Invoice.subject: unknown patient; closed period; required"
        );
    }
}
