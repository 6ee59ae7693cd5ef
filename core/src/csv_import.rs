//! The morning CSV export, for clinics whose system has no FHIR API. The format is
//! documented in docs/csv-import.md. A file is imported whole or not at all: one bad row
//! means nothing changes and every problem is reported with its line number, because a
//! call list that silently misses a patient is worse than one that asks for a fix.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveTime};
use serde::Serialize;
use ts_rs::TS;
use unicode_normalization::UnicodeNormalization;

use crate::calendar::{ClinicCalendar, UtcRange};
use crate::model::{Appointment, AppointmentStatus, MirrorSnapshot, Patient, SourceKind};
use crate::phone::Phone;

pub const SOURCE_KEY: &str = "csv";
/// Far more than a clinic's export; a bigger file is a wrong file.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
const MAX_ROWS: usize = 20_000;
/// Appointments without an end time last this long.
const DEFAULT_MINUTES: i64 = 15;

/// What is wrong, for a screen to say in its own language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemKind {
    /// Neither UTF-8 nor Shift_JIS.
    Encoding,
    TooLarge,
    TooManyRows,
    NoHeader,
    /// A required column (`date`, `time` or `name`) is missing from the header.
    MissingColumn {
        column: RequiredColumn,
    },
    NoAppointments,
    BadCsvLine,
    BadDate,
    BadTime,
    BadEnd,
    EmptyName,
    BadStatus,
    /// The same appointment as on `first_line`.
    Duplicate {
        #[ts(type = "number")]
        first_line: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RequiredColumn {
    Date,
    Time,
    Name,
}

impl ProblemKind {
    /// English, for the CLI and logs. Names columns and formats, never patient data.
    pub fn message(self) -> String {
        match self {
            ProblemKind::Encoding => "the text is neither UTF-8 nor Shift_JIS; save it from the spreadsheet as CSV (UTF-8)".into(),
            ProblemKind::TooLarge => format!("the file is larger than {} MB", MAX_BYTES / 1024 / 1024),
            ProblemKind::TooManyRows => format!("more than {MAX_ROWS} rows"),
            ProblemKind::NoHeader => "the first line is not a CSV header".into(),
            ProblemKind::MissingColumn { column } => format!(
                "the header has no {} column (see docs/csv-import.md)",
                match column {
                    RequiredColumn::Date => "date (日付)",
                    RequiredColumn::Time => "time (時刻)",
                    RequiredColumn::Name => "name (氏名)",
                }
            ),
            ProblemKind::NoAppointments => "the file has no appointments".into(),
            ProblemKind::BadCsvLine => "this line is not valid CSV (an unclosed quote?)".into(),
            ProblemKind::BadDate => "the date is not a date like 2026-11-25 or 2026/11/25".into(),
            ProblemKind::BadTime => "the time is not a time like 09:30".into(),
            ProblemKind::BadEnd => "the end time is not a time like 09:45".into(),
            ProblemKind::EmptyName => "the name is empty".into(),
            ProblemKind::BadStatus => "the status is not one of 予約, キャンセル, 来院, 受付 (or a FHIR code)".into(),
            ProblemKind::Duplicate { first_line } => format!("the same appointment as on line {first_line}"),
        }
    }
}

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ImportProblem {
    /// 1-based line in the file; 0 for the file as a whole.
    #[ts(type = "number")]
    pub line: u64,
    pub problem: ProblemKind,
    /// The same in English (the CLI prints it).
    pub message: String,
}

impl ImportProblem {
    fn new(line: u64, problem: ProblemKind) -> Self {
        ImportProblem {
            line,
            problem,
            message: problem.message(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file cannot be used: {}", .0.message())]
    Unusable(ProblemKind),
    #[error("{} problem(s) in the file; nothing was imported", .0.len())]
    Rows(Vec<ImportProblem>),
}

impl ImportError {
    pub fn problems(&self) -> Vec<ImportProblem> {
        match self {
            ImportError::Unusable(kind) => vec![ImportProblem::new(0, *kind)],
            ImportError::Rows(p) => p.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvImport {
    pub snapshot: MirrorSnapshot,
    /// The clinic days the file covers: the mirror is replaced for exactly these.
    pub window: UtcRange,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Id,
    Date,
    Time,
    End,
    Name,
    Kana,
    Phone,
    Reason,
    Status,
}

fn column_of(header: &str) -> Option<Column> {
    let h: String = header.nfkc().collect::<String>().trim().to_lowercase();
    Some(match h.as_str() {
        "id" | "予約id" | "予約番号" => Column::Id,
        "date" | "日付" | "予約日" | "受診日" => Column::Date,
        "time" | "start" | "時刻" | "時間" | "予約時刻" | "開始時刻" => Column::Time,
        "end" | "終了時刻" => Column::End,
        "name" | "氏名" | "患者名" | "名前" | "お名前" => Column::Name,
        "kana" | "フリガナ" | "ふりがな" | "カナ" | "よみ" | "読み" => Column::Kana,
        "phone" | "phones" | "tel" | "電話" | "電話番号" | "連絡先" => Column::Phone,
        "reason" | "来院理由" | "受診理由" | "内容" | "予約内容" => Column::Reason,
        "status" | "状態" | "予約状態" => Column::Status,
        _ => return None,
    })
}

/// UTF-8 (with or without BOM) or Shift_JIS (Excel's default on Japanese Windows).
fn decode(bytes: &[u8]) -> Result<String, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
        .ok_or(ImportError::Unusable(ProblemKind::Encoding))
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s: String = raw.nfkc().collect::<String>().trim().to_owned();
    let s = s.replace(['/', '.', '年', '月'], "-").replace('日', "");
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()
}

fn parse_time(raw: &str) -> Option<NaiveTime> {
    let s: String = raw.nfkc().collect::<String>().trim().to_owned();
    let s = s.replace('時', ":").replace('分', "");
    NaiveTime::parse_from_str(&s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(&s, "%H:%M:%S"))
        .ok()
}

fn parse_status(raw: &str) -> Option<AppointmentStatus> {
    let s: String = raw.nfkc().collect::<String>().trim().to_lowercase();
    Some(match s.as_str() {
        "" | "予約" | "予約済" | "予約済み" => AppointmentStatus::Booked,
        "キャンセル" | "取消" | "取り消し" => AppointmentStatus::Cancelled,
        "来院" | "来院済" | "来院済み" => AppointmentStatus::Arrived,
        "受付" | "受付済" | "受付済み" => AppointmentStatus::CheckedIn,
        "未確定" | "仮予約" => AppointmentStatus::Pending,
        other => AppointmentStatus::from_code(other)?,
    })
}

/// Phones in one cell: separated by / ; 、 or a line break (commas would need quoting).
fn split_phones(cell: &str) -> Vec<Phone> {
    cell.split(['/', '／', ';', '；', '、', '\n', '・'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(Phone::parse)
        .collect()
}

/// A stable id from a row's identity, so importing the same export twice changes nothing.
fn stable_id(prefix: &str, parts: &[&str]) -> String {
    // FNV-1a, 64 bit: not cryptographic, just stable across runs and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{prefix}{hash:016x}")
}

pub fn parse_csv(bytes: &[u8], calendar: &ClinicCalendar) -> Result<CsvImport, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Unusable(ProblemKind::TooLarge));
    }
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| ImportError::Unusable(ProblemKind::NoHeader))?
        .clone();
    let columns = columns_of(&headers)?;

    let mut problems = Vec::new();
    let mut appointments: Vec<Appointment> = Vec::new();
    let mut patients: Vec<Patient> = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        if n >= MAX_ROWS {
            return Err(ImportError::Unusable(ProblemKind::TooManyRows));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(ImportProblem::new(line, ProblemKind::BadCsvLine));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cell = |c: Column| {
            columns
                .get(&c)
                .and_then(|i| record.get(*i))
                .map(str::trim)
                .unwrap_or("")
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut problem = |kind: ProblemKind| problems.push(ImportProblem::new(line, kind));
        let Some(RowTimes {
            date,
            time,
            end,
            status,
        }) = row_times(&cell, &mut problem)
        else {
            continue;
        };
        // An empty name is one of the row's problems already.
        let name = cell(Column::Name);
        if name.is_empty() {
            continue;
        }

        let kana = Some(cell(Column::Kana)).filter(|k| !k.is_empty());
        let phones = split_phones(cell(Column::Phone));
        let phone_key: Vec<&str> = phones.iter().map(|p| p.display.as_str()).collect();
        let patient_id = stable_id("csv-p-", &[name, kana.unwrap_or(""), &phone_key.join("/")]);
        if !patients.iter().any(|p| p.source_id == patient_id) {
            patients.push(Patient {
                source_id: patient_id.clone(),
                source_version: None,
                name: name.to_owned(),
                kana: kana.map(str::to_owned),
                phones,
            });
        }
        let id = match cell(Column::Id) {
            "" => stable_id("csv-", &[&date.to_string(), &time.to_string(), &patient_id]),
            given => format!("csv-{given}"),
        };
        if let Some(first) = first_line_of.get(&id) {
            problems.push(ImportProblem::new(
                line,
                ProblemKind::Duplicate { first_line: *first },
            ));
            continue;
        }
        first_line_of.insert(id.clone(), line);
        let start = calendar.at(date, time);
        let end = match end {
            Some(t) => calendar.at(date, t),
            None => start + Duration::minutes(DEFAULT_MINUTES),
        };
        appointments.push(Appointment {
            source_id: id,
            source_version: None,
            start: Some(start),
            end: Some(end),
            status,
            reason: Some(cell(Column::Reason).to_owned()).filter(|r| !r.is_empty()),
            patient_id: Some(patient_id),
        });
    }
    if !problems.is_empty() {
        return Err(ImportError::Rows(problems));
    }
    import_of(patients, appointments, calendar)
}

/// Where each known column is (the first of its names wins); the date, time and name
/// columns must be there.
fn columns_of(headers: &csv::StringRecord) -> Result<HashMap<Column, usize>, ImportError> {
    let mut columns: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(c) = column_of(h) {
            columns.entry(c).or_insert(i);
        }
    }
    for (column, required) in [
        (Column::Date, RequiredColumn::Date),
        (Column::Time, RequiredColumn::Time),
        (Column::Name, RequiredColumn::Name),
    ] {
        if !columns.contains_key(&column) {
            return Err(ImportError::Unusable(ProblemKind::MissingColumn {
                column: required,
            }));
        }
    }
    Ok(columns)
}

/// When a row's appointment is and its status.
struct RowTimes {
    date: NaiveDate,
    time: NaiveTime,
    end: Option<NaiveTime>,
    status: AppointmentStatus,
}

/// A row's date, times and status; each cell that cannot be read is a problem of its own
/// (all of them named at once, not the first only).
fn row_times<'r>(
    cell: &impl Fn(Column) -> &'r str,
    problem: &mut impl FnMut(ProblemKind),
) -> Option<RowTimes> {
    let date = parse_date(cell(Column::Date));
    if date.is_none() {
        problem(ProblemKind::BadDate);
    }
    let time = parse_time(cell(Column::Time));
    if time.is_none() {
        problem(ProblemKind::BadTime);
    }
    let end = match cell(Column::End) {
        "" => Some(None),
        raw => {
            let t = parse_time(raw);
            if t.is_none() {
                problem(ProblemKind::BadEnd);
            }
            t.map(Some)
        }
    };
    if cell(Column::Name).is_empty() {
        problem(ProblemKind::EmptyName);
    }
    let status = parse_status(cell(Column::Status));
    if status.is_none() {
        problem(ProblemKind::BadStatus);
    }
    Some(RowTimes {
        date: date?,
        time: time?,
        end: end.unwrap_or(None),
        status: status?,
    })
}

/// The mirror a CSV fills: the days from its first appointment to its last.
fn import_of(
    patients: Vec<Patient>,
    appointments: Vec<Appointment>,
    calendar: &ClinicCalendar,
) -> Result<CsvImport, ImportError> {
    let dates = || {
        appointments
            .iter()
            .filter_map(|a| a.start)
            .map(|t| calendar.today(t))
    };
    let (Some(first_date), Some(last_date)) = (dates().min(), dates().max()) else {
        return Err(ImportError::Unusable(ProblemKind::NoAppointments));
    };
    let days = (last_date - first_date).num_days() as u32 + 1;
    Ok(CsvImport {
        snapshot: MirrorSnapshot {
            source_key: SOURCE_KEY.to_owned(),
            source_kind: SourceKind::Csv,
            patients,
            appointments,
        },
        window: calendar.days(first_date, days),
        first_date,
        last_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> ClinicCalendar {
        ClinicCalendar::parse("Asia/Tokyo").unwrap()
    }

    #[test]
    fn a_japanese_export_with_full_width_digits_imports() {
        let csv = "日付,時刻,氏名,フリガナ,電話番号,来院理由\n\
                   ２０２６/１１/２５,９：３０,山田 太郎,ヤマダ タロウ,０９０−１２３４−５６７８／03-3456-7890,定期受診\n\
                   2026-11-25,10:00,𠮷田 稔,,,\n";
        let import = parse_csv(csv.as_bytes(), &tokyo()).unwrap();
        let a = &import.snapshot.appointments;
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0].start.unwrap().to_rfc3339(),
            "2026-11-25T00:30:00+00:00"
        );
        assert_eq!(a[0].status, AppointmentStatus::Booked);
        let p = &import.snapshot.patients[0];
        assert_eq!(p.phones.len(), 2);
        assert_eq!(p.phones[0].e164.as_deref(), Some("+819012345678"));
        assert_eq!(import.snapshot.patients[1].name, "𠮷田 稔");
        assert!(import.snapshot.patients[1].phones.is_empty());
        assert_eq!(import.first_date, import.last_date);
    }

    #[test]
    fn shift_jis_and_a_utf8_bom_are_both_read() {
        let text = "date,time,name,kana,phone,reason\n2026-11-25,09:00,佐藤 健一,ｻﾄｳ ｹﾝｲﾁ,03-3721-4408,発熱\n";
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let from_sjis = parse_csv(&sjis, &tokyo()).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        let from_bom = parse_csv(&bom, &tokyo()).unwrap();
        assert_eq!(from_sjis, from_bom);
        assert_eq!(
            from_bom.snapshot.patients[0].kana.as_deref(),
            Some("ｻﾄｳ ｹﾝｲﾁ")
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_nothing_is_imported() {
        let csv = "date,time,name,phone\n\
                   2026-11-25,09:00,A,090-1234-5678\n\
                   2026-13-01,09:10,B,\n\
                   2026-11-25,25:00,,\n\
                   2026-11-25,09:00,A,090-1234-5678\n";
        let ImportError::Rows(problems) = parse_csv(csv.as_bytes(), &tokyo()).unwrap_err() else {
            panic!("row errors expected")
        };
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 4, 5]);
        assert!(problems[3].message.contains("line 2"));
    }

    #[test]
    fn unusable_files_say_why() {
        for (bytes, why) in [
            (
                &b"\xff\xfe\x00garbage\xff"[..],
                "neither UTF-8 nor Shift_JIS",
            ),
            (b"foo,bar\n1,2\n", "no date"),
            (b"date,time,name\n", "no appointments"),
        ] {
            let e = parse_csv(bytes, &tokyo()).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn the_same_export_twice_gives_the_same_ids() {
        let csv = "date,time,name\n2026-11-25,09:00,山田\n";
        let a = parse_csv(csv.as_bytes(), &tokyo()).unwrap();
        let b = parse_csv(csv.as_bytes(), &tokyo()).unwrap();
        assert_eq!(a.snapshot, b.snapshot);
    }
}
