//! One typed definition of every change the desk queues for its upstream.
//!
//! A `Change` is what an outbox row's `kind` and `payload` columns hold, read back into a
//! type: an unknown kind, a payload that does not fit its kind, or a field of the wrong
//! type is an error naming it, never a default. The payloads serialise exactly as they
//! were stored before this type existed (the same keys, in the same order), so no stored
//! row had to migrate.
//!
//! What an appointment change means is written once, here: `AppointmentChange::apply`
//! turns an appointment's state into the one the desk wants, and the mirror (`store`)
//! and the FHIR mapping (`outbox::fhir`) both call it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::OpKind;
use crate::calls::CallOutcome;
use crate::model::AppointmentStatus;
use crate::receipts::PaymentMethod;

/// Stored times: UTC, seconds, trailing `Z` (the store's one format).
mod stored_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::store::ts(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| serde::de::Error::custom(format!("not a stored time: {s:?}")))
    }

    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => DateTime::parse_from_rfc3339(&s)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(|_| serde::de::Error::custom(format!("not a stored time: {s:?}"))),
            }
        }
    }
}

/// The parts of an appointment the desk changes: what the mirror shows and what a change
/// is based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentState {
    pub status: AppointmentStatus,
    #[serde(default, with = "stored_time::option")]
    pub start: Option<DateTime<Utc>>,
    #[serde(default, with = "stored_time::option")]
    pub end: Option<DateTime<Utc>>,
}

/// What the server held when a change met someone else's edit: its appointment (the
/// fields the desk changes), or that it is gone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerAppointment {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AppointmentStatus>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "stored_time::option"
    )]
    pub start: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "stored_time::option"
    )]
    pub end: Option<DateTime<Utc>>,
}

impl ServerAppointment {
    pub fn gone() -> ServerAppointment {
        ServerAppointment {
            deleted: true,
            ..Default::default()
        }
    }

    /// The appointment's state, unless it is gone or the server gave no status.
    pub fn state(&self) -> Option<AppointmentState> {
        match (self.deleted, self.status) {
            (false, Some(status)) => Some(AppointmentState {
                status,
                start: self.start,
                end: self.end,
            }),
            _ => None,
        }
    }
}

/// What the desk does to an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentChange {
    Cancel,
    Reschedule {
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    },
    Arrival,
}

impl AppointmentChange {
    /// The appointment as the desk wants it after this change.
    pub fn apply(&self, state: &mut AppointmentState) {
        match *self {
            AppointmentChange::Cancel => state.status = AppointmentStatus::Cancelled,
            AppointmentChange::Arrival => state.status = AppointmentStatus::Arrived,
            AppointmentChange::Reschedule { start, end } => {
                state.start = Some(start);
                state.end = end;
            }
        }
    }

    /// The same change on a FHIR Appointment resource (only the fields it sets).
    pub fn apply_to_fhir(&self, resource: &mut serde_json::Value) {
        // FHIR instants in UTC, as the store keeps them.
        let fhir_time = crate::store::ts;
        match *self {
            AppointmentChange::Cancel => {
                resource["status"] = AppointmentStatus::Cancelled.code().into();
            }
            AppointmentChange::Arrival => {
                resource["status"] = AppointmentStatus::Arrived.code().into();
            }
            AppointmentChange::Reschedule { start, end } => {
                resource["start"] = fhir_time(start).into();
                match end {
                    Some(end) => resource["end"] = fhir_time(end).into(),
                    None => {
                        if let Some(obj) = resource.as_object_mut() {
                            obj.remove("end");
                        }
                    }
                }
            }
        }
    }

    /// What the change wants, as a conflict shows it: the status it sets, or the time.
    pub fn desired(&self) -> (Option<AppointmentStatus>, Option<DateTime<Utc>>) {
        match *self {
            AppointmentChange::Cancel => (Some(AppointmentStatus::Cancelled), None),
            AppointmentChange::Arrival => (Some(AppointmentStatus::Arrived), None),
            AppointmentChange::Reschedule { start, .. } => (None, Some(start)),
        }
    }
}

/// `appointment_cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelOp {
    pub appointment_id: String,
    /// Always `cancelled` (kept as stored).
    pub status: AppointmentStatus,
}

/// `appointment_reschedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescheduleOp {
    pub appointment_id: String,
    #[serde(default, with = "stored_time::option")]
    pub end: Option<DateTime<Utc>>,
    #[serde(with = "stored_time")]
    pub start: DateTime<Utc>,
}

/// `appointment_arrival`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivalOp {
    pub appointment_id: String,
    #[serde(with = "stored_time")]
    pub at: DateTime<Utc>,
    pub staff: Option<String>,
    /// Always `arrived` (kept as stored).
    pub status: AppointmentStatus,
}

/// `call_outcome`: one call, a Communication upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOp {
    pub appointment_id: String,
    #[serde(with = "stored_time")]
    pub at: DateTime<Utc>,
    #[serde(default, with = "stored_time::option")]
    pub new_start: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub outcome: CallOutcome,
    pub patient_id: Option<String>,
    pub staff: Option<String>,
}

/// Whether a receipt entry takes money or gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptEntryKind {
    Payment,
    Void,
}

/// `receipt` and `receipt_void`: one entry of the ledger, an Invoice upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptOp {
    /// Yen: positive for a payment, the negative for a void.
    pub amount: i64,
    #[serde(with = "stored_time")]
    pub at: DateTime<Utc>,
    pub kind: ReceiptEntryKind,
    pub memo: Option<String>,
    pub method: PaymentMethod,
    pub number: String,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub reason: Option<String>,
    pub staff: Option<String>,
    pub voids: Option<String>,
}

/// `booking_pause`: web booking stops for a while. The free Slots between `from` and
/// `until` become `busy-unavailable` on the server (see docs/booking.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPauseOp {
    /// The pause's own id (its op key): the resume names it, the Slots carry it.
    pub pause_id: String,
    #[serde(with = "stored_time")]
    pub from: DateTime<Utc>,
    #[serde(with = "stored_time")]
    pub until: DateTime<Utc>,
    pub staff: Option<String>,
}

/// `booking_resume`: exactly the Slots a pause closed are free again, each only if the
/// server still holds the version the pause wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingResumeOp {
    pub pause_id: String,
    pub staff: Option<String>,
}

/// One change for the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    AppointmentCancel(CancelOp),
    AppointmentReschedule(RescheduleOp),
    AppointmentArrival(ArrivalOp),
    CallOutcome(CallOp),
    Receipt(ReceiptOp),
    ReceiptVoid(ReceiptOp),
    BookingPause(BookingPauseOp),
    BookingResume(BookingResumeOp),
}

/// A stored change that this build cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("unknown change kind {0:?} in the outbox")]
    UnknownKind(String),
    #[error("unknown change state {0:?} in the outbox")]
    UnknownState(String),
    #[error("unknown resolution {0:?} in the outbox")]
    UnknownResolution(String),
    #[error("the outbox's {kind} change cannot be read: {reason}")]
    Payload { kind: &'static str, reason: String },
}

impl Change {
    pub fn kind(&self) -> OpKind {
        match self {
            Change::AppointmentCancel(_) => OpKind::AppointmentCancel,
            Change::AppointmentReschedule(_) => OpKind::AppointmentReschedule,
            Change::AppointmentArrival(_) => OpKind::AppointmentArrival,
            Change::CallOutcome(_) => OpKind::CallOutcome,
            Change::Receipt(_) => OpKind::Receipt,
            Change::ReceiptVoid(_) => OpKind::ReceiptVoid,
            Change::BookingPause(_) => OpKind::BookingPause,
            Change::BookingResume(_) => OpKind::BookingResume,
        }
    }

    /// The payload column.
    pub fn payload(&self) -> String {
        let json = match self {
            Change::AppointmentCancel(c) => serde_json::to_string(c),
            Change::AppointmentReschedule(c) => serde_json::to_string(c),
            Change::AppointmentArrival(c) => serde_json::to_string(c),
            Change::CallOutcome(c) => serde_json::to_string(c),
            Change::Receipt(c) | Change::ReceiptVoid(c) => serde_json::to_string(c),
            Change::BookingPause(c) => serde_json::to_string(c),
            Change::BookingResume(c) => serde_json::to_string(c),
        };
        json.expect("a change serialises")
    }

    /// Read a stored change back: its `kind` column and its `payload` column.
    pub fn from_stored(kind: &str, payload: &str) -> Result<Change, ChangeError> {
        let kind = OpKind::parse(kind).ok_or_else(|| ChangeError::UnknownKind(kind.to_owned()))?;
        fn read<T: serde::de::DeserializeOwned>(
            kind: OpKind,
            payload: &str,
        ) -> Result<T, ChangeError> {
            serde_json::from_str(payload).map_err(|e| ChangeError::Payload {
                kind: kind.code(),
                reason: e.to_string(),
            })
        }
        let change = match kind {
            OpKind::AppointmentCancel => Change::AppointmentCancel(read(kind, payload)?),
            OpKind::AppointmentReschedule => Change::AppointmentReschedule(read(kind, payload)?),
            OpKind::AppointmentArrival => Change::AppointmentArrival(read(kind, payload)?),
            OpKind::CallOutcome => Change::CallOutcome(read(kind, payload)?),
            OpKind::Receipt => Change::Receipt(read(kind, payload)?),
            OpKind::ReceiptVoid => Change::ReceiptVoid(read(kind, payload)?),
            OpKind::BookingPause => Change::BookingPause(read(kind, payload)?),
            OpKind::BookingResume => Change::BookingResume(read(kind, payload)?),
        };
        Ok(change)
    }

    /// The appointment this change alters, and how.
    pub fn appointment_change(&self) -> Option<(&str, AppointmentChange)> {
        match self {
            Change::AppointmentCancel(c) => Some((&c.appointment_id, AppointmentChange::Cancel)),
            Change::AppointmentArrival(c) => Some((&c.appointment_id, AppointmentChange::Arrival)),
            Change::AppointmentReschedule(c) => Some((
                &c.appointment_id,
                AppointmentChange::Reschedule {
                    start: c.start,
                    end: c.end,
                },
            )),
            _ => None,
        }
    }

    /// A receipt or a void.
    pub fn receipt(&self) -> Option<&ReceiptOp> {
        match self {
            Change::Receipt(r) | Change::ReceiptVoid(r) => Some(r),
            _ => None,
        }
    }

    /// The record the change is about: the appointment, the receipt's number, or the
    /// booking pause.
    pub fn target_id(&self) -> &str {
        match self {
            Change::AppointmentCancel(c) => &c.appointment_id,
            Change::AppointmentReschedule(c) => &c.appointment_id,
            Change::AppointmentArrival(c) => &c.appointment_id,
            Change::CallOutcome(c) => &c.appointment_id,
            Change::Receipt(r) | Change::ReceiptVoid(r) => &r.number,
            Change::BookingPause(b) => &b.pause_id,
            Change::BookingResume(b) => &b.pause_id,
        }
    }

    /// A stop or a reopening of web booking.
    pub fn is_booking(&self) -> bool {
        matches!(self, Change::BookingPause(_) | Change::BookingResume(_))
    }

    /// The ops that must reach the server in order share a chain: one appointment's
    /// changes, one receipt and its void, one booking pause and its resume. A call is
    /// independent of every other op.
    pub fn chain(&self) -> Option<String> {
        match self {
            Change::AppointmentCancel(_)
            | Change::AppointmentReschedule(_)
            | Change::AppointmentArrival(_) => Some(format!("appointment:{}", self.target_id())),
            Change::Receipt(r) => Some(format!("receipt:{}", r.number)),
            Change::ReceiptVoid(r) => r.voids.as_ref().map(|v| format!("receipt:{v}")),
            Change::BookingPause(b) => Some(format!("booking:{}", b.pause_id)),
            Change::BookingResume(b) => Some(format!("booking:{}", b.pause_id)),
            Change::CallOutcome(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, 0, 0).unwrap()
    }

    /// What the store wrote before the typed contract, key for key (serde_json's map
    /// sorts keys, so the old `json!` payloads were stored in key order).
    #[test]
    fn each_change_serialises_exactly_as_it_was_stored_before() {
        let cases = [
            (
                Change::AppointmentCancel(CancelOp {
                    appointment_id: "a1".into(),
                    status: AppointmentStatus::Cancelled,
                }),
                json!({ "appointment_id": "a1", "status": "cancelled" }),
            ),
            (
                Change::AppointmentReschedule(RescheduleOp {
                    appointment_id: "a1".into(),
                    start: t(5),
                    end: None,
                }),
                json!({ "appointment_id": "a1", "start": "2026-11-25T05:00:00Z", "end": null }),
            ),
            (
                Change::AppointmentArrival(ArrivalOp {
                    appointment_id: "a1".into(),
                    status: AppointmentStatus::Arrived,
                    at: t(1),
                    staff: Some("山田".into()),
                }),
                json!({ "appointment_id": "a1", "status": "arrived",
                        "at": "2026-11-25T01:00:00Z", "staff": "山田" }),
            ),
            (
                Change::CallOutcome(CallOp {
                    appointment_id: "a1".into(),
                    patient_id: Some("p1".into()),
                    outcome: CallOutcome::NoAnswer,
                    at: t(1),
                    new_start: None,
                    staff: None,
                    note: Some("メモ".into()),
                }),
                json!({ "appointment_id": "a1", "patient_id": "p1", "outcome": "no_answer",
                        "at": "2026-11-25T01:00:00Z", "new_start": null, "staff": null,
                        "note": "メモ" }),
            ),
            (
                Change::ReceiptVoid(ReceiptOp {
                    number: "D1-20261125-002".into(),
                    kind: ReceiptEntryKind::Void,
                    voids: Some("D1-20261125-001".into()),
                    patient_id: None,
                    patient_name: Some("佐藤".into()),
                    amount: -3000,
                    method: PaymentMethod::Cash,
                    memo: None,
                    staff: None,
                    reason: Some("誤り".into()),
                    at: t(2),
                }),
                json!({ "number": "D1-20261125-002", "kind": "void", "voids": "D1-20261125-001",
                        "patient_id": null, "patient_name": "佐藤", "amount": -3000,
                        "method": "cash", "memo": null, "staff": null, "reason": "誤り",
                        "at": "2026-11-25T02:00:00Z" }),
            ),
        ];
        for (change, old) in cases {
            assert_eq!(change.payload(), old.to_string(), "{:?}", change.kind());
            let back = Change::from_stored(change.kind().code(), &old.to_string()).unwrap();
            assert_eq!(back, change);
        }
    }

    #[test]
    fn an_unknown_kind_or_a_payload_that_does_not_fit_is_an_error_that_names_it() {
        let e = Change::from_stored("appointment_delete", "{}").unwrap_err();
        assert_eq!(e, ChangeError::UnknownKind("appointment_delete".into()));
        assert!(e.to_string().contains("appointment_delete"));
        // A receipt without its amount is not a receipt of zero yen.
        let e = Change::from_stored(
            "receipt",
            r#"{"number":"X","kind":"payment","method":"cash","at":"2026-11-25T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("amount"), "{e}");
        // An outcome this build does not know is not "no answer".
        let e = Change::from_stored(
            "call_outcome",
            r#"{"appointment_id":"a","outcome":"emailed","at":"2026-11-25T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("emailed"), "{e}");
    }

    #[test]
    fn a_change_means_the_same_to_the_mirror_and_to_fhir() {
        let booked = AppointmentState {
            status: AppointmentStatus::Booked,
            start: Some(t(0)),
            end: Some(t(1)),
        };
        for change in [
            AppointmentChange::Cancel,
            AppointmentChange::Arrival,
            AppointmentChange::Reschedule {
                start: t(5),
                end: None,
            },
        ] {
            let mut mirror = booked.clone();
            change.apply(&mut mirror);
            let mut fhir = json!({ "resourceType": "Appointment", "status": "booked",
                                   "start": "2026-11-25T00:00:00Z", "end": "2026-11-25T01:00:00Z" });
            change.apply_to_fhir(&mut fhir);
            assert_eq!(fhir["status"], mirror.status.code(), "{change:?}");
            let time = |v: &serde_json::Value| {
                v.as_str()
                    .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
            };
            assert_eq!(time(&fhir["start"]), mirror.start, "{change:?}");
            assert_eq!(time(&fhir["end"]), mirror.end, "{change:?}");
        }
    }
}
