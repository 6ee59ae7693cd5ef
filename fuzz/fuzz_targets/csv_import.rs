//! Any file a receptionist might pick: imported whole, or refused with reasons, never a
//! panic; what is imported stays inside the days the import claims to replace.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagi_core::calendar::ClinicCalendar;
use tsunagi_core::csv_import::parse_csv;

fuzz_target!(|data: &[u8]| {
    let calendar = ClinicCalendar::parse("Asia/Tokyo").expect("a known zone");
    match parse_csv(data, &calendar) {
        Ok(import) => {
            assert!(!import.snapshot.appointments.is_empty());
            assert!(import.first_date <= import.last_date);
            for a in &import.snapshot.appointments {
                let start = a.start.expect("imported rows have a start");
                assert!(import.window.contains(start));
                let patient = a.patient_id.as_deref().expect("a patient");
                assert!(import.snapshot.patients.iter().any(|p| p.source_id == patient));
            }
        }
        Err(e) => assert!(!e.problems().is_empty()),
    }
});
