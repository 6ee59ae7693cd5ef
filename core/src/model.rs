//! The mirror's model: what a source delivers and the store keeps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::phone::Phone;

/// FHIR R4 `AppointmentStatus` (http://hl7.org/fhir/R4/valueset-appointmentstatus.html),
/// What the upstream did to an appointment while the desk was cut off, as the first pull
/// after the outage found it (issue 17): the patient may have booked a morning that
/// cannot happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamNews {
    /// Booked upstream during the outage (新規).
    New,
    /// Its status or time changed upstream during the outage (変更).
    Changed,
}

impl UpstreamNews {
    pub fn code(self) -> &'static str {
        match self {
            UpstreamNews::New => "new",
            UpstreamNews::Changed => "changed",
        }
    }

    pub fn parse(code: &str) -> Option<UpstreamNews> {
        [UpstreamNews::New, UpstreamNews::Changed]
            .into_iter()
            .find(|n| n.code() == code)
    }
}

/// with FHIR's own codes on the wire and in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum AppointmentStatus {
    Proposed,
    Pending,
    Booked,
    Arrived,
    Fulfilled,
    Cancelled,
    Noshow,
    EnteredInError,
    CheckedIn,
    Waitlist,
}

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 10] = [
        AppointmentStatus::Proposed,
        AppointmentStatus::Pending,
        AppointmentStatus::Booked,
        AppointmentStatus::Arrived,
        AppointmentStatus::Fulfilled,
        AppointmentStatus::Cancelled,
        AppointmentStatus::Noshow,
        AppointmentStatus::EnteredInError,
        AppointmentStatus::CheckedIn,
        AppointmentStatus::Waitlist,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AppointmentStatus::Proposed => "proposed",
            AppointmentStatus::Pending => "pending",
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Arrived => "arrived",
            AppointmentStatus::Fulfilled => "fulfilled",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Noshow => "noshow",
            AppointmentStatus::EnteredInError => "entered-in-error",
            AppointmentStatus::CheckedIn => "checked-in",
            AppointmentStatus::Waitlist => "waitlist",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// The source's logical id (e.g. the FHIR Patient id).
    pub source_id: String,
    /// The source's version of this record (FHIR versionId / ETag), when it has one.
    pub source_version: Option<String>,
    /// Name as written (kanji for most Japanese patients).
    pub name: String,
    /// Reading in katakana, when known.
    pub kana: Option<String>,
    /// In the order to try them.
    pub phones: Vec<Phone>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub source_id: String,
    pub source_version: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    pub patient_id: Option<String>,
}

/// Which kind of upstream the mirror came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// The built-in demo clinic (the default until an upstream is set up).
    Demo,
    /// A FHIR R4 server.
    Fhir,
    /// Morning CSV exports, imported by hand; nothing to pull.
    Csv,
    /// ORCA (日医標準レセプトソフト) or WebORCA, through its API (issue 19).
    Orca,
}

impl SourceKind {
    pub fn code(self) -> &'static str {
        match self {
            SourceKind::Demo => "demo",
            SourceKind::Fhir => "fhir",
            SourceKind::Csv => "csv",
            SourceKind::Orca => "orca",
        }
    }
}

/// Everything a source returned for one pull window: the mirror is replaced by this,
/// whole, or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorSnapshot {
    /// Identifies the upstream (kind + address); a different key replaces the whole mirror.
    pub source_key: String,
    pub source_kind: SourceKind,
    pub patients: Vec<Patient>,
    pub appointments: Vec<Appointment>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip_through_fhir_codes() {
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::from_code(s.code()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
        }
        assert_eq!(AppointmentStatus::from_code("done"), None);
    }
}
