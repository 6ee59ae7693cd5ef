//! The watched export folder as the desk sees it: set from the settings or the terminal,
//! and each settled file read (see `crate::folder_watch` for when a file is settled).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{blocking, Actor, CsvColumns, Desk};
use crate::audit::AuditAction;
use crate::config::FolderConfig;
use crate::error::{CoreError, Result};
use crate::folder_watch::SeenFile;
use crate::store::FolderFileRecord;
use crate::view::{DeskEvent, FolderView, Settings};

impl Desk {
    /// Watch `path` for exports (none: stop watching), reading them through the mapping
    /// saved as `mapping` (none: by each file's header line). The folder must exist and the
    /// mapping be saved: a typo is said now, not in silence every morning.
    pub async fn set_csv_folder(
        &self,
        path: Option<String>,
        mapping: Option<String>,
    ) -> Result<Settings> {
        let folder = match path.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
            None => None,
            Some(path) => {
                let mapping = mapping
                    .map(|m| m.trim().to_owned())
                    .filter(|m| !m.is_empty());
                self.check_csv_folder(&path, mapping.as_deref()).await?;
                let quiet_secs = self
                    .config()
                    .source
                    .folder
                    .map(|f| f.quiet_secs)
                    .unwrap_or(crate::folder_watch::QUIET.as_secs());
                Some(FolderConfig {
                    path: PathBuf::from(path),
                    mapping,
                    quiet_secs,
                })
            }
        };
        self.config.update(
            |next| {
                next.source.folder = folder.clone();
                Ok(())
            },
            |before, next, save| {
                let entry = self.audit_entry(
                    Actor::Person(None),
                    AuditAction::SettingsChange,
                    Vec::new(),
                    serde_json::json!({
                        "changed": if before.source.folder != next.source.folder {
                            vec!["csv_folder"]
                        } else {
                            Vec::new()
                        }
                    }),
                );
                self.store.audited(&entry, save)
            },
        )?;
        let _ = self.events.send(DeskEvent::ConfigChanged {});
        Ok(self.settings())
    }

    /// Whether `path` can be watched with `mapping`: the folder exists and can be read, and
    /// the mapping is saved.
    pub async fn check_csv_folder(&self, path: &str, mapping: Option<&str>) -> Result<()> {
        let dir = PathBuf::from(path);
        let readable =
            blocking(move || Ok(dir.is_dir() && std::fs::read_dir(&dir).is_ok())).await?;
        if !readable {
            return Err(CoreError::InvalidInput(format!(
                "the folder {path:?} does not exist or cannot be read"
            )));
        }
        if let Some(name) = mapping {
            let store = self.store.clone();
            let wanted = name.to_owned();
            if blocking(move || store.csv_mapping_named(&wanted))
                .await?
                .is_none()
            {
                return Err(CoreError::InvalidInput(format!(
                    "no column mapping is saved under the name {name:?} (import one file with \
                     it first; `tsunagi-cli import mappings` lists them)"
                )));
            }
        }
        Ok(())
    }

    /// Read one settled file of the watched folder: imported (through the folder's
    /// mapping, its time as the data's age) or refused with every problem, and either
    /// way remembered and announced. `None`: its content was read before, nothing to do.
    /// An error: the file could not be read (gone, locked); nothing changed.
    pub async fn read_folder_file(
        &self,
        folder: &Path,
        file: &SeenFile,
    ) -> Result<Option<FolderView>> {
        let path = folder.join(&file.name);
        let bytes =
            blocking(move || std::fs::read(&path).map_err(|source| CoreError::Io { path, source }))
                .await?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let store = self.store.clone();
        let name = file.name.clone();
        let before = blocking(move || store.folder_file(&name)).await?;
        if before.is_some_and(|b| b.sha256 == sha256) {
            return Ok(None);
        }
        let config = self.config();
        let columns = match config
            .source
            .folder
            .as_ref()
            .and_then(|f| f.mapping.clone())
        {
            Some(name) => CsvColumns::Saved { name },
            None => CsvColumns::Auto,
        };
        let modified: chrono::DateTime<chrono::Utc> = file.modified.into();
        let (appointments, problems) =
            match self.import_csv_with(bytes, columns, Some(modified)).await {
                Ok(report) => (Some(report.appointments), Vec::new()),
                Err(CoreError::Import(e)) => (None, e.problems()),
                Err(e) => return Err(e),
            };
        let record = FolderFileRecord {
            file_name: file.name.clone(),
            sha256,
            modified_at: modified,
            read_at: self.clock.now(),
            appointments,
            problems,
        };
        let store = self.store.clone();
        let kept = record.clone();
        blocking(move || store.record_folder_file(&kept)).await?;
        match record.appointments {
            Some(n) => tracing::info!(appointments = n, "the export folder's file was imported"),
            None => tracing::warn!(
                problems = record.problems.len(),
                "the export folder's file was refused"
            ),
        }
        let view = FolderView::new(&record, &config.calendar(), self.clock.now());
        let status = self.status().await?;
        let _ = self.events.send(DeskEvent::FolderRead {
            view: view.clone(),
            status,
        });
        Ok(Some(view))
    }
}
