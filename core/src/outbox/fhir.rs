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

use super::change::{
    AppointmentState, CallOp, Change, ReceiptEntryKind, ReceiptOp, ServerAppointment,
};
use crate::config::Language;
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
pub fn created_type(change: &Change) -> Option<&'static str> {
    match change {
        Change::CallOutcome(_) => Some("Communication"),
        Change::Receipt(_) | Change::ReceiptVoid(_) => Some("Invoice"),
        _ => None,
    }
}

/// The resource a create op makes.
pub fn created_resource(op: &OutboxRow, language: Language) -> Option<Value> {
    match &op.change {
        Change::CallOutcome(c) => Some(communication(&op.key, c, language)),
        Change::Receipt(r) | Change::ReceiptVoid(r) => Some(invoice(&op.key, r, language)),
        _ => None,
    }
}

fn communication(key: &str, c: &CallOp, language: Language) -> Value {
    let label = crate::printout::outcome_label(c.outcome, language);
    let mut text = label.to_owned();
    if let Some(start) = c.new_start {
        text.push_str(&format!(" → {}", crate::store::ts(start)));
    }
    if let Some(note) = &c.note {
        text.push_str(&format!(" / {note}"));
    }
    let reached = c.outcome.reached();
    let mut m = json!({
        "resourceType": "Communication",
        "identifier": [op_identifier(key)],
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
        "about": [{ "reference": format!("Appointment/{}", c.appointment_id) }],
        "sent": crate::store::ts(c.at),
        "payload": [{ "contentString": text }],
    });
    if !reached {
        m["statusReason"] = json!({ "text": label });
    }
    if let Some(patient) = &c.patient_id {
        m["subject"] = json!({ "reference": format!("Patient/{patient}") });
        m["recipient"] = json!([{ "reference": format!("Patient/{patient}") }]);
    }
    if let Some(staff) = &c.staff {
        m["note"] = json!([{ "authorString": staff, "text": label }]);
    }
    m
}

fn invoice(key: &str, r: &ReceiptOp, language: Language) -> Value {
    let void = r.kind == ReceiptEntryKind::Void;
    let method = crate::printout::method_label(r.method, language);
    let (kind_code, kind_text) = match (void, language) {
        (false, Language::Ja) => ("payment", "仮領収書"),
        (false, Language::En) => ("payment", "Provisional receipt"),
        (true, Language::Ja) => ("void", "仮領収書の取消"),
        (true, Language::En) => ("void", "Void of a provisional receipt"),
    };
    let money = json!({ "value": r.amount, "currency": "JPY" });
    let mut notes = Vec::new();
    if let (true, Some(voided)) = (void, &r.voids) {
        let reason = r.reason.as_deref().unwrap_or_default();
        notes.push(json!({ "text": match language {
            Language::Ja => format!("{voided} を取消: {reason}"),
            Language::En => format!("voids {voided}: {reason}"),
        }}));
    }
    if let Some(memo) = &r.memo {
        notes.push(json!({ "text": memo }));
    }
    if let Some(staff) = &r.staff {
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
            op_identifier(key),
            { "system": RECEIPT_SYSTEM, "value": r.number }
        ],
        "status": "balanced",
        "type": {
            "coding": [{ "system": "https://tsunagi.app/fhir/receipt-kind", "code": kind_code }],
            "text": kind_text
        },
        "date": crate::store::ts(r.at),
        "totalNet": money,
        "totalGross": money,
        "paymentTerms": method,
    });
    match (&r.patient_id, &r.patient_name) {
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
    if let Some((_, change)) = op.change.appointment_change() {
        change.apply_to_fhir(resource);
    }
    tag_version(resource, &op.key);
}

/// Mark the version about to be written as made by the op with `key` (any earlier Tsunagi
/// tag goes: a version carries the op that made it), and drop the server's own version
/// fields.
pub fn tag_version(resource: &mut Value, key: &str) {
    let mut tags: Vec<Value> = resource["meta"]["tag"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t["system"].as_str() != Some(OP_TAG_SYSTEM))
        .collect();
    tags.push(json!({ "system": OP_TAG_SYSTEM, "code": key }));
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

/// The versions in a `_history` Bundle that the op with `key` made (in the Bundle's order).
pub fn versions_made_by(history: Option<&Value>, key: &str) -> Vec<Value> {
    history
        .and_then(|h| h["entry"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("resource"))
        .filter(|r| made_by(r, key))
        .cloned()
        .collect()
}

/// Whether this version of a resource was made by the op with `key`.
pub fn made_by(resource: &Value, key: &str) -> bool {
    resource["meta"]["tag"].as_array().is_some_and(|tags| {
        tags.iter()
            .any(|t| t["system"].as_str() == Some(OP_TAG_SYSTEM) && t["code"].as_str() == Some(key))
    })
}

/// What the server's appointment holds of the fields the desk changes. A time or status
/// that cannot be read is left out (shown as unknown, never guessed).
pub fn appointment_state(resource: &Value) -> ServerAppointment {
    let time = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    ServerAppointment {
        deleted: false,
        status: resource["status"]
            .as_str()
            .and_then(crate::model::AppointmentStatus::from_code),
        start: time(&resource["start"]),
        end: time(&resource["end"]),
    }
}

/// Whether the server's appointment still holds what a change was made on (for servers
/// that keep no versions): the fields the desk changes are as they were.
pub fn unchanged_since(resource: &Value, base: &AppointmentState) -> bool {
    let now = appointment_state(resource);
    now.status == Some(base.status) && now.start == base.start && now.end == base.end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: &str, payload: Value) -> OutboxRow {
        let change = Change::from_stored(kind, &payload.to_string()).unwrap();
        OutboxRow {
            seq: 1,
            key: "0193a000-0000-7000-8000-000000000001".into(),
            chain: change.chain(),
            change,
            upstream: "fhir:https://fhir.test".into(),
            base_version: Some("3".into()),
            base_state: None,
            state: crate::outbox::OpState::Pending,
            attempts: 0,
            created_at: chrono::Utc::now(),
            incident_id: None,
            last_code: None,
            last_status: None,
            last_error: None,
            server_version: None,
            server_state: None,
            upstream_ref: None,
            done_at: None,
            resolution: None,
            resolved_by: None,
            taken_from: None,
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
            json!({"appointment_id": "a1", "start": "2026-11-26T02:00:00.000Z",
                   "end": "2026-11-26T02:15:00.000Z"}),
        );
        apply_change(&mut server, &o);
        assert_eq!(server["start"], "2026-11-26T02:00:00Z");
        assert_eq!(server["end"], "2026-11-26T02:15:00Z");
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
        assert_eq!(created_type(&o.change), Some("Invoice"));
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
