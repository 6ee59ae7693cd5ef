//! Every official HL7 R4 example Appointment and Patient parses, and the tricky ones mean
//! what they say. (Files: tests/fixtures/fhir-r4-examples, unmodified copies.)

use chrono::{TimeZone, Utc};
use serde_json::Value;
use tsunagi_core::model::AppointmentStatus;
use tsunagi_core::source::fhir::resources::{parse_appointment, parse_patient, parse_search_page};

fn examples(prefix: &str) -> Vec<(String, Value)> {
    let dir = tsunagi_testkit::package_dir().join("tests/fixtures/fhir-r4-examples");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".json"))
        })
        .map(|p| {
            let value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap()
}

#[test]
fn every_example_appointment_parses() {
    let all = examples("Appointment-");
    assert_eq!(all.len(), 3);
    for (file, value) in all {
        let a = parse_appointment(value).unwrap_or_else(|e| panic!("{file}: {e}"));
        match file.as_str() {
            "Appointment-example.json" => {
                assert_eq!(a.status, AppointmentStatus::Booked);
                assert_eq!(a.patient_id.as_deref(), Some("example"));
                assert_eq!(a.start.unwrap().to_rfc3339(), "2013-12-10T09:00:00+00:00");
                assert!(a.reason.is_some());
            }
            // A participant without an actor (only a type) must not break anything.
            "Appointment-2docs.json" => {
                assert_eq!(a.status, AppointmentStatus::Booked);
                assert_eq!(a.patient_id.as_deref(), Some("example"));
            }
            // A proposed appointment has no start yet.
            "Appointment-examplereq.json" => {
                assert_eq!(a.status, AppointmentStatus::Proposed);
                assert_eq!(a.start, None);
                assert_eq!(a.end, None);
            }
            other => panic!("unexpected example {other}"),
        }
    }
}

#[test]
fn every_example_patient_parses() {
    let all = examples("Patient-");
    assert!(all.len() >= 20, "{}", all.len());
    for (file, value) in all {
        let p = parse_patient(value, now()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!p.source_id.is_empty(), "{file}");
        if file == "Patient-example.json" {
            // Official name first; the ended maiden name is not used.
            assert_eq!(p.name, "Chalmers Peter James");
            // Work (rank 1) before mobile (rank 2); the old number is gone.
            let shown: Vec<&str> = p.phones.iter().map(|ph| ph.display.as_str()).collect();
            assert_eq!(shown, ["(03) 5555 6473", "(03) 3410 5613"]);
        }
    }
}

#[test]
fn the_example_search_bundle_parses_and_its_warning_is_not_an_error() {
    for (file, value) in examples("Bundle-") {
        let body = serde_json::to_vec(&value).unwrap();
        let kind = value["type"].as_str().unwrap();
        let parsed = parse_search_page(&body, now());
        if kind == "searchset" {
            let page = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
            if file == "Bundle-bundle-search-warning.json" {
                assert!(page.appointments.is_empty());
            }
        } else {
            assert!(
                parsed.is_err(),
                "{file}: a {kind} Bundle is not a search answer"
            );
        }
    }
}
