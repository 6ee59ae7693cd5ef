import { beforeEach, describe, expect, it } from 'vitest';
import { opensForOutage, readPlace, savePlace } from './placeKeeper';

const kept = new Map<string, string>();
const store = {
  getItem: (k: string) => kept.get(k) ?? null,
  setItem: (k: string, v: string) => void kept.set(k, v),
};

describe('the place the desk left the window in', () => {
  beforeEach(() => kept.clear());

  it('comes back after the window was rebuilt', () => {
    savePlace({ tab: 'calls', scroll: { calls: 420 } }, 1_000, store);
    expect(readPlace(2_000, store)).toEqual({ tab: 'calls', scroll: { calls: 420 }, at: 1_000 });
  });

  it('is not put back the next day, nor from a clock that went back', () => {
    savePlace({ tab: 'receipts', scroll: {} }, 0, store);
    expect(readPlace(9 * 60 * 60 * 1000, store)).toBeNull();
    savePlace({ tab: 'receipts', scroll: {} }, 5_000, store);
    expect(readPlace(1_000, store)).toBeNull();
  });

  it('ignores what it cannot read', () => {
    store.setItem('tsunagi.place', '{"tab": 3');
    expect(readPlace(1, store)).toBeNull();
    store.setItem(
      'tsunagi.place',
      JSON.stringify({ tab: 'calls', at: 1, scroll: { calls: -5, x: 'a' } }),
    );
    expect(readPlace(2, store)).toEqual({ tab: 'calls', scroll: {}, at: 1 });
  });

  it('gives way to the call list for an outage the desk has not seen', () => {
    const left = { tab: 'receipts', scroll: {}, at: Date.parse('2026-12-02T10:00:00Z') };
    // The line went down after the desk last had the window: the call list.
    expect(opensForOutage('2026-12-02T10:05:00Z', left)).toBe(true);
    // Opened again during the same outage: where the desk left it.
    expect(opensForOutage('2026-12-02T09:55:00Z', left)).toBe(false);
    // No place kept, or the line is up (undefined): the call list only when down.
    expect(opensForOutage('2026-12-02T09:55:00Z', null)).toBe(true);
    expect(opensForOutage(undefined, left)).toBe(false);
  });
});
