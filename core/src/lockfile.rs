//! Lock files in the data folder: one process at a time does a thing for the install (the
//! OS releases a lock when its process dies, so a crash never leaves one stuck).

use std::fs::File;
use std::path::Path;

use crate::error::{CoreError, Result};

/// The lock file at `path`, opened (created when missing) but not yet locked.
pub(crate) fn open(path: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| CoreError::io(path, e))
}

/// Lock it now if no other process holds it (`None` when one does).
pub(crate) fn try_take(path: &Path) -> Result<Option<File>> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(CoreError::io(path, e)),
    }
}
