//! The watched export folder (issue 19): where a booking system saves its daily CSV
//! export, or a shared folder. Each new or changed `.csv` file there is imported once it is
//! complete, through the configured mapping; what was imported or refused is kept
//! (`folder_import`) and shown, and the file's own time is the data's age.
//!
//! A file is complete when its size and time stayed the same for [`QUIET`]: a booking
//! system that writes its export in pieces is read once, at the end. A file is read again
//! only when its content changed (compared by SHA-256), also across restarts.
//!
//! The folder is polled, not watched through the OS: polling works the same on Windows,
//! macOS and Linux, and on a shared network folder, where change notifications are
//! unreliable. A scan is one directory listing and a `stat` per file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::desk::Desk;
use crate::model::SourceKind;

/// How often the folder is looked at.
pub const SCAN_EVERY: Duration = Duration::from_secs(2);
/// How long a file must stay unchanged before it is read (`quiet_secs` in
/// `[source.folder]` sets another).
pub const QUIET: Duration = Duration::from_secs(3);

/// A file in the folder as a scan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenFile {
    pub name: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// Whether a file name is one the folder imports: `*.csv`, not hidden, not an editor's or
/// a spreadsheet's lock or temporary file.
pub fn wanted(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.ends_with(".csv") && !lower.starts_with('.') && !lower.starts_with("~$")
}

/// The CSV files directly in `folder`, oldest first (files saved in order are imported in
/// order).
pub fn scan(folder: &Path) -> std::io::Result<Vec<SeenFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !wanted(&name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        files.push(SeenFile {
            name,
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        });
    }
    files.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.name.cmp(&b.name)));
    Ok(files)
}

/// Which files have settled since the last scans, and which were handled already (in
/// this run; across runs the store's record of each file's content decides).
#[derive(Debug)]
pub struct Settling {
    quiet: Duration,
    /// Each file's size and time, and since when they have been the same.
    unchanged_since: HashMap<String, (u64, SystemTime, Instant)>,
    /// Size and time of each file when it was last handled.
    handled: HashMap<String, (u64, SystemTime)>,
}

impl Settling {
    pub fn new(quiet: Duration) -> Settling {
        Settling {
            quiet,
            unchanged_since: HashMap::new(),
            handled: HashMap::new(),
        }
    }

    /// The files of this scan that stayed unchanged for the quiet time and were not
    /// handled in this state yet.
    pub fn settled(&mut self, scan: &[SeenFile], now: Instant) -> Vec<SeenFile> {
        self.unchanged_since
            .retain(|name, _| scan.iter().any(|f| &f.name == name));
        self.handled
            .retain(|name, _| scan.iter().any(|f| &f.name == name));
        let mut ready = Vec::new();
        for file in scan {
            let state = (file.size, file.modified);
            let since = match self.unchanged_since.get(&file.name) {
                Some((size, modified, since)) if (*size, *modified) == state => *since,
                _ => {
                    self.unchanged_since
                        .insert(file.name.clone(), (file.size, file.modified, now));
                    now
                }
            };
            let handled = self.handled.get(&file.name) == Some(&state);
            if !handled && now.duration_since(since) >= self.quiet {
                ready.push(file.clone());
            }
        }
        ready
    }

    /// `file` was handled as it is now: not offered again until it changes.
    pub fn handled(&mut self, file: &SeenFile) {
        self.handled
            .insert(file.name.clone(), (file.size, file.modified));
    }
}

/// The runtime's watch of the export folder, until `stop`: every few seconds the settled
/// files that are new or changed are read (the desk announces each import, and each
/// refusal with its problems). Only while the source is CSV (or the demo, which the first
/// import replaces): a FHIR server's next pull would undo each import.
pub async fn run(desk: Arc<Desk>, mut stop: watch::Receiver<bool>) {
    let mut settling = Settling::new(QUIET);
    let mut unreadable: Option<std::path::PathBuf> = None;
    let mut events = desk.subscribe();
    // At start the config is read after one pause, as on every later round.
    let mut watching = true;
    loop {
        // No folder to watch: no wake-ups either (a tray that costs almost nothing, issue
        // 18) until the config changes, here or from the terminal.
        let wait_for_config = async {
            loop {
                match events.recv().await {
                    Ok(crate::view::DeskEvent::ConfigChanged {}) => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await
                    }
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(SCAN_EVERY), if watching => {}
            _ = wait_for_config, if !watching => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let config = desk.config();
        watching = config.source.folder.is_some()
            && matches!(config.source.kind, SourceKind::Csv | SourceKind::Demo);
        let Some(folder) = config.source.folder.clone().filter(|_| watching) else {
            continue;
        };
        settling.quiet = Duration::from_secs(folder.quiet_secs);
        let path = folder.path.clone();
        let files = match tokio::task::spawn_blocking(move || scan(&path)).await {
            Ok(Ok(files)) => files,
            Ok(Err(e)) => {
                // Said once per folder, not every few seconds (a share that is offline).
                if unreadable.as_ref() != Some(&folder.path) {
                    tracing::warn!("cannot read the export folder: {e}");
                    unreadable = Some(folder.path.clone());
                }
                continue;
            }
            Err(_) => return,
        };
        unreadable = None;
        for file in settling.settled(&files, Instant::now()) {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = desk.read_folder_file(&folder.path, &file).await {
                tracing::warn!(code = %e.code(), "could not read a file in the export folder: {e}");
            }
            // Read or not, it is offered again only when it changes.
            settling.handled(&file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64, secs: u64) -> SeenFile {
        SeenFile {
            name: name.into(),
            size,
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    #[test]
    fn issue_19_a_file_still_growing_is_not_read_until_it_stays_the_same() {
        let mut s = Settling::new(QUIET);
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        assert!(s.settled(&[file("a.csv", 10, 1)], at(0)).is_empty());
        assert!(s.settled(&[file("a.csv", 20, 3)], at(2)).is_empty(), "grew");
        assert!(
            s.settled(&[file("a.csv", 20, 3)], at(4)).is_empty(),
            "2 s quiet"
        );
        let ready = s.settled(&[file("a.csv", 20, 3)], at(5));
        assert_eq!(ready, [file("a.csv", 20, 3)], "3 s quiet");
        s.handled(&ready[0]);
        assert!(s.settled(&[file("a.csv", 20, 3)], at(9)).is_empty(), "once");
        assert!(s.settled(&[file("a.csv", 30, 9)], at(10)).is_empty());
        assert_eq!(
            s.settled(&[file("a.csv", 30, 9)], at(13)).len(),
            1,
            "changed"
        );
    }

    #[test]
    fn issue_19_only_csv_files_that_are_no_ones_temporary_file() {
        assert!(wanted("予約一覧_20261203.CSV"));
        assert!(!wanted("~$予約一覧.csv"));
        assert!(!wanted(".予約一覧.csv.swp"));
        assert!(!wanted("予約一覧.csv.part"));
        assert!(!wanted("予約一覧.xlsx"));
    }
}
