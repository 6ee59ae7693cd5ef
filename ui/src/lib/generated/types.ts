// Generated from Tsunagi's Rust types (src-tauri/src/bindings.rs). Do not edit:
// UPDATE_BINDINGS=1 cargo test -p tsunagi --lib bindings

export type ErrorPayload = { code: string, message: string, };

export type Language = "ja" | "en";

export type SourceKind = "demo";

export type AppointmentStatus = "proposed" | "pending" | "booked" | "arrived" | "fulfilled" | "cancelled" | "noshow" | "entered-in-error" | "checked-in" | "waitlist";

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
 * RFC 3339 with the clinic's offset.
 */
start: string | null, end: string | null, 
/**
 * `HH:MM` on the clinic's wall clock.
 */
start_time: string | null, end_time: string | null, status: AppointmentStatus, reason: string | null, patient: PatientView | null, };

export type PullView = { finished_at: string, ok: boolean, error: ErrorPayload | null, };

export type MirrorStatus = { 
/**
 * The upstream the config names.
 */
configured_source: SourceKind, 
/**
 * The upstream the mirror came from; null before the first complete pull.
 */
mirrored_source: string | null, is_demo: boolean, clinic_name: string | null, time_zone: string, 
/**
 * When the last complete pull finished (RFC 3339, clinic offset).
 */
synced_at: string | null, 
/**
 * `HH:MM` when that was today at the clinic, else `MM/DD HH:MM`.
 */
synced_at_label: string | null, appointments: number, patients: number, last_pull: PullView | null, };

export type TodayView = { 
/**
 * `YYYY-MM-DD` at the clinic.
 */
date: string, 
/**
 * 0 = Sunday … 6 = Saturday.
 */
weekday: number, appointments: Array<AppointmentView>, status: MirrorStatus, };

export type Settings = { language: Language, autostart: boolean, clinic_name: string | null, time_zone: string, source: SourceKind, days_ahead: number, data_dir: string, };

export type SettingsChange = { language?: Language, autostart?: boolean, };

export type DeskEvent = { "kind": "mirror-updated", status: MirrorStatus, } | { "kind": "pull-failed", error: ErrorPayload, status: MirrorStatus, };
