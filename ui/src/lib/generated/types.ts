// Generated from Tsunagi's Rust types (src-tauri/src/bindings.rs). Do not edit:
// UPDATE_BINDINGS=1 cargo test -p tsunagi --lib bindings

export type ErrorPayload = { code: ErrorCode | (string & {}), message: string, };

export type Language = "ja" | "en";

export type SourceKind = "demo" | "fhir" | "csv" | "orca";

export type AppointmentStatus = "proposed" | "pending" | "booked" | "arrived" | "fulfilled" | "cancelled" | "noshow" | "entered-in-error" | "checked-in" | "waitlist";

export type UpstreamNews = "new" | "changed";

export type Phone = { 
/**
 * Human form, e.g. `090-1234-5678` (full-width folded to half-width).
 */
display: string, 
/**
 * `+819012345678`, or null when the number is not a valid Japanese/international number.
 */
e164: string | null, };

export type PatientView = { id: string, name: string, kana: string | null, phones: Array<Phone>, };

export type AppointmentView = { id: string, 
/**
 * The upstream's version of the appointment (FHIR versionId), when it has one.
 */
version: string | null, 
/**
 * RFC 3339 with the clinic's offset.
 */
start: string | null, end: string | null, 
/**
 * `HH:MM` on the clinic's wall clock.
 */
start_time: string | null, end_time: string | null, status: AppointmentStatus, reason: string | null, patient: PatientView | null, };

export type PullView = { finished_at: string, ok: boolean, error: ErrorPayload | null, 
/**
 * For a successful pull: whether anything changed upstream.
 */
changed: boolean | null, };

export type FolderView = { file_name: string, 
/**
 * The file's own time (the data's age): `HH:MM` today at the clinic, else `M/D HH:MM`.
 */
modified_label: string, 
/**
 * Imported: how many appointments. None: refused, with `problems`.
 */
imported: number | null, problems: Array<ImportProblem>, };

export type MirrorStatus = { 
/**
 * The upstream the config names.
 */
configured_source: SourceKind, 
/**
 * The upstream the mirror came from; null before the first complete pull.
 */
mirrored_source: string | null, is_demo: boolean, 
/**
 * The FHIR server's address when that is the source.
 */
upstream: string | null, clinic_name: string | null, time_zone: string, 
/**
 * When the last complete pull finished (RFC 3339, clinic offset).
 */
synced_at: string | null, 
/**
 * `HH:MM` when that was today at the clinic, else `M/D HH:MM`.
 */
synced_at_label: string | null, appointments: number, patients: number, last_pull: PullView | null, 
/**
 * The watched export folder's last file, while a folder is set.
 */
folder: FolderView | null, };

export type TodayView = { 
/**
 * `YYYY-MM-DD` at the clinic.
 */
date: string, 
/**
 * 0 = Sunday … 6 = Saturday.
 */
weekday: number, appointments: Array<AppointmentView>, status: MirrorStatus, };

export type FhirAuthKind = "none" | "bearer" | "basic";

export type FhirSettings = { base_url: string, auth: FhirAuthKind, username: string | null, 
/**
 * Whether the OS keychain holds a token or password for it.
 */
has_credential: boolean, allow_plain_http: boolean, };

export type OrcaSettings = { base_url: string, username: string, 
/**
 * Whether the OS keychain holds the password for it.
 */
has_credential: boolean, };

export type RetentionConfig = { 
/**
 * Mirror rows of days before today are kept this many days (1: from yesterday on).
 */
mirror_days_back: number, 
/**
 * Outages (with their calls, check-ins and checklist) and drills are kept this many
 * days after they ended and everything of them reached the upstream.
 */
incidents_days: number, 
/**
 * Receipts are kept this many days after they (and their void) reached the upstream.
 */
receipts_days: number, };

export type Metered = "yes" | "no" | "unknown";

export type BookingCard = { 
/**
 * The booking service, e.g. 「EPARKクリニック」.
 */
vendor: string, 
/**
 * Its admin page (http or https), opened in the browser or typed on a phone.
 */
admin_url?: string, 
/**
 * The steps to stop web booking there, one per line.
 */
stop_steps: string, 
/**
 * The steps to reopen it.
 */
reopen_steps: string, };

export type CsvFolderSettings = { path: string, 
/**
 * The saved mapping its files are read through (none: by each file's header line).
 */
mapping: string | null, };

export type Settings = { language: Language, autostart: boolean, clinic_name: string | null, time_zone: string, source: SourceKind, days_ahead: number, 
/**
 * The FHIR server setup, kept even while another source is in use.
 */
fhir: FhirSettings | null, 
/**
 * The ORCA setup, kept even while another source is in use.
 */
orca: OrcaSettings | null, data_dir: string, 
/**
 * The call script as staff see it before filling (the built-in one unless changed).
 */
call_script: string, call_script_is_default: boolean, 
/**
 * Where downtime sheets and exports are written.
 */
printouts_folder: string, 
/**
 * When the downtime sheet is written each day (`HH:MM`).
 */
sheet_times: Array<string>, 
/**
 * How long data stays on the desk (set in config.toml).
 */
retention: RetentionConfig, 
/**
 * How staff stop and reopen web booking by hand (a source with no API).
 */
booking_card: BookingCard | null, 
/**
 * Spend little on a backup or metered line (the owner may switch it off).
 */
frugal: boolean, 
/**
 * The watched export folder, if one is set.
 */
csv_folder: CsvFolderSettings | null, };

export type StaffView = { current: string | null, 
/**
 * Most recently picked first.
 */
names: Array<string>, };

export type AuditProblem = { "kind": "edited", seq: number, } | { "kind": "missing", from: number, to: number, } | { "kind": "out_of_order", seq: number, } | { "kind": "tail_missing", last_seq: number, head_seq: number, } | { "kind": "head_mismatch", last_seq: number, } | { "kind": "export_row_missing", seq: number, } | { "kind": "export_row_changed", seq: number, } | { "kind": "export_invalid", seq: number, };

export type AuditCheck = { rows: number, 
/**
 * The last row's hash: write it down (or keep an export) to pin today's trail.
 */
head: string | null, problems: Array<AuditProblem>, 
/**
 * Checked against an earlier export: how many of its rows.
 */
against: number | null, };

export type FreshStart = { 
/**
 * The unreadable database, moved here untouched (with its -wal/-shm files if any).
 */
kept_at: string, 
/**
 * Why it could not be opened (`store.key_missing` or `store.not_decryptable`).
 */
reason: ErrorCode, 
/**
 * The keychain entry that did not open it, kept under this account name.
 */
old_key_account: string | null, };

export type SettingsChange = { language?: Language, autostart?: boolean, 
/**
 * The call script; empty goes back to the built-in one.
 */
call_script?: string, 
/**
 * How to stop and reopen web booking by hand; every field empty removes it.
 */
booking_card?: BookingCard, 
/**
 * Spend little on a backup or metered line (`monitor.frugal`).
 */
frugal?: boolean, };

export type SourceSetup = { "kind": "demo" } | { "kind": "csv" } | { "kind": "fhir", base_url: string, auth: FhirAuthKind, username?: string, 
/**
 * The bearer token or password; absent keeps the one already in the keychain for
 * this same base URL (a new URL needs its own).
 */
secret?: string, } | { "kind": "orca", base_url: string, username: string, 
/**
 * The password; absent keeps the one already in the keychain for this URL.
 */
secret?: string, };

export type ChangesLeft = { waiting: number, 
/**
 * The current upstream: `demo`, `csv` or its base URL.
 */
upstream: string, };

export type RequiredColumn = "date" | "time" | "name";

export type Field = "id" | "date" | "time" | "date_time" | "end" | "name" | "kana" | "phone" | "reason" | "status";

export type MappedColumn = { index: number, header: string, field: Field, };

export type ColumnMapping = { columns: Array<MappedColumn>, };

export type CsvColumns = { "kind": "auto" } | { "kind": "saved", name: string, } | { "kind": "new", name: string, mapping: ColumnMapping, };

export type CsvPreview = { header: Array<string>, 
/**
 * The first data rows (at most [`PREVIEW_ROWS`]), as the file has them.
 */
rows: Array<Array<string>>, 
/**
 * What Tsunagi takes each column for, by its name alone.
 */
guess: Array<Field | null>, };

export type SavedMapping = { name: string, header: Array<string>, mapping: ColumnMapping, saved_at: string, };

export type ProblemKind = { "kind": "encoding" } | { "kind": "too_large" } | { "kind": "too_many_rows" } | { "kind": "no_header" } | { "kind": "missing_column", column: RequiredColumn, } | { "kind": "mapped_column_missing", header: string, } | { "kind": "field_twice", field: Field, } | { "kind": "no_appointments" } | { "kind": "bad_csv_line" } | { "kind": "bad_date" } | { "kind": "bad_time" } | { "kind": "bad_date_time" } | { "kind": "bad_end" } | { "kind": "empty_name" } | { "kind": "bad_status" } | { "kind": "duplicate", first_line: number, };

export type ImportProblem = { 
/**
 * 1-based line in the file; 0 for the file as a whole.
 */
line: number, problem: ProblemKind, 
/**
 * The same in English (the CLI prints it).
 */
message: string, };

export type ImportReport = { appointments: number, patients: number, 
/**
 * `YYYY-MM-DD`: the clinic days the file covered (now exactly its rows).
 */
first_date: string, last_date: string, 
/**
 * The install was on the demo and now uses CSV imports as its source.
 */
switched_to_csv: boolean, 
/**
 * FHIR is the source: its next successful pull replaces this import.
 */
upstream_replaces_it: boolean, 
/**
 * The saved column mapping the file was read through (none: by the column names
 * Tsunagi knows).
 */
mapping: string | null, };

export type ImportResult = { report: ImportReport | null, problems: Array<ImportProblem>, };

export type DeskEvent = { "kind": "mirror-updated", status: MirrorStatus, } | { "kind": "pull-failed", error: ErrorPayload, status: MirrorStatus, } | { "kind": "drill-changed", drill: number, ended_by: DrillEnd | null, } | { "kind": "config-changed", } | { "kind": "outbox-changed", counts: OutboxCounts, } | { "kind": "shared-work", } | { "kind": "folder-read", view: FolderView, status: MirrorStatus, } | { "kind": "pairing-ended", paired: string | null, error: ErrorPayload | null, };

export type NetState = "online" | "degraded" | "offline";

export type Cause = "local_link" | "gateway" | "internet" | "dns" | "upstream" | "captive" | "loss";

export type ProbeKind = "link" | "gateway" | "dns" | "endpoint" | "upstream";

export type Failure = "timeout" | "refused" | "unreachable" | "name_not_resolved" | "wrong_content" | "status" | "tls" | "no_link" | "other";

export type ProbeResult = { kind: ProbeKind, target: string, ok: boolean, failure: Failure | null, 
/**
 * The HTTP status, when one came back.
 */
status: number | null, millis: number, };

export type NetPath = { gateway: string | null, local_address: string | null, };

export type MonitorStatus = { state: NetState, cause: Cause | null, 
/**
 * When the current outage started (RFC 3339, UTC); null while online.
 */
since: string | null, 
/**
 * The open incident, if any.
 */
incident_id: bigint | null, 
/**
 * When the last round finished.
 */
checked_at: string | null, 
/**
 * What the last round found (for the diagnosis panel).
 */
probes: Array<ProbeResult>, 
/**
 * Connectivity came back through another route than the one at start.
 */
backup_line: boolean, path: NetPath | null, 
/**
 * This monitor records the install's incidents (one recorder per install; another
 * process that watches the same install only watches).
 */
recording: boolean, 
/**
 * What the OS says of the connection in use (a tethered phone is metered).
 */
metered: Metered, 
/**
 * Spending little now: the line is up on a backup or metered route, and frugal mode
 * is on (`monitor.frugal`).
 */
frugal: boolean, 
/**
 * Bytes through the route's adapter since frugal began: everything on it, not only
 * Tsunagi's (what the data plan counts). `None` when not frugal, or the OS does not
 * say.
 */
frugal_bytes: number | null, };

export type Advice = { headline: string, 
/**
 * What to try, most likely fix first.
 */
steps: Array<string>, };

export type LineView = { status: MonitorStatus, advice: Advice, 
/**
 * Set on the event that announces a transition (state before it).
 */
changed_from: NetState | null, 
/**
 * When the last round finished, `HH:MM:SS` on the clinic's clock.
 */
checked_at_label: string | null, 
/**
 * A drill's practice outage, not the line (the window marks it 訓練).
 */
drill: boolean, };

export type SignalKind = "outages" | "flaps" | "unclean_stop";

export type Signal = { kind: SignalKind, count: number, 
/**
 * RFC 3339, UTC.
 */
from: string, to: string | null, 
/**
 * The line as the desk reads it, in the desk's language.
 */
text: string, };

export type SignalsView = { signals: Array<Signal>, 
/**
 * Pass back to `mark_signals_seen` so later events stay unseen.
 */
until: string, };

export type CallOutcome = "cancelled" | "rescheduled" | "coming" | "no_answer" | "left_message" | "wrong_number";

export type CallRecord = { appointment_id: string, outcome: CallOutcome, 
/**
 * Rescheduled: the new start, `YYYY-MM-DDTHH:MM` on the clinic's clock.
 */
new_start?: string, note?: string, staff?: string, 
/**
 * The person confirmed that this outcome replaces an earlier one it contradicts (a
 * cancellation, a check-in): that one is withdrawn in the same transaction.
 */
replace_earlier?: boolean, };

export type ArrivalRecord = { appointment_id: string, staff?: string, 
/**
 * The person confirmed checking in a patient whose appointment is another day.
 */
other_day_ok?: boolean, 
/**
 * The person confirmed this replaces a cancellation recorded here.
 */
replace_earlier?: boolean, };

export type Withdrawable = { "kind": "call", "id": bigint } | { "kind": "arrival", "id": bigint };

export type CallAttemptView = { id: bigint, outcome: CallOutcome, 
/**
 * `HH:MM` on the clinic's clock.
 */
at_label: string, at: string, 
/**
 * Rescheduled: the new start, `M/D HH:MM` on the clinic's clock.
 */
new_start_label: string | null, 
/**
 * No answer: when to try again, `HH:MM`.
 */
retry_at_label: string | null, staff: string | null, note: string | null, };

export type ElsewhereCallView = { 
/**
 * The desk's name (受付1).
 */
desk: string, outcome: CallOutcome, 
/**
 * `HH:MM` on the clinic's clock.
 */
at_label: string, 
/**
 * Rescheduled: the new start, `M/D HH:MM`.
 */
new_start_label: string | null, staff: string | null, };

export type ElsewhereArrivalView = { desk: string, 
/**
 * `HH:MM` on the clinic's clock.
 */
at_label: string, staff: string | null, };

export type ClaimView = { desk: string, staff: string | null, };

export type CallListEntry = { appointment_id: string, 
/**
 * `HH:MM` on the clinic's clock (with `M/D ` when not today): the slot the visit was
 * booked at today, also after a call moved it.
 */
time_label: string, 
/**
 * That slot (RFC 3339): the list's order.
 */
slot: string, 
/**
 * Moved by a call at this desk: the new start, `M/D HH:MM`.
 */
moved_to_label: string | null, 
/**
 * The current start on the clinic's clock, `YYYY-MM-DDTHH:MM` (a reschedule starts
 * from it).
 */
start_local: string, start: string, reason: string | null, status: AppointmentStatus, patient: PatientView | null, 
/**
 * Oldest first.
 */
attempts: Array<CallAttemptView>, reached: boolean, 
/**
 * A no-answer whose retry time has come.
 */
retry_due: boolean, 
/**
 * The call script with this patient's name and time filled in.
 */
script: string, 
/**
 * Checked in at the desk (受付), `HH:MM`.
 */
arrived_at_label: string | null, 
/**
 * That check-in, to take it back.
 */
arrival_id: bigint | null, 
/**
 * The appointment is on another day than today (a check-in asks first).
 */
other_day: boolean, 
/**
 * Booked (新規) or changed (変更) on the clinic's system during the last outage.
 */
news: UpstreamNews | null, 
/**
 * Calls made to this patient at the clinic's other desks (oldest first).
 */
elsewhere: Array<ElsewhereCallView>, 
/**
 * Checked in at another desk: which, when, by whom.
 */
arrived_elsewhere: ElsewhereArrivalView | null, 
/**
 * Someone at another desk is on the phone with this patient now (「受付2で通話中」).
 */
claimed: ClaimView | null, };

export type CallListView = { entries: Array<CallListEntry>, reached: number, total: number, 
/**
 * Until when the list reaches (RFC 3339).
 */
until: string, 
/**
 * Nothing is left to call today: tomorrow morning's calls are shown by themselves.
 */
day_over: boolean, };

export type ChecklistAction = "stop_booking" | "reopen_booking";

export type ChecklistItem = { step: number, text: string, action: ChecklistAction | null, done: boolean, 
/**
 * `HH:MM` on the clinic's clock, when ticked.
 */
at_label: string | null, staff: string | null, };

export type ChecklistView = { 
/**
 * The incident it belongs to (none: no outage open; a drill has its own list).
 */
incident_id: number | null, drill: number, items: Array<ChecklistItem>, done: number, };

export type DesksView = { 
/**
 * This desk's name on the other desks.
 */
name: string, port: number, desks: Array<DeskRow>, };

export type DeskRow = { desk: string, name: string, address: string, 
/**
 * Heard from within the last few seconds.
 */
connected: boolean, 
/**
 * When last heard from, `HH:MM` today or `M/D HH:MM` at the clinic.
 */
last_seen_label: string | null, 
/**
 * Records this desk held that it lacked, when last heard from.
 */
behind: number | null, };

export type PairingCode = { 
/**
 * Eight digits, as `1234 5678`.
 */
code: string, 
/**
 * How long it is valid.
 */
minutes: number, 
/**
 * This desk's addresses on the LAN, to type with the code (`192.168.1.23:48621`).
 */
addresses: Array<string>, };

export type PaymentMethod = "cash" | "card" | "qr" | "deferred";

export type ReceiptInput = { 
/**
 * As typed (full-width digits accepted).
 */
amount: string, method: PaymentMethod, 
/**
 * A patient picked from the mirror…
 */
patient_id?: string, 
/**
 * …or a name typed at the desk.
 */
patient_name?: string, memo?: string, staff?: string, 
/**
 * The person confirmed a second receipt identical to one issued a moment ago.
 */
repeat_ok?: boolean, };

export type ReceiptIssued = { number: string, ledger: LedgerView, };

export type ReceiptPatient = { id: string, name: string, kana: string | null, 
/**
 * The appointment's time, `HH:MM`.
 */
time_label: string | null, };

export type ReceiptKind = "payment" | "void";

export type ReceiptView = { number: string, kind: ReceiptKind, 
/**
 * For a void: the receipt it voids.
 */
voids: string | null, 
/**
 * For a payment: the void that cancelled it, if any.
 */
voided_by: string | null, patient_id: string | null, patient_name: string | null, 
/**
 * Yen; negative for a void.
 */
amount: number, 
/**
 * The amount as the desk writes it ([`yen`]).
 */
amount_label: string, method: PaymentMethod, memo: string | null, staff: string | null, reason: string | null, 
/**
 * RFC 3339 with the clinic's offset.
 */
at: string, 
/**
 * `YYYY-MM-DD` at the clinic.
 */
day: string, entered_in_billing: boolean, 
/**
 * Recorded in a drill (訓練): practice, never sent upstream.
 */
drill: boolean, 
/**
 * The desk that issued it, when another desk did (its name): that desk's drawer holds
 * the money, and only that desk voids it.
 */
desk: string | null, };

export type MethodTotal = { method: PaymentMethod, 
/**
 * Payments not voided.
 */
count: number, total: number, total_label: string, };

export type DaySummary = { day: string, methods: Array<MethodTotal>, total: number, total_label: string, voids: number, 
/**
 * Each desk's part (this desk first), for its own drawer, and each staff member's.
 */
desks: Array<DeskTotal>, };

export type DeskTotal = { 
/**
 * The desk's name; `None` for this desk.
 */
desk: string | null, 
/**
 * Cash, voids taken off: what the desk's drawer should hold.
 */
cash: number, cash_label: string, total: number, total_label: string, staff: Array<StaffTotal>, };

export type StaffTotal = { 
/**
 * `None`: no name was given.
 */
staff: string | null, 
/**
 * Payments not voided.
 */
count: number, total: number, total_label: string, };

export type LedgerView = { receipts: Array<ReceiptView>, summary: DaySummary, };

export type ReportKind = "outage" | "drill";

export type DrillEnd = "staff" | "outage" | "day_end";

export type OpKind = "appointment_cancel" | "appointment_reschedule" | "appointment_arrival" | "call_outcome" | "receipt" | "receipt_void" | "booking_pause" | "booking_resume";

export type OpState = "pending" | "sending" | "done" | "conflict" | "rejected";

export type OpAction = "retry" | "keep_mine" | "take_server" | "discard" | "withdraw";

export type Resolution = "kept_mine" | "took_server" | "discarded" | "withdrawn" | "kept_here";

export type OutboxCounts = { pending: number, sending: number, done: number, not_sent: number, conflict: number, rejected: number, 
/**
 * Still on their way: `pending + sending`.
 */
waiting: number, 
/**
 * For a person to decide: `conflict + rejected`.
 */
need_a_person: number, };

export type BookingState = "open" | "pause_waiting" | "pause_refused" | "paused" | "kept_closed" | "resume_waiting";

export type SlotView = { slot_id: string, 
/**
 * As the desk reads it ([`desk_time`]).
 */
start_label: string | null, 
/**
 * What the server holds now (`busy`, `deleted`) or said.
 */
server_said: string | null, };

export type PauseView = { id: string, 
/**
 * Stopped by hand on the booking service's site (no Slots, no server to confirm).
 */
by_hand: boolean, 
/**
 * When a person stopped it, as the desk reads it ([`desk_time`]), and the instant (UTC).
 */
requested_label: string, requested_at: string, by: string | null, 
/**
 * The end of the closed window, as the desk reads it (`24:00`: the end of today).
 */
until_label: string, op_state: OpState, 
/**
 * When the server had closed every Slot, as the desk reads it.
 */
confirmed_label: string | null, paused: number, 
/**
 * Slots the server refused to close.
 */
refused: Array<SlotView>, 
/**
 * Why it still waits, or was refused (code and the server's words).
 */
error: string | null, 
/**
 * A person decided it stays stopped: when (as the desk reads it) and who.
 */
kept_closed_label: string | null, kept_closed_by: string | null, };

export type ResumeView = { requested_label: string, by: string | null, op_state: OpState, confirmed_label: string | null, resumed: number, 
/**
 * Slots changed on the server meanwhile, left as they are.
 */
left: Array<SlotView>, error: string | null, };

export type BookingView = { 
/**
 * Whether this source can stop web booking from the desk (a FHIR server). Otherwise
 * staff stop it on the booking service's own site and say so here (by hand).
 */
can_pause: boolean, 
/**
 * The owner's card for stopping and reopening web booking by hand (none written yet:
 * `None`).
 */
card: BookingCard | null, state: BookingState, 
/**
 * The last pause (still in effect, or the one the last resume ended).
 */
pause: PauseView | null, 
/**
 * The resume of that pause, once asked for.
 */
resume: ResumeView | null, };

export type AppointmentSide = { 
/**
 * A FHIR appointment status code (`cancelled`, `booked`, …), when this side sets one.
 */
status: string | null, 
/**
 * `M/D HH:MM`, when this side sets the time.
 */
start_label: string | null, deleted: boolean, };

export type OpView = { seq: number, key: string, kind: OpKind, state: OpState, attempts: number, 
/**
 * When it was made, `HH:MM` at the clinic.
 */
at_label: string, patient: string | null, 
/**
 * The appointment it is about, `M/D HH:MM`.
 */
appointment_label: string | null, outcome: CallOutcome | null, 
/**
 * A reschedule's new time, `M/D HH:MM`.
 */
new_time_label: string | null, receipt_number: string | null, amount: number | null, 
/**
 * The amount as the desk writes it (`-¥500` for a void).
 */
amount_label: string | null, method: PaymentMethod | null, 
/**
 * The last failure's code, HTTP status and text (the server's own words).
 */
error_code: ErrorCode | (string & {}) | null, http_status: number | null, error: string | null, 
/**
 * A conflict: the desk's change and the server's appointment, side by side.
 */
mine: AppointmentSide | null, theirs: AppointmentSide | null, 
/**
 * Waiting behind this op of the same appointment or receipt (a conflict or rejection).
 */
held_by: number | null, 
/**
 * `kept_mine`, `took_server` or `discarded`, and by whom.
 */
resolution: Resolution | null, resolved_by: string | null, 
/**
 * Settled without reaching the clinic's system (taken back, or entered by hand): the
 * screen must not call it sent.
 */
not_sent: boolean, actions: Array<OpAction>, 
/**
 * Made against another upstream than the source now (its address, `demo` or `csv`):
 * it waits for that one and is sent when it is the source again.
 */
waits_for: string | null, 
/**
 * Another desk's op this desk took over (that desk was gone while the line was up):
 * that desk's name.
 */
taken_from: string | null, };

export type SyncGroup = { 
/**
 * `None`: changes made while the line was up.
 */
incident: number | null, 
/**
 * `M/D HH:MM` at the clinic.
 */
started_label: string | null, ended_label: string | null, 
/**
 * The line is back and nothing of it waits: the incident is closed.
 */
reconciled: boolean, 
/**
 * Its ops not done yet (waiting to be sent, or for a person).
 */
waiting: number, ops: Array<OpView>, };

export type SyncView = { counts: OutboxCounts, source: SourceKind, 
/**
 * Why ops are still waiting (the last failure of the oldest waiting op), if they are:
 * its code (the window words it) and the text (OS or server words, for IT).
 */
waiting_because: ErrorPayload | null, 
/**
 * Newest incident first; ops recorded while no incident was open come last.
 */
groups: Array<SyncGroup>, };

export type ReportSummary = { kind: ReportKind, id: number, 
/**
 * `YYYY-MM-DD HH:MM` on the clinic's clock.
 */
started_label: string, 
/**
 * None: still going.
 */
ended_label: string | null, minutes: number | null, cause: Cause | null, 
/**
 * What failed (an outage), or how a drill ended, in the desk's language.
 */
cause_text: string | null, calls: number, 
/**
 * Receipts handed out (payments); their voids are counted apart.
 */
receipts: number, voids: number, 
/**
 * A drill: why it ended (a real outage ends one at once).
 */
drill_ended_by: DrillEnd | null, };

export type ReportCall = { 
/**
 * `HH:MM` on the clinic's clock.
 */
at_label: string, appointment_id: string, 
/**
 * While the mirror still holds the appointment.
 */
patient_name: string | null, 
/**
 * The appointment's time, `M/D HH:MM`.
 */
appointment_label: string | null, outcome: CallOutcome, new_start_label: string | null, staff: string | null, note: string | null, 
/**
 * The desk that made the call, when another desk did (its name).
 */
desk: string | null, };

export type ReportBooking = { 
/**
 * `true`: stopped; `false`: reopened.
 */
stopped: boolean, 
/**
 * Done by hand on the booking service's site (no Slots, nothing sent from here).
 */
by_hand: boolean, 
/**
 * When a person pressed it, `M/D HH:MM` on the clinic's clock.
 */
at_label: string, staff: string | null, 
/**
 * When the clinic's system had it, `M/D HH:MM` (not yet: `None`).
 */
done_label: string | null, 
/**
 * Slots closed (stopped) or freed again (reopened).
 */
slots: number, };

export type IncidentReport = { summary: ReportSummary, clinic_name: string | null, checklist: Array<ChecklistItem>, checklist_done: number, 
/**
 * Web booking stopped during the outage, and its reopening (also after it ended).
 */
booking: Array<ReportBooking>, calls: Array<ReportCall>, receipts: Array<ReceiptView>, 
/**
 * Money per method over the whole report, voids taken off.
 */
totals: DaySummary, };

export type ReportList = { reports: Array<ReportSummary>, };

export type Printout = { title: string, html: string, };

export type PrintRequest = { "kind": "report", report: ReportKind, id: number, } | { "kind": "receipt", number: string, } | { "kind": "downtime_sheet" };

/** Every error code core and the shell send; each has a text in both languages. */
export const ERROR_CODES = [
  'store.key_missing',
  'store.not_decryptable',
  'store.locked',
  'store.schema_too_new',
  'store.database',
  'store.already_running',
  'config.missing',
  'config.invalid',
  'keychain.unavailable',
  'io',
  'source.not_configured',
  'source.unreachable',
  'source.certificate',
  'source.timeout',
  'source.auth',
  'source.server',
  'source.rejected',
  'source.not_fhir',
  'source.invalid',
  'source.too_large',
  'source.orca_result',
  'source.changes_waiting',
  'source.superseded',
  'import.unusable',
  'import.rows',
  'receipt.amount_empty',
  'receipt.amount_not_a_number',
  'receipt.amount_zero',
  'receipt.amount_negative',
  'receipt.amount_too_large',
  'receipt.not_found',
  'receipt.already_voided',
  'receipt.void_of_void',
  'receipt.reason_missing',
  'receipt.other_desk',
  'receipt.looks_repeated',
  'input.invalid',
  'call.contradicts_cancel',
  'call.contradicts_arrival',
  'call.already_sent',
  'call.taken_over',
  'call.needs_decision',
  'call.already_withdrawn',
  'call.appointment_cancelled',
  'call.not_today',
  'call.reschedule_unreadable',
  'call.reschedule_past',
  'call.reschedule_too_far',
  'booking.no_api',
  'booking.already_paused',
  'booking.not_paused',
  'booking.until_invalid',
  'booking.in_drill',
  'booking.has_api',
  'booking.card_invalid',
  'booking.open_failed',
  'outbox.unreadable',
  'outbox.rejected',
  'outbox.unknown_kind',
  'outbox.conflict',
  'outbox.no_versions',
  'outbox.no_place',
  'peers.code_wrong',
  'peers.code_expired',
  'peers.code_invalid',
  'peers.unreachable',
  'peers.protocol',
  'peers.not_paired',
  'peers.revoked',
  'peers.listen',
  'peers.setup',
  'internal.stopped',
  'print.failed',
  'clipboard.failed',
  'dial.failed',
  'autostart.failed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Errors that mean the database key is lost: only these offer a fresh start. */
export const KEY_LOSS_CODES: readonly ErrorCode[] = [
  'store.key_missing',
  'store.not_decryptable',
];

/** The longest staff name the desk accepts. */
export const STAFF_NAME_MAX = 40;

/** How long the desk offers 元に戻す after an outcome or a check-in, in seconds. */
export const UNDO_SECONDS = 10;
