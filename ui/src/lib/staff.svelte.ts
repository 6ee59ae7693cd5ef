// Who is at the desk: picked in the header's quick switcher (no passwords) and carried by
// every record made from this window. The backend keeps the list and the current name, so
// they survive a restart; this module mirrors them as reactive state.
import { api, asApiError, type ApiError } from './api';
import type { StaffView } from './generated/types';
import { STAFF_NAME_MAX } from './generated/types';

/** The longest name the backend takes (in characters). */
export { STAFF_NAME_MAX };

/** The old per-window key (before the backend kept the name); cleared once at load. */
const OLD_KEY = 'tsunagi.staff';

export const staff = $state<{
  current: string | null;
  names: string[];
  /** The list has been read once (the switcher shows from then on). */
  loaded: boolean;
  error: ApiError | null;
}>({ current: null, names: [], loaded: false, error: null });

/** The name to send with a record, or null when nobody is picked. */
export function staffName(): string | null {
  return staff.current;
}

/** Why a typed name cannot be used ('empty', 'too_long', 'control'), or null when it can. */
export function staffNameProblem(name: string): 'empty' | 'too_long' | 'control' | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'empty';
  if ([...trimmed].length > STAFF_NAME_MAX) return 'too_long';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return 'control';
  return null;
}

function apply(view: StaffView) {
  staff.current = view.current;
  staff.names = view.names;
  staff.loaded = true;
  staff.error = null;
}

/** Read the list (at start-up, once the desk is open). */
export async function loadStaff(): Promise<void> {
  try {
    localStorage.removeItem(OLD_KEY);
  } catch {
    // No storage (a locked-down profile): nothing to clear.
  }
  try {
    apply(await api.staff());
  } catch (e) {
    staff.error = asApiError(e);
  }
}

/** Make this name the one at the desk; false (and `staff.error` set) when refused. */
export async function switchStaff(name: string): Promise<boolean> {
  try {
    apply(await api.switchStaff(name.trim()));
    return true;
  } catch (e) {
    staff.error = asApiError(e);
    return false;
  }
}

export async function forgetStaff(name: string): Promise<void> {
  try {
    apply(await api.forgetStaff(name));
  } catch (e) {
    staff.error = asApiError(e);
  }
}
