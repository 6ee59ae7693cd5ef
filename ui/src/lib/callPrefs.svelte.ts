// How the call list is filtered: kept while the window lives and across restarts, so a
// switch to another tab and back does not lose it.
const KEY = 'tsunagi.calls';

function read(): { notReachedOnly: boolean; tomorrowMorning: boolean } {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Record<string, unknown>;
    return {
      notReachedOnly: saved.notReachedOnly === true,
      tomorrowMorning: saved.tomorrowMorning === true,
    };
  } catch {
    return { notReachedOnly: false, tomorrowMorning: false };
  }
}

export const callPrefs = $state(read());

export function saveCallPrefs(): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(callPrefs));
  } catch {
    // Storage unavailable: the choice lasts while the window lives.
  }
}
