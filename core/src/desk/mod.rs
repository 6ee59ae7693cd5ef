//! The desk: one install's config, keychain entry and encrypted store, and the operations
//! every front end (desktop shell, CLI, tests) performs on them.

use std::sync::{Arc, OnceLock, RwLock};

use chrono::NaiveDate;
use serde::Deserialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::clock::Clock;
use crate::config::{Config, DataDir, FhirAuthKind, FhirConfig, Language};
use crate::error::{CoreError, Result};
use crate::keychain::Keychain;
use crate::model::SourceKind;
use crate::source::{credential_account, fhir, AnySource, PullOutcome, PullRequest, SourceError};
use crate::store::{Create, DbKey, Refresh, Store};
use crate::view::{
    weekday_sunday_first, AppointmentView, DeskEvent, FhirSettings, MirrorStatus, Settings,
    TodayView,
};

const CALL_SCRIPT_MAX: usize = 1000;

#[derive(Clone)]
pub struct DeskOptions {
    pub data_dir: DataDir,
    pub keychain: Arc<Keychain>,
    pub clock: Arc<dyn Clock>,
    /// The OS locale (e.g. `ja-JP`), consulted only on first start.
    pub locale: Option<String>,
}

/// A change to settings; a missing field stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsChange {
    #[ts(optional)]
    pub language: Option<Language>,
    #[ts(optional)]
    pub autostart: Option<bool>,
    /// The call script; empty goes back to the built-in one.
    #[ts(optional)]
    pub call_script: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, TS)]
pub struct ImportReport {
    pub appointments: u32,
    pub patients: u32,
    /// `YYYY-MM-DD`: the clinic days the file covered (now exactly its rows).
    pub first_date: String,
    pub last_date: String,
    /// The install was on the demo and now uses CSV imports as its source.
    pub switched_to_csv: bool,
    /// FHIR is the source: its next successful pull replaces this import.
    pub upstream_replaces_it: bool,
}

/// An import as the screen shows it: what was imported, or every problem (with line
/// numbers) and nothing imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, TS)]
pub struct ImportResult {
    pub report: Option<ImportReport>,
    pub problems: Vec<crate::csv_import::ImportProblem>,
}

/// Where appointments should come from, as the settings screen or the CLI says it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceSetup {
    Demo,
    Csv,
    Fhir {
        base_url: String,
        auth: FhirAuthKind,
        #[ts(optional)]
        username: Option<String>,
        /// The bearer token or password; absent keeps the one already in the keychain.
        #[ts(optional)]
        secret: Option<String>,
        #[serde(default)]
        #[ts(optional)]
        allow_plain_http: Option<bool>,
    },
}

pub struct Desk {
    data_dir: DataDir,
    store: Store,
    config: RwLock<Config>,
    clock: Arc<dyn Clock>,
    keychain: Arc<Keychain>,
    /// Built on the first FHIR pull (loading the OS trust store costs start-up time).
    http: OnceLock<reqwest::Client>,
    events: broadcast::Sender<DeskEvent>,
    /// Who is at the desk (the quick switcher); the last one picked after a restart.
    staff: RwLock<Option<String>>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

fn key_account(config: &Config) -> String {
    format!("database-key/{}", config.device_id)
}

impl Desk {
    /// Open the install in `data_dir`, creating it on first start. An existing database is
    /// only ever opened, never replaced: a missing or wrong key is an error that leaves
    /// the file as it was.
    pub fn open(options: DeskOptions) -> Result<Desk> {
        let DeskOptions {
            data_dir,
            keychain,
            clock,
            locale,
        } = options;
        data_dir.ensure()?;
        let db_path = data_dir.database();
        let db_exists = db_path.exists();

        let config =
            match Config::load_or_complete(&data_dir.config(), locale.as_deref(), !db_exists)? {
                Some(c) => c,
                None if db_exists => {
                    return Err(CoreError::ConfigMissing {
                        dir: data_dir.root().to_owned(),
                    })
                }
                None => {
                    let c = Config::first_start(locale.as_deref());
                    c.save(&data_dir.config())?;
                    c
                }
            };

        let account = key_account(&config);
        let key = match keychain.get(&account)? {
            Some(bytes) => DbKey::from_bytes(&bytes).ok_or_else(|| CoreError::NotDecryptable {
                path: db_path.clone(),
            })?,
            None if db_exists => return Err(CoreError::KeyMissing { path: db_path }),
            None => {
                let key = DbKey::generate()?;
                keychain.set(&account, key.as_bytes())?;
                // A keychain that accepts a secret and forgets it would strand the database
                // at the next start; find out now, before any data goes in.
                if keychain.get(&account)?.as_deref() != Some(key.as_bytes()) {
                    return Err(CoreError::KeychainUnavailable {
                        reason: "the key did not read back after saving".to_owned(),
                    });
                }
                key
            }
        };
        let create = if db_exists {
            Create::Never
        } else {
            Create::IfMissing
        };
        let store = Store::open(&db_path, &key, create)?;
        let (_, last_staff) = store.staff_members()?;
        let (events, _) = broadcast::channel(32);
        Ok(Desk {
            data_dir,
            store,
            config: RwLock::new(config),
            clock,
            keychain,
            http: OnceLock::new(),
            events,
            staff: RwLock::new(last_staff),
        })
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    pub fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DeskEvent> {
        self.events.subscribe()
    }

    pub fn settings(&self) -> Settings {
        let c = self.config();
        let has_credential = self
            .keychain
            .get(&credential_account(&c.device_id))
            .ok()
            .flatten()
            .is_some();
        Settings {
            language: c.language,
            autostart: c.autostart,
            clinic_name: c.clinic_name,
            time_zone: c.time_zone,
            source: c.source.kind,
            days_ahead: c.source.days_ahead,
            fhir: c.source.fhir.map(|f| FhirSettings {
                base_url: f.base_url,
                auth: f.auth,
                username: f.username,
                has_credential,
                allow_plain_http: f.allow_plain_http,
            }),
            data_dir: self.data_dir.root().display().to_string(),
            call_script_is_default: c.call_script.is_none(),
            call_script: c
                .call_script
                .clone()
                .unwrap_or_else(|| crate::calls::default_script(c.language).to_owned()),
            printouts_folder: self.printouts_folder().display().to_string(),
            sheet_times: c.printouts.sheet_times.clone(),
            retention: c.retention.clone(),
        }
    }

    /// Change where appointments come from. Secrets go to the OS keychain only; the config
    /// is written last, so a failure leaves the previous setup in place.
    pub fn configure_source(&self, setup: SourceSetup) -> Result<Settings> {
        let mut next = self.config();
        let account = credential_account(&next.device_id);
        match setup {
            SourceSetup::Demo => next.source.kind = SourceKind::Demo,
            SourceSetup::Csv => next.source.kind = SourceKind::Csv,
            SourceSetup::Fhir {
                base_url,
                auth,
                username,
                secret,
                allow_plain_http,
            } => {
                let secret = secret.map(zeroize::Zeroizing::new);
                let mut fhir = next
                    .source
                    .fhir
                    .take()
                    .filter(|f| f.base_url == base_url.trim())
                    .unwrap_or_else(|| FhirConfig::new(&base_url));
                fhir.auth = auth;
                fhir.username = username
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty());
                if let Some(allow) = allow_plain_http {
                    fhir.allow_plain_http = allow;
                }
                fhir.url()?;
                let invalid = |why: &str| CoreError::Source(SourceError::NotConfigured(why.into()));
                if auth == FhirAuthKind::Basic && fhir.username.is_none() {
                    return Err(invalid("basic authentication needs a user name"));
                }
                match (auth, secret.as_deref().map(|s| s.trim())) {
                    (FhirAuthKind::None, _) => self.keychain.delete(&account)?,
                    (_, Some(s)) if !s.is_empty() => self.keychain.set(&account, s.as_bytes())?,
                    (_, _) if self.keychain.get(&account)?.is_some() => {}
                    (FhirAuthKind::Bearer, _) => return Err(invalid("a bearer token is needed")),
                    (FhirAuthKind::Basic, _) => return Err(invalid("a password is needed")),
                }
                next.source.kind = SourceKind::Fhir;
                next.source.fhir = Some(fhir);
            }
        }
        next.save(&self.data_dir.config())?;
        let detail = serde_json::json!({
            "kind": next.source.kind.code(),
            "host": next.source.fhir.as_ref().and_then(|f| f.url().ok())
                .and_then(|u| u.host_str().map(str::to_owned)),
        });
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = next;
        self.audit_blocking(
            Actor::Person(None),
            crate::audit::AuditAction::SourceConfigure,
            Vec::new(),
            detail,
        );
        Ok(self.settings())
    }

    /// Apply and persist a settings change; the file is written before memory changes, so
    /// a failed write changes nothing.
    pub fn change_settings(&self, change: SettingsChange) -> Result<Settings> {
        {
            let mut config = self.config.write().unwrap_or_else(|e| e.into_inner());
            let mut next = config.clone();
            if let Some(l) = change.language {
                next.language = l;
            }
            if let Some(a) = change.autostart {
                next.autostart = a;
            }
            if let Some(script) = change.call_script {
                let script = script.trim();
                if script.chars().count() > CALL_SCRIPT_MAX {
                    return Err(CoreError::InvalidInput(format!(
                        "the call script is longer than {CALL_SCRIPT_MAX} characters"
                    )));
                }
                next.call_script = (!script.is_empty()).then(|| script.to_owned());
            }
            if next != *config {
                next.save(&self.data_dir.config())?;
                let changed: Vec<&str> = [
                    ("language", next.language != config.language),
                    ("autostart", next.autostart != config.autostart),
                    ("call_script", next.call_script != config.call_script),
                ]
                .into_iter()
                .filter_map(|(name, changed)| changed.then_some(name))
                .collect();
                *config = next;
                drop(config);
                self.audit_blocking(
                    Actor::Person(None),
                    crate::audit::AuditAction::SettingsChange,
                    Vec::new(),
                    serde_json::json!({ "changed": changed }),
                );
            }
        }
        Ok(self.settings())
    }

    /// Refresh the mirror from the configured source. The mirror is replaced only by a
    /// complete answer; a failure is logged in the database and leaves it as it was. With
    /// CSV as the source there is nothing to pull: the mirror changes on import only.
    pub async fn pull(&self) -> Result<MirrorStatus> {
        let config = self.config();
        let started = self.clock.now();
        let request = PullRequest::for_config(&config, started);
        let window = request.window();
        let http = self.http.get_or_init(fhir::http_client);
        let source = match AnySource::for_config(&config, &self.keychain, http) {
            Ok(Some(source)) => source,
            Ok(None) => return self.status().await,
            Err(e) => {
                return self
                    .record_failure(config.source.kind.code(), started, e)
                    .await
            }
        };
        let kind = source.kind().code();
        let store = self.store.clone();
        let previous = blocking(move || store.mirror_state(window)).await?;
        let fetched = source.fetch(&request, previous.as_ref()).await;

        let keep_from = retention::mirror_keep_from(&config, started);
        let store = self.store.clone();
        let clock = self.clock.clone();
        let outcome = blocking(move || {
            let finished = clock.now();
            let refresh = |since| Refresh {
                window,
                since,
                keep_from,
                started_at: started,
                finished_at: finished,
            };
            match fetched {
                Ok(PullOutcome::Snapshot { snapshot, since }) => store
                    .replace_mirror(&snapshot, refresh(since.as_deref()))
                    .map(Ok),
                Ok(PullOutcome::Unchanged { since }) => store
                    .confirm_mirror(kind, refresh(since.as_deref()))
                    .map(Ok),
                Err(e) => store
                    .record_failed_pull(kind, started, finished, &e)
                    .map(|()| Err(e)),
            }
        })
        .await?;
        match outcome {
            Ok(counts) => {
                tracing::info!(
                    appointments = counts.appointments,
                    patients = counts.patients,
                    source = kind,
                    "mirror refreshed"
                );
                let status = self.status().await?;
                let _ = self.events.send(DeskEvent::MirrorUpdated {
                    status: status.clone(),
                });
                Ok(status)
            }
            Err(e) => self.announce_failure(e).await,
        }
    }

    /// Import a morning CSV export: the mirror's days in the file become exactly its rows,
    /// or, if any row is wrong, nothing changes. An install still on the demo switches to
    /// CSV; with FHIR set up, its next successful pull takes over again.
    pub async fn import_csv(&self, bytes: Vec<u8>) -> Result<ImportReport> {
        let mut config = self.config();
        let cal = config.calendar();
        let started = self.clock.now();
        let import = blocking(move || Ok(crate::csv_import::parse_csv(&bytes, &cal)?)).await?;
        let switched = config.source.kind == SourceKind::Demo;
        if switched {
            config.source.kind = SourceKind::Csv;
            config.save(&self.data_dir.config())?;
            *self.config.write().unwrap_or_else(|e| e.into_inner()) = config.clone();
        }
        let keep_from = retention::mirror_keep_from(&config, started);
        let report = ImportReport {
            appointments: import.snapshot.appointments.len() as u32,
            patients: import.snapshot.patients.len() as u32,
            first_date: import.first_date.to_string(),
            last_date: import.last_date.to_string(),
            switched_to_csv: switched,
            upstream_replaces_it: config.source.kind == SourceKind::Fhir,
        };
        let store = self.store.clone();
        let clock = self.clock.clone();
        blocking(move || {
            let refresh = Refresh {
                window: import.window,
                since: None,
                keep_from,
                started_at: started,
                finished_at: clock.now(),
            };
            store.replace_mirror(&import.snapshot, refresh)
        })
        .await?;
        tracing::info!(appointments = report.appointments, "CSV imported");
        self.audit(
            Actor::Person(None),
            crate::audit::AuditAction::CsvImport,
            Vec::new(),
            serde_json::json!({
                "appointments": report.appointments,
                "patients": report.patients,
                "first_date": report.first_date,
                "last_date": report.last_date,
            }),
        )
        .await;
        let status = self.status().await?;
        let _ = self.events.send(DeskEvent::MirrorUpdated { status });
        Ok(report)
    }

    /// `import_csv` for a screen: problems in the file are an answer, not an error.
    pub async fn import_csv_for_screen(&self, bytes: Vec<u8>) -> Result<ImportResult> {
        match self.import_csv(bytes).await {
            Ok(report) => Ok(ImportResult {
                report: Some(report),
                problems: Vec::new(),
            }),
            Err(CoreError::Import(e)) => Ok(ImportResult {
                report: None,
                problems: e.problems(),
            }),
            Err(e) => Err(e),
        }
    }

    /// A pull that could not even start (no credential, a bad URL): logged and announced
    /// like any other failure; always returns the error.
    async fn record_failure(
        &self,
        kind: &'static str,
        started: chrono::DateTime<chrono::Utc>,
        error: CoreError,
    ) -> Result<MirrorStatus> {
        let store = self.store.clone();
        let finished = self.clock.now();
        let error = blocking(move || {
            store.record_failed_pull(kind, started, finished, &error)?;
            Ok(error)
        })
        .await?;
        self.announce_failure(error).await
    }

    async fn announce_failure(&self, e: CoreError) -> Result<MirrorStatus> {
        tracing::warn!(code = e.code(), "pull failed: {e}");
        let status = self.status().await?;
        let _ = self.events.send(DeskEvent::PullFailed {
            error: e.payload(),
            status,
        });
        Err(e)
    }

    pub async fn status(&self) -> Result<MirrorStatus> {
        let config = self.config();
        let store = self.store.clone();
        let now = self.clock.now();
        blocking(move || {
            Ok(MirrorStatus::new(
                &config,
                now,
                store.mirror_meta()?,
                store.counts()?,
                store.last_pull()?,
            ))
        })
        .await
    }

    /// The appointments of one clinic day (today when `date` is `None`), in time order;
    /// a person looked at them.
    pub async fn today(&self, date: Option<NaiveDate>) -> Result<TodayView> {
        let view = self.day_view(date).await?;
        self.audit(
            Actor::Person(None),
            crate::audit::AuditAction::TodayView,
            view.appointments
                .iter()
                .map(|a| format!("appointment:{}", a.id))
                .collect(),
            serde_json::json!({ "date": view.date }),
        )
        .await;
        Ok(view)
    }

    /// `today` without the trail: for pages Tsunagi writes on its own schedule.
    async fn day_view(&self, date: Option<NaiveDate>) -> Result<TodayView> {
        let config = self.config();
        let cal = config.calendar();
        let date = date.unwrap_or_else(|| cal.today(self.clock.now()));
        let store = self.store.clone();
        let appointments = blocking(move || store.appointments_in(cal.days(date, 1))).await?;
        Ok(TodayView {
            date: date.format("%Y-%m-%d").to_string(),
            weekday: weekday_sunday_first(date),
            appointments: appointments
                .into_iter()
                .map(|a| AppointmentView::new(a, &cal))
                .collect(),
            status: self.status().await?,
        })
    }
}

/// Run database work off the async threads.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CoreError::Stopped)?
}

pub mod doctor;
mod fresh;
mod retention;
pub use fresh::{is_key_loss, FreshStart};
pub use retention::PURGE_EVERY;
mod audit;
pub use audit::{Actor, StaffView, STAFF_NAME_MAX, UNNAMED};
mod line;
pub use line::SignalsView;
mod calls;
mod checklist;
mod receipts;
mod report;
mod sync;
pub use sync::{Round, RoundEnd};
