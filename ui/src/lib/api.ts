// The one typed door to the Rust side: every command and event the UI uses goes through here.
import { invoke } from '@tauri-apps/api/core';
import { KEY_LOSS_CODES } from './generated/types';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  ArrivalRecord,
  AuditCheck,
  BookingView,
  ChangesLeft,
  CallListView,
  CallRecord,
  ChecklistView,
  DeskEvent,
  DesksView,
  PairingCode,
  FreshStart,
  LedgerView,
  ReceiptInput,
  ReceiptIssued,
  ReceiptPatient,
  ErrorPayload,
  ImportResult,
  CsvColumns,
  CsvPreview,
  SavedMapping,
  LineView,
  MirrorStatus,
  OpAction,
  Settings,
  SettingsChange,
  SignalsView,
  SourceSetup,
  StaffView,
  SyncView,
  TodayView,
  Withdrawable,
  IncidentReport,
  Printout,
  ReportKind,
  ReportList,
  PrintRequest,
} from './generated/types';

export type { PrintRequest };

/** An error from the backend, with the code the UI translates. */
export class ApiError extends Error {
  readonly code: string;
  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.name = 'ApiError';
    this.code = payload.code;
  }
}

/** Any failure as an ApiError (a thrown non-API error becomes `internal.ui`). */
export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError({ code: 'internal.ui', message: String(e) });
}

export function isErrorPayload(value: unknown): value is ErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)['code'] === 'string' &&
    typeof (value as Record<string, unknown>)['message'] === 'string'
  );
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (isErrorPayload(e)) throw new ApiError(e);
    throw new ApiError({ code: 'internal.bridge', message: String(e) });
  }
}

/** A command whose request body is a file's bytes. */
async function raw<T>(
  command: string,
  bytes: Uint8Array,
  headers?: Record<string, string>,
): Promise<T> {
  try {
    return await invoke<T>(command, bytes, headers ? { headers } : undefined);
  } catch (e) {
    if (isErrorPayload(e)) throw new ApiError(e);
    throw new ApiError({ code: 'internal.bridge', message: String(e) });
  }
}

/** Codes for a database that cannot be opened for want of its key: only these may offer
 *  a fresh start (a locked file or an unreachable keychain must not cost the data). The
 *  list comes from core through the generated bindings. */
export { KEY_LOSS_CODES };

export function isKeyLoss(code: string): boolean {
  return (KEY_LOSS_CODES as readonly string[]).includes(code);
}

export const DESK_EVENT = 'desk-event';
export const LINE_EVENT = 'line-event';
export const SIGNALS_EVENT = 'signals-event';
export const PHONE_EVENT = 'phone-event';

export const api = {
  today: (date?: string) => call<TodayView>('today', { date: date ?? null }),
  status: () => call<MirrorStatus>('status'),
  /** Sends the queued changes (the outbox) first, then pulls. */
  syncNow: () => call<MirrorStatus>('sync_now'),
  syncView: () => call<SyncView>('sync_view'),
  resolveOp: (seq: number, action: OpAction, staff: string | null) =>
    call<SyncView>('resolve_op', { seq, action, staff }),
  /** Writes the outbox as CSV to the printouts folder; returns the file's path. */
  exportOutbox: () => call<string>('export_outbox'),
  settings: () => call<Settings>('settings'),
  changeSettings: (change: SettingsChange) => call<Settings>('change_settings', { change }),
  /** `confirmed`: switch even though changes wait for the current source (asked first). */
  configureSource: (setup: SourceSetup, confirmed = false) =>
    call<Settings>('configure_source', { setup, confirmed }),
  /** How many changes a switch to `setup` would leave waiting for the current source. */
  sourceSwitchCheck: (setup: SourceSetup) => call<ChangesLeft>('source_switch_check', { setup }),
  /** The file's bytes go as the raw request body; how to read its columns in a header. */
  importCsv: (bytes: Uint8Array, columns?: CsvColumns) => {
    const headers = columns
      ? { 'tsunagi-columns': encodeURIComponent(JSON.stringify(columns)) }
      : undefined;
    // prettier-ignore
    return raw<ImportResult>('import_csv', bytes, headers);
  },
  csvPreview: (bytes: Uint8Array) => raw<CsvPreview>('csv_preview', bytes),
  csvMappings: () => call<SavedMapping[]>('csv_mappings'),
  setCsvFolder: (path: string | null, mapping: string | null) =>
    call<Settings>('set_csv_folder', { path, mapping }),
  markPopulated: (rows: number, tab: string) => call<void>('mark_populated', { rows, tab }),
  callList: (tomorrowMorning: boolean) =>
    call<CallListView>('call_list', { tomorrowMorning }),
  recordCall: (record: CallRecord, tomorrowMorning: boolean) =>
    call<CallListView>('record_call', { record, tomorrowMorning }),
  recordArrival: (record: ArrivalRecord, tomorrowMorning: boolean) =>
    call<CallListView>('record_arrival', { record, tomorrowMorning }),
  /** 元に戻す: takes back a call's outcome or a check-in with what it queued. */
  /** Hands a number to the computer's phone app (fails where there is none). */
  dial: (number: string) => call<void>('dial', { number }),
  withdraw: (record: Withdrawable, staff: string | null, tomorrowMorning: boolean) =>
    call<CallListView>('withdraw', { record, staff, tomorrowMorning }),
  /** Where web booking stands (stopped from the desk or not). */
  bookingView: () => call<BookingView>('booking_view'),
  /** 「Web予約を止める」: from now to `until` (HH:MM today) or the end of the day. */
  pauseBooking: (until: string | null, staff: string | null) =>
    call<BookingView>('pause_booking', { until, staff }),
  /** 「Web予約を再開」: exactly the Slots the pause closed. */
  resumeBooking: (staff: string | null) => call<BookingView>('resume_booking', { staff }),
  /** After the line returned: booking stays stopped; the reminder ends. */
  keepBookingClosed: (staff: string | null) => call<BookingView>('keep_booking_closed', { staff }),
  bookingStoppedByHand: (staff: string | null) =>
    call<BookingView>('booking_stopped_by_hand', { staff }),
  bookingReopenedByHand: (staff: string | null) =>
    call<BookingView>('booking_reopened_by_hand', { staff }),
  openBookingAdmin: () => call<void>('open_booking_admin'),
  checklist: () => call<ChecklistView>('checklist'),
  tick: (step: number, done: boolean, staff: string | null) =>
    call<ChecklistView>('tick', { step, done, staff }),
  /** A call to this patient is being made here: the other desks show 「受付1で通話中」. */
  claimCall: (appointmentId: string, staff: string | null) =>
    call<void>('claim_call', { appointmentId, staff }),
  /** 他の端末: this desk's name and the paired desks. */
  desks: () => call<DesksView>('desks'),
  /** Show a code for another desk to type; how it ends comes as a `pairing-ended` event. */
  showPairingCode: (staff: string | null) => call<PairingCode>('show_pairing_code', { staff }),
  endPairingCode: () => call<void>('end_pairing_code'),
  pairWithCode: (address: string, code: string, staff: string | null) =>
    call<DesksView>('pair_with_code', { address, code, staff }),
  unpairDesk: (desk: string, staff: string | null) => call<DesksView>('unpair_desk', { desk, staff }),
  ledger: () => call<LedgerView>('ledger'),
  addReceipt: (input: ReceiptInput) => call<ReceiptIssued>('add_receipt', { input }),
  /** Today's patients (not cancelled) matching a name or kana, for a receipt. */
  receiptPatients: (query: string) => call<ReceiptPatient[]>('receipt_patients', { query }),
  voidReceipt: (number: string, reason: string, staff: string | null) =>
    call<LedgerView>('void_receipt', { number, reason, staff }),
  markReceiptEntered: (number: string, staff: string | null) =>
    call<LedgerView>('mark_receipt_entered', { number, staff }),
  exportReceipts: () => call<string>('export_receipts'),
  startDrill: (staff: string | null) => call<number>('start_drill', { staff }),
  endDrill: () => call<number>('end_drill'),
  activeDrill: () => call<number>('active_drill'),
  reports: () => call<ReportList>('reports'),
  report: (kind: ReportKind, id: number) => call<IncidentReport>('report', { kind, id }),
  printout: (request: PrintRequest) => call<Printout>('printout', { request }),
  writeDowntimeSheet: () => call<string>('write_downtime_sheet'),
  printWindow: () => call<void>('print_window'),
  copyText: (text: string) => call<void>('copy_text', { text }),
  lineStatus: () => call<LineView>('line_status'),
  /** The practice outage a drill shows (null without a drill). */
  drillLine: () => call<LineView | null>('drill_line'),
  probeNow: () => call<void>('probe_now'),
  signals: () => call<SignalsView>('signals'),
  /** Who is at the desk, and the names the switcher offers (most recently picked first). */
  staff: () => call<StaffView>('staff'),
  /** This person is at the desk now (a new name joins the list). */
  switchStaff: (name: string) => call<StaffView>('switch_staff', { name }),
  /** Take a name off the list; if it was at the desk, nobody is. */
  forgetStaff: (name: string) => call<StaffView>('forget_staff', { name }),
  verifyAudit: () => call<AuditCheck>('verify_audit'),
  /** Writes the audit trail as CSV to the printouts folder; returns the file's path. */
  exportAudit: () => call<string>('export_audit'),
  /** Key lost: keep the unreadable database aside and open a fresh one (reload after). */
  startFresh: () => call<FreshStart>('start_fresh'),
  markSignalsSeen: (until: string) => call<void>('mark_signals_seen', { until }),
  onLineEvent: (handler: (view: LineView) => void): Promise<UnlistenFn> =>
    listen<LineView>(LINE_EVENT, (e) => handler(e.payload)),
  onSignalsDue: (handler: () => void): Promise<UnlistenFn> => listen(SIGNALS_EVENT, () => handler()),
  /** A tel: link was followed: the window stayed; show the number. */
  onPhone: (handler: (number: string) => void): Promise<UnlistenFn> =>
    listen<string>(PHONE_EVENT, (e) => handler(e.payload)),
  onDeskEvent: (handler: (event: DeskEvent) => void): Promise<UnlistenFn> =>
    listen<DeskEvent>(DESK_EVENT, (e) => handler(e.payload)),
};
