//! Several desks, one front desk (issue 16). Each desk keeps an append-only log of what it
//! recorded that the others must know (a checklist tick, a call outcome, …); desks hold
//! each other's logs and apply what they receive to their own tables. Design and the
//! argument for it: docs/desks.md.
//!
//! - A record is named by its desk and its sequence number, counted from 1 with no gap: a
//!   desk holds another's log up to some number, so one number per desk (the [`Vector`])
//!   says all it holds, and two desks learn what to send each other by comparing them.
//! - A record is stored and applied in one transaction, and at most once (its name is the
//!   table's key): a copy that arrives twice, or from two desks, changes nothing.
//! - Records pass on: a desk sends every desk's records it holds, not only its own, so a
//!   desk that was off catches up from whichever desk is there.
//! - "Latest" is decided by the records' hybrid logical clock ([`Hlc`]), then the desk id:
//!   the same answer on every desk, whatever order the records came in and whatever the
//!   desks' clocks say.
//!
//! Between desks: TLS 1.3 with pinned certificates ([`identity`]), paired once by a code
//! ([`pairing`]), frames of JSON ([`wire`]), one link per pair of desks ([`link`]), found
//! again on the LAN by mDNS when an address changes ([`discovery`]).

pub mod discovery;
mod error;
mod hlc;
pub mod identity;
pub mod link;
pub mod pairing;
mod record;
pub mod service;
pub mod wire;

pub use error::PeerError;
pub use hlc::Hlc;
pub(crate) use record::is_desk_id;
pub use record::{
    Accepted, CallRecord, OpRecord, OpSettledRecord, PairedRecord, ReceiptRecord, Record,
    RecordBody, TickRecord, Vector,
};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A paired desk as this desk knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerRow {
    pub desk: String,
    pub name: String,
    /// Where it listens for paired desks (host:port).
    pub address: String,
    pub paired_at: DateTime<Utc>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Records this desk held that it lacked, when last heard from.
    pub behind: Option<u64>,
}

/// The 他の端末 screen: this desk as the others see it, and the desks paired with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DesksView {
    /// This desk's name on the other desks.
    pub name: String,
    pub port: u16,
    pub desks: Vec<DeskRow>,
}

/// A paired desk, as the 他の端末 screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DeskRow {
    pub desk: String,
    pub name: String,
    pub address: String,
    /// Heard from within the last few seconds.
    pub connected: bool,
    /// When last heard from, `HH:MM` today or `M/D HH:MM` at the clinic.
    pub last_seen_label: Option<String>,
    /// Records this desk held that it lacked, when last heard from.
    #[ts(type = "number | null")]
    pub behind: Option<u64>,
}

/// A pairing code shown on this desk, for another desk to type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PairingCode {
    /// Eight digits, as `1234 5678`.
    pub code: String,
    /// How long it is valid.
    pub minutes: u32,
    /// This desk's addresses on the LAN, to type with the code (`192.168.1.23:48621`).
    pub addresses: Vec<String>,
}

/// The keychain entry pinning a paired desk's certificate.
pub fn pin_account(me: &str, peer: &str) -> String {
    format!("peer-pin/{me}/{peer}")
}

/// How recently a connected desk was heard from (links say something every 3 s).
pub const CONNECTED: chrono::Duration = chrono::Duration::seconds(10);

/// Heard from within the last few seconds.
pub fn connected(peer: &PeerRow, now: DateTime<Utc>) -> bool {
    peer.last_seen.is_some_and(|t| now - t <= CONNECTED)
}
