//! The sync-back at the desk: drain rounds (one sender at a time per install, one request
//! in flight, oldest first), a drain that retries with backoff, the reconciliation view, a
//! person's decisions and the export of what was queued.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::error::{CoreError, ErrorPayload, Result};
use crate::model::SourceKind;
use crate::outbox::backoff::Backoff;
use crate::outbox::booking::{deliver_pause, deliver_resume, SlotLedger};
use crate::outbox::change::Change;
use crate::outbox::sender::{deliver, Attempt, Upstream};
use crate::outbox::view::{AppointmentSide, OpView, SyncGroup, SyncView};
use crate::outbox::{DrainEnd, DrainReport, OpAction, OpState, WaitingElsewhere};
use crate::store::Delivery;
use crate::view::DeskEvent;

/// How a round of sending ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundEnd {
    /// No op left whose turn it is.
    Settled,
    /// A request failed; ops wait. `retryable`: waiting can fix it (else a setting must).
    Failed {
        error: ErrorPayload,
        retryable: bool,
        retry_after: Option<Duration>,
    },
    /// Another sender (the app or a CLI) is draining this install right now.
    Busy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub delivered: u32,
    pub parked: u32,
    pub end: RoundEnd,
    /// Held ops wait (a person may still take them back): the next round is due this soon.
    pub held_for: Option<Duration>,
}

/// The background sender holds a call's or check-in's ops this long after they were made,
/// a little longer than the window offers 元に戻す (times are stored to the second).
pub const UNDO_HOLD: Duration = Duration::from_secs(crate::calls::UNDO_SECONDS as u64 + 3);

/// Throttle for progress events during a long drain.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

impl Desk {
    /// Where the sender writes down the Slots a booking pause closes.
    fn slot_ledger(&self) -> SlotLedger {
        SlotLedger::new(self.store.clone(), self.clock.clone())
    }

    /// One sender per install: a lock file held while a round runs (released by the OS if
    /// the process dies, so a kill never leaves it stuck).
    async fn try_sender_lock(&self) -> Result<Option<std::fs::File>> {
        let path = self.data_dir.root().join("outbox.lock");
        blocking(move || crate::lockfile::try_take(&path)).await
    }

    /// Send ops, oldest first and one at a time, until none is left whose turn it is or a
    /// request fails in a way that stops the queue (the line, the server, credentials).
    /// A rejection or a conflict parks that op and the round goes on with the others.
    pub async fn drain_round(&self) -> Result<Round> {
        self.drain_round_until(&AtomicBool::new(false), false).await
    }

    /// `drain_round`, stopping between two ops once `stop` is set (the app is quitting).
    /// With `hold` (the background sender), ops a person may still take back wait for
    /// [`UNDO_HOLD`]; a person's 最新に更新, the recovery and the CLI send them at once.
    pub async fn drain_round_until(&self, stop: &AtomicBool, hold: bool) -> Result<Round> {
        let config = self.fresh_config().await;
        let http = self.http.client();
        let ended = |end| {
            Ok(Round {
                delivered: 0,
                parked: 0,
                end,
                held_for: None,
            })
        };
        let held_after = hold.then(|| self.clock.now() - UNDO_HOLD);
        // The credential comes from the OS keychain, a blocking call (D-Bus on Linux).
        let (for_upstream, keychain) = (config.clone(), self.keychain.clone());
        let found =
            super::blocking(move || Ok(Upstream::for_config(&for_upstream, &keychain, &http)));
        let upstream = match found.await? {
            Ok(u) => u,
            // The source cannot be reached as set up (no credential for this server, say):
            // changes made on the demo still go to it.
            Err(e) => {
                tracing::info!(code = %e.code(), "the source cannot take changes now");
                let round = self
                    .send_ops(&Upstream::None, config.language, stop, held_after)
                    .await?;
                if round.delivered + round.parked > 0 {
                    return Ok(round);
                }
                return ended(RoundEnd::Failed {
                    retryable: e.is_retryable(),
                    error: e.payload(),
                    retry_after: None,
                });
            }
        };
        self.send_ops(&upstream, config.language, stop, held_after)
            .await
    }

    /// One round to `upstream` (and the demo's own ops), under the install's sender lock.
    async fn send_ops(
        &self,
        upstream: &Upstream,
        language: crate::config::Language,
        stop: &AtomicBool,
        held_after: Option<DateTime<Utc>>,
    ) -> Result<Round> {
        let ended = |end| {
            Ok(Round {
                delivered: 0,
                parked: 0,
                end,
                held_for: None,
            })
        };
        let Some(_lock) = self.try_sender_lock().await? else {
            return ended(RoundEnd::Busy);
        };
        let store = self.store.clone();
        blocking(move || store.resume_interrupted()).await?;
        self.take_over_ops(upstream).await?;

        let mut round = Round {
            delivered: 0,
            parked: 0,
            end: RoundEnd::Settled,
            held_for: None,
        };
        let mut last_event = tokio::time::Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let Some(op) = self.take_next_op(upstream, held_after).await? else {
                break;
            };
            // A request still on its way when the route out changes (the line back, a
            // backup line) is given up and sent again over the new route: on the old one
            // it would wait out its whole timeout. Safe as a lost answer is.
            let mut route = self.route_changes();
            let slots = self.slot_ledger();
            let attempt = tokio::select! {
                attempt = attempt_op(&op, upstream, language, &slots) => attempt?,
                _ = route.changed() => Attempt::route_changed(),
            };
            let store = self.store.clone();
            let (at, delivery, seq) = (self.clock.now(), attempt.delivery.clone(), op.seq);
            blocking(move || store.op_delivered(seq, &delivery, at)).await?;
            if !round.count(&op, attempt) {
                break;
            }
            if last_event.elapsed() >= PROGRESS_EVERY {
                last_event = tokio::time::Instant::now();
                self.announce_outbox().await;
            }
        }
        let store = self.store.clone();
        let at = self.clock.now();
        let first_held = blocking(move || {
            store.close_reconciled_incidents(at)?;
            held_after.map(|h| store.first_held(h)).transpose()
        })
        .await?
        .flatten();
        round.held_for = first_held.map(|made| {
            let due = made + UNDO_HOLD + Duration::from_secs(1);
            (due - at).to_std().unwrap_or(Duration::ZERO)
        });
        if round.delivered + round.parked > 0 {
            tracing::info!(
                delivered = round.delivered,
                parked = round.parked,
                "sync-back round"
            );
        }
        self.announce_outbox().await;
        Ok(round)
    }

    /// Take over what a desk that is gone left unsent for `upstream` (or the demo): see
    /// `Store::take_over_ops`. The other desks hear of it from this desk's log.
    async fn take_over_ops(&self, upstream: &Upstream) -> Result<()> {
        let mut keys = vec![crate::source::demo::SOURCE_KEY.to_owned()];
        keys.extend(upstream.key().map(str::to_owned));
        let after = chrono::Duration::seconds(self.config().peers.takeover_after_secs.into());
        let now = self.clock.now();
        // Just started (after being off, say): every desk looks silent since this one
        // stopped hearing them. Only a silence heard out for the whole grace counts.
        if now - self.opened_at < after {
            return Ok(());
        }
        let store = self.store.clone();
        let taken = blocking(move || {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            store.take_over_ops(&keys, now - after, now - crate::peers::CONNECTED, now)
        })
        .await?;
        if taken > 0 {
            tracing::info!(taken, "took over the unsent changes of a desk that is gone");
        }
        Ok(())
    }

    /// The oldest op for `upstream` (or the demo), marked as being sent.
    async fn take_next_op(
        &self,
        upstream: &Upstream,
        held_after: Option<DateTime<Utc>>,
    ) -> Result<Option<crate::store::OutboxRow>> {
        let store = self.store.clone();
        let key = upstream.key().map(str::to_owned);
        let op = blocking(move || {
            let op = store.next_op(key.as_deref(), held_after)?;
            if let Some(op) = &op {
                store.op_sending(op.seq)?;
            }
            Ok(op)
        })
        .await?;
        Ok(op.map(|mut op| {
            op.attempts += 1;
            op
        }))
    }

    /// Drain until nothing is left to send now, retrying failures with `backoff` for at
    /// most `patience` (the CLI's `outbox drain`; the app's sender runs rounds itself).
    pub async fn drain(&self, patience: Duration, backoff: &mut Backoff) -> Result<DrainReport> {
        let deadline = tokio::time::Instant::now() + patience;
        let (mut delivered, mut parked, mut retries) = (0, 0, 0);
        let mut last_error = None;
        let end = loop {
            let round = self.drain_round().await?;
            delivered += round.delivered;
            parked += round.parked;
            if round.delivered > 0 {
                backoff.reset();
            }
            let wait = match round.end {
                RoundEnd::Settled => {
                    last_error = None;
                    break DrainEnd::Empty;
                }
                RoundEnd::Busy => Duration::from_millis(500),
                RoundEnd::Failed {
                    error,
                    retryable,
                    retry_after,
                } => {
                    last_error = Some(error);
                    if !retryable {
                        break DrainEnd::StillWaiting;
                    }
                    retries += 1;
                    backoff.next(retry_after)
                }
            };
            if tokio::time::Instant::now() + wait > deadline {
                break DrainEnd::StillWaiting;
            }
            tokio::time::sleep(wait).await;
        };
        let store = self.store.clone();
        let config = self.config();
        let current = config.upstream_key().ok();
        let (counts, elsewhere) = blocking(move || {
            Ok((
                store.outbox_counts()?,
                store.waiting_elsewhere(current.as_deref())?,
            ))
        })
        .await?;
        let end = match end {
            DrainEnd::Empty if counts.need_a_person() > 0 => DrainEnd::NeedsAPerson,
            DrainEnd::Empty if counts.waiting() > 0 && config.source.kind == SourceKind::Csv => {
                DrainEnd::NoUpstream
            }
            DrainEnd::Empty if counts.waiting() > 0 => DrainEnd::StillWaiting,
            other => other,
        };
        Ok(DrainReport {
            end,
            delivered,
            parked,
            retries,
            counts,
            last_error,
            waiting_elsewhere: elsewhere
                .into_iter()
                .map(|(upstream, count)| WaitingElsewhere { upstream, count })
                .collect(),
        })
    }

    /// When another process (the CLI) wrote to the database: wake the sender for what it
    /// may have queued, the links to the other desks for what it may have recorded, and
    /// tell the screens.
    pub async fn notice_writes_elsewhere(&self) {
        let store = self.store.clone();
        if let Ok(true) = blocking(move || store.written_elsewhere()).await {
            self.store.changes_queued().notify_one();
            self.store.records_may_have_changed();
            self.announce_outbox().await;
        }
    }

    pub(super) async fn announce_outbox(&self) {
        let store = self.store.clone();
        if let Ok(counts) = blocking(move || store.outbox_counts()).await {
            let _ = self.events.send(DeskEvent::OutboxChanged { counts });
        }
    }

    /// A person's decision on a conflict (keep mine / take the server's) or a rejection
    /// (retry / discard). Returns the view as it is now.
    pub async fn resolve_op(
        &self,
        seq: i64,
        action: OpAction,
        staff: Option<&str>,
    ) -> Result<SyncView> {
        let store = self.store.clone();
        let staff = self.staff_for(staff)?;
        let at = self.clock.now();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::OpResolve,
            vec![format!("op:{seq}")],
            serde_json::json!({ "action": action.code() }),
        );
        blocking(move || store.resolve_op(seq, action, staff.as_deref(), at, audit)).await?;
        tracing::info!(seq, action = action.code(), "op resolved by a person");
        self.announce_outbox().await;
        self.sync_view().await
    }

    /// The reconciliation view: every incident still being reconciled, and the latest
    /// reconciled ones, with their ops.
    pub async fn sync_view(&self) -> Result<SyncView> {
        let config = self.config();
        let cal = config.calendar();
        let current = config.upstream_key().ok();
        let store = self.store.clone();
        let (incidents, rows, counts, desks) = blocking(move || {
            let incidents = store.sync_incidents(3)?;
            let mut ids: Vec<Option<i64>> = incidents.iter().map(|i| Some(i.id)).collect();
            ids.push(None);
            let rows = store.outbox_of_incidents(&ids)?;
            let desks: std::collections::HashMap<String, String> = store
                .peers()?
                .into_iter()
                .map(|p| (p.desk, p.name))
                .collect();
            Ok((incidents, rows, store.outbox_counts()?, desks))
        })
        .await?;
        let appointment_ids: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r.change.receipt().is_none())
            .map(|r| (r.target_id().to_owned(), r.upstream.clone()))
            .collect();
        let store = self.store.clone();
        let briefs = blocking(move || store.appointment_briefs(&appointment_ids)).await?;
        // Its code, which the window words in the desk's language; the text (OS or
        // server words, often English) stays for the IT helper.
        let waiting_because = rows
            .iter()
            .find(|r| r.state == OpState::Pending && r.last_error.is_some())
            .map(|r| ErrorPayload {
                code: r
                    .last_code
                    .clone()
                    .unwrap_or_else(|| crate::ErrorCode::SourceUnreachable.as_str().to_owned()),
                message: r.last_error.clone().unwrap_or_default(),
            });
        let shown = OpShown {
            cal: &cal,
            current: current.as_deref(),
            rows: &rows,
            desks: &desks,
        };
        let views = rows.iter().map(|r| {
            let brief = briefs.get(&(r.target_id().to_owned(), r.upstream.clone()));
            (r.incident_id, shown.op(r, brief))
        });
        let groups = grouped(&incidents, views, &shown);
        self.audit(
            Actor::Person(None),
            AuditAction::SyncView,
            groups
                .iter()
                .flat_map(|g| &g.ops)
                .map(|o| format!("op:{}", o.seq))
                .collect(),
            serde_json::json!({}),
        )
        .await;
        Ok(SyncView {
            counts,
            source: config.source.kind,
            waiting_because,
            groups,
        })
    }

    /// Every op of the reconciliation view as CSV in the printouts folder (for the
    /// clinic's records or for entering by hand what the server refused).
    pub async fn export_outbox(&self) -> Result<PathBuf> {
        let view = self.sync_view().await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| CoreError::InvalidInput(format!("CSV: {e}"));
        w.write_record([
            "seq",
            "incident",
            "time",
            "kind",
            "state",
            "attempts",
            "patient",
            "appointment",
            "outcome",
            "new_time",
            "receipt",
            "amount",
            "method",
            "error",
            "resolution",
            "key",
        ])
        .map_err(csv_err)?;
        for g in &view.groups {
            for o in &g.ops {
                let opt = |s: &Option<String>| s.clone().unwrap_or_default();
                w.write_record([
                    o.seq.to_string(),
                    g.incident.map(|i| i.to_string()).unwrap_or_default(),
                    o.at_label.clone(),
                    o.kind.code().to_owned(),
                    o.state.code().to_owned(),
                    o.attempts.to_string(),
                    opt(&o.patient),
                    opt(&o.appointment_label),
                    o.outcome.map(|x| x.code().to_owned()).unwrap_or_default(),
                    opt(&o.new_time_label),
                    opt(&o.receipt_number),
                    o.amount.map(|a| a.to_string()).unwrap_or_default(),
                    o.method.map(|m| m.code().to_owned()).unwrap_or_default(),
                    opt(&o.error),
                    o.resolution
                        .map(|r| r.code().to_owned())
                        .unwrap_or_default(),
                    o.key.clone(),
                ])
                .map_err(csv_err)?;
            }
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CoreError::InvalidInput(format!("CSV: {e}")))?;
        let entry = self.audit_entry(
            Actor::Person(None),
            AuditAction::OutboxExport,
            Vec::new(),
            serde_json::json!({}),
        );
        self.write_export_audited("outbox", "csv", bytes, entry)
            .await
    }
}

/// Send one op. An op goes only to the upstream it was made against: the demo takes the
/// demo's; the FHIR server only its own (`next_op` picked no other).
async fn attempt_op(
    op: &crate::store::OutboxRow,
    upstream: &Upstream,
    language: crate::config::Language,
    slots: &SlotLedger,
) -> Result<Attempt> {
    Ok(match upstream {
        _ if op.upstream == crate::source::demo::SOURCE_KEY => Attempt::demo(op),
        Upstream::Fhir { source, key } if *key == op.upstream => match &op.change {
            Change::BookingPause(pause) => deliver_pause(source, op, pause, slots).await?,
            Change::BookingResume(resume) => deliver_resume(source, op, resume, slots).await?,
            _ => deliver(source, op, language).await,
        },
        Upstream::Orca {
            source,
            key,
            calendar,
        } if *key == op.upstream => crate::outbox::orca::deliver(source, op, calendar).await,
        _ => {
            return Err(CoreError::InvalidInput(format!(
                "op {} is for another upstream than the source now",
                op.seq
            )))
        }
    })
}

impl Round {
    /// Count what became of one op; `false` when the round stops here (a failure that is
    /// not the op's: the line, the server, the credentials).
    fn count(&mut self, op: &crate::store::OutboxRow, attempt: Attempt) -> bool {
        match attempt.delivery {
            Delivery::Done { .. } => self.delivered += 1,
            // Settled on the desk (the upstream has no place for it): not sent, not parked.
            Delivery::KeptHere { .. } => {}
            Delivery::Conflict { .. } | Delivery::Rejected { .. } => {
                tracing::warn!(
                    seq = op.seq,
                    kind = op.kind().code(),
                    "op parked for a person"
                );
                self.parked += 1;
            }
            Delivery::Failed {
                code,
                status,
                text,
                retryable,
            } => {
                tracing::info!(seq = op.seq, code = %code, status, "sending paused");
                self.end = RoundEnd::Failed {
                    retryable,
                    error: ErrorPayload::new(code, text),
                    retry_after: attempt.retry_after,
                };
                return false;
            }
        }
        true
    }
}

/// How the reconciliation view words an op: times in the clinic's zone, and which upstream
/// is the source now.
struct OpShown<'a> {
    cal: &'a crate::calendar::ClinicCalendar,
    current: Option<&'a str>,
    /// Every op shown, to find what holds one back in its chain.
    rows: &'a [crate::store::OutboxRow],
    /// The paired desks' names, by id.
    desks: &'a std::collections::HashMap<String, String>,
}

impl OpShown<'_> {
    fn label(&self, t: DateTime<Utc>) -> String {
        self.cal.day_and_time(t)
    }

    /// A decision waiting earlier in the same chain (the same appointment) holds a pending op.
    fn held_by(&self, r: &crate::store::OutboxRow) -> Option<i64> {
        if r.state != OpState::Pending {
            return None;
        }
        self.rows
            .iter()
            .filter(|b| b.seq < r.seq && b.chain.is_some() && b.chain == r.chain)
            .find(|b| matches!(b.state, OpState::Conflict | OpState::Rejected))
            .map(|b| b.seq)
    }

    /// Both sides of a conflict: what the desk wanted and what the server holds.
    fn sides(
        &self,
        r: &crate::store::OutboxRow,
    ) -> (Option<AppointmentSide>, Option<AppointmentSide>) {
        if r.state != OpState::Conflict {
            return (None, None);
        }
        let mine = r.change.appointment_change().map(|(_, c)| {
            let (status, start) = c.desired();
            AppointmentSide {
                status: status.map(|s| s.code().to_owned()),
                start_label: start.map(|t| self.label(t)),
                deleted: false,
            }
        });
        let theirs = r.server_state.as_ref().map(|s| AppointmentSide {
            status: s.status.map(|s| s.code().to_owned()),
            start_label: s.start.map(|t| self.label(t)),
            deleted: s.deleted,
        });
        (mine, theirs)
    }

    fn op(
        &self,
        r: &crate::store::OutboxRow,
        brief: Option<&crate::store::AppointmentBrief>,
    ) -> OpView {
        let state = r.state;
        let receipt = r.change.receipt();
        let (mine, theirs) = self.sides(r);
        // Meant for another upstream than the source now: it waits for that one.
        let elsewhere = state != OpState::Done
            && r.upstream != crate::source::demo::SOURCE_KEY
            && self.current != Some(r.upstream.as_str());
        OpView {
            seq: r.seq,
            key: r.key.clone(),
            kind: r.kind(),
            state,
            attempts: r.attempts.max(0) as u32,
            at_label: self.cal.local(r.created_at).format("%H:%M").to_string(),
            patient: match receipt {
                Some(rc) => rc.patient_name.clone(),
                None => brief.and_then(|b| b.1.clone()),
            },
            appointment_label: match &r.change {
                // A booking pause is about its window, not an appointment.
                Change::BookingPause(p) => {
                    Some(format!("{}〜{}", self.label(p.from), self.label(p.until)))
                }
                _ => brief.and_then(|b| b.0).map(|t| self.label(t)),
            },
            outcome: match &r.change {
                Change::CallOutcome(c) => Some(c.outcome),
                _ => None,
            },
            new_time_label: match &r.change {
                Change::AppointmentReschedule(c) => Some(self.label(c.start)),
                _ => None,
            },
            receipt_number: receipt.map(|rc| rc.number.clone()),
            amount: receipt.map(|rc| rc.amount),
            amount_label: receipt.map(|rc| crate::receipts::yen(rc.amount)),
            method: receipt.map(|rc| rc.method),
            error_code: r.last_code.clone(),
            http_status: r.last_status.and_then(|s| u16::try_from(s).ok()),
            error: r.last_error.clone(),
            mine,
            theirs,
            held_by: self.held_by(r),
            resolution: r.resolution,
            resolved_by: r.resolved_by.clone(),
            not_sent: crate::outbox::settled_unsent(state, r.resolution),
            actions: OpAction::offered(state, r.kind(), &r.upstream),
            waits_for: elsewhere.then(|| crate::source::upstream_name(&r.upstream)),
            taken_from: r.taken_from.as_ref().map(|d| match self.desks.get(d) {
                Some(name) => name.clone(),
                None => format!("desk {}", d.get(..6).unwrap_or(d)),
            }),
        }
    }
}

/// Ops under the incident they were made in; changes made while the line was up follow in
/// a group of their own, listed until they are done.
fn grouped(
    incidents: &[crate::store::SyncIncident],
    views: impl Iterator<Item = (Option<i64>, OpView)>,
    shown: &OpShown<'_>,
) -> Vec<SyncGroup> {
    let mut groups: Vec<SyncGroup> = incidents
        .iter()
        .map(|i| SyncGroup {
            incident: Some(i.id),
            started_label: Some(shown.label(i.started_at)),
            ended_label: i.ended_at.map(|t| shown.label(t)),
            reconciled: i.reconciled,
            waiting: 0,
            ops: Vec::new(),
        })
        .collect();
    let mut loose = SyncGroup {
        incident: None,
        started_label: None,
        ended_label: None,
        reconciled: false,
        waiting: 0,
        ops: Vec::new(),
    };
    for (incident, view) in views {
        match groups
            .iter_mut()
            .find(|g| incident.is_some() && g.incident == incident)
        {
            Some(g) => g.ops.push(view),
            None if view.state != OpState::Done => loose.ops.push(view),
            None => {}
        }
    }
    if !loose.ops.is_empty() {
        groups.push(loose);
    }
    for g in &mut groups {
        g.waiting = g.ops.iter().filter(|o| o.state != OpState::Done).count() as u32;
    }
    groups
}
