//! Vendors' CSV column mappings, remembered by header line and by name, and the files the
//! watched export folder has read (issue 19).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::mirror::{parse_ts, replace_in, ts, MirrorCounts, Refresh};
use super::Store;
use crate::audit::AuditEntry;
use crate::csv_import::{header_key, ColumnMapping, ImportProblem};
use crate::error::{CoreError, Result};
use crate::model::MirrorSnapshot;

/// A mapping as saved: its name, the header it was made for, and its columns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct SavedMapping {
    pub name: String,
    pub header: Vec<String>,
    pub mapping: ColumnMapping,
    #[ts(type = "string")]
    pub saved_at: DateTime<Utc>,
}

/// A mapping to remember with the import it made (only when that import succeeds).
pub struct MappingToSave<'a> {
    pub name: &'a str,
    pub header: &'a [String],
    pub mapping: &'a ColumnMapping,
}

fn saved(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedMapping> {
    let json = |i: usize, s: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, s.into())
    };
    let header: String = r.get(1)?;
    let columns: String = r.get(2)?;
    Ok(SavedMapping {
        name: r.get(0)?,
        header: serde_json::from_str(&header).map_err(|e| json(1, e.to_string()))?,
        mapping: serde_json::from_str(&columns).map_err(|e| json(2, e.to_string()))?,
        saved_at: parse_ts(&r.get::<_, String>(3)?)?,
    })
}

const COLUMNS: &str = "SELECT name, header, columns, saved_at FROM csv_mapping";

/// What the watched folder did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderFileRecord {
    pub file_name: String,
    pub sha256: String,
    pub modified_at: DateTime<Utc>,
    pub read_at: DateTime<Utc>,
    /// `None`: refused, with `problems`.
    pub appointments: Option<u32>,
    pub problems: Vec<ImportProblem>,
}

impl Store {
    /// The mapping saved for a file with this header line, if any.
    pub fn csv_mapping_for(&self, header: &[String]) -> Result<Option<SavedMapping>> {
        let key = header_key(header);
        self.with(|conn| {
            Ok(conn
                .query_row(&format!("{COLUMNS} WHERE header_key = ?1"), [key], saved)
                .optional()?)
        })
    }

    pub fn csv_mapping_named(&self, name: &str) -> Result<Option<SavedMapping>> {
        self.with(|conn| {
            Ok(conn
                .query_row(&format!("{COLUMNS} WHERE name = ?1"), [name], saved)
                .optional()?)
        })
    }

    pub fn csv_mappings(&self) -> Result<Vec<SavedMapping>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!("{COLUMNS} ORDER BY name"))?;
            let rows = stmt.query_map([], saved)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// A CSV import: the mirror's days in the file, and (when staff just made one) the
    /// mapping it was read through, in one transaction. A mapping saved under a name or
    /// for a header line already known replaces the old one.
    pub fn import_csv(
        &self,
        snapshot: &MirrorSnapshot,
        refresh: Refresh<'_>,
        audit: &AuditEntry,
        save: Option<MappingToSave<'_>>,
        at: DateTime<Utc>,
    ) -> Result<MirrorCounts> {
        let save = save
            .map(|s| -> Result<_> {
                let name = s.name.trim();
                if name.is_empty() {
                    return Err(CoreError::InvalidInput(
                        "a column mapping needs a name".into(),
                    ));
                }
                Ok((
                    name.to_owned(),
                    header_key(s.header),
                    serde_json::to_string(s.header).expect("strings serialise"),
                    serde_json::to_string(s.mapping).expect("plain data serialises"),
                ))
            })
            .transpose()?;
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let counts = replace_in(&tx, snapshot, refresh, Some(audit))?;
            if let Some((name, key, header, columns)) = &save {
                tx.execute(
                    "DELETE FROM csv_mapping WHERE name = ?1 OR header_key = ?2",
                    params![name, key],
                )?;
                tx.execute(
                    "INSERT INTO csv_mapping (name, header_key, header, columns, saved_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![name, key, header, columns, ts(at)],
                )?;
            }
            tx.commit()?;
            Ok(counts)
        })
    }

    /// The watched folder's record of a file, if it has read it.
    pub fn folder_file(&self, file_name: &str) -> Result<Option<FolderFileRecord>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT file_name, sha256, modified_at, read_at, appointments, problems
                       FROM folder_import WHERE file_name = ?1",
                    [file_name],
                    folder_record,
                )
                .optional()?)
        })
    }

    /// The file the watched folder read last.
    pub fn last_folder_file(&self) -> Result<Option<FolderFileRecord>> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT file_name, sha256, modified_at, read_at, appointments, problems
                       FROM folder_import ORDER BY read_at DESC, rowid DESC LIMIT 1",
                    [],
                    folder_record,
                )
                .optional()?)
        })
    }

    /// Remember what the watched folder did with a file.
    pub fn record_folder_file(&self, record: &FolderFileRecord) -> Result<()> {
        let problems = serde_json::to_string(&record.problems).expect("plain data serialises");
        self.with(|conn| {
            conn.execute(
                "INSERT INTO folder_import
                   (file_name, sha256, modified_at, read_at, outcome, appointments, problems)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (file_name) DO UPDATE SET sha256 = excluded.sha256,
                   modified_at = excluded.modified_at, read_at = excluded.read_at,
                   outcome = excluded.outcome, appointments = excluded.appointments,
                   problems = excluded.problems",
                params![
                    record.file_name,
                    record.sha256,
                    ts(record.modified_at),
                    ts(record.read_at),
                    if record.appointments.is_some() {
                        "imported"
                    } else {
                        "refused"
                    },
                    record.appointments,
                    problems,
                ],
            )?;
            Ok(())
        })
    }
}

fn folder_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<FolderFileRecord> {
    let problems: String = r.get(5)?;
    Ok(FolderFileRecord {
        file_name: r.get(0)?,
        sha256: r.get(1)?,
        modified_at: parse_ts(&r.get::<_, String>(2)?)?,
        read_at: parse_ts(&r.get::<_, String>(3)?)?,
        appointments: r.get(4)?,
        problems: serde_json::from_str(&problems).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, e.into())
        })?,
    })
}
