//! Tsunagi's product logic, with no desktop dependency: the encrypted mirror, its sources,
//! the clinic calendar, and the operations the desktop shell and the CLI both call.

pub mod audit;
pub mod booking;
pub mod calendar;
pub mod calls;
pub mod checklist;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crash;
pub mod csv_import;
pub mod desk;
pub mod error;
pub mod error_code;
pub mod folder_watch;
pub mod keychain;
mod lockfile;
pub mod logging;
pub mod model;
pub mod monitor;
pub mod navigation;
pub mod outbox;
pub mod peers;
pub mod phone;
pub mod printout;
pub mod puller;
pub mod receipts;
pub mod report;
pub mod runtime;
pub mod source;
pub mod store;
pub mod view;

pub use desk::{
    CsvColumns, Desk, DeskOptions, ImportReport, ImportResult, SettingsChange, SourceSetup,
};
pub use error::{CoreError, ErrorCode, ErrorPayload, Result};
