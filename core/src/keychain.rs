//! Secrets in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows) through the `keyring` crate.
//!
//! Entries are cached per account for the life of the `Keychain`: keyring's mock store
//! keeps a secret only inside the entry object, so tests with the mock need the same
//! entry back; for real stores the cache just saves a lookup.

use std::collections::HashMap;
use std::sync::Mutex;

use keyring::{CredentialBuilder, Entry};

use crate::config::APP_IDENTIFIER;
use crate::error::{CoreError, Result};

pub struct Keychain {
    service: String,
    builder: Box<CredentialBuilder>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keychain")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Keychain {
    /// The platform's own keychain.
    pub fn os() -> Self {
        Self::with_builder(keyring::default::default_credential_builder())
    }

    /// keyring's in-memory mock: secrets last as long as this `Keychain`.
    pub fn mock() -> Self {
        Self::with_builder(keyring::mock::default_credential_builder())
    }

    /// Another store behind keyring's credential API (a test's slow keychain, say).
    pub fn with_backend(builder: Box<CredentialBuilder>) -> Self {
        Self::with_builder(builder)
    }

    fn with_builder(builder: Box<CredentialBuilder>) -> Self {
        Keychain {
            service: APP_IDENTIFIER.to_owned(),
            builder,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn with_entry<R>(
        &self,
        account: &str,
        f: impl FnOnce(&Entry) -> keyring::Result<R>,
    ) -> keyring::Result<R> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.contains_key(account) {
            let credential = self.builder.build(None, &self.service, account)?;
            entries.insert(account.to_owned(), Entry::new_with_credential(credential));
        }
        f(&entries[account])
    }

    /// `Ok(None)` when there is no such entry.
    pub fn get(&self, account: &str) -> Result<Option<Vec<u8>>> {
        match self.with_entry(account, |e| e.get_secret()) {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn set(&self, account: &str, secret: &[u8]) -> Result<()> {
        self.with_entry(account, |e| e.set_secret(secret))
            .map_err(unavailable)
    }

    pub fn delete(&self, account: &str) -> Result<()> {
        match self.with_entry(account, |e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(e: keyring::Error) -> CoreError {
    CoreError::KeychainUnavailable {
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_keychain_keeps_secrets_per_account() {
        let k = Keychain::mock();
        assert_eq!(k.get("a").unwrap(), None);
        k.set("a", &[1, 2, 3]).unwrap();
        k.set("b", &[9]).unwrap();
        assert_eq!(k.get("a").unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(k.get("b").unwrap(), Some(vec![9]));
        k.delete("a").unwrap();
        assert_eq!(k.get("a").unwrap(), None);
    }
}
