//! The morning CSV export, for clinics whose system has no FHIR API. The format is
//! documented in docs/csv-import.md. A file is imported whole or not at all: one bad row
//! means nothing changes and every problem is reported with its line number, because a
//! call list that silently misses a patient is worse than one that asks for a fix.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
    /// A column the saved mapping names is not in this file's header.
    MappedColumnMissing {
        header: String,
    },
    /// A mapping gives one meaning (other than a phone) to two columns.
    FieldTwice {
        field: Field,
    },
    NoAppointments,
    BadCsvLine,
    BadDate,
    BadTime,
    /// The date-and-time column cannot be read.
    BadDateTime,
    BadEnd,
    EmptyName,
    BadStatus,
    /// The same appointment as on `first_line`.
    Duplicate {
        #[ts(type = "number")]
        first_line: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RequiredColumn {
    Date,
    Time,
    Name,
}

impl ProblemKind {
    /// English, for the CLI and logs. Names columns and formats, never patient data.
    pub fn message(&self) -> String {
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
            ProblemKind::MappedColumnMissing { header } => format!(
                "the header has no {header:?} column, which the column mapping uses"
            ),
            ProblemKind::FieldTwice { field } => format!(
                "the column mapping gives two columns the meaning {:?}",
                field
            ),
            ProblemKind::NoAppointments => "the file has no appointments".into(),
            ProblemKind::BadCsvLine => "this line is not valid CSV (an unclosed quote?)".into(),
            ProblemKind::BadDate => "the date is not a date like 2026-11-25 or 2026/11/25".into(),
            ProblemKind::BadTime => "the time is not a time like 09:30".into(),
            ProblemKind::BadDateTime => {
                "the date and time are not like 2026/11/25 09:30".into()
            }
            ProblemKind::BadEnd => "the end time is not a time like 09:45".into(),
            ProblemKind::EmptyName => "the name is empty".into(),
            ProblemKind::BadStatus => "the status is not one of 予約, キャンセル, 来院, 受付 (or a FHIR code)".into(),
            ProblemKind::Duplicate { first_line } => {
                format!("the same appointment as on line {first_line}")
            }
        }
    }
}

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
            message: problem.message(),
            problem,
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
            ImportError::Unusable(kind) => vec![ImportProblem::new(0, kind.clone())],
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

/// What a column means. A file whose header Tsunagi knows needs no mapping; any other
/// vendor's export is read through a [`ColumnMapping`] staff made once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// 予約番号: keeps an appointment's id (and its calls and receipts) across imports.
    Id,
    Date,
    Time,
    /// Date and time in one cell (`2026/11/25 9:30`).
    DateTime,
    End,
    Name,
    Kana,
    /// A phone number; several columns may hold one each.
    Phone,
    Reason,
    Status,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::Id,
        Field::Date,
        Field::Time,
        Field::DateTime,
        Field::End,
        Field::Name,
        Field::Kana,
        Field::Phone,
        Field::Reason,
        Field::Status,
    ];

    /// The field as the CLI and the config write it (`date_time`).
    pub fn code(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Date => "date",
            Field::Time => "time",
            Field::DateTime => "date_time",
            Field::End => "end",
            Field::Name => "name",
            Field::Kana => "kana",
            Field::Phone => "phone",
            Field::Reason => "reason",
            Field::Status => "status",
        }
    }
}

/// A mapping from `FIELD=HEADER` pairs (the CLI's `--column`), each header looked up in
/// the file's header line. The error says which pair is wrong, in English.
pub fn mapping_from_names(header: &[String], pairs: &[String]) -> Result<ColumnMapping, String> {
    let mut columns = Vec::new();
    for pair in pairs {
        let (field, name) = pair
            .split_once('=')
            .ok_or_else(|| format!("--column {pair:?} is not FIELD=HEADER"))?;
        let field = Field::ALL
            .into_iter()
            .find(|f| f.code() == field.trim())
            .ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.code()).collect();
                format!(
                    "{:?} is not a field; one of {}",
                    field.trim(),
                    known.join(", ")
                )
            })?;
        let wanted = normal(name);
        let index = header
            .iter()
            .position(|h| normal(h) == wanted)
            .ok_or_else(|| format!("the file's header has no column {:?}", name.trim()))?;
        columns.push(MappedColumn {
            index: index as u32,
            header: header[index].clone(),
            field,
        });
    }
    let mapping = ColumnMapping { columns };
    Columns::mapped(&mapping, header).map_err(|p| p.message())?;
    Ok(mapping)
}

/// The meaning of a header Tsunagi knows by name.
fn field_of(header: &str) -> Option<Field> {
    Some(match normal(header).as_str() {
        "id" | "予約id" | "予約番号" => Field::Id,
        "date" | "日付" | "予約日" | "受診日" => Field::Date,
        "time" | "start" | "時刻" | "時間" | "予約時刻" | "開始時刻" => Field::Time,
        "datetime" | "date_time" | "日時" | "予約日時" | "受診日時" => Field::DateTime,
        "end" | "終了時刻" => Field::End,
        "name" | "氏名" | "患者名" | "名前" | "お名前" => Field::Name,
        "kana" | "フリガナ" | "ふりがな" | "カナ" | "よみ" | "読み" => Field::Kana,
        "phone" | "phones" | "tel" | "電話" | "電話番号" | "連絡先" => Field::Phone,
        "reason" | "来院理由" | "受診理由" | "内容" | "予約内容" => Field::Reason,
        "status" | "状態" | "予約状態" => Field::Status,
        _ => return None,
    })
}

/// One column of a saved mapping: where it was (`index`) and what it was called, so a
/// file whose columns moved still finds it by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MappedColumn {
    pub index: u32,
    pub header: String,
    pub field: Field,
}

/// Which column of a vendor's export means what. Columns not named are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ColumnMapping {
    pub columns: Vec<MappedColumn>,
}

/// A header cell as compared: NFKC, trimmed, lower case.
fn normal(header: &str) -> String {
    header.nfkc().collect::<String>().trim().to_lowercase()
}

/// The header line as a mapping is remembered by: its cells, compared as [`normal`].
pub fn header_key(header: &[String]) -> String {
    header
        .iter()
        .map(|h| normal(h))
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// Where each meaning is in one file: one column each, several for phones.
#[derive(Debug, Default)]
struct Columns(HashMap<Field, Vec<usize>>);

impl Columns {
    fn add(&mut self, field: Field, index: usize) -> Result<(), ProblemKind> {
        let at = self.0.entry(field).or_default();
        if !at.is_empty() && field != Field::Phone {
            return Err(ProblemKind::FieldTwice { field });
        }
        at.push(index);
        Ok(())
    }

    fn has(&self, field: Field) -> bool {
        self.0.contains_key(&field)
    }

    fn first(&self, field: Field) -> Option<usize> {
        self.0.get(&field).and_then(|v| v.first().copied())
    }

    fn all(&self, field: Field) -> &[usize] {
        self.0.get(&field).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The date (with the time, or both in one column) and the name must be there.
    fn complete(self) -> Result<Columns, ProblemKind> {
        let when = self.has(Field::DateTime) || (self.has(Field::Date) && self.has(Field::Time));
        let missing = if !when && !self.has(Field::Date) {
            Some(RequiredColumn::Date)
        } else if !when {
            Some(RequiredColumn::Time)
        } else if !self.has(Field::Name) {
            Some(RequiredColumn::Name)
        } else {
            None
        };
        match missing {
            Some(column) => Err(ProblemKind::MissingColumn { column }),
            None => Ok(self),
        }
    }

    /// The columns Tsunagi knows by name (the first of each meaning wins).
    fn known(headers: &[String]) -> Columns {
        let mut columns = Columns::default();
        for (i, h) in headers.iter().enumerate() {
            if let Some(field) = field_of(h) {
                if field == Field::Phone || !columns.has(field) {
                    let _ = columns.add(field, i);
                }
            }
        }
        columns
    }

    /// A saved mapping applied to this file's header: each column where it was if its name
    /// is still there, else wherever a column of that name is now.
    fn mapped(mapping: &ColumnMapping, headers: &[String]) -> Result<Columns, ProblemKind> {
        let mut columns = Columns::default();
        for c in &mapping.columns {
            let wanted = normal(&c.header);
            let at = c.index as usize;
            let index = if headers.get(at).is_some_and(|h| normal(h) == wanted) {
                at
            } else {
                let mut same = headers
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| normal(h) == wanted);
                match (same.next(), same.next()) {
                    (Some((i, _)), None) => i,
                    _ => {
                        return Err(ProblemKind::MappedColumnMissing {
                            header: c.header.clone(),
                        })
                    }
                }
            };
            columns.add(c.field, index)?;
        }
        columns.complete()
    }
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
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(&s, "%Y%m%d").ok();
    }
    let s = s.replace(['/', '.', '年', '月'], "-").replace('日', "");
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()
}

fn parse_time(raw: &str) -> Option<NaiveTime> {
    let s: String = raw.nfkc().collect::<String>().trim().to_owned();
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveTime::parse_from_str(&s, "%H%M").ok();
    }
    let s = s.replace('時', ":").replace('分', "");
    NaiveTime::parse_from_str(&s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(&s, "%H:%M:%S"))
        .ok()
}

/// Date and time in one cell: `2026/11/25 9:30`, `2026-11-25T09:30`, `2026年11月25日 9時30分`.
fn parse_date_time(raw: &str) -> Option<(NaiveDate, NaiveTime)> {
    let s: String = raw.nfkc().collect::<String>().trim().to_owned();
    let s = s.replacen('T', " ", 1).replacen('日', "日 ", 1);
    let mut parts = s.split_whitespace();
    let (date, time) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((parse_date(date)?, parse_time(time)?))
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

/// The header and the first rows of a file, for the screen where staff say which column
/// is which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CsvPreview {
    pub header: Vec<String>,
    /// The first data rows (at most [`PREVIEW_ROWS`]), as the file has them.
    pub rows: Vec<Vec<String>>,
    /// What Tsunagi takes each column for, by its name alone.
    pub guess: Vec<Option<Field>>,
}

pub const PREVIEW_ROWS: usize = 5;

fn reader_of(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn read_header(reader: &mut csv::Reader<&[u8]>) -> Result<Vec<String>, ImportError> {
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| ImportError::Unusable(ProblemKind::NoHeader))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(ImportError::Unusable(ProblemKind::NoHeader));
    }
    Ok(header)
}

/// A file's header line (decoded), to find the mapping saved for it.
pub fn header_of(bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Unusable(ProblemKind::TooLarge));
    }
    read_header(&mut reader_of(&decode(bytes)?))
}

/// The file's header and first rows, and what each column looks like by its name.
pub fn preview(bytes: &[u8]) -> Result<CsvPreview, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Unusable(ProblemKind::TooLarge));
    }
    let text = decode(bytes)?;
    let mut reader = reader_of(&text);
    let header = read_header(&mut reader)?;
    let rows = reader
        .records()
        .filter_map(|r| r.ok())
        .filter(|r| r.iter().any(|f| !f.trim().is_empty()))
        .take(PREVIEW_ROWS)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    let known = Columns::known(&header);
    let guess = (0..header.len())
        .map(|i| {
            known
                .0
                .iter()
                .find(|(_, at)| at.contains(&i))
                .map(|(field, _)| *field)
        })
        .collect();
    Ok(CsvPreview {
        header,
        rows,
        guess,
    })
}

/// Read a whole file: through `mapping`, or by the column names Tsunagi knows.
pub fn parse_csv(
    bytes: &[u8],
    calendar: &ClinicCalendar,
    mapping: Option<&ColumnMapping>,
) -> Result<CsvImport, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Unusable(ProblemKind::TooLarge));
    }
    let text = decode(bytes)?;
    let mut reader = reader_of(&text);
    let header = read_header(&mut reader)?;
    let columns = match mapping {
        Some(mapping) => Columns::mapped(mapping, &header),
        None => Columns::known(&header).complete(),
    }
    .map_err(ImportError::Unusable)?;

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
        let at = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        let cell = |f: Field| columns.first(f).map(at).unwrap_or("");
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut problem = |kind: ProblemKind| problems.push(ImportProblem::new(line, kind));
        let Some(RowTimes {
            date,
            time,
            end,
            status,
        }) = row_times(&cell, columns.has(Field::DateTime), &mut problem)
        else {
            continue;
        };
        // An empty name is one of the row's problems already.
        let name = cell(Field::Name);
        if name.is_empty() {
            continue;
        }

        let kana = Some(cell(Field::Kana)).filter(|k| !k.is_empty());
        let phones: Vec<Phone> = columns
            .all(Field::Phone)
            .iter()
            .flat_map(|i| split_phones(at(*i)))
            .collect();
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
        let id = match cell(Field::Id) {
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
            reason: Some(cell(Field::Reason).to_owned()).filter(|r| !r.is_empty()),
            patient_id: Some(patient_id),
        });
    }
    if !problems.is_empty() {
        return Err(ImportError::Rows(problems));
    }
    import_of(patients, appointments, calendar)
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
    cell: &impl Fn(Field) -> &'r str,
    date_and_time_together: bool,
    problem: &mut impl FnMut(ProblemKind),
) -> Option<RowTimes> {
    let (date, time) = if date_and_time_together {
        let both = parse_date_time(cell(Field::DateTime));
        if both.is_none() {
            problem(ProblemKind::BadDateTime);
        }
        (both.map(|b| b.0), both.map(|b| b.1))
    } else {
        let date = parse_date(cell(Field::Date));
        if date.is_none() {
            problem(ProblemKind::BadDate);
        }
        let time = parse_time(cell(Field::Time));
        if time.is_none() {
            problem(ProblemKind::BadTime);
        }
        (date, time)
    };
    let end = match cell(Field::End) {
        "" => Some(None),
        raw => {
            let t = parse_time(raw);
            if t.is_none() {
                problem(ProblemKind::BadEnd);
            }
            t.map(Some)
        }
    };
    if cell(Field::Name).is_empty() {
        problem(ProblemKind::EmptyName);
    }
    let status = parse_status(cell(Field::Status));
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
        let import = parse_csv(csv.as_bytes(), &tokyo(), None).unwrap();
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
        let from_sjis = parse_csv(&sjis, &tokyo(), None).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        let from_bom = parse_csv(&bom, &tokyo(), None).unwrap();
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
        let ImportError::Rows(problems) = parse_csv(csv.as_bytes(), &tokyo(), None).unwrap_err()
        else {
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
            let e = parse_csv(bytes, &tokyo(), None).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn the_same_export_twice_gives_the_same_ids() {
        let csv = "date,time,name\n2026-11-25,09:00,山田\n";
        let a = parse_csv(csv.as_bytes(), &tokyo(), None).unwrap();
        let b = parse_csv(csv.as_bytes(), &tokyo(), None).unwrap();
        assert_eq!(a.snapshot, b.snapshot);
    }

    /// A vendor's export Tsunagi has never seen: no column name it knows.
    const VENDOR: &str = "受付No,診察日時,患者氏名,カナ氏名,自宅TEL,携帯TEL,診療科,内容\n\
                          A-0012,2026/11/25 9:30,山田 太郎,ヤマダ タロウ,03-3456-7890,090-1234-5678,内科,\n\
                          A-0013,２０２６年１１月２５日 １０時００分,鈴木 花子,スズキ ハナコ,,080-2222-3333,小児科,初診\n";

    fn vendor_mapping() -> ColumnMapping {
        let col = |index: u32, header: &str, field| MappedColumn {
            index,
            header: header.into(),
            field,
        };
        ColumnMapping {
            columns: vec![
                col(0, "受付No", Field::Id),
                col(1, "診察日時", Field::DateTime),
                col(2, "患者氏名", Field::Name),
                col(3, "カナ氏名", Field::Kana),
                col(4, "自宅TEL", Field::Phone),
                col(5, "携帯TEL", Field::Phone),
                col(6, "診療科", Field::Reason),
            ],
        }
    }

    #[test]
    fn issue_19_a_header_never_seen_is_refused_until_mapped_and_previewed_for_the_mapping() {
        let e = parse_csv(VENDOR.as_bytes(), &tokyo(), None).unwrap_err();
        assert_eq!(
            e,
            ImportError::Unusable(ProblemKind::MissingColumn {
                column: RequiredColumn::Date
            })
        );
        let preview = preview(VENDOR.as_bytes()).unwrap();
        assert_eq!(preview.header[1], "診察日時");
        assert_eq!(preview.rows.len(), 2);
        assert_eq!(preview.rows[1][2], "鈴木 花子");
        assert_eq!(preview.guess[1], None, "a name Tsunagi does not know");
        assert_eq!(preview.guess[7], Some(Field::Reason), "known by its name");
    }

    #[test]
    fn issue_19_a_mapped_vendor_export_imports_in_utf8_and_shift_jis() {
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(VENDOR);
        assert!(!unmappable);
        for bytes in [VENDOR.as_bytes(), &sjis[..]] {
            let import = parse_csv(bytes, &tokyo(), Some(&vendor_mapping())).unwrap();
            let a = &import.snapshot.appointments;
            assert_eq!(a[0].source_id, "csv-A-0012");
            assert_eq!(
                a[0].start.unwrap().to_rfc3339(),
                "2026-11-25T00:30:00+00:00"
            );
            assert_eq!(
                a[1].start.unwrap().to_rfc3339(),
                "2026-11-25T01:00:00+00:00"
            );
            assert_eq!(a[1].reason.as_deref(), Some("小児科"));
            let p = &import.snapshot.patients;
            assert_eq!(p[0].kana.as_deref(), Some("ヤマダ タロウ"));
            let phones: Vec<_> = p[0]
                .phones
                .iter()
                .map(|p| p.e164.clone().unwrap())
                .collect();
            assert_eq!(
                phones,
                ["+81334567890", "+819012345678"],
                "both phone columns"
            );
            assert_eq!(p[1].phones.len(), 1, "an empty phone cell adds none");
        }
    }

    #[test]
    fn issue_19_a_mapping_finds_a_moved_column_by_name_and_names_a_missing_one() {
        let moved = "患者氏名,診察日時,受付No\n山田 太郎,20261125 0930,A-1\n";
        let mut mapping = vendor_mapping();
        mapping
            .columns
            .retain(|c| [Field::Id, Field::DateTime, Field::Name].contains(&c.field));
        let import = parse_csv(moved.as_bytes(), &tokyo(), Some(&mapping)).unwrap();
        assert_eq!(import.snapshot.patients[0].name, "山田 太郎");
        assert_eq!(
            import.snapshot.appointments[0].start.unwrap().to_rfc3339(),
            "2026-11-25T00:30:00+00:00"
        );

        let renamed = "患者名,診察日時,受付No\n山田 太郎,2026/11/25 9:30,A-1\n";
        let e = parse_csv(renamed.as_bytes(), &tokyo(), Some(&mapping)).unwrap_err();
        assert!(e.to_string().contains("\"患者氏名\""), "{e}");

        mapping.columns.push(MappedColumn {
            index: 0,
            header: "患者氏名".into(),
            field: Field::DateTime,
        });
        let e = parse_csv(moved.as_bytes(), &tokyo(), Some(&mapping)).unwrap_err();
        assert_eq!(
            e,
            ImportError::Unusable(ProblemKind::FieldTwice {
                field: Field::DateTime
            })
        );
    }

    #[test]
    fn issue_19_a_date_and_time_cell_that_cannot_be_read_is_named_with_its_line() {
        let csv = "受付No,診察日時,患者氏名\nA-1,2026/11/25,山田\nA-2,明日の朝,鈴木\n";
        let mut mapping = vendor_mapping();
        mapping.columns.truncate(3);
        let ImportError::Rows(problems) =
            parse_csv(csv.as_bytes(), &tokyo(), Some(&mapping)).unwrap_err()
        else {
            panic!("row errors expected")
        };
        let got: Vec<_> = problems
            .iter()
            .map(|p| (p.line, p.problem.clone()))
            .collect();
        assert_eq!(
            got,
            [(2, ProblemKind::BadDateTime), (3, ProblemKind::BadDateTime)]
        );
    }

    #[test]
    fn issue_19_the_header_key_ignores_width_case_and_spaces() {
        let a = header_key(&["受付No".into(), " 診察日時".into()]);
        let b = header_key(&["受付ＮＯ".into(), "診察日時 ".into()]);
        assert_eq!(a, b);
        assert_ne!(a, header_key(&["診察日時".into(), "受付No".into()]));
    }
}
