//! The receipt ledger on a demo desk: amounts, numbering across desks and days, voids,
//! the day's summary, the CSV export, and the outbox entries each writes.

use chrono::{Duration, TimeZone, Utc};
use tsunagi_core::receipts::{PaymentMethod, ReceiptInput, ReceiptKind};

mod common;

use common::{demo_desk, DemoDesk as Fixture};

/// A desk with this device id, pulled at 10:00 in Tokyo on 2026-11-25.
fn desk(device_id: &str) -> Fixture {
    demo_desk(Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap(), |c| {
        c.device_id = device_id.to_owned()
    })
}

fn pay(amount: &str, method: PaymentMethod, name: &str) -> ReceiptInput {
    ReceiptInput {
        amount: amount.to_owned(),
        method,
        patient_id: None,
        patient_name: Some(name.to_owned()),
        memo: None,
        staff: Some("受付 佐々木".to_owned()),
        repeat_ok: false,
    }
}

impl Fixture {
    fn add(
        &self,
        input: ReceiptInput,
    ) -> tsunagi_core::Result<tsunagi_core::receipts::ReceiptView> {
        self.rt.block_on(self.desk.add_receipt(input))
    }
    fn void(
        &self,
        number: &str,
        reason: &str,
    ) -> tsunagi_core::Result<tsunagi_core::receipts::ReceiptView> {
        self.rt
            .block_on(self.desk.void_receipt(number, reason, Some("院長")))
    }
    fn ledger(&self) -> Vec<tsunagi_core::receipts::ReceiptView> {
        self.rt.block_on(self.desk.receipts_of(true)).unwrap()
    }
    fn outbox_kinds(&self) -> Vec<String> {
        self.rt
            .block_on(self.desk.outbox())
            .unwrap()
            .into_iter()
            .map(|o| o.kind().code().to_owned())
            .collect()
    }
}

#[test]
fn numbers_are_unique_across_desks_and_restart_each_day() {
    let a = desk("a1b2c3d4e5f6");
    let b = desk("ffee99887766");
    let a1 = a
        .add(pay("3000", PaymentMethod::Cash, "山田 太郎"))
        .unwrap();
    let a2 = a
        .add(pay("1200", PaymentMethod::Card, "髙橋 𠮷子"))
        .unwrap();
    let b1 = b
        .add(pay("3000", PaymentMethod::Cash, "山田 太郎"))
        .unwrap();
    assert_eq!(a1.number, "A1B2C3-20261125-001");
    assert_eq!(a2.number, "A1B2C3-20261125-002");
    assert_eq!(b1.number, "FFEE99-20261125-001");
    assert_eq!(
        a2.patient_name.as_deref(),
        Some("髙橋 𠮷子"),
        "names beyond the BMP survive"
    );

    a.clock.advance(Duration::days(1));
    let next = a.add(pay("500", PaymentMethod::Qr, "山田 太郎")).unwrap();
    assert_eq!(next.number, "A1B2C3-20261126-001");
    assert_eq!(a.outbox_kinds(), ["receipt", "receipt", "receipt"]);
}

#[test]
fn bad_amounts_are_refused_in_plain_words_and_write_nothing() {
    let f = desk("a1b2c3d4e5f6");
    for (typed, code) in [
        ("0", "receipt.amount_zero"),
        ("-500", "receipt.amount_negative"),
        ("99999999999999999999", "receipt.amount_too_large"),
        ("三千", "receipt.amount_not_a_number"),
        ("", "receipt.amount_empty"),
    ] {
        let err = f
            .add(pay(typed, PaymentMethod::Cash, "山田 太郎"))
            .unwrap_err();
        assert_eq!(err.code(), code, "{typed:?}");
    }
    assert!(f.ledger().is_empty());
    assert!(f.outbox_kinds().is_empty());
    let ok = f
        .add(pay("３，０００円", PaymentMethod::Cash, "山田 太郎"))
        .unwrap();
    assert_eq!(ok.amount, 3000, "full-width digits are fine");
}

#[test]
fn a_void_is_a_new_entry_and_the_original_stays() {
    let f = desk("a1b2c3d4e5f6");
    let paid = f
        .add(pay("5000", PaymentMethod::Card, "山田 太郎"))
        .unwrap();
    assert_eq!(
        f.void(&paid.number, "  ").unwrap_err().code(),
        "receipt.reason_missing"
    );
    let void = f.void(&paid.number, "金額の誤り").unwrap();
    assert_eq!(void.kind, ReceiptKind::Void);
    assert_eq!(void.amount, -5000);
    assert_eq!(void.method, PaymentMethod::Card);
    assert_eq!(void.voids.as_deref(), Some(paid.number.as_str()));
    assert_eq!(void.patient_name.as_deref(), Some("山田 太郎"));

    let ledger = f.ledger();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[0].amount, 5000, "the original is not edited");
    assert_eq!(ledger[0].voided_by.as_deref(), Some(void.number.as_str()));

    assert_eq!(
        f.void(&paid.number, "again").unwrap_err().code(),
        "receipt.already_voided"
    );
    assert_eq!(
        f.void(&void.number, "undo").unwrap_err().code(),
        "receipt.void_of_void"
    );
    assert_eq!(
        f.void("NOPE-1", "x").unwrap_err().code(),
        "receipt.not_found"
    );
    assert_eq!(f.outbox_kinds(), ["receipt", "receipt_void"]);
}

#[test]
fn the_day_summary_adds_up_per_method_without_voided_money() {
    let f = desk("a1b2c3d4e5f6");
    f.add(pay("3000", PaymentMethod::Cash, "A")).unwrap();
    f.add(pay("5000", PaymentMethod::Card, "B")).unwrap();
    let wrong = f.add(pay("1000", PaymentMethod::Cash, "C")).unwrap();
    f.add(pay("800", PaymentMethod::Deferred, "D")).unwrap();
    f.void(&wrong.number, "二重入力").unwrap();

    let s = f.rt.block_on(f.desk.receipt_summary()).unwrap();
    let of = |m: PaymentMethod| s.methods.iter().find(|t| t.method == m).unwrap().clone();
    assert_eq!(
        (of(PaymentMethod::Cash).count, of(PaymentMethod::Cash).total),
        (1, 3000)
    );
    assert_eq!(
        (of(PaymentMethod::Card).count, of(PaymentMethod::Card).total),
        (1, 5000)
    );
    assert_eq!(of(PaymentMethod::Qr).total, 0);
    assert_eq!(of(PaymentMethod::Deferred).total, 800);
    assert_eq!(s.total, 8800);
    assert_eq!(s.voids, 1);
}

#[test]
fn a_patient_picked_from_the_mirror_keeps_the_name_and_the_csv_is_ready_for_billing() {
    let f = desk("a1b2c3d4e5f6");
    let today = f.rt.block_on(f.desk.today(None)).unwrap();
    let patient = today
        .appointments
        .iter()
        .find_map(|a| a.patient.clone())
        .unwrap();
    let mut input = pay("2400", PaymentMethod::Cash, "");
    input.patient_name = None;
    input.patient_id = Some(patient.id.clone());
    let r = f.add(input.clone()).unwrap();
    assert_eq!(r.patient_name.as_deref(), Some(patient.name.as_str()));
    input.patient_id = Some("nobody".into());
    assert_eq!(f.add(input).unwrap_err().code(), "input.invalid");

    f.rt.block_on(f.desk.mark_receipt_entered(&r.number, Some("医事課")))
        .unwrap();
    let csv = f.rt.block_on(f.desk.receipts_csv()).unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()), "BOM for Excel");
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with(&r.number));
    assert!(lines[1].contains(&patient.name) && lines[1].contains(",2400,cash,"));
    assert!(lines[1].ends_with(",yes"), "entered in the billing system");
}

#[test]
fn nothing_recorded_in_a_drill_reaches_the_mirror_the_ledger_or_the_outbox() {
    use tsunagi_core::calls::{CallOutcome, CallRecord};
    let f = desk("a1b2c3d4e5f6");
    let real = f
        .add(pay("1000", PaymentMethod::Cash, "本番 患者"))
        .unwrap();
    let outbox_before = f.outbox_kinds();

    f.rt.block_on(f.desk.start_drill(Some("院長"))).unwrap();
    assert_eq!(
        f.rt.block_on(f.desk.start_drill(None)).unwrap_err().code(),
        "input.invalid",
        "one drill at a time"
    );
    let list = f.rt.block_on(f.desk.call_list(false)).unwrap();
    let first = list.entries[0].appointment_id.clone();
    assert!(
        list.entries.iter().all(|e| e.attempts.is_empty()),
        "a drill starts clean"
    );
    f.rt.block_on(f.desk.record_call(CallRecord {
        appointment_id: first.clone(),
        outcome: CallOutcome::Cancelled,
        new_start: None,
        note: None,
        staff: None,
        replace_earlier: false,
    }))
    .unwrap();
    let practice = f
        .add(pay("3000", PaymentMethod::Cash, "訓練 患者"))
        .unwrap();
    assert!(practice.number.ends_with("-T001"), "{}", practice.number);
    assert_eq!(
        f.void(&real.number, "x").unwrap_err().code(),
        "receipt.not_found",
        "a drill cannot void real money"
    );
    f.void(&practice.number, "練習").unwrap();
    // During the drill the desk sees its practice work…
    assert_eq!(f.rt.block_on(f.desk.receipts_of(false)).unwrap().len(), 2);
    let during = f.rt.block_on(f.desk.call_list(false)).unwrap();
    assert_eq!(during.reached, 1);

    // …but the mirror and the outbox never saw it.
    let today = f.rt.block_on(f.desk.today(None)).unwrap();
    let appt = today.appointments.iter().find(|a| a.id == first).unwrap();
    assert_ne!(
        appt.status,
        tsunagi_core::model::AppointmentStatus::Cancelled
    );
    assert_eq!(f.outbox_kinds(), outbox_before);

    f.rt.block_on(f.desk.end_drill()).unwrap();
    let ledger = f.ledger();
    assert_eq!(ledger.len(), 1, "only the real receipt");
    assert_eq!(ledger[0].number, real.number);
    let after = f.rt.block_on(f.desk.call_list(false)).unwrap();
    assert_eq!(
        after.reached, 0,
        "the drill's calls are archived, not on the real list"
    );
    assert_eq!(f.rt.block_on(f.desk.receipt_summary()).unwrap().total, 1000);
}

/// Issue 20, item 8: a void took the next receipt number, so the numbers handed to
/// patients skipped one (T001, T002, void T003, next patient T004).
#[test]
fn issue_20_a_void_does_not_take_a_number_from_the_next_patient() {
    let f = desk("a1b2c3d4e5f6");
    let first = f
        .add(pay("5000", PaymentMethod::Card, "山田 太郎"))
        .unwrap();
    let second = f
        .add(pay("1650", PaymentMethod::Cash, "佐藤 花子"))
        .unwrap();
    let void = f.void(&second.number, "金額の誤り").unwrap();
    assert_eq!(
        void.number,
        format!("{}-V", second.number),
        "a void is named after what it voids"
    );
    let third = f
        .add(pay("1650", PaymentMethod::Cash, "佐藤 花子"))
        .unwrap();
    let seq = |n: &str| n.rsplit('-').next().unwrap().to_owned();
    assert_eq!(
        [seq(&first.number), seq(&second.number), seq(&third.number)],
        ["001", "002", "003"],
        "no gap in the numbers handed out"
    );
    // A second void the same day has its own entry too.
    let void_first = f.void(&first.number, "二重入力").unwrap();
    assert_eq!(void_first.number, format!("{}-V", first.number));
    assert_eq!(f.ledger().len(), 5);
}

/// Issue 20, item 4: a receipt that did not show at once could be issued twice. An
/// identical one (amount, method, patient) within a few seconds is asked about first.
#[test]
fn issue_20_a_second_identical_receipt_within_seconds_asks_first() {
    let f = desk("a1b2c3d4e5f6");
    let first = f
        .add(pay("1650", PaymentMethod::Cash, "佐藤 花子"))
        .unwrap();
    let again = f
        .add(pay("1650", PaymentMethod::Cash, "佐藤 花子"))
        .unwrap_err();
    assert_eq!(again.code(), "receipt.looks_repeated");
    assert!(again.to_string().contains(&first.number), "{again}");
    assert_eq!(f.ledger().len(), 1, "nothing issued before she confirms");
    // Another patient, method or amount is no repeat.
    f.add(pay("1650", PaymentMethod::Card, "佐藤 花子"))
        .unwrap();
    f.add(pay("1650", PaymentMethod::Cash, "鈴木 一郎"))
        .unwrap();
    // Confirmed, or later: issued.
    let mut sure = pay("1650", PaymentMethod::Cash, "佐藤 花子");
    sure.repeat_ok = true;
    f.add(sure).unwrap();
    f.clock.advance(chrono::Duration::seconds(
        tsunagi_core::receipts::REPEAT_SECONDS + 1,
    ));
    f.add(pay("1650", PaymentMethod::Cash, "佐藤 花子"))
        .unwrap();
    assert_eq!(f.ledger().len(), 5);
}

/// Issue 20, item 12: the receipt's patient list leaves out cancelled patients and is
/// searched by kana in either script.
#[test]
fn issue_20_the_receipt_patients_are_todays_not_cancelled_found_by_kana() {
    let f = desk("a1b2c3d4e5f6");
    let day = f.rt.block_on(f.desk.today(None)).unwrap();
    let cancelled = day
        .appointments
        .iter()
        .find(|a| a.status == tsunagi_core::model::AppointmentStatus::Cancelled)
        .and_then(|a| a.patient.clone())
        .expect("the demo day has a cancellation");
    let all = f.rt.block_on(f.desk.receipt_patients("")).unwrap();
    assert!(!all.is_empty());
    assert!(
        all.iter().all(|p| p.id != cancelled.id),
        "no cancelled patient"
    );
    let yamada = f.rt.block_on(f.desk.receipt_patients("やま")).unwrap();
    assert!(!yamada.is_empty());
    assert!(yamada
        .iter()
        .all(|p| p.kana.as_deref().is_some_and(|k| k.contains("ヤマ")) || p.name.contains("やま")));
}
