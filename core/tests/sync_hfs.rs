//! The sync-back against the real FHIR server (Helios `hfs`), with a loopback proxy in
//! front of it that loses answers after the server committed, resets connections, answers
//! 500 / 503 / 429 and stalls. What must hold: every op on the server exactly once, done
//! at the desk; a refused op parked without blocking the others; a change made on the
//! server meanwhile shown as a conflict, never overwritten.

mod common;

use std::time::Duration;

use common::ops::{assert_each_op_once, record_mix};
use common::{fhir_desk, quick_backoff, runtime, test_now, tokyo_today};
use serde_json::json;
use tsunagi_core::calls::{CallOutcome, CallRecord};
use tsunagi_core::outbox::{DrainEnd, OpAction, OpState};
use tsunagi_testkit::clinic::clinic_day;
use tsunagi_testkit::fault_proxy::{Fault, FaultProxy};
use tsunagi_testkit::hfs::Hfs;

fn states(desk: &tsunagi_core::Desk, rt: &tokio::runtime::Runtime) -> Vec<(i64, String)> {
    rt.block_on(desk.outbox())
        .unwrap()
        .into_iter()
        .map(|o| (o.seq, o.state.code().to_owned()))
        .collect()
}

#[test]
fn every_op_reaches_the_server_exactly_once_through_a_line_that_loses_answers() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let today = tokyo_today();
    hfs.put_all(&clinic_day(today, 60, "x").resources());
    let f = fhir_desk(&proxy.url(), test_now(), 2);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();
    let date = today.format("%Y-%m-%d").to_string();
    let queued = rt.block_on(record_mix(&f.desk, "x", 10, 40, &date));
    assert!(queued > 100, "a busy morning: {queued} ops");

    let faults = vec![
        Fault::DropAfterCommit,
        Fault::StallAfterCommit,
        Fault::ResetBeforeSend,
        Fault::Reset,
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(429),
        Fault::Stall,
    ];
    proxy.set_random(35, faults.clone(), 0x5eed_0006);
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(600), &mut quick_backoff()))
        .unwrap();
    let injected = proxy.injected();
    for fault in &faults {
        assert!(
            injected.contains(fault),
            "the run went through {fault:?} (injected: {})",
            injected.len()
        );
    }
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    assert!(report.retries > 20, "{report:?}");
    let ops = rt.block_on(f.desk.outbox()).unwrap();
    assert_eq!(ops.len(), queued);
    assert!(
        ops.iter().all(|o| o.state.code() == "done"),
        "{:?}",
        states(&f.desk, &rt)
    );
    assert_each_op_once(&hfs, &ops);

    // The server holds what the desk did: a cancel, a reschedule followed by a check-in.
    let cancelled = hfs.get("Appointment/xa12");
    assert_eq!(cancelled["status"], "cancelled");
    let moved = hfs.get("Appointment/xa10");
    assert_eq!(moved["status"], "arrived");
    // Rescheduled to 16:50 at the clinic (07:50 UTC).
    assert!(
        moved["start"].as_str().unwrap().contains("T07:50:00"),
        "{moved}"
    );
    assert_eq!(
        moved["participant"][0]["actor"]["reference"],
        "Patient/xp10"
    );

    // A second drain finds nothing to do and sends nothing.
    proxy.set(Fault::Pass);
    let before = proxy.requests();
    let again = rt
        .block_on(f.desk.drain(Duration::from_secs(5), &mut quick_backoff()))
        .unwrap();
    assert_eq!((again.end, again.delivered), (DrainEnd::Empty, 0));
    assert_eq!(proxy.requests(), before);
}

#[test]
fn a_refused_op_is_parked_with_the_servers_words_and_the_others_go_on() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let today = tokyo_today();
    hfs.put_all(&clinic_day(today, 30, "r").resources());
    let f = fhir_desk(&proxy.url(), test_now(), 2);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();
    let date = today.format("%Y-%m-%d").to_string();
    // Appointment 10: a cancel, a receipt and its void (10 % 5 == 0); 11, 12 too.
    let queued = rt.block_on(record_mix(&f.desk, "r", 10, 3, &date));

    // The server refuses Invoices (say, a validation rule) and nothing else.
    proxy.only(Some("POST /Invoice"));
    proxy.set(Fault::Status(422));
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::NeedsAPerson, "{report:?}");
    let ops = rt.block_on(f.desk.outbox()).unwrap();
    let receipts: Vec<_> = ops
        .iter()
        .filter(|o| o.kind().code() == "receipt")
        .collect();
    let voids: Vec<_> = ops
        .iter()
        .filter(|o| o.kind().code() == "receipt_void")
        .collect();
    assert_eq!(voids.len(), 1, "appointment 10's receipt is voided");
    assert_eq!(receipts.len(), 3);
    assert!(receipts.iter().all(|o| o.state.code() == "rejected"));
    // The void waits behind its receipt: never sent before it.
    assert!(
        voids.iter().all(|o| o.state.code() == "pending"),
        "{voids:?}"
    );
    assert!(ops
        .iter()
        .filter(|o| !o.kind().code().starts_with("receipt"))
        .all(|o| o.state.code() == "done"));
    assert_eq!(report.counts.rejected, 3);

    let view = rt.block_on(f.desk.sync_view()).unwrap();
    let all: Vec<_> = view.groups.iter().flat_map(|g| &g.ops).collect();
    let rejected = all.iter().find(|o| o.state == OpState::Rejected).unwrap();
    assert_eq!(rejected.http_status, Some(422));
    assert_eq!(
        rejected.error.as_deref(),
        Some("injected by the test proxy")
    );
    assert_eq!(rejected.actions, [OpAction::Retry, OpAction::Discard]);
    let void = all
        .iter()
        .find(|o| o.kind == tsunagi_core::outbox::OpKind::ReceiptVoid)
        .unwrap();
    assert_eq!(void.held_by, Some(receipts[0].seq));

    // The server is fixed: the first was entered by hand instead (its void goes with it:
    // a credit for a receipt the server never had must not reach it), the others retried.
    proxy.set(Fault::Pass);
    rt.block_on(
        f.desk
            .resolve_op(receipts[0].seq, OpAction::Discard, Some("院長")),
    )
    .unwrap();
    rt.block_on(
        f.desk
            .resolve_op(receipts[1].seq, OpAction::Retry, Some("院長")),
    )
    .unwrap();
    rt.block_on(f.desk.resolve_op(receipts[2].seq, OpAction::Retry, None))
        .unwrap();
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    let ops = rt.block_on(f.desk.outbox()).unwrap();
    assert!(ops.iter().all(|o| o.state.code() == "done"));
    for gone in [receipts[0].seq, voids[0].seq] {
        let op = ops.iter().find(|o| o.seq == gone).unwrap();
        assert_eq!(op.resolution.map(|r| r.code()), Some("discarded"), "{op:?}");
        assert_eq!(op.resolved_by.as_deref(), Some("院長"));
        assert_eq!(
            common::ops::count_by_identifier(&hfs, "Invoice", &op.key),
            0
        );
    }
    let sent: Vec<_> = ops
        .iter()
        .filter(|o| o.resolution.is_none())
        .cloned()
        .collect();
    assert_each_op_once(&hfs, &sent);
    assert_eq!(queued, ops.len());
}

#[test]
fn a_change_made_on_the_server_meanwhile_is_a_conflict_resolved_either_way() {
    let hfs = Hfs::start();
    let proxy = FaultProxy::start(&hfs.base_url());
    let today = tokyo_today();
    let day = clinic_day(today, 20, "c");
    hfs.put_all(&day.resources());
    let f = fhir_desk(&proxy.url(), test_now(), 2);
    let rt = runtime();
    rt.block_on(f.desk.pull()).unwrap();

    // Offline at the desk: two patients cancel.
    for id in ["ca11", "ca12"] {
        rt.block_on(f.desk.record_call(CallRecord {
            appointment_id: id.into(),
            outcome: CallOutcome::Cancelled,
            new_start: None,
            note: None,
            staff: Some("受付 山田".into()),
            replace_earlier: false,
        }))
        .unwrap();
    }
    // Meanwhile, on the clinic's system: both appointments are moved to 16:00.
    for i in [11, 12] {
        let mut a = day.appointments[i].clone();
        a["start"] = json!(format!("{}T16:00:00+09:00", today.format("%Y-%m-%d")));
        a["end"] = json!(format!("{}T16:10:00+09:00", today.format("%Y-%m-%d")));
        hfs.put(&a);
    }
    // A pull before the drain keeps showing the desk's cancels.
    rt.block_on(f.desk.pull()).unwrap();
    let view = rt.block_on(f.desk.today(None)).unwrap();
    for id in ["ca11", "ca12"] {
        let a = view.appointments.iter().find(|a| a.id == id).unwrap();
        assert_eq!(a.status.code(), "cancelled", "{id} after the pull");
    }

    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::NeedsAPerson, "{report:?}");
    assert_eq!(report.counts.conflict, 2);
    // Not overwritten: the server still has both booked at 16:00.
    for id in ["ca11", "ca12"] {
        let a = hfs.get(&format!("Appointment/{id}"));
        assert_eq!(a["status"], "booked", "{id}");
        assert!(a["start"].as_str().unwrap().contains("T16:00:00"), "{a}");
    }
    let view = rt.block_on(f.desk.sync_view()).unwrap();
    let conflicts: Vec<_> = view
        .groups
        .iter()
        .flat_map(|g| &g.ops)
        .filter(|o| o.state == OpState::Conflict)
        .cloned()
        .collect();
    assert_eq!(conflicts.len(), 2);
    let c = &conflicts[0];
    assert_eq!(
        c.mine.as_ref().unwrap().status.as_deref(),
        Some("cancelled")
    );
    let theirs = c.theirs.as_ref().unwrap();
    assert_eq!(theirs.status.as_deref(), Some("booked"));
    assert!(
        theirs.start_label.as_deref().unwrap().ends_with("16:00"),
        "{theirs:?}"
    );
    assert_eq!(c.actions, [OpAction::KeepMine, OpAction::TakeServer]);

    // ca11: the desk's cancel stands, applied on the server's new version (16:00 kept).
    rt.block_on(
        f.desk
            .resolve_op(conflicts[0].seq, OpAction::KeepMine, Some("院長")),
    )
    .unwrap();
    // ca12: the server's move stands; the desk's cancel is dropped.
    rt.block_on(
        f.desk
            .resolve_op(conflicts[1].seq, OpAction::TakeServer, Some("院長")),
    )
    .unwrap();
    let report = rt
        .block_on(f.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");

    let kept = hfs.get("Appointment/ca11");
    assert_eq!(kept["status"], "cancelled");
    assert!(
        kept["start"].as_str().unwrap().contains("T16:00:00"),
        "{kept}"
    );
    let taken = hfs.get("Appointment/ca12");
    assert_eq!(taken["status"], "booked");
    // Both sides agree: the mirror after a pull is what the server holds.
    rt.block_on(f.desk.pull()).unwrap();
    let view = rt.block_on(f.desk.today(None)).unwrap();
    let a11 = view.appointments.iter().find(|a| a.id == "ca11").unwrap();
    let a12 = view.appointments.iter().find(|a| a.id == "ca12").unwrap();
    assert_eq!(a11.status.code(), "cancelled");
    assert_eq!(a12.status.code(), "booked");
    assert_eq!(a12.start_time.as_deref(), Some("16:00"));
    let ops = rt.block_on(f.desk.outbox()).unwrap();
    assert!(ops.iter().all(|o| o.state.code() == "done"));
    let took = ops.iter().find(|o| o.seq == conflicts[1].seq).unwrap();
    assert_eq!(took.resolution.map(|r| r.code()), Some("took_server"));
    assert_eq!(took.resolved_by.as_deref(), Some("院長"));
    assert_each_op_once(
        &hfs,
        &ops.iter()
            .filter(|o| o.resolution.map(|r| r.code()) != Some("took_server"))
            .cloned()
            .collect::<Vec<_>>(),
    );
}

/// Everything one desk holds that `to` does not, taken by `to` (the LAN, without sockets).
fn share(from: &tsunagi_core::Desk, to: &tsunagi_core::Desk, rt: &tokio::runtime::Runtime) {
    loop {
        let theirs = rt.block_on(to.vector()).unwrap();
        let records = rt.block_on(from.records_after(&theirs, 200)).unwrap();
        if records.is_empty() {
            return;
        }
        rt.block_on(to.accept_records(records)).unwrap();
    }
}

/// Issue 16: a desk switched off before the line came back still gets its morning to the
/// server. Another desk, which holds its ops from the shared log, takes them over once it
/// has not heard from it for the grace, and sends each once. The first desk then comes
/// back before that news reaches it and sends its ops too: still each once on the server
/// (the op keys), both desks show every op done, and nothing is a conflict.
#[test]
fn a_desk_off_when_the_line_returns_has_its_changes_sent_by_another_desk_exactly_once() {
    let hfs = Hfs::start();
    let today = tokyo_today();
    hfs.put_all(&clinic_day(today, 40, "t").resources());
    let a = fhir_desk(&hfs.base_url(), test_now(), 5);
    let b = fhir_desk(&hfs.base_url(), test_now(), 5);
    let rt = runtime();
    rt.block_on(a.desk.pull()).unwrap();
    rt.block_on(b.desk.pull()).unwrap();
    let date = today.format("%Y-%m-%d").to_string();
    let queued = rt.block_on(record_mix(&a.desk, "t", 10, 12, &date));
    share(&a.desk, &b.desk, &rt);

    // Desk a is off. A minute later b sends nothing of a's: a may only be restarting.
    b.clock.advance(chrono::Duration::seconds(60));
    let early = rt
        .block_on(b.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(early.delivered, 0, "{early:?}");
    assert!(rt.block_on(b.desk.outbox()).unwrap().is_empty());

    // Past the grace (two minutes), b takes a's ops over and sends them.
    b.clock.advance(chrono::Duration::seconds(90));
    let report = rt
        .block_on(b.desk.drain(Duration::from_secs(300), &mut quick_backoff()))
        .unwrap();
    assert_eq!(report.end, DrainEnd::Empty, "{report:?}");
    let a_ops = rt.block_on(a.desk.outbox()).unwrap();
    let b_ops = rt.block_on(b.desk.outbox()).unwrap();
    assert_eq!(b_ops.len(), queued, "every op of a's, taken over");
    let a_id = rt.block_on(a.desk.desk_id()).unwrap();
    for op in &b_ops {
        assert_eq!(op.taken_from.as_deref(), Some(a_id.as_str()), "{op:?}");
        assert_eq!(op.state, OpState::Done, "{op:?}");
        assert_eq!(op.resolution, None, "{op:?}");
    }
    let keys = |ops: &[tsunagi_core::store::OutboxRow]| {
        let mut k: Vec<String> = ops.iter().map(|o| o.key.clone()).collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&a_ops),
        keys(&b_ops),
        "the same ops, under the same keys"
    );
    assert_each_op_once(&hfs, &a_ops);

    // Desk a comes back and sends its own ops before b's news reaches it.
    let again = rt
        .block_on(a.desk.drain(Duration::from_secs(300), &mut quick_backoff()))
        .unwrap();
    assert_eq!(again.end, DrainEnd::Empty, "{again:?}");
    assert_eq!(
        again.delivered as usize, queued,
        "a sent every op a second time"
    );
    let a_ops = rt.block_on(a.desk.outbox()).unwrap();
    assert!(
        a_ops
            .iter()
            .all(|o| o.state == OpState::Done && o.resolution.is_none()),
        "{:?}",
        states(&a.desk, &rt)
    );
    assert_each_op_once(&hfs, &a_ops);
    assert_eq!(hfs.get("Appointment/ta12")["status"], "cancelled");

    // The news crosses; neither desk has anything left to send, and neither sends.
    share(&b.desk, &a.desk, &rt);
    share(&a.desk, &b.desk, &rt);
    for d in [&a, &b] {
        let quiet = rt
            .block_on(d.desk.drain(Duration::from_secs(5), &mut quick_backoff()))
            .unwrap();
        assert_eq!((quiet.end, quiet.delivered), (DrainEnd::Empty, 0));
    }
}

/// Issue 16: two desks that could not talk (a cable pulled) changed the same appointment:
/// one cancelled it, the other rescheduled it. Back online, the first to reach the server
/// wins, the second is one conflict for a person (both sides shown), never a second silent
/// write.
#[test]
fn two_desks_apart_changing_one_appointment_make_one_change_and_one_conflict() {
    let hfs = Hfs::start();
    let today = tokyo_today();
    hfs.put_all(&clinic_day(today, 20, "u").resources());
    let a = fhir_desk(&hfs.base_url(), test_now(), 5);
    let b = fhir_desk(&hfs.base_url(), test_now(), 5);
    let rt = runtime();
    rt.block_on(a.desk.pull()).unwrap();
    rt.block_on(b.desk.pull()).unwrap();
    let id = "ua12";
    let next_day = today.succ_opt().unwrap().format("%Y-%m-%d").to_string();
    for (desk, outcome, new_start) in [
        (&a, CallOutcome::Cancelled, None),
        (
            &b,
            CallOutcome::Rescheduled,
            Some(format!("{next_day}T15:00")),
        ),
    ] {
        rt.block_on(desk.desk.record_call(CallRecord {
            appointment_id: id.into(),
            outcome,
            new_start,
            note: None,
            staff: Some("受付".into()),
            replace_earlier: false,
        }))
        .unwrap();
    }

    let sent = rt
        .block_on(a.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(sent.end, DrainEnd::Empty, "{sent:?}");
    let parked = rt
        .block_on(b.desk.drain(Duration::from_secs(60), &mut quick_backoff()))
        .unwrap();
    assert_eq!(parked.end, DrainEnd::NeedsAPerson, "{parked:?}");
    assert_eq!(parked.counts.conflict, 1, "one conflict for a person");
    let server = hfs.get(&format!("Appointment/{id}"));
    assert_eq!(server["status"], "cancelled", "the first change stands");
    assert!(
        !server["start"].as_str().unwrap().starts_with(&next_day),
        "not moved as well: {server}"
    );
    let a_ops = rt.block_on(a.desk.outbox()).unwrap();
    let b_ops = rt.block_on(b.desk.outbox()).unwrap();
    assert_each_op_once(&hfs, &a_ops);
    let history = hfs.get(&format!("Appointment/{id}/_history?_count=50"));
    let versions = history["entry"].as_array().unwrap().len();
    let b_reschedule = b_ops
        .iter()
        .find(|o| o.target_id() == id && o.state == OpState::Conflict)
        .expect("b's change, a conflict");
    assert!(
        !history.to_string().contains(&b_reschedule.key),
        "b's change never written ({versions} versions)"
    );

    // The person at b sees both sides: the server's cancel against b's reschedule.
    let view = rt.block_on(b.desk.sync_view()).unwrap();
    let conflict = view
        .groups
        .iter()
        .flat_map(|g| &g.ops)
        .find(|o| o.state == OpState::Conflict)
        .expect("the conflict in 同期");
    assert_eq!(
        conflict.theirs.as_ref().unwrap().status.as_deref(),
        Some("cancelled")
    );
    assert_ne!(
        conflict.mine.as_ref().unwrap().status.as_deref(),
        Some("cancelled")
    );
}
