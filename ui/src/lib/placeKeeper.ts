// Where the desk was in the window: its tab and how far each tab was scrolled. The window
// is given up a while after it is hidden (issue 18: no web engine while nobody looks), so
// the page keeps this in storage and puts it back when the window is built again.
const KEY = 'tsunagi.place';
/** An older place (yesterday's) is not put back: a new day starts at the top. */
const KEEP_MS = 8 * 60 * 60 * 1000;

export interface Place {
  tab: string;
  scroll: Record<string, number>;
  /** When the window last held this place (ms since the epoch). */
  at: number;
}

/**
 * Whether the window opens on the call list for an outage: the line is down and the
 * desk has not had the window since it went down (a window opened again during the same
 * outage goes back to where the desk left it).
 */
export function opensForOutage(
  offlineSince: string | null | undefined,
  place: Place | null,
): boolean {
  if (offlineSince === undefined) return false;
  if (!place || offlineSince === null) return true;
  const since = Date.parse(offlineSince);
  return Number.isNaN(since) || since > place.at;
}

/** The part of `Storage` used here (the tests give a plain one). */
type Store = Pick<Storage, 'getItem' | 'setItem'>;

export function readPlace(now: number = Date.now(), store: Store = localStorage): Place | null {
  try {
    const saved = JSON.parse(store.getItem(KEY) ?? 'null') as
      | (Place & { at?: number })
      | null;
    if (!saved || typeof saved.tab !== 'string' || typeof saved.at !== 'number') return null;
    if (now - saved.at > KEEP_MS || saved.at > now) return null;
    const scroll: Record<string, number> = {};
    for (const [k, v] of Object.entries(saved.scroll ?? {})) {
      if (typeof v === 'number' && v >= 0) scroll[k] = v;
    }
    return { tab: saved.tab, scroll, at: saved.at };
  } catch {
    return null;
  }
}

export function savePlace(
  place: Omit<Place, 'at'>,
  now: number = Date.now(),
  store: Store = localStorage,
): void {
  try {
    store.setItem(KEY, JSON.stringify({ ...place, at: now }));
  } catch {
    // Storage unavailable: the place lasts while the window lives.
  }
}
