// The staff name typed once at the desk (in the call list) and carried by every record made
// from this window. Kept in the window's local storage: it is per desk, not per install.
const KEY = 'tsunagi.staff';

/** The name as typed ('' when none). */
export function staffInput(): string {
  return localStorage.getItem(KEY) ?? '';
}

/** The name to send with a record, or null when none is set. */
export function staffName(): string | null {
  return staffInput() || null;
}

export function saveStaffName(name: string): void {
  localStorage.setItem(KEY, name);
}
