//! Settings and the source: what the screen shows, what it may change, and where changes
//! and secrets go. Secrets live in the OS keychain only, each under the one base URL it
//! was given for; the config file is changed on what it holds now, with the change's audit
//! row committed around its write.

use super::{Actor, Desk, SettingsChange, SourceSetup, CALL_SCRIPT_MAX};
use crate::audit::AuditAction;
use crate::booking::BookingError;
use crate::config::{Config, FhirAuthKind, FhirConfig, OrcaConfig};
use crate::error::{CoreError, Result};
use crate::keychain::Keychain;
use crate::model::SourceKind;
use crate::source::{credential_account, legacy_credential_account, SourceError};
use crate::view::{FhirSettings, Settings};

/// What a switch of the source would leave waiting for the current one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct ChangesLeft {
    pub waiting: u32,
    /// The current upstream: `demo`, `csv` or its base URL.
    pub upstream: String,
}

/// What only the IT helper (the CLI, config.toml) decides about a source change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// Plain http to another machine: `Some` only from the terminal; the window cannot set it.
    pub allow_plain_http: Option<bool>,
    /// Switch even though changes made against the current upstream still wait (they keep
    /// waiting for it).
    pub confirmed: bool,
}

/// The schema that came with secrets kept per server (migration 0011).
pub(super) const PER_SERVER_SECRETS_SCHEMA: i64 = 11;

/// Before secrets were kept per server, one entry per install held the FHIR credential.
/// It was given for the server the config names now (the only one it has been sent to
/// since it was set): it moves to that server's entry, and the old entry goes.
pub(super) fn adopt_legacy_credential(keychain: &Keychain, config: &Config) -> Result<()> {
    let legacy = legacy_credential_account(&config.device_id);
    let Some(secret) = keychain.get(&legacy)? else {
        return Ok(());
    };
    if let Some(key) = config
        .source
        .fhir
        .as_ref()
        .and_then(|f| f.upstream_key().ok())
    {
        let account = credential_account(&config.device_id, &key);
        if keychain.get(&account)?.is_none() {
            keychain.set(&account, &secret)?;
        }
    }
    keychain.delete(&legacy)
}

impl Desk {
    /// The settings screen, as `config.toml` says now (a blocking call: the file and the
    /// keychain).
    pub fn settings(&self) -> Settings {
        let c = self.fresh_config_blocking();
        let fhir_account = c
            .source
            .fhir
            .as_ref()
            .and_then(|f| f.upstream_key().ok())
            .map(|key| credential_account(&c.device_id, &key));
        let has_credential = fhir_account
            .and_then(|account| self.keychain.get(&account).ok().flatten())
            .is_some();
        let orca = c.source.orca.as_ref().map(|o| crate::view::OrcaSettings {
            base_url: o.base_url.clone(),
            username: o.username.clone(),
            has_credential: o
                .upstream_key()
                .ok()
                .map(|key| credential_account(&c.device_id, &key))
                .and_then(|account| self.keychain.get(&account).ok().flatten())
                .is_some(),
        });
        Settings {
            language: c.language,
            autostart: c.autostart,
            clinic_name: c.clinic_name.clone(),
            time_zone: c.time_zone.clone(),
            source: c.source.kind,
            days_ahead: c.source.days_ahead,
            fhir: c.source.fhir.clone().map(|f| FhirSettings {
                base_url: f.base_url,
                auth: f.auth,
                username: f.username,
                has_credential,
                allow_plain_http: f.allow_plain_http,
            }),
            orca,
            data_dir: self.data_dir.root().display().to_string(),
            call_script_is_default: c.call_script.is_none(),
            call_script: c
                .call_script
                .clone()
                .unwrap_or_else(|| crate::calls::default_script(c.language).to_owned()),
            printouts_folder: self.printouts_folder().display().to_string(),
            sheet_times: c.printouts.sheet_times.clone(),
            retention: c.retention.clone(),
            booking_card: c.booking_card.clone(),
            frugal: c.monitor.frugal,
            csv_folder: c
                .source
                .folder
                .as_ref()
                .map(|f| crate::view::CsvFolderSettings {
                    path: f.path.display().to_string(),
                    mapping: f.mapping.clone(),
                }),
        }
    }

    /// What a switch of the source to `setup` would leave behind: how many changes made
    /// against the current upstream still wait for it (0: none, or the same upstream), and
    /// that upstream's name.
    pub fn changes_left_by(&self, setup: &SourceSetup) -> Result<ChangesLeft> {
        self.changes_left(setup, None)
    }

    fn changes_left(
        &self,
        setup: &SourceSetup,
        allow_plain_http: Option<bool>,
    ) -> Result<ChangesLeft> {
        let current = self.fresh_config_blocking();
        let mut next = current.clone();
        apply_setup(&mut next, setup, allow_plain_http)?;
        let (from, to) = (current.upstream_key()?, next.upstream_key()?);
        // The demo takes its own changes whatever the source is: none is left behind.
        let waiting = if from == to || from == crate::source::demo::SOURCE_KEY {
            0
        } else {
            self.store.waiting_for(&from)?
        };
        Ok(ChangesLeft {
            waiting,
            upstream: crate::source::upstream_name(&from),
        })
    }

    /// Change where appointments come from (the window). Secrets go to the OS keychain
    /// only, under the base URL they were given for; the config is written last, so a
    /// failure leaves the previous setup in place.
    pub fn configure_source(&self, setup: SourceSetup, options: SourceOptions) -> Result<Settings> {
        let left = self.changes_left(&setup, options.allow_plain_http)?;
        if left.waiting > 0 && !options.confirmed {
            return Err(CoreError::ChangesWaiting {
                count: left.waiting,
                upstream: left.upstream,
            });
        }
        let secret = match &setup {
            SourceSetup::Fhir { secret, .. } | SourceSetup::Orca { secret, .. } => {
                secret.clone().map(zeroize::Zeroizing::new)
            }
            _ => None,
        };
        // The secret is checked and stored for the URL being set up before the config names it.
        let mut planned = self.fresh_config_blocking();
        apply_setup(&mut planned, &setup, options.allow_plain_http)?;
        if let Some(fhir) = planned
            .source
            .fhir
            .as_ref()
            .filter(|_| planned.source.kind == SourceKind::Fhir)
        {
            let account = credential_account(&planned.device_id, &fhir.upstream_key()?);
            let host = fhir.url()?.host_str().unwrap_or("the server").to_owned();
            let invalid = |why: String| CoreError::Source(SourceError::NotConfigured(why));
            match (fhir.auth, secret.as_deref().map(|s| s.trim())) {
                (FhirAuthKind::None, _) => self.keychain.delete(&account)?,
                (_, Some(s)) if !s.is_empty() => self.keychain.set(&account, s.as_bytes())?,
                (_, _) if self.keychain.get(&account)?.is_some() => {}
                (FhirAuthKind::Bearer, _) => {
                    return Err(invalid(format!("a bearer token is needed for {host}")))
                }
                (FhirAuthKind::Basic, _) => {
                    return Err(invalid(format!("a password is needed for {host}")))
                }
            }
        }
        if let Some(orca) = planned
            .source
            .orca
            .as_ref()
            .filter(|_| planned.source.kind == SourceKind::Orca)
        {
            let account = credential_account(&planned.device_id, &orca.upstream_key()?);
            let host = orca.url()?.host_str().unwrap_or("the server").to_owned();
            match secret.as_deref().map(|s| s.trim()) {
                Some(s) if !s.is_empty() => self.keychain.set(&account, s.as_bytes())?,
                _ if self.keychain.get(&account)?.is_some() => {}
                _ => {
                    return Err(CoreError::Source(SourceError::NotConfigured(format!(
                        "the ORCA password of {} is needed for {host}",
                        orca.username
                    ))))
                }
            }
        }
        let (_, next) = self.config.update(
            |c| apply_setup(c, &setup, options.allow_plain_http),
            |_, next, save| {
                let detail = serde_json::json!({
                    "kind": next.source.kind.code(),
                    "host": next.source.fhir.as_ref().and_then(|f| f.url().ok())
                        .and_then(|u| u.host_str().map(str::to_owned)),
                    "left_waiting": left.waiting,
                });
                let entry = self.audit_entry(
                    Actor::Person(None),
                    AuditAction::SourceConfigure,
                    Vec::new(),
                    detail,
                );
                self.store.audited(&entry, save)
            },
        )?;
        tracing::info!(source = next.source.kind.code(), "source changed");
        let _ = self.events.send(crate::view::DeskEvent::ConfigChanged {});
        Ok(self.settings())
    }

    /// Apply and persist a settings change, on the file as it is now: what another process
    /// changed meanwhile stays.
    pub fn change_settings(&self, change: SettingsChange) -> Result<Settings> {
        if let Some(script) = &change.call_script {
            if script.trim().chars().count() > CALL_SCRIPT_MAX {
                return Err(CoreError::InvalidInput(format!(
                    "the call script is longer than {CALL_SCRIPT_MAX} characters"
                )));
            }
        }
        let card = match change.booking_card.clone() {
            Some(card) => Some(card.checked().map_err(BookingError::CardInvalid)?),
            None => None,
        };
        let (before, after) = self.config.update(
            |next| {
                if let Some(card) = &card {
                    next.booking_card = card.clone();
                }
                if let Some(frugal) = change.frugal {
                    next.monitor.frugal = frugal;
                }
                if let Some(l) = change.language {
                    next.language = l;
                }
                if let Some(a) = change.autostart {
                    next.autostart = a;
                }
                if let Some(script) = &change.call_script {
                    let script = script.trim();
                    next.call_script = (!script.is_empty()).then(|| script.to_owned());
                }
                Ok(())
            },
            |before, next, save| {
                let changed: Vec<&str> = [
                    ("language", next.language != before.language),
                    ("autostart", next.autostart != before.autostart),
                    ("call_script", next.call_script != before.call_script),
                    ("booking_card", next.booking_card != before.booking_card),
                    ("frugal", next.monitor.frugal != before.monitor.frugal),
                ]
                .into_iter()
                .filter_map(|(name, changed)| changed.then_some(name))
                .collect();
                let entry = self.audit_entry(
                    Actor::Person(None),
                    AuditAction::SettingsChange,
                    Vec::new(),
                    serde_json::json!({ "changed": changed }),
                );
                self.store.audited(&entry, save)
            },
        )?;
        if before.monitor != after.monitor {
            // The monitor takes the owner's frugal switch from its next round.
            let _ = self.events.send(crate::view::DeskEvent::ConfigChanged {});
        }
        Ok(self.settings())
    }

    /// Switch an install still on the demo to CSV imports (its first import).
    pub(super) fn switch_demo_to_csv(&self) -> Result<bool> {
        let (before, after) = self.config.update(
            |c| {
                if c.source.kind == SourceKind::Demo {
                    c.source.kind = SourceKind::Csv;
                }
                Ok(())
            },
            |_, _, save| save(),
        )?;
        Ok(before.source.kind != after.source.kind)
    }
}

/// The config a setup makes of `config`. `allow_plain_http` comes only from the terminal;
/// a setup from the window keeps what the IT helper decided for the same URL.
fn apply_setup(
    config: &mut Config,
    setup: &SourceSetup,
    allow_plain_http: Option<bool>,
) -> Result<()> {
    match setup {
        SourceSetup::Demo => config.source.kind = SourceKind::Demo,
        SourceSetup::Csv => config.source.kind = SourceKind::Csv,
        SourceSetup::Fhir {
            base_url,
            auth,
            username,
            ..
        } => {
            let mut fhir = config
                .source
                .fhir
                .take()
                .filter(|f| f.base_url == base_url.trim())
                .unwrap_or_else(|| FhirConfig::new(base_url));
            fhir.auth = *auth;
            fhir.username = username
                .as_ref()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty());
            if let Some(allow) = allow_plain_http {
                fhir.allow_plain_http = allow;
            }
            fhir.url()?;
            if *auth == FhirAuthKind::Basic && fhir.username.is_none() {
                return Err(CoreError::Source(SourceError::NotConfigured(
                    "basic authentication needs a user name".into(),
                )));
            }
            config.source.kind = SourceKind::Fhir;
            config.source.fhir = Some(fhir);
        }
        SourceSetup::Orca {
            base_url, username, ..
        } => {
            let mut orca = config
                .source
                .orca
                .take()
                .filter(|o| o.base_url == base_url.trim())
                .unwrap_or_else(|| OrcaConfig::new(base_url, username));
            orca.username = username.trim().to_owned();
            if orca.username.is_empty() {
                return Err(CoreError::Source(SourceError::NotConfigured(
                    "ORCA needs the operator's user ID (職員のユーザID)".into(),
                )));
            }
            if let Some(allow) = allow_plain_http {
                orca.allow_plain_http = allow;
            }
            orca.url()?;
            config.source.kind = SourceKind::Orca;
            config.source.orca = Some(orca);
        }
    }
    Ok(())
}
