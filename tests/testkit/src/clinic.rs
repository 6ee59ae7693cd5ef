//! A generated clinic day as FHIR R4 resources, JP Core style: names in kanji (IDE) and
//! kana (SYL), ranked phones, and edge cases on purpose (two phones, none, an old one,
//! every appointment status, a participant without an actor). Deterministic.

use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};

pub const REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("𠮷川", "ヨシカワ"),
];
const GIVEN: &[(&str, &str)] = &[
    ("健一", "ケンイチ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽子", "ヨウコ"),
    ("翔太", "ショウタ"),
    ("由美子", "ユミコ"),
    ("隆", "タカシ"),
    ("さくら", "サクラ"),
    ("誠", "マコト"),
    ("恵", "メグミ"),
    ("拓也", "タクヤ"),
];
pub const STATUSES: [&str; 10] = [
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
];

/// The kanji and kana of patient `i` of a day (for assertions).
pub fn names(i: usize) -> (String, String) {
    let (fk, fy) = FAMILY[i % FAMILY.len()];
    let (gk, gy) = GIVEN[(i / FAMILY.len() + i) % GIVEN.len()];
    (format!("{fk} {gk}"), format!("{fy} {gy}"))
}

/// A mobile number unique to `i` (090-1xxx-yyyy).
pub fn mobile(i: usize) -> String {
    format!("090-{:04}-{:04}", 1000 + i / 10_000, i % 10_000)
}

pub fn patient(id: &str, i: usize) -> Value {
    let (kanji, kana) = names(i);
    let (fk, gk) = kanji.split_once(' ').unwrap();
    let (fy, gy) = kana.split_once(' ').unwrap();
    let mut telecom =
        vec![json!({"system": "phone", "value": mobile(i), "use": "mobile", "rank": 1})];
    if i % 7 == 3 {
        telecom.push(json!({"system": "phone", "value": format!("03-{:04}-{:04}", 3000 + i % 1000, 1000 + i), "use": "home", "rank": 2}));
    }
    if i % 13 == 5 {
        telecom.push(json!({"system": "phone", "value": "03-1111-0000", "use": "old"}));
    }
    if i % 11 == 4 {
        telecom.clear();
        telecom.push(json!({"system": "email", "value": format!("p{i}@example.jp")}));
    }
    json!({
        "resourceType": "Patient",
        "id": id,
        "name": [
            {"extension": [{"url": REPRESENTATION, "valueCode": "IDE"}], "use": "official",
             "family": fk, "given": [gk]},
            {"extension": [{"url": REPRESENTATION, "valueCode": "SYL"}], "use": "official",
             "family": fy, "given": [gy]}
        ],
        "telecom": telecom
    })
}

pub struct ClinicDay {
    pub patients: Vec<Value>,
    pub appointments: Vec<Value>,
}

impl ClinicDay {
    /// Patients first, so every reference resolves when they are stored in order.
    pub fn resources(&self) -> Vec<Value> {
        self.patients
            .iter()
            .chain(&self.appointments)
            .cloned()
            .collect()
    }
}

/// `count` appointments on `date` at a clinic in Japan (+09:00), from 09:00 in 5-minute
/// steps; ids start with `prefix`. The first ten cover every R4 status.
pub fn clinic_day(date: NaiveDate, count: usize, prefix: &str) -> ClinicDay {
    let mut patients = Vec::new();
    let mut appointments = Vec::new();
    let nine = date.and_hms_opt(9, 0, 0).unwrap();
    for i in 0..count {
        let pid = format!("{prefix}p{i}");
        patients.push(patient(&pid, i));
        let start = nine + Duration::minutes(5 * i as i64);
        let status = STATUSES.get(i).copied().unwrap_or("booked");
        let mut participant = vec![
            json!({"actor": {"reference": format!("Patient/{pid}")}, "status": "accepted"}),
            json!({"actor": {"reference": "Practitioner/dr-sato"}, "status": "accepted"}),
        ];
        if i % 9 == 2 {
            participant.push(json!({"type": [{"text": "通訳"}], "status": "needs-action"}));
        }
        appointments.push(json!({
            "resourceType": "Appointment",
            "id": format!("{prefix}a{i}"),
            "status": status,
            "start": format!("{}+09:00", start.format("%Y-%m-%dT%H:%M:%S")),
            "end": format!("{}+09:00", (start + Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%S")),
            "reasonCode": [{"text": if i % 2 == 0 { "定期受診" } else { "発熱" }}],
            "participant": participant
        }));
    }
    ClinicDay {
        patients,
        appointments,
    }
}

/// A doctor's booking calendar (FHIR Schedule) that web booking offers Slots from.
pub fn schedule(id: &str) -> Value {
    json!({
        "resourceType": "Schedule",
        "id": id,
        "active": true,
        "actor": [{"reference": "Practitioner/dr-sato", "display": "佐藤医師"}]
    })
}

/// A 15-minute Slot of `schedule` starting at `start` (any RFC 3339 instant), with
/// `status` (`free`, `busy`, …).
pub fn slot(id: &str, schedule: &str, start: chrono::DateTime<chrono::Utc>, status: &str) -> Value {
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({
        "resourceType": "Slot",
        "id": id,
        "schedule": {"reference": format!("Schedule/{schedule}")},
        "status": status,
        "start": at(start),
        "end": at(start + Duration::minutes(15))
    })
}
