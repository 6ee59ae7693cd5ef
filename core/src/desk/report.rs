//! Reports of outages and drills, the paper versions of receipts and reports, the
//! downtime sheet on its schedule, and the receipts CSV for billing back-entry.

use std::path::PathBuf;

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::booking::{closed_by_pause, freed_by_resume};
use crate::calendar::ClinicCalendar;
use crate::config::Language;
use crate::error::{CoreError, Result};
use crate::monitor::{advice::advice, NetState};
use crate::printout::{self, PrintRequest, Printout};
use crate::receipts::ReceiptKind;
use crate::report::{
    IncidentReport, ReportBooking, ReportCall, ReportKind, ReportList, ReportSummary,
};
use crate::store::{DrillRow, IncidentRow, ReceiptError, ReportScope, ScopeCounts};

/// How many outages and drills the reports list shows.
const RECENT: u32 = 30;
const SHEET_PREFIX: &str = "downtime-";

fn scope(kind: ReportKind, id: i64) -> ReportScope {
    match kind {
        ReportKind::Outage => ReportScope::Incident(id),
        ReportKind::Drill => ReportScope::Drill(id),
    }
}

struct Span {
    kind: ReportKind,
    id: i64,
    started: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
    cause: Option<crate::monitor::Cause>,
    drill_ended_by: Option<crate::report::DrillEnd>,
}

impl Span {
    fn outage(i: &IncidentRow) -> Span {
        Span {
            kind: ReportKind::Outage,
            id: i.id,
            started: i.started_at,
            ended: i.ended_at,
            cause: i.cause,
            drill_ended_by: None,
        }
    }

    fn drill(d: &DrillRow) -> Span {
        Span {
            kind: ReportKind::Drill,
            id: d.id,
            started: d.started_at,
            ended: d.ended_at,
            cause: None,
            drill_ended_by: d.ended_by,
        }
    }
}

fn summary(
    span: &Span,
    counts: ScopeCounts,
    cal: &ClinicCalendar,
    language: Language,
) -> ReportSummary {
    let started = cal.local(span.started);
    // The end without its date when it is the start's day.
    let ended_label = span.ended.map(|t| {
        let t = cal.local(t);
        let format = if t.date_naive() == started.date_naive() {
            "%H:%M"
        } else {
            "%Y-%m-%d %H:%M"
        };
        t.format(format).to_string()
    });
    ReportSummary {
        kind: span.kind,
        id: span.id,
        started_label: started.format("%Y-%m-%d %H:%M").to_string(),
        ended_label,
        minutes: span
            .ended
            .map(|e| (e - span.started).num_minutes().max(0) as u32),
        cause: span.cause,
        cause_text: span
            .cause
            .map(|c| advice(NetState::Offline, Some(c), language).headline)
            .or_else(|| span.drill_ended_by.map(|d| d.text(language).to_owned())),
        calls: counts.calls,
        receipts: counts.receipts,
        voids: counts.voids,
        drill_ended_by: span.drill_ended_by,
    }
}

impl Desk {
    /// The latest outages and drills, newest first.
    pub async fn reports(&self) -> Result<ReportList> {
        let config = self.config();
        let cal = config.calendar();
        let store = self.store.clone();
        let spans = blocking(move || {
            let mut spans: Vec<(Span, ScopeCounts)> = Vec::new();
            for i in store.recent_incidents(RECENT)? {
                spans.push((
                    Span::outage(&i),
                    store.scope_counts(ReportScope::Incident(i.id))?,
                ));
            }
            for d in store.recent_drills(RECENT)? {
                spans.push((
                    Span::drill(&d),
                    store.scope_counts(ReportScope::Drill(d.id))?,
                ));
            }
            spans.sort_by_key(|s| std::cmp::Reverse(s.0.started));
            Ok(spans)
        })
        .await?;
        Ok(ReportList {
            reports: spans
                .iter()
                .map(|(s, c)| summary(s, *c, &cal, config.language))
                .collect(),
        })
    }

    /// One outage's or drill's report: when, why, the checklist, every call and receipt.
    pub async fn report(&self, kind: ReportKind, id: i64) -> Result<IncidentReport> {
        let report = self.build_report(kind, id).await?;
        self.audit(
            Actor::Person(None),
            AuditAction::ReportView,
            vec![report_record(kind, id)],
            serde_json::json!({}),
        )
        .await;
        Ok(report)
    }

    async fn build_report(&self, kind: ReportKind, id: i64) -> Result<IncidentReport> {
        let config = self.config();
        let cal = config.calendar();
        let store = self.store.clone();
        let sc = scope(kind, id);
        let (span, counts, attempts, mut receipts, ticks, (booking, by_hand)) =
            blocking(move || {
                let span = match kind {
                    ReportKind::Outage => store.incident(id)?.as_ref().map(Span::outage),
                    ReportKind::Drill => store.drill(id)?.as_ref().map(Span::drill),
                }
                .ok_or_else(|| CoreError::InvalidInput(format!("there is no {kind:?} {id}")))?;
                // A drill never stops real web booking.
                let (booking, by_hand) = match kind {
                    ReportKind::Outage => (
                        store.booking_of_incident(id)?,
                        store.booking_by_hand_of_incident(id)?,
                    ),
                    ReportKind::Drill => (Vec::new(), Vec::new()),
                };
                Ok((
                    span,
                    store.scope_counts(sc)?,
                    store.report_attempts(sc)?,
                    store.report_receipts(sc)?,
                    store.report_ticks(sc)?,
                    (booking, by_hand),
                ))
            })
            .await?;
        for r in &mut receipts {
            super::receipts::clinic_time(&cal, r);
        }
        let checklist = super::checklist::items(self.checklist_steps(), &ticks, &cal, true);
        let day_label = |t: DateTime<Utc>| cal.day_and_time(t);
        Ok(IncidentReport {
            summary: summary(&span, counts, &cal, config.language),
            clinic_name: config.shown_clinic_name(),
            checklist_done: checklist.iter().filter(|i| i.done).count() as u32,
            checklist,
            booking: booking
                .into_iter()
                .map(|(op, slots)| {
                    let stopped = op.pause().is_some();
                    ReportBooking {
                        stopped,
                        by_hand: false,
                        at_label: day_label(op.created_at),
                        staff: op.staff().map(str::to_owned),
                        done_label: op.done_at.map(day_label),
                        slots: if stopped {
                            closed_by_pause(&slots)
                        } else {
                            freed_by_resume(&slots)
                        },
                    }
                })
                .chain(by_hand.iter().flat_map(|h| {
                    let row =
                        |stopped: bool, at: DateTime<Utc>, staff: &Option<String>| ReportBooking {
                            stopped,
                            by_hand: true,
                            at_label: day_label(at),
                            staff: staff.clone(),
                            done_label: Some(day_label(at)),
                            slots: 0,
                        };
                    std::iter::once(row(true, h.stopped_at, &h.stopped_by))
                        .chain(h.reopened_at.map(|at| row(false, at, &h.reopened_by)))
                }))
                .collect(),
            calls: attempts
                .into_iter()
                .map(|a| ReportCall {
                    at_label: cal.local(a.attempt.at).format("%H:%M").to_string(),
                    appointment_id: a.attempt.appointment_id,
                    patient_name: a.patient_name,
                    appointment_label: a.appointment_start.map(day_label),
                    outcome: a.attempt.outcome,
                    // A new date can be months ahead: with its year (a report is kept).
                    new_start_label: a
                        .attempt
                        .new_start
                        .map(|t| cal.local(t).format("%Y-%m-%d %H:%M").to_string()),
                    staff: a.attempt.staff,
                    note: a.attempt.note,
                    desk: a.desk,
                })
                .collect(),
            totals: crate::receipts::totals(receipts.iter()),
            receipts,
        })
    }

    /// The page a print view asked for.
    pub async fn printout(&self, request: PrintRequest) -> Result<Printout> {
        let (page, record) = match request {
            PrintRequest::Report { report, id } => (
                self.report_printout(report, id).await?,
                report_record(report, id),
            ),
            PrintRequest::Receipt { number } => (
                self.receipt_printout(&number).await?,
                format!("receipt:{}", number.trim()),
            ),
            PrintRequest::DowntimeSheet => (self.downtime_sheet().await?, "sheet:today".to_owned()),
        };
        self.audit(
            Actor::Person(None),
            AuditAction::PrintoutView,
            vec![record],
            serde_json::json!({}),
        )
        .await;
        Ok(page)
    }

    pub async fn report_printout(&self, kind: ReportKind, id: i64) -> Result<Printout> {
        let report = self.build_report(kind, id).await?;
        Ok(printout::report(&report, self.config().language))
    }

    /// The 仮領収書 of one payment.
    pub async fn receipt_printout(&self, number: &str) -> Result<Printout> {
        let number = number.trim().to_owned();
        let store = self.store.clone();
        let found = number.clone();
        let mut receipt = blocking(move || store.receipt(&found))
            .await?
            .ok_or(CoreError::Receipt(ReceiptError::NotFound(number)))?;
        if receipt.kind == ReceiptKind::Void {
            return Err(CoreError::InvalidInput(
                "a void has no receipt of its own; print the receipt it voids".to_owned(),
            ));
        }
        let config = self.config();
        super::receipts::clinic_time(&config.calendar(), &mut receipt);
        Ok(printout::receipt(
            &receipt,
            config.shown_clinic_name().as_deref(),
            config.language,
        ))
    }

    /// Where sheets and exports are written.
    pub fn printouts_folder(&self) -> PathBuf {
        self.config()
            .printouts
            .folder
            .unwrap_or_else(|| self.data_dir.root().join("printouts"))
    }

    /// The printouts folder, made if missing (file I/O: on the blocking pool).
    async fn ensure_printouts_folder(&self) -> Result<PathBuf> {
        let folder = self.printouts_folder();
        blocking(move || ensure_private_folder(folder)).await
    }

    /// The printable page of today's schedule with phones.
    pub async fn downtime_sheet(&self) -> Result<Printout> {
        let config = self.config();
        let made = config.calendar().local(self.clock.now());
        let today = self.day_view(None).await?;
        Ok(printout::downtime_sheet(
            &today,
            &made.format("%H:%M").to_string(),
            config.language,
        ))
    }

    /// Write the downtime sheet now (`downtime-YYYY-MM-DD-HHMM.html`); returns its path.
    pub async fn write_downtime_sheet(&self) -> Result<PathBuf> {
        let now = self.config().calendar().local(self.clock.now());
        self.write_sheet_named(
            &now.format("%Y-%m-%d-%H%M").to_string(),
            Actor::Person(None),
        )
        .await
    }

    async fn write_sheet_named(&self, stamp: &str, actor: Actor<'_>) -> Result<PathBuf> {
        let page = self.downtime_sheet().await?;
        let config = self.config();
        let folder = self.ensure_printouts_folder().await?;
        let path = folder.join(format!("{SHEET_PREFIX}{stamp}.html"));
        let tmp = path.with_extension("html.tmp");
        let entry = self.audit_entry(
            actor,
            AuditAction::SheetWrite,
            vec![format!("sheet:{stamp}")],
            serde_json::json!({}),
        );
        let document = printout::document(&page, config.language);
        let store = self.store.clone();
        let written = path.clone();
        blocking(move || {
            store.audited(&entry, || {
                std::fs::write(&tmp, document).map_err(|e| CoreError::io(&tmp, e))?;
                std::fs::rename(&tmp, &written).map_err(|e| CoreError::io(&written, e))
            })
        })
        .await?;
        let today = config.calendar().today(self.clock.now());
        prune_sheets(&folder, today, config.printouts.keep_days);
        tracing::info!("downtime sheet written");
        Ok(path)
    }

    /// Write the sheet of the latest scheduled time today if it is not there yet (a PC
    /// switched on after 07:30 still gets its sheet). Called each minute by the app.
    pub async fn write_sheet_if_due(&self) -> Result<Option<PathBuf>> {
        let config = self.config();
        let cal = config.calendar();
        let now = cal.local(self.clock.now());
        let times = config
            .printouts
            .times()
            .map_err(|reason| CoreError::ConfigInvalid {
                path: self.data_dir.config(),
                reason,
            })?;
        let Some(slot) = times.into_iter().rev().find(|t| *t <= now.time()) else {
            return Ok(None);
        };
        let stamp = format!("{}-{}", now.format("%Y-%m-%d"), slot.format("%H%M"));
        if self
            .printouts_folder()
            .join(format!("{SHEET_PREFIX}{stamp}.html"))
            .exists()
        {
            return Ok(None);
        }
        self.write_sheet_named(&stamp, Actor::Schedule)
            .await
            .map(Some)
    }

    /// Every receipt as CSV in the printouts folder, for entering into the billing system.
    pub async fn export_receipts(&self) -> Result<PathBuf> {
        let (rows, entry) = self.receipts_for_export().await?;
        let bytes = crate::receipts::to_csv(&rows);
        self.write_export_audited("receipts", "csv", bytes, entry)
            .await
    }

    /// Write an explicit export to the printouts folder as `<prefix>-<local time>.<ext>`,
    /// with its audit row: the row commits only once the file is written.
    pub(super) async fn write_export_audited(
        &self,
        prefix: &str,
        ext: &str,
        bytes: Vec<u8>,
        entry: crate::audit::AuditEntry,
    ) -> Result<PathBuf> {
        let now = self.config().calendar().local(self.clock.now());
        let name = format!("{prefix}-{}.{ext}", now.format("%Y-%m-%d-%H%M%S"));
        let (folder, store) = (self.printouts_folder(), self.store.clone());
        blocking(move || {
            let path = ensure_private_folder(folder)?.join(name);
            store.audited(&entry, || {
                std::fs::write(&path, &bytes).map_err(|e| CoreError::io(&path, e))
            })?;
            Ok(path)
        })
        .await
    }
}

/// Make `folder` if missing; on Unix, readable by this user only (names and phone numbers
/// in plain text).
fn ensure_private_folder(folder: PathBuf) -> Result<PathBuf> {
    std::fs::create_dir_all(&folder).map_err(|e| CoreError::io(&folder, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| CoreError::io(&folder, e))?;
    }
    Ok(folder)
}

fn report_record(kind: ReportKind, id: i64) -> String {
    match kind {
        ReportKind::Outage => format!("incident:{id}"),
        ReportKind::Drill => format!("drill:{id}"),
    }
}

/// Remove sheets dated more than `keep_days` before `today`; other files are left alone.
fn prune_sheets(folder: &std::path::Path, today: NaiveDate, keep_days: u32) {
    let Some(oldest) = today.checked_sub_days(Days::new(keep_days.into())) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let date = name
            .strip_prefix(SHEET_PREFIX)
            .and_then(|rest| rest.get(..10))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if date.is_some_and(|d| d < oldest) && name.ends_with(".html") {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!("could not remove an old downtime sheet: {e}");
            }
        }
    }
}
