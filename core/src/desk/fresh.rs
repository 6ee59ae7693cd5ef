//! Key loss: the database's key is missing from the OS keychain or does not open the file.
//! Tsunagi says so, never deletes the file, and can start over with a fresh mirror while
//! the unreadable file waits aside for the key to turn up.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use super::{key_account, Actor, Desk, DeskOptions};
use crate::audit::AuditAction;
use crate::config::Config;
use crate::error::{CoreError, ErrorCode, Result};

/// Where set-aside databases go, inside the data folder.
const ASIDE_DIR: &str = "unreadable";

/// What starting over did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FreshStart {
    /// The unreadable database, moved here untouched (with its -wal/-shm files if any).
    pub kept_at: String,
    /// Why it could not be opened (`store.key_missing` or `store.not_decryptable`).
    #[ts(type = "ErrorCode")]
    pub reason: ErrorCode,
    /// The keychain entry that did not open it, kept under this account name.
    pub old_key_account: Option<String>,
}

/// The codes of the errors `is_key_loss` answers yes to (the window offers a fresh start
/// only for these; shared with the UI through the generated bindings).
pub const KEY_LOSS_CODES: [ErrorCode; 2] =
    [ErrorCode::StoreKeyMissing, ErrorCode::StoreNotDecryptable];

/// Whether an error is the kind a fresh mirror answers (and the only kinds it may).
pub fn is_key_loss(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::KeyMissing { .. } | CoreError::NotDecryptable { .. }
    )
}

impl Desk {
    /// Start over when the database cannot be opened for want of its key: move the file
    /// aside (never delete it), keep a wrong key under another keychain name, and open a
    /// fresh, empty database with a new key. Refused when the database opens, or fails for
    /// another reason (a locked file or an unreachable keychain must not cost the data).
    pub fn start_fresh(options: DeskOptions) -> Result<(Desk, FreshStart)> {
        let reason = match Desk::open(options.clone()) {
            Ok(_) => {
                return Err(CoreError::InvalidInput(
                    "the database opens with its key; there is nothing to start over from"
                        .to_owned(),
                ))
            }
            Err(e) if is_key_loss(&e) => e.code(),
            Err(e) => return Err(e),
        };
        let data_dir = options.data_dir.clone();
        let config = Config::load(&data_dir.config())?.ok_or_else(|| CoreError::ConfigMissing {
            dir: data_dir.root().to_owned(),
        })?;
        let stamp = options.clock.now().format("%Y%m%d-%H%M%S").to_string();
        let kept_at = set_aside(
            &data_dir.database(),
            &data_dir.root().join(ASIDE_DIR),
            &stamp,
        )?;

        let account = key_account(&config);
        let old_key_account = match options.keychain.get(&account)? {
            Some(old) => {
                let aside = format!("{account}/unreadable-{stamp}");
                options.keychain.set(&aside, &old)?;
                options.keychain.delete(&account)?;
                Some(aside)
            }
            None => None,
        };
        tracing::warn!(reason = %reason, "database set aside; starting with a fresh mirror");
        let desk = Desk::open(options)?;
        let fresh = FreshStart {
            kept_at: kept_at.display().to_string(),
            reason,
            old_key_account,
        };
        desk.audit_blocking(
            Actor::Person(None),
            AuditAction::FreshStart,
            Vec::new(),
            serde_json::json!({
                "reason": fresh.reason,
                "kept_at": kept_at.file_name().map(|n| n.to_string_lossy().into_owned()),
            }),
        );
        Ok((desk, fresh))
    }
}

/// Move `db` (and its -wal and -shm files) into `aside` under a dated name; returns the new
/// path of the database file. Renames only: nothing is copied or deleted.
fn set_aside(db: &Path, aside: &Path, stamp: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(aside).map_err(|e| CoreError::io(aside, e))?;
    let mut n = 0;
    let target = loop {
        let name = match n {
            0 => format!("tsunagi-{stamp}.db"),
            n => format!("tsunagi-{stamp}-{n}.db"),
        };
        let target = aside.join(name);
        if !target.exists() {
            break target;
        }
        n += 1;
    };
    // The side files first: a crash between leaves the main file where it was, still
    // unreadable, and the next attempt moves it.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            let to = PathBuf::from(format!("{}{suffix}", target.display()));
            std::fs::rename(&side, &to).map_err(|e| CoreError::io(&side, e))?;
        }
    }
    std::fs::rename(db, &target).map_err(|e| CoreError::io(db, e))?;
    Ok(target)
}

#[cfg(test)]
mod codes {
    use super::*;

    #[test]
    fn the_key_loss_codes_are_the_codes_of_key_loss() {
        let path = std::path::PathBuf::from("tsunagi.db");
        let errors = [
            CoreError::KeyMissing { path: path.clone() },
            CoreError::NotDecryptable { path: path.clone() },
            CoreError::Locked { path: path.clone() },
            CoreError::KeychainUnavailable {
                reason: "no D-Bus".into(),
            },
            CoreError::ConfigMissing { dir: path },
        ];
        for e in errors {
            assert_eq!(is_key_loss(&e), KEY_LOSS_CODES.contains(&e.code()), "{e}");
        }
    }
}
