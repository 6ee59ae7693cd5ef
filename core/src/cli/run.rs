//! `tsunagi-cli run`: the desk's runtime in the foreground, one line per event.

use std::io::{self, Write};
use std::sync::Arc;

use serde::Serialize;

use super::output::json_line;
use crate::desk::Desk;
use crate::error::Result;
use crate::runtime::{Runtime, RuntimeEvent, RuntimeOptions};
use crate::view::DeskEvent;

/// Run until SIGINT or SIGTERM, then stop every part in order. Refused while another
/// process (the desktop app, another `run`) runs the same install's runtime.
pub(super) async fn run(
    desk: Arc<Desk>,
    json: bool,
    out: &mut impl Write,
) -> Result<io::Result<()>> {
    let runtime = Runtime::start(
        desk.clone(),
        RuntimeOptions::default(),
        &tokio::runtime::Handle::current(),
    )?;
    let mut events = runtime.subscribe();
    eprintln!(
        "tsunagi-cli: running the desk for {} (Ctrl-C stops)",
        desk.data_dir().root().display()
    );
    let stop = crate::runtime::stop_requested();
    tokio::pin!(stop);
    let printed = loop {
        tokio::select! {
            _ = &mut stop => break Ok(()),
            event = events.recv() => match event {
                Ok(event) => {
                    if let Err(e) = print(out, &desk, &event, json) {
                        break Err(e);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("tsunagi-cli: {n} event(s) were not printed (output too slow)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break Ok(()),
            },
        }
    };
    runtime.shutdown().await;
    eprintln!("tsunagi-cli: stopped");
    Ok(printed)
}

#[derive(Serialize)]
struct EventLine<'a> {
    at: String,
    #[serde(flatten)]
    event: &'a RuntimeEvent,
}

fn print(out: &mut impl Write, desk: &Desk, event: &RuntimeEvent, json: bool) -> io::Result<()> {
    let at = crate::store::ts(desk.now());
    if json {
        return json_line(out, &EventLine { at, event });
    }
    let text = match event {
        RuntimeEvent::Desk { event } => desk_text(event),
        RuntimeEvent::Line { view, .. } => {
            let s = &view.status;
            format!(
                "line      {} {} — {}",
                s.state.as_str(),
                s.cause.map(|c| c.as_str()).unwrap_or("-"),
                view.advice.headline
            )
        }
        RuntimeEvent::Recovered {
            incident,
            delivered,
            parked,
            mirror,
            error,
            booking,
        } => {
            let incident = incident
                .map(|i| format!(" (incident {i})"))
                .unwrap_or_default();
            let pulled = match (mirror, error) {
                (Some(m), _) => format!("mirror has {} appointments", m.appointments),
                (None, Some(e)) => format!("pull failed: {}", e.code),
                (None, None) => "no pull".to_owned(),
            };
            let booking = booking
                .as_ref()
                .map(|n| format!("; {}", n.title))
                .unwrap_or_default();
            format!(
                "recovery  back online{incident}: {delivered} sent, {parked} parked; {pulled}{booking}"
            )
        }
        RuntimeEvent::SheetWritten { path } => format!("sheet     written to {path}"),
        RuntimeEvent::MorningSummary { notice } => {
            format!(
                "summary   {}: {}",
                notice.title,
                notice.body.replace('\n', "; ")
            )
        }
        // The tray is the window's; its inputs are printed as they come.
        RuntimeEvent::Tray { .. } => return Ok(()),
        RuntimeEvent::FolderRefused { notice } => {
            format!("folder    {}: {}", notice.title, notice.body)
        }
    };
    writeln!(out, "{at}  {text}")
}

fn desk_text(event: &DeskEvent) -> String {
    match event {
        DeskEvent::MirrorUpdated { status } => format!(
            "mirror    updated: {} appointments, {} patients",
            status.appointments, status.patients
        ),
        DeskEvent::PullFailed { error, .. } => {
            format!("mirror    pull failed: {}: {}", error.code, error.message)
        }
        DeskEvent::DrillChanged { drill: 0, ended_by } => format!(
            "drill     ended ({})",
            ended_by.map(|b| b.code()).unwrap_or("person")
        ),
        DeskEvent::DrillChanged { drill, .. } => format!("drill     {drill} started"),
        DeskEvent::ConfigChanged {} => "config    changed".to_owned(),
        DeskEvent::OutboxChanged { counts } => format!(
            "outbox    {} waiting, {} sent, {} not sent, {} conflicts, {} rejected",
            counts.waiting(),
            counts.done,
            counts.not_sent,
            counts.conflict,
            counts.rejected
        ),
        DeskEvent::SharedWork {} => "desks     work from another desk arrived".to_owned(),
        DeskEvent::FolderRead { view, .. } => match view.imported {
            Some(n) => format!(
                "folder    imported {} (saved {}): {n} appointments",
                view.file_name, view.modified_label
            ),
            None => {
                let lines: Vec<String> = view
                    .problems
                    .iter()
                    .map(|p| match p.line {
                        0 => p.message.clone(),
                        line => format!("line {line}: {}", p.message),
                    })
                    .collect();
                format!("folder    refused {}: {}", view.file_name, lines.join("; "))
            }
        },
        DeskEvent::PairingEnded { paired, error } => match (paired, error) {
            (Some(name), _) => format!("desks     paired with {name}"),
            (None, Some(e)) => format!("desks     the pairing code ended: {}", e.message),
            (None, None) => "desks     the pairing code was closed".to_owned(),
        },
    }
}
