//! One function per `tsunagi-cli` command: call the desk, print the answer, return the exit
//! code for an answer that is not an error (a drain that left work, a failing check).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::output;
use super::{
    AuditCommand, BookingCommand, ChecklistAction, OutboxCommand, PairCommand, ReceiptCommand,
    SourceArgs,
};
use crate::desk::{blocking, CsvColumns, Desk, DeskOptions};
use crate::error::{CoreError, Result};
use crate::outbox::DrainEnd;
use crate::report::ReportKind;

/// What was printed, as the command's answer: exit 0, or the failure to write it.
pub(super) fn written(printed: io::Result<()>) -> Result<u8> {
    printed
        .map(|()| 0)
        .map_err(|e| CoreError::io("standard output", e))
}

/// File I/O stays off the async thread, as in the desk.
async fn read_file(path: PathBuf) -> Result<Vec<u8>> {
    blocking(move || std::fs::read(&path).map_err(|e| CoreError::io(&path, e))).await
}

pub(super) async fn doctor(
    options: DeskOptions,
    json: bool,
    no_probe: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let report = crate::desk::doctor::examine(options, !no_probe).await;
    written(output::doctor(out, &report, json))?;
    Ok(if report.failing() { 9 } else { 0 })
}

pub(super) fn start_fresh(options: DeskOptions, staff: &str, out: &mut impl Write) -> Result<u8> {
    let (desk, fresh) = Desk::start_fresh(options)?;
    desk.act_as(Some(staff))?;
    written(writeln!(
        out,
        "the unreadable database is kept at {}\na fresh database was created; \
         run `tsunagi-cli pull` to mirror today again",
        fresh.kept_at
    ))?;
    if let Some(account) = fresh.old_key_account {
        written(writeln!(
            out,
            "the keychain entry that did not open it is kept as {account}"
        ))?;
    }
    Ok(0)
}

pub(super) async fn pull(desk: &Desk, out: &mut impl Write) -> Result<u8> {
    let status = desk.pull().await?;
    written(output::pulled(out, &status))
}

pub(super) async fn today(
    desk: &Desk,
    date: Option<NaiveDate>,
    json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let view = desk.today(date).await?;
    if view.status.synced_at.is_none() {
        eprintln!("tsunagi-cli: the mirror is empty; run `tsunagi-cli pull` first");
    }
    written(if json {
        output::today_json(out, &view)
    } else {
        output::today_text(out, &view)
    })
}

pub(super) async fn source(desk: &Desk, args: SourceArgs, out: &mut impl Write) -> Result<u8> {
    // The folder is checked first: a typo in it must not leave the source switched.
    let folder = match &args.kind {
        super::SourceCommand::Csv {
            folder: Some(path),
            mapping,
            ..
        } => Some((Some(path.display().to_string()), mapping.clone())),
        super::SourceCommand::Csv {
            no_folder: true, ..
        } => Some((None, None)),
        _ => None,
    };
    if let Some((Some(path), mapping)) = &folder {
        desk.check_csv_folder(path, mapping.as_deref()).await?;
    }
    let (setup, allow_plain_http) = super::source_setup(args.kind)?;
    let settings = desk.configure_source(
        setup,
        crate::desk::SourceOptions {
            allow_plain_http,
            confirmed: args.yes,
        },
    )?;
    written(writeln!(out, "source: {}", settings.source.code()))?;
    if let Some((path, mapping)) = folder {
        let settings = desk.set_csv_folder(path, mapping).await?;
        written(match settings.csv_folder {
            Some(f) => writeln!(
                out,
                "export folder: {} (columns: {})",
                f.path,
                f.mapping.as_deref().unwrap_or("by each file's header line")
            ),
            None => writeln!(out, "export folder: none"),
        })?;
    }
    // A CSV source has nothing to pull: its day comes from `import csv`.
    if settings.source == crate::model::SourceKind::Csv {
        return Ok(0);
    }
    pull(desk, out).await
}

pub(super) async fn import_csv(
    desk: &Desk,
    file: &Path,
    mapping: Option<String>,
    columns: &[String],
    out: &mut impl Write,
) -> Result<u8> {
    let bytes = read_file(file.to_owned()).await?;
    let columns = match (mapping, columns) {
        (None, _) => CsvColumns::Auto,
        (Some(name), []) => CsvColumns::Saved { name },
        (Some(name), given) => {
            let header = crate::csv_import::header_of(&bytes)?;
            let mapping = crate::csv_import::mapping_from_names(&header, given)
                .map_err(CoreError::InvalidInput)?;
            CsvColumns::New { name, mapping }
        }
    };
    let report = desk.import_csv_with(bytes, columns, None).await?;
    written(output::imported(out, &report))
}

pub(super) async fn mappings(desk: &Desk, out: &mut impl Write) -> Result<u8> {
    let saved = desk.csv_mappings().await?;
    written(output::mappings(out, &saved))
}

/// Run the monitor until SIGINT or SIGTERM, printing each transition as it is declared.
pub(super) async fn monitor(desk: &Desk, json: bool, out: &mut impl Write) -> Result<u8> {
    let monitor = crate::monitor::Monitor::spawn(
        desk.monitor_options(None, false),
        &tokio::runtime::Handle::current(),
    );
    let mut events = monitor.subscribe();
    // One recorder per install: beside the running app this monitor only watches.
    if !monitor.status().recording {
        eprintln!(
            "tsunagi-cli: another Tsunagi (the desktop app) records this install's outages; \
             this monitor only watches"
        );
    }
    let stop = crate::runtime::stop_requested();
    tokio::pin!(stop);
    // Nothing is printed before the line where the desk stands: a transition that settles
    // it at start is that line, not a change.
    let mut started = false;
    let printed = loop {
        tokio::select! {
            _ = &mut stop => break Ok(()),
            event = events.recv() => {
                use crate::monitor::MonitorEvent;
                let shown = match event {
                    Ok(MonitorEvent::Settled { status }) => {
                        started = true;
                        output::initial(out, &status, json)
                    }
                    Ok(MonitorEvent::Transition { transition, incident_id, status, .. }) if started => {
                        output::transition(out, &transition, incident_id, &status, json)
                    }
                    Ok(MonitorEvent::PathChanged { status }) if started => {
                        output::path_changed(out, &status, json)
                    }
                    Ok(_) => Ok(()),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Ok(()),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break Ok(()),
                };
                if let Err(e) = shown {
                    break Err(e);
                }
            }
        }
    };
    monitor.shutdown().await;
    written(printed)
}

pub(super) async fn receipt(
    desk: &Desk,
    command: ReceiptCommand,
    out: &mut impl Write,
) -> Result<u8> {
    written(match command {
        ReceiptCommand::Add {
            amount,
            method,
            patient,
            name,
            memo,
            again,
        } => {
            let r = desk
                .add_receipt(crate::receipts::ReceiptInput {
                    amount,
                    method,
                    patient_id: patient,
                    patient_name: name,
                    memo,
                    staff: None,
                    repeat_ok: again,
                })
                .await?;
            writeln!(out, "{}", r.number)
        }
        ReceiptCommand::Void { number, reason } => {
            let r = desk.void_receipt(&number, &reason, None).await?;
            writeln!(out, "{}", r.number)
        }
        ReceiptCommand::List { json, all_days } => {
            let rows = desk.receipts_of(all_days).await?;
            output::receipts(out, &rows, json)
        }
        ReceiptCommand::Summary { json } => {
            let s = desk.receipt_summary().await?;
            output::receipt_summary(out, &s, json)
        }
        ReceiptCommand::Export => out.write_all(&desk.receipts_csv().await?),
        ReceiptCommand::Entered { number } => {
            desk.mark_receipt_entered(&number, None).await?;
            Ok(())
        }
    })
}

pub(super) async fn drill(desk: &Desk, action: &str, out: &mut impl Write) -> Result<u8> {
    written(if action == "start" {
        let id = desk.start_drill(None).await?;
        writeln!(
            out,
            "drill {id} started: calls and receipts are practice until `drill end`"
        )
    } else {
        let id = desk.end_drill().await?;
        writeln!(out, "drill {id} ended and archived")
    })
}

pub(super) async fn calls(
    desk: &Desk,
    tomorrow_morning: bool,
    json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let view = desk.call_list(tomorrow_morning).await?;
    written(output::calls(out, &view, json))
}

pub(super) async fn call(
    desk: &Desk,
    record: crate::calls::CallRecord,
    out: &mut impl Write,
) -> Result<u8> {
    let id = desk.record_call(record).await?;
    written(writeln!(out, "recorded call attempt {id}"))
}

pub(super) async fn arrive(
    desk: &Desk,
    record: crate::calls::ArrivalRecord,
    out: &mut impl Write,
) -> Result<u8> {
    let id = desk.record_arrival(record).await?;
    written(writeln!(out, "checked in (arrival {id})"))
}

pub(super) async fn withdraw(
    desk: &Desk,
    record: crate::calls::Withdrawable,
    out: &mut impl Write,
) -> Result<u8> {
    desk.withdraw(record, None).await?;
    let what = match record {
        crate::calls::Withdrawable::Call(id) => format!("call attempt {id}"),
        crate::calls::Withdrawable::Arrival(id) => format!("arrival {id}"),
    };
    written(writeln!(out, "took back {what} and the changes it queued"))
}

pub(super) async fn outbox(
    desk: &Desk,
    command: OutboxCommand,
    out: &mut impl Write,
) -> Result<u8> {
    match command {
        OutboxCommand::List { json } => written(output::outbox(out, &desk.outbox().await?, json)),
        OutboxCommand::Drain { patience, json } => drain(desk, patience, json, out).await,
        OutboxCommand::Resolve { seq, action } => {
            let action = crate::outbox::OpAction::parse(&action.replace('-', "_"))
                .ok_or_else(|| CoreError::InvalidInput(format!("unknown action {action}")))?;
            let view = desk.resolve_op(seq, action, None).await?;
            written(writeln!(
                out,
                "op {seq}: {}; {} waiting, {} for a person",
                action.code(),
                view.counts.waiting(),
                view.counts.need_a_person()
            ))
        }
        OutboxCommand::Export => {
            let path = desk.export_outbox().await?;
            written(writeln!(out, "{}", path.display()))
        }
    }
}

pub(super) async fn booking(
    desk: &Desk,
    command: BookingCommand,
    out: &mut impl Write,
) -> Result<u8> {
    let (view, json) = match command {
        BookingCommand::Pause { until } => {
            (desk.pause_booking(until.as_deref(), None).await?, false)
        }
        BookingCommand::Resume => (desk.resume_booking(None).await?, false),
        BookingCommand::KeepClosed => (desk.keep_booking_closed(None).await?, false),
        BookingCommand::Stopped => (desk.booking_stopped_by_hand(None).await?, false),
        BookingCommand::Reopened => (desk.booking_reopened_by_hand(None).await?, false),
        BookingCommand::Status { json } => (desk.booking_view().await?, json),
    };
    written(output::booking(out, &view, json))
}

pub(super) async fn checklist(
    desk: &Desk,
    action: Option<ChecklistAction>,
    json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let view = match action {
        None => desk.checklist().await?,
        Some(ChecklistAction::Tick { step }) => desk.tick(step, true, None).await?,
        Some(ChecklistAction::Untick { step }) => desk.tick(step, false, None).await?,
    };
    if json {
        return written(output::json_line(out, &view));
    }
    for item in &view.items {
        let by = match (&item.at_label, &item.staff) {
            (Some(at), Some(staff)) => format!("  {at} {staff}"),
            (Some(at), None) => format!("  {at}"),
            _ => String::new(),
        };
        written(writeln!(
            out,
            "{} {:>2}. {}{by}",
            if item.done { "[x]" } else { "[ ]" },
            item.step,
            item.text
        ))?;
    }
    Ok(0)
}

pub(super) async fn peers(desk: &Desk, json: bool, out: &mut impl Write) -> Result<u8> {
    let peers = desk.peers().await?;
    written(output::peers(out, &peers, desk.now(), json))
}

pub(super) async fn pair(desk: &Desk, command: PairCommand, out: &mut impl Write) -> Result<u8> {
    let peer = match command {
        PairCommand::Show => {
            let listener = desk.pairing_listener().await?;
            let code = crate::peers::pairing::new_code();
            written(writeln!(
                out,
                "pairing code  {} {}  (type it on the other desk within {} minutes; this desk \
                 listens on port {})",
                &code[..4],
                &code[4..],
                crate::peers::pairing::CODE_MINUTES,
                desk.config().peers.pairing_port
            ))?;
            written(out.flush())?;
            desk.pair_by_showing(&listener, &code, None).await?
        }
        PairCommand::Join { address, code } => desk.pair_by_typing(&address, &code, None).await?,
    };
    written(writeln!(
        out,
        "paired with {} ({}) at {}",
        peer.name, peer.desk, peer.address
    ))?;
    Ok(0)
}

pub(super) async fn unpair(desk: &Desk, which: &str, out: &mut impl Write) -> Result<u8> {
    let peers = desk.peers().await?;
    let found: Vec<_> = peers
        .iter()
        .filter(|p| {
            p.desk == which || p.name == which || (which.len() >= 6 && p.desk.starts_with(which))
        })
        .collect();
    let [peer] = found.as_slice() else {
        return Err(crate::peers::PeerError::NotPaired(which.to_owned()).into());
    };
    desk.unpair(&peer.desk, None).await?;
    written(writeln!(
        out,
        "unpaired {} ({}): it is no longer accepted",
        peer.name, peer.desk
    ))?;
    Ok(0)
}

/// Send until the queue is empty or `patience` seconds pass; exit 7 when only decisions
/// are left, 8 while changes still wait.
async fn drain(desk: &Desk, patience: u64, json: bool, out: &mut impl Write) -> Result<u8> {
    let mut backoff = crate::outbox::backoff::Backoff::standard();
    let report = desk
        .drain(std::time::Duration::from_secs(patience), &mut backoff)
        .await?;
    written(output::drained(out, &report, json))?;
    Ok(match report.end {
        DrainEnd::Empty => 0,
        DrainEnd::NeedsAPerson => 7,
        DrainEnd::StillWaiting | DrainEnd::NoUpstream => 8,
    })
}

/// One report (with `--html`, also written as a printable page), or the list of them.
pub(super) async fn report(
    desk: &Desk,
    kind: Option<&str>,
    id: Option<i64>,
    html: Option<PathBuf>,
    json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let (Some(kind), Some(id)) = (kind.and_then(ReportKind::parse), id) else {
        return written(output::reports(out, &desk.reports().await?, json));
    };
    let report = desk.report(kind, id).await?;
    if let Some(path) = html {
        let language = desk.config().language;
        let page = crate::printout::report(&report, language);
        let doc = crate::printout::document(&page, language);
        blocking(move || std::fs::write(&path, doc).map_err(|e| CoreError::io(&path, e))).await?;
    }
    written(if json {
        output::json_line(out, &report)
    } else {
        let list = crate::report::ReportList {
            reports: vec![report.summary],
        };
        output::reports(out, &list, false)
    })
}

pub(super) async fn audit(desk: &Desk, command: AuditCommand, out: &mut impl Write) -> Result<u8> {
    match command {
        AuditCommand::Verify { json, against } => {
            let export = match against {
                Some(path) => Some(read_file(path).await?),
                None => None,
            };
            let check = desk.verify_audit(export.as_deref()).await?;
            written(output::audit_check(out, &check, json))?;
            Ok(if check.intact() { 0 } else { 9 })
        }
        AuditCommand::Export { to } => {
            let path = desk.export_audit(to).await?;
            written(writeln!(out, "{}", path.display()))
        }
    }
}

/// The staff names, the one at the desk marked `*`.
pub(super) async fn staff(desk: &Desk, out: &mut impl Write) -> Result<u8> {
    let view = desk.staff_view().await?;
    let at_desk = desk.staff_at_desk().await?;
    written(view.names.iter().try_for_each(|n| {
        let mark = if at_desk.as_deref() == Some(n.as_str()) {
            "*"
        } else {
            " "
        };
        writeln!(out, "{mark} {n}")
    }))
}

pub(super) async fn purge(desk: &Desk, json: bool, out: &mut impl Write) -> Result<u8> {
    let report = desk.purge_as(crate::desk::Actor::Person(None)).await?;
    written(if json {
        output::json_line(out, &report)
    } else {
        output::purged(out, &report)
    })
}

pub(super) async fn sheet(desk: &Desk, out: &mut impl Write) -> Result<u8> {
    let path = desk.write_downtime_sheet().await?;
    written(writeln!(out, "{}", path.display()))
}

pub(super) async fn signals(desk: &Desk, mark_seen: bool, out: &mut impl Write) -> Result<u8> {
    let view = desk.signals().await?;
    if mark_seen {
        desk.mark_signals_seen(&view.until).await?;
    }
    written(
        view.signals
            .iter()
            .try_for_each(|s| writeln!(out, "{}", s.text)),
    )
}

pub(super) async fn status(desk: &Desk, json: bool, out: &mut impl Write) -> Result<u8> {
    let status = desk.status().await?;
    let dir = desk.data_dir().root().display().to_string();
    written(if json {
        output::status_json(out, &status, &dir)
    } else {
        output::status_text(out, &status, &dir)
    })
}
