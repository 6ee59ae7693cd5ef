//! A stand-in for an ORCA (日医標準レセプトソフト) server, built only from the published ORCA
//! API documentation: no ORCA server runs on these machines. docs/orca.md lists which
//! documented behaviours it models and which it does not.
//!
//! Modelled: Basic auth (the operator's ID and password; a wrong one is HTTP 401), the
//! optional WebORCA `/api` prefix, xml2 requests and answers in UTF-8, and
//! - `POST /api01rv2/appointlstv2?class=01`: one day (and one doctor if asked), 00 / 21
//!   (none) / 11 (not a date) / 12 (no such doctor) / 20 (500 or more);
//! - `POST /api01rv2/patientlst2v2?class=01`: up to 100 patients, unknown numbers answered
//!   with 【患者番号がありません】 as their name;
//! - `POST /api01rv2/appointlst2v2?class=01`: a patient's appointments from a date;
//! - `POST /orca14/appointmodv2?class=01|02`: book (a new Appointment_Id) and cancel (by
//!   Appointment_Id, checked against the patient: 25 / 27);
//! - any documented Api_Result forced on an API (`force`), and a wrong class (91).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A patient as ORCA keeps one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrcaPatient {
    /// Zero-padded, as ORCA answers it (`00012`).
    pub id: String,
    pub name: String,
    pub kana: String,
    /// 自宅電話番号 and 連絡先電話番号.
    pub phone1: Option<String>,
    pub phone2: Option<String>,
}

/// An appointment as ORCA keeps one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrcaAppointment {
    /// Unique with its patient and day (`01`, `02`, …).
    pub id: String,
    pub patient: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM:SS`.
    pub time: String,
    pub physician: String,
    pub department: String,
    pub visited: bool,
    pub note: String,
}

#[derive(Debug, Default)]
struct State {
    patients: Vec<OrcaPatient>,
    appointments: Vec<OrcaAppointment>,
    /// An Api_Result to answer instead, by API name (`appointlstv2`).
    forced: HashMap<String, String>,
    /// A whole answer to give instead, by API name (the documentation's own samples).
    replay: HashMap<String, String>,
    /// Each request: method, path with query.
    log: Vec<String>,
}

pub struct OrcaStandin {
    port: u16,
    prefix: &'static str,
    state: Arc<Mutex<State>>,
}

pub const USER: &str = "ormaster";
pub const PASSWORD: &str = "ormaster-pass";
pub const PHYSICIANS: [&str; 2] = ["10001", "10002"];

impl OrcaStandin {
    /// On premises (`http://127.0.0.1:PORT`).
    pub fn start() -> OrcaStandin {
        OrcaStandin::start_with_prefix("")
    }

    /// WebORCA: every API under `/api`.
    pub fn start_weborca() -> OrcaStandin {
        OrcaStandin::start_with_prefix("/api")
    }

    fn start_with_prefix(prefix: &'static str) -> OrcaStandin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, prefix, &state);
                });
            }
        });
        OrcaStandin {
            port,
            prefix,
            state,
        }
    }

    /// The base URL Tsunagi is given.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.prefix)
    }

    /// The address without the prefix (for a fault proxy in front).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn add_patient(&self, patient: OrcaPatient) {
        self.state.lock().unwrap().patients.push(patient);
    }

    pub fn add_appointment(&self, appointment: OrcaAppointment) {
        self.state.lock().unwrap().appointments.push(appointment);
    }

    pub fn appointments(&self) -> Vec<OrcaAppointment> {
        self.state.lock().unwrap().appointments.clone()
    }

    /// Answer every request of `api` with this Api_Result (None: normally again).
    pub fn force(&self, api: &str, code: Option<&str>) {
        let mut state = self.state.lock().unwrap();
        match code {
            Some(code) => state.forced.insert(api.to_owned(), code.to_owned()),
            None => state.forced.remove(api),
        };
    }

    /// Answer every request of `api` with exactly this document (None: normally again).
    pub fn replay(&self, api: &str, document: Option<&str>) {
        let mut state = self.state.lock().unwrap();
        match document {
            Some(d) => state.replay.insert(api.to_owned(), d.to_owned()),
            None => state.replay.remove(api),
        };
    }

    /// Every request so far: `POST /api01rv2/appointlstv2?class=01`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

/// The text of the first `<name …>text</name>` in a request body.
fn field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    // `<Patient_ID` must not find `<Patient_ID_Information`.
    let start = body.match_indices(&open).map(|(i, _)| i).find(|i| {
        matches!(
            body.as_bytes().get(i + open.len()),
            Some(b' ' | b'>' | b'/')
        )
    })?;
    let after = &body[start + open.len()..];
    let gt = after.find('>')?;
    if after[..gt].ends_with('/') {
        return Some(String::new());
    }
    let rest = &after[gt + 1..];
    let end = rest.find(&format!("</{name}>"))?;
    Some(unescape(rest[..end].trim()))
}

fn all_fields(body: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(v) = field(rest, name) {
        out.push(v);
        let close = format!("</{name}>");
        match rest.find(&close) {
            Some(i) => rest = &rest[i + close.len()..],
            None => break,
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn s(name: &str, value: &str) -> String {
    format!("<{name} type=\"string\">{}</{name}>", escape(value))
}

fn head(record: &str, code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xmlio2>\n<{record} type=\"record\">\n{}{}{}{}{}",
        s("Information_Date", "2026-12-03"),
        s("Information_Time", "08:00:00"),
        s("Api_Result", code),
        s("Api_Result_Message", message),
        s("Reskey", "Patient Info"),
    )
}

fn tail(record: &str) -> String {
    format!("</{record}>\n</xmlio2>\n")
}

/// ORCA's own message for a code (from the documentation's tables; enough to tell them
/// apart).
fn message(code: &str) -> &'static str {
    match code {
        "00" => "処理終了",
        "11" => "予約日が暦日ではありません",
        "12" => "ドクターが存在しません",
        "20" => "予約対象件数が５００件以上あります",
        "21" => "対象の予約はありませんでした",
        "25" => "削除対象の予約レコードが存在しません",
        "27" => "予約IDの予約情報と患者情報が一致しません",
        "89" => "職員情報が取得できません",
        "90" => "他端末使用中",
        "91" => "処理区分未設定",
        "97" => "送信内容に誤りがあります",
        "98" => "送信内容の読込ができませんでした",
        "99" => "ユーザID未登録",
        _ => "エラー",
    }
}

fn valid_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts.iter().all(|p| p.parse::<u32>().is_ok())
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap())
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap())
}

fn normal(id: &str) -> &str {
    id.trim().trim_start_matches('0')
}

fn patient_record(p: &OrcaPatient, phones: &[Option<&String>]) -> String {
    let mut xml = format!(
        "{}{}{}",
        s("Patient_ID", &p.id),
        s("WholeName", &p.name),
        s("WholeName_inKana", &p.kana)
    );
    let fields = ["PhoneNumber1", "PhoneNumber2"];
    let present: Vec<String> = phones
        .iter()
        .zip(fields)
        .filter_map(|(v, name)| v.map(|v| s(name, v)))
        .collect();
    if !present.is_empty() {
        xml.push_str(&format!(
            "<Home_Address_Information type=\"record\">{}</Home_Address_Information>",
            present.concat()
        ));
    }
    xml
}

fn answer(state: &Mutex<State>, api: &str, class: &str, body: &str) -> String {
    let mut state = state.lock().unwrap();
    let record = match api {
        "appointlstv2" => "appointlstres",
        "patientlst2v2" => "patientlst2res",
        "appointlst2v2" => "appointlst2res",
        "appointmodv2" => "appointres",
        _ => "xmlres",
    };
    let refuse = |code: &str| format!("{}{}", head(record, code, message(code)), tail(record));
    if let Some(code) = state.forced.get(api) {
        return refuse(code);
    }
    if let Some(document) = state.replay.get(api) {
        return document.clone();
    }
    let class_ok = match api {
        "appointmodv2" => class == "01" || class == "02",
        _ => class == "01",
    };
    if !class_ok {
        return refuse("91");
    }
    match api {
        "appointlstv2" => {
            let date = field(body, "Appointment_Date").unwrap_or_default();
            if !valid_date(&date) {
                return refuse("11");
            }
            let doctor = field(body, "Physician_Code").filter(|d| !d.is_empty());
            if doctor.as_deref().is_some_and(|d| !PHYSICIANS.contains(&d)) {
                return refuse("12");
            }
            let mut rows: Vec<&OrcaAppointment> = state
                .appointments
                .iter()
                .filter(|a| a.date == date)
                .filter(|a| doctor.as_deref().is_none_or(|d| a.physician == d))
                .collect();
            if rows.is_empty() {
                return refuse("21");
            }
            if rows.len() >= 500 {
                return refuse("20");
            }
            rows.sort_by(|a, b| a.time.cmp(&b.time));
            let mut xml = head(record, "00", "処理終了");
            xml.push_str(&s("Appointment_Date", &date));
            xml.push_str("<Appointlst_Information type=\"array\">");
            for a in rows {
                let Some(p) = state
                    .patients
                    .iter()
                    .find(|p| normal(&p.id) == normal(&a.patient))
                else {
                    continue;
                };
                xml.push_str(&format!(
                    "<Appointlst_Information_child type=\"record\">{}{}{}{}{}{}{}{}<Patient_Information type=\"record\">{}</Patient_Information></Appointlst_Information_child>",
                    s("Appointment_Time", &a.time),
                    s("Medical_Information", "01"),
                    s("Department_Code", "01"),
                    s("Department_WholeName", &a.department),
                    s("Physician_Code", &a.physician),
                    s("Physician_WholeName", "日本　一"),
                    if a.visited { s("Visit_Information", "1") } else { String::new() },
                    s("Appointment_Id", &a.id),
                    // The list carries the home phone only.
                    patient_record(p, &[p.phone1.as_ref()]),
                ));
            }
            xml.push_str("</Appointlst_Information>");
            xml + &tail(record)
        }
        "patientlst2v2" => {
            let ids = all_fields(body, "Patient_ID");
            if ids.is_empty() || ids.len() > 100 {
                return refuse("97");
            }
            let mut xml = head(record, "00", "処理終了");
            let found = ids
                .iter()
                .filter(|id| state.patients.iter().any(|p| normal(&p.id) == normal(id)))
                .count();
            xml.push_str(&s("Target_Patient_Count", &format!("{found:03}")));
            xml.push_str(&s(
                "No_Target_Patient_Count",
                &format!("{:03}", ids.len() - found),
            ));
            xml.push_str("<Patient_Information type=\"array\">");
            for id in &ids {
                let inner = match state.patients.iter().find(|p| normal(&p.id) == normal(id)) {
                    Some(p) => patient_record(p, &[p.phone1.as_ref(), p.phone2.as_ref()]),
                    None => format!(
                        "{}{}",
                        s("Patient_ID", id),
                        s("WholeName", "【患者番号がありません】")
                    ),
                };
                xml.push_str(&format!(
                    "<Patient_Information_child type=\"record\">{inner}</Patient_Information_child>"
                ));
            }
            xml.push_str("</Patient_Information>");
            xml + &tail(record)
        }
        "appointlst2v2" => {
            let id = field(body, "Patient_ID").unwrap_or_default();
            let base = field(body, "Base_Date").unwrap_or_default();
            if id.is_empty() {
                return refuse("01");
            }
            let Some(p) = state.patients.iter().find(|p| normal(&p.id) == normal(&id)) else {
                return refuse("10");
            };
            let mut rows: Vec<&OrcaAppointment> = state
                .appointments
                .iter()
                .filter(|a| normal(&a.patient) == normal(&id) && a.date >= base)
                .collect();
            if rows.is_empty() {
                return refuse("21");
            }
            rows.sort_by(|a, b| (&b.date, &b.time).cmp(&(&a.date, &a.time)));
            let mut xml = head(record, "00", "処理終了");
            xml.push_str(&s("Base_Date", &base));
            xml.push_str(&format!(
                "<Patient_Information type=\"record\">{}</Patient_Information>",
                patient_record(p, &[])
            ));
            xml.push_str("<Appointlst_Information type=\"array\">");
            for a in rows.iter().take(50) {
                xml.push_str(&format!(
                    "<Appointlst_Information_child type=\"record\">{}{}{}{}{}</Appointlst_Information_child>",
                    s("Appointment_Date", &a.date),
                    s("Appointment_Time", &a.time),
                    s("Physician_Code", &a.physician),
                    s("Appointment_Id", &a.id),
                    s("Appointment_Note", &a.note),
                ));
            }
            xml.push_str("</Appointlst_Information>");
            xml + &tail(record)
        }
        "appointmodv2" => {
            let patient = field(body, "Patient_ID").unwrap_or_default();
            let date = field(body, "Appointment_Date").unwrap_or_default();
            let time = field(body, "Appointment_Time").unwrap_or_default();
            if patient.is_empty() {
                return refuse("01");
            }
            if !state
                .patients
                .iter()
                .any(|p| normal(&p.id) == normal(&patient))
            {
                return refuse("10");
            }
            if !valid_date(&date) {
                return refuse("11");
            }
            if class == "02" {
                let id = field(body, "Appointment_Id").unwrap_or_default();
                // An Appointment_Id is unique with its patient and day (as the stand-in
                // gives them); one that only another patient has that day is 27.
                let same = |a: &OrcaAppointment| a.id == id && a.date == date;
                let Some(at) = state
                    .appointments
                    .iter()
                    .position(|a| same(a) && normal(&a.patient) == normal(&patient))
                else {
                    let elsewhere = state.appointments.iter().any(same);
                    return refuse(if elsewhere { "27" } else { "25" });
                };
                state.appointments.remove(at);
                return format!(
                    "{}{}{}{}",
                    head(record, "00", "予約取消終了"),
                    s("Appointment_Date", &date),
                    s("Appointment_Id", &id),
                    tail(record)
                );
            }
            let physician = field(body, "Physician_Code").unwrap_or_default();
            if !PHYSICIANS.contains(&physician.as_str()) {
                return refuse("14");
            }
            let taken = state
                .appointments
                .iter()
                .filter(|a| normal(&a.patient) == normal(&patient) && a.date == date)
                .count();
            let id = format!("{:02}", taken + 1);
            state.appointments.push(OrcaAppointment {
                id: id.clone(),
                patient: patient.clone(),
                date: date.clone(),
                time: time.clone(),
                physician,
                department: "内科".into(),
                visited: false,
                note: field(body, "Appointment_Note").unwrap_or_default(),
            });
            format!(
                "{}{}{}{}{}",
                head(record, "00", "予約登録終了"),
                s("Appointment_Date", &date),
                s("Appointment_Time", &time),
                s("Appointment_Id", &id),
                tail(record)
            )
        }
        _ => refuse("91"),
    }
}

fn serve(stream: TcpStream, prefix: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut length = 0usize;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    state.lock().unwrap().log.push(format!("{method} {target}"));

    let mut out = stream;
    let expected = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        )
    };
    if authorization.as_deref() != Some(expected.as_str()) {
        let page = "<html><body>401 Unauthorized</body></html>";
        return write!(
            out,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"glserver\"\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let class = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("class="))
        .unwrap_or("");
    let api = path
        .strip_prefix(prefix)
        .and_then(|p| p.rsplit_once('/'))
        .map(|(dir, api)| (dir.to_owned(), api.to_owned()));
    let known = matches!(
        api.as_ref().map(|(d, a)| (d.as_str(), a.as_str())),
        Some((
            "/api01rv2",
            "appointlstv2" | "patientlst2v2" | "appointlst2v2"
        )) | Some(("/orca14", "appointmodv2"))
    );
    if method != "POST" || !known {
        let page = "<html><body>404 Not Found</body></html>";
        return write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
    }
    let xml = answer(state, &api.unwrap().1, class, &body);
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        xml.len()
    )?;
    out.write_all(xml.as_bytes())
}
