//! Who is at the desk, and the audit trail every front end writes through the desk.

use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

use super::{blocking, Desk};
use crate::audit::{self, AuditAction, AuditCheck, AuditEntry};
use crate::error::{CoreError, Result};

fn report_audit_failure(action: AuditAction, written: Result<Option<i64>>) {
    if let Err(e) = written {
        tracing::warn!(
            code = %e.code(),
            action = action.code(),
            "could not write the audit trail"
        );
    }
}

/// Longest staff name the switcher takes.
pub const STAFF_NAME_MAX: usize = 40;

/// In the trail: a person acted without picking a name.
pub const UNNAMED: &str = "?";

/// The quick switcher: who is at the desk, and the names to pick from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StaffView {
    pub current: Option<String>,
    /// Most recently picked first.
    pub names: Vec<String>,
}

/// Who an audit row names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// The person at the desk (the name sent with the request, else the one picked).
    Person(Option<&'a str>),
    /// Tsunagi on its own (a schedule).
    Schedule,
}

fn clean_staff_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::InvalidInput("a staff name is needed".into()));
    }
    if name.chars().count() > STAFF_NAME_MAX {
        return Err(CoreError::InvalidInput(format!(
            "a staff name is longer than {STAFF_NAME_MAX} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::InvalidInput(
            "a staff name cannot hold control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

impl Desk {
    /// The name picked at this desk, if any.
    pub fn current_staff(&self) -> Option<String> {
        self.staff.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The staff name a record carries: the one sent with it, else the one picked.
    pub(crate) fn staff_for(&self, explicit: Option<&str>) -> Result<Option<String>> {
        match explicit.map(str::trim).filter(|s| !s.is_empty()) {
            Some(name) => clean_staff_name(name).map(Some),
            None => Ok(self.current_staff()),
        }
    }

    /// Act under this name for the life of this process without adding it to the switcher
    /// (the CLI's `--staff`).
    pub fn act_as(&self, name: Option<&str>) -> Result<()> {
        let name = name.map(clean_staff_name).transpose()?;
        *self.staff.write().unwrap_or_else(|e| e.into_inner()) = name;
        Ok(())
    }

    pub async fn staff_view(&self) -> Result<StaffView> {
        let store = self.store.clone();
        let (names, _) = blocking(move || store.staff_members()).await?;
        Ok(StaffView {
            current: self.current_staff(),
            names,
        })
    }

    /// The name last picked at the desk (what the app shows), whoever this process acts as.
    pub async fn staff_at_desk(&self) -> Result<Option<String>> {
        let store = self.store.clone();
        Ok(blocking(move || store.staff_members()).await?.1)
    }

    /// The quick switcher: this name is at the desk now (added to the list when new).
    pub async fn switch_staff(&self, name: &str) -> Result<StaffView> {
        let name = clean_staff_name(name)?;
        let previous = self.current_staff();
        let audit = (previous.as_deref() != Some(name.as_str())).then(|| {
            self.audit_entry(
                Actor::Person(Some(&name)),
                AuditAction::StaffSwitch,
                Vec::new(),
                serde_json::json!({}),
            )
        });
        let (store, at, n) = (self.store.clone(), self.clock.now(), name.clone());
        blocking(move || store.pick_staff(&n, at, audit.as_ref())).await?;
        *self.staff.write().unwrap_or_else(|e| e.into_inner()) = Some(name.clone());
        self.staff_view().await
    }

    /// Take a name off the switcher; if it was at the desk, nobody is.
    pub async fn forget_staff(&self, name: &str) -> Result<StaffView> {
        let name = name.trim().to_owned();
        let audit = self.audit_entry(
            Actor::Person(None),
            AuditAction::StaffForget,
            Vec::new(),
            serde_json::json!({ "name": name }),
        );
        let (store, n) = (self.store.clone(), name.clone());
        if blocking(move || store.forget_staff(&n, &audit)).await? {
            let mut current = self.staff.write().unwrap_or_else(|e| e.into_inner());
            if current.as_deref() == Some(name.as_str()) {
                *current = None;
            }
        }
        self.staff_view().await
    }

    /// Append a view to the trail (actions write their row in their own transaction). A
    /// failure is logged (its code only) and does not keep the screen from the desk: the
    /// call list must show during an outage even if the trail cannot be written; `doctor`
    /// and `audit verify` show the trail's state.
    pub(crate) async fn audit(
        &self,
        actor: Actor<'_>,
        action: AuditAction,
        records: Vec<String>,
        detail: serde_json::Value,
    ) {
        let entry = self.audit_entry(actor, action, records, detail);
        let store = self.store.clone();
        let written = blocking(move || store.append_audit(&entry)).await;
        report_audit_failure(action, written);
    }

    /// `audit` for code already off the async threads (settings are saved there).
    pub(crate) fn audit_blocking(
        &self,
        actor: Actor<'_>,
        action: AuditAction,
        records: Vec<String>,
        detail: serde_json::Value,
    ) {
        let entry = self.audit_entry(actor, action, records, detail);
        report_audit_failure(action, self.store.append_audit(&entry));
    }

    pub(super) fn audit_entry(
        &self,
        actor: Actor<'_>,
        action: AuditAction,
        records: Vec<String>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        let staff = match actor {
            Actor::Schedule => String::new(),
            Actor::Person(Some(name)) if !name.trim().is_empty() => name.trim().to_owned(),
            Actor::Person(_) => self.current_staff().unwrap_or_else(|| UNNAMED.to_owned()),
        };
        AuditEntry {
            at: self.clock.now(),
            staff,
            action,
            records,
            detail,
        }
    }

    /// Check the whole trail (and record that it was checked).
    pub async fn verify_audit(&self, against: Option<&[u8]>) -> Result<AuditCheck> {
        let export = against
            .map(audit::parse_export)
            .transpose()
            .map_err(CoreError::InvalidInput)?;
        let store = self.store.clone();
        let (rows, head) = blocking(move || store.audit_trail()).await?;
        let mut check = audit::verify(&rows, head);
        if let Some(export) = &export {
            check.problems.extend(audit::verify_against(&rows, export));
            check.against = Some(export.len() as u32);
        }
        self.audit(
            Actor::Person(None),
            AuditAction::AuditVerify,
            Vec::new(),
            serde_json::json!({
                "rows": check.rows,
                "problems": check.problems.len(),
                "against": check.against,
            }),
        )
        .await;
        Ok(check)
    }

    /// The trail as CSV for the clinic's records (every column the hashes cover, so the
    /// chain can be checked from the file alone), to `to` or to the printouts folder.
    pub async fn export_audit(&self, to: Option<PathBuf>) -> Result<PathBuf> {
        let store = self.store.clone();
        let (rows, _) = blocking(move || store.audit_trail()).await?;
        let cal = self.config().calendar();
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| CoreError::InvalidInput(format!("CSV: {e}"));
        w.write_record(audit::EXPORT_COLUMNS).map_err(csv_err)?;
        for r in &rows {
            let local = crate::store::parse_ts(&r.at)
                .map(|t| cal.local(t).format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            w.write_record([
                r.seq.to_string().as_str(),
                &r.at,
                &local,
                &r.staff,
                &r.action,
                &r.records,
                &r.detail,
                &r.prev_hash,
                &r.hash,
            ])
            .map_err(csv_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CoreError::InvalidInput(format!("CSV: {e}")))?;
        let entry = self.audit_entry(
            Actor::Person(None),
            AuditAction::AuditExport,
            Vec::new(),
            serde_json::json!({ "rows": rows.len() }),
        );
        match to {
            Some(path) => {
                let store = self.store.clone();
                blocking(move || {
                    store.audited(&entry, || {
                        std::fs::write(&path, &bytes).map_err(|e| CoreError::io(&path, e))?;
                        Ok(path)
                    })
                })
                .await
            }
            None => {
                self.write_export_audited("audit", "csv", bytes, entry)
                    .await
            }
        }
    }
}
