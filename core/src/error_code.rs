//! Every error code Tsunagi sends to the window, a script or the outbox, in one list. An
//! error type's `code()` returns one of these, so a new code cannot reach the UI without
//! being listed here; the list is exported to TypeScript (`ERROR_CODES`), where every code
//! must have a Japanese and an English text (checked by the UI's type check and tests).

use serde::Serialize;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal,)+) => {
        /// A stable identifier the UI translates and scripts branch on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $name,)+
        }

        impl ErrorCode {
            /// Every code, in the order of this file.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)+];

            /// The code as it travels (`store.key_missing`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $code,)+
                }
            }
        }
    };
}

error_codes! {
    /// The database exists but its key is not in the OS keychain.
    StoreKeyMissing = "store.key_missing",
    /// The key does not open the database (wrong key or a damaged file).
    StoreNotDecryptable = "store.not_decryptable",
    StoreLocked = "store.locked",
    StoreSchemaTooNew = "store.schema_too_new",
    StoreDatabase = "store.database",
    /// The app and `tsunagi-cli run` refuse to run beside each other.
    StoreAlreadyRunning = "store.already_running",
    ConfigMissing = "config.missing",
    ConfigInvalid = "config.invalid",
    KeychainUnavailable = "keychain.unavailable",
    Io = "io",
    SourceNotConfigured = "source.not_configured",
    SourceUnreachable = "source.unreachable",
    SourceCertificate = "source.certificate",
    SourceTimeout = "source.timeout",
    SourceAuth = "source.auth",
    SourceServer = "source.server",
    SourceRejected = "source.rejected",
    SourceNotFhir = "source.not_fhir",
    SourceInvalid = "source.invalid",
    SourceTooLarge = "source.too_large",
    /// ORCA answered with an Api_Result other than success (its meaning in the message).
    SourceOrcaResult = "source.orca_result",
    SourceChangesWaiting = "source.changes_waiting",
    SourceSuperseded = "source.superseded",
    ImportUnusable = "import.unusable",
    ImportRows = "import.rows",
    ReceiptAmountEmpty = "receipt.amount_empty",
    ReceiptAmountNotANumber = "receipt.amount_not_a_number",
    ReceiptAmountZero = "receipt.amount_zero",
    ReceiptAmountNegative = "receipt.amount_negative",
    ReceiptAmountTooLarge = "receipt.amount_too_large",
    ReceiptNotFound = "receipt.not_found",
    ReceiptAlreadyVoided = "receipt.already_voided",
    ReceiptVoidOfVoid = "receipt.void_of_void",
    ReceiptReasonMissing = "receipt.reason_missing",
    /// A receipt another desk issued: only that desk voids it or marks it entered.
    ReceiptOtherDesk = "receipt.other_desk",
    /// A payment identical to one issued a moment ago (asked first).
    ReceiptLooksRepeated = "receipt.looks_repeated",
    InputInvalid = "input.invalid",
    /// A call outcome or check-in would contradict a cancellation recorded at the desk.
    CallContradictsCancel = "call.contradicts_cancel",
    /// A call outcome would contradict a check-in recorded at the desk.
    CallContradictsArrival = "call.contradicts_arrival",
    /// What a person tried to take back has reached the clinic's system already.
    CallAlreadySent = "call.already_sent",
    CallTakenOver = "call.taken_over",
    /// What a person tried to take back waits for a conflict or rejection decision.
    CallNeedsDecision = "call.needs_decision",
    CallAlreadyWithdrawn = "call.already_withdrawn",
    CallAppointmentCancelled = "call.appointment_cancelled",
    /// A check-in for an appointment on another day (asked first).
    CallNotToday = "call.not_today",
    CallRescheduleUnreadable = "call.reschedule_unreadable",
    CallReschedulePast = "call.reschedule_past",
    CallRescheduleTooFar = "call.reschedule_too_far",
    /// The source has no way to stop web booking from the desk (CSV, the demo clinic).
    BookingNoApi = "booking.no_api",
    BookingAlreadyPaused = "booking.already_paused",
    BookingNotPaused = "booking.not_paused",
    /// The end of a pause is unreadable, or not later than now.
    BookingUntilInvalid = "booking.until_invalid",
    /// A drill practises the pause without stopping real web booking.
    BookingInDrill = "booking.in_drill",
    /// A stop by hand asked of a source that stops web booking itself (a FHIR server).
    BookingHasApi = "booking.has_api",
    /// The booking card's admin page is not a web address, or a field is too long.
    BookingCardInvalid = "booking.card_invalid",
    /// The booking service's admin page could not be opened (none written, or no browser).
    BookingOpenFailed = "booking.open_failed",
    /// An op in the outbox cannot be read back (a damaged or foreign payload).
    OutboxUnreadable = "outbox.unreadable",
    /// The server refused the change itself (HTTP 4xx other than auth and conflicts).
    OutboxRejected = "outbox.rejected",
    /// An op of a kind this build cannot send.
    OutboxUnknownKind = "outbox.unknown_kind",
    /// The server holds another version of what the change was made on.
    OutboxConflict = "outbox.conflict",
    /// The server keeps no versions to compare, so a person decides.
    OutboxNoVersions = "outbox.no_versions",
    /// The clinic's system has no place for this record (ORCA: calls, receipts, check-ins);
    /// it is kept on the desk.
    OutboxNoPlace = "outbox.no_place",
    /// The pairing code typed did not match the one shown; that code is void.
    PeersCodeWrong = "peers.code_wrong",
    /// No desk paired within the code's minutes.
    PeersCodeExpired = "peers.code_expired",
    /// A pairing code is not 8 digits.
    PeersCodeInvalid = "peers.code_invalid",
    /// The other desk cannot be reached on the LAN.
    PeersUnreachable = "peers.unreachable",
    /// The other desk answered something this build does not understand.
    PeersProtocol = "peers.protocol",
    /// No paired desk of that id.
    PeersNotPaired = "peers.not_paired",
    /// That desk was unpaired from the clinic's desks: it joins again only as a new desk.
    PeersRevoked = "peers.revoked",
    /// The port for other desks is taken or not allowed.
    PeersListen = "peers.listen",
    /// This desk's key for the other desks cannot be made or used.
    PeersSetup = "peers.setup",
    /// A background task stopped under a command that was waiting for it.
    InternalStopped = "internal.stopped",
    /// The shell could not print the page.
    PrintFailed = "print.failed",
    /// The shell could not put text on the clipboard.
    ClipboardFailed = "clipboard.failed",
    /// No phone app took a number (the OS has no `tel:` handler).
    DialFailed = "dial.failed",
    /// The shell could not change "start at login".
    AutostartFailed = "autostart.failed",
}

impl ErrorCode {
    /// The code a stored text names; a code an older or newer build wrote and this one
    /// does not know stays readable as `None`.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl rusqlite::ToSql for ErrorCode {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_dotted_lowercase_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'),
                "{s}"
            );
            assert_eq!(ErrorCode::parse(s), Some(*code));
        }
        assert_eq!(ErrorCode::parse("store.no_such_code"), None);
    }
}
