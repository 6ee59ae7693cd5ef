import { beforeEach, describe, expect, it } from 'vitest';
import { readPlace, savePlace } from './placeKeeper';

const kept = new Map<string, string>();
const store = {
  getItem: (k: string) => kept.get(k) ?? null,
  setItem: (k: string, v: string) => void kept.set(k, v),
};

describe('the place the desk left the window in', () => {
  beforeEach(() => kept.clear());

  it('comes back after the window was rebuilt', () => {
    savePlace({ tab: 'calls', scroll: { calls: 420 } }, 1_000, store);
    expect(readPlace(2_000, store)).toEqual({ tab: 'calls', scroll: { calls: 420 } });
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
    expect(readPlace(2, store)).toEqual({ tab: 'calls', scroll: {} });
  });
});
