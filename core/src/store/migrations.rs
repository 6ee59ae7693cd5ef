//! Append-only schema migrations. Each runs once, in order, inside one transaction with the
//! `user_version` bump, so a crash leaves the old schema or the new one, never half of it.
//! A file whose `user_version` is beyond what this build knows is refused untouched.
//!
//! Never edit a shipped migration: add the next one.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{CoreError, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_mirror.sql"),
    include_str!("migrations/0002_pull_log.sql"),
    include_str!("migrations/0003_refresh.sql"),
    include_str!("migrations/0004_monitor.sql"),
    include_str!("migrations/0005_calls_outbox.sql"),
    include_str!("migrations/0006_receipts.sql"),
    include_str!("migrations/0007_checklist.sql"),
    include_str!("migrations/0008_arrival.sql"),
    include_str!("migrations/0009_sync_back.sql"),
    include_str!("migrations/0010_privacy.sql"),
    include_str!("migrations/0011_one_promise.sql"),
    include_str!("migrations/0012_withdraw.sql"),
    include_str!("migrations/0013_booking.sql"),
    include_str!("migrations/0014_upstream_news.sql"),
    include_str!("migrations/0015_booking_kept_closed.sql"),
    include_str!("migrations/0016_booking_by_hand.sql"),
    include_str!("migrations/0017_desk_log.sql"),
    include_str!("migrations/0018_peers.sql"),
    include_str!("migrations/0019_peer_calls.sql"),
    include_str!("migrations/0020_unpaired_everywhere.sql"),
    include_str!("migrations/0021_peer_arrivals.sql"),
    include_str!("migrations/0022_peer_receipts.sql"),
    include_str!("migrations/0023_peer_ops.sql"),
    include_str!("migrations/0024_peer_clock.sql"),
    include_str!("migrations/0025_peer_vouched.sql"),
    include_str!("migrations/0026_csv_mapping.sql"),
];

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the schema to `target`; returns the version the file had.
pub(super) fn migrate(conn: &mut Connection, target: i64) -> Result<i64> {
    // Already current (the usual case): no write lock, so opening never waits on a writer.
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == target {
        return Ok(current);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > LATEST_VERSION {
        return Err(CoreError::SchemaTooNew {
            path: Default::default(),
            found,
            known: LATEST_VERSION,
        });
    }
    if found >= target {
        return Ok(found);
    }
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version > found && version <= target {
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()?;
    Ok(found)
}

#[cfg(test)]
mod pinned {
    use sha2::{Digest, Sha256};

    /// The SHA-256 of every shipped migration, in order. Installs already ran these: an
    /// edit would leave their schema different from a new install's. A new migration
    /// appends its line here; an existing line never changes.
    const SHIPPED: &[&str] = &[
        "c96c409d3bc291d1eed4875bbe4c26a461ba1ab15269f7a1707fb2fc1a72f489",
        "db3117c71f696c298bcb19edaeaa4825c84d0963fb594ee05171a2f9b571080a",
        "785dbeac3338fc69fadadae5b29574b62a32a67570fcd48300277ecaabc13dab",
        "b246795158b6bdb571c81150c7d25c4960f4afd64f409d4cd60b9df36a58330f",
        "c4ad70a59cd25f9f5a2c1db3f20c3c8661fed2c80e4d99d8f51c69a349c09d35",
        "de38aba433d5fef9c4788c53738b7fa545b229b1d769b679d8c66e3f07d77431",
        "3105771945b8b7da72d254aa01222a272b22dfc30bcef52445061403e8e8dcfb",
        "ac12472318e8971896ba859fd7c769a3709f149a42033bed8abc037ccee72418",
        "241bf6dd91b7473595dd2a9dc65a048e6572249425c5f48bcc9adad1f4f22bb3",
        "078eeb42eea4c096d9cb1b6d7b2de01057ce0ad30d59a5d7e74f47253a8611c0",
        "79a28c6587b9f72520ee1dd54dda7907b6d8b2c96bdf124391961ddec963164d",
        "b24c7bda2bc0e7d9912148e45e6d8de3e4499813a59e81e5919d19103f7c0e35",
        "9a1c40f9e42c715433c265b5f98a49dfec7e221b33ccc83c52118aed5dca19b2",
        "5eace98849415ea2a8bdb786237dae001b8a707992088f53fff778f5d1690a45",
        "3717c9dc567ff109dfc0bbe7d383fe9e8c73a5f6e6683fc482edf2e28a86ff7f",
        "8a502118e2814c733a26279e97c719f4ba68c6985439ba4a4c12c756db7603ed",
        "c593fef39ce514376295149a0a8d90092ab5e7c543901282e1ba807a246403df",
        "f91b88316441b506c4e0e7046594ca44aaa92273213251c7874613199182ed57",
        "3f7ad2552348a7adc5ac9598f5a29407ab230efca01d972fd78aa202cf894fcc",
        "9175e71e90ccdd3a7d3b6528897b9fd90e951a7d10b1be48882a290672f41003",
        "1c9792f03a7af60503e44509c2d6542c52f5ef177039a45fe7d829952e310612",
        "a10403ae9bea074ba85104b309c9bf6751b0a15d83aba3e2f4b7bfaafa33fbb1",
        "72d03845a98644a86cb390780aaf9e31762050848596c5fede8a0eb0feea0508",
        "9377e8368a91dcd5000c3c8dc0df2e6b2e3ba0f1c78a1b316bb56973e4b4c340",
        "628320d26667f842dc87ba032d3b444669ba34fcfe6d3c8cabc318616cfd7863",
        "c7b798523e5b7b09952fb27c8ff47a14f501d066e12886f3abbfbd4889da3cb0",
    ];

    #[test]
    fn shipped_migrations_are_never_edited() {
        assert_eq!(
            super::MIGRATIONS.len(),
            SHIPPED.len(),
            "a new migration appends its checksum to SHIPPED"
        );
        for (n, (sql, pinned)) in super::MIGRATIONS.iter().zip(SHIPPED).enumerate() {
            // A Windows checkout may turn line ends into CRLF; the SQL is the same.
            let sum = hex::encode(Sha256::digest(sql.replace("\r\n", "\n").as_bytes()));
            assert_eq!(
                &sum,
                pinned,
                "migration {} was edited after it shipped",
                n + 1
            );
        }
    }
}
