//! Where appointments come from. Each upstream kind implements `Source`; `AnySource` picks
//! one from the config (static dispatch: the set of kinds is ours and small).

pub mod demo;

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::{ClinicCalendar, UtcRange};
use crate::config::Config;
use crate::error::Result;
use crate::model::{MirrorSnapshot, SourceKind};

/// One pull: the clinic days to mirror.
#[derive(Debug, Clone, Copy)]
pub struct PullRequest {
    pub calendar: ClinicCalendar,
    pub first_day: NaiveDate,
    pub days: u32,
    pub now: DateTime<Utc>,
}

impl PullRequest {
    /// Today and `days_ahead` more, at the clinic.
    pub fn for_config(config: &Config, now: DateTime<Utc>) -> PullRequest {
        let calendar = config.calendar();
        PullRequest {
            calendar,
            first_day: calendar.today(now),
            days: config.source.days_ahead + 1,
            now,
        }
    }

    pub fn window(&self) -> UtcRange {
        self.calendar.days(self.first_day, self.days)
    }
}

pub trait Source {
    fn kind(&self) -> SourceKind;

    /// Everything the upstream has for the request's window, complete or an error: the
    /// mirror is replaced only by a whole answer.
    fn fetch(&self, request: &PullRequest) -> impl Future<Output = Result<MirrorSnapshot>> + Send;
}

#[derive(Debug, Clone)]
pub enum AnySource {
    Demo(demo::DemoSource),
}

impl AnySource {
    pub fn for_config(config: &Config) -> AnySource {
        match config.source.kind {
            SourceKind::Demo => AnySource::Demo(demo::DemoSource),
        }
    }
}

impl Source for AnySource {
    fn kind(&self) -> SourceKind {
        match self {
            AnySource::Demo(s) => s.kind(),
        }
    }

    async fn fetch(&self, request: &PullRequest) -> Result<MirrorSnapshot> {
        match self {
            AnySource::Demo(s) => s.fetch(request).await,
        }
    }
}
