//! ORCA (日医標準レセプトソフト) and WebORCA through the ORCA API (issue 19): today's and the
//! next days' appointments (`/api01rv2/appointlstv2`, one request per day, and per doctor
//! when `physicians` is set) and the patients' phone numbers (`/api01rv2/patientlst2v2`,
//! up to 100 patients a request). Requests and answers are xml2 in UTF-8, with Basic auth
//! (the ORCA operator's ID and password). See docs/orca.md for what is modelled.
//!
//! A failed, partial or strange answer fails the whole pull: the mirror stays as it was.

pub mod results;
pub mod xml2;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Duration as Minutes, NaiveDate, NaiveTime};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};
use zeroize::Zeroizing;

use super::{PullOutcome, PullRequest, SourceError};
use crate::model::{Appointment, AppointmentStatus, MirrorSnapshot, Patient, SourceKind};
use crate::phone::Phone;
use xml2::Node;

/// A bigger answer is not an appointment list (500 rows of a few hundred bytes each).
const MAX_ANSWER_BYTES: u64 = 8 * 1024 * 1024;
/// ORCA has no end time: an appointment lasts this long on the desk.
const DEFAULT_MINUTES: i64 = 15;
/// patientlst2v2 takes at most this many patient numbers a request.
const PATIENTS_PER_REQUEST: usize = 100;
/// What patientlst2v2 puts in the name of a patient number it does not know.
const NO_SUCH_PATIENT: &str = "【患者番号がありません】";

#[derive(Debug, Clone)]
pub struct OrcaSource {
    base: Url,
    username: String,
    password: Zeroizing<String>,
    timeout: Duration,
    physicians: Vec<String>,
    http: reqwest::Client,
}

/// One appointment as the list gives it, before the patients' phones are known.
struct Row {
    appointment: Appointment,
    patient: Patient,
}

impl OrcaSource {
    pub fn new(
        base: Url,
        username: String,
        password: Zeroizing<String>,
        timeout: Duration,
        physicians: Vec<String>,
        http: reqwest::Client,
    ) -> OrcaSource {
        OrcaSource {
            base,
            username,
            password,
            timeout,
            physicians,
            http,
        }
    }

    /// Identifies this upstream in the mirror.
    pub fn key(base: &str) -> String {
        format!("orca:{}", base.trim_end_matches('/'))
    }

    fn host(&self) -> String {
        self.base.host_str().unwrap_or("the ORCA server").to_owned()
    }

    /// `path` (`api01rv2/appointlstv2`) under the base URL (WebORCA's `/api` prefix is
    /// part of the base).
    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// POST an xml2 request (class 01); the answer record, whatever its Api_Result.
    async fn post(&self, path: &str, body: String) -> Result<Node, SourceError> {
        self.post_class(path, "01", body).await
    }

    async fn post_class(&self, path: &str, class: &str, body: String) -> Result<Node, SourceError> {
        let url = self.url(path, &[("class", class)]);
        let request = self
            .http
            .post(url)
            .timeout(self.timeout)
            .basic_auth(&self.username, Some(self.password.as_str()))
            .header(CONTENT_TYPE, "application/xml; charset=UTF-8")
            .body(body);
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let host = self.host();
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let redirect = response
            .headers()
            .get(LOCATION)
            .map(|_| format!("a redirect (HTTP {})", status.as_u16()));
        let body = self.read_body(&mut response).await?;
        match status {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(SourceError::Auth {
                    host,
                    status: status.as_u16(),
                })
            }
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                return Err(SourceError::Server {
                    host,
                    status: status.as_u16(),
                })
            }
            s if s.is_redirection() => {
                return Err(SourceError::NotFhir {
                    host,
                    content_type: redirect.unwrap_or_else(|| format!("HTTP {}", s.as_u16())),
                })
            }
            s => {
                return Err(SourceError::Rejected {
                    host,
                    status: s.as_u16(),
                    outcome: String::new(),
                })
            }
        }
        if !content_type.contains("xml") {
            return Err(SourceError::NotFhir { host, content_type });
        }
        xml2::parse(&body).map_err(|e| SourceError::Invalid {
            host,
            reason: e.to_string(),
        })
    }

    async fn read_body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, SourceError> {
        crate::source::read_limited(response, MAX_ANSWER_BYTES, &self.host(), self.timeout).await
    }

    fn transport(&self, e: reqwest::Error) -> SourceError {
        SourceError::from_transport(self.host(), self.timeout, &e)
    }

    /// The answer record must be the one asked for (`appointlstres`), else it is not
    /// this API's answer.
    fn expect(&self, node: &Node, record: &str) -> Result<(), SourceError> {
        if node.name != record {
            return Err(SourceError::Invalid {
                host: self.host(),
                reason: format!("expected {record}, got {}", node.name),
            });
        }
        if node.child("Api_Result").is_none() {
            return Err(SourceError::Invalid {
                host: self.host(),
                reason: format!("{record} without Api_Result"),
            });
        }
        Ok(())
    }

    fn refused(&self, api: &'static str, node: &Node) -> SourceError {
        let code = node.text_of("Api_Result").to_owned();
        SourceError::OrcaResult {
            host: self.host(),
            api,
            words: results::words(api, &code),
            orca_message: node.text_of("Api_Result_Message").to_owned(),
            code,
        }
    }

    /// One day's appointments (for one doctor, or all).
    async fn day(
        &self,
        day: NaiveDate,
        physician: Option<&str>,
        request: &PullRequest,
    ) -> Result<Vec<Row>, SourceError> {
        let date = day.format("%Y-%m-%d").to_string();
        let mut fields = vec![("Appointment_Date", date.as_str())];
        if let Some(code) = physician {
            fields.push(("Physician_Code", code));
        }
        let answer = self
            .post(
                "api01rv2/appointlstv2",
                xml2::request("appointlstreq", &fields),
            )
            .await?;
        self.expect(&answer, "appointlstres")?;
        match answer.text_of("Api_Result") {
            "00" => {}
            // 対象の予約はありませんでした: an empty day.
            "21" => return Ok(Vec::new()),
            _ => return Err(self.refused(results::APPOINTMENTS, &answer)),
        }
        let answered = answer.text_of("Appointment_Date");
        if answered != date {
            return Err(SourceError::Invalid {
                host: self.host(),
                reason: format!("asked for the appointments of {date}, got {answered:?}"),
            });
        }
        answer
            .records("Appointlst_Information")
            .iter()
            .map(|row| self.row(day, row, request))
            .collect()
    }

    fn row(&self, day: NaiveDate, row: &Node, request: &PullRequest) -> Result<Row, SourceError> {
        let invalid = |reason: String| SourceError::Invalid {
            host: self.host(),
            reason,
        };
        let time_text = row.text_of("Appointment_Time");
        let time = NaiveTime::parse_from_str(time_text, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(time_text, "%H:%M"))
            .map_err(|_| invalid(format!("an appointment time {time_text:?}")))?;
        let patient = row
            .child("Patient_Information")
            .ok_or_else(|| invalid("an appointment without Patient_Information".into()))?;
        let patient_id = patient.text_of("Patient_ID");
        if patient_id.is_empty() {
            return Err(invalid("an appointment without a patient number".into()));
        }
        let physician = row.text_of("Physician_Code");
        // Appointment_Id (since 2017) is a small number, unique only with its patient and
        // day; older servers have none, and then the slot and the doctor identify it.
        let id = match row.text_of("Appointment_Id") {
            "" => format!(
                "orca-{patient_id}-{}-{}-{physician}",
                day.format("%Y%m%d"),
                time.format("%H%M")
            ),
            given => appointment_source_id(patient_id, day, given),
        };
        let start = request.calendar.at(day, time);
        let reason = [
            row.text_of("Department_WholeName"),
            row.text_of("Physician_WholeName"),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let phones = patient
            .child("Home_Address_Information")
            .map(|h| phones_of(h, &["PhoneNumber1"]))
            .unwrap_or_default();
        Ok(Row {
            appointment: Appointment {
                source_id: id,
                source_version: None,
                start: Some(start),
                end: Some(start + Minutes::minutes(DEFAULT_MINUTES)),
                status: match row.text_of("Visit_Information") {
                    "1" => AppointmentStatus::Arrived,
                    _ => AppointmentStatus::Booked,
                },
                reason: (!reason.is_empty()).then_some(reason),
                patient_id: Some(format!("orca-p-{patient_id}")),
            },
            patient: Patient {
                source_id: format!("orca-p-{patient_id}"),
                source_version: None,
                name: patient.text_of("WholeName").to_owned(),
                kana: Some(patient.text_of("WholeName_inKana").to_owned())
                    .filter(|k| !k.is_empty()),
                phones,
            },
        })
    }

    /// Every phone ORCA keeps for these patients (自宅, 連絡先), by patient number.
    async fn phones(&self, ids: &[String]) -> Result<BTreeMap<String, Vec<Phone>>, SourceError> {
        let mut found = BTreeMap::new();
        for batch in ids.chunks(PATIENTS_PER_REQUEST) {
            let mut body = String::from(
                "<data>\n<patientlst2req type=\"record\">\n<Patient_ID_Information type=\"array\">\n",
            );
            for id in batch {
                body.push_str(&format!(
                    "<Patient_ID_Information_child type=\"record\"><Patient_ID type=\"string\">{}</Patient_ID></Patient_ID_Information_child>\n",
                    id.chars().filter(char::is_ascii_alphanumeric).collect::<String>()
                ));
            }
            body.push_str("</Patient_ID_Information>\n</patientlst2req>\n</data>\n");
            let answer = self.post("api01rv2/patientlst2v2", body).await?;
            self.expect(&answer, "patientlst2res")?;
            if answer.text_of("Api_Result") != "00" {
                return Err(self.refused(results::PATIENTS, &answer));
            }
            for p in answer.records("Patient_Information") {
                if p.text_of("WholeName") == NO_SUCH_PATIENT {
                    continue;
                }
                let phones = p
                    .child("Home_Address_Information")
                    .map(|h| phones_of(h, &["PhoneNumber1", "PhoneNumber2"]))
                    .unwrap_or_default();
                found.insert(normal_id(p.text_of("Patient_ID")), phones);
            }
        }
        Ok(found)
    }

    pub async fn fetch(&self, request: &PullRequest) -> Result<PullOutcome, SourceError> {
        let physicians: Vec<Option<&str>> = if self.physicians.is_empty() {
            vec![None]
        } else {
            self.physicians.iter().map(|p| Some(p.as_str())).collect()
        };
        let mut rows = Vec::new();
        for n in 0..request.days {
            let day = request.first_day + chrono::Days::new(u64::from(n));
            for physician in &physicians {
                rows.extend(self.day(day, *physician, request).await?);
            }
        }
        let mut patients: BTreeMap<String, Patient> = BTreeMap::new();
        let mut appointments = Vec::new();
        for Row {
            appointment,
            patient,
        } in rows
        {
            if appointments
                .iter()
                .any(|a: &Appointment| a.source_id == appointment.source_id)
            {
                continue;
            }
            patients.entry(patient.source_id.clone()).or_insert(patient);
            appointments.push(appointment);
        }
        let ids: Vec<String> = patients
            .keys()
            .map(|k| k.trim_start_matches("orca-p-").to_owned())
            .collect();
        if !ids.is_empty() {
            let phones = self.phones(&ids).await?;
            for (key, patient) in patients.iter_mut() {
                let id = normal_id(key.trim_start_matches("orca-p-"));
                for phone in phones.get(&id).into_iter().flatten() {
                    if !patient.phones.iter().any(|p| p.display == phone.display) {
                        patient.phones.push(phone.clone());
                    }
                }
            }
        }
        Ok(PullOutcome::Snapshot {
            snapshot: MirrorSnapshot {
                source_key: OrcaSource::key(self.base.as_str()),
                source_kind: SourceKind::Orca,
                patients: patients.into_values().collect(),
                appointments,
            },
            since: None,
        })
    }
}

/// One of a patient's appointments as `appointlst2v2` gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub id: String,
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub department: String,
    pub physician: String,
    pub medical: String,
    pub note: String,
}

/// What `appointmodv2` answered: its Api_Result (`00`, a `K` warning, or an error), ORCA's
/// message, and the appointment number it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingAnswer {
    pub code: String,
    pub message: String,
    pub id: String,
}

impl BookingAnswer {
    /// Done: `00`, or a warning (`K3`…), which ORCA answers with the first warning's code.
    pub fn succeeded(&self) -> bool {
        self.code == "00" || self.code.starts_with('K')
    }
}

impl OrcaSource {
    /// A patient's appointments from `from` on (appointlst2v2, at most 50, newest first).
    pub async fn patient_appointments(
        &self,
        patient: &str,
        from: NaiveDate,
    ) -> Result<Vec<Booked>, SourceError> {
        let date = from.format("%Y-%m-%d").to_string();
        let answer = self
            .post(
                "api01rv2/appointlst2v2",
                xml2::request(
                    "appointlst2req",
                    &[("Patient_ID", patient), ("Base_Date", &date)],
                ),
            )
            .await?;
        self.expect(&answer, "appointlst2res")?;
        match answer.text_of("Api_Result") {
            "00" => {}
            "21" => return Ok(Vec::new()),
            _ => return Err(self.refused(results::PATIENT_APPOINTMENTS, &answer)),
        }
        answer
            .records("Appointlst_Information")
            .iter()
            .map(|row| {
                let invalid = |what: &str| SourceError::Invalid {
                    host: self.host(),
                    reason: format!("an appointment with {what}"),
                };
                let date = NaiveDate::parse_from_str(row.text_of("Appointment_Date"), "%Y-%m-%d")
                    .map_err(|_| invalid("no date"))?;
                let time = NaiveTime::parse_from_str(row.text_of("Appointment_Time"), "%H:%M:%S")
                    .map_err(|_| invalid("no time"))?;
                Ok(Booked {
                    id: row.text_of("Appointment_Id").to_owned(),
                    date,
                    time,
                    department: row.text_of("Department_Code").to_owned(),
                    physician: row.text_of("Physician_Code").to_owned(),
                    medical: row.text_of("Medical_Information").to_owned(),
                    note: row.text_of("Appointment_Note").to_owned(),
                })
            })
            .collect()
    }

    /// `appointmodv2`: class `01` books, `02` cancels. The fields go in the documented
    /// order; ORCA's answer code is the caller's to read.
    pub async fn appointment(
        &self,
        class: &str,
        fields: &[(&str, &str)],
    ) -> Result<BookingAnswer, SourceError> {
        let answer = self
            .post_class(
                "orca14/appointmodv2",
                class,
                xml2::request("appointreq", fields),
            )
            .await?;
        self.expect(&answer, "appointres")?;
        Ok(BookingAnswer {
            code: answer.text_of("Api_Result").to_owned(),
            message: answer.text_of("Api_Result_Message").to_owned(),
            id: answer.text_of("Appointment_Id").to_owned(),
        })
    }
}

/// An ORCA appointment's parts, from the id the mirror gave it: the patient, the day, and
/// ORCA's 予約ID (none on servers from before it).
pub fn appointment_parts(source_id: &str) -> Option<(String, NaiveDate, Option<String>)> {
    let mut parts = source_id.strip_prefix("orca-")?.splitn(3, '-');
    let patient = parts.next()?.to_owned();
    let date = NaiveDate::parse_from_str(parts.next()?, "%Y%m%d").ok()?;
    let rest = parts.next()?;
    // `HHMM-doctor` is the form without a 予約ID.
    let id = (!rest.contains('-')).then(|| rest.to_owned());
    Some((patient, date, id))
}

/// The id the mirror gives an ORCA appointment.
pub fn appointment_source_id(patient: &str, date: NaiveDate, id: &str) -> String {
    format!("orca-{patient}-{}-{id}", date.format("%Y%m%d"))
}

/// Patient numbers compare without their zero padding (`00012` is `12`).
fn normal_id(id: &str) -> String {
    let trimmed = id.trim().trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn phones_of(address: &Node, fields: &[&str]) -> Vec<Phone> {
    let mut phones: Vec<Phone> = Vec::new();
    for field in fields {
        let raw = address.text_of(field);
        if raw.is_empty() {
            continue;
        }
        let phone = Phone::parse(raw);
        if !phones.iter().any(|p| p.display == phone.display) {
            phones.push(phone);
        }
    }
    phones
}
