//! Paper: the provisional receipt (仮領収書), the outage or drill report, and the downtime
//! sheet. Each is an HTML fragment carrying its own print styles, so the window's print
//! view and the file in the printouts folder are the same page. Every value is escaped.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::calls::CallOutcome;
use crate::config::Language;
use crate::model::AppointmentStatus;
use crate::receipts::{yen, DaySummary, PaymentMethod, ReceiptKind, ReceiptView};
use crate::report::{IncidentReport, ReportKind};
use crate::view::TodayView;

/// A page to print: the window shows `html` in its print view, files wrap it in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Printout {
    pub title: String,
    pub html: String,
}

/// Which page a print view shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrintRequest {
    /// An outage's or a drill's report.
    Report {
        report: ReportKind,
        #[ts(type = "number")]
        id: i64,
    },
    /// The 仮領収書 of one payment.
    Receipt { number: String },
    /// Today's schedule with phones.
    DowntimeSheet,
}

const STYLE: &str = "<style>
.tp{font-family:'Hiragino Sans','Yu Gothic','Noto Sans CJK JP',sans-serif;color:#111;font-size:11pt;line-height:1.5}
.tp h1{font-size:16pt;margin:0 0 4px}.tp h2{font-size:12pt;margin:16px 0 4px;border-bottom:1px solid #999}
.tp .meta{color:#444;margin:0 0 8px}.tp table{border-collapse:collapse;width:100%}
.tp th,.tp td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}
.tp th{background:#eee}.tp .nw{white-space:nowrap}.tp td.num{text-align:right;white-space:nowrap}.tp .blank{width:22%}
.tp .drill{display:inline-block;border:2px solid #b91c1c;color:#b91c1c;font-weight:700;padding:0 8px;margin-left:8px}
.tp .void{text-decoration:line-through;color:#666}.tp .receipt{max-width:150mm;border:1px solid #333;padding:10mm}
.tp .amount{font-size:22pt;font-weight:700;border-bottom:2px solid #111;display:inline-block;padding:0 12px}
.tp .small{font-size:9pt;color:#444}
@media print{.tp{font-size:10pt}.tp tr{break-inside:avoid}}
</style>";

/// HTML-escape text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn opt(text: Option<&str>) -> String {
    text.map(escape).unwrap_or_default()
}

fn ja(language: Language) -> bool {
    language == Language::Ja
}

pub fn method_label(method: PaymentMethod, language: Language) -> &'static str {
    match (method, ja(language)) {
        (PaymentMethod::Cash, true) => "現金",
        (PaymentMethod::Card, true) => "カード",
        (PaymentMethod::Qr, true) => "QR決済",
        (PaymentMethod::Deferred, true) => "後日精算",
        (PaymentMethod::Cash, false) => "Cash",
        (PaymentMethod::Card, false) => "Card",
        (PaymentMethod::Qr, false) => "QR payment",
        (PaymentMethod::Deferred, false) => "Pay later",
    }
}

pub fn outcome_label(outcome: CallOutcome, language: Language) -> &'static str {
    match (outcome, ja(language)) {
        (CallOutcome::Cancelled, true) => "キャンセル",
        (CallOutcome::Rescheduled, true) => "日時変更",
        (CallOutcome::Coming, true) => "来院予定",
        (CallOutcome::NoAnswer, true) => "不在",
        (CallOutcome::LeftMessage, true) => "留守電",
        (CallOutcome::WrongNumber, true) => "番号違い",
        (CallOutcome::Cancelled, false) => "Cancelled",
        (CallOutcome::Rescheduled, false) => "Rescheduled",
        (CallOutcome::Coming, false) => "Coming anyway",
        (CallOutcome::NoAnswer, false) => "No answer",
        (CallOutcome::LeftMessage, false) => "Left a message",
        (CallOutcome::WrongNumber, false) => "Wrong number",
    }
}

fn status_label(status: AppointmentStatus, language: Language) -> &'static str {
    use AppointmentStatus as S;
    match (status, ja(language)) {
        (S::Proposed, true) => "仮予約",
        (S::Pending, true) => "確認待ち",
        (S::Booked, true) => "予約済",
        (S::Arrived, true) => "来院済",
        (S::Fulfilled, true) => "診察済",
        (S::Cancelled, true) => "キャンセル",
        (S::Noshow, true) => "未来院",
        (S::EnteredInError, true) => "誤登録",
        (S::CheckedIn, true) => "受付済",
        (S::Waitlist, true) => "キャンセル待ち",
        (S::Proposed, false) => "Proposed",
        (S::Pending, false) => "Pending",
        (S::Booked, false) => "Booked",
        (S::Arrived, false) => "Arrived",
        (S::Fulfilled, false) => "Completed",
        (S::Cancelled, false) => "Cancelled",
        (S::Noshow, false) => "No-show",
        (S::EnteredInError, false) => "Entered in error",
        (S::CheckedIn, false) => "Checked in",
        (S::Waitlist, false) => "Waitlist",
    }
}

/// `2026年11月25日 10:12` / `2026-11-25 10:12` from an RFC 3339 time on the clinic's clock.
fn when(rfc3339: &str, language: Language) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) if ja(language) => t.format("%Y年%-m月%-d日 %H:%M").to_string(),
        Ok(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

fn drill_mark(language: Language) -> String {
    let text = if ja(language) { "訓練" } else { "DRILL" };
    format!("<span class=\"drill\">{text}</span>")
}

/// A 仮領収書 for one payment: what the patient takes home until the billing system is back.
pub fn receipt(r: &ReceiptView, clinic: Option<&str>, language: Language) -> Printout {
    let j = ja(language);
    let title = if j {
        format!("仮領収書 {}", r.number)
    } else {
        format!("Provisional receipt {}", r.number)
    };
    let mut h = String::from(STYLE);
    h.push_str("<div class=\"tp\"><div class=\"receipt\">");
    let heading = if j {
        "仮領収書"
    } else {
        "Provisional receipt"
    };
    let _ = write!(h, "<h1>{heading}");
    if r.drill {
        h.push_str(&drill_mark(language));
    }
    h.push_str("</h1>");
    let _ = write!(
        h,
        "<p class=\"meta\">No. {} ・ {}</p>",
        escape(&r.number),
        escape(&when(&r.at, language))
    );
    let name = r.patient_name.as_deref().unwrap_or("");
    let _ = if j {
        write!(h, "<p>{} 様</p>", escape(name))
    } else {
        write!(h, "<p>Received from: {}</p>", escape(name))
    };
    let amount_class = if r.voided_by.is_some() {
        "amount void"
    } else {
        "amount"
    };
    let _ = write!(
        h,
        "<p><span class=\"{amount_class}\">{}{}</span></p>",
        escape(&yen(r.amount)),
        if j { "－" } else { "" }
    );
    let memo = r.memo.as_deref();
    let _ = if j {
        write!(
            h,
            "<p>但し {} として上記正に領収いたしました。</p><p>お支払い方法：{}</p>",
            escape(memo.unwrap_or("診療費")),
            method_label(r.method, language)
        )
    } else {
        write!(
            h,
            "<p>For: {}</p><p>Paid by: {}</p>",
            escape(memo.unwrap_or("medical fees")),
            method_label(r.method, language)
        )
    };
    if let Some(void) = &r.voided_by {
        let _ = if j {
            write!(h, "<p><strong>取消済（{}）</strong></p>", escape(void))
        } else {
            write!(h, "<p><strong>Voided ({})</strong></p>", escape(void))
        };
    }
    let _ = write!(h, "<p><strong>{}</strong>", opt(clinic));
    if let Some(staff) = &r.staff {
        let _ = write!(
            h,
            "　{}{}",
            if j { "担当：" } else { "Staff: " },
            escape(staff)
        );
    }
    h.push_str("</p><p class=\"small\">");
    h.push_str(if j {
        "※システム障害のため仮の領収書をお渡ししています。正式な領収書は後日お渡しします。"
    } else {
        "Issued during a system outage. The formal receipt will follow."
    });
    h.push_str("</p></div></div>");
    Printout { title, html: h }
}

fn totals_table(h: &mut String, totals: &DaySummary, language: Language) {
    let j = ja(language);
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        if j { "支払方法" } else { "Method" },
        if j { "件数" } else { "Count" },
        if j { "金額" } else { "Amount" }
    );
    for m in &totals.methods {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            method_label(m.method, language),
            m.count,
            yen(m.total)
        );
    }
    let _ = write!(
        h,
        "<tr><th>{}</th><th></th><th class=\"num\">{}</th></tr></table>",
        if j { "合計" } else { "Total" },
        yen(totals.total)
    );
}

/// What happened in an outage or a drill, for the clinic's records.
pub fn report(rep: &IncidentReport, language: Language) -> Printout {
    let j = ja(language);
    let s = &rep.summary;
    let heading = match (s.kind, j) {
        (ReportKind::Outage, true) => "障害記録",
        (ReportKind::Outage, false) => "Outage report",
        (ReportKind::Drill, true) => "訓練記録",
        (ReportKind::Drill, false) => "Drill report",
    };
    let title = format!("{heading} #{} {}", s.id, s.started_label);
    let mut h = String::from(STYLE);
    let _ = write!(h, "<div class=\"tp\"><h1>{heading} #{}", s.id);
    if s.kind == ReportKind::Drill {
        h.push_str(&drill_mark(language));
    }
    let _ = write!(
        h,
        "</h1><p class=\"meta\">{}</p>",
        opt(rep.clinic_name.as_deref())
    );
    let ongoing = if j { "継続中" } else { "ongoing" };
    let _ = write!(
        h,
        "<p>{}：{} ～ {}",
        if j { "期間" } else { "From" },
        escape(&s.started_label),
        s.ended_label
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| ongoing.to_owned())
    );
    if let Some(m) = s.minutes {
        let _ = if j {
            write!(h, "（{m}分）")
        } else {
            write!(h, " ({m} min)")
        };
    }
    h.push_str("</p>");
    if let Some(cause) = &s.cause_text {
        let label = match (s.kind, j) {
            (ReportKind::Outage, true) => "原因",
            (ReportKind::Outage, false) => "Cause",
            (ReportKind::Drill, true) => "終了",
            (ReportKind::Drill, false) => "End",
        };
        let _ = write!(h, "<p>{label}：{}</p>", escape(cause));
    }

    let _ = write!(
        h,
        "<h2>{} ({}/{})</h2><table>",
        if j {
            "チェックリスト"
        } else {
            "Checklist"
        },
        rep.checklist_done,
        rep.checklist.len()
    );
    for item in &rep.checklist {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if item.done { "✓" } else { "" },
            escape(&item.text),
            opt(item.at_label.as_deref()),
            opt(item.staff.as_deref())
        );
    }
    h.push_str("</table>");

    if !rep.booking.is_empty() {
        let _ =
            write!(
            h,
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            if j { "Web予約" } else { "Web booking" },
            if j { "時刻" } else { "At" },
            if j { "操作" } else { "Action" },
            if j { "担当" } else { "Staff" },
            if j { "予約システムに反映" } else { "Reached the system" },
            if j { "枠" } else { "Slots" },
        );
        for b in &rep.booking {
            let action = match (b.stopped, b.by_hand, j) {
                (true, false, true) => "停止",
                (true, false, false) => "Stopped",
                (false, false, true) => "再開",
                (false, false, false) => "Reopened",
                (true, true, true) => "停止（予約サービスで手作業）",
                (true, true, false) => "Stopped by hand at the booking service",
                (false, true, true) => "再開（予約サービスで手作業）",
                (false, true, false) => "Reopened by hand at the booking service",
            };
            let not_yet = if j { "未送信" } else { "not yet" };
            // By hand: nothing went through Tsunagi; the staff member's word is the record.
            let (reached, slots) = if b.by_hand {
                ("—".to_owned(), "—".to_owned())
            } else {
                (
                    b.done_label
                        .as_deref()
                        .map(escape)
                        .unwrap_or_else(|| not_yet.to_owned()),
                    b.slots.to_string(),
                )
            };
            let _ = write!(
                h,
                "<tr><td class=\"nw\">{}</td><td>{action}</td><td class=\"nw\">{}</td><td class=\"nw\">{reached}</td><td>{slots}</td></tr>",
                escape(&b.at_label),
                opt(b.staff.as_deref()),
            );
        }
        h.push_str("</table>");
    }

    let _ = write!(
        h,
        "<h2>{} ({})</h2>",
        if j { "電話連絡" } else { "Calls" },
        rep.calls.len()
    );
    if !rep.calls.is_empty() {
        let _ = write!(
            h,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            if j { "時刻" } else { "At" },
            if j { "患者" } else { "Patient" },
            if j { "予約" } else { "Appointment" },
            if j { "結果" } else { "Outcome" },
            if j { "担当" } else { "Staff" },
            if j { "メモ" } else { "Note" }
        );
        for c in &rep.calls {
            let mut outcome = outcome_label(c.outcome, language).to_owned();
            // Another desk's call: its name before who made it (受付1 鈴木).
            let who = match (&c.desk, &c.staff) {
                (Some(desk), Some(staff)) => Some(format!("{desk} {staff}")),
                (Some(desk), None) => Some(desk.clone()),
                (None, staff) => staff.clone(),
            };
            if let Some(n) = &c.new_start_label {
                outcome.push_str(&format!(" → {n}"));
            }
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td>{}</td></tr>",
                escape(&c.at_label),
                escape(c.patient_name.as_deref().unwrap_or(&c.appointment_id)),
                opt(c.appointment_label.as_deref()),
                escape(&outcome),
                opt(who.as_deref()),
                opt(c.note.as_deref())
            );
        }
        h.push_str("</table>");
    }

    let _ = write!(
        h,
        "<h2>{} ({})</h2>",
        if j { "領収書" } else { "Receipts" },
        rep.receipts.len()
    );
    if !rep.receipts.is_empty() {
        receipts_table(&mut h, &rep.receipts, language);
        totals_table(&mut h, &rep.totals, language);
    }
    h.push_str("</div>");
    Printout { title, html: h }
}

fn receipts_table(h: &mut String, receipts: &[ReceiptView], language: Language) {
    let j = ja(language);
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        if j { "番号" } else { "Number" },
        if j { "時刻" } else { "At" },
        if j { "患者" } else { "Patient" },
        if j { "支払方法" } else { "Method" },
        if j { "金額" } else { "Amount" },
        if j { "備考" } else { "Note" }
    );
    for r in receipts {
        let time = chrono::DateTime::parse_from_rfc3339(&r.at)
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default();
        let (class, note) = match (r.kind, &r.voided_by) {
            (ReceiptKind::Void, _) => (
                "",
                format!(
                    "{} {}: {}",
                    if j { "取消" } else { "Void of" },
                    r.voids.as_deref().unwrap_or(""),
                    r.reason.as_deref().unwrap_or("")
                ),
            ),
            (ReceiptKind::Payment, Some(by)) => (
                " class=\"void\"",
                format!("{} {by}", if j { "取消済" } else { "voided by" }),
            ),
            (ReceiptKind::Payment, None) => ("", r.memo.clone().unwrap_or_default()),
        };
        let _ = write!(
            h,
            "<tr{class}><td class=\"nw\">{}</td><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&r.number),
            time,
            opt(r.patient_name.as_deref()),
            method_label(r.method, language),
            yen(r.amount),
            escape(&note)
        );
    }
    h.push_str("</table>");
}

/// The day's schedule with phone numbers, to work from on paper if the PC itself fails.
pub fn downtime_sheet(day: &TodayView, made_at_label: &str, language: Language) -> Printout {
    let j = ja(language);
    let weekday = if j {
        ["日", "月", "火", "水", "木", "金", "土"]
    } else {
        ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    }[usize::from(day.weekday % 7)];
    let title = if j {
        format!("ダウンタイム用予定表 {}（{weekday}）", day.date)
    } else {
        format!("Downtime sheet {} ({weekday})", day.date)
    };
    let mut h = String::from(STYLE);
    let _ = write!(
        h,
        "<div class=\"tp\"><h1>{}</h1><p class=\"meta\">{} ・ ",
        escape(&title),
        opt(day.status.clinic_name.as_deref())
    );
    let _ = if j {
        write!(
            h,
            "{made_at_label} 作成（{} 時点のデータ）・ {}件</p>",
            opt(day.status.synced_at_label.as_deref()),
            day.appointments.len()
        )
    } else {
        write!(
            h,
            "made {made_at_label} (data as of {}) · {} appointments</p>",
            opt(day.status.synced_at_label.as_deref()),
            day.appointments.len()
        )
    };
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=\"blank\">{}</th></tr>",
        if j { "時刻" } else { "Time" },
        if j { "患者（カナ）" } else { "Patient" },
        if j { "電話" } else { "Phone" },
        if j { "内容" } else { "Reason" },
        if j { "状態" } else { "Status" },
        if j { "連絡メモ" } else { "Notes" }
    );
    for a in &day.appointments {
        let (name, kana, phones) = match &a.patient {
            Some(p) => (
                escape(&p.name),
                p.kana
                    .as_deref()
                    .map(|k| format!("<br><span class=\"small\">{}</span>", escape(k)))
                    .unwrap_or_default(),
                p.phones
                    .iter()
                    .map(|ph| escape(&ph.display))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            ),
            None => ("—".to_owned(), String::new(), String::new()),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"nw\">{name}{kana}</td><td class=\"nw\">{phones}</td><td>{}</td><td class=\"nw\">{}</td><td></td></tr>",
            opt(a.start_time.as_deref()),
            opt(a.reason.as_deref()),
            status_label(a.status, language)
        );
    }
    h.push_str("</table></div>");
    Printout { title, html: h }
}

/// A standalone HTML file for a printout (what the printouts folder holds).
pub fn document(page: &Printout, language: Language) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>{}</body></html>\n",
        language.code(),
        escape(&page.title),
        page.html
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
