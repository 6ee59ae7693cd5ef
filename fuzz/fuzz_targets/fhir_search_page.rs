//! Any bytes an upstream (or something pretending to be one) sends: the parser answers a
//! page or an error, never a panic, and what it accepts is usable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsunagi_core::source::fhir::resources::parse_search_page;

fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_764_000_000, 0).expect("a valid instant");
    match parse_search_page(data, now) {
        Ok(page) => {
            for a in &page.appointments {
                assert!(!a.source_id.is_empty() && a.source_id.len() <= 64);
            }
            for p in &page.patients {
                assert!(!p.source_id.is_empty() && p.source_id.len() <= 64);
                for phone in &p.phones {
                    assert!(phone.e164.as_deref().is_none_or(|e| e.starts_with('+')));
                }
            }
        }
        // Errors carry no input: their text is bounded whatever the input was.
        Err(e) => assert!(e.0.len() < 300),
    }
});
