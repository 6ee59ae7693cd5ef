//! How the CLI prints: plain text for people, JSON lines for scripts.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::AppointmentStatus;
use crate::view::{AppointmentView, MirrorStatus, TodayView};

/// One line of `today --json`.
#[derive(Serialize)]
struct TodayLine<'a> {
    id: &'a str,
    version: Option<&'a str>,
    start: Option<&'a str>,
    end: Option<&'a str>,
    status: AppointmentStatus,
    reason: Option<&'a str>,
    patient_id: Option<&'a str>,
    patient_name: Option<&'a str>,
    patient_kana: Option<&'a str>,
    /// E.164 numbers, in the order to try them.
    phones: Vec<&'a str>,
    /// Every number as written, including any that are not valid numbers.
    phones_display: Vec<&'a str>,
}

impl<'a> TodayLine<'a> {
    fn new(a: &'a AppointmentView) -> Self {
        let patient = a.patient.as_ref();
        let phones = patient.map(|p| p.phones.as_slice()).unwrap_or_default();
        TodayLine {
            id: &a.id,
            version: a.version.as_deref(),
            start: a.start.as_deref(),
            end: a.end.as_deref(),
            status: a.status,
            reason: a.reason.as_deref(),
            patient_id: patient.map(|p| p.id.as_str()),
            patient_name: patient.map(|p| p.name.as_str()),
            patient_kana: patient.and_then(|p| p.kana.as_deref()),
            phones: phones.iter().filter_map(|p| p.e164.as_deref()).collect(),
            phones_display: phones.iter().map(|p| p.display.as_str()).collect(),
        }
    }
}

pub fn json_line(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

pub fn today_json(out: &mut impl Write, view: &TodayView) -> io::Result<()> {
    for a in &view.appointments {
        json_line(out, &TodayLine::new(a))?;
    }
    Ok(())
}

pub fn today_text(out: &mut impl Write, view: &TodayView) -> io::Result<()> {
    let as_of = view.status.synced_at_label.as_deref().unwrap_or("never");
    writeln!(
        out,
        "{}  {} appointments  (data as of {as_of}{})",
        view.date,
        view.appointments.len(),
        if view.status.is_demo { ", demo" } else { "" }
    )?;
    for a in &view.appointments {
        let patient = a.patient.as_ref();
        let name = match patient {
            Some(p) => match &p.kana {
                Some(k) => format!("{} ({k})", p.name),
                None => p.name.clone(),
            },
            None => "-".to_owned(),
        };
        let phones = patient
            .map(|p| {
                p.phones
                    .iter()
                    .map(|ph| ph.display.as_str())
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "-".to_owned());
        writeln!(
            out,
            "{}  {:<16}  {name}  {phones}  {}",
            a.start_time.as_deref().unwrap_or("--:--"),
            a.status.code(),
            a.reason.as_deref().unwrap_or("-"),
        )?;
    }
    Ok(())
}

pub fn pulled(out: &mut impl Write, status: &MirrorStatus) -> io::Result<()> {
    writeln!(
        out,
        "mirror refreshed at {}: {} appointments, {} patients",
        status.synced_at.as_deref().unwrap_or("-"),
        status.appointments,
        status.patients
    )
}

pub fn imported(out: &mut impl Write, report: &crate::desk::ImportReport) -> io::Result<()> {
    writeln!(
        out,
        "imported {} appointments ({} patients) for {}{}",
        report.appointments,
        report.patients,
        report.first_date,
        if report.last_date == report.first_date {
            String::new()
        } else {
            format!(" to {}", report.last_date)
        }
    )?;
    if let Some(name) = &report.mapping {
        writeln!(out, "columns read through the mapping {name:?}")?;
    }
    if report.switched_to_csv {
        writeln!(out, "the source is now csv (it was the demo clinic)")?;
    }
    if report.upstream_replaces_it {
        writeln!(
            out,
            "note: FHIR is still the source; its next successful pull replaces this import"
        )?;
    }
    Ok(())
}

/// Each saved mapping: its name and header, then one line per mapped column.
pub fn mappings(out: &mut impl Write, saved: &[crate::store::SavedMapping]) -> io::Result<()> {
    if saved.is_empty() {
        return writeln!(out, "no column mappings saved");
    }
    for m in saved {
        writeln!(
            out,
            "{} (saved {}): {}",
            m.name,
            m.saved_at.format("%Y-%m-%d %H:%M UTC"),
            m.header.join(",")
        )?;
        for c in &m.mapping.columns {
            writeln!(out, "  {}={}", c.field.code(), c.header)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct StatusLine<'a> {
    #[serde(flatten)]
    status: &'a MirrorStatus,
    data_dir: &'a str,
}

pub fn status_json(out: &mut impl Write, status: &MirrorStatus, data_dir: &str) -> io::Result<()> {
    json_line(out, &StatusLine { status, data_dir })
}

pub fn status_text(out: &mut impl Write, status: &MirrorStatus, data_dir: &str) -> io::Result<()> {
    let source = status.configured_source.code();
    let clinic = status.clinic_name.as_deref().unwrap_or("-");
    let detail = match (&status.upstream, status.is_demo) {
        (Some(url), _) => format!(" {url}"),
        (None, true) => " (demo data)".to_owned(),
        (None, false) => String::new(),
    };
    writeln!(out, "source:     {source}{detail}")?;
    writeln!(out, "clinic:     {clinic}")?;
    writeln!(
        out,
        "synced at:  {}",
        status.synced_at.as_deref().unwrap_or("never")
    )?;
    writeln!(
        out,
        "mirror:     {} appointments, {} patients",
        status.appointments, status.patients
    )?;
    match &status.last_pull {
        Some(p) if p.ok => writeln!(
            out,
            "last pull:  ok at {}{}",
            p.finished_at,
            if p.changed == Some(false) {
                " (nothing new upstream)"
            } else {
                ""
            }
        )?,
        Some(p) => writeln!(
            out,
            "last pull:  failed at {}: {}",
            p.finished_at,
            p.error.as_ref().map(|e| e.message.as_str()).unwrap_or("-")
        )?,
        None => writeln!(out, "last pull:  never")?,
    }
    writeln!(out, "time zone:  {}", status.time_zone)?;
    writeln!(out, "data dir:   {data_dir}")
}

/// One line of `monitor --json`.
#[derive(Serialize)]
struct TransitionLine<'a> {
    at: &'a str,
    state: crate::monitor::NetState,
    cause: Option<crate::monitor::Cause>,
    from: crate::monitor::NetState,
    since: &'a str,
    incident_id: Option<i64>,
    backup_line: bool,
    probes: &'a [crate::monitor::ProbeResult],
}

pub fn transition(
    out: &mut impl Write,
    t: &crate::monitor::Transition,
    incident_id: Option<i64>,
    status: &crate::monitor::MonitorStatus,
    json: bool,
) -> io::Result<()> {
    if json {
        return json_line(
            out,
            &TransitionLine {
                at: &t.at,
                state: t.state,
                cause: t.cause,
                from: t.from,
                since: &t.since,
                incident_id,
                backup_line: status.backup_line,
                probes: &t.probes,
            },
        );
    }
    writeln!(
        out,
        "{}  {:<8} {:<10} since {}{}{}",
        t.at,
        t.state.as_str(),
        t.cause.map(|c| c.as_str()).unwrap_or("-"),
        t.since,
        if status.backup_line {
            "  (backup line)"
        } else {
            ""
        },
        failed_probes(&t.probes)
    )
}

/// `  failed: dns 10.0.0.1, endpoint http://…` for the probes that failed, or nothing.
fn failed_probes(probes: &[crate::monitor::ProbeResult]) -> String {
    let failed: Vec<String> = probes
        .iter()
        .filter(|p| !p.ok)
        .map(|p| format!("{:?} {}", p.kind, p.target).to_lowercase())
        .collect();
    if failed.is_empty() {
        String::new()
    } else {
        format!("  failed: {}", failed.join(", "))
    }
}

/// The first line of `monitor`: where the line stands at start (`"initial": true`).
pub fn initial(
    out: &mut impl Write,
    status: &crate::monitor::MonitorStatus,
    json: bool,
) -> io::Result<()> {
    let at = status.checked_at.as_deref().unwrap_or("-");
    if json {
        return json_line(
            out,
            &serde_json::json!({
                "initial": true,
                "at": at,
                "state": status.state,
                "cause": status.cause,
                "since": status.since,
                "incident_id": status.incident_id,
                "backup_line": status.backup_line,
                "metered": status.metered,
                "frugal": status.frugal,
                "probes": status.probes,
            }),
        );
    }
    writeln!(
        out,
        "{at}  {:<8} {:<10} at start{}{}",
        status.state.as_str(),
        status.cause.map(|c| c.as_str()).unwrap_or("-"),
        status
            .since
            .as_deref()
            .map(|s| format!(", since {s}"))
            .unwrap_or_default(),
        failed_probes(&status.probes)
    )
}

pub fn path_changed(
    out: &mut impl Write,
    status: &crate::monitor::MonitorStatus,
    json: bool,
) -> io::Result<()> {
    let at = status.checked_at.as_deref().unwrap_or("-");
    if json {
        return json_line(
            out,
            &serde_json::json!({
                "at": at,
                "state": status.state,
                "cause": status.cause,
                "backup_line": status.backup_line,
                "metered": status.metered,
                "frugal": status.frugal,
                "frugal_bytes": status.frugal_bytes,
                "path": status.path,
            }),
        );
    }
    writeln!(
        out,
        "{at}  route changed{}{}{}",
        if status.backup_line {
            ": on the backup line"
        } else {
            ": back on the primary line"
        },
        if status.metered == crate::monitor::metered::Metered::Yes {
            ", metered"
        } else {
            ""
        },
        if status.frugal {
            " (spending little: slower checks and refreshes)"
        } else {
            ""
        }
    )
}

/// One line of `calls --json`.
#[derive(Serialize)]
struct CallLine<'a> {
    appointment_id: &'a str,
    time: &'a str,
    start: &'a str,
    status: AppointmentStatus,
    reason: Option<&'a str>,
    patient_id: Option<&'a str>,
    patient_name: Option<&'a str>,
    patient_kana: Option<&'a str>,
    phones: Vec<&'a str>,
    reached: bool,
    retry_due: bool,
    attempts: usize,
    last_outcome: Option<crate::calls::CallOutcome>,
    /// Every attempt, oldest first, as the screen lists them.
    history: &'a [crate::calls::CallAttemptView],
    arrived_at: Option<&'a str>,
    /// The check-in's id (`withdraw arrival <id>` takes it back).
    arrival_id: Option<i64>,
    /// Moved by a call here: the new start.
    moved_to: Option<&'a str>,
    script: &'a str,
    /// Calls made to this patient at the other desks, oldest first.
    elsewhere: &'a [crate::calls::ElsewhereCallView],
    /// Checked in at another desk.
    arrived_elsewhere: Option<&'a crate::calls::ElsewhereArrivalView>,
    /// On the phone with this patient at another desk now.
    claimed: Option<&'a crate::calls::ClaimView>,
}

pub fn calls(
    out: &mut impl Write,
    view: &crate::calls::CallListView,
    json: bool,
) -> io::Result<()> {
    for e in &view.entries {
        let p = e.patient.as_ref();
        let phones: Vec<&str> = p
            .map(|p| {
                p.phones
                    .iter()
                    .map(|ph| ph.e164.as_deref().unwrap_or(&ph.display))
                    .collect()
            })
            .unwrap_or_default();
        let last = e.attempts.last().map(|a| a.outcome);
        if json {
            json_line(
                out,
                &CallLine {
                    appointment_id: &e.appointment_id,
                    time: &e.time_label,
                    start: &e.start,
                    status: e.status,
                    reason: e.reason.as_deref(),
                    patient_id: p.map(|p| p.id.as_str()),
                    patient_name: p.map(|p| p.name.as_str()),
                    patient_kana: p.and_then(|p| p.kana.as_deref()),
                    phones,
                    reached: e.reached,
                    retry_due: e.retry_due,
                    attempts: e.attempts.len(),
                    last_outcome: last,
                    history: &e.attempts,
                    arrived_at: e.arrived_at_label.as_deref(),
                    arrival_id: e.arrival_id,
                    moved_to: e.moved_to_label.as_deref(),
                    script: &e.script,
                    elsewhere: &e.elsewhere,
                    arrived_elsewhere: e.arrived_elsewhere.as_ref(),
                    claimed: e.claimed.as_ref(),
                },
            )?;
        } else {
            // What the other desks did or are doing, as the window shows it.
            let there = match (&e.claimed, &e.arrived_elsewhere, e.elsewhere.last()) {
                (Some(c), _, _) => format!("  (on the phone at {})", c.desk),
                (None, Some(a), _) => format!("  (checked in at {} {})", a.desk, a.at_label),
                (None, None, Some(c)) => {
                    format!("  ({} at {} {})", c.outcome.code(), c.desk, c.at_label)
                }
                _ => String::new(),
            };
            writeln!(
                out,
                "{}  {:<12} {}  {}  {}{there}",
                e.time_label,
                p.map(|p| p.name.as_str()).unwrap_or("-"),
                if phones.is_empty() {
                    "-".to_owned()
                } else {
                    phones.join(" ")
                },
                last.map(|o| o.code()).unwrap_or("not called"),
                e.appointment_id,
            )?;
        }
    }
    if !json {
        writeln!(out, "{}/{} reached", view.reached, view.total)?;
    }
    Ok(())
}

pub fn receipts(
    out: &mut impl Write,
    rows: &[crate::receipts::ReceiptView],
    json: bool,
) -> io::Result<()> {
    for r in rows {
        if json {
            json_line(out, r)?;
        } else {
            writeln!(
                out,
                "{}  {:>9}  {:<8} {}{}",
                r.number,
                r.amount,
                r.method.code(),
                r.patient_name.as_deref().unwrap_or("-"),
                match (&r.voids, &r.voided_by) {
                    (Some(v), _) => format!("  (voids {v})"),
                    (_, Some(by)) => format!("  (voided by {by})"),
                    _ => String::new(),
                }
            )?;
        }
    }
    Ok(())
}

pub fn receipt_summary(
    out: &mut impl Write,
    s: &crate::receipts::DaySummary,
    json: bool,
) -> io::Result<()> {
    if json {
        return json_line(out, s);
    }
    for m in &s.methods {
        writeln!(
            out,
            "{:<9} {:>3}  {:>10}",
            m.method.code(),
            m.count,
            m.total
        )?;
    }
    writeln!(out, "total         {:>10}  ({} voids)", s.total, s.voids)
}

/// One line of `outbox list --json`.
#[derive(Serialize)]
struct OutboxLine<'a> {
    seq: i64,
    key: &'a str,
    kind: &'a str,
    target_id: Option<&'a str>,
    /// The upstream the change belongs to (it waits for that one whatever the source is).
    upstream: &'a str,
    base_version: Option<&'a str>,
    state: &'a str,
    attempts: i64,
    created_at: String,
    incident_id: Option<i64>,
    /// The last failure's code and HTTP status (the server's words are in the window
    /// and the export: they may name a patient).
    last_code: Option<&'a str>,
    last_status: Option<i64>,
    upstream_ref: Option<&'a str>,
    resolution: Option<&'a str>,
    /// The desk whose op this was, when this desk took it over (that desk was gone).
    taken_from: Option<&'a str>,
}

pub fn outbox(
    out: &mut impl Write,
    rows: &[crate::store::OutboxRow],
    json: bool,
) -> io::Result<()> {
    for r in rows {
        if json {
            json_line(
                out,
                &OutboxLine {
                    seq: r.seq,
                    key: &r.key,
                    kind: r.kind().code(),
                    target_id: Some(r.target_id()),
                    upstream: &r.upstream,
                    base_version: r.base_version.as_deref(),
                    state: r.state.code(),
                    attempts: r.attempts,
                    created_at: crate::monitor::millis_ts(r.created_at),
                    incident_id: r.incident_id,
                    last_code: r.last_code.as_deref(),
                    last_status: r.last_status,
                    upstream_ref: r.upstream_ref.as_deref(),
                    resolution: r.resolution.map(|x| x.code()),
                    taken_from: r.taken_from.as_deref(),
                },
            )?;
        } else {
            writeln!(
                out,
                "{:>5}  {:<8} {:<22} {:<2} {}  {}  {}",
                r.seq,
                r.state.code(),
                r.kind().code(),
                r.attempts,
                r.key,
                r.target_id(),
                r.upstream
            )?;
        }
    }
    if !json {
        let pending = rows
            .iter()
            .filter(|r| r.state == crate::outbox::OpState::Pending)
            .count();
        writeln!(out, "{} queued, {pending} pending", rows.len())?;
    }
    Ok(())
}

/// Where web booking stands: one JSON object, or a few lines for a person.
pub fn booking(
    out: &mut impl Write,
    view: &crate::booking::BookingView,
    json: bool,
) -> io::Result<()> {
    use crate::booking::BookingState;
    if json {
        return json_line(out, view);
    }
    let by = |who: &Option<String>| {
        who.as_deref()
            .map(|w| format!(" by {w}"))
            .unwrap_or_default()
    };
    match (&view.state, &view.pause) {
        (BookingState::Open, None) if view.can_pause => writeln!(out, "web booking: open")?,
        (BookingState::Open, None) => writeln!(
            out,
            "web booking: open (this source cannot stop it: stop it at the booking service, \
             then `booking stopped`)"
        )?,
        (state, Some(p)) => {
            let headline = match state {
                BookingState::Open => "open again",
                BookingState::PauseWaiting => {
                    "stopped at the desk; waiting to reach the clinic's system (sent first)"
                }
                BookingState::Paused => "stopped",
                BookingState::KeptClosed => "stopped, and stays so (no reminder)",
                BookingState::PauseRefused => {
                    "NOT stopped: the clinic's system refused it (see `outbox list`)"
                }
                BookingState::ResumeWaiting => {
                    "reopened at the desk; waiting to reach the clinic's system"
                }
            };
            writeln!(out, "web booking: {headline}")?;
            if p.by_hand {
                writeln!(
                    out,
                    "  stopped by hand at the booking service {}{}",
                    p.requested_label,
                    by(&p.by)
                )?;
                if let Some(r) = &view.resume {
                    writeln!(out, "  reopened by hand {}{}", r.requested_label, by(&r.by))?;
                }
                if let Some(at) = &p.kept_closed_label {
                    writeln!(
                        out,
                        "  stays stopped: decided {at}{}",
                        by(&p.kept_closed_by)
                    )?;
                }
                return Ok(());
            }
            writeln!(
                out,
                "  stopped {}{} until {}; {} slot(s) closed{}",
                p.requested_label,
                by(&p.by),
                p.until_label,
                p.paused,
                p.confirmed_label
                    .as_deref()
                    .map(|c| format!(" (confirmed {c})"))
                    .unwrap_or_default()
            )?;
            for s in &p.refused {
                writeln!(
                    out,
                    "  not closed: slot {} {} ({})",
                    s.slot_id,
                    s.start_label.as_deref().unwrap_or("?"),
                    s.server_said.as_deref().unwrap_or("refused")
                )?;
            }
            if let Some(e) = &p.error {
                writeln!(out, "  waiting because: {e}")?;
            }
            if let Some(r) = &view.resume {
                writeln!(
                    out,
                    "  reopened {}{}; {} slot(s) free again{}",
                    r.requested_label,
                    by(&r.by),
                    r.resumed,
                    r.confirmed_label
                        .as_deref()
                        .map(|c| format!(" (confirmed {c})"))
                        .unwrap_or_default()
                )?;
                for s in &r.left {
                    writeln!(
                        out,
                        "  left as it is: slot {} {} (now {} on the server)",
                        s.slot_id,
                        s.start_label.as_deref().unwrap_or("?"),
                        s.server_said.as_deref().unwrap_or("changed")
                    )?;
                }
                if let Some(e) = &r.error {
                    writeln!(out, "  waiting because: {e}")?;
                }
            }
        }
        (_, None) => writeln!(out, "web booking: open")?,
    }
    if !view.can_pause {
        writeln!(
            out,
            "  this source cannot stop web booking; use the booking service's own admin page"
        )?;
    }
    Ok(())
}

pub fn drained(
    out: &mut impl Write,
    report: &crate::outbox::DrainReport,
    json: bool,
) -> io::Result<()> {
    if json {
        return json_line(out, report);
    }
    let c = &report.counts;
    writeln!(
        out,
        "sent {}, parked {}, retried {} times; now {} done, {} not sent, {} waiting, {} conflicts, \
         {} rejected",
        report.delivered,
        report.parked,
        report.retries,
        c.done,
        c.not_sent,
        c.waiting(),
        c.conflict,
        c.rejected
    )?;
    let what = match report.end {
        crate::outbox::DrainEnd::Empty => "everything is on the upstream".to_owned(),
        crate::outbox::DrainEnd::NeedsAPerson => {
            "conflicts or rejections need a person: open the 同期 tab or use `outbox resolve`"
                .to_owned()
        }
        crate::outbox::DrainEnd::NoUpstream => {
            "there is no upstream to send to (CSV imports); export with `outbox export`".to_owned()
        }
        crate::outbox::DrainEnd::StillWaiting => match &report.last_error {
            Some(e) => format!("changes still wait: {} [{}]", e.message, e.code),
            None => "changes still wait".to_owned(),
        },
    };
    writeln!(out, "{what}")?;
    for w in &report.waiting_elsewhere {
        writeln!(
            out,
            "{} change(s) wait for {} (not the source now; they are sent when it is again)",
            w.count, w.upstream
        )?;
    }
    Ok(())
}

pub fn reports(
    out: &mut impl Write,
    list: &crate::report::ReportList,
    json: bool,
) -> io::Result<()> {
    for r in &list.reports {
        if json {
            json_line(out, r)?;
        } else {
            let kind = match r.kind {
                crate::report::ReportKind::Outage => "outage",
                crate::report::ReportKind::Drill => "drill",
            };
            writeln!(
                out,
                "{kind:<6} {:>4}  {} – {}  {} calls, {} receipts, {} voids  {}",
                r.id,
                r.started_label,
                r.ended_label.as_deref().unwrap_or("ongoing"),
                r.calls,
                r.receipts,
                r.voids,
                r.cause_text.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

pub fn audit_check(
    out: &mut impl Write,
    check: &crate::audit::AuditCheck,
    json: bool,
) -> io::Result<()> {
    if json {
        return json_line(out, check);
    }
    if check.intact() {
        writeln!(
            out,
            "audit trail intact: {} rows; last hash {}",
            check.rows,
            check.head.as_deref().unwrap_or("-")
        )?;
        match check.against {
            Some(n) => writeln!(out, "the export's {n} rows are in it, unchanged"),
            None => Ok(()),
        }
    } else {
        writeln!(
            out,
            "audit trail TAMPERED WITH: {} rows, {} problems",
            check.rows,
            check.problems.len()
        )?;
        check
            .problems
            .iter()
            .try_for_each(|p| writeln!(out, "  {p}"))
    }
}

pub fn purged(out: &mut impl Write, r: &crate::store::PurgeReport) -> io::Result<()> {
    if r.is_empty() {
        return writeln!(out, "nothing is past its retention period");
    }
    writeln!(
        out,
        "removed: {} appointments, {} patients, {} outages, {} drills, {} calls, \
         {} check-ins, {} checklist ticks, {} receipts, {} sent changes, {} log rows",
        r.appointments,
        r.patients,
        r.incidents,
        r.drills,
        r.calls,
        r.arrivals,
        r.checklist_ticks,
        r.receipts,
        r.ops,
        r.log_rows
    )
}

pub fn doctor(
    out: &mut impl Write,
    report: &crate::desk::doctor::DoctorReport,
    json: bool,
) -> io::Result<()> {
    use crate::desk::doctor::Health;
    if json {
        return json_line(out, report);
    }
    writeln!(out, "Tsunagi doctor: {}", report.data_dir)?;
    for c in &report.checks {
        let mark = match c.health {
            Health::Ok => "ok  ",
            Health::Warn => "warn",
            Health::Fail => "FAIL",
        };
        writeln!(out, "  {mark}  {:<9} {}", c.area, c.summary)?;
        if let Some(hint) = &c.hint {
            writeln!(out, "        {:<9} → {hint}", "")?;
        }
    }
    Ok(())
}

/// The paired desks: one line each (connected, or when last seen; how far behind).
pub fn peers(
    out: &mut impl Write,
    peers: &[crate::peers::PeerRow],
    now: chrono::DateTime<chrono::Utc>,
    json: bool,
) -> io::Result<()> {
    if json {
        for p in peers {
            let mut v = serde_json::to_value(p).map_err(io::Error::other)?;
            v["connected"] = serde_json::Value::Bool(crate::peers::connected(p, now));
            json_line(out, &v)?;
        }
        return Ok(());
    }
    if peers.is_empty() {
        return writeln!(
            out,
            "no other desk is paired with this one (tsunagi-cli pair show)"
        );
    }
    for p in peers {
        let state = match p.last_seen {
            _ if crate::peers::connected(p, now) => "connected".to_owned(),
            Some(t) => format!("last seen {}", t.format("%Y-%m-%d %H:%M:%SZ")),
            None => "never seen".to_owned(),
        };
        let behind = p
            .behind
            .map(|n| format!(", {n} records behind"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<12} {}  {:<21} {state}{behind}",
            p.name, p.desk, p.address
        )?;
    }
    Ok(())
}
