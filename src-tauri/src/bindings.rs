//! The TypeScript types the UI compiles against, generated from the Rust types that cross
//! the bridge. `ui/src/lib/generated/types.ts` must equal `typescript()`; the test below
//! fails when it is stale. Regenerate with:
//!     UPDATE_BINDINGS=1 cargo test -p tsunagi --lib bindings

use ts_rs::{Config, TS};
use tsunagi_core::audit::{AuditCheck, AuditProblem};
use tsunagi_core::booking::{BookingState, BookingView, PauseView, ResumeView, SlotView};
use tsunagi_core::calls::{
    ArrivalRecord, CallAttemptView, CallListEntry, CallListView, CallOutcome, CallRecord,
    ClaimView, ElsewhereArrivalView, ElsewhereCallView, Withdrawable,
};
use tsunagi_core::checklist::{ChecklistAction, ChecklistItem, ChecklistView};
use tsunagi_core::config::{BookingCard, FhirAuthKind, Language, RetentionConfig};
use tsunagi_core::csv_import::{
    ColumnMapping, CsvPreview, Field, ImportProblem, MappedColumn, ProblemKind, RequiredColumn,
};
use tsunagi_core::desk::{ChangesLeft, FreshStart, SignalsView, StaffView};
use tsunagi_core::model::{AppointmentStatus, SourceKind, UpstreamNews};
use tsunagi_core::monitor::advice::{Advice, LineView};
use tsunagi_core::monitor::metered::Metered;
use tsunagi_core::monitor::signals::{Signal, SignalKind};
use tsunagi_core::monitor::{
    Cause, Failure, MonitorStatus, NetPath, NetState, ProbeKind, ProbeResult,
};
use tsunagi_core::outbox::view::{AppointmentSide, OpView, SyncGroup, SyncView};
use tsunagi_core::outbox::{OpAction, OpKind, OpState, OutboxCounts, Resolution};
use tsunagi_core::peers::{DeskRow, DesksView, PairingCode};
use tsunagi_core::phone::Phone;
use tsunagi_core::printout::{PrintRequest, Printout};
use tsunagi_core::receipts::{
    DaySummary, DeskTotal, LedgerView, MethodTotal, PaymentMethod, ReceiptInput, ReceiptIssued,
    ReceiptKind, ReceiptPatient, ReceiptView, StaffTotal,
};
use tsunagi_core::report::{
    DrillEnd, IncidentReport, ReportBooking, ReportCall, ReportKind, ReportList, ReportSummary,
};
use tsunagi_core::store::SavedMapping;
use tsunagi_core::view::{
    AppointmentView, CsvFolderSettings, DeskEvent, FhirSettings, FolderView, MirrorStatus,
    OrcaSettings, PatientView, PullView, Settings, TodayView,
};
use tsunagi_core::{
    CsvColumns, ErrorCode, ErrorPayload, ImportReport, ImportResult, SettingsChange, SourceSetup,
};

fn typescript() -> String {
    let cfg = Config::new();
    let decls = [
        ErrorPayload::decl(&cfg),
        Language::decl(&cfg),
        SourceKind::decl(&cfg),
        AppointmentStatus::decl(&cfg),
        UpstreamNews::decl(&cfg),
        Phone::decl(&cfg),
        PatientView::decl(&cfg),
        AppointmentView::decl(&cfg),
        PullView::decl(&cfg),
        FolderView::decl(&cfg),
        MirrorStatus::decl(&cfg),
        TodayView::decl(&cfg),
        FhirAuthKind::decl(&cfg),
        FhirSettings::decl(&cfg),
        OrcaSettings::decl(&cfg),
        RetentionConfig::decl(&cfg),
        Metered::decl(&cfg),
        BookingCard::decl(&cfg),
        CsvFolderSettings::decl(&cfg),
        Settings::decl(&cfg),
        StaffView::decl(&cfg),
        AuditProblem::decl(&cfg),
        AuditCheck::decl(&cfg),
        FreshStart::decl(&cfg),
        SettingsChange::decl(&cfg),
        SourceSetup::decl(&cfg),
        ChangesLeft::decl(&cfg),
        RequiredColumn::decl(&cfg),
        Field::decl(&cfg),
        MappedColumn::decl(&cfg),
        ColumnMapping::decl(&cfg),
        CsvColumns::decl(&cfg),
        CsvPreview::decl(&cfg),
        SavedMapping::decl(&cfg),
        ProblemKind::decl(&cfg),
        ImportProblem::decl(&cfg),
        ImportReport::decl(&cfg),
        ImportResult::decl(&cfg),
        DeskEvent::decl(&cfg),
        NetState::decl(&cfg),
        Cause::decl(&cfg),
        ProbeKind::decl(&cfg),
        Failure::decl(&cfg),
        ProbeResult::decl(&cfg),
        NetPath::decl(&cfg),
        MonitorStatus::decl(&cfg),
        Advice::decl(&cfg),
        LineView::decl(&cfg),
        SignalKind::decl(&cfg),
        Signal::decl(&cfg),
        SignalsView::decl(&cfg),
        CallOutcome::decl(&cfg),
        CallRecord::decl(&cfg),
        ArrivalRecord::decl(&cfg),
        Withdrawable::decl(&cfg),
        CallAttemptView::decl(&cfg),
        ElsewhereCallView::decl(&cfg),
        ElsewhereArrivalView::decl(&cfg),
        ClaimView::decl(&cfg),
        CallListEntry::decl(&cfg),
        CallListView::decl(&cfg),
        ChecklistAction::decl(&cfg),
        ChecklistItem::decl(&cfg),
        ChecklistView::decl(&cfg),
        DesksView::decl(&cfg),
        DeskRow::decl(&cfg),
        PairingCode::decl(&cfg),
        PaymentMethod::decl(&cfg),
        ReceiptInput::decl(&cfg),
        ReceiptIssued::decl(&cfg),
        ReceiptPatient::decl(&cfg),
        ReceiptKind::decl(&cfg),
        ReceiptView::decl(&cfg),
        MethodTotal::decl(&cfg),
        DaySummary::decl(&cfg),
        DeskTotal::decl(&cfg),
        StaffTotal::decl(&cfg),
        LedgerView::decl(&cfg),
        ReportKind::decl(&cfg),
        DrillEnd::decl(&cfg),
        OpKind::decl(&cfg),
        OpState::decl(&cfg),
        OpAction::decl(&cfg),
        Resolution::decl(&cfg),
        OutboxCounts::decl(&cfg),
        BookingState::decl(&cfg),
        SlotView::decl(&cfg),
        PauseView::decl(&cfg),
        ResumeView::decl(&cfg),
        BookingView::decl(&cfg),
        AppointmentSide::decl(&cfg),
        OpView::decl(&cfg),
        SyncGroup::decl(&cfg),
        SyncView::decl(&cfg),
        ReportSummary::decl(&cfg),
        ReportCall::decl(&cfg),
        ReportBooking::decl(&cfg),
        IncidentReport::decl(&cfg),
        ReportList::decl(&cfg),
        Printout::decl(&cfg),
        PrintRequest::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from Tsunagi's Rust types (src-tauri/src/bindings.rs). Do not edit:\n\
         // UPDATE_BINDINGS=1 cargo test -p tsunagi --lib bindings\n",
    );
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(decl.trim());
        out.push('\n');
    }
    // Rules the UI applies, from core, so they cannot drift apart.
    let quoted = |codes: &[ErrorCode]| -> String {
        codes
            .iter()
            .map(|c| format!("  '{c}',\n"))
            .collect::<String>()
    };
    out.push_str(&format!(
        "\n/** Every error code core and the shell send; each has a text in both languages. */\n\
         export const ERROR_CODES = [\n{}] as const;\n\
         export type ErrorCode = (typeof ERROR_CODES)[number];\n",
        quoted(ErrorCode::ALL)
    ));
    out.push_str(&format!(
        "\n/** Errors that mean the database key is lost: only these offer a fresh start. */\n\
         export const KEY_LOSS_CODES: readonly ErrorCode[] = [\n{}];\n",
        quoted(&tsunagi_core::desk::KEY_LOSS_CODES)
    ));
    out.push_str(&format!(
        "\n/** The longest staff name the desk accepts. */\nexport const STAFF_NAME_MAX = {};\n",
        tsunagi_core::desk::STAFF_NAME_MAX
    ));
    out.push_str(&format!(
        "\n/** How long the desk offers 元に戻す after an outcome or a check-in, in seconds. */\n\
         export const UNDO_SECONDS = {};\n",
        tsunagi_core::calls::UNDO_SECONDS
    ));
    out
}

/// The commands the shell registers and the ones `ui/src/lib/api.ts` calls are the same
/// set: a command renamed or dropped on one side fails here, not in a clinic.
#[test]
fn the_ui_calls_exactly_the_commands_the_shell_registers() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src-tauri/src/lib.rs")).unwrap();
    let handlers = lib
        .split("generate_handler![")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("the handler list in lib.rs");
    let registered: std::collections::BTreeSet<&str> = handlers
        .split(',')
        .filter_map(|h| h.trim().strip_prefix("commands::"))
        // Test-only: the privacy scan crashes the window on purpose through WebDriver.
        .filter(|h| *h != "debug_panic")
        .collect();
    let api = std::fs::read_to_string(root.join("ui/src/lib/api.ts")).unwrap();
    let called: std::collections::BTreeSet<&str> = api
        .split(">('")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .collect();
    assert!(
        registered.len() > 30,
        "the handler list was read: {registered:?}"
    );
    assert_eq!(registered, called);
    for (name, value) in [
        ("DESK_EVENT", crate::events::DESK_EVENT),
        ("LINE_EVENT", crate::events::LINE_EVENT),
        ("SIGNALS_EVENT", crate::events::SIGNALS_EVENT),
        ("PHONE_EVENT", crate::events::PHONE_EVENT),
    ] {
        let line = format!("export const {name} = '{value}';");
        assert!(api.contains(&line), "api.ts: {line}");
    }
}

#[test]
fn bindings_match_the_rust_types() {
    let path = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test"),
    )
    .join("ui/src/lib/generated/types.ts");
    let fresh = typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "{} is stale; regenerate it with UPDATE_BINDINGS=1 cargo test -p tsunagi --lib bindings",
        path.display()
    );
}
