//! Typed errors of the core. Every error has a stable `code` the UI and scripts branch on
//! (`store.key_missing`, …) and an English message for logs and the CLI. Messages never
//! carry personal data: they name files, settings and counts, never patients or phones.

use serde::Serialize;
use std::path::PathBuf;
use ts_rs::TS;

pub use crate::error_code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(
        "the database {path} exists but its key is not in the OS keychain; \
         the file was left untouched"
    )]
    KeyMissing { path: PathBuf },

    #[error(
        "the database {path} cannot be decrypted: the key from the OS keychain does not \
         match or the file is damaged; the file was left untouched"
    )]
    NotDecryptable { path: PathBuf },

    #[error("the database {path} is locked by another program; try again in a moment")]
    Locked { path: PathBuf },

    #[error(
        "the database {path} was written by a newer Tsunagi (schema {found}, this build \
         knows {known}); update Tsunagi"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error(
        "the data directory {dir} holds a database but no config.toml; \
         restore the config file (it names the keychain entry) instead of starting over"
    )]
    ConfigMissing { dir: PathBuf },

    #[error("the config file {path} is invalid: {reason}")]
    ConfigInvalid { path: PathBuf, reason: String },

    #[error("the OS keychain is not available: {reason}")]
    KeychainUnavailable { reason: String },

    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),

    #[error(transparent)]
    Source(#[from] crate::source::SourceError),

    #[error(transparent)]
    Import(#[from] crate::csv_import::ImportError),

    #[error(transparent)]
    Receipt(#[from] crate::store::ReceiptError),

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error(transparent)]
    Call(#[from] crate::calls::CallError),

    #[error(transparent)]
    Booking(#[from] crate::booking::BookingError),

    #[error(transparent)]
    Outbox(#[from] crate::outbox::change::ChangeError),

    #[error(transparent)]
    Peer(#[from] crate::peers::PeerError),

    #[error(
        "{count} change(s) made against {upstream} are still waiting to be sent; they keep \
         waiting for it after the switch (confirm to switch anyway)"
    )]
    ChangesWaiting { count: u32, upstream: String },

    #[error(
        "a change reached the clinic's system while this refresh was on its way; the refresh \
         was not written (the next one brings both)"
    )]
    Superseded,

    #[error("{what} is already running for this data folder ({path})")]
    AlreadyRunning { what: String, path: PathBuf },

    #[error("the background task stopped")]
    Stopped,
}

impl CoreError {
    /// A stable identifier the UI translates and scripts branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::KeyMissing { .. } => ErrorCode::StoreKeyMissing,
            CoreError::NotDecryptable { .. } => ErrorCode::StoreNotDecryptable,
            CoreError::Locked { .. } => ErrorCode::StoreLocked,
            CoreError::SchemaTooNew { .. } => ErrorCode::StoreSchemaTooNew,
            CoreError::ConfigMissing { .. } => ErrorCode::ConfigMissing,
            CoreError::ConfigInvalid { .. } => ErrorCode::ConfigInvalid,
            CoreError::KeychainUnavailable { .. } => ErrorCode::KeychainUnavailable,
            CoreError::Io { .. } => ErrorCode::Io,
            CoreError::Database(_) => ErrorCode::StoreDatabase,
            CoreError::Source(e) => e.code(),
            CoreError::Import(crate::csv_import::ImportError::Unusable(_)) => {
                ErrorCode::ImportUnusable
            }
            CoreError::Import(crate::csv_import::ImportError::Rows(_)) => ErrorCode::ImportRows,
            CoreError::Receipt(e) => e.code(),
            CoreError::InvalidInput(_) => ErrorCode::InputInvalid,
            CoreError::Call(e) => e.code(),
            CoreError::Booking(e) => e.code(),
            CoreError::Outbox(_) => ErrorCode::OutboxUnreadable,
            CoreError::Peer(e) => e.code(),
            CoreError::ChangesWaiting { .. } => ErrorCode::SourceChangesWaiting,
            CoreError::Superseded => ErrorCode::SourceSuperseded,
            CoreError::AlreadyRunning { .. } => ErrorCode::StoreAlreadyRunning,
            CoreError::Stopped => ErrorCode::InternalStopped,
        }
    }

    /// Whether trying the same thing again later can succeed without anyone changing
    /// anything (a busy database, a flaky upstream), as opposed to needing a person.
    pub fn is_retryable(&self) -> bool {
        match self {
            CoreError::Locked { .. } | CoreError::Superseded => true,
            CoreError::Source(e) => e.is_retryable(),
            _ => false,
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload::new(self.code(), self.to_string())
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// What an error looks like on the wire to the UI: `{ code, message }`. The code is one of
/// [`ErrorCode`]'s, or one an older build stored (a log read back keeps what it says).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
pub struct ErrorPayload {
    #[ts(type = "ErrorCode | (string & {})")]
    pub code: String,
    pub message: String,
}

impl ErrorPayload {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorPayload {
            code: code.as_str().to_owned(),
            message: message.into(),
        }
    }
}

impl From<CoreError> for ErrorPayload {
    fn from(e: CoreError) -> Self {
        e.payload()
    }
}
