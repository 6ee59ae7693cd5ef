//! What the screens and the CLI show: plain data, already in the clinic's time zone, so
//! the UI never does date arithmetic. These types are generated to TypeScript.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use ts_rs::TS;

use crate::calendar::ClinicCalendar;
use crate::config::{Config, FhirAuthKind, Language};
use crate::error::ErrorPayload;
use crate::model::{AppointmentStatus, SourceKind};
use crate::phone::Phone;
use crate::store::{MirrorCounts, MirrorMeta, PullRecord, StoredAppointment};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PatientView {
    pub id: String,
    pub name: String,
    pub kana: Option<String>,
    pub phones: Vec<Phone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppointmentView {
    pub id: String,
    /// The upstream's version of the appointment (FHIR versionId), when it has one.
    pub version: Option<String>,
    /// RFC 3339 with the clinic's offset.
    pub start: Option<String>,
    pub end: Option<String>,
    /// `HH:MM` on the clinic's wall clock.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    pub patient: Option<PatientView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PullView {
    pub finished_at: String,
    pub ok: bool,
    pub error: Option<ErrorPayload>,
    /// For a successful pull: whether anything changed upstream.
    pub changed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MirrorStatus {
    /// The upstream the config names.
    pub configured_source: SourceKind,
    /// The upstream the mirror came from; null before the first complete pull.
    pub mirrored_source: Option<String>,
    pub is_demo: bool,
    /// The FHIR server's address when that is the source.
    pub upstream: Option<String>,
    pub clinic_name: Option<String>,
    pub time_zone: String,
    /// When the last complete pull finished (RFC 3339, clinic offset).
    pub synced_at: Option<String>,
    /// `HH:MM` when that was today at the clinic, else `M/D HH:MM`.
    pub synced_at_label: Option<String>,
    pub appointments: u32,
    pub patients: u32,
    pub last_pull: Option<PullView>,
    /// The watched export folder's last file, while a folder is set.
    pub folder: Option<FolderView>,
}

/// What the watched export folder did with a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FolderView {
    pub file_name: String,
    /// The file's own time (the data's age): `HH:MM` today at the clinic, else `M/D HH:MM`.
    pub modified_label: String,
    /// Imported: how many appointments. None: refused, with `problems`.
    pub imported: Option<u32>,
    pub problems: Vec<crate::csv_import::ImportProblem>,
}

impl FolderView {
    pub(crate) fn new(
        record: &crate::store::FolderFileRecord,
        cal: &ClinicCalendar,
        now: DateTime<Utc>,
    ) -> FolderView {
        FolderView {
            file_name: record.file_name.clone(),
            modified_label: clinic_label(cal, record.modified_at, now),
            imported: record.appointments,
            problems: record.problems.clone(),
        }
    }
}

/// `HH:MM` when `at` is today at the clinic, else `M/D HH:MM`.
fn clinic_label(cal: &ClinicCalendar, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let t = cal.local(at);
    if t.date_naive() == cal.today(now) {
        t.format("%H:%M").to_string()
    } else {
        cal.day_and_time(at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TodayView {
    /// `YYYY-MM-DD` at the clinic.
    pub date: String,
    /// 0 = Sunday … 6 = Saturday.
    pub weekday: u8,
    pub appointments: Vec<AppointmentView>,
    pub status: MirrorStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Settings {
    pub language: Language,
    pub autostart: bool,
    pub clinic_name: Option<String>,
    pub time_zone: String,
    pub source: SourceKind,
    pub days_ahead: u32,
    /// The FHIR server setup, kept even while another source is in use.
    pub fhir: Option<FhirSettings>,
    /// The ORCA setup, kept even while another source is in use.
    pub orca: Option<OrcaSettings>,
    pub data_dir: String,
    /// The call script as staff see it before filling (the built-in one unless changed).
    pub call_script: String,
    pub call_script_is_default: bool,
    /// Where downtime sheets and exports are written.
    pub printouts_folder: String,
    /// When the downtime sheet is written each day (`HH:MM`).
    pub sheet_times: Vec<String>,
    /// How long data stays on the desk (set in config.toml).
    pub retention: crate::config::RetentionConfig,
    /// How staff stop and reopen web booking by hand (a source with no API).
    pub booking_card: Option<crate::config::BookingCard>,
    /// Spend little on a backup or metered line (the owner may switch it off).
    pub frugal: bool,
    /// The watched export folder, if one is set.
    pub csv_folder: Option<CsvFolderSettings>,
}

/// The watched export folder as the settings screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CsvFolderSettings {
    pub path: String,
    /// The saved mapping its files are read through (none: by each file's header line).
    pub mapping: Option<String>,
}

/// The FHIR setup as the settings screen shows it: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FhirSettings {
    pub base_url: String,
    pub auth: FhirAuthKind,
    pub username: Option<String>,
    /// Whether the OS keychain holds a token or password for it.
    pub has_credential: bool,
    pub allow_plain_http: bool,
}

/// The ORCA setup as the settings screen shows it: never the password itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OrcaSettings {
    pub base_url: String,
    pub username: String,
    /// Whether the OS keychain holds the password for it.
    pub has_credential: bool,
}

/// Something the desk wants every open screen to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DeskEvent {
    MirrorUpdated {
        status: MirrorStatus,
    },
    PullFailed {
        error: ErrorPayload,
        status: MirrorStatus,
    },
    /// A drill started (its id) or ended (0; `ended_by` says why: a person, a real outage,
    /// the end of the clinic day).
    DrillChanged {
        #[ts(type = "number")]
        drill: i64,
        ended_by: Option<crate::report::DrillEnd>,
    },
    /// The config changed (here or from another process): screens reload their settings.
    ConfigChanged {},
    /// Ops were sent, parked or resolved: how many are in each state now.
    OutboxChanged {
        counts: crate::outbox::OutboxCounts,
    },
    /// Work recorded on another desk arrived (a tick, a call): screens reload.
    SharedWork {},
    /// The watched export folder imported or refused a file.
    FolderRead {
        view: FolderView,
        status: MirrorStatus,
    },
    /// The code shown on this desk was typed on another desk (`paired`: its name) or ended
    /// without it (`error`: why; none when it was closed here).
    PairingEnded {
        paired: Option<String>,
        error: Option<ErrorPayload>,
    },
}

pub(crate) fn local_rfc3339(t: DateTime<Tz>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl AppointmentView {
    pub(crate) fn new(stored: StoredAppointment, cal: &ClinicCalendar) -> Self {
        let a = stored.appointment;
        let start = a.start.map(|t| cal.local(t));
        let end = a.end.map(|t| cal.local(t));
        AppointmentView {
            id: a.source_id,
            version: a.source_version,
            start: start.map(local_rfc3339),
            end: end.map(local_rfc3339),
            start_time: start.map(|t| t.format("%H:%M").to_string()),
            end_time: end.map(|t| t.format("%H:%M").to_string()),
            status: a.status,
            reason: a.reason,
            patient: stored.patient.map(|p| PatientView {
                id: p.source_id,
                name: p.name,
                kana: p.kana,
                phones: p.phones,
            }),
        }
    }
}

impl MirrorStatus {
    pub(crate) fn new(
        config: &Config,
        now: DateTime<Utc>,
        meta: Option<MirrorMeta>,
        counts: MirrorCounts,
        last_pull: Option<PullRecord>,
        folder: Option<crate::store::FolderFileRecord>,
    ) -> Self {
        let cal = config.calendar();
        let is_demo = config.source.kind == SourceKind::Demo;
        let clinic_name = config.shown_clinic_name();
        let synced = meta.as_ref().map(|m| cal.local(m.synced_at));
        let synced_at_label = meta.as_ref().map(|m| clinic_label(&cal, m.synced_at, now));
        MirrorStatus {
            configured_source: config.source.kind,
            mirrored_source: meta.map(|m| m.source_kind),
            is_demo,
            upstream: (config.source.kind == SourceKind::Fhir)
                .then(|| config.source.fhir.as_ref().map(|f| f.base_url.clone()))
                .flatten(),
            clinic_name,
            time_zone: config.time_zone.clone(),
            synced_at: synced.map(local_rfc3339),
            synced_at_label,
            appointments: counts.appointments,
            patients: counts.patients,
            last_pull: last_pull.map(|p| PullView {
                finished_at: local_rfc3339(cal.local(p.finished_at)),
                ok: p.error.is_none(),
                error: p.error,
                changed: p.changed,
            }),
            folder: folder
                .filter(|_| config.source.folder.is_some())
                .map(|f| FolderView::new(&f, &cal, now)),
        }
    }
}

pub(crate) fn weekday_sunday_first(date: chrono::NaiveDate) -> u8 {
    date.weekday().num_days_from_sunday() as u8
}
