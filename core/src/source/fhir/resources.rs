//! FHIR R4 JSON → the mirror's model. Pure functions over bytes (no I/O, no clock of their
//! own), so they are tested over the official examples and fuzzed.
//!
//! Only what the desk needs is read; unknown fields are ignored, but a field of the wrong
//! type, an unknown appointment status or a missing id makes the whole answer invalid: the
//! mirror is replaced by a complete, valid answer or not at all.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::model::{Appointment, AppointmentStatus, Patient};
use crate::phone::Phone;

/// Why a body is not usable FHIR. Carries no values from the body (they may be personal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// serde_json's own messages can quote the offending value (a name, a phone number): keep
/// only what kind of error it was and where.
fn json_error(e: &serde_json::Error) -> ParseError {
    let what = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "a field has the wrong type or value",
        serde_json::error::Category::Eof => "the JSON ends early (truncated)",
    };
    ParseError(format!("{what} at line {} column {}", e.line(), e.column()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    resource_type: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    link: Vec<Link>,
    #[serde(default)]
    entry: Vec<Entry>,
    total: Option<u64>,
}

#[derive(Deserialize)]
struct Link {
    relation: String,
    url: String,
}

#[derive(Deserialize)]
struct Entry {
    resource: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    version_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FhirAppointment {
    id: Option<String>,
    meta: Option<Meta>,
    status: String,
    start: Option<String>,
    end: Option<String>,
    description: Option<String>,
    #[serde(default)]
    reason_code: Vec<CodeableConcept>,
    #[serde(default)]
    service_type: Vec<CodeableConcept>,
    appointment_type: Option<CodeableConcept>,
    #[serde(default)]
    participant: Vec<Participant>,
}

#[derive(Deserialize)]
struct CodeableConcept {
    text: Option<String>,
    #[serde(default)]
    coding: Vec<Coding>,
}

#[derive(Deserialize)]
struct Coding {
    display: Option<String>,
}

#[derive(Deserialize)]
struct Participant {
    actor: Option<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    reference: Option<String>,
}

#[derive(Deserialize)]
struct FhirPatient {
    id: Option<String>,
    meta: Option<Meta>,
    #[serde(default)]
    name: Vec<HumanName>,
    #[serde(default)]
    telecom: Vec<ContactPoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HumanName {
    #[serde(default)]
    extension: Vec<Extension>,
    #[serde(rename = "use")]
    use_: Option<String>,
    text: Option<String>,
    family: Option<String>,
    #[serde(default)]
    given: Vec<String>,
    period: Option<Period>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    url: String,
    value_code: Option<String>,
}

#[derive(Deserialize)]
struct ContactPoint {
    system: Option<String>,
    value: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    rank: Option<u32>,
    period: Option<Period>,
}

#[derive(Deserialize)]
struct Period {
    end: Option<String>,
}

/// What one page of an `Appointment?…&_include=Appointment:patient` search held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub appointments: Vec<Appointment>,
    pub patients: Vec<Patient>,
    /// The `next` link, when there are more pages.
    pub next: Option<String>,
    /// `Bundle.total`, when the server reports it (`_summary=count` answers only this).
    pub total: Option<u64>,
}

/// Parse one searchset page. `now` decides which phone numbers have ended.
pub fn parse_search_page(body: &[u8], now: DateTime<Utc>) -> Result<SearchPage, ParseError> {
    let bundle: Bundle = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    if bundle.resource_type != "Bundle" {
        return Err(ParseError(format!(
            "expected a Bundle, got resourceType {:?}",
            truncate(&bundle.resource_type)
        )));
    }
    if bundle.kind.as_deref() != Some("searchset") {
        return Err(ParseError(format!(
            "expected a searchset Bundle, got type {:?}",
            bundle.kind.as_deref().map(truncate)
        )));
    }
    let mut page = SearchPage {
        next: bundle
            .link
            .into_iter()
            .find(|l| l.relation == "next")
            .map(|l| l.url),
        total: bundle.total,
        ..SearchPage::default()
    };
    for entry in bundle.entry {
        let Some(resource) = entry.resource else {
            continue;
        };
        match resource.get("resourceType").and_then(Value::as_str) {
            Some("Appointment") => page.appointments.push(parse_appointment(resource)?),
            Some("Patient") => page.patients.push(parse_patient(resource, now)?),
            Some("OperationOutcome") => check_outcome(&resource)?,
            // Other included resources (practitioners, locations) are not mirrored.
            _ => {}
        }
    }
    Ok(page)
}

/// Resource types and codes come from the server; keep them short in messages.
fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A searchset may carry warnings (fine) or errors (the search did not really succeed).
fn check_outcome(outcome: &Value) -> Result<(), ParseError> {
    let severe = outcome
        .get("issue")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|i| {
            matches!(
                i.get("severity").and_then(Value::as_str),
                Some("error" | "fatal")
            )
        });
    if severe {
        Err(ParseError(
            "the server reported an error inside the search results".to_owned(),
        ))
    } else {
        Ok(())
    }
}

fn required_id(id: Option<String>, what: &str) -> Result<String, ParseError> {
    match id {
        Some(id) if !id.is_empty() && id.len() <= 64 => Ok(id),
        _ => Err(ParseError(format!("{what} without a valid id"))),
    }
}

/// A FHIR instant (always with a time zone) as UTC.
fn instant(s: &str, what: &str) -> Result<DateTime<Utc>, ParseError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ParseError(format!("{what} is not a FHIR instant")))
}

pub fn parse_appointment(value: Value) -> Result<Appointment, ParseError> {
    let a: FhirAppointment = serde_json::from_value(value).map_err(|e| json_error(&e))?;
    let id = required_id(a.id, "an Appointment")?;
    let status = AppointmentStatus::from_code(&a.status).ok_or_else(|| {
        ParseError(format!(
            "Appointment/{id} has status {:?}, which is not an R4 appointment status",
            truncate(&a.status)
        ))
    })?;
    let start = a
        .start
        .as_deref()
        .map(|s| instant(s, "Appointment.start"))
        .transpose()?;
    let end = a
        .end
        .as_deref()
        .map(|s| instant(s, "Appointment.end"))
        .transpose()?;
    let concept_text = |c: &CodeableConcept| {
        c.text
            .clone()
            .or_else(|| c.coding.iter().find_map(|k| k.display.clone()))
    };
    let reason = a
        .reason_code
        .iter()
        .find_map(concept_text)
        .or_else(|| a.service_type.iter().find_map(concept_text))
        .or(a.description)
        .or_else(|| a.appointment_type.as_ref().and_then(concept_text));
    let patient_id = a
        .participant
        .iter()
        .filter_map(|p| p.actor.as_ref()?.reference.as_deref())
        .find_map(patient_id_of);
    Ok(Appointment {
        source_id: id,
        source_version: a.meta.and_then(|m| m.version_id),
        start,
        end,
        status,
        reason,
        patient_id,
    })
}

/// `Patient/123`, `Patient/123/_history/2` or `https://host/fhir/Patient/123` → `123`.
fn patient_id_of(reference: &str) -> Option<String> {
    let rest = match reference.strip_prefix("Patient/") {
        Some(rest) => rest,
        None => reference.rsplit_once("/Patient/")?.1,
    };
    let id = rest.split('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

const REPRESENTATION: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

/// JP Core writes one HumanName per script: IDE (kanji), SYL (kana), ABC (alphabetic).
fn representation(name: &HumanName) -> Option<&str> {
    name.extension
        .iter()
        .find(|e| e.url == REPRESENTATION)
        .and_then(|e| e.value_code.as_deref())
}

fn display_name(name: &HumanName) -> Option<String> {
    if let Some(text) = name
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(text.to_owned());
    }
    // Family name first, as Japanese names are written.
    let parts: Vec<&str> = name
        .family
        .iter()
        .map(String::as_str)
        .chain(name.given.iter().map(String::as_str))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The latest instant a FHIR dateTime can mean ("2014" could be any day of 2014).
fn latest_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let first_after = match s.len() {
        4 => NaiveDate::from_ymd_opt(s.parse::<i32>().ok()? + 1, 1, 1)?,
        7 => {
            let d = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
            d.checked_add_months(chrono::Months::new(1))?
        }
        10 => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.succ_opt()?,
        _ => return None,
    };
    // A date without a zone: allow for the zone furthest west.
    Some(Utc.from_utc_datetime(&first_after.and_hms_opt(12, 0, 0)?))
}

fn ended(period: Option<&Period>, now: DateTime<Utc>) -> bool {
    period
        .and_then(|p| p.end.as_deref())
        .and_then(latest_instant)
        .is_some_and(|end| end <= now)
}

fn name_rank(name: &HumanName) -> u8 {
    match name.use_.as_deref() {
        Some("official") => 0,
        Some("usual") | None => 1,
        Some("old") | Some("maiden") => 3,
        _ => 2,
    }
}

pub fn parse_patient(value: Value, now: DateTime<Utc>) -> Result<Patient, ParseError> {
    let p: FhirPatient = serde_json::from_value(value).map_err(|e| json_error(&e))?;
    let id = required_id(p.id, "a Patient")?;
    let mut names: Vec<&HumanName> = p
        .name
        .iter()
        .filter(|n| !ended(n.period.as_ref(), now))
        .collect();
    names.sort_by_key(|n| name_rank(n));
    let pick = |wanted: Option<&str>| {
        names
            .iter()
            .filter(|n| representation(n) == wanted)
            .find_map(|n| display_name(n))
    };
    let written = pick(Some("IDE")).or_else(|| pick(None));
    let kana = pick(Some("SYL"));
    let (name, kana) = match (written, kana) {
        (Some(n), k) => (n, k),
        // Only a reading: show it as the name.
        (None, Some(k)) => (k, None),
        (None, None) => match pick(Some("ABC")) {
            Some(n) => (n, None),
            None => (String::new(), None),
        },
    };

    let mut phones: Vec<&ContactPoint> = p
        .telecom
        .iter()
        .filter(|t| t.system.as_deref() == Some("phone"))
        .filter(|t| t.use_.as_deref() != Some("old"))
        .filter(|t| !ended(t.period.as_ref(), now))
        .filter(|t| t.value.as_deref().is_some_and(|v| !v.trim().is_empty()))
        .collect();
    // Rank 1 is tried first; numbers without a rank come after ranked ones, as listed.
    phones.sort_by_key(|t| t.rank.unwrap_or(u32::MAX));
    Ok(Patient {
        source_id: id,
        source_version: p.meta.and_then(|m| m.version_id),
        name,
        kana,
        phones: phones
            .into_iter()
            .filter_map(|t| t.value.as_deref())
            .map(Phone::parse)
            .collect(),
    })
}

/// The year of an instant, for tests of partial dates.
#[doc(hidden)]
pub fn latest_instant_year(s: &str) -> Option<i32> {
    latest_instant(s).map(|t| t.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_jp_core_patient_gives_kanji_kana_and_ranked_current_phones() {
        let p = parse_patient(
            json!({
                "resourceType": "Patient", "id": "p1", "meta": {"versionId": "4"},
                "name": [
                    {"extension": [{"url": REPRESENTATION, "valueCode": "SYL"}],
                     "use": "official", "family": "ヤマダ", "given": ["タロウ"]},
                    {"extension": [{"url": REPRESENTATION, "valueCode": "IDE"}],
                     "use": "official", "family": "山田", "given": ["太郎"]}
                ],
                "telecom": [
                    {"system": "email", "value": "t@example.jp"},
                    {"system": "phone", "value": "03-3456-7890", "use": "home", "rank": 2},
                    {"system": "phone", "value": "090-1234-5678", "use": "mobile", "rank": 1},
                    {"system": "phone", "value": "03-1111-2222", "use": "old"},
                    {"system": "phone", "value": "03-2222-3333", "period": {"end": "2020-03"}},
                    {"system": "phone", "value": "080-9999-0000", "period": {"end": "2030-01-01"}}
                ]
            }),
            now(),
        )
        .unwrap();
        assert_eq!(p.name, "山田 太郎");
        assert_eq!(p.kana.as_deref(), Some("ヤマダ タロウ"));
        assert_eq!(p.source_version.as_deref(), Some("4"));
        let e164: Vec<_> = p
            .phones
            .iter()
            .map(|ph| ph.e164.as_deref().unwrap())
            .collect();
        assert_eq!(e164, ["+819012345678", "+81334567890", "+818099990000"]);
    }

    #[test]
    fn names_fall_back_to_text_then_family_given_and_skip_ended_ones() {
        let p = parse_patient(
            json!({"resourceType": "Patient", "id": "x", "name": [
                {"use": "maiden", "family": "Windsor", "given": ["Ann"], "period": {"end": "2002"}},
                {"use": "usual", "given": ["Annie"]},
                {"use": "official", "family": "Smith", "given": ["Ann", "B"]}
            ]}),
            now(),
        )
        .unwrap();
        assert_eq!(p.name, "Smith Ann B");
        assert_eq!(p.kana, None);
        assert!(p.phones.is_empty());
        let nameless = parse_patient(json!({"resourceType": "Patient", "id": "y"}), now()).unwrap();
        assert_eq!(nameless.name, "");
    }

    #[test]
    fn appointments_take_status_times_reason_and_the_patient_actor() {
        let a = parse_appointment(json!({
            "resourceType": "Appointment", "id": "a1", "meta": {"versionId": "3"},
            "status": "checked-in",
            "start": "2026-11-25T09:00:00+09:00", "end": "2026-11-25T09:15:00+09:00",
            "reasonCode": [{"coding": [{"display": "高血圧"}]}],
            "participant": [
                {"type": [{"text": "no actor"}], "status": "accepted"},
                {"actor": {"reference": "Practitioner/dr"}, "status": "accepted"},
                {"actor": {"reference": "https://fhir.example.jp/r4/Patient/p9/_history/2"}}
            ]
        }))
        .unwrap();
        assert_eq!(a.status, AppointmentStatus::CheckedIn);
        assert_eq!(a.start.unwrap().to_rfc3339(), "2026-11-25T00:00:00+00:00");
        assert_eq!(a.reason.as_deref(), Some("高血圧"));
        assert_eq!(a.patient_id.as_deref(), Some("p9"));
        assert_eq!(a.source_version.as_deref(), Some("3"));
    }

    #[test]
    fn an_unknown_status_or_a_bad_instant_invalidates_the_answer_without_quoting_it() {
        let e =
            parse_appointment(json!({"resourceType": "Appointment", "id": "a", "status": "done"}))
                .unwrap_err();
        assert!(e.0.contains("not an R4 appointment status"), "{e}");
        let e = parse_appointment(json!({"resourceType": "Appointment", "id": "a",
            "status": "booked", "start": "tomorrow"}))
        .unwrap_err();
        assert!(e.0.contains("instant"), "{e}");
        // A wrong type inside a patient: the message says where, not what.
        let e = parse_search_page(
            br#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":
                {"resourceType":"Patient","id":"p","name":[{"family":["Yamada Taro"]}]}}]}"#,
            now(),
        )
        .unwrap_err();
        assert!(!e.0.contains("Yamada"), "{e}");
    }

    #[test]
    fn pages_link_on_and_reject_what_is_not_a_searchset() {
        let page = parse_search_page(
            br#"{"resourceType":"Bundle","type":"searchset","total":7,
                "link":[{"relation":"self","url":"s"},{"relation":"next","url":"n"}],
                "entry":[{"resource":{"resourceType":"OperationOutcome",
                  "issue":[{"severity":"warning","code":"informational"}]}}]}"#,
            now(),
        )
        .unwrap();
        assert_eq!(page.next.as_deref(), Some("n"));
        assert_eq!(page.total, Some(7));

        for body in [
            &br#"{"resourceType":"Patient","id":"x"}"#[..],
            br#"{"resourceType":"Bundle","type":"transaction-response"}"#,
            br#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":
                {"resourceType":"OperationOutcome","issue":[{"severity":"error"}]}}]}"#,
            br#"{"resourceType":"Bundle","type":"searchset","entry":[{"res"#,
            b"<html><body>Login</body></html>",
            b"",
        ] {
            assert!(parse_search_page(body, now()).is_err());
        }
    }

    #[test]
    fn partial_dates_end_as_late_as_they_could() {
        assert_eq!(latest_instant_year("2014"), Some(2015));
        assert_eq!(
            latest_instant("2014-12").unwrap().to_rfc3339(),
            "2015-01-01T12:00:00+00:00"
        );
        assert_eq!(latest_instant("nonsense"), None);
    }
}
