//! The desk: one install's config, keychain entry and encrypted store, and the operations
//! every front end (desktop shell, CLI, tests) performs on them.

use std::sync::{Arc, Mutex, RwLock};

use chrono::NaiveDate;
use serde::Deserialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::clock::Clock;
use crate::config::{Config, DataDir, FhirAuthKind, Language};
use crate::error::{CoreError, Result};
use crate::keychain::Keychain;
use crate::model::SourceKind;
use crate::source::{fhir, AnySource, PullOutcome, PullRequest};
use crate::store::{Create, DbKey, MappingToSave, Refresh, SavedMapping, Scope, Store};
use crate::view::{weekday_sunday_first, AppointmentView, DeskEvent, MirrorStatus, TodayView};

pub(super) const CALL_SCRIPT_MAX: usize = 1000;

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
    /// How to stop and reopen web booking by hand; every field empty removes it.
    #[ts(optional)]
    pub booking_card: Option<crate::config::BookingCard>,
    /// Spend little on a backup or metered line (`monitor.frugal`).
    #[ts(optional)]
    pub frugal: Option<bool>,
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
    /// The saved column mapping the file was read through (none: by the column names
    /// Tsunagi knows).
    pub mapping: Option<String>,
}

/// How an import reads a file's columns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CsvColumns {
    /// The mapping saved for the file's header line, else the column names Tsunagi knows.
    Auto,
    /// The mapping saved under this name (`--mapping NAME`).
    Saved { name: String },
    /// A mapping staff just made: saved under `name` for this header line once the file
    /// imports.
    New {
        name: String,
        mapping: crate::csv_import::ColumnMapping,
    },
}

enum UsedMapping {
    Saved(String),
    New(String, crate::csv_import::ColumnMapping),
}

impl UsedMapping {
    fn name(&self) -> &str {
        match self {
            UsedMapping::Saved(name) | UsedMapping::New(name, _) => name,
        }
    }
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
        /// The bearer token or password; absent keeps the one already in the keychain for
        /// this same base URL (a new URL needs its own).
        #[ts(optional)]
        secret: Option<String>,
    },
    /// ORCA or WebORCA: the API's base URL, the ORCA operator and their password.
    Orca {
        base_url: String,
        username: String,
        /// The password; absent keeps the one already in the keychain for this URL.
        #[ts(optional)]
        secret: Option<String>,
    },
}

pub struct Desk {
    data_dir: DataDir,
    store: Store,
    config: Arc<live_config::LiveConfig>,
    clock: Arc<dyn Clock>,
    keychain: Arc<Keychain>,
    http: UpstreamHttp,
    events: broadcast::Sender<DeskEvent>,
    /// Who is at the desk (the quick switcher); the last one picked after a restart.
    staff: RwLock<Option<String>>,
    /// Bumped to end the pairing code shown (closed, or a new code shown instead).
    pairing: tokio::sync::watch::Sender<u64>,
    /// When this process opened the desk: it judges another desk gone (and takes over its
    /// ops) only after listening for it that long (its own silence before says nothing).
    opened_at: chrono::DateTime<chrono::Utc>,
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
        // A first start creates the config, the key and the database: one process at a time
        // (the app and a CLI command started together must not make two keys).
        let _first_start = live_config::InstallLock::take(&data_dir)?;
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
        if db_exists && store.opened_at_version() < settings::PER_SERVER_SECRETS_SCHEMA {
            // Once, on the upgrade that brought secrets per server.
            settings::adopt_legacy_credential(&keychain, &config)?;
        }
        let (_, last_staff) = store.staff_members()?;
        let (events, _) = broadcast::channel(32);
        Ok(Desk {
            opened_at: clock.now(),
            config: Arc::new(live_config::LiveConfig::new(data_dir.clone(), config)),
            data_dir,
            store,
            clock,
            keychain,
            http: UpstreamHttp::default(),
            events,
            staff: RwLock::new(last_staff),
            pairing: tokio::sync::watch::Sender::new(0),
        })
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// Hand back what the database keeps for speed after a burst of work (its page cache),
    /// for a process that waits all day between pulls (the tray). Blocking: call it from
    /// the blocking pool.
    pub fn release_memory(&self) -> Result<()> {
        self.store.shrink_memory()
    }

    /// The config as last read, from memory (no file I/O, so any thread may ask). It is
    /// read again from `config.toml` before every request upstream ([`Desk::fresh_config`])
    /// and every few seconds while a runtime runs.
    pub fn config(&self) -> Config {
        self.config.current()
    }

    /// The config as `config.toml` says it now, read on the blocking pool: a change made
    /// from the terminal (or by hand) takes effect before the next request, and screens
    /// are told.
    pub async fn fresh_config(&self) -> Config {
        let live = self.config.clone();
        match blocking(move || Ok(live.read())).await {
            Ok(read) => self.take_read(read),
            Err(_) => self.config(),
        }
    }

    /// [`Desk::fresh_config`] for code already off the async threads (the CLI's start,
    /// a blocking task).
    pub fn fresh_config_blocking(&self) -> Config {
        self.take_read(self.config.read())
    }

    /// A read of `config.toml`: when another process changed it, screens are told.
    fn take_read(&self, read: live_config::Read) -> Config {
        if read.changed_outside {
            tracing::info!("config.toml changed outside this process; using it now");
            let _ = self.events.send(DeskEvent::ConfigChanged {});
        }
        read.config
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DeskEvent> {
        self.events.subscribe()
    }

    /// Now, on the desk's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Rung when something the desk did may have queued a change for the upstream.
    pub fn changes_queued(&self) -> Arc<tokio::sync::Notify> {
        self.store.changes_queued()
    }

    /// Tell every screen a drill ended without a person ending it (a real outage ended it:
    /// what is recorded from now on is real).
    pub fn drill_ended(&self, drill: i64, by: crate::report::DrillEnd) {
        tracing::info!(drill, by = by.code(), "drill ended");
        let _ = self.events.send(DeskEvent::DrillChanged {
            drill: 0,
            ended_by: Some(by),
        });
    }

    /// Refresh the mirror from the configured source. The mirror is replaced only by a
    /// complete answer; a failure is logged in the database and leaves it as it was. With
    /// CSV as the source there is nothing to pull: the mirror changes on import only. A
    /// snapshot fetched while a change reached the server is older than what the desk knows:
    /// it is fetched again rather than written (pull and send never interleave that way).
    pub async fn pull(&self) -> Result<MirrorStatus> {
        const TRIES: u32 = 3;
        for attempt in 1..=TRIES {
            match self.pull_once().await {
                Err(CoreError::Superseded) if attempt < TRIES => {
                    tracing::info!("a change reached the server during the pull; pulling again");
                }
                other => return other,
            }
        }
        Err(CoreError::Superseded)
    }

    async fn pull_once(&self) -> Result<MirrorStatus> {
        let config = self.fresh_config().await;
        let started = self.clock.now();
        let request = PullRequest::for_config(&config, started);
        let window = request.window();
        let http = self.http.client();
        // The credential comes from the OS keychain, a blocking call (D-Bus on Linux).
        let (for_source, keychain) = (config.clone(), self.keychain.clone());
        let found = blocking(move || Ok(AnySource::for_config(&for_source, &keychain, &http)));
        let source = match found.await? {
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
        let (previous, seen) =
            blocking(move || Ok((store.mirror_state(window)?, store.deliveries()?))).await?;
        let fetched = source.fetch(&request, previous.as_ref()).await;

        let keep_from = retention::mirror_keep_from(&config, started);
        let store = self.store.clone();
        let clock = self.clock.clone();
        let outcome = blocking(move || {
            let finished = clock.now();
            let refresh = |since| Refresh {
                window,
                scope: Scope::Pull,
                deliveries_seen: Some(seen),
                since,
                keep_from,
                started_at: started,
                finished_at: finished,
                as_of: None,
            };
            match fetched {
                Ok(PullOutcome::Snapshot { snapshot, since }) => {
                    match store.replace_mirror(&snapshot, refresh(since.as_deref()), None) {
                        Err(CoreError::Superseded) => Err(CoreError::Superseded),
                        other => other.map(Ok),
                    }
                }
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

    /// Import a morning CSV export: the mirror's days in the file become exactly its rows
    /// (a row with a change still waiting stays), or, if any row is wrong, nothing
    /// changes. Other days are not touched. An install still on the demo switches to CSV;
    /// with FHIR set up, its next successful pull takes over again. The columns are read
    /// through the mapping saved for the file's header line, else by the names Tsunagi
    /// knows.
    pub async fn import_csv(&self, bytes: Vec<u8>) -> Result<ImportReport> {
        self.import_csv_with(bytes, CsvColumns::Auto, None).await
    }

    /// [`Desk::import_csv`] with the columns read as `columns` says. `as_of` is the
    /// file's own time when it is older than now (the watched folder): the data's age.
    pub async fn import_csv_with(
        &self,
        bytes: Vec<u8>,
        columns: CsvColumns,
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<ImportReport> {
        let cal = self.config().calendar();
        let started = self.clock.now();
        let store = self.store.clone();
        let (import, used, header) = blocking(move || {
            let header = crate::csv_import::header_of(&bytes)?;
            let (mapping, used) = match columns {
                CsvColumns::Auto => match store.csv_mapping_for(&header)? {
                    Some(saved) => (Some(saved.mapping), Some(UsedMapping::Saved(saved.name))),
                    None => (None, None),
                },
                CsvColumns::Saved { name } => {
                    let saved = store.csv_mapping_named(&name)?.ok_or_else(|| {
                        CoreError::InvalidInput(format!(
                            "no column mapping is saved under the name {name:?} \
                             (`tsunagi-cli import mappings` lists them)"
                        ))
                    })?;
                    (Some(saved.mapping), Some(UsedMapping::Saved(saved.name)))
                }
                CsvColumns::New { name, mapping } => {
                    (Some(mapping.clone()), Some(UsedMapping::New(name, mapping)))
                }
            };
            let import = crate::csv_import::parse_csv(&bytes, &cal, mapping.as_ref())?;
            Ok((import, used, header))
        })
        .await?;
        let switched = self.switch_demo_to_csv()?;
        let config = self.config();
        let keep_from = retention::mirror_keep_from(&config, started);
        let report = ImportReport {
            appointments: import.snapshot.appointments.len() as u32,
            patients: import.snapshot.patients.len() as u32,
            first_date: import.first_date.to_string(),
            last_date: import.last_date.to_string(),
            switched_to_csv: switched,
            upstream_replaces_it: config.source.kind == SourceKind::Fhir,
            mapping: used.as_ref().map(|u| u.name().to_owned()),
        };
        let audit = self.audit_entry(
            Actor::Person(None),
            crate::audit::AuditAction::CsvImport,
            Vec::new(),
            serde_json::json!({
                "appointments": report.appointments,
                "patients": report.patients,
                "first_date": report.first_date,
                "last_date": report.last_date,
                "mapping": report.mapping,
            }),
        );
        let store = self.store.clone();
        let clock = self.clock.clone();
        blocking(move || {
            let now = clock.now();
            let refresh = Refresh {
                window: import.window,
                scope: Scope::Days,
                deliveries_seen: None,
                since: None,
                keep_from,
                started_at: started,
                finished_at: now,
                as_of: as_of.filter(|t| *t < now),
            };
            let save = match &used {
                Some(UsedMapping::New(name, mapping)) => Some(MappingToSave {
                    name,
                    header: &header,
                    mapping,
                }),
                _ => None,
            };
            store.import_csv(&import.snapshot, refresh, &audit, save, now)
        })
        .await?;
        tracing::info!(appointments = report.appointments, "CSV imported");
        let status = self.status().await?;
        let _ = self.events.send(DeskEvent::MirrorUpdated { status });
        Ok(report)
    }

    /// `import_csv_with` for a screen: problems in the file are an answer, not an error.
    pub async fn import_csv_for_screen(
        &self,
        bytes: Vec<u8>,
        columns: CsvColumns,
    ) -> Result<ImportResult> {
        match self.import_csv_with(bytes, columns, None).await {
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

    /// A file's header and first rows, for the screen where staff map its columns.
    pub async fn csv_preview(&self, bytes: Vec<u8>) -> Result<crate::csv_import::CsvPreview> {
        blocking(move || Ok(crate::csv_import::preview(&bytes)?)).await
    }

    /// The column mappings staff have saved, by name.
    pub async fn csv_mappings(&self) -> Result<Vec<SavedMapping>> {
        let store = self.store.clone();
        blocking(move || store.csv_mappings()).await
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
        tracing::warn!(code = %e.code(), "pull failed: {e}");
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
                store.last_folder_file()?,
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
/// The desk's HTTP client for its upstream: built when first needed (loading the OS trust
/// store costs start-up time), and built anew once the route out changed. Its pooled
/// connections were opened over the old route: a request on one of them waits out its whole
/// timeout (20 s by default) before a new connection is tried, which held a booking pause
/// sent over a backup line for 20 s. `route` counts the changes, so a request still on its
/// way over the old route is given up (see `Desk::send_ops`).
struct UpstreamHttp {
    client: Mutex<Option<reqwest::Client>>,
    route: tokio::sync::watch::Sender<u64>,
}

impl Default for UpstreamHttp {
    fn default() -> Self {
        UpstreamHttp {
            client: Mutex::new(None),
            route: tokio::sync::watch::channel(0).0,
        }
    }
}

impl UpstreamHttp {
    fn client(&self) -> reqwest::Client {
        let mut cached = self.client.lock().unwrap_or_else(|e| e.into_inner());
        cached.get_or_insert_with(fhir::http_client).clone()
    }

    fn renew(&self) {
        *self.client.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.route.send_modify(|changes| *changes += 1);
    }
}

impl Desk {
    /// The line changed state or the route out changed (a line back, a backup line
    /// taken): connections kept alive to the upstream are dropped, and a change on its way
    /// over the old route is given up and sent again, so it does not wait out its timeout.
    pub fn renew_connections(&self) {
        self.http.renew();
    }

    /// Resolves when the route out changes after this was called.
    pub(crate) fn route_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.http.route.subscribe()
    }
}

pub(crate) async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R> + Send + 'static,
) -> Result<R> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CoreError::Stopped)?
}

pub mod doctor;
mod folder;
mod fresh;
mod live_config;
mod settings;
pub use settings::{ChangesLeft, SourceOptions};
mod retention;
pub use fresh::{is_key_loss, FreshStart, KEY_LOSS_CODES};
pub use retention::PURGE_EVERY;
mod audit;
pub use audit::{Actor, StaffView, STAFF_NAME_MAX, UNNAMED};
mod line;
pub use line::SignalsView;
mod booking;
mod calls;
mod checklist;
mod peers;
mod receipts;
mod report;
mod sync;
pub use sync::{Round, RoundEnd, UNDO_HOLD};
