//! Every documented `Api_Result` of the ORCA APIs Tsunagi calls, in plain words (English;
//! ORCA's own Japanese message travels beside it). From the ORCA API documentation's error
//! tables (エラーメッセージ一覧), see docs/orca.md.

/// The APIs, as named in messages.
pub const APPOINTMENTS: &str = "appointlstv2";
pub const PATIENTS: &str = "patientlst2v2";
pub const PATIENT_APPOINTMENTS: &str = "appointlst2v2";
pub const BOOKING: &str = "appointmodv2";

/// The codes every ORCA API may answer.
fn common(code: &str) -> Option<&'static str> {
    Some(match code {
        "89" => "ORCA could not read its own setup (staff, clinic, system date or patient number settings); ask whoever runs ORCA",
        "90" => "another ORCA terminal has this patient open; try again when it is closed",
        "91" => "the request named no processing class (a Tsunagi bug: please report it)",
        "97" => "ORCA found an error in what Tsunagi sent (a Tsunagi bug: please report it)",
        "98" => "ORCA could not read what Tsunagi sent",
        "99" => "the ORCA user in Tsunagi's settings is not registered in ORCA (職員情報)",
        _ => return None,
    })
}

/// What an `Api_Result` of `api` means, in plain words.
pub fn words(api: &str, code: &str) -> String {
    let specific = match (api, code) {
        (APPOINTMENTS, "11") => Some("the date asked for is not a calendar date"),
        (APPOINTMENTS, "12") => Some("a doctor code in Tsunagi's settings (physicians) does not exist in ORCA"),
        (APPOINTMENTS, "13") => Some("the kind of visit asked for does not exist in ORCA"),
        (APPOINTMENTS, "20") => Some("500 or more appointments on one day: ORCA lists no more; set physicians in [source.orca] so each doctor is asked alone"),
        (APPOINTMENTS, "21") => Some("no appointments that day"),
        (PATIENT_APPOINTMENTS, "01") => Some("no patient number was sent"),
        (PATIENT_APPOINTMENTS, "10") => Some("ORCA has no patient with this number"),
        (PATIENT_APPOINTMENTS, "11") => Some("the date asked for is not a calendar date"),
        (PATIENT_APPOINTMENTS, "20") => Some("the patient has 50 or more appointments from that day"),
        (PATIENT_APPOINTMENTS, "21") => Some("the patient has no appointments from that day"),
        (BOOKING, "01") => Some("no patient number or name was sent"),
        (BOOKING, "02") => Some("no date was sent"),
        (BOOKING, "03") => Some("no time was sent"),
        (BOOKING, "04") => Some("no department was sent"),
        (BOOKING, "05") => Some("no doctor was sent"),
        (BOOKING, "10") => Some("ORCA has no patient with this number"),
        (BOOKING, "11") => Some("the date is not a calendar date"),
        (BOOKING, "12") => Some("the time is not a valid time"),
        (BOOKING, "13") => Some("the department does not exist in ORCA"),
        (BOOKING, "14") => Some("the doctor does not exist in ORCA"),
        (BOOKING, "15") => Some("the kind of visit does not exist in ORCA"),
        (BOOKING, "16") => Some("the kind of booking does not exist in ORCA"),
        (BOOKING, "17") => Some("the booking note holds characters ORCA cannot store"),
        (BOOKING, "18") => Some("the name holds characters ORCA cannot store"),
        (BOOKING, "19") => Some("the kana name holds characters ORCA cannot store"),
        (BOOKING, "20") => Some("that doctor's slot at that time is already booked for this kind of visit"),
        (BOOKING, "25") => Some("the appointment to cancel is no longer in ORCA"),
        (BOOKING, "26") => Some("the appointment number is wrong"),
        (BOOKING, "27") => Some("the appointment number belongs to another patient"),
        (BOOKING, "50") => Some("the patient already has 99 appointments that day; ORCA takes no more"),
        (BOOKING, "51") => Some("ORCA could not store the appointment"),
        (BOOKING, "52") => Some("ORCA could not store the booking note"),
        (BOOKING, "53") => Some("ORCA could not update the appointment"),
        (BOOKING, "54") => Some("ORCA could not delete the appointment"),
        (BOOKING, "K3") => Some("booked; ORCA filled in the kind of visit itself"),
        (BOOKING, "K4") => Some("booked, over the slot's usual number of appointments"),
        (BOOKING, "K5") => Some("booked on a day already past"),
        _ => None,
    };
    match specific.or_else(|| common(code)) {
        Some(words) => words.to_owned(),
        None => format!("an answer code ORCA documents nowhere ({code:?})"),
    }
}

/// The codes each API documents, for the stand-in server and the tests.
pub fn documented(api: &str) -> Vec<&'static str> {
    let own: &[&str] = match api {
        APPOINTMENTS => &["11", "12", "13", "20", "21"],
        PATIENTS => &[],
        PATIENT_APPOINTMENTS => &["01", "10", "11", "20", "21"],
        BOOKING => &[
            "01", "02", "03", "04", "05", "10", "11", "12", "13", "14", "15", "16", "17", "18",
            "19", "20", "25", "26", "27", "50", "51", "52", "53", "54", "K3", "K4", "K5",
        ],
        _ => &[],
    };
    own.iter()
        .copied()
        .chain(["89", "90", "91", "97", "98", "99"])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_every_documented_answer_code_has_plain_words() {
        for api in [APPOINTMENTS, PATIENTS, PATIENT_APPOINTMENTS, BOOKING] {
            for code in documented(api) {
                let w = words(api, code);
                assert!(!w.contains("documents nowhere"), "{api} {code}");
            }
        }
        assert!(words(APPOINTMENTS, "77").contains("\"77\""));
    }
}
