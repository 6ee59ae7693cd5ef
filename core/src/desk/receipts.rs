//! The desk's receipt ledger: record, void, list, summarise, export, mark entered.

use super::{blocking, Actor, Desk};
use crate::audit::AuditAction;
use crate::calls::clean_text;
use crate::error::{CoreError, Result};
use crate::model::AppointmentStatus;
use crate::receipts::{
    parse_yen, patient_matches, summarise, DaySummary, ReceiptInput, ReceiptPatient, ReceiptView,
    REPEAT_SECONDS,
};
use crate::store::{ReceiptError, ReceiptInsert};

const MEMO_MAX: usize = 200;
const NAME_MAX: usize = 60;

impl Desk {
    /// This desk's part of receipt numbers: six characters of its device id, so two desks
    /// of one clinic never hand out the same number.
    fn device_prefix(&self) -> String {
        self.config()
            .device_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(6)
            .collect::<String>()
            .to_ascii_uppercase()
    }

    /// Record a payment; returns its provisional receipt (仮領収書) number.
    pub async fn add_receipt(&self, input: ReceiptInput) -> Result<ReceiptView> {
        let amount = parse_yen(&input.amount).map_err(ReceiptError::from)?;
        let patient_id = clean_text("the patient id", input.patient_id.as_deref(), 200)?;
        let patient_name = clean_text("the patient name", input.patient_name.as_deref(), NAME_MAX)?;
        let now = self.clock.now();
        let insert = ReceiptInsert {
            day: self.clinic_day(),
            device_prefix: self.device_prefix(),
            patient_id,
            patient_name,
            amount,
            method: input.method,
            memo: clean_text("the memo", input.memo.as_deref(), MEMO_MAX)?,
            staff: self.staff_for(input.staff.as_deref())?,
            reason: None,
            voids: None,
            at: now,
            op_key: self.op_key(),
            upstream: self.config().upstream_key()?,
            repeat_since: (!input.repeat_ok)
                .then(|| now - chrono::Duration::seconds(REPEAT_SECONDS)),
        };
        self.insert_receipt(insert).await
    }

    /// Today's patients a receipt can be written for (not cancelled), in time order, those
    /// matching `query` (name or kana, hiragana or katakana). Audited as the day's view.
    pub async fn receipt_patients(&self, query: &str) -> Result<Vec<ReceiptPatient>> {
        // Asked on every keystroke: the day's rows only (not the whole day view with the
        // mirror's status), audited as the day's view (repeats fold into one row).
        let cal = self.config().calendar();
        let range = cal.days(cal.today(self.clock.now()), 1);
        let store = self.store.clone();
        let rows = blocking(move || store.appointments_in(range)).await?;
        self.audit(
            Actor::Person(None),
            AuditAction::TodayView,
            rows.iter()
                .map(|r| format!("appointment:{}", r.appointment.source_id))
                .collect(),
            serde_json::json!({ "for": "receipt" }),
        )
        .await;
        let mut seen = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|r| {
                !matches!(
                    r.appointment.status,
                    AppointmentStatus::Cancelled
                        | AppointmentStatus::EnteredInError
                        | AppointmentStatus::Noshow
                )
            })
            .filter_map(|r| {
                let start = r.appointment.start;
                let p = r.patient?;
                (seen.insert(p.source_id.clone())
                    && patient_matches(query, &p.name, p.kana.as_deref()))
                .then(|| ReceiptPatient {
                    id: p.source_id,
                    name: p.name,
                    kana: p.kana,
                    time_label: start.map(|t| cal.local(t).format("%H:%M").to_string()),
                })
            })
            .collect())
    }

    /// Void a receipt: a new entry with the reason; the original stays as it was.
    pub async fn void_receipt(
        &self,
        number: &str,
        reason: &str,
        staff: Option<&str>,
    ) -> Result<ReceiptView> {
        let reason = clean_text("the reason", Some(reason), MEMO_MAX)?
            .ok_or(CoreError::Receipt(ReceiptError::ReasonMissing))?;
        let insert = ReceiptInsert {
            day: self.clinic_day(),
            device_prefix: self.device_prefix(),
            patient_id: None,
            patient_name: None,
            amount: 0,
            method: crate::receipts::PaymentMethod::Cash,
            memo: None,
            staff: self.staff_for(staff)?,
            reason: Some(reason),
            voids: Some(number.trim().to_owned()),
            at: self.clock.now(),
            op_key: self.op_key(),
            // A void goes where its receipt went (the store looks that up).
            upstream: self.config().upstream_key()?,
            repeat_since: None,
        };
        self.insert_receipt(insert).await
    }

    async fn insert_receipt(&self, insert: ReceiptInsert) -> Result<ReceiptView> {
        let (action, records) = match &insert.voids {
            Some(voided) => (AuditAction::ReceiptVoid, vec![format!("receipt:{voided}")]),
            None => (
                AuditAction::ReceiptAdd,
                insert
                    .patient_id
                    .iter()
                    .map(|p| format!("patient:{p}"))
                    .collect(),
            ),
        };
        let audit = self.audit_entry(
            Actor::Person(insert.staff.as_deref()),
            action,
            records,
            serde_json::json!({}),
        );
        let store = self.store.clone();
        let mut row = blocking(move || {
            let number = store.add_receipt(&insert, &audit)?;
            store
                .receipt(&number)?
                .ok_or(CoreError::Receipt(ReceiptError::NotFound(number)))
        })
        .await?;
        clinic_time(&self.config().calendar(), &mut row);
        Ok(row)
    }
}

/// Stored times are UTC; screens show the clinic's clock.
pub(super) fn clinic_time(cal: &crate::calendar::ClinicCalendar, r: &mut ReceiptView) {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&r.at) {
        r.at = cal.local(t.with_timezone(&chrono::Utc)).to_rfc3339();
    }
}

impl Desk {
    /// The ledger (today's when `all_days` is false), oldest first, times on the clinic's
    /// clock.
    pub async fn receipts_of(&self, all_days: bool) -> Result<Vec<ReceiptView>> {
        let day = (!all_days).then(|| self.clinic_day());
        let rows = self.receipts(day).await?;
        self.audit_ledger_view(&rows).await;
        Ok(rows)
    }

    async fn audit_ledger_view(&self, rows: &[ReceiptView]) {
        self.audit(
            Actor::Person(None),
            AuditAction::LedgerView,
            rows.iter()
                .map(|r| format!("receipt:{}", r.number))
                .collect(),
            serde_json::json!({}),
        )
        .await;
    }

    async fn receipts(&self, day: Option<String>) -> Result<Vec<ReceiptView>> {
        let store = self.store.clone();
        let now = self.clock.now();
        let mut rows = blocking(move || {
            let drill = store.active_drill(now)?;
            store.receipts(day.as_deref(), drill)
        })
        .await?;
        let cal = self.config().calendar();
        for r in &mut rows {
            clinic_time(&cal, r);
        }
        Ok(rows)
    }

    /// Today's money per method, voids taken off.
    pub async fn receipt_summary(&self) -> Result<DaySummary> {
        let day = self.clinic_day();
        let rows = self.receipts(Some(day.clone())).await?;
        Ok(summarise(&day, &rows))
    }

    /// Today's receipts with their summary (the ledger screen).
    pub async fn ledger(&self) -> Result<crate::receipts::LedgerView> {
        let day = self.clinic_day();
        let receipts = self.receipts(Some(day.clone())).await?;
        self.audit_ledger_view(&receipts).await;
        Ok(crate::receipts::LedgerView {
            summary: summarise(&day, &receipts),
            receipts,
        })
    }

    /// Every receipt, and the audit row its export writes.
    pub(super) async fn receipts_for_export(
        &self,
    ) -> Result<(Vec<ReceiptView>, crate::audit::AuditEntry)> {
        let rows = self.receipts(None).await?;
        let entry = self.audit_entry(
            Actor::Person(None),
            AuditAction::ReceiptsExport,
            rows.iter()
                .map(|r| format!("receipt:{}", r.number))
                .collect(),
            serde_json::json!({}),
        );
        Ok((rows, entry))
    }

    /// Every receipt as CSV, for entering into the billing system (the terminal's export:
    /// its audit row is written before the bytes are handed out).
    pub async fn receipts_csv(&self) -> Result<Vec<u8>> {
        let (rows, entry) = self.receipts_for_export().await?;
        let store = self.store.clone();
        blocking(move || store.audited(&entry, || Ok(()))).await?;
        Ok(crate::receipts::to_csv(&rows))
    }

    pub async fn mark_receipt_entered(&self, number: &str, staff: Option<&str>) -> Result<()> {
        let (number, staff) = (number.trim().to_owned(), self.staff_for(staff)?);
        let now = self.clock.now();
        let store = self.store.clone();
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::ReceiptEntered,
            vec![format!("receipt:{number}")],
            serde_json::json!({}),
        );
        blocking(move || store.mark_receipt_entered(&number, staff.as_deref(), now, &audit)).await
    }

    /// Start a drill (訓練): until it ends, calls and receipts are practice, kept apart and
    /// never sent upstream. It ends by a person, by a real outage, or by itself at the end
    /// of today's clinic day.
    pub async fn start_drill(&self, staff: Option<&str>) -> Result<i64> {
        let staff = self.staff_for(staff)?;
        let now = self.clock.now();
        let cal = self.config().calendar();
        let ends_at = cal.days(cal.today(now), 1).end;
        let audit = self.audit_entry(
            Actor::Person(staff.as_deref()),
            AuditAction::DrillStart,
            Vec::new(),
            serde_json::json!({}),
        );
        let store = self.store.clone();
        let id =
            blocking(move || store.start_drill(now, ends_at, staff.as_deref(), &audit)).await?;
        let _ = self.events.send(crate::view::DeskEvent::DrillChanged {
            drill: id,
            ended_by: None,
        });
        Ok(id)
    }

    /// End the drill; what it recorded stays archived under its id.
    pub async fn end_drill(&self) -> Result<i64> {
        let (store, now) = (self.store.clone(), self.clock.now());
        let audit = self.audit_entry(
            Actor::Person(None),
            AuditAction::DrillEnd,
            Vec::new(),
            serde_json::json!({}),
        );
        let id = blocking(move || store.end_drill(now, &audit)).await?;
        let _ = self.events.send(crate::view::DeskEvent::DrillChanged {
            drill: 0,
            ended_by: Some(crate::report::DrillEnd::Staff),
        });
        Ok(id)
    }

    /// Start a drill, or end the one running (the tray's single menu item); returns the
    /// drill's id.
    pub async fn toggle_drill(&self, staff: Option<&str>) -> Result<i64> {
        match self.active_drill().await? {
            0 => self.start_drill(staff).await,
            _ => self.end_drill().await,
        }
    }

    /// The drill in progress (0: none). A drill left open past the end of its clinic day
    /// ends here, and every screen is told.
    pub async fn active_drill(&self) -> Result<i64> {
        self.end_overdue_drill().await?;
        let (store, now) = (self.store.clone(), self.clock.now());
        blocking(move || store.active_drill(now)).await
    }

    /// The practice outage the window shows while a drill runs (none without a drill): the
    /// same banner and diagnosis as a real outage, marked 訓練.
    pub async fn drill_line(&self) -> Result<Option<crate::monitor::advice::LineView>> {
        let id = self.active_drill().await?;
        if id == 0 {
            return Ok(None);
        }
        let store = self.store.clone();
        let row = blocking(move || store.drill(id)).await?;
        Ok(row.map(|d| crate::monitor::advice::LineView::drill(d.started_at, &self.config())))
    }

    /// End a drill left open past the end of its clinic day (the app checks each minute).
    pub async fn end_overdue_drill(&self) -> Result<Option<i64>> {
        let (store, now) = (self.store.clone(), self.clock.now());
        let ended = blocking(move || store.end_overdue_drill(now)).await?;
        if let Some(drill) = ended {
            self.drill_ended(drill, crate::report::DrillEnd::DayEnd);
        }
        Ok(ended)
    }

    fn clinic_day(&self) -> String {
        let cal = self.config().calendar();
        cal.today(self.clock.now()).format("%Y-%m-%d").to_string()
    }
}
