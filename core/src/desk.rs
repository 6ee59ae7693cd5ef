//! The desk: one install's config, keychain entry and encrypted store, and the operations
//! every front end (desktop shell, CLI, tests) performs on them.

use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use serde::Deserialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::clock::Clock;
use crate::config::{Config, DataDir, Language};
use crate::error::{CoreError, Result};
use crate::keychain::Keychain;
use crate::source::{AnySource, PullRequest, Source};
use crate::store::{Create, DbKey, Store};
use crate::view::{
    weekday_sunday_first, AppointmentView, DeskEvent, MirrorStatus, Settings, TodayView,
};

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
}

pub struct Desk {
    data_dir: DataDir,
    store: Store,
    config: RwLock<Config>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<DeskEvent>,
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

        let config = match Config::load(&data_dir.config())? {
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
        let (events, _) = broadcast::channel(32);
        Ok(Desk {
            data_dir,
            store,
            config: RwLock::new(config),
            clock,
            events,
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
        Settings {
            language: c.language,
            autostart: c.autostart,
            clinic_name: c.clinic_name,
            time_zone: c.time_zone,
            source: c.source.kind,
            days_ahead: c.source.days_ahead,
            data_dir: self.data_dir.root().display().to_string(),
        }
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
            if next != *config {
                next.save(&self.data_dir.config())?;
                *config = next;
            }
        }
        Ok(self.settings())
    }

    /// Refresh the mirror from the configured source. The mirror is replaced only by a
    /// complete answer; a failure is logged in the database and leaves it as it was.
    pub async fn pull(&self) -> Result<MirrorStatus> {
        let config = self.config();
        let started = self.clock.now();
        let request = PullRequest::for_config(&config, started);
        let source = AnySource::for_config(&config);
        let fetched = source.fetch(&request).await;

        let store = self.store.clone();
        let clock = self.clock.clone();
        let window = request.window();
        let kind = source.kind().code();
        let outcome = blocking(move || {
            let finished = clock.now();
            match fetched {
                Ok(snapshot) => store
                    .replace_mirror(&snapshot, window, started, finished)
                    .map(Ok),
                Err(e) => store
                    .record_failed_pull(kind, started, finished, &e)
                    .map(|()| Err(e)),
            }
        })
        .await?;
        let status = self.status().await?;
        match outcome {
            Ok(counts) => {
                tracing::info!(
                    appointments = counts.appointments,
                    patients = counts.patients,
                    source = kind,
                    "mirror refreshed"
                );
                let _ = self.events.send(DeskEvent::MirrorUpdated {
                    status: status.clone(),
                });
                Ok(status)
            }
            Err(e) => {
                tracing::warn!(code = e.code(), "pull failed: {e}");
                let _ = self.events.send(DeskEvent::PullFailed {
                    error: e.payload(),
                    status,
                });
                Err(e)
            }
        }
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

    /// The appointments of one clinic day (today when `date` is `None`), in time order.
    pub async fn today(&self, date: Option<NaiveDate>) -> Result<TodayView> {
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
