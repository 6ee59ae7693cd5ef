//! The UI's commands: parse, call the core, map the error to `{code, message}`.

use chrono::NaiveDate;
use tauri::{AppHandle, Manager, State};
use tsunagi_core::audit::AuditCheck;
use tsunagi_core::booking::BookingView;
use tsunagi_core::calls::{ArrivalRecord, CallListView, CallRecord, Withdrawable};
use tsunagi_core::checklist::ChecklistView;
use tsunagi_core::csv_import::CsvPreview;
use tsunagi_core::desk::SignalsView;
use tsunagi_core::desk::{FreshStart, StaffView};
use tsunagi_core::monitor::advice::LineView;
use tsunagi_core::outbox::view::SyncView;
use tsunagi_core::outbox::OpAction;
use tsunagi_core::peers::{DesksView, PairingCode};
use tsunagi_core::printout::{PrintRequest, Printout};
use tsunagi_core::receipts::{LedgerView, ReceiptInput, ReceiptIssued, ReceiptPatient};
use tsunagi_core::report::{IncidentReport, ReportKind, ReportList};
use tsunagi_core::store::SavedMapping;
use tsunagi_core::view::{MirrorStatus, Settings, TodayView};
use tsunagi_core::{
    CsvColumns, ErrorCode, ErrorPayload, ImportResult, SettingsChange, SourceSetup,
};

use crate::state::{Shell, Startup};

type Answer<T> = Result<T, ErrorPayload>;

fn parse_date(date: Option<String>) -> Answer<Option<NaiveDate>> {
    date.map(|d| {
        NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
            ErrorPayload::new(
                ErrorCode::InputInvalid,
                format!("not a date (YYYY-MM-DD): {d:?}"),
            )
        })
    })
    .transpose()
}

/// A clinic day's appointments (today when no date is given).
#[tauri::command]
pub async fn today(shell: State<'_, Shell>, date: Option<String>) -> Answer<TodayView> {
    let desk = shell.ready()?;
    Ok(desk.today(parse_date(date)?).await?)
}

#[tauri::command]
pub async fn status(shell: State<'_, Shell>) -> Answer<MirrorStatus> {
    let desk = shell.ready()?;
    Ok(desk.status().await?)
}

/// Send what waits, then pull (the 最新に更新 button); both are also announced as events.
#[tauri::command]
pub async fn sync_now(shell: State<'_, Shell>) -> Answer<serde_json::Value> {
    // A `MirrorStatus`, from the runtime here or in the tray process.
    shell.sync_now().await
}

/// The reconciliation view (同期 tab).
#[tauri::command]
pub async fn sync_view(shell: State<'_, Shell>) -> Answer<SyncView> {
    let desk = shell.ready()?;
    Ok(desk.sync_view().await?)
}

/// A person's decision on a conflict or a rejection.
#[tauri::command]
pub async fn resolve_op(
    shell: State<'_, Shell>,
    seq: i64,
    action: OpAction,
    staff: Option<String>,
) -> Answer<SyncView> {
    let desk = shell.ready()?;
    // Kept or retried: the runtime's sender takes it at once.
    Ok(desk.resolve_op(seq, action, staff.as_deref()).await?)
}

/// The reconciliation view's ops as CSV in the printouts folder; returns the file's path.
#[tauri::command]
pub async fn export_outbox(shell: State<'_, Shell>) -> Answer<String> {
    let desk = shell.ready()?;
    Ok(desk.export_outbox().await?.display().to_string())
}

/// Reads the keychain (whether a credential is stored): on the blocking pool.
#[tauri::command]
pub async fn settings(shell: State<'_, Shell>) -> Answer<Settings> {
    let desk = shell.ready()?;
    tauri::async_runtime::spawn_blocking(move || desk.settings())
        .await
        .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))
}

/// Change language and/or start-at-login. The OS login item is changed first; the setting
/// is saved only when that worked, so the screen never claims what the OS does not do.
/// Both write files, so they run on the blocking pool.
#[tauri::command]
pub async fn change_settings(
    app: AppHandle,
    shell: State<'_, Shell>,
    change: SettingsChange,
) -> Answer<Settings> {
    let desk = shell.ready()?;
    let desk = desk.clone();
    let handle = app.clone();
    // A window of the tray process: the tray sets the login item (to itself) when it
    // sees the setting change.
    let window_only = shell.is_window_only();
    let settings = tauri::async_runtime::spawn_blocking(move || {
        if let Some(enabled) = change.autostart.filter(|_| !window_only) {
            if !crate::apply_autostart(&handle, enabled) {
                return Err(ErrorPayload::new(
                    ErrorCode::AutostartFailed,
                    "the OS did not accept the start-at-login change",
                ));
            }
        }
        Ok(desk.change_settings(change)?)
    })
    .await
    .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))??;
    // The tray follows the language through the runtime's config event.
    Ok(settings)
}

/// Set where appointments come from; the UI then pulls once to show whether it works.
/// `confirmed`: switch even though changes wait for the current source (the UI asked).
/// The window never sets plain http: that is the IT helper's, in config.toml or the CLI.
/// Writes the config and the keychain, so it runs on the blocking pool; the monitor
/// follows through the desk's config event.
#[tauri::command]
pub async fn configure_source(
    shell: State<'_, Shell>,
    setup: SourceSetup,
    confirmed: Option<bool>,
) -> Answer<Settings> {
    let desk = shell.ready()?;
    let options = tsunagi_core::desk::SourceOptions {
        allow_plain_http: None,
        confirmed: confirmed.unwrap_or(false),
    };
    Ok(
        tauri::async_runtime::spawn_blocking(move || desk.configure_source(setup, options))
            .await
            .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))??,
    )
}

/// How many changes made against the current source a switch to `setup` would leave
/// waiting for it, and where (the window asks before switching when there are any).
#[tauri::command]
pub async fn source_switch_check(
    shell: State<'_, Shell>,
    setup: SourceSetup,
) -> Answer<tsunagi_core::desk::ChangesLeft> {
    let desk = shell.ready()?;
    Ok(
        tauri::async_runtime::spawn_blocking(move || desk.changes_left_by(&setup))
            .await
            .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))??,
    )
}

/// How the line is, with what to tell the desk.
#[tauri::command]
pub async fn line_status(shell: State<'_, Shell>) -> Answer<serde_json::Value> {
    // A `LineView`, from the runtime here or in the tray process.
    shell.line().await
}

/// The practice outage a drill shows (null without a drill).
#[tauri::command]
pub async fn drill_line(shell: State<'_, Shell>) -> Answer<Option<LineView>> {
    let desk = shell.ready()?;
    Ok(desk.drill_line().await?)
}

/// Check the line again now (the diagnosis panel's button); the answer comes as an event
/// when something changed, and in `line_status` either way.
#[tauri::command]
pub async fn probe_now(shell: State<'_, Shell>) -> Answer<()> {
    shell.probe_now().await
}

/// Outages, flaps and unclean stops the desk has not seen yet.
#[tauri::command]
pub async fn signals(shell: State<'_, Shell>) -> Answer<SignalsView> {
    let desk = shell.ready()?;
    Ok(desk.signals().await?)
}

#[tauri::command]
pub async fn mark_signals_seen(shell: State<'_, Shell>, until: String) -> Answer<()> {
    let desk = shell.ready()?;
    Ok(desk.mark_signals_seen(&until).await?)
}

/// Import a CSV file: the request body is the file's bytes (read by the page from a file
/// input), so nothing but the chosen file is ever read. How its columns are read comes in
/// the `tsunagi-columns` header (a URI-encoded `CsvColumns`; none: by its header line).
#[tauri::command]
pub async fn import_csv(
    shell: State<'_, Shell>,
    request: tauri::ipc::Request<'_>,
) -> Answer<ImportResult> {
    let desk = shell.ready()?;
    let bytes = raw_file(&request)?;
    let columns = match request.headers().get(COLUMNS_HEADER) {
        None => CsvColumns::Auto,
        Some(value) => {
            let json = value
                .to_str()
                .ok()
                .and_then(|v| percent_encoding::percent_decode_str(v).decode_utf8().ok())
                .ok_or_else(|| invalid("the column mapping is not URI-encoded text"))?;
            serde_json::from_str(&json).map_err(|e| invalid(&format!("the column mapping: {e}")))?
        }
    };
    Ok(desk.import_csv_for_screen(bytes, columns).await?)
}

/// The header and first rows of a CSV file (the raw request body), for the screen where
/// staff say which column is which.
#[tauri::command]
pub async fn csv_preview(
    shell: State<'_, Shell>,
    request: tauri::ipc::Request<'_>,
) -> Answer<CsvPreview> {
    let desk = shell.ready()?;
    Ok(desk.csv_preview(raw_file(&request)?).await?)
}

/// The column mappings staff have saved.
#[tauri::command]
pub async fn csv_mappings(shell: State<'_, Shell>) -> Answer<Vec<SavedMapping>> {
    let desk = shell.ready()?;
    Ok(desk.csv_mappings().await?)
}

/// Watch a folder for the booking system's exports (none: stop), read through the saved
/// mapping `mapping` (none: by each file's header line).
#[tauri::command]
pub async fn set_csv_folder(
    shell: State<'_, Shell>,
    path: Option<String>,
    mapping: Option<String>,
) -> Answer<Settings> {
    let desk = shell.ready()?;
    Ok(desk.set_csv_folder(path, mapping).await?)
}

const COLUMNS_HEADER: &str = "tsunagi-columns";

fn invalid(message: &str) -> ErrorPayload {
    ErrorPayload::new(ErrorCode::InputInvalid, message)
}

fn raw_file(request: &tauri::ipc::Request<'_>) -> Answer<Vec<u8>> {
    match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => Ok(bytes.clone()),
        _ => Err(invalid("the file's bytes were expected")),
    }
}

/// The UI reports its first render with appointments on screen (the launch benchmark
/// reads this line).
#[tauri::command]
pub fn mark_populated(startup: State<'_, Startup>, rows: u32, tab: String) {
    if let Some(elapsed) = startup.first_report() {
        // The tab's name is one of the page's own (no patient data); cut short regardless.
        let tab: String = tab.chars().take(16).collect();
        tracing::info!(
            rows,
            tab,
            elapsed_ms = elapsed.as_millis() as u64,
            "window populated"
        );
    }
}

/// The call list (from now to the end of the day; with tomorrow morning on request).
#[tauri::command]
pub async fn call_list(shell: State<'_, Shell>, tomorrow_morning: bool) -> Answer<CallListView> {
    let desk = shell.ready()?;
    Ok(desk.call_list(tomorrow_morning).await?)
}

/// Record one call; the answer is the refreshed list.
#[tauri::command]
pub async fn record_call(
    shell: State<'_, Shell>,
    record: CallRecord,
    tomorrow_morning: bool,
) -> Answer<CallListView> {
    let desk = shell.ready()?;
    desk.record_call(record).await?;
    Ok(desk.call_list(tomorrow_morning).await?)
}

/// Check a patient in at the desk; the answer is the refreshed list.
#[tauri::command]
pub async fn record_arrival(
    shell: State<'_, Shell>,
    record: ArrivalRecord,
    tomorrow_morning: bool,
) -> Answer<CallListView> {
    let desk = shell.ready()?;
    desk.record_arrival(record).await?;
    Ok(desk.call_list(tomorrow_morning).await?)
}

/// Take back a call's outcome or a check-in (元に戻す); the answer is the refreshed list.
#[tauri::command]
pub async fn withdraw(
    shell: State<'_, Shell>,
    record: Withdrawable,
    staff: Option<String>,
    tomorrow_morning: bool,
) -> Answer<CallListView> {
    let desk = shell.ready()?;
    desk.withdraw(record, staff.as_deref()).await?;
    Ok(desk.call_list(tomorrow_morning).await?)
}

/// Where web booking stands (stopped from the desk or not, and what the server did).
#[tauri::command]
pub async fn booking_view(shell: State<'_, Shell>) -> Answer<BookingView> {
    Ok(shell.ready()?.booking_view().await?)
}

/// 「Web予約を止める」: queued first in line for the clinic's system.
#[tauri::command]
pub async fn pause_booking(
    shell: State<'_, Shell>,
    until: Option<String>,
    staff: Option<String>,
) -> Answer<BookingView> {
    let desk = shell.ready()?;
    Ok(desk
        .pause_booking(until.as_deref(), staff.as_deref())
        .await?)
}

/// 「止めました」: staff stopped web booking on the booking service's own site.
#[tauri::command]
pub async fn booking_stopped_by_hand(
    shell: State<'_, Shell>,
    staff: Option<String>,
) -> Answer<BookingView> {
    Ok(shell
        .ready()?
        .booking_stopped_by_hand(staff.as_deref())
        .await?)
}

/// 「再開しました」: staff reopened web booking on the booking service's own site.
#[tauri::command]
pub async fn booking_reopened_by_hand(
    shell: State<'_, Shell>,
    staff: Option<String>,
) -> Answer<BookingView> {
    Ok(shell
        .ready()?
        .booking_reopened_by_hand(staff.as_deref())
        .await?)
}

/// 「止めたままにする」: the reminder to reopen web booking ends.
#[tauri::command]
pub async fn keep_booking_closed(
    shell: State<'_, Shell>,
    staff: Option<String>,
) -> Answer<BookingView> {
    Ok(shell.ready()?.keep_booking_closed(staff.as_deref()).await?)
}

/// 「Web予約を再開」.
#[tauri::command]
pub async fn resume_booking(shell: State<'_, Shell>, staff: Option<String>) -> Answer<BookingView> {
    Ok(shell.ready()?.resume_booking(staff.as_deref()).await?)
}

#[tauri::command]
pub async fn checklist(shell: State<'_, Shell>) -> Answer<ChecklistView> {
    let desk = shell.ready()?;
    Ok(desk.checklist().await?)
}

#[tauri::command]
pub async fn tick(
    shell: State<'_, Shell>,
    step: u32,
    done: bool,
    staff: Option<String>,
) -> Answer<ChecklistView> {
    let desk = shell.ready()?;
    Ok(desk.tick(step, done, staff.as_deref()).await?)
}

/// A call to this patient is being made here now: the other desks show 「受付1で通話中」.
#[tauri::command]
pub async fn claim_call(
    shell: State<'_, Shell>,
    appointment_id: String,
    staff: Option<String>,
) -> Answer<()> {
    let desk = shell.ready()?;
    Ok(desk.claim_call(&appointment_id, staff.as_deref()).await?)
}

/// The 他の端末 screen: this desk's name and the paired desks.
#[tauri::command]
pub async fn desks(shell: State<'_, Shell>) -> Answer<DesksView> {
    let desk = shell.ready()?;
    Ok(desk.desks_view().await?)
}

/// Show a pairing code; how it ends comes as a desk event (`pairing-ended`).
#[tauri::command]
pub async fn show_pairing_code(
    shell: State<'_, Shell>,
    staff: Option<String>,
) -> Answer<PairingCode> {
    let desk = shell.ready()?;
    Ok(desk.show_pairing_code(staff.as_deref()).await?)
}

/// Close the pairing code shown.
#[tauri::command]
pub async fn end_pairing_code(shell: State<'_, Shell>) -> Answer<()> {
    shell.ready()?.end_pairing_code();
    Ok(())
}

/// Type the code another desk shows (its address as it shows it).
#[tauri::command]
pub async fn pair_with_code(
    shell: State<'_, Shell>,
    address: String,
    code: String,
    staff: Option<String>,
) -> Answer<DesksView> {
    let desk = shell.ready()?;
    desk.pair_by_typing(address.trim(), &code, staff.as_deref())
        .await?;
    Ok(desk.desks_view().await?)
}

/// Stop accepting a desk (lost, stolen, replaced); every desk the news reaches does too.
#[tauri::command]
pub async fn unpair_desk(
    shell: State<'_, Shell>,
    desk: String,
    staff: Option<String>,
) -> Answer<DesksView> {
    let this = shell.ready()?;
    this.unpair(&desk, staff.as_deref()).await?;
    Ok(this.desks_view().await?)
}

#[tauri::command]
pub async fn ledger(shell: State<'_, Shell>) -> Answer<LedgerView> {
    let desk = shell.ready()?;
    Ok(desk.ledger().await?)
}

/// Record a payment; the answer is the refreshed ledger.
#[tauri::command]
pub async fn add_receipt(shell: State<'_, Shell>, input: ReceiptInput) -> Answer<ReceiptIssued> {
    let desk = shell.ready()?;
    let receipt = desk.add_receipt(input).await?;
    Ok(ReceiptIssued {
        number: receipt.number,
        ledger: desk.ledger().await?,
    })
}

/// Today's patients a receipt can be for, matching what was typed (name or kana).
#[tauri::command]
pub async fn receipt_patients(
    shell: State<'_, Shell>,
    query: String,
) -> Answer<Vec<ReceiptPatient>> {
    let desk = shell.ready()?;
    Ok(desk.receipt_patients(&query).await?)
}

#[tauri::command]
pub async fn void_receipt(
    shell: State<'_, Shell>,
    number: String,
    reason: String,
    staff: Option<String>,
) -> Answer<LedgerView> {
    let desk = shell.ready()?;
    desk.void_receipt(&number, &reason, staff.as_deref())
        .await?;
    Ok(desk.ledger().await?)
}

/// Mark a receipt as entered in the billing system; the answer is the refreshed ledger.
#[tauri::command]
pub async fn mark_receipt_entered(
    shell: State<'_, Shell>,
    number: String,
    staff: Option<String>,
) -> Answer<LedgerView> {
    let desk = shell.ready()?;
    desk.mark_receipt_entered(&number, staff.as_deref()).await?;
    Ok(desk.ledger().await?)
}

/// Every receipt as CSV in the printouts folder; the answer is the file's path.
#[tauri::command]
pub async fn export_receipts(shell: State<'_, Shell>) -> Answer<String> {
    let desk = shell.ready()?;
    Ok(desk.export_receipts().await?.display().to_string())
}

/// Start a drill (訓練); the window and the tray hear it as a desk event.
#[tauri::command]
pub async fn start_drill(shell: State<'_, Shell>, staff: Option<String>) -> Answer<i64> {
    let desk = shell.ready()?;
    Ok(desk.start_drill(staff.as_deref()).await?)
}

/// The drill in progress (0: none).
#[tauri::command]
pub async fn active_drill(shell: State<'_, Shell>) -> Answer<i64> {
    let desk = shell.ready()?;
    Ok(desk.active_drill().await?)
}

/// End the drill; the answer is its id (its report is archived under it).
#[tauri::command]
pub async fn end_drill(shell: State<'_, Shell>) -> Answer<i64> {
    let desk = shell.ready()?;
    Ok(desk.end_drill().await?)
}

#[tauri::command]
pub async fn reports(shell: State<'_, Shell>) -> Answer<ReportList> {
    let desk = shell.ready()?;
    Ok(desk.reports().await?)
}

#[tauri::command]
pub async fn report(shell: State<'_, Shell>, kind: ReportKind, id: i64) -> Answer<IncidentReport> {
    let desk = shell.ready()?;
    Ok(desk.report(kind, id).await?)
}

/// What the print view shows: an outage or drill report, a 仮領収書, or the downtime sheet.
#[tauri::command]
pub async fn printout(shell: State<'_, Shell>, request: PrintRequest) -> Answer<Printout> {
    let desk = shell.ready()?;
    Ok(desk.printout(request).await?)
}

/// Write the downtime sheet to the printouts folder now; the answer is its path.
#[tauri::command]
pub async fn write_downtime_sheet(shell: State<'_, Shell>) -> Answer<String> {
    let desk = shell.ready()?;
    Ok(desk.write_downtime_sheet().await?.display().to_string())
}

/// Open the OS print dialog for the window (its print styles show only the print view;
/// the dialog also saves as PDF).
#[tauri::command]
pub fn print_window(window: tauri::WebviewWindow) -> Answer<()> {
    window
        .print()
        .map_err(|e| ErrorPayload::new(ErrorCode::PrintFailed, e.to_string()))
}

/// Put text on the clipboard (the call script's copy button).
#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> Answer<()> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    app.clipboard()
        .write_text(text)
        .map_err(|e| ErrorPayload::new(ErrorCode::ClipboardFailed, e.to_string()))
}

/// Hand a phone number to the computer's phone app (Phone Link, FaceTime, a softphone), as
/// the OS's own `tel:` handler. Where there is none, the number stays on screen to dial by
/// hand (the error says so).
/// The OS call may wait for the handler to start: on the blocking pool, never on the
/// window's thread.
#[tauri::command]
pub async fn dial(app: AppHandle, number: String) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt;
    let uri = tsunagi_core::navigation::tel_uri(&number)
        .ok_or_else(|| ErrorPayload::new(ErrorCode::DialFailed, "not a phone number"))?;
    tauri::async_runtime::spawn_blocking(move || app.opener().open_url(uri, None::<&str>))
        .await
        .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))?
        .map_err(|e| ErrorPayload::new(ErrorCode::DialFailed, e.to_string()))
}

/// The booking card's admin page in the OS browser: only the address the owner saved,
/// never one the page names.
#[tauri::command]
pub async fn open_booking_admin(app: AppHandle, shell: State<'_, Shell>) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt;
    let url = shell
        .ready()?
        .config()
        .booking_card
        .and_then(|c| c.admin_url)
        .ok_or_else(|| {
            ErrorPayload::new(ErrorCode::BookingOpenFailed, "no admin page is written")
        })?;
    tauri::async_runtime::spawn_blocking(move || app.opener().open_url(url, None::<&str>))
        .await
        .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))?
        .map_err(|e| ErrorPayload::new(ErrorCode::BookingOpenFailed, e.to_string()))
}

/// Who is at the desk, and the names the quick switcher offers.
#[tauri::command]
pub async fn staff(shell: State<'_, Shell>) -> Answer<StaffView> {
    let desk = shell.ready()?;
    Ok(desk.staff_view().await?)
}

/// The quick switcher: this person is at the desk now (a new name joins the list).
#[tauri::command]
pub async fn switch_staff(shell: State<'_, Shell>, name: String) -> Answer<StaffView> {
    let desk = shell.ready()?;
    Ok(desk.switch_staff(&name).await?)
}

#[tauri::command]
pub async fn forget_staff(shell: State<'_, Shell>, name: String) -> Answer<StaffView> {
    let desk = shell.ready()?;
    Ok(desk.forget_staff(&name).await?)
}

/// Check the audit trail's chain.
#[tauri::command]
pub async fn verify_audit(shell: State<'_, Shell>) -> Answer<AuditCheck> {
    let desk = shell.ready()?;
    Ok(desk.verify_audit(None).await?)
}

/// The audit trail as CSV in the printouts folder; the answer is the file's path.
#[tauri::command]
pub async fn export_audit(shell: State<'_, Shell>) -> Answer<String> {
    let desk = shell.ready()?;
    Ok(desk.export_audit(None).await?.display().to_string())
}

/// Key lost: keep the unreadable database aside and start with a fresh mirror; the window
/// reloads afterwards and finds the desk ready.
#[tauri::command]
pub async fn start_fresh(app: AppHandle, shell: State<'_, Shell>) -> Answer<FreshStart> {
    let fresh = {
        let app = app.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let shell = app.state::<Shell>();
            shell.start_fresh()
        })
        .await
        .map_err(|_| ErrorPayload::from(tsunagi_core::CoreError::Stopped))??
    };
    crate::attach(&app, &shell);
    Ok(fresh)
}

/// Crash on purpose (only when the app was started with TSUNAGI_DEBUG_PANIC=1): the
/// privacy scan checks what a crash in the window prints.
#[tauri::command]
pub async fn debug_panic(shell: State<'_, Shell>) -> Answer<()> {
    if std::env::var(tsunagi_core::crash::DEBUG_PANIC_ENV).as_deref() != Ok("1") {
        return Err(ErrorPayload::new(ErrorCode::InputInvalid, "not available"));
    }
    let desk = shell.ready()?;
    Ok(tsunagi_core::crash::debug_panic(&desk).await?)
}
