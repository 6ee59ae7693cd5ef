//! The monitor: is the line up, and if not, what failed?
//!
//! Probes of independent things run concurrently (`probe`), a pure state machine with
//! hysteresis turns their rounds into online / degraded / offline with a cause (`machine`),
//! OS link events trigger an immediate round (`link`), and an owned task ties them together
//! and records every transition as part of an incident (`runner`).

pub mod advice;
mod config;
pub mod link;
mod machine;
pub mod metered;
pub(crate) mod probe;
mod runner;
pub mod signals;

pub use config::{Endpoint, MonitorConfig};
pub use machine::{Machine, Thresholds};
pub use probe::Prober;
pub use runner::{Monitor, MonitorEvent, MonitorOptions, MonitorStatus, RecoveryHook};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum NetState {
    Online,
    Degraded,
    Offline,
}

impl NetState {
    pub fn as_str(self) -> &'static str {
        match self {
            NetState::Online => "online",
            NetState::Degraded => "degraded",
            NetState::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<NetState> {
        [NetState::Online, NetState::Degraded, NetState::Offline]
            .into_iter()
            .find(|n| n.as_str() == s)
    }

    fn severity(self) -> u8 {
        match self {
            NetState::Online => 0,
            NetState::Degraded => 1,
            NetState::Offline => 2,
        }
    }
}

/// What failed, from the desk outwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No network adapter with a connection (cable out, Wi-Fi off).
    LocalLink,
    /// The adapter is up but the router (default gateway) does not answer.
    Gateway,
    /// The router answers but nothing beyond it does (the line or the provider).
    Internet,
    /// Names cannot be resolved.
    Dns,
    /// The internet works but the clinic's system does not answer properly.
    Upstream,
    /// Something answers in the internet's place (a login page, a filtering proxy).
    Captive,
    /// The line works but loses many packets.
    Loss,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::LocalLink => "local_link",
            Cause::Gateway => "gateway",
            Cause::Internet => "internet",
            Cause::Dns => "dns",
            Cause::Upstream => "upstream",
            Cause::Captive => "captive",
            Cause::Loss => "loss",
        }
    }

    pub fn parse(s: &str) -> Option<Cause> {
        [
            Cause::LocalLink,
            Cause::Gateway,
            Cause::Internet,
            Cause::Dns,
            Cause::Upstream,
            Cause::Captive,
            Cause::Loss,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// A network adapter that is up, connected and has an address.
    Link,
    /// The default gateway, by TCP.
    Gateway,
    /// A name resolved through DNS.
    Dns,
    /// A connectivity endpoint with a known body.
    Endpoint,
    /// The clinic's own system (FHIR `/metadata`).
    Upstream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// No answer in time.
    Timeout,
    /// The other side refused the connection.
    Refused,
    /// No route to it (the adapter or the network is down).
    Unreachable,
    /// Its name could not be resolved.
    NameNotResolved,
    /// Something answered, but not what that target answers (login page, proxy).
    WrongContent,
    /// An HTTP error status.
    Status,
    /// The TLS handshake failed (a certificate that does not match, interception).
    Tls,
    /// No usable network adapter.
    NoLink,
    Other,
}

/// One probe's answer. `target` names a host or URL from the config, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProbeResult {
    pub kind: ProbeKind,
    pub target: String,
    pub ok: bool,
    pub failure: Option<Failure>,
    /// The HTTP status, when one came back.
    pub status: Option<u16>,
    pub millis: u32,
}

impl ProbeResult {
    pub fn ok(kind: ProbeKind, target: impl Into<String>, millis: u32) -> ProbeResult {
        ProbeResult {
            kind,
            target: target.into(),
            ok: true,
            failure: None,
            status: None,
            millis,
        }
    }

    pub fn failed(
        kind: ProbeKind,
        target: impl Into<String>,
        failure: Failure,
        millis: u32,
    ) -> ProbeResult {
        ProbeResult {
            kind,
            target: target.into(),
            ok: false,
            failure: Some(failure),
            status: None,
            millis,
        }
    }
}

/// The probes of one round, all started at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub at: DateTime<Utc>,
    pub results: Vec<ProbeResult>,
}

/// The state changed (or, while not online, its cause did).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Transition {
    /// When the change was declared (RFC 3339, UTC).
    pub at: String,
    /// When the first round pointing to it was seen: an outage started then.
    pub since: String,
    pub from: NetState,
    pub state: NetState,
    pub cause: Option<Cause>,
    pub probes: Vec<ProbeResult>,
}

/// The route out: which gateway and which local address the OS uses toward the internet.
/// When it differs after an outage, the desk is on another (backup) line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NetPath {
    pub gateway: Option<String>,
    pub local_address: Option<String>,
}

pub(crate) fn millis_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
