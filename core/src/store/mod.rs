//! The encrypted local database: one SQLCipher file per install, WAL mode, opened with a
//! raw 256-bit key. All SQL lives under this module.

mod audit;
mod booking;
mod calls;
mod checklist;
mod csv_mapping;
mod drill;
mod migrations;
mod mirror;
mod monitor;
mod outbox;
mod peers;
mod receipts;
mod records;
mod report;
mod retention;
mod takeover;

pub use booking::{BookingInsert, BookingOp, BookingOps, HandStop};
pub use calls::{ArrivalInsert, CallInsert};
pub use csv_mapping::{FolderFileRecord, MappingToSave, SavedMapping};
pub use migrations::LATEST_VERSION;
pub(crate) use mirror::{parse_ts, ts};
pub use mirror::{
    MirrorCounts, MirrorMeta, MirrorState, PullRecord, Refresh, Scope, StoredAppointment,
};
pub use monitor::{
    CarriedIncident, IncidentRow, MonitorHealth, Recorded, RunRow, RunStart, CARRY_OUTAGE,
};
pub use outbox::{AppointmentBrief, Delivery, OutboxRow, SyncIncident};
pub use receipts::{ReceiptError, ReceiptInsert};
pub use records::{PeerArrival, PeerCall, PeerClaim, CLAIM_HOLDS};
pub use report::{DrillRow, ReportAttempt, ReportScope, ScopeCounts};
pub use retention::{PurgeCutoffs, PurgeReport};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use zeroize::Zeroizing;

use crate::error::{CoreError, Result};

pub const KEY_LEN: usize = 32;

/// A raw SQLCipher key, wiped from memory when dropped.
pub struct DbKey(Zeroizing<[u8; KEY_LEN]>);

impl DbKey {
    pub fn generate() -> Result<DbKey> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|e| {
            CoreError::io(
                "OS random source",
                std::io::Error::other(format!("no randomness: {e}")),
            )
        })?;
        Ok(DbKey(bytes))
    }

    /// `None` when the bytes are not a key of the right length.
    pub fn from_bytes(bytes: &[u8]) -> Option<DbKey> {
        let arr: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(DbKey(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_ref()
    }

    fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(self.0.as_ref())))
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(..)")
    }
}

/// Whether opening may create the file. Only a first start creates; an existing install
/// never gets a fresh empty database in place of one it could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    IfMissing,
    Never,
}

/// The open database. Cloning shares the one connection; calls are serialised, which is
/// plenty for one desk and keeps SQLite's rules simple. Callers in async code reach it
/// through `spawn_blocking`.
#[derive(Clone)]
pub struct Store {
    /// Rung after a write that may have queued a change, so the sender goes at once.
    queued: Arc<tokio::sync::Notify>,
    /// Bumped after a write that grew the shared log, so links to other desks send it.
    recorded: Arc<tokio::sync::watch::Sender<u64>>,
    /// SQLite's `data_version` when last looked at (see [`Store::written_elsewhere`]).
    seen_version: Arc<std::sync::atomic::AtomicI64>,
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    /// The schema version the file had when this process opened it (0: created now).
    opened_at_version: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    pub fn open(path: &Path, key: &DbKey, create: Create) -> Result<Store> {
        let mut conn = open_connection(path, key, create)?;
        let opened_at_version =
            migrations::migrate(&mut conn, LATEST_VERSION).map_err(|e| classify(e, path))?;
        let seen_version = data_version(&conn).map_err(|e| classify(e.into(), path))?;
        Ok(Store {
            queued: Arc::default(),
            recorded: Arc::new(tokio::sync::watch::Sender::new(0)),
            seen_version: Arc::new(seen_version.into()),
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
            opened_at_version,
        })
    }

    /// The schema version the file had before this process opened (and upgraded) it.
    pub fn opened_at_version(&self) -> i64 {
        self.opened_at_version
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rung each time a write that may have queued a change for the upstream committed (a
    /// call outcome, an arrival, a receipt, a person's retry): the sender waits on it.
    pub fn changes_queued(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.queued)
    }

    /// Whether another process (the CLI beside the app) committed to the database since
    /// the last look: SQLite's `data_version`, which this connection's own commits leave
    /// alone. One cheap pragma.
    pub fn written_elsewhere(&self) -> Result<bool> {
        let now = self.with(|conn| Ok(data_version(conn)?))?;
        let before = self
            .seen_version
            .swap(now, std::sync::atomic::Ordering::Relaxed);
        Ok(before != now)
    }

    /// Bumped each time the shared log grew (this desk's record, or records taken from
    /// another desk).
    pub fn records_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.recorded.subscribe()
    }

    /// Another process wrote to the database: its records, if any, are looked for.
    pub fn records_may_have_changed(&self) {
        self.recorded.send_modify(|n| *n += 1);
    }

    /// `with` for a write that may grow the shared log: bumps `records_changed` once it
    /// committed.
    fn recording<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        let done = self.with(f)?;
        self.recorded.send_modify(|n| *n += 1);
        Ok(done)
    }

    /// `with` for a write that may queue a change: rings `changes_queued` once it committed.
    fn queueing<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        let done = self.with(f)?;
        self.queued.notify_one();
        // A call or a check-in is also a record for the other desks.
        self.recorded.send_modify(|n| *n += 1);
        Ok(done)
    }

    /// Give SQLite's page cache back (`PRAGMA shrink_memory`); later reads fill it again.
    pub fn shrink_memory(&self) -> Result<()> {
        self.with(|conn| Ok(conn.execute_batch("PRAGMA shrink_memory")?))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut conn).map_err(|e| classify(e, &self.path))
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

/// Open, key and check a connection without migrating it.
fn open_connection(path: &Path, key: &DbKey, create: Create) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create == Create::IfMissing {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(CoreError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "database file not found"),
        ));
    }
    initialize_sqlcipher()?;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e.into(), path))?;
    let setup = || -> rusqlite::Result<()> {
        // SQLCipher logs decryption failures to stderr itself; we report them as typed
        // errors instead, so the CLI prints one line and nothing leaks into logs we don't own.
        conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
            .optional()?;
        // The key must be the first statement that touches the database.
        conn.pragma_update(None, "key", key.pragma_value().as_str())?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The first read decrypts page 1: a wrong key fails here, before anything writes.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        debug_assert_eq!(mode.to_ascii_lowercase(), "wal");
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    };
    setup().map_err(|e| classify(e.into(), path))?;
    Ok(conn)
}

/// Finish SQLite's and SQLCipher's once-per-process setup before any connection is keyed.
///
/// SQLite marks itself initialised before it runs SQLCipher's setup, outside its own lock, so
/// a second thread opening at that moment could key its connection before SQLCipher was
/// ready and fail with "An error occurred with PRAGMA key". Every open in this process comes
/// through here, one at a time: the first finishes the whole setup (both halves run in the
/// thread that starts it) before anyone else goes on. Afterwards this is an uncontended lock
/// and a flag check.
fn initialize_sqlcipher() -> Result<()> {
    static SETUP: Mutex<()> = Mutex::new(());
    let _one_at_a_time = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: sqlite3_initialize takes no arguments, may be called any number of times and
    // from any thread; it returns at once when SQLite is already set up.
    let rc = unsafe { rusqlite::ffi::sqlite3_initialize() };
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(CoreError::Database(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rc),
            Some("the database library could not start".into()),
        )))
    }
}

/// Turn SQLite's answers into errors a person can act on.
fn classify(e: CoreError, path: &Path) -> CoreError {
    match e {
        CoreError::Database(rusqlite::Error::SqliteFailure(f, _))
            if f.code == ErrorCode::NotADatabase =>
        {
            CoreError::NotDecryptable {
                path: path.to_owned(),
            }
        }
        CoreError::Database(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            CoreError::Locked {
                path: path.to_owned(),
            }
        }
        CoreError::SchemaTooNew { found, known, .. } => CoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            known,
        },
        other => other,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A keyed connection migrated only up to `version`: the file an older Tsunagi left.
    pub fn create_at_version(path: &Path, key: &DbKey, version: i64) -> Connection {
        let mut conn = open_connection(path, key, Create::IfMissing).unwrap();
        migrations::migrate(&mut conn, version).unwrap();
        conn
    }
}

#[cfg(test)]
mod tests {
    use super::testing::create_at_version;
    use super::*;
    use crate::calendar::UtcRange;
    use chrono::{TimeZone, Utc};

    fn day() -> UtcRange {
        UtcRange {
            start: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_file_left_by_schema_1_upgrades_in_place_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let key = DbKey::generate().unwrap();
        {
            let conn = create_at_version(&path, &key, 1);
            conn.execute_batch(
                "INSERT INTO patient VALUES ('p1', '3', '佐藤 健一', 'サトウ ケンイチ');
                 INSERT INTO patient_phone VALUES ('p1', 0, '090-3481-2271', '+819034812271');
                 INSERT INTO appointment VALUES ('a1', '7', '2026-11-25T00:00:00Z',
                     '2026-11-25T00:10:00Z', 'booked', '定期受診', 'p1');",
            )
            .unwrap();
            let v: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(v, 1);
            let has_log: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'pull_log'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(has_log, 0, "schema 1 has no pull log yet");
        }

        let store = Store::open(&path, &key, Create::Never).unwrap();
        let rows = store.appointments_in(day()).unwrap();
        assert_eq!(rows.len(), 1);
        let patient = rows[0].patient.as_ref().unwrap();
        assert_eq!(patient.name, "佐藤 健一");
        assert_eq!(patient.phones[0].e164.as_deref(), Some("+819034812271"));
        assert_eq!(rows[0].appointment.source_version.as_deref(), Some("7"));

        // What schema 2 added works on the upgraded file.
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let err = crate::CoreError::InvalidInput("test".into());
        store.record_failed_pull("demo", now, now, &err).unwrap();
        assert_eq!(
            store.last_pull().unwrap().unwrap().error.unwrap().code,
            "input.invalid"
        );
        let v: i64 = store
            .with(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .unwrap();
        assert_eq!(v, LATEST_VERSION);
    }

    /// Schema 13 rebuilds the outbox to take the booking kinds: every op of an older file
    /// is still there, with its id (the order ops go out in), state and decisions.
    #[test]
    fn a_schema_12_file_keeps_its_outbox_through_the_rebuild_and_its_past_outages_are_not_news() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let key = DbKey::generate().unwrap();
        let before: Vec<(i64, String, String, String, i64, Option<String>)>;
        {
            let conn = create_at_version(&path, &key, 12);
            conn.execute_batch(
                "INSERT INTO outbox (id, op_key, kind, target_id, payload, state, attempts,
                     created_at, chain, upstream, resolution, withdrawn)
                 VALUES
                 (3, 'k3', 'appointment_cancel', 'a1',
                  '{\"appointment_id\":\"a1\",\"status\":\"cancelled\"}', 'pending', 2,
                  '2026-11-25T00:00:00Z', 'appointment:a1', 'demo', NULL, 0),
                 (7, 'k7', 'call_outcome', 'a1', '{}', 'done', 1,
                  '2026-11-25T00:01:00Z', NULL, 'demo', 'discarded', 1);
                 INSERT INTO incident (id, started_at, declared_at, ended_at, cause, worst_state)
                 VALUES (1, '2026-11-25T00:00:00Z', '2026-11-25T00:00:02Z',
                         '2026-11-25T00:20:00Z', 'internet', 'offline'),
                        (2, '2026-11-25T01:00:00Z', '2026-11-25T01:00:02Z', NULL,
                         'internet', 'offline');",
            )
            .unwrap();
            let err = conn
                .execute(
                    "INSERT INTO outbox (op_key, kind, payload, created_at)
                     VALUES ('k9', 'booking_pause', '{}', '2026-11-25T00:02:00Z')",
                    [],
                )
                .unwrap_err();
            assert!(err.to_string().contains("CHECK"), "{err}");
            before = outbox_rows(&conn);
        }
        let store = Store::open(&path, &key, Create::Never).unwrap();
        store
            .with(|conn| {
                assert_eq!(outbox_rows(conn), before);
                conn.execute(
                    "INSERT INTO outbox (op_key, kind, payload, created_at)
                     VALUES ('k9', 'booking_pause', '{}', '2026-11-25T00:02:00Z')",
                    [],
                )?;
                let next: i64 =
                    conn.query_row("SELECT id FROM outbox WHERE op_key = 'k9'", [], |r| {
                        r.get(0)
                    })?;
                assert_eq!(next, 8, "ids go on after the kept ones");
                // Schema 14: outages already over are not news to the next pull; the one
                // still open is.
                let checked: Vec<Option<String>> = conn
                    .prepare("SELECT news_checked_at FROM incident ORDER BY id")?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                assert_eq!(checked, [Some("2026-11-25T00:20:00Z".to_owned()), None]);
                Ok(())
            })
            .unwrap();
    }

    #[allow(clippy::type_complexity)]
    fn outbox_rows(conn: &Connection) -> Vec<(i64, String, String, String, i64, Option<String>)> {
        let mut stmt = conn
            .prepare(
                "SELECT id, op_key, kind, state, withdrawn, resolution FROM outbox ORDER BY id",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn a_file_from_a_newer_tsunagi_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.db");
        let key = DbKey::generate().unwrap();
        {
            let conn = create_at_version(&path, &key, LATEST_VERSION);
            conn.pragma_update(None, "user_version", LATEST_VERSION + 5)
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path, &key, Create::Never).unwrap_err();
        assert_eq!(err.code(), "store.schema_too_new");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_write_blocked_by_another_writer_reports_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let key = DbKey::generate().unwrap();
        let store = Store::open(&path, &key, Create::IfMissing).unwrap();

        let other = open_connection(&path, &key, Create::Never).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let err = store
            .record_failed_pull("demo", t, t, &crate::CoreError::Stopped)
            .unwrap_err();
        assert_eq!(err.code(), "store.locked");
        assert!(err.is_retryable());
        other.execute_batch("ROLLBACK").unwrap();
        store
            .record_failed_pull("demo", t, t, &crate::CoreError::Stopped)
            .unwrap();
    }
}
