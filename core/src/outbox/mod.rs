//! The sync-back: every change made at the desk for the upstream (an op) waits in the
//! outbox until one sender delivers it exactly once. This module names the ops and their
//! states, maps them to FHIR (`fhir`), delivers them (`sender`), spaces out retries
//! (`backoff`) and runs in the background (`task`). See docs/sync-back.md for the design.

pub mod backoff;
pub mod booking;
pub mod change;
pub mod fhir;
pub mod orca;
pub mod sender;
pub mod task;
pub mod view;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What an op asks of the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    AppointmentCancel,
    AppointmentReschedule,
    AppointmentArrival,
    CallOutcome,
    Receipt,
    ReceiptVoid,
    /// Web booking stops: the free Slots of a window become busy-unavailable.
    BookingPause,
    /// Web booking reopens: those Slots are free again.
    BookingResume,
}

impl OpKind {
    pub const ALL: [OpKind; 8] = [
        OpKind::AppointmentCancel,
        OpKind::AppointmentReschedule,
        OpKind::AppointmentArrival,
        OpKind::CallOutcome,
        OpKind::Receipt,
        OpKind::ReceiptVoid,
        OpKind::BookingPause,
        OpKind::BookingResume,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OpKind::AppointmentCancel => "appointment_cancel",
            OpKind::AppointmentReschedule => "appointment_reschedule",
            OpKind::AppointmentArrival => "appointment_arrival",
            OpKind::CallOutcome => "call_outcome",
            OpKind::Receipt => "receipt",
            OpKind::ReceiptVoid => "receipt_void",
            OpKind::BookingPause => "booking_pause",
            OpKind::BookingResume => "booking_resume",
        }
    }

    pub fn parse(code: &str) -> Option<OpKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Made by a call or a check-in, which a person can take back while it waits.
    pub fn withdrawable(self) -> bool {
        self.is_appointment_change() || self == OpKind::CallOutcome
    }

    /// An update of an existing upstream appointment (If-Match), as opposed to a create.
    pub fn is_appointment_change(self) -> bool {
        matches!(
            self,
            OpKind::AppointmentCancel | OpKind::AppointmentReschedule | OpKind::AppointmentArrival
        )
    }
}

/// Where an op is on its way upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    /// Waiting its turn (also after a failure that waiting can fix).
    Pending,
    /// A request is (or was, when the app stopped) on its way.
    Sending,
    /// On the server, or settled by a person.
    Done,
    /// The server's copy changed since the desk's change was made: a person decides.
    Conflict,
    /// The server refused it (a 4xx other than 412): a person decides.
    Rejected,
}

impl OpState {
    pub fn code(self) -> &'static str {
        match self {
            OpState::Pending => "pending",
            OpState::Sending => "sending",
            OpState::Done => "done",
            OpState::Conflict => "conflict",
            OpState::Rejected => "rejected",
        }
    }

    pub fn parse(code: &str) -> Option<OpState> {
        [
            OpState::Pending,
            OpState::Sending,
            OpState::Done,
            OpState::Conflict,
            OpState::Rejected,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A person's decision on an op, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    KeptMine,
    TookServer,
    Discarded,
    /// Taken back by a person before it was sent (元に戻す, or 取り下げ in 同期).
    Withdrawn,
    /// The upstream has no place for it (ORCA: a call's outcome, a receipt): kept on the
    /// desk, in the reconciliation view and its CSV.
    KeptHere,
}

impl Resolution {
    pub fn code(self) -> &'static str {
        match self {
            Resolution::KeptMine => "kept_mine",
            Resolution::TookServer => "took_server",
            Resolution::Discarded => "discarded",
            Resolution::Withdrawn => "withdrawn",
            Resolution::KeptHere => "kept_here",
        }
    }

    pub fn parse(code: &str) -> Option<Resolution> {
        [
            Resolution::KeptMine,
            Resolution::TookServer,
            Resolution::Discarded,
            Resolution::Withdrawn,
            Resolution::KeptHere,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// What a person can do with an op that needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpAction {
    /// A rejected op: send it again (after the server's problem was fixed).
    Retry,
    /// A conflict: apply the desk's change on top of the server's current version.
    KeepMine,
    /// A conflict: the server's version stands; the mirror takes it.
    TakeServer,
    /// A rejected op: give up on sending it (entered by hand instead).
    Discard,
    /// A waiting call outcome or appointment change: take it back before it is sent,
    /// with the call or check-in it came from.
    Withdraw,
}

impl OpAction {
    pub fn code(self) -> &'static str {
        match self {
            OpAction::Retry => "retry",
            OpAction::KeepMine => "keep_mine",
            OpAction::TakeServer => "take_server",
            OpAction::Discard => "discard",
            OpAction::Withdraw => "withdraw",
        }
    }

    pub fn parse(code: &str) -> Option<OpAction> {
        [
            OpAction::Retry,
            OpAction::KeepMine,
            OpAction::TakeServer,
            OpAction::Discard,
            OpAction::Withdraw,
        ]
        .into_iter()
        .find(|a| a.code() == code)
    }

    /// The actions an op in `state` offers. A change made on CSV imports has no system to
    /// go to: while it waits, a person can mark it entered by hand (discard it), or it
    /// would wait (and show over newer imports) for ever. A call's outcome or a check-in
    /// can be taken back while it waits; a receipt is voided instead (its number was handed
    /// to the patient).
    pub fn offered(state: OpState, kind: OpKind, upstream: &str) -> Vec<OpAction> {
        let mut offered = match state {
            OpState::Conflict => vec![OpAction::KeepMine, OpAction::TakeServer],
            OpState::Rejected => vec![OpAction::Retry, OpAction::Discard],
            OpState::Pending if upstream == crate::csv_import::SOURCE_KEY => {
                vec![OpAction::Discard]
            }
            _ => Vec::new(),
        };
        if state == OpState::Pending && kind.withdrawable() {
            offered.push(OpAction::Withdraw);
        }
        offered
    }
}

/// How many ops are in each state. The window gets the sums it shows too
/// ([`OutboxCounts::waiting`], [`OutboxCounts::need_a_person`]), so it never adds them up
/// by its own rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(into = "CountsWithSums")]
#[ts(as = "CountsWithSums")]
pub struct OutboxCounts {
    pub pending: u32,
    pub sending: u32,
    /// Delivered: the upstream holds them.
    pub done: u32,
    /// Settled without being sent: taken back before sending (元に戻す, 取り消す) or marked
    /// as entered by hand.
    pub not_sent: u32,
    pub conflict: u32,
    pub rejected: u32,
}

/// Settled without reaching the upstream: taken back before sending, or entered by hand.
/// `OutboxCounts::not_sent` and `OpView::not_sent` both say it by this rule.
pub fn settled_unsent(state: OpState, resolution: Option<Resolution>) -> bool {
    state == OpState::Done
        && matches!(
            resolution,
            Some(Resolution::Withdrawn | Resolution::Discarded | Resolution::KeptHere)
        )
}

impl OutboxCounts {
    /// Ops still on their way (a restart turns `sending` back into `pending`).
    pub fn waiting(&self) -> u32 {
        self.pending + self.sending
    }

    /// Ops a person must look at.
    pub fn need_a_person(&self) -> u32 {
        self.conflict + self.rejected
    }
}

/// [`OutboxCounts`] as it travels to the window and `--json`.
#[derive(Serialize, TS)]
#[ts(rename = "OutboxCounts")]
struct CountsWithSums {
    pending: u32,
    sending: u32,
    done: u32,
    not_sent: u32,
    conflict: u32,
    rejected: u32,
    /// Still on their way: `pending + sending`.
    waiting: u32,
    /// For a person to decide: `conflict + rejected`.
    need_a_person: u32,
}

impl From<OutboxCounts> for CountsWithSums {
    fn from(c: OutboxCounts) -> Self {
        CountsWithSums {
            pending: c.pending,
            sending: c.sending,
            done: c.done,
            not_sent: c.not_sent,
            conflict: c.conflict,
            rejected: c.rejected,
            waiting: c.waiting(),
            need_a_person: c.need_a_person(),
        }
    }
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DrainEnd {
    /// Nothing is left: every op is done.
    Empty,
    /// Only conflicts and rejections are left, for a person.
    NeedsAPerson,
    /// The upstream could not be reached (or kept failing), or ops wait for another
    /// upstream than the source now; ops are still waiting.
    StillWaiting,
    /// There is no upstream to send to (CSV imports): ops wait for a person.
    NoUpstream,
}

/// What a drain did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DrainReport {
    pub end: DrainEnd,
    /// Ops this drain delivered.
    pub delivered: u32,
    /// Ops that became conflicts or rejections in this drain.
    pub parked: u32,
    /// Requests that failed and were retried.
    pub retries: u32,
    pub counts: OutboxCounts,
    /// The last failure that kept ops waiting (code and message, no personal data).
    pub last_error: Option<crate::error::ErrorPayload>,
    /// Changes still meant for an upstream other than the source now, by upstream key
    /// (they wait for it; switching back sends them).
    pub waiting_elsewhere: Vec<WaitingElsewhere>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct WaitingElsewhere {
    pub upstream: String,
    pub count: u32,
}
