//! Non-secret settings in `config.toml` beside the database, and where that folder is.
//! Secrets (the database key, later upstream credentials) live only in the OS keychain.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

use crate::calendar::ClinicCalendar;
use crate::error::{CoreError, Result};
use crate::model::SourceKind;

/// The Tauri bundle identifier. The desktop app's app-data dir is `<OS data dir>/<this>`,
/// and the CLI resolves the same folder so both work on one database.
pub const APP_IDENTIFIER: &str = "jp.tsunagi.desk";

const DATABASE_FILE: &str = "tsunagi.db";
const CONFIG_FILE: &str = "config.toml";

/// The folder holding one install's database and config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn at(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    /// The OS's app-data folder for Tsunagi (what Tauri's `app_data_dir()` returns).
    pub fn os_default() -> Result<Self> {
        dirs::data_dir()
            .map(|d| DataDir::at(d.join(APP_IDENTIFIER)))
            .ok_or_else(|| {
                CoreError::InvalidInput(
                    "the OS reports no app-data folder; pass --data-dir".to_owned(),
                )
            })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    pub fn config(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// Create the folder, readable by this user only where the OS has such a notion.
    pub fn ensure(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| CoreError::io(&self.root, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perms = std::fs::Permissions::from_mode(0o700);
            std::fs::set_permissions(&self.root, perms)
                .map_err(|e| CoreError::io(&self.root, e))?;
        }
        Ok(())
    }
}

/// The OS's preferred locale (e.g. `ja-JP`), if it reports one.
pub fn os_locale() -> Option<String> {
    sys_locale::get_locale()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ja,
    En,
}

impl Language {
    /// First start follows the OS: English for an English OS, Japanese otherwise (the
    /// product is for Japanese clinics, so anything unknown falls back to Japanese).
    pub fn from_locale(locale: Option<&str>) -> Language {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("en") => Language::En,
            _ => Language::Ja,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// Days after today to mirror as well.
    #[serde(default = "default_days_ahead")]
    pub days_ahead: u32,
    /// The FHIR server (kept when switching to another kind, to switch back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhir: Option<FhirConfig>,
    /// The ORCA server (kept when switching to another kind, to switch back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orca: Option<OrcaConfig>,
    /// A folder the booking system saves its exports in: each new or changed CSV file
    /// there is imported by itself (issue 19). Watched while the source is CSV (or the
    /// demo, which its first import replaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<FolderConfig>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            kind: SourceKind::Demo,
            days_ahead: default_days_ahead(),
            fhir: None,
            orca: None,
            folder: None,
        }
    }
}

/// The watched export folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderConfig {
    pub path: PathBuf,
    /// The saved column mapping to read its files through; none: the one saved for each
    /// file's header line, else the column names Tsunagi knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// A file is read once it stayed unchanged this long (seconds): longer for a slow
    /// network share that a booking system writes with long pauses.
    #[serde(default = "default_quiet_secs")]
    pub quiet_secs: u64,
}

fn default_quiet_secs() -> u64 {
    crate::folder_watch::QUIET.as_secs()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum FhirAuthKind {
    #[default]
    None,
    /// `Authorization: Bearer <token>`; the token lives in the OS keychain.
    Bearer,
    /// HTTP basic auth; the user name is here, the password in the OS keychain.
    Basic,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FhirConfig {
    /// The server's base URL, e.g. `https://fhir.example.jp/r4`.
    pub base_url: String,
    #[serde(default)]
    pub auth: FhirAuthKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// How long one request may take before the server counts as not answering.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Plain http is accepted only to this machine (loopback) unless the IT helper
    /// allows it here explicitly.
    #[serde(default)]
    pub allow_plain_http: bool,
}

fn default_timeout_secs() -> u64 {
    20
}

impl FhirConfig {
    pub fn new(base_url: &str) -> FhirConfig {
        FhirConfig {
            base_url: base_url.trim().to_owned(),
            auth: FhirAuthKind::None,
            username: None,
            timeout_secs: default_timeout_secs(),
            allow_plain_http: false,
        }
    }

    /// This server's key (`fhir:<base URL>`): what its mirror rows, its changes and its
    /// credential are kept under.
    pub fn upstream_key(&self) -> std::result::Result<String, crate::source::SourceError> {
        Ok(crate::source::fhir::FhirSource::key(self.url()?.as_str()))
    }

    /// The base URL, checked: http(s) only, and plain http only to loopback unless allowed.
    pub fn url(&self) -> std::result::Result<reqwest::Url, crate::source::SourceError> {
        checked_url("the FHIR base URL", &self.base_url, self.allow_plain_http)
    }
}

/// An upstream's base URL, checked the same way for every kind: http(s) only, plain http
/// only to loopback unless the IT helper allowed it, no query, no credentials in it.
fn checked_url(
    what: &str,
    base_url: &str,
    allow_plain_http: bool,
) -> std::result::Result<reqwest::Url, crate::source::SourceError> {
    let bad =
        |why: &str| crate::source::SourceError::NotConfigured(format!("{what} {base_url:?} {why}"));
    let url = reqwest::Url::parse(base_url).map_err(|_| bad("is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_plain_http || is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "uses plain http to another machine; use https, or set \
                 allow_plain_http = true in config.toml if the network is trusted",
            ))
        }
        _ => return Err(bad("must start with https://")),
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must be a server address without ? or #"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not carry credentials (they belong in the keychain)",
        ));
    }
    Ok(url)
}

/// ORCA (on premises: `http(s)://host:8000`) or WebORCA (its `https://…/api` prefix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrcaConfig {
    /// The API's base URL: `https://orca.clinic.lan:8000`, or WebORCA's `https://…/api`.
    pub base_url: String,
    /// The ORCA user (職員) the API signs in as; the password is in the OS keychain.
    pub username: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub allow_plain_http: bool,
    /// Ask the appointment list one doctor at a time (ドクターコード); none: every
    /// doctor's appointments in one request per day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub physicians: Vec<String>,
}

impl OrcaConfig {
    pub fn new(base_url: &str, username: &str) -> OrcaConfig {
        OrcaConfig {
            base_url: base_url.trim().to_owned(),
            username: username.trim().to_owned(),
            timeout_secs: default_timeout_secs(),
            allow_plain_http: false,
            physicians: Vec::new(),
        }
    }

    pub fn url(&self) -> std::result::Result<reqwest::Url, crate::source::SourceError> {
        checked_url("the ORCA API URL", &self.base_url, self.allow_plain_http)
    }

    /// This server's key (`orca:<base URL>`).
    pub fn upstream_key(&self) -> std::result::Result<String, crate::source::SourceError> {
        Ok(crate::source::orca::OrcaSource::key(self.url()?.as_str()))
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// How long personal data stays on the desk. A purge never touches a change still waiting
/// to reach the upstream, nor anything it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Mirror rows of days before today are kept this many days (1: from yesterday on).
    #[serde(default = "default_mirror_days_back")]
    pub mirror_days_back: u32,
    /// Outages (with their calls, check-ins and checklist) and drills are kept this many
    /// days after they ended and everything of them reached the upstream.
    #[serde(default = "default_keep_days")]
    pub incidents_days: u32,
    /// Receipts are kept this many days after they (and their void) reached the upstream.
    #[serde(default = "default_keep_days")]
    pub receipts_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            mirror_days_back: default_mirror_days_back(),
            incidents_days: default_keep_days(),
            receipts_days: default_keep_days(),
        }
    }
}

fn default_keep_days() -> u32 {
    90
}

fn default_mirror_days_back() -> u32 {
    1
}

fn default_days_ahead() -> u32 {
    2
}

fn default_time_zone() -> String {
    "Asia/Tokyo".to_owned()
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This install's id: names its keychain entry and, later, its receipts.
    pub device_id: String,
    /// Shown on screens and printouts; the demo source brings its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic_name: Option<String>,
    /// IANA name; decides what "today" means.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    pub language: Language,
    /// Start Tsunagi at login.
    #[serde(default = "default_true")]
    pub autostart: bool,
    #[serde(default)]
    pub source: SourceConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub monitor: crate::monitor::MonitorConfig,
    /// The outage checklist's steps, in order; empty: the built-in ones in the desk's
    /// language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<String>,
    /// What staff say on the phone during an outage; `{clinic}`, `{name}`, `{time}` and
    /// `{date}` are filled in per patient. None: the built-in script in the desk's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_script: Option<String>,
    #[serde(default)]
    pub printouts: PrintoutConfig,
    /// How web booking is stopped and reopened at the booking service's own site, for a
    /// source Tsunagi cannot stop it through (CSV, the demo, a vendor with no API). Written
    /// by the owner in settings; the outage screen and its checklist open it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_card: Option<BookingCard>,
    /// This desk among the clinic's other desks on the LAN (docs/desks.md).
    #[serde(default)]
    pub peers: PeersConfig,
}

/// How this desk meets the clinic's other desks (issue 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PeersConfig {
    /// The name the other desks show for this one (受付1, 会計). Empty: the computer's name.
    #[serde(default)]
    pub name: String,
    /// The TCP port paired desks connect to (TLS), on every address of this PC.
    #[serde(default = "default_peers_port")]
    pub port: u16,
    /// The TCP port a desk showing a pairing code listens on, only while it shows it.
    #[serde(default = "default_pairing_port")]
    pub pairing_port: u16,
    /// A desk not heard from for this many seconds has its unsent changes sent by another
    /// desk (a takeover), so they reach the clinic's system while it is off.
    #[serde(default = "default_takeover_after")]
    pub takeover_after_secs: u32,
    /// Announce this desk on the LAN and find the paired desks there (mDNS), so a desk whose
    /// address changed is found again. Off: each desk is dialled where it paired from.
    #[serde(default = "default_true")]
    pub discovery: bool,
}

impl Default for PeersConfig {
    fn default() -> Self {
        PeersConfig {
            name: String::new(),
            port: default_peers_port(),
            pairing_port: default_pairing_port(),
            takeover_after_secs: default_takeover_after(),
            discovery: true,
        }
    }
}

fn default_peers_port() -> u16 {
    48620
}

fn default_pairing_port() -> u16 {
    48621
}

fn default_takeover_after() -> u32 {
    120
}

/// The owner's own words for the booking service (issue 17): its name, where its admin
/// page is, and the steps to stop and to reopen web booking there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct BookingCard {
    /// The booking service, e.g. 「EPARKクリニック」.
    pub vendor: String,
    /// Its admin page (http or https), opened in the browser or typed on a phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub admin_url: Option<String>,
    /// The steps to stop web booking there, one per line.
    #[serde(default)]
    pub stop_steps: String,
    /// The steps to reopen it.
    #[serde(default)]
    pub reopen_steps: String,
}

/// Longest a card's text field may be (characters).
pub const BOOKING_CARD_MAX: usize = 2000;

impl BookingCard {
    /// Trimmed and checked; `None` when every field is empty (the card is removed).
    pub fn checked(self) -> std::result::Result<Option<BookingCard>, String> {
        let card = BookingCard {
            vendor: self.vendor.trim().to_owned(),
            admin_url: self
                .admin_url
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty()),
            stop_steps: self.stop_steps.trim().to_owned(),
            reopen_steps: self.reopen_steps.trim().to_owned(),
        };
        if card == BookingCard::default() {
            return Ok(None);
        }
        if [&card.vendor, &card.stop_steps, &card.reopen_steps]
            .iter()
            .any(|t| t.chars().count() > BOOKING_CARD_MAX)
        {
            return Err(format!("longer than {BOOKING_CARD_MAX} characters"));
        }
        if let Some(url) = &card.admin_url {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(format!("{url:?} is not a web address (https://…)"));
            }
        }
        Ok(Some(card))
    }
}

/// Where paper copies go: the downtime sheet (on a schedule) and the receipts CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintoutConfig {
    /// None: `printouts` inside the data folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
    /// Clinic-clock times (`HH:MM`) the downtime sheet is written each day.
    #[serde(default = "default_sheet_times")]
    pub sheet_times: Vec<String>,
    /// Sheets older than this many days are removed from the folder (they hold names and
    /// phone numbers in plain text).
    #[serde(default = "default_sheet_keep_days")]
    pub keep_days: u32,
}

impl Default for PrintoutConfig {
    fn default() -> Self {
        PrintoutConfig {
            folder: None,
            sheet_times: default_sheet_times(),
            keep_days: default_sheet_keep_days(),
        }
    }
}

impl PrintoutConfig {
    /// The sheet times, in order of the day.
    pub fn times(&self) -> std::result::Result<Vec<chrono::NaiveTime>, String> {
        let mut times = self
            .sheet_times
            .iter()
            .map(|t| {
                chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M")
                    .map_err(|_| format!("printouts.sheet_times has {t:?}, not like 07:30"))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        times.sort();
        times.dedup();
        Ok(times)
    }
}

fn default_sheet_times() -> Vec<String> {
    vec!["07:30".to_owned(), "12:30".to_owned()]
}

fn default_sheet_keep_days() -> u32 {
    7
}

pub const MAX_DAYS_AHEAD: u32 = 14;

impl Config {
    pub fn first_start(locale: Option<&str>) -> Config {
        Config {
            device_id: uuid::Uuid::new_v4().simple().to_string(),
            clinic_name: None,
            time_zone: default_time_zone(),
            language: Language::from_locale(locale),
            autostart: true,
            source: SourceConfig::default(),
            retention: RetentionConfig::default(),
            monitor: Default::default(),
            checklist: Vec::new(),
            call_script: None,
            printouts: PrintoutConfig::default(),
            booking_card: None,
            peers: PeersConfig::default(),
        }
    }

    /// The clinic's name for screens and paper: the configured one, or the demo clinic's.
    pub fn shown_clinic_name(&self) -> Option<String> {
        self.clinic_name.clone().or_else(|| {
            (self.source.kind == SourceKind::Demo)
                .then(|| crate::source::demo::CLINIC_NAME.to_owned())
        })
    }

    pub fn calendar(&self) -> ClinicCalendar {
        // Validated on load; a config built in code with a bad zone is a programming error
        // that we still answer with the documented default rather than a panic.
        ClinicCalendar::parse(&self.time_zone)
            .unwrap_or_else(|_| ClinicCalendar::new(chrono_tz::Asia::Tokyo))
    }

    /// `Ok(None)` when there is no config file yet.
    pub fn load(path: &Path) -> Result<Option<Config>> {
        let Some(text) = read_if_present(path)? else {
            return Ok(None);
        };
        Config::parse(&text, path).map(Some)
    }

    /// The config a file's text holds, checked (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
        config.check(path)?;
        Ok(config)
    }

    /// Where changes of this config go and come from: the upstream's key (`demo`, `csv`,
    /// `fhir:<base URL>`), the same the mirror rows and the outbox carry.
    pub fn upstream_key(&self) -> Result<String> {
        Ok(match self.source.kind {
            SourceKind::Demo => crate::source::demo::SOURCE_KEY.to_owned(),
            SourceKind::Csv => crate::csv_import::SOURCE_KEY.to_owned(),
            SourceKind::Fhir => {
                let fhir = self.source.fhir.as_ref().ok_or_else(|| {
                    crate::source::SourceError::NotConfigured(
                        "no FHIR base URL in the config".to_owned(),
                    )
                })?;
                fhir.upstream_key()?
            }
            SourceKind::Orca => {
                let orca = self.source.orca.as_ref().ok_or_else(|| {
                    crate::source::SourceError::NotConfigured(
                        "no ORCA API URL in the config".to_owned(),
                    )
                })?;
                orca.upstream_key()?
            }
        })
    }

    /// Load, or complete a file the IT helper wrote before the first start (e.g. only
    /// `[source]` and `[monitor]`): a missing `device_id` is generated and a missing
    /// `language` follows the OS, and the completed file is saved. `Ok(None)`: no file.
    /// Only before the first start: with a database beside it, a config without its
    /// `device_id` has lost the name of the database's key, and that is an error.
    pub fn load_or_complete(
        path: &Path,
        locale: Option<&str>,
        first_start: bool,
    ) -> Result<Option<Config>> {
        if !first_start {
            return Config::load(path);
        }
        let Some(text) = read_if_present(path)? else {
            return Ok(None);
        };
        let mut table: toml::Table =
            toml::from_str(&text).map_err(|e| invalid(path, e.to_string()))?;
        let fresh = Config::first_start(locale);
        let mut completed = false;
        if !table.contains_key("device_id") {
            table.insert("device_id".into(), fresh.device_id.clone().into());
            completed = true;
        }
        if !table.contains_key("language") {
            table.insert("language".into(), fresh.language.code().into());
            completed = true;
        }
        let config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| invalid(path, e.to_string()))?;
        config.check(path)?;
        if completed {
            config.save(path)?;
        }
        Ok(Some(config))
    }

    fn check(&self, path: &Path) -> Result<()> {
        let config = self;
        let invalid = |reason: String| invalid(path, reason);
        ClinicCalendar::parse(&config.time_zone)
            .map_err(|_| invalid(format!("unknown time_zone {:?}", config.time_zone)))?;
        if config.source.days_ahead > MAX_DAYS_AHEAD {
            return Err(invalid(format!(
                "source.days_ahead is {}, at most {MAX_DAYS_AHEAD}",
                config.source.days_ahead
            )));
        }
        if let Some(fhir) = &config.source.fhir {
            fhir.url().map_err(|e| invalid(e.to_string()))?;
        }
        if config.source.kind == SourceKind::Fhir && config.source.fhir.is_none() {
            return Err(invalid(
                "source.kind is fhir but [source.fhir] is missing".to_owned(),
            ));
        }
        config.monitor.validate().map_err(invalid)?;
        config.printouts.times().map_err(invalid)?;
        if config.device_id.trim().is_empty() {
            return Err(invalid("device_id is empty".to_owned()));
        }
        Ok(())
    }

    /// Write atomically (temp file + rename) so a crash never leaves half a config; returns
    /// the text written.
    pub fn save(&self, path: &Path) -> Result<String> {
        let body = toml::to_string_pretty(self).map_err(|e| CoreError::ConfigInvalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let text = format!(
            "# Tsunagi settings (no secrets here: keys and passwords live in the OS keychain).\n\
             # device_id names this install's keychain entry: do not change it.\n\n{body}"
        );
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, &text).map_err(|e| CoreError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| CoreError::io(path, e))?;
        Ok(text)
    }
}

fn read_if_present(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CoreError::io(path, e)),
    }
}

fn invalid(path: &Path, reason: String) -> CoreError {
    CoreError::ConfigInvalid {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_follows_an_english_os_and_defaults_to_japanese() {
        assert_eq!(Language::from_locale(Some("en-US")), Language::En);
        assert_eq!(Language::from_locale(Some("ja-JP")), Language::Ja);
        assert_eq!(Language::from_locale(Some("fr-FR")), Language::Ja);
        assert_eq!(Language::from_locale(None), Language::Ja);
    }

    #[test]
    fn config_round_trips_and_rejects_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).unwrap(), None);

        let mut c = Config::first_start(Some("ja_JP.UTF-8"));
        c.clinic_name = Some("さくら内科".into());
        c.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), Some(c));

        std::fs::write(
            &path,
            "device_id = \"x\"\nlanguage = \"ja\"\ntime_zone = \"Mars/Base\"\n",
        )
        .unwrap();
        let err = Config::load(&path).unwrap_err();
        assert_eq!(err.code(), "config.invalid");
        assert!(err.to_string().contains("Mars/Base"), "{err}");

        std::fs::write(
            &path,
            "device_id = \"x\"\nlanguage = \"ja\"\ncolour = \"red\"\n",
        )
        .unwrap();
        assert_eq!(Config::load(&path).unwrap_err().code(), "config.invalid");
    }

    #[test]
    fn a_config_seeded_before_the_first_start_is_completed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[monitor]\ndns_name = \"probe.test\"\n").unwrap();
        let c = Config::load_or_complete(&path, Some("en-US"), true)
            .unwrap()
            .unwrap();
        assert_eq!(c.language, Language::En, "follows the OS");
        assert!(!c.device_id.is_empty());
        assert_eq!(c.monitor.dns_name, "probe.test", "the seeded part is kept");
        assert_eq!(Config::load(&path).unwrap(), Some(c), "and saved");

        // With a database already there, a missing device_id is an error, not a new id.
        std::fs::write(&path, "language = \"ja\"\n").unwrap();
        let err = Config::load_or_complete(&path, None, false).unwrap_err();
        assert_eq!(err.code(), "config.invalid");
    }

    #[test]
    fn a_minimal_hand_written_config_gets_the_documented_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "device_id = \"abc\"\nlanguage = \"en\"\n").unwrap();
        let c = Config::load(&path).unwrap().unwrap();
        assert_eq!(c.time_zone, "Asia/Tokyo");
        assert!(c.autostart);
        assert_eq!(c.source, SourceConfig::default());
        assert_eq!(c.source.days_ahead, 2);
    }
}
