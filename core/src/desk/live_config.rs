//! The install's config as the file says it *now*. The desktop app, `tsunagi-cli` and the
//! IT helper's editor all write `config.toml`; each reader sees the latest text (a change
//! made from the terminal takes effect in the running app before its next request), and a
//! save changes only what it means to change, on the file as it is at that moment, under a
//! lock shared by every process of the install (a save never reverts a change it did not
//! make).

use std::path::PathBuf;
use std::sync::RwLock;

use crate::config::{Config, DataDir};
use crate::error::{CoreError, Result};

/// Held while one process creates an install or rewrites its config: first starts and
/// saves happen one at a time across processes. The OS drops it if the process dies.
pub(crate) struct InstallLock(#[allow(dead_code)] std::fs::File);

impl InstallLock {
    pub(crate) fn take(data_dir: &DataDir) -> Result<InstallLock> {
        let path = data_dir.root().join("install.lock");
        let file = crate::lockfile::open(&path)?;
        file.lock().map_err(|e| CoreError::io(&path, e))?;
        Ok(InstallLock(file))
    }
}

struct Loaded {
    config: Config,
    /// The file's text this config came from (`None`: not read from a file).
    text: Option<String>,
    /// The file as it was when last read: the cheap check each read makes (one stat)
    /// before it reads the text again.
    stamp: Option<Stamp>,
}

/// Modification time, length and (on Unix) inode: every save writes a new file and renames
/// it into place, so even two saves within one tick of the file clock tell apart.
type Stamp = (std::time::SystemTime, u64, u64);

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok()?, meta.len(), inode))
}

pub(super) struct LiveConfig {
    data_dir: DataDir,
    loaded: RwLock<Loaded>,
}

/// What a read found.
pub(super) struct Read {
    pub config: Config,
    /// The file changed since the last read: another process (or a person) changed it.
    pub changed_outside: bool,
}

impl LiveConfig {
    pub fn new(data_dir: DataDir, config: Config) -> LiveConfig {
        let path = data_dir.config();
        let stamp = stamp(&path);
        let text = std::fs::read_to_string(&path).ok();
        LiveConfig {
            data_dir,
            loaded: RwLock::new(Loaded {
                config,
                text,
                stamp,
            }),
        }
    }

    fn path(&self) -> PathBuf {
        self.data_dir.config()
    }

    /// The config as last read, from memory: never touches the disk.
    pub fn current(&self) -> Config {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .clone()
    }

    /// The config as the file holds it now (a stat, and a read when it changed): a
    /// blocking call. A file that no longer parses (a half-edited config) leaves the last
    /// good config in use; the error is logged once per text.
    pub fn read(&self) -> Read {
        let path = self.path();
        let now = stamp(&path);
        {
            // Unchanged since the last read (or gone): what is in memory stands.
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if now.is_none() || now == loaded.stamp {
                return Read {
                    config: loaded.config.clone(),
                    changed_outside: false,
                };
            }
        }
        let text = std::fs::read_to_string(&path).ok();
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        loaded.stamp = now;
        let Some(text) = text.filter(|t| loaded.text.as_deref() != Some(t.as_str())) else {
            // Touched but not changed, or read first by another thread.
            return Read {
                config: loaded.config.clone(),
                changed_outside: false,
            };
        };
        match Config::parse(&text, &path) {
            Ok(config) if config.device_id == loaded.config.device_id => {
                let changed = config != loaded.config;
                loaded.config = config;
                loaded.text = Some(text);
                Read {
                    config: loaded.config.clone(),
                    changed_outside: changed,
                }
            }
            Ok(_) => {
                // The device id names the database's key: never switched under a running desk.
                tracing::warn!("config.toml now names another device_id; keeping the one in use");
                loaded.text = Some(text);
                Read {
                    config: loaded.config.clone(),
                    changed_outside: false,
                }
            }
            Err(e) => {
                tracing::warn!(
                    code = %e.code(),
                    "config.toml does not parse; keeping the last good one: {e}"
                );
                loaded.text = Some(text);
                Read {
                    config: loaded.config.clone(),
                    changed_outside: false,
                }
            }
        }
    }

    /// Change the config: `change` is applied to the file as it is now (not to this
    /// process's copy) under the install lock, and the result is saved when it differs.
    /// `before_save` runs between the two, for what must commit with the file (the audit
    /// row's transaction). Returns the config before and after.
    pub fn update(
        &self,
        change: impl FnOnce(&mut Config) -> Result<()>,
        before_save: impl FnOnce(&Config, &Config, &dyn Fn() -> Result<()>) -> Result<()>,
    ) -> Result<(Config, Config)> {
        let _lock = InstallLock::take(&self.data_dir)?;
        let path = self.path();
        let current = match Config::load(&path) {
            Ok(Some(c)) => c,
            Ok(None) => self.read().config,
            Err(e) => return Err(e),
        };
        let mut next = current.clone();
        change(&mut next)?;
        if next != current {
            let save = || -> Result<()> {
                let text = next.save(&path)?;
                let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
                loaded.config = next.clone();
                loaded.text = Some(text);
                loaded.stamp = stamp(&path);
                Ok(())
            };
            before_save(&current, &next, &save)?;
        } else {
            let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
            loaded.config = next.clone();
            loaded.text = std::fs::read_to_string(&path).ok();
            loaded.stamp = stamp(&path);
        }
        Ok((current, next))
    }
}
