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

mod hlc;
mod record;

pub use hlc::Hlc;
pub(crate) use record::is_desk_id;
pub use record::{Accepted, Record, RecordBody, TickRecord, Vector};
