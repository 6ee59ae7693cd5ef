//! The receipt ledger: payments taken at the desk while the billing system is out of
//! reach, as provisional receipts (仮領収書). Integer yen; never edited or deleted; a void
//! is a later entry with a reason.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use unicode_normalization::UnicodeNormalization;

/// The largest amount one receipt may carry (¥10,000,000): anything above is a typing
/// slip at a clinic desk.
pub const MAX_YEN: i64 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// 現金
    Cash,
    /// カード（Square などの端末）
    Card,
    /// QRコード決済
    Qr,
    /// 後日精算
    Deferred,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::Cash,
        PaymentMethod::Card,
        PaymentMethod::Qr,
        PaymentMethod::Deferred,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
            PaymentMethod::Qr => "qr",
            PaymentMethod::Deferred => "deferred",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.code() == s)
    }
}

/// Why an amount was refused; each has its own error code and words on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("the amount is empty")]
    Empty,
    #[error("the amount is not a number of yen")]
    NotANumber,
    #[error("the amount must be more than zero")]
    Zero,
    #[error("the amount cannot be negative")]
    Negative,
    #[error("the amount is more than ¥10,000,000")]
    TooLarge,
}

impl AmountError {
    pub fn code(self) -> crate::ErrorCode {
        match self {
            AmountError::Empty => crate::ErrorCode::ReceiptAmountEmpty,
            AmountError::NotANumber => crate::ErrorCode::ReceiptAmountNotANumber,
            AmountError::Zero => crate::ErrorCode::ReceiptAmountZero,
            AmountError::Negative => crate::ErrorCode::ReceiptAmountNegative,
            AmountError::TooLarge => crate::ErrorCode::ReceiptAmountTooLarge,
        }
    }
}

/// Read an amount as typed at the desk: full-width digits (３，０００), thousands separators
/// and a yen sign or 円 are fine; anything else is refused with the reason.
pub fn parse_yen(text: &str) -> Result<i64, AmountError> {
    let folded: String = text.nfkc().collect();
    let mut s = folded.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    s = s
        .strip_prefix('¥')
        .or_else(|| s.strip_prefix('\\'))
        .unwrap_or(s);
    s = s.strip_suffix('円').unwrap_or(s).trim();
    let negative = s.starts_with(['-', '−', '▲']);
    let digits: String = s
        .trim_start_matches(['-', '−', '▲', '+'])
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(AmountError::NotANumber);
    }
    if negative && digits.chars().any(|c| c != '0') {
        return Err(AmountError::Negative);
    }
    // More digits than any allowed amount has: too large (and no overflow to worry about).
    if digits.trim_start_matches('0').len() > 8 {
        return Err(AmountError::TooLarge);
    }
    let yen: i64 = digits.parse().map_err(|_| AmountError::NotANumber)?;
    match yen {
        0 => Err(AmountError::Zero),
        y if y > MAX_YEN => Err(AmountError::TooLarge),
        y => Ok(y),
    }
}

/// A payment to record, as the screen or the CLI says it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    /// As typed (full-width digits accepted).
    pub amount: String,
    pub method: PaymentMethod,
    /// A patient picked from the mirror…
    #[ts(optional)]
    pub patient_id: Option<String>,
    /// …or a name typed at the desk.
    #[ts(optional)]
    pub patient_name: Option<String>,
    #[ts(optional)]
    pub memo: Option<String>,
    #[ts(optional)]
    pub staff: Option<String>,
    /// The person confirmed a second receipt identical to one issued a moment ago.
    #[ts(as = "Option<bool>", optional)]
    #[serde(default)]
    pub repeat_ok: bool,
}

/// A receipt identical to one issued this recently (same amount, method and patient) is
/// asked about first: a second press of 発行 is the likelier story than a second payment.
pub const REPEAT_SECONDS: i64 = 15;

/// A patient to write a receipt for: today's, not cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReceiptPatient {
    pub id: String,
    pub name: String,
    pub kana: Option<String>,
    /// The appointment's time, `HH:MM`.
    pub time_label: Option<String>,
}

/// Text as a search compares it: NFKC (half-width kana become full-width), hiragana as
/// katakana, lower case, no spaces. 「やまだ」 finds 「ヤマダ タロウ」.
pub fn search_key(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a patient matches what was typed (name or kana, anywhere in them).
pub fn patient_matches(query: &str, name: &str, kana: Option<&str>) -> bool {
    let q = search_key(query);
    q.is_empty()
        || search_key(name).contains(&q)
        || kana.is_some_and(|k| search_key(k).contains(&q))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Payment,
    Void,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReceiptView {
    pub number: String,
    pub kind: ReceiptKind,
    /// For a void: the receipt it voids.
    pub voids: Option<String>,
    /// For a payment: the void that cancelled it, if any.
    pub voided_by: Option<String>,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    /// Yen; negative for a void.
    #[ts(type = "number")]
    pub amount: i64,
    /// The amount as the desk writes it ([`yen`]).
    pub amount_label: String,
    pub method: PaymentMethod,
    pub memo: Option<String>,
    pub staff: Option<String>,
    pub reason: Option<String>,
    /// RFC 3339 with the clinic's offset.
    pub at: String,
    /// `YYYY-MM-DD` at the clinic.
    pub day: String,
    pub entered_in_billing: bool,
    /// Recorded in a drill (訓練): practice, never sent upstream.
    pub drill: bool,
    /// The desk that issued it, when another desk did (its name): that desk's drawer holds
    /// the money, and only that desk voids it.
    pub desk: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MethodTotal {
    pub method: PaymentMethod,
    /// Payments not voided.
    pub count: u32,
    #[ts(type = "number")]
    pub total: i64,
    pub total_label: String,
}

/// One clinic day's money per method (for the cash drawer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DaySummary {
    pub day: String,
    pub methods: Vec<MethodTotal>,
    #[ts(type = "number")]
    pub total: i64,
    pub total_label: String,
    pub voids: u32,
    /// Each desk's part (this desk first), for its own drawer, and each staff member's.
    pub desks: Vec<DeskTotal>,
}

/// One desk's money in a summary: what its drawer should hold, and who took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DeskTotal {
    /// The desk's name; `None` for this desk.
    pub desk: Option<String>,
    /// Cash, voids taken off: what the desk's drawer should hold.
    #[ts(type = "number")]
    pub cash: i64,
    pub cash_label: String,
    #[ts(type = "number")]
    pub total: i64,
    pub total_label: String,
    pub staff: Vec<StaffTotal>,
}

/// One staff member's money at one desk (a void counts for whoever voided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StaffTotal {
    /// `None`: no name was given.
    pub staff: Option<String>,
    /// Payments not voided.
    pub count: u32,
    #[ts(type = "number")]
    pub total: i64,
    pub total_label: String,
}

/// A receipt just issued, and the ledger with it (the screen confirms the number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReceiptIssued {
    pub number: String,
    pub ledger: LedgerView,
}

/// Today's receipts and their summary, as the ledger screen shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LedgerView {
    pub receipts: Vec<ReceiptView>,
    pub summary: DaySummary,
}

/// Yen as the desk writes it, on screen and on paper: `¥12,300`, a void `-¥500`.
pub fn yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}¥{grouped}", if amount < 0 { "-" } else { "" })
}

/// The day's summary from its ledger lines: voids cancel what they void.
pub fn summarise(day: &str, receipts: &[ReceiptView]) -> DaySummary {
    let mut summary = totals(receipts.iter().filter(|r| r.day == day));
    summary.day = day.to_owned();
    summary
}

/// Money per method over any receipts (a report's, across days); `day` left empty.
pub fn totals<'a>(receipts: impl Iterator<Item = &'a ReceiptView>) -> DaySummary {
    let mut methods: Vec<MethodTotal> = PaymentMethod::ALL
        .iter()
        .map(|m| MethodTotal {
            method: *m,
            count: 0,
            total: 0,
            total_label: String::new(),
        })
        .collect();
    let mut voids = 0;
    let mut desks: Vec<DeskTotal> = Vec::new();
    for r in receipts {
        let Some(m) = methods.iter_mut().find(|m| m.method == r.method) else {
            continue;
        };
        m.total += r.amount;
        add_to_desk(&mut desks, r);
        match r.kind {
            ReceiptKind::Payment if r.voided_by.is_none() => m.count += 1,
            ReceiptKind::Payment => {}
            ReceiptKind::Void => voids += 1,
        }
    }
    for m in &mut methods {
        m.total_label = yen(m.total);
    }
    let total = methods.iter().map(|m| m.total).sum();
    // This desk first, then the others by name; staff by name, the unnamed last.
    desks.sort_by(|a, b| (a.desk.is_some(), &a.desk).cmp(&(b.desk.is_some(), &b.desk)));
    for d in &mut desks {
        d.cash_label = yen(d.cash);
        d.total_label = yen(d.total);
        d.staff
            .sort_by(|a, b| (a.staff.is_none(), &a.staff).cmp(&(b.staff.is_none(), &b.staff)));
        for s in &mut d.staff {
            s.total_label = yen(s.total);
        }
    }
    DaySummary {
        day: String::new(),
        total,
        total_label: yen(total),
        methods,
        voids,
        desks,
    }
}

/// A receipt's money in its desk's and its staff member's totals (labels written later).
fn add_to_desk(desks: &mut Vec<DeskTotal>, r: &ReceiptView) {
    let i = match desks.iter().position(|d| d.desk == r.desk) {
        Some(i) => i,
        None => {
            desks.push(DeskTotal {
                desk: r.desk.clone(),
                cash: 0,
                cash_label: String::new(),
                total: 0,
                total_label: String::new(),
                staff: Vec::new(),
            });
            desks.len() - 1
        }
    };
    let d = &mut desks[i];
    d.total += r.amount;
    if r.method == PaymentMethod::Cash {
        d.cash += r.amount;
    }
    let j = match d.staff.iter().position(|s| s.staff == r.staff) {
        Some(j) => j,
        None => {
            d.staff.push(StaffTotal {
                staff: r.staff.clone(),
                count: 0,
                total: 0,
                total_label: String::new(),
            });
            d.staff.len() - 1
        }
    };
    let s = &mut d.staff[j];
    s.total += r.amount;
    if r.kind == ReceiptKind::Payment && r.voided_by.is_none() {
        s.count += 1;
    }
}

/// The ledger as CSV for entering into the billing system by hand (UTF-8 with BOM, so
/// Excel on a Japanese Windows reads it).
pub fn to_csv(receipts: &[ReceiptView]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let _ = w.write_record([
        "number",
        "day",
        "at",
        "kind",
        "voids",
        "patient_id",
        "patient_name",
        "amount",
        "method",
        "memo",
        "staff",
        "reason",
        "entered_in_billing",
    ]);
    for r in receipts {
        let kind = match r.kind {
            ReceiptKind::Payment => "payment",
            ReceiptKind::Void => "void",
        };
        let _ = w.write_record([
            r.number.as_str(),
            &r.day,
            &r.at,
            kind,
            r.voids.as_deref().unwrap_or(""),
            r.patient_id.as_deref().unwrap_or(""),
            r.patient_name.as_deref().unwrap_or(""),
            &r.amount.to_string(),
            r.method.code(),
            r.memo.as_deref().unwrap_or(""),
            r.staff.as_deref().unwrap_or(""),
            r.reason.as_deref().unwrap_or(""),
            if r.entered_in_billing { "yes" } else { "no" },
        ]);
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_is_found_by_kana_in_either_script_and_by_name() {
        assert!(patient_matches(
            "やまだ",
            "山田 太郎",
            Some("ヤマダ タロウ")
        ));
        assert!(patient_matches("ﾔﾏﾀﾞ", "山田 太郎", Some("ヤマダ タロウ")));
        assert!(patient_matches("山田太郎", "山田 太郎", None));
        assert!(patient_matches("", "山田 太郎", None));
        assert!(!patient_matches(
            "さとう",
            "山田 太郎",
            Some("ヤマダ タロウ")
        ));
    }

    #[test]
    fn yen_is_grouped_by_thousands_and_a_void_keeps_its_minus_in_front() {
        assert_eq!(yen(0), "¥0");
        assert_eq!(yen(980), "¥980");
        assert_eq!(yen(1_000), "¥1,000");
        assert_eq!(yen(12_345_678), "¥12,345,678");
        assert_eq!(yen(-3_000), "-¥3,000");
    }

    #[test]
    fn amounts_are_read_as_a_desk_types_them() {
        assert_eq!(parse_yen("3000"), Ok(3000));
        assert_eq!(
            parse_yen("３，０００"),
            Ok(3000),
            "full-width digits and comma"
        );
        assert_eq!(parse_yen("¥1,280"), Ok(1280));
        assert_eq!(parse_yen(" 4500円 "), Ok(4500));
        assert_eq!(parse_yen("10000000"), Ok(MAX_YEN));
    }

    #[test]
    fn bad_amounts_are_refused_with_their_reason() {
        assert_eq!(parse_yen(""), Err(AmountError::Empty));
        assert_eq!(parse_yen("   "), Err(AmountError::Empty));
        assert_eq!(parse_yen("0"), Err(AmountError::Zero));
        assert_eq!(parse_yen("０"), Err(AmountError::Zero));
        assert_eq!(parse_yen("-500"), Err(AmountError::Negative));
        assert_eq!(parse_yen("−５００"), Err(AmountError::Negative));
        assert_eq!(parse_yen("10000001"), Err(AmountError::TooLarge));
        assert_eq!(
            parse_yen("99999999999999999999999"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(parse_yen("12.5"), Err(AmountError::NotANumber));
        assert_eq!(parse_yen("千円"), Err(AmountError::NotANumber));
        assert_eq!(parse_yen("abc"), Err(AmountError::NotANumber));
    }
}
