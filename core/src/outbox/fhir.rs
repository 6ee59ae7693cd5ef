//! How each op looks on a FHIR R4 server (the reasoning is in docs/sync-back.md):
//!
//! - appointment cancel / reschedule / arrival: the server's Appointment at the version the
//!   desk's change was made on, with the change applied, PUT with If-Match on that version.
//!   The op's key goes in `meta.tag` so a lost answer can be told from someone else's edit.
//! - call outcome: a Communication (phone, about the Appointment, to the Patient).
//! - receipt and void: an Invoice each, `balanced` (the money changed hands at the desk);
//!   a void is a credit line with the negative amount, as in the append-only ledger.
//!
//! Creates carry the op's key as a `urn:uuid` identifier and are conditional on it.

use serde_json::{json, Value};

use crate::calls::CallOutcome;
use crate::config::Language;
use crate::receipts::PaymentMethod;
use crate::store::OutboxRow;

/// The identifier system for a UUID (RFC 3986 URN), as FHIR recommends.
pub const UUID_SYSTEM: &str = "urn:ietf:rfc:3986";
/// The tag system marking the op that made an appointment's version.
pub const OP_TAG_SYSTEM: &str = "https://tsunagi.app/fhir/op";
/// The identifier system of receipt numbers (仮領収書番号).
pub const RECEIPT_SYSTEM: &str = "https://tsunagi.app/fhir/receipt-number";

pub fn op_identifier(key: &str) -> Value {
    json!({ "system": UUID_SYSTEM, "value": format!("urn:uuid:{key}") })
}

/// The search that finds an op's resource: `identifier=urn:ietf:rfc:3986|urn:uuid:…`.
pub fn identifier_search(key: &str) -> String {
    format!("identifier={UUID_SYSTEM}|urn:uuid:{key}")
}

/// The resource type a create op makes.
pub fn created_type(op: &OutboxRow) -> Option<&'static str> {
    match op.op_kind()? {
        crate::outbox::OpKind::CallOutcome => Some("Communication"),
        crate::outbox::OpKind::Receipt | crate::outbox::OpKind::ReceiptVoid => Some("Invoice"),
        _ => None,
    }
}

/// The resource a create op makes.
pub fn created_resource(op: &OutboxRow, language: Language) -> Option<Value> {
    match op.op_kind()? {
        crate::outbox::OpKind::CallOutcome => Some(communication(op, language)),
        crate::outbox::OpKind::Receipt | crate::outbox::OpKind::ReceiptVoid => {
            Some(invoice(op, language))
        }
        _ => None,
    }
}

fn communication(op: &OutboxRow, language: Language) -> Value {
    let p = &op.payload;
    let outcome = p["outcome"].as_str().and_then(CallOutcome::parse);
    let label = outcome
        .map(|o| crate::printout::outcome_label(o, language))
        .unwrap_or("");
    let mut text = label.to_owned();
    if let Some(start) = p["new_start"].as_str() {
        text.push_str(&format!(" → {start}"));
    }
    if let Some(note) = p["note"].as_str() {
        text.push_str(&format!(" / {note}"));
    }
    let reached = outcome.is_some_and(CallOutcome::reached);
    let mut c = json!({
        "resourceType": "Communication",
        "identifier": [op_identifier(&op.key)],
        "status": if reached { "completed" } else { "not-done" },
        "category": [{ "text": match language {
            Language::Ja => "回線障害時の予約連絡",
            Language::En => "Appointment call during an outage",
        }}],
        "medium": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
            "code": "PHONE",
            "display": "telephone"
        }]}],
        "about": [{ "reference": format!("Appointment/{}", p["appointment_id"].as_str().unwrap_or_default()) }],
        "sent": p["at"],
        "payload": [{ "contentString": text }],
    });
    if !reached {
        c["statusReason"] = json!({ "text": label });
    }
    if let Some(patient) = p["patient_id"].as_str() {
        c["subject"] = json!({ "reference": format!("Patient/{patient}") });
        c["recipient"] = json!([{ "reference": format!("Patient/{patient}") }]);
    }
    if let Some(staff) = p["staff"].as_str() {
        c["note"] = json!([{ "authorString": staff, "text": label }]);
    }
    c
}

fn invoice(op: &OutboxRow, language: Language) -> Value {
    let p = &op.payload;
    let void = p["kind"].as_str() == Some("void");
    let amount = p["amount"].as_i64().unwrap_or(0);
    let number = p["number"].as_str().unwrap_or_default();
    let method = p["method"]
        .as_str()
        .and_then(PaymentMethod::parse)
        .map(|m| crate::printout::method_label(m, language))
        .unwrap_or("");
    let (kind_code, kind_text) = match (void, language) {
        (false, Language::Ja) => ("payment", "仮領収書"),
        (false, Language::En) => ("payment", "Provisional receipt"),
        (true, Language::Ja) => ("void", "仮領収書の取消"),
        (true, Language::En) => ("void", "Void of a provisional receipt"),
    };
    let money = json!({ "value": amount, "currency": "JPY" });
    let mut notes = Vec::new();
    if let (true, Some(voided)) = (void, p["voids"].as_str()) {
        let reason = p["reason"].as_str().unwrap_or_default();
        notes.push(json!({ "text": match language {
            Language::Ja => format!("{voided} を取消: {reason}"),
            Language::En => format!("voids {voided}: {reason}"),
        }}));
    }
    if let Some(memo) = p["memo"].as_str() {
        notes.push(json!({ "text": memo }));
    }
    if let Some(staff) = p["staff"].as_str() {
        for n in &mut notes {
            n["authorString"] = json!(staff);
        }
        if notes.is_empty() {
            notes.push(json!({ "authorString": staff, "text": kind_text }));
        }
    }
    let mut inv = json!({
        "resourceType": "Invoice",
        "identifier": [
            op_identifier(&op.key),
            { "system": RECEIPT_SYSTEM, "value": number }
        ],
        "status": "balanced",
        "type": {
            "coding": [{ "system": "https://tsunagi.app/fhir/receipt-kind", "code": kind_code }],
            "text": kind_text
        },
        "date": p["at"],
        "totalNet": money,
        "totalGross": money,
        "paymentTerms": method,
    });
    match (p["patient_id"].as_str(), p["patient_name"].as_str()) {
        (Some(id), name) => {
            inv["subject"] = json!({ "reference": format!("Patient/{id}") });
            if let Some(name) = name {
                inv["subject"]["display"] = json!(name);
            }
        }
        (None, Some(name)) => inv["subject"] = json!({ "display": name }),
        (None, None) => {}
    }
    if !notes.is_empty() {
        inv["note"] = json!(notes);
    }
    inv
}

/// Apply an appointment op to the server's resource and tag it with the op's key (any
/// earlier Tsunagi tag goes: a version carries the op that made it).
pub fn apply_change(resource: &mut Value, op: &OutboxRow) {
    let p = &op.payload;
    match op.op_kind() {
        Some(crate::outbox::OpKind::AppointmentCancel) => {
            resource["status"] = json!("cancelled");
        }
        Some(crate::outbox::OpKind::AppointmentArrival) => {
            resource["status"] = json!("arrived");
        }
        Some(crate::outbox::OpKind::AppointmentReschedule) => {
            resource["start"] = p["start"].clone();
            match p["end"].as_str() {
                Some(end) => resource["end"] = json!(end),
                None => {
                    if let Some(obj) = resource.as_object_mut() {
                        obj.remove("end");
                    }
                }
            }
        }
        _ => {}
    }
    let mut tags: Vec<Value> = resource["meta"]["tag"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t["system"].as_str() != Some(OP_TAG_SYSTEM))
        .collect();
    tags.push(json!({ "system": OP_TAG_SYSTEM, "code": op.key }));
    if !resource["meta"].is_object() {
        resource["meta"] = json!({});
    }
    let meta = &mut resource["meta"];
    if let Some(obj) = meta.as_object_mut() {
        // The server sets these; sending the old ones back only confuses some servers.
        obj.remove("versionId");
        obj.remove("lastUpdated");
    }
    meta["tag"] = json!(tags);
}

/// Whether this version of a resource was made by the op with `key`.
pub fn made_by(resource: &Value, key: &str) -> bool {
    resource["meta"]["tag"].as_array().is_some_and(|tags| {
        tags.iter()
            .any(|t| t["system"].as_str() == Some(OP_TAG_SYSTEM) && t["code"].as_str() == Some(key))
    })
}

/// What a conflict shows of the server's appointment.
pub fn appointment_state(resource: &Value) -> Value {
    json!({
        "status": resource["status"],
        "start": resource["start"],
        "end": resource["end"],
    })
}

/// What the desk's op wants the appointment to be, in the same shape.
pub fn desired_state(op: &OutboxRow) -> Value {
    let p = &op.payload;
    match op.op_kind() {
        Some(crate::outbox::OpKind::AppointmentCancel) => json!({ "status": "cancelled" }),
        Some(crate::outbox::OpKind::AppointmentArrival) => json!({ "status": "arrived" }),
        Some(crate::outbox::OpKind::AppointmentReschedule) => {
            json!({ "start": p["start"], "end": p["end"] })
        }
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: &str, payload: Value) -> OutboxRow {
        OutboxRow {
            seq: 1,
            key: "0193a000-0000-7000-8000-000000000001".into(),
            kind: kind.into(),
            target_id: Some("a1".into()),
            base_version: Some("3".into()),
            payload,
            state: "pending".into(),
            attempts: 0,
            created_at: "2026-11-25T00:00:00.000Z".into(),
            incident_id: None,
            chain: None,
            last_code: None,
            last_status: None,
            last_error: None,
            server_version: None,
            server_state: None,
            upstream_ref: None,
            done_at: None,
            resolution: None,
            resolved_by: None,
        }
    }

    #[test]
    fn a_reschedule_moves_the_slot_tags_the_version_and_keeps_the_rest() {
        let mut server = json!({
            "resourceType": "Appointment", "id": "a1", "status": "booked",
            "meta": {"versionId": "3", "lastUpdated": "x",
                     "tag": [{"system": OP_TAG_SYSTEM, "code": "older"}, {"system": "other", "code": "keep"}]},
            "start": "2026-11-25T01:00:00Z", "end": "2026-11-25T01:15:00Z",
            "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}]
        });
        let o = op(
            "appointment_reschedule",
            json!({"start": "2026-11-26T02:00:00.000Z", "end": "2026-11-26T02:15:00.000Z"}),
        );
        apply_change(&mut server, &o);
        assert_eq!(server["start"], "2026-11-26T02:00:00.000Z");
        assert_eq!(server["end"], "2026-11-26T02:15:00.000Z");
        assert_eq!(server["status"], "booked");
        assert_eq!(server["participant"][0]["actor"]["reference"], "Patient/p1");
        assert!(made_by(&server, &o.key));
        assert!(!made_by(&server, "older"));
        assert_eq!(server["meta"]["tag"].as_array().unwrap().len(), 2);
        assert!(server["meta"].get("versionId").is_none());
    }

    #[test]
    fn a_void_is_a_credit_invoice_naming_the_receipt_it_voids() {
        let o = op(
            "receipt_void",
            json!({"number": "D1-20261125-002", "kind": "void", "voids": "D1-20261125-001",
                   "patient_id": "p1", "patient_name": "佐藤 健一", "amount": -3000,
                   "method": "cash", "reason": "金額誤り", "staff": "山田", "at": "2026-11-25T01:00:00.000Z"}),
        );
        let inv = created_resource(&o, Language::Ja).unwrap();
        assert_eq!(created_type(&o), Some("Invoice"));
        assert_eq!(inv["status"], "balanced");
        assert_eq!(inv["totalGross"]["value"], -3000);
        assert_eq!(inv["totalGross"]["currency"], "JPY");
        assert_eq!(inv["identifier"][0]["value"], format!("urn:uuid:{}", o.key));
        assert_eq!(inv["identifier"][1]["value"], "D1-20261125-002");
        assert_eq!(inv["subject"]["reference"], "Patient/p1");
        assert_eq!(inv["note"][0]["text"], "D1-20261125-001 を取消: 金額誤り");
        assert_eq!(inv["note"][0]["authorString"], "山田");
    }

    #[test]
    fn a_call_nobody_answered_is_a_communication_not_done() {
        let o = op(
            "call_outcome",
            json!({"appointment_id": "a1", "patient_id": "p1", "outcome": "no_answer",
                   "at": "2026-11-25T01:00:00.000Z"}),
        );
        let c = created_resource(&o, Language::Ja).unwrap();
        assert_eq!(c["status"], "not-done");
        assert_eq!(c["about"][0]["reference"], "Appointment/a1");
        assert_eq!(c["subject"]["reference"], "Patient/p1");
        assert_eq!(c["medium"][0]["coding"][0]["code"], "PHONE");
        let reached = op(
            "call_outcome",
            json!({"appointment_id": "a1", "outcome": "cancelled", "at": "2026-11-25T01:00:00.000Z"}),
        );
        let c = created_resource(&reached, Language::En).unwrap();
        assert_eq!(c["status"], "completed");
        assert!(c.get("subject").is_none());
    }
}
