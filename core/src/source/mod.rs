//! Where appointments come from. Each upstream kind implements a `fetch`; `AnySource`
//! picks one from the config (static dispatch: the set of kinds is ours and small).

pub mod demo;
pub(crate) mod error;
pub mod fhir;
pub mod orca;

pub use error::SourceError;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use zeroize::Zeroizing;

use crate::calendar::{ClinicCalendar, UtcRange};
use crate::config::{Config, FhirAuthKind};
use crate::error::Result;
use crate::keychain::Keychain;
use crate::model::{MirrorSnapshot, SourceKind};
use crate::store::MirrorState;

/// An answer's body, refused as `TooLarge` past `limit` bytes (declared or as it comes).
pub(crate) async fn read_limited(
    response: &mut reqwest::Response,
    limit: u64,
    host: &str,
    timeout: Duration,
) -> std::result::Result<Vec<u8>, SourceError> {
    let too_large = || SourceError::TooLarge {
        host: host.to_owned(),
        limit,
    };
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|l| l > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SourceError::from_transport(host.to_owned(), timeout, &e))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One pull: the clinic days to mirror.
#[derive(Debug, Clone, Copy)]
pub struct PullRequest {
    pub calendar: ClinicCalendar,
    pub first_day: NaiveDate,
    pub days: u32,
    pub now: DateTime<Utc>,
}

impl PullRequest {
    /// Today and `days_ahead` more, at the clinic.
    pub fn for_config(config: &Config, now: DateTime<Utc>) -> PullRequest {
        let calendar = config.calendar();
        PullRequest {
            calendar,
            first_day: calendar.today(now),
            days: config.source.days_ahead + 1,
            now,
        }
    }

    pub fn window(&self) -> UtcRange {
        self.calendar.days(self.first_day, self.days)
    }
}

/// What a source answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    /// Everything the upstream has for the window: the mirror becomes exactly this.
    Snapshot {
        snapshot: MirrorSnapshot,
        /// Where the next change check starts (the upstream's own clock), if it has one.
        since: Option<String>,
    },
    /// Nothing changed since the previous pull: the mirror is fresh as it is.
    Unchanged { since: Option<String> },
}

/// The keychain entry holding the bearer token or basic-auth password for one FHIR server
/// (its key: scheme, host, port and path). A secret belongs to the server it was given for:
/// another URL finds no secret and sends none.
pub fn credential_account(device_id: &str, upstream_key: &str) -> String {
    format!("fhir-credential/{device_id}/{upstream_key}")
}

/// An upstream key as a person reads it: `demo`, `csv`, or the server's base URL (screens
/// put the first two in their own words).
pub fn upstream_name(key: &str) -> String {
    key.strip_prefix("fhir:")
        .or_else(|| key.strip_prefix("orca:"))
        .unwrap_or(key)
        .to_owned()
}

/// Where the FHIR credential lived before secrets were kept per server (one per install).
pub fn legacy_credential_account(device_id: &str) -> String {
    format!("fhir-credential/{device_id}")
}

#[derive(Debug, Clone)]
pub enum AnySource {
    Demo(demo::DemoSource),
    Fhir(fhir::FhirSource),
    Orca(orca::OrcaSource),
}

impl AnySource {
    /// The source the config names; `None` for CSV, whose mirror only changes on import.
    pub fn for_config(
        config: &Config,
        keychain: &Keychain,
        http: &reqwest::Client,
    ) -> Result<Option<AnySource>> {
        match config.source.kind {
            SourceKind::Demo => Ok(Some(AnySource::Demo(demo::DemoSource))),
            SourceKind::Csv => Ok(None),
            SourceKind::Orca => {
                let orca = config.source.orca.as_ref().ok_or_else(|| {
                    SourceError::NotConfigured("no ORCA API URL in the config".to_owned())
                })?;
                let base = orca.url()?;
                let account = credential_account(&config.device_id, &orca.upstream_key()?);
                let password = keychain.get(&account)?.ok_or_else(|| {
                    SourceError::NotConfigured(format!(
                        "no ORCA password in the OS keychain for {}; enter it with \
                         `tsunagi-cli source orca URL --user USER --password-stdin`",
                        base.host_str().unwrap_or("the ORCA server")
                    ))
                })?;
                Ok(Some(AnySource::Orca(orca::OrcaSource::new(
                    base,
                    orca.username.clone(),
                    Zeroizing::new(String::from_utf8_lossy(&password).into_owned()),
                    Duration::from_secs(orca.timeout_secs),
                    orca.physicians.clone(),
                    http.clone(),
                ))))
            }
            SourceKind::Fhir => {
                let fhir = config.source.fhir.as_ref().ok_or_else(|| {
                    SourceError::NotConfigured("no FHIR base URL in the config".to_owned())
                })?;
                let base = fhir.url()?;
                let account = credential_account(&config.device_id, &fhir.upstream_key()?);
                let secret = || -> Result<Zeroizing<String>> {
                    let bytes = keychain.get(&account)?.ok_or_else(|| {
                        SourceError::NotConfigured(format!(
                            "no credential for {} in the OS keychain; enter it in the settings \
                             (a secret belongs to the server it was given for)",
                            base.host_str().unwrap_or("the FHIR server")
                        ))
                    })?;
                    Ok(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()))
                };
                let auth = match fhir.auth {
                    FhirAuthKind::None => fhir::FhirAuth::None,
                    FhirAuthKind::Bearer => fhir::FhirAuth::Bearer(secret()?),
                    FhirAuthKind::Basic => fhir::FhirAuth::Basic {
                        username: fhir.username.clone().unwrap_or_default(),
                        password: secret()?,
                    },
                };
                Ok(Some(AnySource::Fhir(fhir::FhirSource::new(
                    base,
                    auth,
                    Duration::from_secs(fhir.timeout_secs),
                    http.clone(),
                ))))
            }
        }
    }

    pub fn kind(&self) -> SourceKind {
        match self {
            AnySource::Demo(_) => SourceKind::Demo,
            AnySource::Fhir(_) => SourceKind::Fhir,
            AnySource::Orca(_) => SourceKind::Orca,
        }
    }

    pub async fn fetch(
        &self,
        request: &PullRequest,
        previous: Option<&MirrorState>,
    ) -> Result<PullOutcome> {
        match self {
            AnySource::Demo(s) => Ok(PullOutcome::Snapshot {
                snapshot: s.fetch(request),
                since: None,
            }),
            AnySource::Fhir(s) => Ok(s.fetch(request, previous).await?),
            AnySource::Orca(s) => Ok(s.fetch(request).await?),
        }
    }
}
