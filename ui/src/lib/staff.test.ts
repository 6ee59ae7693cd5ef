import { describe, expect, it } from 'vitest';
import { STAFF_NAME_MAX, staffNameProblem } from './staff.svelte';
import { isKeyLoss } from './api';

describe('the staff switcher', () => {
  it('takes a name the backend takes, and says why not otherwise', () => {
    expect(staffNameProblem('受付 佐々木')).toBeNull();
    expect(staffNameProblem('  山田  ')).toBeNull();
    expect(staffNameProblem('')).toBe('empty');
    expect(staffNameProblem('   ')).toBe('empty');
    expect(staffNameProblem('あ'.repeat(STAFF_NAME_MAX))).toBeNull();
    expect(staffNameProblem('あ'.repeat(STAFF_NAME_MAX + 1))).toBe('too_long');
    // Characters, not UTF-16 units: forty emoji are forty characters.
    expect(staffNameProblem('😀'.repeat(STAFF_NAME_MAX))).toBeNull();
    expect(staffNameProblem('山田\t花子')).toBe('control');
  });
});

describe('the key loss screen', () => {
  it('offers a fresh start only for a missing or wrong key', () => {
    expect(isKeyLoss('store.key_missing')).toBe(true);
    expect(isKeyLoss('store.not_decryptable')).toBe(true);
    for (const code of ['keychain.unavailable', 'store.locked', 'store.schema_too_new', 'config.missing']) {
      expect(isKeyLoss(code), code).toBe(false);
    }
  });
});
