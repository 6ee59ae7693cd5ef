//! Issue 7 in-process: the audit trail records each workflow, retention purges what is past
//! its time but never what still waits to be sent, and a lost key starts a fresh mirror
//! without deleting the unreadable file.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use tsunagi_core::calls::{ArrivalRecord, CallOutcome, CallRecord};
use tsunagi_core::clock::ManualClock;
use tsunagi_core::config::{Config, DataDir};
use tsunagi_core::keychain::Keychain;
use tsunagi_core::monitor::NetState;
use tsunagi_core::printout::PrintRequest;
use tsunagi_core::receipts::{PaymentMethod, ReceiptInput};
use tsunagi_core::report::ReportKind;
use tsunagi_core::{Desk, DeskOptions, SettingsChange};

mod common;

use common::{demo_desk, DemoDesk as Fixture};

/// 09:00 in Tokyo on 2026-11-25.
fn nine() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap()
}

impl Fixture {
    fn pay(&self, amount: &str) -> String {
        self.rt
            .block_on(self.desk.add_receipt(ReceiptInput {
                amount: amount.to_owned(),
                method: PaymentMethod::Cash,
                patient_id: None,
                patient_name: Some("保存 期間".to_owned()),
                memo: None,
                staff: None,
                repeat_ok: false,
            }))
            .unwrap()
            .number
    }

    fn cancel_first(&self) -> String {
        let list = self.rt.block_on(self.desk.call_list(false)).unwrap();
        let id = list
            .entries
            .iter()
            .find(|e| e.attempts.is_empty() && e.arrived_at_label.is_none())
            .unwrap()
            .appointment_id
            .clone();
        self.rt
            .block_on(self.desk.record_call(CallRecord {
                appointment_id: id.clone(),
                outcome: CallOutcome::Cancelled,
                new_start: None,
                note: None,
                staff: None,
                replace_earlier: false,
            }))
            .unwrap();
        id
    }

    /// Send everything that waits (the demo upstream takes it all).
    fn drain_all(&self) {
        self.rt.block_on(self.desk.drain_round()).unwrap();
        let ops = self.rt.block_on(self.desk.outbox()).unwrap();
        assert!(ops.iter().all(|o| o.state.code() == "done"), "{ops:?}");
    }

    /// The trail as the export writes it: (staff, action, records) per row.
    fn trail(&self) -> Vec<(String, String, String)> {
        let path = self.rt.block_on(self.desk.export_audit(None)).unwrap();
        let mut r = csv::Reader::from_path(&path).unwrap();
        r.records()
            .map(|row| {
                let row = row.unwrap();
                (row[3].to_owned(), row[4].to_owned(), row[5].to_owned())
            })
            .collect()
    }
}

#[test]
fn issue_7_every_workflow_leaves_who_when_and_which_records_in_the_audit_trail() {
    let f = demo_desk(nine(), |_| {});
    let d = &f.desk;
    f.rt.block_on(d.switch_staff("受付 花子")).unwrap();
    let today = f.rt.block_on(d.today(None)).unwrap();
    f.rt.block_on(d.call_list(false)).unwrap();
    // The list redraws after each call: not a new look at the same patients.
    f.rt.block_on(d.call_list(false)).unwrap();
    let cancelled = f.cancel_first();
    f.rt.block_on(d.record_arrival(ArrivalRecord::new(&today.appointments[5].id, None)))
        .unwrap();
    f.rt.block_on(d.tick(0, true, None)).unwrap();
    let number = f.pay("1500");
    f.rt.block_on(d.switch_staff("会計 次郎")).unwrap();
    f.rt.block_on(d.void_receipt(&number, "金額誤り", None))
        .unwrap();
    f.rt.block_on(d.mark_receipt_entered(&number, None))
        .unwrap();
    f.rt.block_on(d.ledger()).unwrap();
    f.rt.block_on(d.export_receipts()).unwrap();
    f.rt.block_on(d.export_outbox()).unwrap();
    f.rt.block_on(d.sync_view()).unwrap();
    let drill = f.rt.block_on(d.start_drill(None)).unwrap();
    f.rt.block_on(d.end_drill()).unwrap();
    f.rt.block_on(d.report(ReportKind::Drill, drill)).unwrap();
    f.rt.block_on(d.printout(PrintRequest::Receipt {
        number: number.clone(),
    }))
    .unwrap();
    f.rt.block_on(d.write_downtime_sheet()).unwrap();
    d.change_settings(SettingsChange {
        language: Some(tsunagi_core::config::Language::En),
        ..Default::default()
    })
    .unwrap();

    let trail = f.trail();
    let row = |action: &str| {
        trail
            .iter()
            .find(|(_, a, _)| a == action)
            .unwrap_or_else(|| panic!("no {action} row in {trail:#?}"))
    };
    assert_eq!(row("staff.switch").0, "受付 花子");
    let today_row = row("today.view");
    assert_eq!(today_row.0, "受付 花子");
    assert!(today_row
        .2
        .contains(&format!("appointment:{}", today.appointments[0].id)));
    assert_eq!(
        trail.iter().filter(|(_, a, _)| a == "calls.view").count(),
        1,
        "a redraw within minutes is the same view"
    );
    let call = row("call.record");
    assert_eq!(call.0, "受付 花子");
    assert_eq!(call.2, format!("[\"appointment:{cancelled}\"]"));
    for action in ["arrival.record", "checklist.tick", "receipt.add"] {
        assert_eq!(row(action).0, "受付 花子", "{action}");
    }
    let void = row("receipt.void");
    assert_eq!(void.0, "会計 次郎", "the switch changed who is recorded");
    assert!(void.2.contains(&format!("receipt:{number}")));
    for action in [
        "receipt.entered",
        "receipts.view",
        "receipts.export",
        "outbox.export",
        "sync.view",
        "drill.start",
        "drill.end",
        "report.view",
        "printout.view",
        "sheet.write",
        "settings.change",
    ] {
        assert_eq!(row(action).0, "会計 次郎", "{action}");
    }
    // Names of patients never enter the trail: records are ids.
    let patient = today.appointments[0].patient.as_ref().unwrap();
    assert!(trail
        .iter()
        .all(|(_, _, records)| !records.contains(&patient.name)));

    let check = f.rt.block_on(d.verify_audit(None)).unwrap();
    assert!(check.intact(), "{check:?}");
    assert!(check.rows as usize >= trail.len());

    // Forgetting a name takes it off the switcher; its rows stay.
    let view = f.rt.block_on(d.forget_staff("受付 花子")).unwrap();
    assert_eq!(view.names, vec!["会計 次郎".to_owned()]);
    // switch, today, call list, call, arrival, tick, receipt
    assert_eq!(f.trail().iter().filter(|r| r.0 == "受付 花子").count(), 7);
    assert_eq!(
        f.rt.block_on(d.switch_staff("   ")).unwrap_err().code(),
        "input.invalid"
    );
}

#[test]
fn issue_7_retention_purges_old_outages_and_sent_receipts_but_never_what_still_waits() {
    let f = demo_desk(nine(), |_| {});
    let d = &f.desk;
    let at = |minutes: i64| nine() + Duration::minutes(minutes);
    let before_outage = f.pay("800");

    // Outage 1: everything of it is sent.
    let sent_outage = f.line(at(5), NetState::Online, NetState::Offline).unwrap();
    f.clock.set(at(10));
    f.cancel_first();
    let sent_receipt = f.pay("1200");
    f.line(at(60), NetState::Offline, NetState::Online);
    f.clock.set(at(61));
    f.drain_all();

    // Outage 2: nothing of it is sent yet.
    let waiting_outage = f
        .line(at(120), NetState::Online, NetState::Offline)
        .unwrap();
    f.clock.set(at(130));
    let waiting_call = f.cancel_first();
    let waiting_receipt = f.pay("3000");
    f.line(at(180), NetState::Offline, NetState::Online);

    f.clock.set(at(200));
    let drill = f.rt.block_on(d.start_drill(None)).unwrap();
    f.pay("100");
    f.rt.block_on(d.end_drill()).unwrap();

    let waiting_ops: Vec<_> =
        f.rt.block_on(d.outbox())
            .unwrap()
            .into_iter()
            .filter(|o| o.state.code() != "done")
            .map(|o| (o.seq, o.key))
            .collect();
    assert_eq!(waiting_ops.len(), 3, "cancel, its call and a receipt wait");

    // 30 days on, nothing is old enough but the mirror's past days.
    f.clock.set(nine() + Duration::days(30));
    let report = f.rt.block_on(d.purge()).unwrap();
    assert!(report.appointments > 0, "{report:?}");
    assert_eq!(
        (report.incidents, report.receipts, report.drills),
        (0, 0, 0)
    );
    let old_day = f.rt.block_on(d.today(Some(nine().date_naive()))).unwrap();
    let left: Vec<&str> = old_day.appointments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        left,
        [waiting_call.as_str()],
        "past days leave the mirror, but for the appointment whose cancel still waits"
    );

    // 91 days on: outage 1, its receipts and the drill go; outage 2 and its ops stay.
    f.clock.set(nine() + Duration::days(91));
    let report = f.rt.block_on(d.purge()).unwrap();
    assert_eq!(report.incidents, 1, "{report:?}");
    assert_eq!(report.drills, 1);
    assert_eq!(report.receipts, 3, "two sent receipts and the drill's");
    let gone = f.rt.block_on(d.report(ReportKind::Outage, sent_outage));
    assert_eq!(gone.unwrap_err().code(), "input.invalid");
    assert!(f.rt.block_on(d.report(ReportKind::Drill, drill)).is_err());
    let kept =
        f.rt.block_on(d.report(ReportKind::Outage, waiting_outage))
            .unwrap();
    assert_eq!(kept.calls.len(), 1);
    assert_eq!(kept.calls[0].appointment_id, waiting_call);
    let receipts: Vec<String> =
        f.rt.block_on(d.receipts_of(true))
            .unwrap()
            .into_iter()
            .map(|r| r.number)
            .collect();
    assert_eq!(receipts, vec![waiting_receipt.clone()]);
    assert!(!receipts.contains(&before_outage) && !receipts.contains(&sent_receipt));
    let still: Vec<_> =
        f.rt.block_on(d.outbox())
            .unwrap()
            .into_iter()
            .map(|o| (o.seq, o.key))
            .collect();
    assert_eq!(
        still, waiting_ops,
        "undrained ops untouched, and only they remain"
    );

    // They still go out, and then their time starts.
    f.drain_all();
    f.clock.set(nine() + Duration::days(200));
    let report = f.rt.block_on(d.purge()).unwrap();
    assert_eq!((report.incidents, report.receipts), (1, 1), "{report:?}");
    assert_eq!(
        report.appointments, 1,
        "the sent cancel's appointment goes too"
    );
    assert!(f.rt.block_on(d.outbox()).unwrap().is_empty());

    let purges = f
        .trail()
        .into_iter()
        .filter(|(staff, a, _)| a == "retention.purge" && staff.is_empty())
        .count();
    assert_eq!(purges, 3, "each purge that removed rows is in the trail");
}

#[test]
fn issue_7_receipts_outlive_their_outage_when_kept_longer() {
    let f = demo_desk(nine(), |c| c.retention.receipts_days = 365);
    let d = &f.desk;
    let outage = f
        .line(
            nine() + Duration::minutes(5),
            NetState::Online,
            NetState::Offline,
        )
        .unwrap();
    f.clock.set(nine() + Duration::minutes(10));
    let number = f.pay("2000");
    f.line(
        nine() + Duration::minutes(60),
        NetState::Offline,
        NetState::Online,
    );
    f.rt.block_on(d.drain_round()).unwrap();

    f.clock.set(nine() + Duration::days(100));
    f.rt.block_on(d.purge()).unwrap();
    let receipts = f.rt.block_on(d.receipts_of(true)).unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].number, number);
    assert!(
        f.rt.block_on(d.report(ReportKind::Outage, outage)).is_ok(),
        "the outage stays while it holds a receipt"
    );
    f.clock.set(nine() + Duration::days(366));
    let report = f.rt.block_on(d.purge()).unwrap();
    assert_eq!((report.receipts, report.incidents), (1, 1));
}

fn options(
    dir: &std::path::Path,
    keychain: &Arc<Keychain>,
    clock: &Arc<ManualClock>,
) -> DeskOptions {
    DeskOptions {
        data_dir: DataDir::at(dir),
        keychain: keychain.clone(),
        clock: clock.clone(),
        locale: None,
    }
}

#[test]
fn issue_7_a_lost_key_keeps_the_file_aside_and_starts_a_fresh_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(nine()));
    let rt = common::runtime();
    let first = Arc::new(Keychain::mock());
    let number = {
        let desk = Desk::open(options(dir.path(), &first, &clock)).unwrap();
        rt.block_on(desk.pull()).unwrap();
        rt.block_on(desk.add_receipt(ReceiptInput {
            amount: "4000".into(),
            method: PaymentMethod::Card,
            patient_id: None,
            patient_name: Some("鍵 失念".into()),
            memo: None,
            staff: None,
            repeat_ok: false,
        }))
        .unwrap()
        .number
    };
    let db = dir.path().join("tsunagi.db");
    let before = std::fs::read(&db).unwrap();

    // A new keychain (a reset login, another PC): the key is gone.
    let empty = Arc::new(Keychain::mock());
    let err = Desk::open(options(dir.path(), &empty, &clock)).unwrap_err();
    assert_eq!(err.code(), "store.key_missing");
    assert_eq!(std::fs::read(&db).unwrap(), before, "left as it was");
    let doctor = rt.block_on(tsunagi_core::desk::doctor::examine(
        options(dir.path(), &empty, &clock),
        false,
    ));
    assert!(doctor.failing());
    let keychain = doctor.checks.iter().find(|c| c.area == "keychain").unwrap();
    assert!(
        keychain.hint.as_deref().unwrap().contains("start-fresh"),
        "{keychain:?}"
    );

    let (desk, fresh) = Desk::start_fresh(options(dir.path(), &empty, &clock)).unwrap();
    assert_eq!(fresh.reason, "store.key_missing");
    assert!(fresh.old_key_account.is_none());
    let kept = std::path::PathBuf::from(&fresh.kept_at);
    assert!(kept.starts_with(dir.path().join("unreadable")), "{kept:?}");
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        before,
        "moved, byte for byte"
    );
    assert!(rt.block_on(desk.receipts_of(true)).unwrap().is_empty());
    rt.block_on(desk.pull()).unwrap();
    assert!(!rt
        .block_on(desk.today(None))
        .unwrap()
        .appointments
        .is_empty());
    drop(desk);
    // The fresh mirror opens again with its new key; the old file still opens with the
    // old one, should it turn up.
    Desk::open(options(dir.path(), &empty, &clock)).unwrap();
    let old_config = Config::load(&DataDir::at(dir.path()).config())
        .unwrap()
        .unwrap();
    let old_key = first
        .get(&format!("database-key/{}", old_config.device_id))
        .unwrap()
        .unwrap();
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&kept, restored.path().join("tsunagi.db")).unwrap();
    std::fs::copy(
        DataDir::at(dir.path()).config(),
        restored.path().join("config.toml"),
    )
    .unwrap();
    let found = Arc::new(Keychain::mock());
    found
        .set(&format!("database-key/{}", old_config.device_id), &old_key)
        .unwrap();
    let old = Desk::open(options(restored.path(), &found, &clock)).unwrap();
    let receipts = rt.block_on(old.receipts_of(true)).unwrap();
    assert_eq!(
        receipts[0].number, number,
        "nothing of the old file was lost"
    );

    // Refused while the database opens: nothing to start over from.
    let err = Desk::start_fresh(options(dir.path(), &empty, &clock)).unwrap_err();
    assert_eq!(err.code(), "input.invalid");
}

#[test]
fn issue_7_a_wrong_key_is_kept_under_another_name_when_starting_over() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(nine()));
    let keychain = Arc::new(Keychain::mock());
    drop(Desk::open(options(dir.path(), &keychain, &clock)).unwrap());
    let config = Config::load(&DataDir::at(dir.path()).config())
        .unwrap()
        .unwrap();
    let account = format!("database-key/{}", config.device_id);
    keychain.set(&account, &[7u8; 32]).unwrap();
    let err = Desk::open(options(dir.path(), &keychain, &clock)).unwrap_err();
    assert_eq!(err.code(), "store.not_decryptable");

    let (_desk, fresh) = Desk::start_fresh(options(dir.path(), &keychain, &clock)).unwrap();
    assert_eq!(fresh.reason, "store.not_decryptable");
    let aside = fresh.old_key_account.unwrap();
    assert_eq!(keychain.get(&aside).unwrap().unwrap(), vec![7u8; 32]);
    assert_ne!(keychain.get(&account).unwrap().unwrap(), vec![7u8; 32]);
}
